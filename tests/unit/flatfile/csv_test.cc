// CSV reading per RFC 4180 and dialects.
#include <gtest/gtest.h>

#include "csv.h"

namespace fachadapter::flatfile {
namespace {

std::vector<std::vector<std::string>> ReadAll(std::string_view data, CsvDialect d) {
  CsvReader r(data, d);
  CsvRow row;
  std::vector<std::vector<std::string>> out;
  CsvReader::Step s;
  while ((s = r.Next(&row)) == CsvReader::Step::kRow) {
    out.emplace_back(row.fields.begin(), row.fields.end());
  }
  EXPECT_EQ(s, CsvReader::Step::kEnd) << r.error();
  return out;
}

using Rows = std::vector<std::vector<std::string>>;

TEST(Csv, Rfc4180QuotingAndLineBreaks) {
  CsvDialect d;
  EXPECT_EQ(ReadAll("a,b,c\r\n1,\"x,y\",\"he said \"\"hi\"\"\"\r\n2,\"line1\r\nline2\",\r\n", d),
            (Rows{{"a", "b", "c"}, {"1", "x,y", "he said \"hi\""}, {"2", "line1\r\nline2", ""}}));
  EXPECT_EQ(ReadAll("a,b\n1,2", d), (Rows{{"a", "b"}, {"1", "2"}}));  // no final line break
  EXPECT_EQ(ReadAll("\xEF\xBB\xBF" "a;b\n\"\";x\n", CsvDialect{';'}), (Rows{{"a", "b"}, {"", "x"}}));
}

TEST(Csv, Dialects) {
  EXPECT_EQ(ReadAll("a\tb\n1\t2\n", CsvDialect{'\t'}), (Rows{{"a", "b"}, {"1", "2"}}));
  EXPECT_EQ(ReadAll("a|b\n1|2,5\n", CsvDialect{'|'}), (Rows{{"a", "b"}, {"1", "2,5"}}));
  EXPECT_EQ(ReadAll("Name;Betrag\nMüller;1.234,56\n", CsvDialect{';'}),
            (Rows{{"Name", "Betrag"}, {"Müller", "1.234,56"}}));
}

TEST(Csv, ErrorsWithOffsets) {
  CsvDialect d;
  CsvReader r("a,b\n1,\"unterminated\n", d);
  CsvRow row;
  ASSERT_EQ(r.Next(&row), CsvReader::Step::kRow);
  ASSERT_EQ(r.Next(&row), CsvReader::Step::kError);
  EXPECT_EQ(r.error_offset(), 6u);
  CsvReader r2("\"a\"x,b\n", d);
  ASSERT_EQ(r2.Next(&row), CsvReader::Step::kError);
  EXPECT_EQ(r2.error_offset(), 3u);
}

TEST(Csv, WritesQuotedWhenNeeded) {
  CsvDialect d{';'};
  std::string out;
  AppendCsvField("plain", d, &out);
  out += ';';
  AppendCsvField("a;b", d, &out);
  out += ';';
  AppendCsvField("say \"x\"", d, &out);
  out += ';';
  AppendCsvField("two\nlines", d, &out);
  EXPECT_EQ(out, "plain;\"a;b\";\"say \"\"x\"\"\";\"two\nlines\"");
  EXPECT_EQ(DetectLineEnding("a\r\nb"), "\r\n");
  EXPECT_EQ(DetectLineEnding("a\nb"), "\n");
}

}  // namespace
}  // namespace fachadapter::flatfile
