// The XÖV connector through the plugin boundary: what the daemon sees.
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "fachadapter/connector/abi.h"
#include "fachadapter/connector/v1/connector.pb.h"
#include "test_util.h"

namespace fachadapter {
namespace {

namespace cv1 = connector::v1;
namespace fs = std::filesystem;
using testing::ReadFile;
using testing::SharedDataDir;
using testing::SourceDir;
using testing::TempDir;
using testing::WriteFile;

struct Plugin {
  void* handle = nullptr;
  FaConnectorV1 t{};
  Plugin() {
    std::string path = (testing::PluginDir() / "fachadapter_connector_xoev.so").string();
    // RTLD_NODELETE keeps the plugin mapped after dlclose, so LeakSanitizer still sees what its
    // globals (and libxml2's) point to at exit instead of reporting it as leaked.
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    EXPECT_NE(handle, nullptr) << dlerror();
    auto init = reinterpret_cast<FaConnectorInitFn>(dlsym(handle, FACHADAPTER_CONNECTOR_ENTRY));
    EXPECT_NE(init, nullptr);
    EXPECT_EQ(init(FACHADAPTER_CONNECTOR_ABI_VERSION, &t, sizeof t), FA_OK);
    EXPECT_STREQ(t.name, "xoev");
  }
  ~Plugin() {
    if (handle) dlclose(handle);
  }
};

Plugin& P() {
  static Plugin p;
  return p;
}

std::string Take(FaBuffer* b) {
  std::string s(reinterpret_cast<char*>(b->data), b->size);
  if (b->release) b->release(b);
  return s;
}

cv1::Error ErrorOf(const std::string& bytes) {
  cv1::Error e;
  e.ParseFromString(bytes);
  return e;
}

google::protobuf::Value Str(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  return v;
}

google::protobuf::Value List(std::initializer_list<std::string> items) {
  google::protobuf::Value v;
  for (const auto& i : items) *v.mutable_list_value()->add_values() = Str(i);
  return v;
}

// An exchange with inbound/ and outbound/ folders and the two real schema sets.
class XoevPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedDataDir().empty()) GTEST_SKIP() << "real-world test data not found";
    in_ = dir_.path() / "in";
    out_ = dir_.path() / "out";
    fs::create_directories(in_);
    fs::create_directories(out_);
    fs::path data = SharedDataDir() / "xoev";
    for (const char* set : {"xbeteiligung-1.2", "xdomea-3.0.0"}) {
      for (const auto& f : fs::directory_iterator(data / set / "samples")) {
        fs::copy_file(f.path(), in_ / f.path().filename());
      }
    }
    auto& f = *settings_.mutable_fields();
    f["inbound_dir"] = Str("in");
    f["outbound_dir"] = Str("out");
    auto* sets = f["schema_sets"].mutable_list_value();
    auto add_set = [&](const std::string& name, const std::string& entry, const std::string& root,
                       const std::string& catalog) {
      auto* s = sets->add_values()->mutable_struct_value()->mutable_fields();
      (*s)["name"] = Str(name);
      (*s)["entry"] = Str(entry);
      (*s)["roots"] = List({root});
      (*s)["catalogs"] = List({catalog});
    };
    add_set("xbeteiligung-1.2", (data / "xbeteiligung-1.2/xsd/xbeteiligung.xsd").string(),
            (data / "xbeteiligung-1.2/xsd").string(),
            (SourceDir() / "connectors/xoev/catalogs/xbeteiligung-1.2.xml").string());
    {
      // What the connector needs to assemble XBeteiligung messages from header fields.
      auto* xb = sets->mutable_values(0)->mutable_struct_value()->mutable_fields();
      (*xb)["standard"] = Str("XBeteiligung");
      (*xb)["version"] = Str("1.2");
      auto* h = (*xb)["message_header"].mutable_struct_value()->mutable_fields();
      (*h)["product"] = Str("Fachadapter");
      (*h)["product_vendor"] = Str("Fachadapter-Projekt");
      (*h)["message_type_list_uri"] = Str("urn:xoev-de:xleitstelle:codeliste:xbeteiligung-nachrichten");
      (*h)["message_type_list_version"] = Str("1.2");
      (*h)["directory_service_list_version"] = Str("3");
    }
    add_set("xdomea-3.0.0", (data / "xdomea-3.0.0/xsd/xdomea_3.0.0/xdomea.xsd").string(),
            (data / "xdomea-3.0.0/xsd").string(),
            (SourceDir() / "connectors/xoev/catalogs/xdomea-3.0.0.xml").string());
    auto* ns = f["namespaces"].mutable_struct_value()->mutable_fields();
    (*ns)["xbet"] = Str("https://www.xleitstelle.de/xbeteiligung/12");
    (*ns)["xdomea"] = Str("urn:xoev-de:xdomea:schema:3.0.0");
    auto* maps = f["mappings"].mutable_list_value();
    auto* m1 = maps->add_values()->mutable_struct_value()->mutable_fields();
    (*m1)["schema_set"] = Str("xbeteiligung-1.2");
    auto* f1 = (*m1)["fields"].mutable_struct_value()->mutable_fields();
    (*f1)["planname"] = Str("//xbet:beteiligung/xbet:planname");
    auto* vorgang = (*f1)["vorgang_id"].mutable_struct_value()->mutable_fields();
    (*vorgang)["xpath"] = Str("string(/*/xbet:nachrichteninhalt/xbet:vorgangsID)");
    (*vorgang)["type"] = Str("string");
    auto* m2 = maps->add_values()->mutable_struct_value()->mutable_fields();
    (*m2)["message_types"] = List({"0503"});
    auto* f2 = (*m2)["fields"].mutable_struct_value()->mutable_fields();
    auto* beginn = (*f2)["laufzeit_beginn"].mutable_struct_value()->mutable_fields();
    (*beginn)["xpath"] = Str("(//xdomea:Laufzeit/xdomea:Beginn)[1]");
    (*beginn)["type"] = Str("date");
  }
  void TearDown() override {
    if (inst_) P().t.close(inst_);
  }

  int32_t Open(std::string* error = nullptr) {
    cv1::OpenRequest req;
    req.set_source_name("xoev_test");
    *req.mutable_settings() = settings_;
    req.set_config_file((dir_.path() / "fachadapter.yaml").string());
    std::string bytes = req.SerializeAsString();
    FaBuffer err{};
    int32_t rc = P().t.open(nullptr, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &inst_, &err);
    if (rc != FA_OK && error) *error = ErrorOf(Take(&err)).message();
    return rc;
  }

  // Runs a scan and returns the rows as (field name -> value) maps.
  std::vector<std::map<std::string, v1::Value>> Scan(const cv1::ScanRequest& req, cv1::Error* error = nullptr) {
    std::string bytes = req.SerializeAsString();
    FaScanCursor* cur = nullptr;
    FaBuffer err{};
    std::vector<std::map<std::string, v1::Value>> rows;
    int32_t rc = P().t.scan_open(inst_, nullptr, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &cur, &err);
    if (rc != FA_OK) {
      cv1::Error e = ErrorOf(Take(&err));
      if (error) {
        *error = e;
      } else {
        ADD_FAILURE() << e.message();
      }
      return rows;
    }
    std::vector<std::string> names;
    for (;;) {
      FaBuffer batch{};
      int32_t end = 0;
      rc = P().t.scan_next(cur, nullptr, &batch, &end);
      EXPECT_EQ(rc, FA_OK);
      if (rc != FA_OK || end) break;
      cv1::ScanBatch b;
      b.ParseFromString(Take(&batch));
      if (b.fields_size() > 0) names.assign(b.fields().begin(), b.fields().end());
      for (const auto& r : b.batch().records()) {
        std::map<std::string, v1::Value> row;
        for (int i = 0; i < r.values_size(); ++i) row[names[i]] = r.values(i);
        rows.push_back(std::move(row));
      }
    }
    P().t.scan_close(cur);
    return rows;
  }

  std::vector<std::map<std::string, v1::Value>> ScanAll(const std::string& entity) {
    cv1::ScanRequest req;
    req.set_entity(entity);
    return Scan(req);
  }

  int32_t Insert(const std::string& document, cv1::InsertResponse* resp, cv1::Error* error,
                 const std::string& idempotency_key = "", const std::string& uuid = "") {
    std::vector<std::pair<std::string, v1::Value>> values(1);
    values[0].first = "document";
    values[0].second.set_bytes_value(document);
    if (!uuid.empty()) {
      values.emplace_back("message_uuid", v1::Value());
      values.back().second.set_string_value(uuid);
    }
    return InsertFields(values, resp, error, idempotency_key);
  }

  // An Insert on outbound with these fields (string values unless given as v1::Value).
  int32_t InsertFields(const std::vector<std::pair<std::string, v1::Value>>& values, cv1::InsertResponse* resp,
                       cv1::Error* error, const std::string& idempotency_key = "") {
    cv1::InsertRequest req;
    req.set_entity("outbound");
    for (const auto& [field, value] : values) {
      auto* fv = req.add_values();
      fv->set_field(field);
      *fv->mutable_value() = value;
    }
    req.set_idempotency_key(idempotency_key);
    std::string bytes = req.SerializeAsString();
    FaBuffer out{};
    int32_t rc = P().t.call(inst_, nullptr, FA_METHOD_INSERT, reinterpret_cast<const uint8_t*>(bytes.data()),
                            bytes.size(), &out);
    std::string resp_bytes = Take(&out);
    if (rc == FA_OK) {
      resp->ParseFromString(resp_bytes);
    } else {
      *error = ErrorOf(resp_bytes);
    }
    return rc;
  }

  // The body of the real 0401 sample (its nachrichteninhalt element), with the declaration of
  // the prefix it uses, which the sample declares on its root, moved onto it.
  std::string Body0401() {
    std::string doc = Sample0401();
    const std::string start = "<ns5:nachrichteninhalt>", end = "</ns5:nachrichteninhalt>";
    size_t b = doc.find(start), e = doc.find(end);
    EXPECT_NE(b, std::string::npos);
    EXPECT_NE(e, std::string::npos);
    return "<ns5:nachrichteninhalt xmlns:ns5=\"https://www.xleitstelle.de/xbeteiligung/12\">" +
           doc.substr(b + start.size(), e + end.size() - b - start.size());
  }

  // The header fields of the real 0401 sample, and its body as content.
  std::vector<std::pair<std::string, v1::Value>> Fields0401(const std::string& content) {
    auto s = [](const std::string& v) {
      v1::Value x;
      x.set_string_value(v);
      return x;
    };
    return {{"message_type_code", s("0401")},
            {"message_type_name", s("kommunal.Initiieren.0401")},
            {"author_directory_service", s("DVDV")},
            {"author_id", s("xyz:0001")},
            {"author_name", s("behoerde1")},
            {"reader_directory_service", s("DVDV")},
            {"reader_id", s("xyz:0002")},
            {"reader_name", s("behoerde2")},
            {"content", s(content)}};
  }

  size_t OutboundFiles() {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(out_)) n += e.path().filename().string()[0] != '.';
    return n;
  }

  std::string Sample0401() {
    return ReadFile(SharedDataDir() / "xoev/xbeteiligung-1.2/samples/xbeteiligung-test-kommunal.Initiieren.0401.xml");
  }

  TempDir dir_;
  fs::path in_, out_;
  google::protobuf::Struct settings_;
  FaConnectorInstance* inst_ = nullptr;
};

