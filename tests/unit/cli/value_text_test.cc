// Typed values from text: exact decimals, calendar-checked dates, timestamps with offsets.
#include "value_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fachadapter/values.h"

namespace fachadapter::cli {
namespace {

v1::Value Ok(v1::FieldType type, const std::string& text) {
  Result<v1::Value> r = ParseValueText(type, text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? *r : v1::Value();
}

std::string Error(v1::FieldType type, const std::string& text) {
  Result<v1::Value> r = ParseValueText(type, text);
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) return {};
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().reason(), "TYPE_MISMATCH");
  return r.status().message();
}

TEST(ValueText, DecimalsAreExactText) {
  EXPECT_EQ(Ok(v1::FIELD_TYPE_DECIMAL, "1234.50").decimal_value().value(), "1234.50");
  EXPECT_EQ(Ok(v1::FIELD_TYPE_DECIMAL, "-0.001").decimal_value().value(), "-0.001");
  EXPECT_EQ(Ok(v1::FIELD_TYPE_DECIMAL, "+007.50").decimal_value().value(), "7.50");
  EXPECT_EQ(Ok(v1::FIELD_TYPE_DECIMAL, "0").decimal_value().value(), "0");
  EXPECT_EQ(Ok(v1::FIELD_TYPE_DECIMAL, "000").decimal_value().value(), "0");
  // Far beyond double precision: every digit survives.
  const std::string big = "123456789012345678901234567890.000000000000000000000000000001";
  EXPECT_EQ(Ok(v1::FIELD_TYPE_DECIMAL, big).decimal_value().value(), big);
  EXPECT_EQ(Ok(v1::FIELD_TYPE_DECIMAL, "0.1").decimal_value().value(), "0.1");
  for (const char* bad : {"", "-", ".5", "5.", "1e3", "1,50", "1.2.3", "12a", " 1", "+-1", "NaN"}) {
    std::string msg = Error(v1::FIELD_TYPE_DECIMAL, bad);
    EXPECT_NE(msg.find("is not a decimal"), std::string::npos) << bad << ": " << msg;
  }
  EXPECT_EQ(Error(v1::FIELD_TYPE_DECIMAL, "1,50"),
            "'1,50' is not a decimal (expected digits with an optional '.' and fraction, such "
            "as -1234.50)");
}

TEST(ValueText, Int64WithinRange) {
  EXPECT_EQ(Ok(v1::FIELD_TYPE_INT64, "42").int_value(), 42);
  EXPECT_EQ(Ok(v1::FIELD_TYPE_INT64, "+42").int_value(), 42);
  EXPECT_EQ(Ok(v1::FIELD_TYPE_INT64, "-9223372036854775808").int_value(), INT64_MIN);
  EXPECT_EQ(Ok(v1::FIELD_TYPE_INT64, "9223372036854775807").int_value(), INT64_MAX);
  EXPECT_NE(Error(v1::FIELD_TYPE_INT64, "9223372036854775808").find("out of the int64 range"),
            std::string::npos);
  EXPECT_EQ(Error(v1::FIELD_TYPE_INT64, "abc"),
            "'abc' is not an int64 (expected a whole number such as 42)");
  for (const char* bad : {"", "-", "+", "+-1", "12.0", "1e3", " 1", "0x10"}) {
    Error(v1::FIELD_TYPE_INT64, bad);
  }
}

TEST(ValueText, Dates) {
  v1::Value v = Ok(v1::FIELD_TYPE_DATE, "2019-04-01");
  EXPECT_EQ(v.date_value().year(), 2019);
  EXPECT_EQ(v.date_value().month(), 4);
  EXPECT_EQ(v.date_value().day(), 1);
  Ok(v1::FIELD_TYPE_DATE, "2020-02-29");
  Ok(v1::FIELD_TYPE_DATE, "2000-02-29");
  Ok(v1::FIELD_TYPE_DATE, "0001-01-01");
  Ok(v1::FIELD_TYPE_DATE, "9999-12-31");
  for (const char* bad : {"2019-02-29", "1900-02-29", "2019-04-31", "2019-13-01", "2019-00-10",
                          "0000-01-01", "2019-4-1", "20190401", "01.04.2019", "2019-04-01T00:00"}) {
    EXPECT_NE(Error(v1::FIELD_TYPE_DATE, bad).find("is not a date"), std::string::npos) << bad;
  }
}

TEST(ValueText, Times) {
  v1::Value v = Ok(v1::FIELD_TYPE_TIME, "12:30:05.5");
  EXPECT_EQ(v.time_value().hours(), 12);
  EXPECT_EQ(v.time_value().minutes(), 30);
  EXPECT_EQ(v.time_value().seconds(), 5);
  EXPECT_EQ(v.time_value().nanos(), 500000000);
  EXPECT_EQ(ValueToString(Ok(v1::FIELD_TYPE_TIME, "08:15")), "08:15:00");
  EXPECT_EQ(Ok(v1::FIELD_TYPE_TIME, "23:59:59.123456789").time_value().nanos(), 123456789);
  for (const char* bad : {"24:00", "12:60", "12:30:60", "1:30", "12:30:00.", "12:30:00.1234567890"}) {
    Error(v1::FIELD_TYPE_TIME, bad);
  }
}

TEST(ValueText, TimestampsWithOffsets) {
  // 2019-04-01T12:30:00Z is 1554121800 seconds after the epoch.
  v1::Value z = Ok(v1::FIELD_TYPE_TIMESTAMP, "2019-04-01T12:30:00Z");
  EXPECT_EQ(z.timestamp_value().seconds(), 1554121800);
  ASSERT_TRUE(z.timestamp_value().has_utc_offset_minutes());
  EXPECT_EQ(z.timestamp_value().utc_offset_minutes(), 0);

  v1::Value plus2 = Ok(v1::FIELD_TYPE_TIMESTAMP, "2019-04-01T12:30:00+02:00");
  EXPECT_EQ(plus2.timestamp_value().seconds(), 1554121800 - 7200);
  EXPECT_EQ(plus2.timestamp_value().utc_offset_minutes(), 120);
  EXPECT_EQ(ValueToString(plus2), "2019-04-01T12:30:00+02:00");

  v1::Value minus = Ok(v1::FIELD_TYPE_TIMESTAMP, "2019-04-01 12:30:00.000000001-0530");
  EXPECT_EQ(minus.timestamp_value().seconds(), 1554121800 + 5 * 3600 + 30 * 60);
  EXPECT_EQ(minus.timestamp_value().nanos(), 1);
  EXPECT_EQ(minus.timestamp_value().utc_offset_minutes(), -330);
  EXPECT_EQ(ValueToString(minus), "2019-04-01T12:30:00.000000001-05:30");

  // Without zone: a local timestamp, counted as if it were UTC, with no offset.
  v1::Value local = Ok(v1::FIELD_TYPE_TIMESTAMP, "2019-04-01T12:30");
  EXPECT_EQ(local.timestamp_value().seconds(), 1554121800);
  EXPECT_FALSE(local.timestamp_value().has_utc_offset_minutes());
  EXPECT_EQ(ValueToString(local), "2019-04-01T12:30:00");

  EXPECT_EQ(Ok(v1::FIELD_TYPE_TIMESTAMP, "1969-12-31T23:59:59Z").timestamp_value().seconds(), -1);
  EXPECT_EQ(Ok(v1::FIELD_TYPE_TIMESTAMP, "1970-01-01T01:00:00+01").timestamp_value().seconds(), 0);
  for (const char* bad : {"2019-04-01", "2019-04-01T", "2019-04-01T25:00:00Z",
                          "2019-04-01T12:30:00+24:00", "2019-04-01T12:30:00 +02:00",
                          "2019-04-01T12:30:00+2", "2019-02-30T00:00:00Z", "2019-04-01T12:30:00X"}) {
    EXPECT_NE(Error(v1::FIELD_TYPE_TIMESTAMP, bad).find("is not a timestamp"), std::string::npos)
        << bad;
  }
}

TEST(ValueText, DaysFromCivil) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(1, 1, 1), -719162);
}

