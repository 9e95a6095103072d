// Assembling an XÖV g2g message from header fields and a body, against the real XBeteiligung
// 1.2 and xdomea 3.0.0 schema sets.
#include "message_assembly.h"

#include <algorithm>
#include <string>

#include "message_header.h"
#include "test_util.h"
#include "xml_security.h"

namespace fachadapter::xoev {
namespace {

using testing::ReadFile;
using testing::SharedDataDir;
using testing::SourceDir;

constexpr const char* kXbetNs = "https://www.xleitstelle.de/xbeteiligung/12";

std::shared_ptr<const SchemaSet> XBeteiligung() {
  SchemaSetConfig c;
  c.name = "xbeteiligung-1.2";
  c.entry = (SharedDataDir() / "xoev/xbeteiligung-1.2/xsd/xbeteiligung.xsd").string();
  c.catalogs = {(SourceDir() / "connectors/xoev/catalogs/xbeteiligung-1.2.xml").string()};
  c.standard = "XBeteiligung";
  c.version = "1.2";
  auto s = SchemaSet::Compile(c);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : nullptr;
}

std::shared_ptr<const SchemaSet> Xdomea3() {
  SchemaSetConfig c;
  c.name = "xdomea-3.0.0";
  c.entry = (SharedDataDir() / "xoev/xdomea-3.0.0/xsd/xdomea_3.0.0/xdomea.xsd").string();
  c.roots = {(SharedDataDir() / "xoev/xdomea-3.0.0/xsd").string()};
  c.catalogs = {(SourceDir() / "connectors/xoev/catalogs/xdomea-3.0.0.xml").string()};
  auto s = SchemaSet::Compile(c);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : nullptr;
}

std::map<std::string, MessageHeaderDefaults> Defaults() {
  MessageHeaderDefaults d;
  d.product = "Fachadapter";
  d.product_vendor = "Fachadapter-Projekt";
  d.directory_service_list_version = "3";
  return {{"xbeteiligung-1.2", d}};
}

// The body of the real 0401 sample: its nachrichteninhalt element, with the declaration of the
// prefix it uses (declared on the sample's root) moved onto it.
std::string Body0401() {
  std::string doc =
      ReadFile(SharedDataDir() / "xoev/xbeteiligung-1.2/samples/xbeteiligung-test-kommunal.Initiieren.0401.xml");
  size_t b = doc.find("<ns5:nachrichteninhalt>");
  std::string end_tag = "</ns5:nachrichteninhalt>";
  size_t e = doc.find(end_tag);
  EXPECT_NE(b, std::string::npos);
  EXPECT_NE(e, std::string::npos);
  std::string body = doc.substr(b, e + end_tag.size() - b);
  body.replace(0, std::string("<ns5:nachrichteninhalt>").size(),
               std::string("<ns5:nachrichteninhalt xmlns:ns5=\"") + kXbetNs + "\">");
  return body;
}

AssemblyFields Fields0401() {
  AssemblyFields f;
  f.type_code = "0401";
  f.type_name = "kommunal.Initiieren.0401";
  f.type_list_uri = "urn:xoev-de:xleitstelle:codeliste:xbeteiligung-nachrichten";
  f.type_list_version = "1.2";
  f.author = {"DVDV", "xyz:0001", "behoerde1"};
  f.reader = {"DVDV", "xyz:0002", "behoerde2"};
  f.content = Body0401();
  return f;
}

TEST(MessageAssemblyTest, FindsTheG2gHeaderOnlyWhereTheSetHasIt) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto xb = XBeteiligung();
  auto xd = Xdomea3();
  ASSERT_TRUE(xb && xd);
  auto ns = FindG2gNamespaces(*xb);
  ASSERT_TRUE(ns.has_value());
  EXPECT_EQ(ns->g2g, "http://xoev.de/schemata/basisnachricht/g2g/1_1");
  EXPECT_EQ(ns->behoerde, "http://xoev.de/schemata/basisnachricht/behoerde/1_1");
  EXPECT_FALSE(FindG2gNamespaces(*xd).has_value()) << "xdomea 3 has its own Kopf";
}

TEST(MessageAssemblyTest, RootElementFollowsFromTheMessageType) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto xb = XBeteiligung();
  ASSERT_TRUE(xb);
  EXPECT_EQ(RootElementsForMessageType(*xb, "0401"), std::vector<std::string>{"kommunal.Initiieren.0401"});
  EXPECT_EQ(RootElementsForMessageType(*xb, "0309"), std::vector<std::string>{"raumordnung.Loeschen.0309"});
  EXPECT_TRUE(RootElementsForMessageType(*xb, "9999").empty());
}

