// The CLI's filter syntax: every operator, precedence, quoting, typing against the schema,
// and where errors point.
#include "filter_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "fachadapter/values.h"
#include "test_schema.h"

namespace fachadapter::cli {
namespace {

using testing::TestSchema;

// A compact, type-tagged rendering of a filter tree, so a test states the whole tree.
std::string ShowValue(const v1::Value& v) {
  return std::string(FieldTypeName(TypeOf(v))) + ":" + ValueToString(v);
}

std::string Show(const v1::Filter& f) {
  auto list = [](const char* name, const v1::FilterList& l) {
    std::string s = std::string(name) + "(";
    for (int i = 0; i < l.filters_size(); ++i) s += (i ? "," : "") + Show(l.filters(i));
    return s + ")";
  };
  switch (f.kind_case()) {
    case v1::Filter::kField: {
      const auto& c = f.field();
      std::string op = v1::Operator_Name(c.op()).substr(9);  // drop "OPERATOR_"
      std::string s = op + "(" + c.field();
      if (c.has_value()) s += "," + ShowValue(c.value());
      for (const auto& v : c.values()) s += "," + ShowValue(v);
      return s + ")";
    }
    case v1::Filter::kAnd: return list("and", f.and_());
    case v1::Filter::kOr: return list("or", f.or_());
    case v1::Filter::kNot: return "not(" + Show(f.not_()) + ")";
    default: return "?";
  }
}

std::string Parse(const std::string& text) {
  v1::Filter f;
  FilterError e;
  if (!ParseFilter(text, TestSchema(), &f, &e)) {
    return "error@" + std::to_string(e.column) + ": " + e.message;
  }
  return Show(f);
}

FilterError ParseError(const std::string& text) {
  v1::Filter f;
  FilterError e;
  EXPECT_FALSE(ParseFilter(text, TestSchema(), &f, &e)) << text;
  return e;
}

TEST(FilterParser, EveryComparisonOperator) {
  EXPECT_EQ(Parse("ort = 'Berlin'"), "EQ(ort,string:Berlin)");
  EXPECT_EQ(Parse("ort == 'Berlin'"), "EQ(ort,string:Berlin)");
  EXPECT_EQ(Parse("ort != 'Berlin'"), "NE(ort,string:Berlin)");
  EXPECT_EQ(Parse("ort <> 'Berlin'"), "NE(ort,string:Berlin)");
  EXPECT_EQ(Parse("betriebsnummer < 5"), "LT(betriebsnummer,int64:5)");
  EXPECT_EQ(Parse("betriebsnummer <= 5"), "LE(betriebsnummer,int64:5)");
  EXPECT_EQ(Parse("betriebsnummer > -5"), "GT(betriebsnummer,int64:-5)");
  EXPECT_EQ(Parse("betriebsnummer>=5"), "GE(betriebsnummer,int64:5)");
}

TEST(FilterParser, InLikePrefixAndNull) {
  EXPECT_EQ(Parse("betriebsnummer in (1, 2,3)"), "IN(betriebsnummer,int64:1,int64:2,int64:3)");
  EXPECT_EQ(Parse("ort in ('Berlin')"), "IN(ort,string:Berlin)");
  EXPECT_EQ(Parse("name like 'Mü%'"), "LIKE(name,string:Mü%)");
  EXPECT_EQ(Parse("ort prefix 'Ber'"), "PREFIX(ort,string:Ber)");
  EXPECT_EQ(Parse("ort startswith \"Ber\""), "PREFIX(ort,string:Ber)");
  EXPECT_EQ(Parse("beginn is null"), "IS_NULL(beginn)");
  EXPECT_EQ(Parse("beginn is not null"), "IS_NOT_NULL(beginn)");
  EXPECT_EQ(Parse("ort not in ('A', 'B')"), "not(IN(ort,string:A,string:B))");
  EXPECT_EQ(Parse("name not like '%GmbH'"), "not(LIKE(name,string:%GmbH))");
  EXPECT_EQ(Parse("ort not prefix 'Ber'"), "not(PREFIX(ort,string:Ber))");
}

TEST(FilterParser, KeywordsAreCaseInsensitive) {
  // Field names are not keywords: they match the schema exactly.
  EXPECT_EQ(ParseError("ORT = 'x'").field, "ORT");
  EXPECT_EQ(Parse("ort Is NOT Null AND NOT aktiv = TRUE Or ort LIKE 'x'"),
            "or(and(IS_NOT_NULL(ort),not(EQ(aktiv,bool:true))),LIKE(ort,string:x))");
}

TEST(FilterParser, PrecedenceNotOverAndOverOr) {
  EXPECT_EQ(Parse("aktiv = true or ort = 'a' and ort = 'b'"),
            "or(EQ(aktiv,bool:true),and(EQ(ort,string:a),EQ(ort,string:b)))");
  EXPECT_EQ(Parse("ort = 'a' and ort = 'b' or aktiv = true"),
            "or(and(EQ(ort,string:a),EQ(ort,string:b)),EQ(aktiv,bool:true))");
  EXPECT_EQ(Parse("not aktiv = true and ort = 'a'"),
            "and(not(EQ(aktiv,bool:true)),EQ(ort,string:a))");
  EXPECT_EQ(Parse("not not aktiv = true"), "not(not(EQ(aktiv,bool:true)))");
}

TEST(FilterParser, ParenthesesGroup) {
  EXPECT_EQ(Parse("(aktiv = true or ort = 'a') and ort = 'b'"),
            "and(or(EQ(aktiv,bool:true),EQ(ort,string:a)),EQ(ort,string:b))");
  EXPECT_EQ(Parse("not (ort = 'a' or ort = 'b')"),
            "not(or(EQ(ort,string:a),EQ(ort,string:b)))");
  EXPECT_EQ(Parse("((ort = 'a'))"), "EQ(ort,string:a)");
}

TEST(FilterParser, ChainsOfTheSameOperatorAreOneList) {
  EXPECT_EQ(Parse("ort = 'a' and ort = 'b' and ort = 'c'"),
            "and(EQ(ort,string:a),EQ(ort,string:b),EQ(ort,string:c))");
  EXPECT_EQ(Parse("ort = 'a' or ort = 'b' or ort = 'c'"),
            "or(EQ(ort,string:a),EQ(ort,string:b),EQ(ort,string:c))");
}

TEST(FilterParser, QuotingAndEscapes) {
  EXPECT_EQ(Parse(R"(name = 'it\'s')"), "EQ(name,string:it's)");
  EXPECT_EQ(Parse(R"(name = "say \"hi\"")"), "EQ(name,string:say \"hi\")");
  EXPECT_EQ(Parse(R"(name = "it's")"), "EQ(name,string:it's)");
  EXPECT_EQ(Parse(R"(name = 'a\\b')"), "EQ(name,string:a\\b)");
  EXPECT_EQ(Parse(R"(name = 'Stra\u00dfe')"), "EQ(name,string:Straße)");
  EXPECT_EQ(Parse(R"(name = 'a\tb\nc')"), "EQ(name,string:a\tb\nc)");
  EXPECT_EQ(Parse("name = 'Müller, Weiß & Söhne'"), "EQ(name,string:Müller, Weiß & Söhne)");
  EXPECT_EQ(Parse("name = ''"), "EQ(name,string:)");
  // LIKE escapes reach the pattern as they are.
  EXPECT_EQ(Parse(R"(name like '100\%')"), "LIKE(name,string:100\\%)");
  EXPECT_EQ(Parse(R"(name like 'a\_b')"), "LIKE(name,string:a\\_b)");
}

TEST(FilterParser, LiteralsAreTypedByTheField) {
  // A number or date for a string field is its text as written.
  EXPECT_EQ(Parse("ort = 42"), "EQ(ort,string:42)");
  EXPECT_EQ(Parse("ort = 007"), "EQ(ort,string:007)");
  EXPECT_EQ(Parse("ort = 2019-04-01"), "EQ(ort,string:2019-04-01)");
  // Quoted text for a typed field is read as that type.
  EXPECT_EQ(Parse("betriebsnummer = \"42\""), "EQ(betriebsnummer,int64:42)");
  EXPECT_EQ(Parse("beginn >= '2019-04-01'"), "GE(beginn,date:2019-04-01)");
  EXPECT_EQ(Parse("aktiv = 'false'"), "EQ(aktiv,bool:false)");
  EXPECT_EQ(Parse("daten = '0x00ff'"), "EQ(daten,bytes:0x00ff)");
  EXPECT_EQ(Parse("beginn = 2019-04-01"), "EQ(beginn,date:2019-04-01)");
  EXPECT_EQ(Parse("oeffnung >= 12:30:00"), "GE(oeffnung,time:12:30:00)");
  EXPECT_EQ(Parse("oeffnung < 08:15"), "LT(oeffnung,time:08:15:00)");
  EXPECT_EQ(Parse("geaendert > 2019-04-01T12:30:00Z"),
            "GT(geaendert,timestamp:2019-04-01T12:30:00Z)");
  EXPECT_EQ(Parse("geaendert > 2019-04-01T12:30:00+02:00"),
            "GT(geaendert,timestamp:2019-04-01T12:30:00+02:00)");
  EXPECT_EQ(Parse("geaendert < 2019-04-01T12:30:00.25-05:30"),
            "LT(geaendert,timestamp:2019-04-01T12:30:00.250000000-05:30)");
  EXPECT_EQ(Parse("quote < 1e3"), "LT(quote,double:1000)");
  EXPECT_EQ(Parse("quote >= -0.5"), "GE(quote,double:-0.5)");
  EXPECT_EQ(Parse("aktiv = false"), "EQ(aktiv,bool:false)");
}

TEST(FilterParser, DecimalsStayExact) {
  EXPECT_EQ(Parse("umsatz = 1234.50"), "EQ(umsatz,decimal:1234.50)");
  EXPECT_EQ(Parse("umsatz > 12345678901234567890.123456789012345678"),
            "GT(umsatz,decimal:12345678901234567890.123456789012345678)");
  EXPECT_EQ(Parse("umsatz in (0.1, '0.10', -3)"),
            "IN(umsatz,decimal:0.1,decimal:0.10,decimal:-3)");
  FilterError e = ParseError("umsatz = 1e3");
  EXPECT_EQ(e.kind, FilterError::Kind::kSchema);
  EXPECT_EQ(e.field, "umsatz");
}

TEST(FilterParser, WrongTypeNamesFieldAndValue) {
  FilterError e = ParseError("betriebsnummer = 'abc'");
  EXPECT_EQ(e.kind, FilterError::Kind::kSchema);
  EXPECT_EQ(e.field, "betriebsnummer");
  EXPECT_EQ(e.column, 18u);
  EXPECT_NE(e.message.find("betriebsnummer"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("'abc'"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("int64"), std::string::npos) << e.message;

  EXPECT_EQ(ParseError("beginn = '2019-02-29'").field, "beginn");
  EXPECT_EQ(ParseError("betriebsnummer = 99999999999999999999").kind, FilterError::Kind::kSchema);
  EXPECT_EQ(ParseError("aktiv = 1").kind, FilterError::Kind::kSchema);
  EXPECT_EQ(ParseError("beginn = true").kind, FilterError::Kind::kSchema);
  EXPECT_EQ(ParseError("beginn = 12:00").kind, FilterError::Kind::kSchema);
  e = ParseError("betriebsnummer in (1, 'x')");
  EXPECT_EQ(e.column, 23u);
}

TEST(FilterParser, SchemaErrors) {
  FilterError e = ParseError("ort = 'a' and strasse = 'b'");
  EXPECT_EQ(e.kind, FilterError::Kind::kSchema);
  EXPECT_EQ(e.field, "strasse");
  EXPECT_EQ(e.column, 15u);
  EXPECT_NE(e.message.find("unknown field 'strasse'"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("Gewerbebetrieb"), std::string::npos) << e.message;

  e = ParseError("intern = 'x'");
  EXPECT_EQ(e.kind, FilterError::Kind::kSchema);
  EXPECT_NE(e.message.find("cannot be used in a filter"), std::string::npos) << e.message;

  e = ParseError("beginn like '2019%'");
  EXPECT_EQ(e.kind, FilterError::Kind::kSchema);
  EXPECT_EQ(e.column, 8u);
  EXPECT_NE(e.message.find("string fields only"), std::string::npos) << e.message;
  EXPECT_EQ(ParseError("betriebsnummer prefix '1'").kind, FilterError::Kind::kSchema);
}

TEST(FilterParser, SyntaxErrorsPointToTheColumn) {
  struct Case {
    const char* text;
    size_t column;
    const char* words;
  };
  const Case cases[] = {
      {"", 1, "empty"},
      {"ort = ", 7, "expected a value"},
      {"ort 'a'", 5, "expected an operator"},
      {"ort = 'a' and", 14, "expected a field name"},
      {"ort = 'a' ort = 'b'", 11, "expected 'and', 'or'"},
      {"ort = 'abc", 7, "unterminated string"},
      {"(ort = 'a'", 11, "expected ')'"},
      {"ort = 'a')", 10, "without a matching '('"},
      {"ort ~ 'a'", 5, "unexpected character '~'"},
      {"ort = Berlin", 7, "quote text"},
      {"ort = null", 7, "is null"},
      {"ort in ()", 9, "expected a value"},
      {"ort in ('a' 'b')", 13, "expected ',' or ')'"},
      {"ort in 'a'", 8, "expected '('"},
      {"ort is 'a'", 8, "expected 'null'"},
      {"ort = 'a\\q'", 9, "unknown escape"},
      {"ort = '\\u12'", 8, "four hex digits"},
      {"ort = '\\ud800'", 8, "surrogate"},
      {"ort ! 'a'", 5, "'!' must be followed by '='"},
      {"betriebsnummer = 12abc", 18, "not a number, date"},
      {"ort = 'x' and", 14, "expected a field name"},
  };
  for (const Case& c : cases) {
    FilterError e = ParseError(c.text);
    EXPECT_EQ(e.kind, FilterError::Kind::kSyntax) << c.text;
    EXPECT_EQ(e.column, c.column) << c.text << ": " << e.message;
    EXPECT_NE(e.message.find(c.words), std::string::npos) << c.text << ": " << e.message;
  }
}

TEST(FilterParser, ColumnsCountCodePointsNotBytes) {
  // "Müller" has a two-byte ü: the column of `x` is 21, its byte offset 21 (0-based).
  FilterError e = ParseError("name = 'Müller' and x = 1");
  EXPECT_EQ(e.column, 21u);
  EXPECT_EQ(e.offset, 21u);
  EXPECT_EQ(FormatFilterError("name = 'Müller' and x = 1", e),
            e.message + " at column 21\n  name = 'Müller' and x = 1\n                      ^");
}

TEST(FilterParser, CaretUnderTheMistake) {
  const std::string text = "ort = 'a' and\tbeginn >";
  FilterError e = ParseError(text);
  EXPECT_EQ(FormatFilterError(text, e),
            "expected a value for field 'beginn', found the end of the filter at column 23\n"
            "  ort = 'a' and beginn >\n"
            "                        ^");
}

TEST(FilterParser, NestingIsLimited) {
  std::string ok, too_deep;
  for (int i = 0; i < kMaxFilterDepth; ++i) ok += "(";
  ok += "aktiv = true";
  for (int i = 0; i < kMaxFilterDepth; ++i) ok += ")";
  EXPECT_EQ(Parse(ok), "EQ(aktiv,bool:true)");

  for (int i = 0; i <= kMaxFilterDepth; ++i) too_deep += "(";
  too_deep += "aktiv = true";
  for (int i = 0; i <= kMaxFilterDepth; ++i) too_deep += ")";
  FilterError e = ParseError(too_deep);
  EXPECT_EQ(e.column, static_cast<size_t>(kMaxFilterDepth) + 1);
  EXPECT_NE(e.message.find("nested too deeply"), std::string::npos) << e.message;

  std::string nots;
  for (int i = 0; i <= kMaxFilterDepth; ++i) nots += "not ";
  EXPECT_NE(ParseError(nots + "aktiv = true").message.find("nested too deeply"),
            std::string::npos);

  // Far deeper input is refused just the same, without exhausting the stack.
  std::string huge(60000, '(');
  EXPECT_EQ(ParseError(huge).kind, FilterError::Kind::kSyntax);
  // Long flat chains are fine: they do not nest.
  std::string chain = "ort = 'a'";
  for (int i = 0; i < 500; ++i) chain += " or ort = 'a'";
  v1::Filter f;
  FilterError err;
  ASSERT_TRUE(ParseFilter(chain, TestSchema(), &f, &err)) << err.message;
  EXPECT_EQ(f.or_().filters_size(), 501);
}

TEST(FilterParser, FieldLiteral) {
  v1::EntitySchema s = TestSchema();
  const v1::FieldSchema& name = s.fields(1);
  const v1::FieldSchema& umsatz = s.fields(4);
  const v1::FieldSchema& pflicht = s.fields(11);
  v1::Value v;
  FilterError e;
  ASSERT_TRUE(ParseFieldLiteral("null", name, &v, &e)) << e.message;
  EXPECT_TRUE(v.has_null_value());
  ASSERT_TRUE(ParseFieldLiteral("'null'", name, &v, &e)) << e.message;
  EXPECT_EQ(v.string_value(), "null");
  ASSERT_TRUE(ParseFieldLiteral(" 1234.50 ", umsatz, &v, &e)) << e.message;
  EXPECT_EQ(v.decimal_value().value(), "1234.50");
  EXPECT_FALSE(ParseFieldLiteral("null", pflicht, &v, &e));
  EXPECT_EQ(e.kind, FilterError::Kind::kSchema);
  EXPECT_FALSE(ParseFieldLiteral("'a' 'b'", name, &v, &e));
  EXPECT_EQ(e.kind, FilterError::Kind::kSyntax);
  EXPECT_EQ(e.column, 5u);
  EXPECT_FALSE(ParseFieldLiteral("'x'", umsatz, &v, &e));
  EXPECT_EQ(e.field, "umsatz");
}

}  // namespace
}  // namespace fachadapter::cli
