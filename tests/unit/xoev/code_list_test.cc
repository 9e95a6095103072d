// Genericode code lists: loading, resolving code -> name, checking the codes of a message.
#include "code_list.h"

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

}  // namespace
}  // namespace fachadapter::xoev
