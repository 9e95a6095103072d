// The COBOL copybook parser: pictures, usages, REDEFINES, OCCURS (DEPENDING ON), levels,
// column rules and syntax errors; plus decoding records built byte by byte.
#include <gtest/gtest.h>

#include <string>

#include "layout.h"
#include "record_codec.h"

namespace fachadapter::flatfile {
namespace {

// Puts copybook code into columns 8-72 with a sequence area.
std::string Cob(std::initializer_list<const char*> lines) {
  std::string s;
  int n = 1;
  for (const char* l : lines) {
    char seq[16];
    std::snprintf(seq, sizeof seq, "%06d", n++ * 10);
    s += seq;
    s += l;
    s += "\n";
  }
  return s;
}

const FieldDef& F(const RecordLayout& l, const char* name) {
  int i = l.Find(name);
  EXPECT_GE(i, 0) << name;
  static FieldDef none;
  return i >= 0 ? l.fields[static_cast<size_t>(i)] : none;
}

TEST(Copybook, PicturesUsagesAndOffsets) {
  auto r = ParseCopybook(Cob({
      "  01  REC.",
      "      05  NAME            PIC X(10).",
      "      05  AMOUNT          PIC S9(7)V99 COMP-3.",
      "      05  COUNT-B         PIC 9(4) COMP.",
      "      05  BIG             PIC S9(18) BINARY.",
      "      05  NATIVE          PIC 9(9) COMP-5.",
      "      05  ZONED   PIC S9(3)V9 SIGN IS LEADING SEPARATE CHARACTER.",
      "      05  ZONED-T         PIC S999.",
      "      05  FILLER          PIC X(2).",
      "      05  PACKED-G USAGE IS PACKED-DECIMAL.",
      "          10  P1          PIC 9(3).",
      "          10  P2          PIC S9(4).",
      "      05  EDITED          PIC ZZ9.99-.",
      "      05  CODE            PIC X.",
      "          88  CODE-A      VALUE 'A'.",
      "          88  CODE-BC     VALUES 'B' 'C'.",
      "      05  TAIL            PIC XX VALUE SPACES.",
  }));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  const RecordLayout& l = (*r)[0];
  EXPECT_EQ(l.name, "REC");
  EXPECT_EQ(F(l, "NAME").offset, 0u);
  EXPECT_EQ(F(l, "NAME").length, 10u);
  EXPECT_EQ(F(l, "AMOUNT").offset, 10u);
  EXPECT_EQ(F(l, "AMOUNT").length, 5u);
  EXPECT_EQ(F(l, "AMOUNT").kind, FieldKind::kPacked);
  EXPECT_EQ(F(l, "AMOUNT").scale, 2);
  EXPECT_EQ(F(l, "AMOUNT").type(), v1::FIELD_TYPE_DECIMAL);
  EXPECT_EQ(F(l, "COUNT_B").length, 2u);
  EXPECT_EQ(F(l, "COUNT_B").type(), v1::FIELD_TYPE_INT64);
  EXPECT_EQ(F(l, "BIG").length, 8u);
  EXPECT_EQ(F(l, "NATIVE").kind, FieldKind::kNativeBinary);
  EXPECT_EQ(F(l, "NATIVE").length, 4u);
  EXPECT_EQ(F(l, "ZONED").length, 5u);
  EXPECT_TRUE(F(l, "ZONED").sign_separate);
  EXPECT_EQ(F(l, "ZONED").sign_pos, SignPosition::kLeading);
  EXPECT_EQ(F(l, "ZONED_T").offset, 34u);
  EXPECT_EQ(F(l, "ZONED_T").length, 3u);
  EXPECT_EQ(F(l, "P1").offset, 39u);  // after 2 bytes FILLER
  EXPECT_EQ(F(l, "P1").length, 2u);
  EXPECT_EQ(F(l, "P2").length, 3u);
  EXPECT_EQ(F(l, "EDITED").kind, FieldKind::kText);
  EXPECT_EQ(F(l, "EDITED").length, 7u);
  EXPECT_EQ(F(l, "CODE").offset, 51u);
  EXPECT_EQ(F(l, "TAIL").offset, 52u);
  EXPECT_EQ(l.length, 54u);
  EXPECT_EQ(F(l, "AMOUNT").native, "PIC S9(7)V99 COMP-3");
  EXPECT_EQ(l.Find("FILLER"), -1);
}

TEST(Copybook, RedefinesAndOccurs) {
  auto r = ParseCopybook(Cob({
      "  01  REC.",
      "      05  KIND            PIC X.",
      "      05  NUM             PIC 9(5) COMP-3.",
      "      05  TXT REDEFINES NUM PIC X(3).",
      "      05  N               PIC 9.",
      "      05  ITEMS OCCURS 1 TO 3 TIMES DEPENDING ON N.",
      "          10  ITEM-ID     PIC X(2).",
      "          10  QTY         PIC 9(2) OCCURS 2.",
      "      05  TRAILER         PIC X.",
  }));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const RecordLayout& l = (*r)[0];
  EXPECT_EQ(F(l, "TXT").offset, F(l, "NUM").offset);
  EXPECT_EQ(F(l, "ITEM_ID_1").offset, 5u);
  EXPECT_EQ(F(l, "QTY_1_1").offset, 7u);
  EXPECT_EQ(F(l, "QTY_1_2").offset, 9u);
  EXPECT_EQ(F(l, "ITEM_ID_2").offset, 11u);
  EXPECT_EQ(F(l, "QTY_3_2").offset, 21u);
  EXPECT_EQ(F(l, "TRAILER").offset, 23u);  // OCCURS DEPENDING ON takes its maximum size
  EXPECT_EQ(l.length, 24u);
  // Decode a record built byte by byte: N = 2, so the third element is NULL.
  std::string rec = "A\x12\x34\x5F" "2" "AA0102" "BB0304" "CC0506" "Z";
  RecordCodec codec(&l, Charset::ByName("iso-8859-1"), Trim::kBoth);
  v1::Value v;
  ASSERT_TRUE(codec.Decode(rec, l.Find("NUM"), &v).ok());
  EXPECT_EQ(v.int_value(), 12345);
  ASSERT_TRUE(codec.Decode(rec, l.Find("ITEM_ID_2"), &v).ok());
  EXPECT_EQ(v.string_value(), "BB");
  ASSERT_TRUE(codec.Decode(rec, l.Find("QTY_2_2"), &v).ok());
  EXPECT_EQ(v.int_value(), 4);
  ASSERT_TRUE(codec.Decode(rec, l.Find("ITEM_ID_3"), &v).ok());
  EXPECT_TRUE(v.has_null_value());
  ASSERT_TRUE(codec.Decode(rec, l.Find("QTY_3_1"), &v).ok());
  EXPECT_TRUE(v.has_null_value());
}

TEST(Copybook, CommentsContinuationTabsAndIdentificationArea) {
  auto ident = [](std::string s) {
    s.resize(72, ' ');
    return s + "IDENT001\n";
  };
  std::string text =
      "000100* a comment line\n"
      "000200/ a page eject comment\n"
      "000300D debug line, ignored\n" +
      ident("000400 01  REC.") + ident("000500     05  A  PIC X(3).") +
      "\t\t\t   05  B\n"
      "000700         PIC 9(2).\n"
      "000800     05  C  PIC X(4) VALUE 'AB\n"
      "000900-    'CD'.\n";
  auto r = ParseCopybook(text);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const RecordLayout& l = (*r)[0];
  EXPECT_EQ(F(l, "A").length, 3u);
  EXPECT_EQ(F(l, "B").offset, 3u);
  EXPECT_EQ(F(l, "C").offset, 5u);
}

TEST(Copybook, SeveralRecordsAndDuplicateNames) {
  auto r = ParseCopybook(Cob({
      "  01  HEADER.",
      "      05  TYP  PIC X.",
      "      05  DATUM PIC 9(8).",
      "  01  DETAIL.",
      "      05  TYP  PIC X.",
      "      05  FROM-ADDR.",
      "          10  CITY PIC X(5).",
      "      05  TO-ADDR.",
      "          10  CITY PIC X(5).",
  }));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].length, 9u);
  EXPECT_EQ((*r)[1].length, 11u);
  EXPECT_GE((*r)[1].Find("FROM_ADDR_CITY"), 0);
  EXPECT_GE((*r)[1].Find("TO_ADDR_CITY"), 0);
}

