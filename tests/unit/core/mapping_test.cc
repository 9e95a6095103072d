// The mapping layer: legacy shapes to modern types and back, and clear errors when a value
// does not convert.
#include <gtest/gtest.h>

#include "fachadapter/values.h"
#include "mapping_internal.h"

namespace fachadapter {
namespace {

connector::v1::RawField Raw(const std::string& name, v1::FieldType type, bool nullable = true) {
  connector::v1::RawField f;
  f.set_name(name);
  f.set_type(type);
  f.set_nullable(nullable);
  return f;
}

v1::Value S(const std::string& s) {
  v1::Value v;
  v.set_string_value(s);
  return v;
}

v1::Value Date(int y, int m, int d) {
  v1::Value v;
  v.mutable_date_value()->set_year(y);
  v.mutable_date_value()->set_month(m);
  v.mutable_date_value()->set_day(d);
  return v;
}

FieldMapping Make(FieldConfig cfg, v1::FieldType raw_type) {
  auto m = FieldMapping::Create(cfg, Raw(cfg.column, raw_type));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

TEST(MappingTest, LegacyDatesBothWays) {
  for (const auto& [format, text] : std::vector<std::pair<std::string, std::string>>{
           {"YYYYMMDD", "20190401"}, {"DD.MM.YYYY", "01.04.2019"}, {"YYYY-MM-DD", "2019-04-01"},
           {"DDMMYYYY", "01042019"}, {"YYMMDD", "190401"}}) {
    FieldConfig cfg;
    cfg.name = "beginn";
    cfg.column = "GEW_BEG_DAT";
    cfg.type = v1::FIELD_TYPE_DATE;
    cfg.format = format;
    FieldMapping m = Make(cfg, v1::FIELD_TYPE_STRING);
    v1::Value api, raw;
    ASSERT_TRUE(m.ToApi(S(text), &api).ok()) << format;
    EXPECT_EQ(ValueToString(api), "2019-04-01") << format;
    ASSERT_TRUE(m.ToRaw(api, &raw).ok()) << format;
    EXPECT_EQ(raw.string_value(), text) << format;
  }
}

TEST(MappingTest, BadDateNamesFieldAndValue) {
  FieldConfig cfg;
  cfg.name = "beginn";
  cfg.column = "GEW_BEG_DAT";
  cfg.type = v1::FIELD_TYPE_DATE;
  cfg.format = "YYYYMMDD";
  FieldMapping m = Make(cfg, v1::FIELD_TYPE_STRING);
  v1::Value api;
  Status s = m.ToApi(S("20190230"), &api);  // no 30 February
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.field(), "beginn");
  EXPECT_NE(s.message().find("'20190230'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("GEW_BEG_DAT"), std::string::npos) << s.message();
}

TEST(MappingTest, NullMarkersReadAsNullAndAreWrittenBack) {
  FieldConfig cfg;
  cfg.name = "ende";
  cfg.column = "GEW_END_DAT";
  cfg.type = v1::FIELD_TYPE_DATE;
  cfg.format = "YYYYMMDD";
  cfg.null_values = {"00000000", ""};
  FieldMapping m = Make(cfg, v1::FIELD_TYPE_STRING);
  for (const char* marker : {"00000000", "", "        "}) {
    v1::Value api;
    ASSERT_TRUE(m.ToApi(S(marker), &api).ok());
    EXPECT_TRUE(IsNull(api)) << "'" << marker << "'";
  }
  v1::Value null, raw;
  null.set_null_value(v1::NULL_VALUE);
  ASSERT_TRUE(m.ToRaw(null, &raw).ok());
  EXPECT_EQ(raw.string_value(), "00000000");
  EXPECT_TRUE(m.CanPushDown(v1::OPERATOR_EQ));
  EXPECT_FALSE(m.CanPushDown(v1::OPERATOR_LT));  // markers would sort among real dates
  EXPECT_FALSE(m.CanPushDown(v1::OPERATOR_IS_NULL));
  EXPECT_TRUE(m.sortable());                     // but '0...' markers sort first, like NULL
}

TEST(MappingTest, DecimalCommaIsExact) {
  FieldConfig cfg;
  cfg.name = "umsatz";
  cfg.column = "UMSATZ_TXT";
  cfg.type = v1::FIELD_TYPE_DECIMAL;
  cfg.decimal_separator = ",";
  cfg.grouping_separator = ".";
  FieldMapping m = Make(cfg, v1::FIELD_TYPE_STRING);
  v1::Value api, raw;
  ASSERT_TRUE(m.ToApi(S(" 12.345.678.901.234.567,89 "), &api).ok());
  EXPECT_EQ(api.decimal_value().value(), "12345678901234567.89");
  ASSERT_TRUE(m.ToApi(S("25,00-"), &api).ok());
  EXPECT_EQ(api.decimal_value().value(), "-25.00");
  v1::Value in;
  in.mutable_decimal_value()->set_value("1234567.50");
  ASSERT_TRUE(m.ToRaw(in, &raw).ok());
  EXPECT_EQ(raw.string_value(), "1.234.567,50");
  Status bad = m.ToApi(S("12,34,56"), &api);
  EXPECT_EQ(bad.code(), StatusCode::kDataLoss);
  EXPECT_FALSE(m.CanPushDown(v1::OPERATOR_EQ));  // '25,0' and '25,00' are the same amount
}

TEST(MappingTest, CodeMapsBothWaysAndRejectUnknownValues) {
  FieldConfig cfg;
  cfg.name = "rechtsform";
  cfg.column = "RF_CD";
  cfg.type = v1::FIELD_TYPE_STRING;
  cfg.codes = {{"1", "Einzelunternehmen"}, {"2", "GmbH"}};
  FieldMapping m = Make(cfg, v1::FIELD_TYPE_INT64);
  v1::Value raw, api;
  raw.set_int_value(2);
  ASSERT_TRUE(m.ToApi(raw, &api).ok());
  EXPECT_EQ(api.string_value(), "GmbH");
  ASSERT_TRUE(m.ToRaw(S("Einzelunternehmen"), &raw).ok());
  EXPECT_EQ(raw.int_value(), 1);
  Status s = m.ToRaw(S("AG"), &raw);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Einzelunternehmen, GmbH"), std::string::npos) << s.message();
  raw.set_int_value(9);
  EXPECT_EQ(m.ToApi(raw, &api).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(m.CanPushDown(v1::OPERATOR_IN));
  EXPECT_FALSE(m.CanPushDown(v1::OPERATOR_GT));
  EXPECT_FALSE(m.sortable());
}

TEST(MappingTest, TrimAndCharset) {
  FieldConfig cfg;
  cfg.name = "ort";
  cfg.column = "ORT";
  cfg.type = v1::FIELD_TYPE_STRING;
  cfg.trim = "right";
  cfg.charset = "ISO-8859-1";
  FieldMapping m = Make(cfg, v1::FIELD_TYPE_STRING);
  v1::Value api, raw;
  ASSERT_TRUE(m.ToApi(S("M\xfcnchen   "), &api).ok());
  EXPECT_EQ(api.string_value(), "München");
  ASSERT_TRUE(m.ToRaw(S("Gießen"), &raw).ok());
  EXPECT_EQ(raw.string_value(), "Gie\xdf" "en");
  Status s = m.ToRaw(S("Łódź"), &raw);  // not in Latin-1
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.reason(), "UNREPRESENTABLE_CHARACTER");
  EXPECT_FALSE(m.CanPushDown(v1::OPERATOR_EQ));
}

TEST(MappingTest, ImpliedScaleOverIntegers) {
  FieldConfig cfg;
  cfg.name = "betrag";
  cfg.column = "BETRAG_CT";
  cfg.type = v1::FIELD_TYPE_DECIMAL;
  cfg.scale = 2;
  FieldMapping m = Make(cfg, v1::FIELD_TYPE_INT64);
  v1::Value raw, api;
  raw.set_int_value(-5);
  ASSERT_TRUE(m.ToApi(raw, &api).ok());
  EXPECT_EQ(api.decimal_value().value(), "-0.05");
  api.mutable_decimal_value()->set_value("123.4");
  ASSERT_TRUE(m.ToRaw(api, &raw).ok());
  EXPECT_EQ(raw.int_value(), 12340);
  api.mutable_decimal_value()->set_value("1.234");
  EXPECT_EQ(m.ToRaw(api, &raw).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(m.CanPushDown(v1::OPERATOR_LT));
}

TEST(MappingTest, ImpossibleMappingsAreConfigErrors) {
  FieldConfig cfg;
  cfg.name = "x";
  cfg.column = "X";
  cfg.type = v1::FIELD_TYPE_DATE;
  auto m = FieldMapping::Create(cfg, Raw("X", v1::FIELD_TYPE_BYTES));
  EXPECT_TRUE(m.ok());  // bytes -> date via ISO text is allowed
  cfg.format = "QQ";
  m = FieldMapping::Create(cfg, Raw("X", v1::FIELD_TYPE_STRING));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("format 'QQ'"), std::string::npos);
  cfg.format.clear();
  cfg.charset = "NO-SUCH-CHARSET";
  cfg.type = v1::FIELD_TYPE_STRING;
  m = FieldMapping::Create(cfg, Raw("X", v1::FIELD_TYPE_STRING));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("NO-SUCH-CHARSET"), std::string::npos);
  FieldConfig d;
  d.name = "d";
  d.column = "D";
  d.type = v1::FIELD_TYPE_DECIMAL;
  EXPECT_FALSE(FieldMapping::Create(d, Raw("D", v1::FIELD_TYPE_DOUBLE)).ok());  // never via double
}

TEST(MappingTest, ClientValuesAreTypeChecked) {
  v1::Value out;
  Status s = CoerceToType(S("abc"), v1::FIELD_TYPE_INT64, "anzahl", &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.reason(), "TYPE_MISMATCH");
  EXPECT_EQ(s.field(), "anzahl");
  v1::Value i;
  i.set_int_value(5);
  ASSERT_TRUE(CoerceToType(i, v1::FIELD_TYPE_DECIMAL, "betrag", &out).ok());
  EXPECT_EQ(out.decimal_value().value(), "5");
  v1::Value d;
  d.set_double_value(0.1);
  EXPECT_FALSE(CoerceToType(d, v1::FIELD_TYPE_DECIMAL, "betrag", &out).ok());
  EXPECT_FALSE(CoerceToType(Date(2019, 2, 29), v1::FIELD_TYPE_DATE, "beginn", &out).ok());
  EXPECT_TRUE(CoerceToType(Date(2020, 2, 29), v1::FIELD_TYPE_DATE, "beginn", &out).ok());
}

}  // namespace
}  // namespace fachadapter
