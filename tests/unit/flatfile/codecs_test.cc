// Character sets and numeric codecs, checked byte by byte.
#include <gtest/gtest.h>

#include <string>

#include "codecs.h"

namespace fachadapter::flatfile {
namespace {

std::string Dec(std::string_view bytes, const char* cs) {
  std::string out;
  size_t bad = 0;
  EXPECT_TRUE(Charset::ByName(cs)->Decode(bytes, &out, &bad)) << cs << " bad at " << bad;
  return out;
}
std::string Enc(std::string_view utf8, const char* cs) {
  std::string out;
  uint32_t bad = 0;
  EXPECT_TRUE(Charset::ByName(cs)->Encode(utf8, &out, &bad)) << cs << " bad " << bad;
  return out;
}

TEST(Charset, KnowsAllNamesAndAliases) {
  for (const char* n : {"utf-8", "UTF8", "iso-8859-1", "latin1", "ISO-8859-15", "windows-1252",
                        "cp1252", "cp850", "IBM850", "cp037", "ibm037", "ebcdic", "cp500", "cp273",
                        "IBM273", "cp1141", "ibm-1141", "ebcdic-common"}) {
    EXPECT_NE(Charset::ByName(n), nullptr) << n;
  }
  EXPECT_EQ(Charset::ByName("klingon"), nullptr);
}

TEST(Charset, GermanEbcdicCp273AndCp1141) {
  // Known code points of CP273 (IBM's German EBCDIC) and CP1141 (the same with the euro sign).
  EXPECT_EQ(Enc("äöüßÄÖÜ§", "cp273"), "\xC0\x6A\xD0\xA1\x4A\xE0\x5A\x7C");
  EXPECT_EQ(Enc("äöüßÄÖÜ§€", "cp1141"), "\xC0\x6A\xD0\xA1\x4A\xE0\x5A\x7C\x9F");
  EXPECT_EQ(Dec("\xC0\x6A\xD0\xA1\x9F", "cp1141"), "äöüß€");
  EXPECT_EQ(Dec("\x9F", "cp273"), "¤");
  EXPECT_EQ(Dec("\xC1\xF1\x40\x4B", "cp273"), "A1 .");
  // The euro sign is not in CP273: a clear error naming the character and the code page.
  std::string out;
  Status s = Charset::ByName("cp273")->EncodeStatus("Preis 5 €", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.reason(), "UNMAPPABLE_CHARACTER");
  EXPECT_NE(s.message().find("U+20AC"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("cp273"), std::string::npos) << s.message();
}

TEST(Charset, Cp037AndCp500) {
  EXPECT_EQ(Enc("Hello, World! 09", "cp037"), "\xC8\x85\x93\x93\x96\x6B\x40\xE6\x96\x99\x93\x84\x5A\x40\xF0\xF9");
  // '[' ']' '!' differ between CP037 and CP500.
  EXPECT_EQ(Enc("[]", "cp037"), "\xBA\xBB");
  EXPECT_EQ(Enc("[]!", "cp500"), "\x4A\x5A\x4F");
  EXPECT_EQ(Dec("\x4A\x5A", "cp500"), "[]");
  EXPECT_EQ(Dec("\xC0\xD0", "cp037"), "{}");
  // Round trip of every byte for the EBCDIC pages (all 256 are defined).
  for (const char* cs : {"cp037", "cp500", "cp273", "cp1141"}) {
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
    EXPECT_EQ(Enc(Dec(all, cs), cs), all) << cs;
  }
}

TEST(Charset, Latin1Latin9Windows1252Cp850) {
  EXPECT_EQ(Dec("\xE4\xF6\xFC\xDF", "iso-8859-1"), "äöüß");
  EXPECT_EQ(Dec("\xA4", "iso-8859-1"), "¤");
  EXPECT_EQ(Dec("\xA4", "iso-8859-15"), "€");
  EXPECT_EQ(Dec("\x80", "windows-1252"), "€");
  EXPECT_EQ(Dec("\x84\x94\x81\xE1", "cp850"), "äöüß");
  EXPECT_EQ(Enc("äöüß€", "iso-8859-15"), "\xE4\xF6\xFC\xDF\xA4");
  std::string out;
  size_t bad = 9;
  EXPECT_FALSE(Charset::ByName("windows-1252")->Decode("ab\x81", &out, &bad));  // undefined
  EXPECT_EQ(bad, 2u);
  Status s = Charset::ByName("iso-8859-1")->EncodeStatus("5 €", &out);
  EXPECT_EQ(s.reason(), "UNMAPPABLE_CHARACTER");
}

TEST(Charset, Utf8Validation) {
  std::string out;
  size_t bad = 0;
  EXPECT_TRUE(Charset::ByName("utf-8")->Decode("Grüße aus Köln, long ascii run 12345678", &out, &bad));
  EXPECT_FALSE(Charset::ByName("utf-8")->Decode("abc\xC3", &out, &bad));
  EXPECT_EQ(bad, 3u);
  EXPECT_FALSE(Charset::ByName("utf-8")->Decode("\xED\xA0\x80", &out, &bad));  // surrogate
  Status s = Charset::ByName("utf-8")->DecodeStatus("ok\xFF", &out);
  EXPECT_EQ(s.reason(), "UNDECODABLE_BYTES");
  EXPECT_NE(s.message().find("0xFF at offset 2"), std::string::npos) << s.message();
}

TEST(Charset, EbcdicCommonReadsOnlyPrintableAscii) {
  EXPECT_EQ(Dec("\x03\x9D\x98\xC1", "ebcdic-common"), "  qA");
  EXPECT_EQ(Dec("\xD3\xD1\xCA", "ebcdic-common"), "LJ-");  // soft hyphen reads as '-'
  std::string out;
  uint32_t bad = 0;
  EXPECT_FALSE(Charset::ByName("ebcdic-common")->Encode("ä", &out, &bad));
}

std::string DecimalOf(const Number& n) {
  std::string s;
  n.AppendDecimal(&s);
  return s;
}

TEST(Packed, DecodesSignsAndScale) {
  Number n;
  ASSERT_EQ(DecodePacked(reinterpret_cast<const uint8_t*>("\x12\x34\x5C"), 3, 2, &n), NumError::kOk);
  EXPECT_EQ(DecimalOf(n), "123.45");
  ASSERT_EQ(DecodePacked(reinterpret_cast<const uint8_t*>("\x12\x34\x5D"), 3, 2, &n), NumError::kOk);
  EXPECT_EQ(DecimalOf(n), "-123.45");
  ASSERT_EQ(DecodePacked(reinterpret_cast<const uint8_t*>("\x00\x00\x5F"), 3, 3, &n), NumError::kOk);
  EXPECT_EQ(DecimalOf(n), "0.005");
  ASSERT_EQ(DecodePacked(reinterpret_cast<const uint8_t*>("\x00\x1F"), 2, 0, &n), NumError::kOk);
  EXPECT_TRUE(n.FitsInt64());
  EXPECT_EQ(n.ToInt64(), 1);
  ASSERT_EQ(DecodePacked(reinterpret_cast<const uint8_t*>("\x00\x0D"), 2, 0, &n), NumError::kOk);
  EXPECT_EQ(DecimalOf(n), "0");  // negative zero is zero
  EXPECT_EQ(DecodePacked(reinterpret_cast<const uint8_t*>("\x1A\x2C"), 2, 0, &n), NumError::kBadDigit);
  EXPECT_EQ(DecodePacked(reinterpret_cast<const uint8_t*>("\x12\x34"), 2, 0, &n), NumError::kBadSign);
  // 18 digits: exact, no double anywhere.
  ASSERT_EQ(DecodePacked(reinterpret_cast<const uint8_t*>("\x09\x99\x99\x99\x99\x99\x99\x99\x99\x9C"),
                         10, 2, &n), NumError::kOk);
  EXPECT_EQ(DecimalOf(n), "9999999999999999.99");
}

TEST(Packed, EncodesRoundTrip) {
  uint8_t buf[4];
  Number n;
  ASSERT_TRUE(ParseDecimalText("-123.45", 2, &n));
  ASSERT_TRUE(EncodePacked(n, 4, true, buf));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), std::string("\x00\x12\x34\x5D", 4));
  ASSERT_TRUE(EncodePacked(n, 3, true, buf));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 3), "\x12\x34\x5D");
  EXPECT_FALSE(EncodePacked(n, 2, true, buf));   // too big
  EXPECT_FALSE(EncodePacked(n, 4, false, buf));  // negative into unsigned
  ASSERT_TRUE(ParseDecimalText("7", 0, &n));
  ASSERT_TRUE(EncodePacked(n, 2, false, buf));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 2), std::string("\x00\x7F", 2));
}