TEST(ValueText, BoolDoubleStringBytes) {
  EXPECT_TRUE(Ok(v1::FIELD_TYPE_BOOL, "TRUE").bool_value());
  EXPECT_FALSE(Ok(v1::FIELD_TYPE_BOOL, "false").bool_value());
  Error(v1::FIELD_TYPE_BOOL, "1");
  Error(v1::FIELD_TYPE_BOOL, "ja");

  EXPECT_EQ(Ok(v1::FIELD_TYPE_DOUBLE, "0.1").double_value(), 0.1);
  EXPECT_EQ(Ok(v1::FIELD_TYPE_DOUBLE, "-2.5e-3").double_value(), -0.0025);
  EXPECT_EQ(Ok(v1::FIELD_TYPE_DOUBLE, "+3").double_value(), 3.0);
  EXPECT_TRUE(std::isnan(Ok(v1::FIELD_TYPE_DOUBLE, "NaN").double_value()));
  EXPECT_EQ(Ok(v1::FIELD_TYPE_DOUBLE, "-Infinity").double_value(), -INFINITY);
  Error(v1::FIELD_TYPE_DOUBLE, "1,5");
  Error(v1::FIELD_TYPE_DOUBLE, "0x10");
  Error(v1::FIELD_TYPE_DOUBLE, "inf");

  EXPECT_EQ(Ok(v1::FIELD_TYPE_STRING, " Grüße, \"Welt\" ").string_value(), " Grüße, \"Welt\" ");
  EXPECT_EQ(Ok(v1::FIELD_TYPE_STRING, "").string_value(), "");

  EXPECT_EQ(Ok(v1::FIELD_TYPE_BYTES, "0x00fFa0").bytes_value(), std::string("\x00\xff\xa0", 3));
  EXPECT_EQ(Ok(v1::FIELD_TYPE_BYTES, "0x").bytes_value(), "");
  Error(v1::FIELD_TYPE_BYTES, "0x0");
  Error(v1::FIELD_TYPE_BYTES, "00ff");
  Error(v1::FIELD_TYPE_BYTES, "0xzz");

  Error(v1::FIELD_TYPE_UNSPECIFIED, "x");
}

