// The flat-file connector through its class (reads, writes, index, errors) and through the
// real plugin C ABI (dlopen, serialized protobuf, host counters).
#include <dlfcn.h>
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "connector.h"
#include "fachadapter/values.h"
#include "test_util.h"

namespace fachadapter::flatfile {
namespace {

using fachadapter::testing::ReadFile;
using fachadapter::testing::SharedDataDir;
using fachadapter::testing::TempDir;
using fachadapter::testing::WriteFile;

cv1::OpenRequest OpenReq(const std::string& json, const std::string& config_file = "") {
  cv1::OpenRequest r;
  auto st = google::protobuf::util::JsonStringToMessage(json, r.mutable_settings());
  EXPECT_TRUE(st.ok()) << json;
  r.set_source_name("files");
  r.set_config_file(config_file);
  return r;
}

v1::Filter Eq(const std::string& field, v1::Value v) {
  v1::Filter f;
  f.mutable_field()->set_field(field);
  f.mutable_field()->set_op(v1::OPERATOR_EQ);
  *f.mutable_field()->mutable_value() = std::move(v);
  return f;
}
v1::Value S(const std::string& s) {
  v1::Value v;
  v.set_string_value(s);
  return v;
}
v1::Value I(int64_t i) {
  v1::Value v;
  v.set_int_value(i);
  return v;
}
v1::Value D(const std::string& d) {
  v1::Value v;
  v.mutable_decimal_value()->set_value(d);
  return v;
}

struct ScanResult {
  Status status;
  std::vector<std::string> fields;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> etags;
};

// Every scan runs twice: into messages (Next) and in wire format (NextEncoded, which the
// plugin's glue calls). The wire bytes of each batch must equal the serialized message, and
// both must fail the same way.
ScanResult RunScan(sdk::Connector& c, const cv1::ScanRequest& req) {
  ScanResult out;
  sdk::CallContext ctx;
  auto cur = c.Scan(req, ctx);
  if (!cur.ok()) {
    out.status = cur.status();
    return out;
  }
  std::vector<std::string> serialized;
  while (true) {
    cv1::ScanBatch b;
    bool end = false;
    Status s = (*cur)->Next(&b, &end, ctx);
    if (!s.ok()) {
      out.status = s;
      break;
    }
    if (end) break;
    serialized.push_back(b.SerializeAsString());
    if (b.fields_size()) out.fields.assign(b.fields().begin(), b.fields().end());
    for (const auto& r : b.batch().records()) {
      std::vector<std::string> row;
      for (const auto& v : r.values()) row.push_back(ValueToString(v));
      out.rows.push_back(row);
      out.etags.push_back(r.etag());
    }
  }
  auto wire_cur = c.Scan(req, ctx);
  EXPECT_TRUE(wire_cur.ok()) << wire_cur.status().message();
  if (!wire_cur.ok()) return out;
  for (size_t i = 0;; ++i) {
    std::string wire;
    bool end = false;
    Status s = (*wire_cur)->NextEncoded(&wire, &end, ctx);
    if (!s.ok() || end) {
      EXPECT_EQ(i, serialized.size()) << "the wire scan ended after " << i << " batches";
      EXPECT_EQ(s.code(), out.status.code());
      EXPECT_EQ(s.reason(), out.status.reason());
      EXPECT_EQ(s.message(), out.status.message());
      break;
    }
    EXPECT_LT(i, serialized.size()) << "the wire scan has more batches";
    if (i >= serialized.size()) break;
    EXPECT_EQ(wire, serialized[i]) << "batch " << i << " differs in wire format";
  }
  return out;
}

cv1::ScanRequest ScanOf(const std::string& entity) {
  cv1::ScanRequest r;
  r.set_entity(entity);
  return r;
}

void AddValue(google::protobuf::RepeatedPtrField<cv1::FieldValue>* out, const std::string& f, v1::Value v) {
  auto* fv = out->Add();
  fv->set_field(f);
  *fv->mutable_value() = std::move(v);
}

// ---- CSV ----

const char kCsv[] =
    "KDNR;NAME;ORT;BETRAG\r\n"
    "1;M\xFCller;K\xF6ln;1.234,50\r\n"
    "2;\"Schmidt; Sohn\";Bonn;-7,00\r\n"
    "3;Wei\xDF;\"Aachen\r\nZentrum\";0,05\r\n";

std::string CsvSettings(const std::string& path, const std::string& extra = "") {
  return R"({"files": {"kunden": {"path": ")" + path +
         R"(", "format": "csv", "delimiter": ";", "encoding": "ISO-8859-1", "key": ["KDNR"],
         "types": {"KDNR": "int64", "BETRAG": {"type": "decimal", "scale": 2, "decimal_separator": ","}})" +
         extra + "}}}";
}

TEST(FlatFileCsv, DescribeAndScanTypedValues) {
  TempDir dir;
  WriteFile(dir / "kunden.csv", kCsv);
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(CsvSettings((dir / "kunden.csv").string()))).ok());
  cv1::DescribeResponse d;
  sdk::CallContext ctx;
  ASSERT_TRUE(c.Describe(cv1::DescribeRequest(), &d, ctx).ok());
  ASSERT_EQ(d.entities_size(), 1);
  const auto& e = d.entities(0);
  EXPECT_EQ(e.name(), "kunden");
  EXPECT_EQ(e.kind(), cv1::RAW_ENTITY_KIND_FILE);
  ASSERT_EQ(e.fields_size(), 4);
  EXPECT_EQ(e.fields(0).type(), v1::FIELD_TYPE_INT64);
  EXPECT_EQ(e.fields(1).type(), v1::FIELD_TYPE_STRING);
  EXPECT_EQ(e.fields(3).type(), v1::FIELD_TYPE_DECIMAL);
  EXPECT_EQ(e.fields(3).scale(), 2);
  EXPECT_EQ(e.primary_key(0), "KDNR");
  EXPECT_TRUE(e.writable());

  auto r = RunScan(c, ScanOf("kunden"));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.fields, (std::vector<std::string>{"KDNR", "NAME", "ORT", "BETRAG"}));
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0], (std::vector<std::string>{"1", "Müller", "Köln", "1234.50"}));
  EXPECT_EQ(r.rows[1], (std::vector<std::string>{"2", "Schmidt; Sohn", "Bonn", "-7.00"}));
  EXPECT_EQ(r.rows[2], (std::vector<std::string>{"3", "Weiß", "Aachen\r\nZentrum", "0.05"}));

  // Filter, projection, order, limit.
  cv1::ScanRequest q = ScanOf("kunden");
  v1::Filter f;
  f.mutable_field()->set_field("BETRAG");
  f.mutable_field()->set_op(v1::OPERATOR_LT);
  *f.mutable_field()->mutable_value() = D("100");
  *q.mutable_filter() = f;
  q.add_fields("NAME");
  auto* o = q.add_order();
  o->set_field("KDNR");
  o->set_descending(true);
  q.set_limit(1);
  r = RunScan(c, q);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.fields, (std::vector<std::string>{"NAME"}));
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"Weiß"}}));

  // Unknown field and entity.
  q = ScanOf("kunden");
  *q.mutable_filter() = Eq("NOPE", I(1));
  EXPECT_EQ(RunScan(c, q).status.reason(), "UNKNOWN_FIELD");
  EXPECT_EQ(RunScan(c, ScanOf("nope")).status.reason(), "UNKNOWN_ENTITY");
}