TEST_F(XoevPluginTest, DescribesBothEntities) {
  ASSERT_EQ(Open(), FA_OK);
  cv1::DescribeRequest req;
  std::string bytes = req.SerializeAsString();
  FaBuffer out{};
  ASSERT_EQ(P().t.call(inst_, nullptr, FA_METHOD_DESCRIBE, reinterpret_cast<const uint8_t*>(bytes.data()),
                       bytes.size(), &out), FA_OK);
  cv1::DescribeResponse resp;
  resp.ParseFromString(Take(&out));
  ASSERT_EQ(resp.entities_size(), 2);
  EXPECT_EQ(resp.entities(0).name(), "inbound");
  EXPECT_TRUE(resp.entities(0).writable());  // Delete acknowledges
  EXPECT_EQ(resp.entities(1).name(), "outbound");
  EXPECT_TRUE(resp.entities(1).writable());
  EXPECT_EQ(resp.entities(0).primary_key(0), "file_name");
  bool has_planname = false;
  for (const auto& f : resp.entities(0).fields()) {
    if (f.name() == "laufzeit_beginn") {
      EXPECT_EQ(f.type(), v1::FIELD_TYPE_DATE);
    }
    has_planname = has_planname || f.name() == "planname";
  }
  EXPECT_TRUE(has_planname);
}