TEST(Copybook, SyntaxErrorsNameTheLine) {
  struct Case {
    std::string text;
    int line;
    const char* what;
  } cases[] = {
      {Cob({"  01  REC.", "      05  A  PIC X(3)", "      05  B  PIC 9."}), 3, "unexpected '05'"},
      {Cob({"  01  REC.", "      05  A  PIC Q(3)."}), 2, "invalid character 'Q'"},
      {Cob({"  01  REC.", "      05  A."}), 2, "has no PIC"},
      {Cob({"  01  REC.", "      05  A PIC X.", "      05  B REDEFINES NOPE PIC X."}), 3, "REDEFINES NOPE"},
      {Cob({"  01  REC.", "      05  A PIC X OCCURS MANY."}), 2, "OCCURS needs a number"},
      {Cob({"  01  REC.", "      05  A PIC X.", "      XX  B PIC X."}), 3, "expected a level number"},
      {Cob({"  01  REC.", "      05  A PIC 9(3) COMP-1."}), 2, "floating point"},
      {Cob({"  01  REC.", "      05  A PIC X(3)."}) + "000300X bad indicator\n", 3, "indicator"},
      {Cob({"  01  REC.", "      05  A PIC X(3)"}), 2, "does not end with a period"},
  };
  for (const auto& c : cases) {
    auto r = ParseCopybook(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().reason(), "COPYBOOK_SYNTAX");
    EXPECT_NE(r.status().message().find("copybook line " + std::to_string(c.line) + ":"),
              std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find(c.what), std::string::npos) << r.status().message();
  }
}