TEST(FlatFileCsv, NumberFormats) {
  TempDir dir;
  std::string path = (dir / "n.csv").string();
  WriteFile(path, "I;D\n007;007,5\n-12;-0,00\n0;1.234,5\n;,5\n-0;-3\n");
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(R"({"files": {"n": {"path": ")" + path + R"(", "delimiter": ";",
      "types": {"I": "int64", "D": {"type": "decimal", "scale": 2, "decimal_separator": ","}}}}})")).ok());
  auto r = RunScan(c, ScanOf("n"));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{
                        {"7", "7.50"}, {"-12", "0.00"}, {"0", "1234.50"}, {"NULL", "0.50"}, {"0", "-3.00"}}));
  WriteFile(path, "I;D\n1;1,234\n");  // more decimals than the scale
  r = RunScan(c, ScanOf("n"));
  EXPECT_EQ(r.status.reason(), "INVALID_NUMBER");
  EXPECT_EQ(r.status.field(), "D");
}

TEST(FlatFileCsv, GetByKeyUsesTheIndexAndSeesChanges) {
  TempDir dir;
  std::string path = (dir / "kunden.csv").string();
  WriteFile(path, kCsv);
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(CsvSettings(path))).ok());
  int64_t builds = c.index_builds();
  EXPECT_EQ(builds, 1);  // built on open
  cv1::ScanRequest q = ScanOf("kunden");
  *q.mutable_filter() = Eq("KDNR", I(3));
  q.set_with_etag(true);
  for (int i = 0; i < 3; ++i) {
    auto r = RunScan(c, q);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0][1], "Weiß");
    EXPECT_EQ(r.etags[0].size(), 16u);
  }
  EXPECT_EQ(c.index_builds(), builds);  // no rebuild, no scan
  // The legacy program appends a record: the index notices (size/mtime) and rebuilds.
  WriteFile(path, std::string(kCsv) + "4;Neu;Trier;1,00\r\n");
  *q.mutable_filter() = Eq("KDNR", I(4));
  auto r = RunScan(c, q);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][2], "Trier");
  EXPECT_EQ(c.index_builds(), builds + 1);
  *q.mutable_filter() = Eq("KDNR", I(99));
  EXPECT_TRUE(RunScan(c, q).rows.empty());
}

TEST(FlatFileCsv, WireBatchesEqualMessagesForEveryShapeOfValue) {
  // What the scan's wire encoder writes itself (text, plain integers and decimals) next to
  // what it hands to the general decoder (NULL, grouped or 19-digit numbers, quoted fields),
  // records longer than 127 bytes (two-byte lengths), small batches, a projection, etags and
  // a skipped bad record; RunScan compares each batch byte for byte with the message.
  TempDir dir;
  std::string path = (dir / "w.csv").string();
  std::string long_text(300, 'x');
  WriteFile(path, "N;T;D;U\n"
                  "1;K\xF6ln;1,5;a\n"
                  "-9223372036854775808;\"Schmidt; Sohn\";-0,00;" + long_text + "\n"
                  "1234567890123456789;;1.234,56;\n"
                  ";M\xFC;;b\n"
                  "7;x;nope;c\n"
                  "-42;Stra\xDF" "e;-12,3;" + std::string(120, 'y') + "\n");
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(R"({"files": {"w": {"path": ")" + path + R"(", "delimiter": ";",
      "encoding": "ISO-8859-1", "read_policy": "skip",
      "types": {"N": "int64", "D": {"type": "decimal", "scale": 2, "decimal_separator": ","}}}}})")).ok());
  for (int batch : {0, 1, 2}) {
    cv1::ScanRequest q = ScanOf("w");
    q.set_batch_size(batch);
    q.set_with_etag(batch == 1);
    auto r = RunScan(c, q);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    ASSERT_EQ(r.rows.size(), 5u);  // "nope" is skipped
    EXPECT_EQ(r.rows[0], (std::vector<std::string>{"1", "Köln", "1.50", "a"}));
    EXPECT_EQ(r.rows[1][0], "-9223372036854775808");
    EXPECT_EQ(r.rows[1][2], "0.00");
    EXPECT_EQ(r.rows[2][0], "1234567890123456789");
    EXPECT_EQ(r.rows[2][2], "1234.56");
    EXPECT_EQ(r.rows[3][0], "NULL");
    EXPECT_EQ(r.rows[4][1], "Straße");
  }
  cv1::ScanRequest q = ScanOf("w");
  q.add_fields("U");
  q.add_fields("N");
  q.set_limit(2);
  auto r = RunScan(c, q);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[1][0], long_text);
}