TEST_F(XoevPluginTest, InboundServesEverySampleWithHeaderAndStatus) {
  ASSERT_EQ(Open(), FA_OK);
  auto rows = ScanAll("inbound");
  ASSERT_EQ(rows.size(), 5u);
  std::map<std::string, std::map<std::string, v1::Value>> by_name;
  for (auto& r : rows) by_name[r["file_name"].string_value()] = r;
  auto& x401 = by_name["xbeteiligung-test-kommunal.Initiieren.0401.xml"];
  EXPECT_EQ(x401["validation_status"].string_value(), "valid") << x401["validation_errors"].string_value();
  EXPECT_EQ(x401["state"].string_value(), "valid");
  EXPECT_EQ(x401["schema_set"].string_value(), "xbeteiligung-1.2");
  EXPECT_EQ(x401["message_uuid"].string_value(), "60f6667b-fa45-4bd7-b717-f4d6c65e5edb");
  EXPECT_EQ(x401["message_type_code"].string_value(), "0401");
  EXPECT_EQ(x401["message_type_list_uri"].string_value(), "urn:xoev-de:xleitstelle:codeliste:xbeteiligung-nachrichten");
  EXPECT_EQ(x401["message_type_list_version"].string_value(), "1.2");
  EXPECT_EQ(x401["created_at"].timestamp_value().seconds(), 1740069679);
  EXPECT_EQ(x401["author_directory_service"].string_value(), "DVDV");
  EXPECT_EQ(x401["author_id"].string_value(), "xyz:0001");
  EXPECT_EQ(x401["reader_name"].string_value(), "behoerde2");
  EXPECT_EQ(x401["standard"].string_value(), "XBeteiligung");
  EXPECT_EQ(x401["version"].string_value(), "1.2");
  EXPECT_EQ(x401["root_element"].string_value(), "kommunal.Initiieren.0401");
  EXPECT_EQ(x401["planname"].string_value(), "TestAdrian33");
  EXPECT_EQ(x401["vorgang_id"].string_value(), "ID_3d4d41e8-0088-451e-bf88-2aaeb3eb45c9");
  EXPECT_EQ(x401["document"].bytes_value(), Sample0401());
  auto& x503 = by_name["9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.xml"];
  EXPECT_EQ(x503["validation_status"].string_value(), "valid") << x503["validation_errors"].string_value();
  EXPECT_EQ(x503["header_style"].string_value(), "kopf");
  EXPECT_EQ(x503["process_id"].string_value(), "9fde4e7a-b41b-11ec-9225-005056871b7c");
  EXPECT_EQ(x503["laufzeit_beginn"].date_value().year(), 2010);
  EXPECT_TRUE(x503["planname"].has_null_value());
  auto& x4 = by_name["xdomea-4.0.0_no-xsd-here_0503.xml"];
  EXPECT_EQ(x4["validation_status"].string_value(), "unknown_schema");
  EXPECT_EQ(x4["state"].string_value(), "received");
  EXPECT_EQ(x4["message_uuid"].string_value(), "95b80307-d19c-11ef-a43a-005056871b7c");
  EXPECT_EQ(x4["version"].string_value(), "4.0.0");
  EXPECT_TRUE(x4["laufzeit_beginn"].has_null_value()) << "xdomea 4 namespace differs";
}

TEST_F(XoevPluginTest, FilterProjectionOrderLimit) {
  ASSERT_EQ(Open(), FA_OK);
  cv1::ScanRequest req;
  req.set_entity("inbound");
  auto* c = req.mutable_filter()->mutable_field();
  c->set_field("validation_status");
  c->set_op(v1::OPERATOR_EQ);
  c->mutable_value()->set_string_value("valid");
  req.add_fields("file_name");
  req.add_fields("created_at");
  auto* o = req.add_order();
  o->set_field("created_at");
  o->set_descending(true);
  req.set_limit(3);
  auto rows = Scan(req);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].size(), 2u);
  EXPECT_EQ(rows[0]["file_name"].string_value(), "xbeteiligung-test-kommunal.Initiieren.0401.xml");
  EXPECT_EQ(rows[1]["file_name"].string_value(), "example402FromCockpit.xml");

  cv1::ScanRequest by_plan;
  by_plan.set_entity("inbound");
  auto* pc = by_plan.mutable_filter()->mutable_field();
  pc->set_field("planname");
  pc->set_op(v1::OPERATOR_LIKE);
  pc->mutable_value()->set_string_value("TestAdrian%");
  by_plan.add_fields("message_uuid");
  rows = Scan(by_plan);
  ASSERT_EQ(rows.size(), 1u);

  cv1::ScanRequest bad;
  bad.set_entity("inbound");
  bad.add_fields("no_such_field");
  cv1::Error err;
  Scan(bad, &err);
  EXPECT_EQ(err.code(), 3);
  EXPECT_EQ(err.reason(), "UNKNOWN_FIELD");
  cv1::ScanRequest unknown;
  unknown.set_entity("nope");
  Scan(unknown, &err);
  EXPECT_EQ(err.code(), 5);
}

TEST_F(XoevPluginTest, FolderChangesAreSeenAndHostileFilesServedAsMalformed) {
  ASSERT_EQ(Open(), FA_OK);
  EXPECT_EQ(ScanAll("inbound").size(), 5u);
  WriteFile(in_ / "zz_bomb.xml", "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><r>&b;</r>");
  WriteFile(in_ / "zz_latin1.xml", "<r>Gr\xFC\xDF""e</r>");
  WriteFile(in_ / ".hidden.xml", "<r/>");
  fs::create_symlink("/etc/passwd", in_ / "zz_symlink.xml");
  auto rows = ScanAll("inbound");
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[5]["validation_status"].string_value(), "malformed");
  EXPECT_EQ(rows[5]["state"].string_value(), "invalid");
  EXPECT_NE(rows[5]["validation_errors"].string_value().find("XML_DOCTYPE_FORBIDDEN"), std::string::npos);
  EXPECT_NE(rows[6]["validation_errors"].string_value().find("XML_NOT_UTF8"), std::string::npos);
  fs::remove(in_ / "zz_bomb.xml");
  EXPECT_EQ(ScanAll("inbound").size(), 6u);
  WriteFile(in_ / "example402FromCockpit.xml.ack", "");
  for (auto& r : ScanAll("inbound")) {
    if (r["file_name"].string_value() == "example402FromCockpit.xml") {
      EXPECT_EQ(r["state"].string_value(), "processed");
    }
  }
}