TEST(RecordCodec, EbcdicRecordByteByByte) {
  auto r = ParseCopybook(Cob({
      "  01  KUNDE.",
      "      05  NAME     PIC X(8).",
      "      05  SALDO    PIC S9(5)V99 COMP-3.",
      "      05  ANZAHL   PIC S9(4) COMP.",
      "      05  BETRAG   PIC S9(3)V99.",
      "      05  ORT      PIC X(6).",
  }));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const RecordLayout& l = (*r)[0];
  // "Müller  " in CP273, -12345.67 packed, 300 binary, -1.23 zoned overpunched, "Köln  ".
  std::string rec = std::string("\xD4\xD0\x93\x93\x85\x99\x40\x40", 8) +
                    std::string("\x12\x34\x56\x7D", 4) + std::string("\x01\x2C", 2) +
                    std::string("\xF0\xF0\xF1\xF2\xD3", 5) +
                    std::string("\xD2\x6A\x93\x95\x40\x40", 6);
  ASSERT_EQ(rec.size(), l.length);
  RecordCodec codec(&l, Charset::ByName("cp273"), Trim::kBoth);
  v1::Value v;
  ASSERT_TRUE(codec.Decode(rec, l.Find("NAME"), &v).ok());
  EXPECT_EQ(v.string_value(), "Müller");
  ASSERT_TRUE(codec.Decode(rec, l.Find("SALDO"), &v).ok());
  EXPECT_EQ(v.decimal_value().value(), "-12345.67");
  ASSERT_TRUE(codec.Decode(rec, l.Find("ANZAHL"), &v).ok());
  EXPECT_EQ(v.int_value(), 300);
  ASSERT_TRUE(codec.Decode(rec, l.Find("BETRAG"), &v).ok());
  EXPECT_EQ(v.decimal_value().value(), "-1.23");
  ASSERT_TRUE(codec.Decode(rec, l.Find("ORT"), &v).ok());
  EXPECT_EQ(v.string_value(), "Köln");
  // Encode back: the same bytes.
  std::string out = codec.Blank();
  for (size_t i = 0; i < l.fields.size(); ++i) {
    ASSERT_TRUE(codec.Decode(rec, static_cast<int>(i), &v).ok());
    ASSERT_TRUE(codec.Encode(v, static_cast<int>(i), &out).ok()) << l.fields[i].name;
  }
  EXPECT_EQ(out, rec);
  // Bad bytes: invalid packed nibble, bad zoned sign, unmappable character, too long.
  std::string bad = rec;
  bad[9] = '\x3A';
  Status s = codec.Decode(bad, l.Find("SALDO"), &v);
  EXPECT_EQ(s.reason(), "INVALID_PACKED_DECIMAL");
  EXPECT_EQ(s.field(), "SALDO");
  bad = rec;
  bad[18] = '\x33';
  s = codec.Decode(bad, l.Find("BETRAG"), &v);
  EXPECT_EQ(s.reason(), "INVALID_ZONED_DECIMAL");
  v.set_string_value("Preis €");
  s = codec.Encode(v, l.Find("NAME"), &out);
  EXPECT_EQ(s.reason(), "UNMAPPABLE_CHARACTER");
  EXPECT_EQ(s.field(), "NAME");
  v.set_string_value("Zu langer Name");
  EXPECT_EQ(codec.Encode(v, l.Find("NAME"), &out).reason(), "VALUE_TOO_LONG");
  v.set_int_value(100000);
  EXPECT_EQ(codec.Encode(v, l.Find("SALDO"), &out).reason(), "NUMBER_OUT_OF_RANGE");
}

}  // namespace
}  // namespace fachadapter::flatfile