TEST(FlatFileCsv, WritesKeepEncodingQuotingAndLineEndings) {
  TempDir dir;
  std::string path = (dir / "kunden.csv").string();
  WriteFile(path, kCsv);
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(CsvSettings(path))).ok());
  sdk::CallContext ctx;
  cv1::InsertRequest ins;
  ins.set_entity("kunden");
  AddValue(ins.mutable_values(), "KDNR", I(4));
  AddValue(ins.mutable_values(), "NAME", S("Jäger; Partner"));
  AddValue(ins.mutable_values(), "ORT", S("Düren"));
  AddValue(ins.mutable_values(), "BETRAG", D("12.5"));
  cv1::InsertResponse ir;
  Status s = c.Insert(ins, &ir, ctx);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(path), std::string(kCsv) + "4;\"J\xE4ger; Partner\";D\xFCren;12,50\r\n");
  EXPECT_EQ(ir.record().values(3).decimal_value().value(), "12.50");
  EXPECT_FALSE(ir.record().etag().empty());
  // Same key again: ALREADY_EXISTS, file unchanged.
  cv1::InsertResponse ir2;
  EXPECT_EQ(c.Insert(ins, &ir2, ctx).code(), StatusCode::kAlreadyExists);
  // A character ISO-8859-1 cannot hold.
  cv1::InsertRequest bad = ins;
  bad.mutable_values(0)->mutable_value()->set_int_value(5);
  bad.mutable_values(1)->mutable_value()->set_string_value("Preis €");
  s = c.Insert(bad, &ir2, ctx);
  EXPECT_EQ(s.reason(), "UNMAPPABLE_CHARACTER");
  EXPECT_EQ(s.field(), "NAME");
  // Update with the etag from the read; then a stale etag.
  cv1::UpdateRequest up;
  up.set_entity("kunden");
  AddValue(up.mutable_key(), "KDNR", I(2));
  AddValue(up.mutable_values(), "ORT", S("Köln-Porz"));
  up.set_etag("0000000000000000");
  cv1::UpdateResponse ur;
  EXPECT_EQ(c.Update(up, &ur, ctx).reason(), "ETAG_MISMATCH");
  cv1::ScanRequest q = ScanOf("kunden");
  *q.mutable_filter() = Eq("KDNR", I(2));
  q.set_with_etag(true);
  auto r = RunScan(c, q);
  ASSERT_EQ(r.etags.size(), 1u);
  up.set_etag(r.etags[0]);
  s = c.Update(up, &ur, ctx);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_NE(ur.record().etag(), r.etags[0]);
  std::string expected = std::string(kCsv) + "4;\"J\xE4ger; Partner\";D\xFCren;12,50\r\n";
  expected.replace(expected.find("Bonn"), 4, "K\xF6ln-Porz");
  EXPECT_EQ(ReadFile(path), expected);
  // Delete; missing key.
  cv1::DeleteRequest del;
  del.set_entity("kunden");
  AddValue(del.mutable_key(), "KDNR", I(3));
  cv1::DeleteResponse dr;
  ASSERT_TRUE(c.Delete(del, &dr, ctx).ok());
  expected.erase(expected.find("3;Wei"), std::string("3;Wei\xDF;\"Aachen\r\nZentrum\";0,05\r\n").size());
  EXPECT_EQ(ReadFile(path), expected);
  EXPECT_EQ(c.Delete(del, &dr, ctx).code(), StatusCode::kNotFound);
  // No temporary files left behind.
  for (const auto& de : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(de.path().filename().string().find(".fa-tmp-"), std::string::npos) << de.path();
  }
}

TEST(FlatFileCsv, IdempotentInsert) {
  TempDir dir;
  std::string path = (dir / "kunden.csv").string();
  WriteFile(path, kCsv);
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(CsvSettings(path))).ok());
  sdk::CallContext ctx;
  cv1::InsertRequest ins;
  ins.set_entity("kunden");
  AddValue(ins.mutable_values(), "KDNR", I(7));
  AddValue(ins.mutable_values(), "NAME", S("Sieben"));
  ins.set_idempotency_key("key-1");
  ins.set_request_hash("hash-a");
  cv1::InsertResponse a, b, x;
  ASSERT_TRUE(c.Insert(ins, &a, ctx).ok());
  std::string after = ReadFile(path);
  ASSERT_TRUE(c.Insert(ins, &b, ctx).ok());
  EXPECT_TRUE(b.replayed());
  EXPECT_FALSE(a.replayed());
  EXPECT_EQ(b.record().etag(), a.record().etag());
  EXPECT_EQ(ReadFile(path), after);
  ins.set_request_hash("hash-b");
  EXPECT_EQ(c.Insert(ins, &x, ctx).reason(), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_EQ(ReadFile(path), after);
  // A second connector instance (daemon restart) sees the journal.
  FlatFileConnector c2;
  ASSERT_TRUE(c2.Open(OpenReq(CsvSettings(path))).ok());
  ins.set_request_hash("hash-a");
  cv1::InsertResponse y;
  ASSERT_TRUE(c2.Insert(ins, &y, ctx).ok());
  EXPECT_TRUE(y.replayed());
  EXPECT_EQ(ReadFile(path), after);
}

TEST(FlatFileCsv, BadRowsFailOrSkip) {
  TempDir dir;
  std::string path = (dir / "k.csv").string();
  WriteFile(path, "A,B\n1,2\n3,4,5\n6,x\n7\n8,9\n");
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(R"({"files": {"k": {"path": ")" + path +
                             R"(", "types": {"B": "int64"}}}})")).ok());
  auto r = RunScan(c, ScanOf("k"));
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.reason(), "WRONG_FIELD_COUNT");
  EXPECT_NE(r.status.message().find(path + ": record 3 at byte 8"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("too many fields"), std::string::npos) << r.status.message();

  FlatFileConnector skip;
  ASSERT_TRUE(skip.Open(OpenReq(R"({"files": {"k": {"path": ")" + path +
                                R"(", "read_policy": "skip", "types": {"B": "int64"}}}})")).ok());
  r = RunScan(skip, ScanOf("k"));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"1", "2"}, {"8", "9"}}));

  // A field that does not convert names the field, the record and the offset.
  WriteFile(path, "A,B\n1,2\n6,x\n");
  r = RunScan(c, ScanOf("k"));
  EXPECT_EQ(r.status.reason(), "INVALID_NUMBER");
  EXPECT_EQ(r.status.field(), "B");
  EXPECT_NE(r.status.message().find("record 3 at byte 8"), std::string::npos) << r.status.message();
  // Undecodable bytes in a UTF-8 file.
  WriteFile(path, "A,B\n\xFF,2\n");
  r = RunScan(c, ScanOf("k"));
  EXPECT_EQ(r.status.reason(), "UNDECODABLE_BYTES");
  EXPECT_EQ(r.status.field(), "A");
}