TEST_F(XoevPluginTest, InsertValidatesWritesAtomicallyAndIsIdempotent) {
  ASSERT_EQ(Open(), FA_OK);
  cv1::InsertResponse resp;
  cv1::Error err;
  std::string doc = Sample0401();
  ASSERT_EQ(Insert(doc, &resp, &err), FA_OK) << err.message();
  EXPECT_FALSE(resp.replayed());
  std::string name = "60f6667b-fa45-4bd7-b717-f4d6c65e5edb_kommunal.Initiieren.0401.xml";
  EXPECT_EQ(ReadFile(out_ / name), doc) << "the document is written unchanged";
  EXPECT_EQ(OutboundFiles(), 1u);
  // Same message again: replay, nothing new written.
  cv1::InsertResponse again;
  ASSERT_EQ(Insert(doc, &again, &err), FA_OK) << err.message();
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(OutboundFiles(), 1u);
  // Same UUID, other content: refused.
  std::string other = doc;
  other.replace(other.find("TestAdrian33"), 12, "AnderesVerf1");
  EXPECT_EQ(Insert(other, &resp, &err), 9);
  EXPECT_EQ(err.reason(), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_EQ(OutboundFiles(), 1u);
  // The outbound entity shows it; once the Fachverfahren removes it, it is processed.
  auto rows = ScanAll("outbound");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["state"].string_value(), "valid");
  EXPECT_TRUE(rows[0]["processed_at"].has_null_value());
  // Acknowledged by a marker beside it: processed, with the time it was first seen so.
  WriteFile(out_ / (name + ".ack"), "");
  rows = ScanAll("outbound");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["state"].string_value(), "processed");
  EXPECT_TRUE(rows[0]["processed_at"].has_timestamp_value());
  fs::remove(out_ / (name + ".ack"));
  fs::remove(out_ / name);
  rows = ScanAll("outbound");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["state"].string_value(), "processed");
  EXPECT_TRUE(rows[0]["processed_at"].has_timestamp_value());
  EXPECT_EQ(rows[0]["message_uuid"].string_value(), "60f6667b-fa45-4bd7-b717-f4d6c65e5edb");
  // A retry after processing is still a replay and does not deliver twice.
  ASSERT_EQ(Insert(doc, &again, &err), FA_OK) << err.message();
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(OutboundFiles(), 0u);
}

TEST_F(XoevPluginTest, InsertFillsUuidAndCreationTime) {
  ASSERT_EQ(Open(), FA_OK);
  std::string doc = Sample0401();
  doc.replace(doc.find("60f6667b-fa45-4bd7-b717-f4d6c65e5edb"), 36, "");
  doc.replace(doc.find("2025-02-20T16:41:19.880Z"), 24, "");
  cv1::InsertResponse r1, r2;
  cv1::Error err;
  ASSERT_EQ(Insert(doc, &r1, &err, "key-1"), FA_OK) << err.message();
  std::map<std::string, v1::Value> rec;
  for (int i = 0; i < r1.fields_size(); ++i) rec[r1.fields(i)] = r1.record().values(i);
  std::string uuid = rec["message_uuid"].string_value();
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_TRUE(rec["created_at"].has_timestamp_value());
  EXPECT_NE(rec["document"].bytes_value().find(uuid), std::string::npos);
  // A retry with the same idempotency key derives the same UUID: replay.
  ASSERT_EQ(Insert(doc, &r2, &err, "key-1"), FA_OK) << err.message();
  EXPECT_TRUE(r2.replayed());
  EXPECT_EQ(OutboundFiles(), 1u);
  // A client-given UUID that contradicts the document is refused.
  EXPECT_EQ(Insert(Sample0401(), &r1, &err, "", "11111111-2222-4333-8444-555555555555"), 3);
  EXPECT_EQ(err.reason(), "MESSAGE_UUID_MISMATCH");
}

TEST_F(XoevPluginTest, InvalidAndHostileInsertsAreRejectedAndNothingIsWritten) {
  ASSERT_EQ(Open(), FA_OK);
  cv1::InsertResponse resp;
  cv1::Error err;
  std::string doc = Sample0401();
  doc.replace(doc.find("60f6667b-fa45-4bd7-b717-f4d6c65e5edb"), 36, "not-a-uuid");
  doc.replace(doc.find("<ns5:planname>TestAdrian33</ns5:planname>"), 41, "<ns5:x>1</ns5:x>");
  ASSERT_EQ(Insert(doc, &resp, &err), 3);
  EXPECT_EQ(err.reason(), "SCHEMA_VALIDATION_FAILED");
  EXPECT_EQ(err.field(), "document");
  EXPECT_NE(err.message().find("line 14: /ns5:kommunal.Initiieren.0401/ns2:nachrichtenkopf.g2g/"
                               "ns2:identifikation.nachricht/ns2:nachrichtenUUID: "), std::string::npos)
      << err.message();
  EXPECT_NE(err.message().find("ns5:x"), std::string::npos) << err.message();
  std::string laughs = "<!DOCTYPE r [<!ENTITY l0 \"lol\">";
  for (int i = 1; i <= 9; ++i) {
    laughs += "<!ENTITY l" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) laughs += "&l" + std::to_string(i - 1) + ";";
    laughs += "\">";
  }
  laughs += "]><r>&l9;</r>";
  // A message that would be valid but for its DOCTYPE: refused for the DOCTYPE alone.
  std::string with_doctype = Sample0401();
  with_doctype.insert(with_doctype.find("<ns5:kommunal.Initiieren.0401"), "<!DOCTYPE ns5:kommunal.Initiieren.0401>\n");
  const std::pair<std::string, std::string> hostile[] = {
      {"<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>", "XML_DOCTYPE_FORBIDDEN"},
      {"<!DOCTYPE r [<!ENTITY x SYSTEM \"http://127.0.0.1:9/x\">]><r>&x;</r>", "XML_DOCTYPE_FORBIDDEN"},
      {"<!DOCTYPE r SYSTEM \"http://127.0.0.1:9/x.dtd\"><r/>", "XML_DOCTYPE_FORBIDDEN"},
      {laughs, "XML_DOCTYPE_FORBIDDEN"},
      {with_doctype, "XML_DOCTYPE_FORBIDDEN"},
      {std::string(300, ' ') + std::string(300 * 3, 'x'), "XML_MALFORMED"},
      {"<r>\xFF</r>", "XML_NOT_UTF8"},
      {"<r a=\"" + std::string((1u << 20) + 1, 'a') + "\"/>", "XML_ATTRIBUTE_TOO_LARGE"},
      {"<x:r xmlns:x=\"urn:unknown\"><x:Kopf/></x:r>", "UNKNOWN_SCHEMA"},
      {"<r/>", "NO_MESSAGE_HEADER"},
  };
  for (const auto& [bad, reason] : hostile) {
    EXPECT_EQ(Insert(bad, &resp, &err), 3) << reason;
    EXPECT_EQ(err.reason(), reason);
  }
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "<e>";
  EXPECT_EQ(Insert(deep, &resp, &err), 3);
  EXPECT_EQ(err.reason(), "XML_TOO_DEEP");
  EXPECT_EQ(OutboundFiles(), 0u);
  EXPECT_TRUE(ScanAll("outbound").empty());
  cv1::InsertRequest ro;
  ro.set_entity("inbound");
  std::string bytes = ro.SerializeAsString();
  FaBuffer out{};
  EXPECT_EQ(P().t.call(inst_, nullptr, FA_METHOD_INSERT, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out), 12);
  Take(&out);
}

