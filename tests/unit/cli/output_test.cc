// Output formats: table alignment by code points, CSV quoting, JSON escaping.
#include "output.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "fachadapter/values.h"

namespace fachadapter::cli {
namespace {

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
v1::Value D(const std::string& s) {
  v1::Value v;
  v.mutable_decimal_value()->set_value(s);
  return v;
}
v1::Value Null() {
  v1::Value v;
  v.set_null_value(v1::NULL_VALUE);
  return v;
}

google::protobuf::RepeatedPtrField<v1::Value> Row(std::vector<v1::Value> values) {
  google::protobuf::RepeatedPtrField<v1::Value> r;
  for (auto& v : values) *r.Add() = std::move(v);
  return r;
}

std::string Render(OutputFormat format, const std::vector<Column>& columns,
                   const std::vector<std::vector<v1::Value>>& rows, size_t block = kTableBlockRows) {
  std::ostringstream out;
  auto w = RecordWriter::Create(format, out, block);
  w->Begin(columns);
  for (const auto& r : rows) w->Write(Row(r));
  w->Finish();
  EXPECT_EQ(w->rows(), rows.size());
  return out.str();
}

const std::vector<Column> kColumns = {{"nr", v1::FIELD_TYPE_INT64},
                                      {"name", v1::FIELD_TYPE_STRING},
                                      {"umsatz", v1::FIELD_TYPE_DECIMAL},
                                      {"ort", v1::FIELD_TYPE_STRING}};

TEST(TableOutput, AlignsByCodePointsWithUmlauts) {
  std::string table = Render(OutputFormat::kTable, kColumns,
                             {{I(1), S("Müller"), D("1234.50"), S("Köln")},
                              {I(1002), S("Weißgerber Söhne"), D("7.00"), S("Berlin")},
                              {I(3), Null(), D("-0.5"), S("Zürich")}});
  EXPECT_EQ(table,
            "  nr  name               umsatz  ort\n"
            "----  ----------------  -------  ------\n"
            "   1  Müller            1234.50  Köln\n"
            "1002  Weißgerber Söhne     7.00  Berlin\n"
            "   3  NULL                 -0.5  Zürich\n");
}

TEST(TableOutput, HeaderIsLeftAlignedAndNumbersRight) {
  std::string table =
      Render(OutputFormat::kTable, {{"betriebsnummer", v1::FIELD_TYPE_INT64}}, {{I(7)}});
  EXPECT_EQ(table,
            "betriebsnummer\n"
            "--------------\n"
            "             7\n");
}

TEST(TableOutput, WidthsAreFixedAfterTheFirstBlock) {
  std::vector<Column> cols = {{"a", v1::FIELD_TYPE_STRING}, {"b", v1::FIELD_TYPE_STRING}};
  std::string table = Render(OutputFormat::kTable, cols,
                             {{S("xx"), S("1")}, {S("y"), S("2")}, {S("zzzzz"), S("3")}},
                             /*block=*/2);
  EXPECT_EQ(table,
            "a   b\n"
            "--  -\n"
            "xx  1\n"
            "y   2\n"
            "zzzzz  3\n");
}

TEST(TableOutput, ControlCharactersAreVisibleAndRowsStayOnOneLine) {
  std::string table = Render(OutputFormat::kTable, {{"t", v1::FIELD_TYPE_STRING}},
                             {{S("Zeile 1\nZeile 2\tTab\x01")}});
  EXPECT_EQ(table, "t\n-------------------------\nZeile 1\\nZeile 2\\tTab\\x01\n");
}

TEST(TableOutput, EmptyResult) {
  EXPECT_EQ(Render(OutputFormat::kTable, {{"name", v1::FIELD_TYPE_STRING}}, {}),
            "name\n----\n(no records)\n");
}

TEST(TableOutput, LongValuesAreNotCut) {
  std::string long_text(kTableMaxColumnWidth + 10, 'x');
  std::string table = Render(OutputFormat::kTable,
                             {{"a", v1::FIELD_TYPE_STRING}, {"b", v1::FIELD_TYPE_STRING}},
                             {{S(long_text), S("1")}, {S("k"), S("2")}});
  EXPECT_NE(table.find(long_text + "  1\n"), std::string::npos) << table;
  EXPECT_NE(table.find("k" + std::string(kTableMaxColumnWidth - 1, ' ') + "  2\n"),
            std::string::npos)
      << table;
}

TEST(CsvOutput, QuotesSeparatorsQuotesAndNewlines) {
  std::string csv = Render(OutputFormat::kCsv, kColumns,
                           {{I(1), S("Müller; Söhne"), D("1234.50"), S("a,b")},
                            {I(2), S("Sagt \"Moin\""), Null(), S("Zeile 1\nZeile 2")},
                            {I(3), S(""), D("0"), S(" Rand ")}});
  EXPECT_EQ(csv,
            "nr,name,umsatz,ort\r\n"
            "1,\"Müller; Söhne\",1234.50,\"a,b\"\r\n"
            "2,\"Sagt \"\"Moin\"\"\",,\"Zeile 1\nZeile 2\"\r\n"
            "3,\"\",0,\" Rand \"\r\n");
}

TEST(CsvOutput, Field) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("Grüße"), "Grüße");
  EXPECT_EQ(CsvField(""), "\"\"");
  EXPECT_EQ(CsvField("a;b"), "\"a;b\"");
  EXPECT_EQ(CsvField("cr\rlf"), "\"cr\rlf\"");
  EXPECT_EQ(CsvField("\""), "\"\"\"\"");
}