TEST(FlatFileCsv, TabDelimiterNoHeaderLfAndDropFolder) {
  TempDir dir;
  std::filesystem::create_directory(dir / "drop");
  WriteFile(dir / "drop" / "a.tsv", "1\tx\n2\ty\n");
  WriteFile(dir / "drop" / "a.tsv.done", "");
  WriteFile(dir / "drop" / "b.tsv", "3\tz\n");  // no done file yet: half-written
  WriteFile(dir / "drop" / "c.txt", "9\tq\n");  // other pattern
  WriteFile(dir / "drop" / "d.tsv", "4\tw\n");
  WriteFile(dir / "drop" / "d.tsv.done", "");
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(R"({"files": {"drop": {"folder": ")" + (dir / "drop").string() +
                             R"(", "pattern": "*.tsv", "done_suffix": ".done", "delimiter": "tab",
                                 "header": false, "columns": ["N", "T"]}}})")).ok());
  auto r = RunScan(c, ScanOf("drop"));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"1", "x"}, {"2", "y"}, {"4", "w"}}));
  WriteFile(dir / "drop" / "b.tsv.done", "");  // the batch finished b
  r = RunScan(c, ScanOf("drop"));
  EXPECT_EQ(r.rows.size(), 4u);
  cv1::InsertRequest ins;
  ins.set_entity("drop");
  cv1::InsertResponse ir;
  sdk::CallContext ctx;
  EXPECT_EQ(c.Insert(ins, &ir, ctx).reason(), "READ_ONLY");
}

// ---- Fixed-width text ----

TEST(FlatFileFixed, ConfigLayoutLinesAndUpdate) {
  TempDir dir;
  std::string path = (dir / "pers.txt").string();
  WriteFile(path, "0001Meier     19700101  123,45\r\n0002Schulze   19851231   -0,50\r\n");
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(R"({"files": {"pers": {"path": ")" + path + R"(", "format": "fixed",
      "encoding": "windows-1252", "key": ["NR"], "fields": [
        {"name": "NR", "start": 1, "length": 4, "type": "int64", "pad": "zero"},
        {"name": "NAME", "start": 5, "length": 10},
        {"name": "GEBDAT", "offset": 14, "length": 8},
        {"name": "SALDO", "offset": 22, "length": 8, "type": "decimal", "scale": 2, "decimal_separator": ","}]}}})"))
                  .ok());
  auto r = RunScan(c, ScanOf("pers"));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"1", "Meier", "19700101", "123.45"},
                                                            {"2", "Schulze", "19851231", "-0.50"}}));
  sdk::CallContext ctx;
  cv1::UpdateRequest up;
  up.set_entity("pers");
  AddValue(up.mutable_key(), "NR", I(2));
  AddValue(up.mutable_values(), "NAME", S("Schäfer"));
  AddValue(up.mutable_values(), "SALDO", D("1000"));
  cv1::UpdateResponse ur;
  Status s = c.Update(up, &ur, ctx);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(path), "0001Meier     19700101  123,45\r\n0002Sch\xE4" "fer   19851231 1000,00\r\n");
  cv1::InsertRequest ins;
  ins.set_entity("pers");
  AddValue(ins.mutable_values(), "NR", I(3));
  AddValue(ins.mutable_values(), "NAME", S("Zu langer Name"));
  cv1::InsertResponse ir;
  s = c.Insert(ins, &ir, ctx);
  EXPECT_EQ(s.reason(), "VALUE_TOO_LONG");
  EXPECT_EQ(s.field(), "NAME");
  ins.mutable_values(1)->mutable_value()->set_string_value("Neu");
  ASSERT_TRUE(c.Insert(ins, &ir, ctx).ok());
  EXPECT_EQ(ReadFile(path).substr(64), "0003Neu                       \r\n");
  // A record longer than the layout.
  WriteFile(path, "0001Meier     19700101  123,45XX\n");
  r = RunScan(c, ScanOf("pers"));
  EXPECT_EQ(r.status.reason(), "WRONG_RECORD_LENGTH");
}

// ---- COBOL ----

const char kCopybook[] =
    "      * Kundenstamm, EBCDIC CP273\n"
    "       01  KUNDE.\n"
    "           05  KD-NR          PIC 9(6) COMP-3.\n"
    "           05  KD-NAME        PIC X(10).\n"
    "           05  KD-SALDO       PIC S9(7)V99 COMP-3.\n"
    "           05  KD-ANZAHL      PIC S9(4) COMP.\n"
    "           05  KD-BETRAG      PIC S9(5)V99.\n"
    "           05  FILLER         PIC X(2).\n";