TEST_F(XoevPluginTest, SchemaInvalidInboundMessageIsServedAsInvalidWithEveryError) {
  std::string doc = Sample0401();
  doc.replace(doc.find("60f6667b-fa45-4bd7-b717-f4d6c65e5edb"), 36, "not-a-uuid");
  doc.replace(doc.find("<ns5:planname>TestAdrian33</ns5:planname>"), 41, "<ns5:x>1</ns5:x>");
  WriteFile(in_ / "zz_invalid.xml", doc);
  ASSERT_EQ(Open(), FA_OK);
  auto rows = ScanAll("inbound");
  ASSERT_EQ(rows.size(), 6u);
  std::map<std::string, v1::Value> bad;
  for (auto& r : rows) {
    if (r["file_name"].string_value() == "zz_invalid.xml") bad = r;
  }
  ASSERT_FALSE(bad.empty());
  EXPECT_EQ(bad["validation_status"].string_value(), "invalid");
  EXPECT_EQ(bad["state"].string_value(), "invalid");
  EXPECT_EQ(bad["schema_set"].string_value(), "xbeteiligung-1.2");
  // Served with what can be read: the header is there even though the message is invalid.
  EXPECT_EQ(bad["message_uuid"].string_value(), "not-a-uuid");
  EXPECT_EQ(bad["message_type_code"].string_value(), "0401");
  const std::string errors = bad["validation_errors"].string_value();
  EXPECT_NE(errors.find("line 14: /ns5:kommunal.Initiieren.0401/ns2:nachrichtenkopf.g2g/"
                        "ns2:identifikation.nachricht/ns2:nachrichtenUUID: "), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("ns5:x"), std::string::npos) << errors;
}

// A message of a known standard in a version no set is configured for: served with its header
// and the status unknown_schema, not validated against the wrong version's schema, not dropped.
TEST_F(XoevPluginTest, UnknownVersionOfAKnownStandardIsServedAsUnknownSchema) {
  auto* xb = (*settings_.mutable_fields())["schema_sets"].mutable_list_value()->mutable_values(0)
                 ->mutable_struct_value()->mutable_fields();
  (*xb)["standard"] = Str("XBeteiligung");
  (*xb)["version"] = Str("1.2");
  std::string doc = Sample0401();
  doc.replace(doc.find("version=\"1.2\""), 13, "version=\"1.3\"");
  doc.replace(doc.find("60f6667b-fa45-4bd7-b717-f4d6c65e5edb"), 36, "60f6667b-fa45-4bd7-b717-f4d6c65e5ed3");
  WriteFile(in_ / "zz_version_1.3.xml", doc);
  ASSERT_EQ(Open(), FA_OK);
  std::map<std::string, std::map<std::string, v1::Value>> by_name;
  for (auto& r : ScanAll("inbound")) by_name[r["file_name"].string_value()] = r;
  ASSERT_EQ(by_name.size(), 6u);
  auto& v13 = by_name["zz_version_1.3.xml"];
  EXPECT_EQ(v13["validation_status"].string_value(), "unknown_schema");
  EXPECT_EQ(v13["state"].string_value(), "received");
  EXPECT_TRUE(v13["schema_set"].has_null_value());
  EXPECT_EQ(v13["version"].string_value(), "1.3");
  EXPECT_EQ(v13["message_uuid"].string_value(), "60f6667b-fa45-4bd7-b717-f4d6c65e5ed3");
  EXPECT_EQ(v13["message_type_code"].string_value(), "0401");
  auto& v12 = by_name["xbeteiligung-test-kommunal.Initiieren.0401.xml"];
  EXPECT_EQ(v12["validation_status"].string_value(), "valid") << v12["validation_errors"].string_value();
  // Sending it is refused before anything is written.
  cv1::InsertResponse resp;
  cv1::Error err;
  EXPECT_EQ(Insert(doc, &resp, &err), 3);
  EXPECT_EQ(err.reason(), "UNKNOWN_SCHEMA");
  EXPECT_EQ(OutboundFiles(), 0u);
}

// A crash after the receipt and the copy were written but before the message reached the
// outbound folder (step 1 of the write protocol done, step 2 not): the record shows the message
// as received, and the client's retry delivers it, once. The crash is reproduced by putting the
// files back into the state the protocol leaves after step 1.
TEST_F(XoevPluginTest, InterruptedWriteIsFinishedByTheRetry) {
  ASSERT_EQ(Open(), FA_OK);
  cv1::InsertResponse resp;
  cv1::Error err;
  const std::string doc = Sample0401();
  ASSERT_EQ(Insert(doc, &resp, &err, "key-crash"), FA_OK) << err.message();
  const std::string name = "60f6667b-fa45-4bd7-b717-f4d6c65e5edb_kommunal.Initiieren.0401.xml";
  const fs::path receipt = out_ / ".fachadapter-receipts" / (name + ".receipt");
  std::string meta = ReadFile(receipt);
  ASSERT_NE(meta.find("delivered=1\n"), std::string::npos) << meta;
  meta.replace(meta.find("delivered=1\n"), 12, "delivered=0\n");
  WriteFile(receipt, meta);
  fs::remove(out_ / name);
  auto rows = ScanAll("outbound");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["state"].string_value(), "received");
  EXPECT_TRUE(rows[0]["processed_at"].has_null_value());

  cv1::InsertResponse retry;
  ASSERT_EQ(Insert(doc, &retry, &err, "key-crash"), FA_OK) << err.message();
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(ReadFile(out_ / name), doc);
  EXPECT_EQ(OutboundFiles(), 1u);
  EXPECT_NE(ReadFile(receipt).find("delivered=1\n"), std::string::npos);
  rows = ScanAll("outbound");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["state"].string_value(), "valid");

  // A crash after step 2 (the message is in the folder) but before the receipt said so: the
  // retry finds the same bytes there, counts them as delivered and writes nothing new.
  meta = ReadFile(receipt);
  meta.replace(meta.find("delivered=1\n"), 12, "delivered=0\n");
  WriteFile(receipt, meta);
  ASSERT_EQ(Insert(doc, &retry, &err, "key-crash"), FA_OK) << err.message();
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(OutboundFiles(), 1u);
  EXPECT_EQ(ReadFile(out_ / name), doc);
  EXPECT_NE(ReadFile(receipt).find("delivered=1\n"), std::string::npos);
}