TEST(JsonOutput, OneObjectPerLineWithTypedValues) {
  v1::Value dbl, boolean, date, bytes, nan;
  dbl.set_double_value(0.1);
  boolean.set_bool_value(true);
  date.mutable_date_value()->set_year(2019);
  date.mutable_date_value()->set_month(4);
  date.mutable_date_value()->set_day(1);
  bytes.set_bytes_value(std::string(40, '\xab'));
  nan.set_double_value(NAN);
  std::string hex;
  for (int i = 0; i < 40; ++i) hex += "ab";
  std::string json = Render(
      OutputFormat::kJson,
      {{"nr", v1::FIELD_TYPE_INT64}, {"name", v1::FIELD_TYPE_STRING},
       {"umsatz", v1::FIELD_TYPE_DECIMAL}, {"q", v1::FIELD_TYPE_DOUBLE},
       {"ok", v1::FIELD_TYPE_BOOL}, {"beginn", v1::FIELD_TYPE_DATE},
       {"ort", v1::FIELD_TYPE_STRING}, {"blob", v1::FIELD_TYPE_BYTES}},
      {{I(-9223372036854775807 - 1), S("Müller \"Söhne\"\\\n\t\x01"), D("1234.50"), dbl, boolean,
        date, Null(), bytes},
       {I(2), S("€"), D("-0.00"), nan, Null(), Null(), S(""), Null()}});
  EXPECT_EQ(json,
            "{\"nr\":-9223372036854775808,\"name\":\"Müller \\\"Söhne\\\"\\\\\\n\\t\\u0001\","
            "\"umsatz\":\"1234.50\",\"q\":0.1,\"ok\":true,\"beginn\":\"2019-04-01\",\"ort\":null,"
            "\"blob\":\"0x" + hex + "\"}\n"
            "{\"nr\":2,\"name\":\"€\",\"umsatz\":\"-0.00\",\"q\":\"NaN\",\"ok\":null,"
            "\"beginn\":null,\"ort\":\"\",\"blob\":null}\n");
}

TEST(JsonOutput, Strings) {
  EXPECT_EQ(JsonString("Grüße"), "\"Grüße\"");
  EXPECT_EQ(JsonString("\b\f\r\x1f"), "\"\\b\\f\\r\\u001f\"");
  EXPECT_EQ(JsonString("/"), "\"/\"");
}

TEST(OutputFormat, Parse) {
  OutputFormat f;
  ASSERT_TRUE(ParseOutputFormat("json", &f));
  EXPECT_EQ(f, OutputFormat::kJson);
  ASSERT_TRUE(ParseOutputFormat("csv", &f));
  EXPECT_EQ(f, OutputFormat::kCsv);
  ASSERT_TRUE(ParseOutputFormat("table", &f));
  EXPECT_EQ(f, OutputFormat::kTable);
  EXPECT_FALSE(ParseOutputFormat("xml", &f));
  EXPECT_FALSE(ParseOutputFormat("JSON", &f));
}

TEST(Output, DisplayWidthAndEscapes) {
  EXPECT_EQ(DisplayWidth("Müller"), 6u);
  EXPECT_EQ(DisplayWidth("€𝄞"), 2u);
  EXPECT_EQ(EscapeForTable("a\x7f"), "a\\x7f");
}

}  // namespace
}  // namespace fachadapter::cli