TEST(ValueText, ShapeChecks) {
  for (const char* n : {"1", "-1", "+1.5", "1e10", "1.5E-3"}) EXPECT_TRUE(LooksLikeNumber(n)) << n;
  for (const char* n : {"", "-", "1.", ".", "1e", "1x", "--1"}) EXPECT_FALSE(LooksLikeNumber(n)) << n;
  for (const char* t : {"2019-04-01", "12:30", "2019-04-01T12:30:00+02:00"}) {
    EXPECT_TRUE(LooksLikeTemporal(t)) << t;
  }
  EXPECT_FALSE(LooksLikeTemporal("2019-04"));
}

TEST(ValueText, FormatValue) {
  v1::Value d;
  d.set_double_value(0.1);
  EXPECT_EQ(FormatValue(d, false), "0.1");
  d.set_double_value(1e300);
  EXPECT_EQ(FormatValue(d, false), "1e+300");
  d.set_double_value(-INFINITY);
  EXPECT_EQ(FormatValue(d, false), "-Infinity");
  v1::Value b;
  b.set_bytes_value(std::string(40, '\x01'));
  EXPECT_EQ(FormatValue(b, false), ValueToString(b));  // shortened for the table
  EXPECT_EQ(FormatValue(b, true).size(), 2u + 80u);  // whole for json and csv
  v1::Value n;
  EXPECT_EQ(FormatValue(n, false), "NULL");
}

}  // namespace
}  // namespace fachadapter::cli
