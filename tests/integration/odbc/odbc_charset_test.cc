// The connector's legacy character sets (charset.h) on their own: which DBMS names are
// legacy sets, what each holds (enumerated through the real iconv of the C library), and the
// error for a character a set cannot hold. The end-to-end cases are in odbc_legacy_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "charset.h"

namespace fachadapter::odbc {
namespace {

std::unique_ptr<LegacyCharset> Pg(const char* name) { return LegacyCharset::For("PostgreSQL", name); }
std::unique_ptr<LegacyCharset> My(const char* name) { return LegacyCharset::For("MariaDB", name); }

TEST(LegacyCharsetTest, UnicodeAndUncheckedSetsNeedNoCheck) {
  EXPECT_EQ(Pg("UTF8"), nullptr);
  EXPECT_EQ(Pg("SQL_ASCII"), nullptr) << "the server converts nothing: any byte is stored";
  EXPECT_EQ(Pg("EUC_JP"), nullptr) << "multi-byte legacy sets are left to the server";
  EXPECT_EQ(My("utf8mb4"), nullptr);
  EXPECT_EQ(My("binary"), nullptr);
  EXPECT_EQ(LegacyCharset::For("SQLite", "latin1"), nullptr) << "unknown DBMS: nothing assumed";
}

TEST(LegacyCharsetTest, PostgresLatin1IsIso88591) {
  auto set = Pg("LATIN1");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->name(), "LATIN1");
  for (char32_t c : {U'A', U'ä', U'ß', U'ÿ', U'¤', char32_t{0x80}}) EXPECT_TRUE(set->Holds(c)) << std::hex << static_cast<uint32_t>(c);
  for (char32_t c : {U'€', U'Ł', U'Œ', char32_t{0x1F600}}) EXPECT_FALSE(set->Holds(c)) << std::hex << static_cast<uint32_t>(c);
  EXPECT_TRUE(set->Check("Jürgen Groß, Köln ½ °C", "name").ok());
}

TEST(LegacyCharsetTest, Latin9AndWindows1252DifferFromLatin1) {
  auto latin9 = Pg("LATIN9");
  ASSERT_NE(latin9, nullptr);
  EXPECT_TRUE(latin9->Holds(U'€'));
  EXPECT_TRUE(latin9->Holds(U'Œ'));
  EXPECT_FALSE(latin9->Holds(U'¤')) << "ISO-8859-15 put '€' where '¤' was";
  auto win = Pg("WIN1252");
  ASSERT_NE(win, nullptr);
  EXPECT_TRUE(win->Holds(U'€'));
  EXPECT_TRUE(win->Holds(U'„'));
  EXPECT_FALSE(win->Holds(char32_t{0x81})) << "unassigned in Windows-1252";
  auto latin2 = Pg("latin2");  // names in any case
  ASSERT_NE(latin2, nullptr);
  EXPECT_TRUE(latin2->Holds(U'Ł'));
  EXPECT_TRUE(latin2->Holds(U'ß'));
  EXPECT_FALSE(latin2->Holds(U'€'));
}

TEST(LegacyCharsetTest, MariaDbLatin1IsWindows1252WithItsHolesFilled) {
  auto set = My("latin1");
  ASSERT_NE(set, nullptr);
  EXPECT_TRUE(set->Holds(U'€'));
  EXPECT_TRUE(set->Holds(char32_t{0x81}));
  EXPECT_FALSE(set->Holds(U'Ł'));
  auto mb3 = My("utf8mb3");
  ASSERT_NE(mb3, nullptr);
  EXPECT_TRUE(mb3->Holds(U'€'));
  EXPECT_TRUE(mb3->Holds(U'Ł'));
  EXPECT_FALSE(mb3->Holds(char32_t{0x1F600})) << "utf8mb3 holds nothing above U+FFFF";
  ASSERT_NE(My("utf8"), nullptr) << "MariaDB's utf8 is utf8mb3";
}

TEST(LegacyCharsetTest, CheckNamesFieldCharacterCodePointAndPosition) {
  auto set = Pg("LATIN1");
  ASSERT_NE(set, nullptr);
  Status s = set->Check("5 € pro Stück", "ort");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.reason(), "UNREPRESENTABLE_CHARACTER");
  EXPECT_EQ(s.field(), "ort");
  EXPECT_NE(s.message().find("'€' (U+20AC, character 3 of the value)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("LATIN1"), std::string::npos) << s.message();
  // A control character is named by its code point only.
  Status c = Pg("WIN1252")->Check(std::string("a\xC2\x81"), "x");
  EXPECT_EQ(c.reason(), "UNREPRESENTABLE_CHARACTER");
  EXPECT_NE(c.message().find("character (U+0081, character 2"), std::string::npos) << c.message();
  Status emoji = My("utf8mb3")->Check("Danke 😀", "notiz");
  EXPECT_NE(emoji.message().find("U+1F600"), std::string::npos) << emoji.message();
}

TEST(LegacyCharsetTest, TextThatIsNotUtf8IsInvalid) {
  auto set = Pg("LATIN1");
  ASSERT_NE(set, nullptr);
  for (std::string bad : {std::string("M\xFC"), std::string("\xC3"), std::string("\xE2\x82"),
                          std::string("\xC0\xAF"), std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80")}) {
    Status s = set->Check(bad, "name");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.reason(), "INVALID_VALUE") << bad;
  }
  EXPECT_TRUE(set->Check("", "name").ok());
}

}  // namespace
}  // namespace fachadapter::odbc