TEST_F(XoevPluginTest, BrokenSettingsNameTheSetting) {
  (*settings_.mutable_fields())["inbound_dirx"] = Str("x");
  std::string error;
  EXPECT_EQ(Open(&error), 3);
  EXPECT_NE(error.find("settings.inbound_dirx: unknown key"), std::string::npos) << error;
  settings_.mutable_fields()->erase("inbound_dirx");
  auto* m = (*settings_.mutable_fields())["mappings"].mutable_list_value()->mutable_values(0)
                ->mutable_struct_value()->mutable_fields();
  (*(*m)["fields"].mutable_struct_value()->mutable_fields())["planname"] = Str("//nope:x");
  EXPECT_EQ(Open(&error), 3);
  EXPECT_NE(error.find("planname"), std::string::npos) << error;
  (*(*m)["fields"].mutable_struct_value()->mutable_fields())["planname"] = Str("//xbet:planname");
  auto* header = (*settings_.mutable_fields())["schema_sets"].mutable_list_value()->mutable_values(0)
                     ->mutable_struct_value()->mutable_fields();
  (*(*header)["message_header"].mutable_struct_value()->mutable_fields())["produkt"] = Str("x");
  EXPECT_EQ(Open(&error), 3);
  EXPECT_NE(error.find("settings.schema_sets[0].message_header.produkt: unknown key"), std::string::npos) << error;
  (*header)["message_header"] = Str("x");
  EXPECT_EQ(Open(&error), 3);
  EXPECT_NE(error.find("settings.schema_sets[0].message_header: must be a map"), std::string::npos) << error;
}

TEST_F(XoevPluginTest, CodeListsAreCheckedAndAcknowledgeMarksProcessed) {
  (*settings_.mutable_fields())["code_lists"] =
      List({(SourceDir() / "tests/unit/xoev/data").string(),
            (SourceDir() / "tests/unit/xoev/data/schema-fixed/xdomea-nachrichtentyp_2.0.xml").string()});
  std::string bad = Sample0401();
  bad.replace(bad.find("60f6667b-fa45-4bd7-b717-f4d6c65e5edb"), 36, "60f6667b-fa45-4bd7-b717-f4d6c65e5edc");
  bad.replace(bad.find("<code>02</code>"), 15, "<code>99</code>");
  WriteFile(in_ / "zz_unknown_code.xml", bad);
  // The header may leave out the type's name (xoev-code:Code has it optional): the code list
  // of the version the header names supplies it.
  std::string unnamed = Sample0401();
  unnamed.replace(unnamed.find("60f6667b-fa45-4bd7-b717-f4d6c65e5edb"), 36, "60f6667b-fa45-4bd7-b717-f4d6c65e5ed0");
  unnamed.erase(unnamed.find("<name>kommunal.Initiieren.0401</name>"), 37);
  WriteFile(in_ / "zz_unnamed_type.xml", unnamed);
  ASSERT_EQ(Open(), FA_OK);
  std::map<std::string, std::map<std::string, v1::Value>> by_name;
  for (auto& r : ScanAll("inbound")) by_name[r["file_name"].string_value()] = r;
  auto& ok = by_name["xbeteiligung-test-kommunal.Initiieren.0401.xml"];
  EXPECT_EQ(ok["code_list_status"].string_value(), "ok") << ok["code_list_errors"].string_value();
  auto& named = by_name["zz_unnamed_type.xml"];
  EXPECT_EQ(named["validation_status"].string_value(), "valid") << named["validation_errors"].string_value();
  EXPECT_EQ(named["message_type_name"].string_value(), "kommunal.Initiieren.0401");
  auto& unknown = by_name["zz_unknown_code.xml"];
  EXPECT_EQ(unknown["validation_status"].string_value(), "valid");
  EXPECT_EQ(unknown["code_list_status"].string_value(), "unknown_codes");
  EXPECT_NE(unknown["code_list_errors"].string_value().find("line 29: "), std::string::npos)
      << unknown["code_list_errors"].string_value();
  // The test excerpt of the erreichbarkeit list has only '01' and '02'; the xdomea sample uses
  // '002' with the same list version, which the check reports (without affecting validity).
  auto& x501 = by_name["xx_Aussonderung.Anbieteverzeichnis.0501.xml"];
  EXPECT_EQ(x501["code_list_status"].string_value(), "unknown_codes");
  EXPECT_NE(x501["code_list_errors"].string_value().find(
                "line 65: /xdomea:Aussonderung.Anbieteverzeichnis.0501/xdomea:Kopf/xdomea:Absender/"
                "xdomea:Kommunikation/xdomea:Kanal/code: code '002' is not in code list "
                "urn:de:xoev:codeliste:erreichbarkeit version 3"),
            std::string::npos)
      << x501["code_list_errors"].string_value();
  // Its Nachrichtentyp has no listURI/listVersionID: the schema fixes them (nachrichtentyp 2.0),
  // and the test list of that version lacks 0501.
  EXPECT_NE(x501["code_list_errors"].string_value().find(
                "line 11: /xdomea:Aussonderung.Anbieteverzeichnis.0501/xdomea:Kopf/xdomea:Nachrichtentyp/code: "
                "code '0501' is not in code list urn:xoev-de:xdomea:codeliste:nachrichtentyp version 2.0"),
            std::string::npos)
      << x501["code_list_errors"].string_value();
  EXPECT_EQ(x501["validation_status"].string_value(), "valid");

  // Delete on inbound acknowledges: state processed, file kept for the legacy side.
  cv1::DeleteRequest del;
  del.set_entity("inbound");
  auto* k = del.add_key();
  k->set_field("file_name");
  k->mutable_value()->set_string_value("zz_unknown_code.xml");
  del.set_etag("stale");
  std::string bytes = del.SerializeAsString();
  FaBuffer out{};
  EXPECT_EQ(P().t.call(inst_, nullptr, FA_METHOD_DELETE, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out), 10);
  EXPECT_EQ(ErrorOf(Take(&out)).reason(), "ETAG_MISMATCH");
  del.clear_etag();
  bytes = del.SerializeAsString();
  EXPECT_EQ(P().t.call(inst_, nullptr, FA_METHOD_DELETE, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out), FA_OK);
  Take(&out);
  EXPECT_TRUE(fs::exists(in_ / "zz_unknown_code.xml"));
  for (auto& r : ScanAll("inbound")) {
    if (r["file_name"].string_value() == "zz_unknown_code.xml") {
      EXPECT_EQ(r["state"].string_value(), "processed");
    }
  }
  k->mutable_value()->set_string_value("nope.xml");
  bytes = del.SerializeAsString();
  EXPECT_EQ(P().t.call(inst_, nullptr, FA_METHOD_DELETE, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out), 5);
  Take(&out);
}