TEST(Zoned, EbcdicOverpunch) {
  const Charset& eb = *Charset::ByName("cp037");
  Number n;
  auto dec = [&](std::string_view b, bool sign, SignPosition pos, bool sep, int scale) {
    NumError e = DecodeZoned(reinterpret_cast<const uint8_t*>(b.data()), b.size(), eb, sign, pos,
                             sep, scale, &n);
    return e == NumError::kOk ? DecimalOf(n) : std::string("ERR:") + NumErrorText(e);
  };
  EXPECT_EQ(dec("\xF1\xF2\xC3", true, SignPosition::kTrailing, false, 0), "123");
  EXPECT_EQ(dec("\xF1\xF2\xD3", true, SignPosition::kTrailing, false, 2), "-1.23");
  EXPECT_EQ(dec("\xD1\xF2\xF3", true, SignPosition::kLeading, false, 0), "-123");
  EXPECT_EQ(dec("\x60\xF1\xF2", true, SignPosition::kLeading, true, 1), "-1.2");
  EXPECT_EQ(dec("\xF1\xF2\x4E", true, SignPosition::kTrailing, true, 0), "12");
  EXPECT_EQ(dec("\xF1\xF2\xF3", false, SignPosition::kTrailing, false, 0), "123");
  EXPECT_EQ(dec("\x40\xF2\xF3", false, SignPosition::kTrailing, false, 0), "23");
  EXPECT_EQ(dec("\x40\x40\x40", false, SignPosition::kTrailing, false, 0), "ERR:blank");
  EXPECT_EQ(dec("\xF1\xC1\xF3", false, SignPosition::kTrailing, false, 0), "ERR:invalid digit");
  EXPECT_EQ(dec("\xF1\xF2\x33", true, SignPosition::kTrailing, false, 0), "ERR:invalid sign");
  EXPECT_EQ(dec("\xF1\xF2\xD3", false, SignPosition::kTrailing, false, 0), "ERR:invalid digit");
  uint8_t buf[4];
  ASSERT_TRUE(ParseDecimalText("-1.23", 2, &n));
  ASSERT_TRUE(EncodeZoned(n, 4, eb, true, SignPosition::kTrailing, false, buf));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), "\xF0\xF1\xF2\xD3");
  ASSERT_TRUE(EncodeZoned(n, 4, eb, true, SignPosition::kLeading, true, buf));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), "\x60\xF1\xF2\xF3");
}