TEST(FlatFileCobol, EbcdicRoundTripThroughTheConnector) {
  TempDir dir;
  std::string path = (dir / "kunden.dat").string();
  WriteFile(dir / "kunden.cpy", kCopybook);
  WriteFile(path, "");
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(R"({"files": {"kunden": {"path": "kunden.dat", "format": "cobol",
      "copybook": "kunden.cpy", "encoding": "cp273", "key": ["KD-NR"]}}})",
                             (dir / "fachadapter.yaml").string()))
                  .ok());
  cv1::DescribeResponse d;
  sdk::CallContext ctx;
  ASSERT_TRUE(c.Describe(cv1::DescribeRequest(), &d, ctx).ok());
  const auto& e = d.entities(0);
  ASSERT_EQ(e.fields_size(), 5);
  EXPECT_EQ(e.fields(0).name(), "KD_NR");
  EXPECT_EQ(e.fields(0).type(), v1::FIELD_TYPE_INT64);
  EXPECT_EQ(e.fields(2).type(), v1::FIELD_TYPE_DECIMAL);
  EXPECT_EQ(e.fields(2).native_type(), "PIC S9(7)V99 COMP-3");
  EXPECT_EQ(e.fields(2).precision(), 9);
  EXPECT_EQ(e.fields(2).scale(), 2);
  cv1::InsertRequest ins;
  ins.set_entity("kunden");
  AddValue(ins.mutable_values(), "KD_NR", I(4711));
  AddValue(ins.mutable_values(), "KD_NAME", S("Müßig"));
  AddValue(ins.mutable_values(), "KD_SALDO", D("-12345.67"));
  AddValue(ins.mutable_values(), "KD_ANZAHL", I(-2));
  AddValue(ins.mutable_values(), "KD_BETRAG", S("-1.23"));
  cv1::InsertResponse ir;
  Status s = c.Insert(ins, &ir, ctx);
  ASSERT_TRUE(s.ok()) << s.message();
  // 9(6) COMP-3 = 4 bytes, X(10), S9(7)V99 COMP-3 = 5 bytes, S9(4) COMP = 2 bytes, S9(5)V99 zoned
  // = 7 bytes, FILLER 2: 30 bytes.
  std::string expected = std::string("\x00\x04\x71\x1F", 4) + "\xD4\xD0\xA1\x89\x87\x40\x40\x40\x40\x40" +
                         std::string("\x00\x12\x34\x56\x7D", 5) + "\xFF\xFE" +
                         "\xF0\xF0\xF0\xF0\xF1\xF2\xD3" + "\x40\x40";
  ASSERT_EQ(expected.size(), 30u);
  EXPECT_EQ(ReadFile(path), expected);
  cv1::ScanRequest q = ScanOf("kunden");
  *q.mutable_filter() = Eq("KD_NR", I(4711));
  auto r = RunScan(c, q);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"4711", "Müßig", "-12345.67", "-2", "-1.23"}}));
  // An invalid packed nibble: error with file, record number, byte offset and field.
  std::string broken = expected + expected;
  broken[expected.size() + 16] = '\x1F';  // KD_SALDO of record 2: 0x1F is not a digit pair
  WriteFile(path, broken);
  r = RunScan(c, ScanOf("kunden"));
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.reason(), "INVALID_PACKED_DECIMAL");
  EXPECT_EQ(r.status.field(), "KD_SALDO");
  EXPECT_NE(r.status.message().find(path + ": record 2 at byte 30"), std::string::npos) << r.status.message();
  // Truncated file.
  WriteFile(path, expected + expected.substr(0, 10));
  r = RunScan(c, ScanOf("kunden"));
  EXPECT_EQ(r.status.reason(), "BAD_RECORD_FRAMING");
  EXPECT_NE(r.status.message().find("record 2 at byte 30: truncated record"), std::string::npos)
      << r.status.message();
}

TEST(FlatFileCobol, Cp1141EuroAndSeparateSignInAConfigLayout) {
  TempDir dir;
  std::string path = (dir / "p.dat").string();
  WriteFile(path, "");
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(R"J({"files": {"p": {"path": ")J" + path + R"J(", "format": "fixed",
      "record_format": "fixed", "encoding": "cp1141", "key": ["NR"], "fields": [
        {"name": "NR", "offset": 0, "pic": "9(3)", "usage": "comp-3"},
        {"name": "TEXT", "offset": 2, "length": 8},
        {"name": "BETRAG", "offset": 10, "pic": "S9(3)V99", "sign": "leading_separate"}]}}})J")).ok());
  sdk::CallContext ctx;
  cv1::InsertRequest ins;
  ins.set_entity("p");
  AddValue(ins.mutable_values(), "NR", I(42));
  AddValue(ins.mutable_values(), "TEXT", S("5 € ÄÖß"));
  AddValue(ins.mutable_values(), "BETRAG", D("-7.5"));
  cv1::InsertResponse ir;
  Status s = c.Insert(ins, &ir, ctx);
  ASSERT_TRUE(s.ok()) << s.message();
  // 042F | F5 40 9F 40 4A E0 A1 40 | 60 F0 F0 F7 F5 F0
  EXPECT_EQ(ReadFile(path), std::string("\x04\x2F", 2) + "\xF5\x40\x9F\x40\x4A\xE0\xA1\x40" +
                                "\x60\xF0\xF0\xF7\xF5\xF0");
  auto r = RunScan(c, ScanOf("p"));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"42", "5 € ÄÖß", "-7.50"}}));
}

TEST(FlatFileCobol, CopybookSyntaxErrorAtOpen) {
  TempDir dir;
  WriteFile(dir / "bad.cpy", "       01  REC.\n           05  A PIC X(3)\n           05  B PIC 9.\n");
  FlatFileConnector c;
  Status s = c.Open(OpenReq(R"({"files": {"x": {"path": "x.dat", "format": "cobol", "copybook": "bad.cpy"}}})",
                            (dir / "c.yaml").string()));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad.cpy: copybook line 3:"), std::string::npos) << s.message();
}

TEST(FlatFileCobol, RdwRecordsAppendOnly) {
  TempDir dir;
  WriteFile(dir / "k.cpy", "       01  REC.\n           05  ID PIC 9(4).\n           05  TXT PIC X(6).\n");
  std::string path = (dir / "v.dat").string();
  // IBM RDW: length (incl. 4 header bytes) big-endian, then two zero bytes. Second record short.
  WriteFile(path, std::string("\x00\x0E\x00\x00", 4) + "\xF0\xF0\xF0\xF1\xC1\xC2\xC3\x40\x40\x40" +
                      std::string("\x00\x0A\x00\x00", 4) + "\xF0\xF0\xF0\xF2\xC4\xC5");
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(R"({"files": {"v": {"path": ")" + path + R"(", "format": "cobol",
      "copybook": ")" + (dir / "k.cpy").string() + R"(", "record_format": "rdw", "mode": "append"}}})"))
                  .ok());
  auto r = RunScan(c, ScanOf("v"));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"1", "ABC"}, {"2", "DE"}}));
  sdk::CallContext ctx;
  cv1::InsertRequest ins;
  ins.set_entity("v");
  AddValue(ins.mutable_values(), "ID", I(3));
  AddValue(ins.mutable_values(), "TXT", S("XY"));
  cv1::InsertResponse ir;
  ASSERT_TRUE(c.Insert(ins, &ir, ctx).ok());
  EXPECT_EQ(ReadFile(path).substr(24), std::string("\x00\x0E\x00\x00", 4) + "\xF0\xF0\xF0\xF3\xE7\xE8\x40\x40\x40\x40");
  cv1::DeleteRequest del;
  del.set_entity("v");
  cv1::DeleteResponse dr;
  EXPECT_EQ(c.Delete(del, &dr, ctx).reason(), "APPEND_ONLY");
}