TEST_F(XoevPluginTest, ConcurrentScansAndInserts) {
  // 200 more messages, so that concurrent cold scans parse and validate in parallel.
  std::string s401 = Sample0401();
  for (int i = 0; i < 200; ++i) WriteFile(in_ / ("copy" + std::to_string(i) + ".xml"), s401);
  ASSERT_EQ(Open(), FA_OK);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 3; ++k) {
        cv1::ScanRequest req;
        req.set_entity("inbound");
        auto* c = req.mutable_filter()->mutable_field();
        c->set_field("planname");
        c->set_op(v1::OPERATOR_EQ);
        c->mutable_value()->set_string_value("TestAdrian33");
        req.add_fields("validation_status");
        auto rows = Scan(req);
        if (rows.size() != 201) ++bad;
        for (auto& r : rows) bad += r["validation_status"].string_value() != "valid";
      }
    });
  }
  // The same message submitted from several threads at once: written once, the rest replay.
  std::atomic<int> written{0}, replayed{0}, failed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      cv1::InsertResponse resp;
      cv1::Error err;
      if (Insert(s401, &resp, &err) != FA_OK) {
        ++failed;
      } else if (resp.replayed()) {
        ++replayed;
      } else {
        ++written;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(written.load(), 1);
  EXPECT_EQ(replayed.load(), 3);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(OutboundFiles(), 1u);
}

std::map<std::string, v1::Value> RecordOf(const cv1::InsertResponse& r) {
  std::map<std::string, v1::Value> rec;
  for (int i = 0; i < r.fields_size(); ++i) rec[r.fields(i)] = r.record().values(i);
  return rec;
}