TEST(MessageAssemblyTest, AssembledDocumentParsesValidatesAndCarriesTheHeaderFields) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto xb = XBeteiligung();
  ASSERT_TRUE(xb);
  AssemblyFields f = Fields0401();
  f.author.name = "Amt für \"Bau\" & <Planung>";  // escaped, read back as given
  auto a = AssembleMessage({xb}, Defaults(), f);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->set, xb.get());
  EXPECT_EQ(a->root_element, "kommunal.Initiieren.0401");
  std::vector<XmlDiagnostic> diags;
  auto doc = ParseUntrusted(a->text, {}, &diags, true);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString() << "\n" << a->text;
  MessageHeader h = ExtractHeader(doc->get());
  EXPECT_EQ(h.header_style, "g2g");
  EXPECT_EQ(h.root_element, "kommunal.Initiieren.0401");
  EXPECT_EQ(h.root_namespace, kXbetNs);
  EXPECT_EQ(h.standard.value_or(""), "XBeteiligung");
  EXPECT_EQ(h.version.value_or(""), "1.2");
  EXPECT_EQ(h.product.value_or(""), "Fachadapter");
  EXPECT_EQ(h.product_vendor.value_or(""), "Fachadapter-Projekt");
  EXPECT_EQ(h.type_code.value_or(""), "0401");
  EXPECT_EQ(h.type_name.value_or(""), "kommunal.Initiieren.0401");
  EXPECT_EQ(h.type_list_version.value_or(""), "1.2");
  EXPECT_EQ(h.author.name.value_or(""), "Amt für \"Bau\" & <Planung>");
  EXPECT_EQ(h.reader.id.value_or(""), "xyz:0002");
  EXPECT_EQ(h.reader.directory_service.value_or(""), "DVDV");
  ASSERT_NE(h.uuid_node, nullptr);
  ASSERT_NE(h.created_node, nullptr);
  EXPECT_EQ(h.message_uuid.value_or(""), "") << "left for the connector to fill";
  // With the two owned values filled, the document is valid against the real schemas.
  xmlNodeSetContent(h.uuid_node, reinterpret_cast<const xmlChar*>("0b1c5f9e-2c7d-4e8a-9f10-5a6b7c8d9e01"));
  xmlNodeSetContent(h.created_node, reinterpret_cast<const xmlChar*>("2026-11-27T10:00:00.000Z"));
  std::vector<XmlDiagnostic> errors;
  auto valid = xb->Validate(doc->get(), &errors);
  ASSERT_TRUE(valid.ok());
  EXPECT_TRUE(*valid) << FormatDiagnostics(errors);
  // The body's first line is the document line after the offset.
  int line = 1 + static_cast<int>(std::count(a->text.begin(), a->text.begin() + a->text.find("<ns5:nachrichteninhalt"), '\n'));
  EXPECT_EQ(line, a->content_line_offset + 1);
}

TEST(MessageAssemblyTest, RefusesWhatCannotBeAssembled) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto xb = XBeteiligung();
  auto xd = Xdomea3();
  ASSERT_TRUE(xb && xd);
  auto expect = [&](AssemblyFields f, StatusCode code, const std::string& reason, const std::string& field,
                    std::vector<std::shared_ptr<const SchemaSet>> sets) {
    auto a = AssembleMessage(sets, Defaults(), f);
    ASSERT_FALSE(a.ok()) << reason;
    EXPECT_EQ(a.status().code(), code) << a.status().ToString();
    EXPECT_EQ(a.status().reason(), reason) << a.status().ToString();
    EXPECT_EQ(a.status().field(), field) << a.status().ToString();
    EXPECT_NE(a.status().message().find(field), std::string::npos) << a.status().message();
  };
  const std::vector<std::shared_ptr<const SchemaSet>> both = {xb, xd};
  AssemblyFields f = Fields0401();
  f.author.id.reset();
  expect(f, StatusCode::kInvalidArgument, "MISSING_FIELD", "author_id", both);
  f = Fields0401();
  f.reader.name = "  ";
  expect(f, StatusCode::kInvalidArgument, "MISSING_FIELD", "reader_name", both);
  f = Fields0401();
  f.type_code.reset();
  expect(f, StatusCode::kInvalidArgument, "MISSING_FIELD", "message_type_code", both);
  f = Fields0401();
  f.content.reset();
  expect(f, StatusCode::kInvalidArgument, "MISSING_FIELD", "content", both);
  f = Fields0401();
  f.author.id = "xyz\n0001";
  expect(f, StatusCode::kInvalidArgument, "INVALID_VALUE", "author_id", both);
  f = Fields0401();
  f.type_code = "9999";
  expect(f, StatusCode::kInvalidArgument, "UNKNOWN_MESSAGE_TYPE", "message_type_code", both);
  f = Fields0401();
  f.root_element = "kommunal.Erfunden.0401";
  expect(f, StatusCode::kInvalidArgument, "UNKNOWN_ROOT_ELEMENT", "root_element", both);
  f = Fields0401();
  f.version = "1.3";
  expect(f, StatusCode::kInvalidArgument, "INVALID_VALUE", "version", both);
  f = Fields0401();
  f.schema_set = "xdomea-3.0.0";
  expect(f, StatusCode::kFailedPrecondition, "HEADER_NOT_ASSEMBLABLE", "schema_set", both);
  f = Fields0401();
  expect(f, StatusCode::kFailedPrecondition, "HEADER_NOT_ASSEMBLABLE", "document", {xd});
  f.schema_set = "xbeteiligung-9";
  expect(f, StatusCode::kInvalidArgument, "UNKNOWN_SCHEMA_SET", "schema_set", both);
  // Without the verzeichnisdienst list version (no setting), the header cannot be built.
  auto a = AssembleMessage({xb}, {}, Fields0401());
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(a.status().reason(), "HEADER_NOT_ASSEMBLABLE");
  EXPECT_NE(a.status().message().find("message_header.directory_service_list_version"), std::string::npos)
      << a.status().message();
}

}  // namespace
}  // namespace fachadapter::xoev