// A writer killed in the middle of an append leaves the first part of its record, cut at a
// page boundary (the kernel copies a write page by page). The record was never acknowledged:
// the next open cuts the piece out, also when the legacy program appended after it, and a retry
// with the same idempotency key appends the record once.
TEST(FlatFileWrite, TornAppendIsCutOutOnOpen) {
  for (bool legacy_appended_after : {false, true}) {
    SCOPED_TRACE(legacy_appended_after ? "legacy appended after the torn piece" : "torn piece at the end");
    TempDir dir;
    std::string path = (dir / "t.txt").string();
    // 396 records of 31 bytes end at byte 12276; the next one crosses the page boundary at 12288.
    std::string old;
    for (int i = 1; i <= 396; ++i) {
      char rec[40];
      std::snprintf(rec, sizeof rec, "%08d%-22s\n", i, "old");
      old += rec;
    }
    WriteFile(path, old);
    std::string json = R"({"files": {"t": {"path": ")" + path + R"(", "format": "fixed", "key": ["ID"],
        "mode": "append", "fields": [{"name": "ID", "offset": 0, "length": 8, "type": "int64", "pad": "zero"},
                                     {"name": "TXT", "offset": 8, "length": 22}]}}})";
    cv1::InsertRequest ins;
    ins.set_entity("t");
    AddValue(ins.mutable_values(), "ID", I(1000));
    AddValue(ins.mutable_values(), "TXT", S("new"));
    ins.set_idempotency_key("key-1000");
    ins.set_request_hash("hash-1000");
    sdk::CallContext ctx;
    {
      FlatFileConnector c;
      ASSERT_TRUE(c.Open(OpenReq(json)).ok());
      cv1::InsertResponse ir;
      Status s = c.Insert(ins, &ir, ctx);
      ASSERT_TRUE(s.ok()) << s.message();
    }
    // What the kill leaves: the journal entry of the append, 12 of its 31 bytes in the file.
    std::string file = ReadFile(path);
    ASSERT_EQ(file.size(), 12307u);
    file.resize(12288);
    std::string legacy = "90000001legacy append         \n";
    if (legacy_appended_after) file += legacy;
    WriteFile(path, file);
    FlatFileConnector c;
    ASSERT_TRUE(c.Open(OpenReq(json)).ok());
    EXPECT_EQ(ReadFile(path), old + (legacy_appended_after ? legacy : ""));
    auto r = RunScan(c, ScanOf("t"));
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    EXPECT_EQ(r.rows.size(), legacy_appended_after ? 397u : 396u);
    cv1::InsertResponse ir;
    Status s = c.Insert(ins, &ir, ctx);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_FALSE(ir.replayed());
    cv1::InsertResponse again;
    ASSERT_TRUE(c.Insert(ins, &again, ctx).ok());
    EXPECT_TRUE(again.replayed());
    EXPECT_EQ(ReadFile(path), old + (legacy_appended_after ? legacy : "") + "00001000new                   \n");
  }
}

// A record that the legacy program changed after our append completed is not mistaken for a
// torn one, although its first bytes up to a page boundary are ours.
TEST(FlatFileWrite, ChangedAppendedRecordIsNotCut) {
  TempDir dir;
  std::string path = (dir / "t.txt").string();
  std::string old;
  for (int i = 1; i <= 396; ++i) {
    char rec[40];
    std::snprintf(rec, sizeof rec, "%08d%-22s\n", i, "old");
    old += rec;
  }
  WriteFile(path, old);
  std::string json = R"({"files": {"t": {"path": ")" + path + R"(", "format": "fixed",
      "mode": "append", "fields": [{"name": "ID", "offset": 0, "length": 8, "type": "int64", "pad": "zero"},
                                   {"name": "TXT", "offset": 8, "length": 22}]}}})";
  sdk::CallContext ctx;
  {
    FlatFileConnector c;
    ASSERT_TRUE(c.Open(OpenReq(json)).ok());
    cv1::InsertRequest ins;
    ins.set_entity("t");
    AddValue(ins.mutable_values(), "ID", I(1000));
    AddValue(ins.mutable_values(), "TXT", S("new"));
    cv1::InsertResponse ir;
    ASSERT_TRUE(c.Insert(ins, &ir, ctx).ok());
  }
  std::string file = ReadFile(path);
  file.replace(12276 + 12, 10, "changed   ");
  WriteFile(path, file);
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(json)).ok());
  EXPECT_EQ(ReadFile(path), file);
}