TEST_F(XoevPluginTest, AssembledMessageIsValidatedWrittenAndReadsBackItsHeader) {
  ASSERT_EQ(Open(), FA_OK);
  cv1::InsertResponse resp;
  cv1::Error err;
  auto fields = Fields0401(Body0401());
  ASSERT_EQ(InsertFields(fields, &resp, &err, "assemble-1"), FA_OK) << err.message();
  EXPECT_FALSE(resp.replayed());
  auto rec = RecordOf(resp);
  std::string uuid = rec["message_uuid"].string_value();
  ASSERT_EQ(uuid.size(), 36u);
  std::string name = uuid + "_kommunal.Initiieren.0401.xml";
  EXPECT_EQ(rec["file_name"].string_value(), name);
  EXPECT_EQ(OutboundFiles(), 1u);
  std::string written = ReadFile(out_ / name);
  EXPECT_NE(written.find("<ns5:vorgangsID>ID_3d4d41e8-0088-451e-bf88-2aaeb3eb45c9</ns5:vorgangsID>"), std::string::npos)
      << written;
  EXPECT_EQ(rec["document"].bytes_value(), written);

  // Read back through both entities: the written file, analysed afresh, is valid and its
  // header is what was sent.
  fs::copy_file(out_ / name, in_ / name);
  for (const char* entity : {"outbound", "inbound"}) {
    std::map<std::string, v1::Value> row;
    for (auto& r : ScanAll(entity)) {
      if (r["file_name"].string_value() == name) row = r;
    }
    ASSERT_FALSE(row.empty()) << entity;
    EXPECT_EQ(row["validation_status"].string_value(), "valid") << entity << ": " << row["validation_errors"].string_value();
    EXPECT_EQ(row["schema_set"].string_value(), "xbeteiligung-1.2");
    EXPECT_EQ(row["header_style"].string_value(), "g2g");
    EXPECT_EQ(row["message_uuid"].string_value(), uuid);
    EXPECT_TRUE(row["created_at"].has_timestamp_value());
    EXPECT_EQ(row["root_element"].string_value(), "kommunal.Initiieren.0401");
    EXPECT_EQ(row["root_namespace"].string_value(), "https://www.xleitstelle.de/xbeteiligung/12");
    EXPECT_EQ(row["standard"].string_value(), "XBeteiligung");
    EXPECT_EQ(row["version"].string_value(), "1.2");
    EXPECT_EQ(row["product"].string_value(), "Fachadapter");
    EXPECT_EQ(row["product_vendor"].string_value(), "Fachadapter-Projekt");
    EXPECT_EQ(row["message_type_list_uri"].string_value(), "urn:xoev-de:xleitstelle:codeliste:xbeteiligung-nachrichten");
    EXPECT_EQ(row["message_type_list_version"].string_value(), "1.2");
    for (const auto& [field, value] : fields) {
      if (field == "content") continue;
      EXPECT_EQ(row[field].string_value(), value.string_value()) << entity << " " << field;
    }
    EXPECT_EQ(row["planname"].string_value(), "TestAdrian33") << "mapped from the body";
    EXPECT_TRUE(row["content"].has_null_value()) << "content is write-only";
  }

  // The same request again: replayed, nothing new.
  cv1::InsertResponse again;
  ASSERT_EQ(InsertFields(fields, &again, &err, "assemble-1"), FA_OK) << err.message();
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(RecordOf(again)["file_name"].string_value(), name);
  EXPECT_EQ(OutboundFiles(), 1u);
  // Another body under the same idempotency key (so the same UUID): refused.
  std::string other = Body0401();
  other.replace(other.find("TestAdrian33"), 12, "AnderesVerf1");
  EXPECT_EQ(InsertFields(Fields0401(other), &again, &err, "assemble-1"), 9);
  EXPECT_EQ(err.reason(), "IDEMPOTENCY_KEY_REUSED");
  // ... and so is another header with the same explicit UUID.
  auto with_uuid = fields;
  with_uuid.emplace_back("message_uuid", rec["message_uuid"]);
  with_uuid[6].second.set_string_value("xyz:0003");  // another reader (reader_id)
  EXPECT_EQ(InsertFields(with_uuid, &again, &err), 9);
  EXPECT_EQ(err.reason(), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_EQ(OutboundFiles(), 1u);
  EXPECT_EQ(ReadFile(out_ / name), written);

  // The root element may be named explicitly, and content may be bytes with an XML declaration.
  auto named = Fields0401("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + Body0401());
  std::string as_bytes = named.back().second.string_value();
  named.back().second.set_bytes_value(as_bytes);
  v1::Value root;
  root.set_string_value("kommunal.Initiieren.0401");
  named.emplace_back("root_element", root);
  ASSERT_EQ(InsertFields(named, &again, &err, "assemble-2"), FA_OK) << err.message();
  EXPECT_FALSE(again.replayed());
  EXPECT_EQ(OutboundFiles(), 2u);
}

TEST_F(XoevPluginTest, AssembledMessageWithInvalidContentListsEveryErrorAndWritesNothing) {
  ASSERT_EQ(Open(), FA_OK);
  std::string body = Body0401();
  // Two errors in the body: an element the schema does not know, and a bad attribute.
  body.replace(body.find("<ns5:planname>TestAdrian33</ns5:planname>"), 41, "<ns5:x>1</ns5:x>");
  body.replace(body.find("<ns5:vorgangsID>"), 16, "<ns5:vorgangsID falsch=\"1\">");
  int x_line = 1 + static_cast<int>(std::count(body.begin(), body.begin() + body.find("<ns5:x>"), '\n'));
  int id_line = 1 + static_cast<int>(std::count(body.begin(), body.begin() + body.find("<ns5:vorgangsID"), '\n'));
  cv1::InsertResponse resp;
  cv1::Error err;
  ASSERT_EQ(InsertFields(Fields0401(body), &resp, &err, "invalid-1"), 3);
  EXPECT_EQ(err.reason(), "SCHEMA_VALIDATION_FAILED");
  EXPECT_EQ(err.field(), "content");
  EXPECT_NE(err.message().find("(2 errors; lines count within 'content')"), std::string::npos) << err.message();
  // Lines are the body's own; paths are those of the assembled message.
  EXPECT_NE(err.message().find("line " + std::to_string(id_line) +
                               ": /msg:kommunal.Initiieren.0401/ns5:nachrichteninhalt/ns5:vorgangsID: "),
            std::string::npos) << err.message();
  EXPECT_NE(err.message().find("line " + std::to_string(x_line) + ": "), std::string::npos) << err.message();
  EXPECT_NE(err.message().find("ns5:x"), std::string::npos) << err.message();
  EXPECT_NE(err.message().find("falsch"), std::string::npos) << err.message();
  EXPECT_EQ(OutboundFiles(), 0u);
  EXPECT_TRUE(ScanAll("outbound").empty()) << "no receipt either";
}

TEST_F(XoevPluginTest, AssembledMessageWithHostileContentIsRefusedAndWritesNothing) {
  ASSERT_EQ(Open(), FA_OK);
  TempDir secret_dir;
  WriteFile(secret_dir / "secret.txt", "TOP-SECRET");
  std::string xxe = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file://" + (secret_dir / "secret.txt").string() + "\">]>";
  std::string body = Body0401();
  std::string with_ref = body;
  with_ref.replace(with_ref.find("TestAdrian33"), 12, "&x;");
  const std::string hostile[] = {
      xxe + with_ref,                                            // XXE by file
      "<!DOCTYPE r [<!ENTITY x \"lol\">]>" + with_ref,           // an internal entity
      with_ref,                                                  // an undeclared entity
      "<!-- x -->\n<!DOCTYPE r>" + body,                          // a DOCTYPE after a comment
      "<!DOCTYPE r SYSTEM \"http://127.0.0.1:9/x.dtd\">" + body,  // an external DTD
      body + "</msg:kommunal.Initiieren.0401><x/>",              // closing the root element
      body + "<!--",                                             // swallowing the end tag
      "<r>\xFF</r>",                                             // not UTF-8
  };
  cv1::InsertResponse resp;
  cv1::Error err;
  for (const auto& content : hostile) {
    auto fields = Fields0401("");
    fields.back().second.set_bytes_value(content);  // bytes: a string field cannot carry invalid UTF-8
    ASSERT_EQ(InsertFields(fields, &resp, &err, "hostile"), 3) << content.substr(0, 80);
    EXPECT_EQ(err.field(), "content") << err.message();
    EXPECT_TRUE(err.reason() == "XML_DOCTYPE_FORBIDDEN" || err.reason() == "XML_MALFORMED" ||
                err.reason() == "XML_NOT_UTF8")
        << err.reason();
    if (content.rfind("<!DOCTYPE", 0) == 0) {
      EXPECT_EQ(err.reason(), "XML_DOCTYPE_FORBIDDEN") << err.message();
    }
    EXPECT_EQ(err.message().find("TOP-SECRET"), std::string::npos) << err.message();
  }
  std::string deep = "<ns5:nachrichteninhalt xmlns:ns5=\"https://www.xleitstelle.de/xbeteiligung/12\">";
  for (int i = 0; i < 300; ++i) deep += "<e>";
  ASSERT_EQ(InsertFields(Fields0401(deep), &resp, &err, "hostile"), 3);
  EXPECT_EQ(err.reason(), "XML_TOO_DEEP");
  EXPECT_EQ(OutboundFiles(), 0u);
  EXPECT_TRUE(ScanAll("outbound").empty());
}

TEST_F(XoevPluginTest, AssemblyRefusesMissingAndConflictingFields) {
  ASSERT_EQ(Open(), FA_OK);
  cv1::InsertResponse resp;
  cv1::Error err;
  for (const char* required : {"message_type_code", "author_directory_service", "author_id", "author_name",
                               "reader_directory_service", "reader_id", "reader_name", "content"}) {
    auto fields = Fields0401(Body0401());
    std::erase_if(fields, [&](const auto& f) { return f.first == required; });
    ASSERT_EQ(InsertFields(fields, &resp, &err), 3) << required;
    EXPECT_EQ(err.reason(), "MISSING_FIELD") << required << ": " << err.message();
    EXPECT_EQ(err.field(), required) << err.message();
    EXPECT_NE(err.message().find(required), std::string::npos) << err.message();
  }
  // A complete document and header fields: one or the other.
  auto fields = Fields0401(Body0401());
  v1::Value doc;
  doc.set_bytes_value(Sample0401());
  fields.insert(fields.begin(), {"document", doc});
  ASSERT_EQ(InsertFields(fields, &resp, &err), 3);
  EXPECT_EQ(err.reason(), "CONFLICTING_FIELDS");
  EXPECT_EQ(err.field(), "message_type_code");
  EXPECT_NE(err.message().find("'document'"), std::string::npos) << err.message();
  // Neither: the document is missing.
  ASSERT_EQ(InsertFields({}, &resp, &err), 3);
  EXPECT_EQ(err.reason(), "MISSING_FIELD");
  EXPECT_EQ(err.field(), "document");
  // xdomea 3 has its own header: send a complete document.
  fields = Fields0401(Body0401());
  v1::Value set;
  set.set_string_value("xdomea-3.0.0");
  fields.emplace_back("schema_set", set);
  ASSERT_EQ(InsertFields(fields, &resp, &err), 9);
  EXPECT_EQ(err.reason(), "HEADER_NOT_ASSEMBLABLE");
  EXPECT_NE(err.message().find("complete XÖV document"), std::string::npos) << err.message();
  EXPECT_EQ(OutboundFiles(), 0u);
}

}  // namespace
}  // namespace fachadapter
