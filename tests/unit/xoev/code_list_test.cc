// Genericode code lists: loading, resolving code -> name, checking the codes of a message.
#include "code_list.h"

#include "schema_set.h"
#include "test_util.h"

namespace fachadapter::xoev {
namespace {

using testing::ReadFile;
using testing::SharedDataDir;
using testing::SourceDir;
using testing::TempDir;
using testing::WriteFile;

std::string DataDir() { return (SourceDir() / "tests/unit/xoev/data").string(); }

TEST(CodeListTest, LoadsGenericodeAndResolves) {
  CodeListRegistry r;
  ASSERT_TRUE(r.LoadFolder(DataDir()).ok());
  EXPECT_EQ(r.size(), 2u);
  const CodeList* l = r.Find("urn:xoev-de:xleitstelle:codeliste:xbeteiligung-nachrichten", "1.2");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->key_column, "code");
  EXPECT_EQ(l->name_column, "beschreibung");
  EXPECT_EQ(r.Resolve("urn:xoev-de:xleitstelle:codeliste:xbeteiligung-nachrichten", "1.2", "0402"),
            "kommunal.Aktualisieren.0402");
  EXPECT_FALSE(r.Resolve("urn:xoev-de:xleitstelle:codeliste:xbeteiligung-nachrichten", "1.1", "0402"));
  EXPECT_FALSE(r.Resolve("urn:xoev-de:xleitstelle:codeliste:xbeteiligung-nachrichten", "1.2", "9999"));
  EXPECT_EQ(r.Resolve("urn:de:xoev:codeliste:erreichbarkeit", "3", "01"), "E-Mail");
}

TEST(CodeListTest, RejectsWhatIsNotGenericode) {
  TempDir dir;
  WriteFile(dir / "x.xml", "<x/>");
  CodeListRegistry r;
  Status s = r.LoadFile((dir / "x.xml").string());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not a genericode CodeList"), std::string::npos);
  WriteFile(dir / "bomb.xml", "<!DOCTYPE r [<!ENTITY a \"a\">]><r>&a;</r>");
  s = r.LoadFile((dir / "bomb.xml").string());
  EXPECT_NE(s.message().find("DOCTYPE"), std::string::npos) << s.message();
}

TEST(CodeListTest, ChecksCodesOfTheListVersionTheMessageNames) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  CodeListRegistry r;
  ASSERT_TRUE(r.LoadFolder(DataDir()).ok());
  std::string bytes =
      ReadFile(SharedDataDir() / "xoev/xbeteiligung-1.2/samples/xbeteiligung-test-kommunal.Initiieren.0401.xml");
  auto doc = ParseUntrusted(bytes, {});
  ASSERT_TRUE(doc.ok());
  size_t checked = 0;
  auto problems = r.Check(doc->get(), &checked);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(checked, 5u);  // nachrichtentyp + 4 kanal codes; lists not loaded are open
  size_t p = bytes.find("<code>02</code>");
  bytes.replace(p, 15, "<code>99</code>");
  doc = ParseUntrusted(bytes, {});
  problems = r.Check(doc->get(), &checked);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line, 29);
  EXPECT_EQ(problems[0].path,
            "/ns5:kommunal.Initiieren.0401/ns2:nachrichtenkopf.g2g/ns2:leser/ns4:erreichbarkeit[1]/ns4:kanal/code");
  EXPECT_NE(problems[0].message.find("'99' is not in code list urn:de:xoev:codeliste:erreichbarkeit version 3"),
            std::string::npos);
}

// The xdomea 3 schema fixes listURI and listVersionID of Nachrichtentyp (2.0), and the 0501
// sample leaves both attributes out: with the attributes the schema supplies (validation with
// defaults, as the connector validates when code lists are loaded) the code is checked against
// list version 2.0; from the document's own attributes alone it would not be checked at all.
TEST(CodeListTest, ListVersionFixedByTheSchemaIsChecked) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  CodeListRegistry r;
  // Holds only 0503 (see the file), so the sample's 0501 is reported when the version applies.
  ASSERT_TRUE(r.LoadFile(DataDir() + "/schema-fixed/xdomea-nachrichtentyp_2.0.xml").ok());
  SchemaSetConfig cfg;
  cfg.name = "xdomea-3.0.0";
  cfg.entry = (SharedDataDir() / "xoev/xdomea-3.0.0/xsd/xdomea_3.0.0/xdomea.xsd").string();
  cfg.roots = {(SharedDataDir() / "xoev/xdomea-3.0.0/xsd").string()};
  cfg.catalogs = {(SourceDir() / "connectors/xoev/catalogs/xdomea-3.0.0.xml").string()};
  auto set = SchemaSet::Compile(cfg);
  ASSERT_TRUE(set.ok()) << set.status().message();
  const std::string bytes =
      ReadFile(SharedDataDir() / "xoev/xdomea-3.0.0/samples/xx_Aussonderung.Anbieteverzeichnis.0501.xml");

  auto plain = ParseUntrusted(bytes, {});
  ASSERT_TRUE(plain.ok());
  size_t checked = 0;
  EXPECT_TRUE(r.Check(plain->get(), &checked).empty());
  EXPECT_EQ(checked, 0u) << "the document names no version of the list";

  auto doc = ParseUntrusted(bytes, {});
  ASSERT_TRUE(doc.ok());
  std::vector<XmlDiagnostic> errors;
  auto valid = (*set)->Validate(doc->get(), &errors, 100, /*add_defaults=*/true);
  ASSERT_TRUE(valid.ok());
  ASSERT_TRUE(*valid) << FormatDiagnostics(errors);
  auto problems = r.Check(doc->get(), &checked);
  EXPECT_EQ(checked, 1u);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line, 11);
  EXPECT_EQ(problems[0].path, "/xdomea:Aussonderung.Anbieteverzeichnis.0501/xdomea:Kopf/xdomea:Nachrichtentyp/code");
  EXPECT_EQ(problems[0].message,
            "code '0501' is not in code list urn:xoev-de:xdomea:codeliste:nachrichtentyp version 2.0");
}

}  // namespace
}  // namespace fachadapter::xoev