TEST(FlatFileCobol, SharedDataThroughTheConnector) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto legacy = SharedDataDir() / "legacy";
  FlatFileConnector c;
  std::string json = R"({"files": {
     "test1": {"path": ")" + (legacy / "cobrix-test1" / "example.bin").string() + R"(", "format": "cobol",
        "copybook": ")" + (legacy / "cobrix-test1" / "test1_copybook.cob").string() + R"(",
        "encoding": "ebcdic-common", "key": "ID", "mode": "readonly"},
     "test11": {"path": ")" + (legacy / "cobrix-test11" / "COMP.DETAILS.MAY30.DATA.dat").string() + R"(",
        "format": "cobol", "copybook": ")" + (legacy / "cobrix-test11" / "test11_copybook.cob").string() + R"(",
        "encoding": "ebcdic-common", "record_format": "rdw", "mode": "readonly",
        "record_header": {"size": 5, "length_offset": 3, "length_bytes": 2, "big_endian": false,
                          "length_adjust": 0, "valid_offset": 0, "valid_value": 1}},
     "dtazv": {"path": ")" + (legacy / "king_dtaus-DTAZV" / "DTAUS0.TXT").string() + R"(", "format": "cobol",
        "copybook": ")" + std::string(FLATFILE_TEST_DATA) + R"(/dtazv.cpy", "encoding": "iso-8859-1",
        "mode": "readonly", "segments": {"offset": 4, "length": 1,
        "values": {"Q": "Q-SATZ", "T": "T-SATZ", "Z": "Z-SATZ"}}}}})";
  Status s = c.Open(OpenReq(json));
  ASSERT_TRUE(s.ok()) << s.message();
  cv1::ScanRequest q = ScanOf("test1");
  *q.mutable_filter() = Eq("ID", I(4));
  q.add_fields("SHORT_NAME");
  q.add_fields("NUMBER_OF_ACCTS");
  q.add_fields("ACCOUNT_NUMBER_2");
  q.add_fields("ACCOUNT_NUMBER_3");
  auto r = RunScan(c, q);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"EXAMPLE330", "2", "000000000000001234555561", "NULL"}}));
  q = ScanOf("test11");
  *q.mutable_filter() = Eq("SEGMENT_ID", S("C"));
  q.add_fields("COMPANY_ID");
  r = RunScan(c, q);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_GT(r.rows.size(), 100u);
  EXPECT_EQ(r.rows[0][0], "9377942526");
  q = ScanOf("dtazv.T");
  q.add_fields("T_BETRAG");
  q.add_fields("T_EMPFAENGER_1");
  r = RunScan(c, q);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"220.250", "FIDEL"}}));
  r = RunScan(c, ScanOf("dtazv.Z"));
  ASSERT_EQ(r.rows.size(), 1u);
  cv1::DescribeResponse d;
  sdk::CallContext ctx;
  ASSERT_TRUE(c.Describe(cv1::DescribeRequest(), &d, ctx).ok());
  std::vector<std::string> names;
  for (const auto& e : d.entities()) names.push_back(e.name());
  EXPECT_EQ(names, (std::vector<std::string>{"dtazv.Q", "dtazv.T", "dtazv.Z", "test1", "test11"}));
}

TEST(FlatFileLock, WriterWaitsForTheLegacyLockAndTimesOut) {
  TempDir dir;
  std::string path = (dir / "k.csv").string();
  WriteFile(path, "A,B\n1,2\n");
  for (const char* kind : {"flock", "fcntl", "lockfile"}) {
    FlatFileConnector c;
    ASSERT_TRUE(c.Open(OpenReq(R"({"files": {"k": {"path": ")" + path + R"(", "lock": ")" + kind +
                               R"(", "lock_timeout_ms": 200}}})")).ok());
    // The "legacy program": another process holding the lock.
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      if (std::string(kind) == "flock") {
        int fd = ::open(path.c_str(), O_RDWR);
        ::flock(fd, LOCK_EX);
      } else if (std::string(kind) == "fcntl") {
        int fd = ::open(path.c_str(), O_RDWR);
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        ::fcntl(fd, F_SETLKW, &fl);
      } else {
        int fd = ::open((path + ".lock").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
        std::string pid_text = std::to_string(::getpid()) + "\n";
        (void)!::write(fd, pid_text.data(), pid_text.size());
        ::close(fd);
      }
      (void)!::write(pipefd[1], "x", 1);
      ::sleep(5);
      if (std::string(kind) == "lockfile") ::unlink((path + ".lock").c_str());
      ::_exit(0);
    }
    char ch;
    ASSERT_EQ(::read(pipefd[0], &ch, 1), 1);
    sdk::CallContext ctx;
    cv1::InsertRequest ins;
    ins.set_entity("k");
    AddValue(ins.mutable_values(), "A", S("3"));
    cv1::InsertResponse ir;
    Status s = c.Insert(ins, &ir, ctx);
    EXPECT_EQ(s.reason(), "LOCK_TIMEOUT") << kind << ": " << s.message();
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    // The holder died: flock/fcntl locks vanish, a stale lock file is detected by its pid.
    s = c.Insert(ins, &ir, ctx);
    EXPECT_TRUE(s.ok()) << kind << ": " << s.message();
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    WriteFile(path, "A,B\n1,2\n");
  }
}

TEST(FlatFileCobol, SegmentsInsertAndScanPerRecordType) {
  TempDir dir;
  WriteFile(dir / "m.cpy",
            "       01  KOPF.\n"
            "           05  K-ART    PIC X.\n"
            "           05  K-DATUM  PIC 9(8).\n"
            "       01  POSTEN.\n"
            "           05  P-ART    PIC X.\n"
            "           05  P-NR     PIC 9(4).\n"
            "           05  P-BETRAG PIC S9(5)V99 COMP-3.\n"
            "           05  P-TEXT   PIC X(10).\n");
  std::string path = (dir / "m.dat").string();
  // Kopf (9 bytes) + Posten (19 bytes), ISO-8859-1, no separators.
  WriteFile(path, std::string("K20240131") + "P0001" + std::string("\x00\x12\x34\x5C", 4) + "Miete     ");
  FlatFileConnector c;
  Status s = c.Open(OpenReq(R"({"files": {"m": {"path": ")" + path + R"(", "format": "cobol",
      "copybook": ")" + (dir / "m.cpy").string() + R"(", "encoding": "iso-8859-1", "key": ["P-NR"],
      "segments": {"field": "K-ART", "values": {"K": "KOPF", "P": "POSTEN"}}}}})"));
  ASSERT_TRUE(s.ok()) << s.message();
  auto r = RunScan(c, ScanOf("m.P"));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"P", "1", "123.45", "Miete"}}));
  r = RunScan(c, ScanOf("m.K"));
  EXPECT_EQ(r.rows, (std::vector<std::vector<std::string>>{{"K", "20240131"}}));
  sdk::CallContext ctx;
  cv1::InsertRequest ins;
  ins.set_entity("m.P");
  AddValue(ins.mutable_values(), "P_NR", I(2));
  AddValue(ins.mutable_values(), "P_BETRAG", D("-0.5"));
  AddValue(ins.mutable_values(), "P_TEXT", S("Strom"));
  cv1::InsertResponse ir;
  s = c.Insert(ins, &ir, ctx);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(path).substr(28), std::string("P0002") + std::string("\x00\x00\x05\x0D", 4) + "Strom     ");
  r = RunScan(c, ScanOf("m.P"));
  EXPECT_EQ(r.rows.size(), 2u);
  cv1::ScanRequest q = ScanOf("m.P");
  *q.mutable_filter() = Eq("P_NR", I(2));
  r = RunScan(c, q);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][2], "-0.50");
}