TEST(Zoned, AsciiOverpunch) {
  const Charset& as = *Charset::ByName("iso-8859-1");
  Number n;
  auto dec = [&](std::string_view b, bool sign, int scale) {
    NumError e = DecodeZoned(reinterpret_cast<const uint8_t*>(b.data()), b.size(), as, sign,
                             SignPosition::kTrailing, false, scale, &n);
    return e == NumError::kOk ? DecimalOf(n) : std::string("ERR:") + NumErrorText(e);
  };
  EXPECT_EQ(dec("12C", true, 0), "123");
  EXPECT_EQ(dec("12L", true, 2), "-1.23");
  EXPECT_EQ(dec("12}", true, 0), "-120");
  EXPECT_EQ(dec("12{", true, 0), "120");
  EXPECT_EQ(dec("12s", true, 0), "-123");  // 0x70+3: Micro Focus negative
  EXPECT_EQ(dec("123", true, 0), "123");
  EXPECT_EQ(dec("12X", true, 0), "ERR:invalid sign");
  uint8_t buf[3];
  ASSERT_TRUE(ParseDecimalText("-120", 0, &n));
  ASSERT_TRUE(EncodeZoned(n, 3, as, true, SignPosition::kTrailing, false, buf));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 3), "12}");
}

TEST(Binary, BigEndianSignedUnsigned) {
  Number n;
  auto dec = [&](std::string_view b, bool sign, int scale) {
    EXPECT_EQ(DecodeBinary(reinterpret_cast<const uint8_t*>(b.data()), b.size(), sign, scale, &n),
              NumError::kOk);
    return DecimalOf(n);
  };
  EXPECT_EQ(dec(std::string("\x00\x01", 2), true, 0), "1");
  EXPECT_EQ(dec("\xFF\xFF", true, 0), "-1");
  EXPECT_EQ(dec("\xFF\xFF", false, 0), "65535");
  EXPECT_EQ(dec(std::string("\xFF\xFF\xFF\x85", 4), true, 2), "-1.23");
  EXPECT_EQ(dec("\x80\x00\x00\x00\x00\x00\x00\x00", true, 0).substr(0, 1), "-");
  EXPECT_EQ(dec(std::string("\x80\x00\x00\x00\x00\x00\x00\x00", 8), true, 0), "-9223372036854775808");
  EXPECT_EQ(dec("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", false, 0), "18446744073709551615");
  EXPECT_FALSE(n.FitsInt64());
  uint8_t buf[8];
  ASSERT_TRUE(ParseDecimalText("-1.23", 2, &n));
  ASSERT_TRUE(EncodeBinary(n, 4, true, buf));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), "\xFF\xFF\xFF\x85");
  ASSERT_TRUE(ParseDecimalText("40000", 0, &n));
  EXPECT_FALSE(EncodeBinary(n, 2, true, buf));
  EXPECT_TRUE(EncodeBinary(n, 2, false, buf));
  EXPECT_EQ(BinarySizeForDigits(4), 2);
  EXPECT_EQ(BinarySizeForDigits(9), 4);
  EXPECT_EQ(BinarySizeForDigits(18), 8);
}

TEST(DecimalText, ParsesLegacyFormats) {
  Number n;
  ASSERT_TRUE(ParseDecimalText("1.234,5", 2, &n, ',', '.'));
  EXPECT_EQ(DecimalOf(n), "1234.50");
  ASSERT_TRUE(ParseDecimalText(" -0,05 ", 2, &n, ','));
  EXPECT_EQ(DecimalOf(n), "-0.05");
  ASSERT_TRUE(ParseDecimalText("12.500", 2, &n));
  EXPECT_EQ(DecimalOf(n), "12.50");
  EXPECT_FALSE(ParseDecimalText("12.505", 2, &n));  // would lose a digit
  EXPECT_FALSE(ParseDecimalText("12a", 0, &n));
  EXPECT_FALSE(ParseDecimalText("", 0, &n));
}

}  // namespace
}  // namespace fachadapter::flatfile