TEST(FlatFileCsv, AppendModeIdempotencyAndNewFileWithHeader) {
  TempDir dir;
  std::string path = (dir / "neu.csv").string();  // does not exist yet
  FlatFileConnector c;
  ASSERT_TRUE(c.Open(OpenReq(R"({"files": {"neu": {"path": ")" + path + R"(", "mode": "append",
      "columns": ["ID", {"name": "BETRAG", "type": "decimal", "scale": 2}], "key": "ID"}}})")).ok());
  EXPECT_TRUE(RunScan(c, ScanOf("neu")).rows.empty());
  sdk::CallContext ctx;
  cv1::InsertRequest ins;
  ins.set_entity("neu");
  AddValue(ins.mutable_values(), "ID", S("a1"));
  AddValue(ins.mutable_values(), "BETRAG", D("3.5"));
  ins.set_idempotency_key("x");
  ins.set_request_hash("1");
  cv1::InsertResponse a, b;
  ASSERT_TRUE(c.Insert(ins, &a, ctx).ok());
  ASSERT_TRUE(c.Insert(ins, &b, ctx).ok());
  EXPECT_TRUE(b.replayed());
  EXPECT_EQ(ReadFile(path), "ID,BETRAG\na1,3.50\n");
  // The legacy program changes the record meanwhile: the key still proves the insert happened.
  WriteFile(path, "ID,BETRAG\na1,9.99\n");
  cv1::InsertResponse d;
  ASSERT_TRUE(c.Insert(ins, &d, ctx).ok());
  EXPECT_TRUE(d.replayed());
  cv1::UpdateRequest up;
  up.set_entity("neu");
  AddValue(up.mutable_key(), "ID", S("a1"));
  cv1::UpdateResponse ur;
  EXPECT_EQ(c.Update(up, &ur, ctx).reason(), "APPEND_ONLY");
  cv1::HealthResponse hr;
  ASSERT_TRUE(c.Health(cv1::HealthRequest(), &hr, ctx).ok());
  EXPECT_TRUE(hr.serving());
}

// ---- Through the plugin's C ABI ----

struct HostCounters {
  std::map<std::string, int64_t> counters;
  std::vector<std::string> logs;
};

TEST(FlatFilePlugin, CAbiWithHostCounters) {
  std::string so = (fachadapter::testing::PluginDir() / "fachadapter_connector_flatfile.so").string();
  void* h = ::dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);  // see plugin_client.h
  ASSERT_NE(h, nullptr) << ::dlerror();
  auto init = reinterpret_cast<FaConnectorInitFn>(::dlsym(h, FACHADAPTER_CONNECTOR_ENTRY));
  ASSERT_NE(init, nullptr);
  FaConnectorV1 t{};
  ASSERT_EQ(init(FACHADAPTER_CONNECTOR_ABI_VERSION, &t, sizeof t), FA_OK);
  EXPECT_STREQ(t.name, "flatfile");

  HostCounters hc;
  FaHostApi host{};
  host.struct_size = sizeof host;
  host.abi_version = FACHADAPTER_CONNECTOR_ABI_VERSION;
  host.host_data = &hc;
  host.log = [](void* d, int32_t, const char* m, size_t n) {
    static_cast<HostCounters*>(d)->logs.emplace_back(m, n);
  };
  host.counter_add = [](void* d, const char* n, size_t len, int64_t delta) {
    static_cast<HostCounters*>(d)->counters[std::string(n, len)] += delta;
  };
  TempDir dir;
  std::string path = (dir / "k.csv").string();
  WriteFile(path, "A,B\n1,2\n3\n4,5\n");
  std::string req;
  OpenReq(R"({"files": {"k": {"path": ")" + path + R"(", "read_policy": "skip"}}})").SerializeToString(&req);
  FaConnectorInstance* inst = nullptr;
  FaBuffer err{};
  ASSERT_EQ(t.open(&host, reinterpret_cast<const uint8_t*>(req.data()), req.size(), &inst, &err), FA_OK);
  cv1::ScanRequest sr = ScanOf("k");
  std::string sreq;
  sr.SerializeToString(&sreq);
  FaScanCursor* cur = nullptr;
  ASSERT_EQ(t.scan_open(inst, nullptr, reinterpret_cast<const uint8_t*>(sreq.data()), sreq.size(), &cur, &err),
            FA_OK);
  int rows = 0;
  while (true) {
    FaBuffer b{};
    int32_t end = 0;
    ASSERT_EQ(t.scan_next(cur, nullptr, &b, &end), FA_OK);
    if (end) break;
    cv1::ScanBatch batch;
    ASSERT_TRUE(batch.ParseFromArray(b.data, static_cast<int>(b.size)));
    rows += batch.batch().records_size();
    if (b.release) b.release(&b);
  }
  t.scan_close(cur);
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(hc.counters["flatfile_records_skipped"], 1);
  bool logged = false;
  for (const auto& l : hc.logs) logged = logged || l.find("skipped 1 bad record") != std::string::npos;
  EXPECT_TRUE(logged);
  // An error crosses the boundary as a serialized Error with reason and field.
  cv1::ScanRequest bad = ScanOf("nope");
  bad.SerializeToString(&sreq);
  FaBuffer eb{};
  EXPECT_EQ(t.scan_open(inst, nullptr, reinterpret_cast<const uint8_t*>(sreq.data()), sreq.size(), &cur, &eb),
            static_cast<int32_t>(StatusCode::kNotFound));
  cv1::Error e;
  ASSERT_TRUE(e.ParseFromArray(eb.data, static_cast<int>(eb.size)));
  EXPECT_EQ(e.reason(), "UNKNOWN_ENTITY");
  if (eb.release) eb.release(&eb);
  t.close(inst);
  ::dlclose(h);
}

}  // namespace
}  // namespace fachadapter::flatfile
