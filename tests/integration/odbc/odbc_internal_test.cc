// Tests of the ODBC connector's pure building blocks (decimal text, dates, LIKE patterns,
// secret redaction, SQLSTATE mapping, type mapping), linked from its static library. The
// behaviour against a real database is covered by odbc_connector_test.cc.
#include <gtest/gtest.h>

#include <string>

#include "catalog.h"
#include "odbc_handles.h"
#include "odbc_settings.h"
#include "sql_builder.h"
#include "value_codec.h"

namespace fachadapter::odbc {
namespace {

std::string Canon(std::string_view text, int scale = 0) {
  char buf[200];
  size_t n = CanonicalDecimal(text, scale, buf, sizeof buf);
  return std::string(buf, n);
}

TEST(CanonicalDecimalTest, KeepsEveryDigitAndTheScale) {
  EXPECT_EQ(Canon("12345678901234567.89", 2), "12345678901234567.89");
  EXPECT_EQ(Canon("1234.5", 2), "1234.50");
  EXPECT_EQ(Canon("10", 2), "10.00");
  EXPECT_EQ(Canon(".5", 0), "0.5");
  EXPECT_EQ(Canon("-0.00", 2), "0.00");
  EXPECT_EQ(Canon("+007.250", 0), "7.250");
  EXPECT_EQ(Canon("7.250", 3), "7.250");
  EXPECT_EQ(Canon("  42  ", 0), "42");
  EXPECT_EQ(Canon("1.2345678901234568e+16", 2), "12345678901234568.00");
  EXPECT_EQ(Canon("1.5E-3", 0), "0.0015");
  EXPECT_EQ(Canon("-1.25e1", 1), "-12.5");
  EXPECT_EQ(Canon("0.1000000000000000055511151231257827", 2), "0.1000000000000000055511151231257827");
  EXPECT_EQ(Canon("", 0), "");
  EXPECT_EQ(Canon("abc", 0), "");
  EXPECT_EQ(Canon("1.2.3", 0), "");
  EXPECT_EQ(Canon("1e", 0), "");
  EXPECT_EQ(Canon("1,5", 0), "");
}

TEST(DateCodecTest, DaysRoundTripAndTimestampsSplit) {
  for (int64_t days : {-719468LL, -1LL, 0LL, 19782LL, 2932896LL}) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    EXPECT_EQ(DaysFromCivil(y, m, d), days);
  }
  v1::Timestamp ts;
  ts.set_seconds(-1);  // 1969-12-31 23:59:59
  ts.set_nanos(5);
  SQL_TIMESTAMP_STRUCT s = ValueToTimestamp(ts);
  EXPECT_EQ(s.year, 1969);
  EXPECT_EQ(s.month, 12);
  EXPECT_EQ(s.day, 31);
  EXPECT_EQ(s.hour, 23);
  EXPECT_EQ(s.second, 59);
  EXPECT_EQ(s.fraction, 5u);
  v1::Value back;
  TimestampToValue(s, &back);
  EXPECT_EQ(back.timestamp_value().seconds(), -1);

  v1::Value t;
  ASSERT_TRUE(ParseTimeText("17:45:30.5", &t));
  EXPECT_EQ(t.time_value().nanos(), 500000000);
  EXPECT_TRUE(ParseTimeText("08:30", &t));
  EXPECT_FALSE(ParseTimeText("25:00:00", &t));
  EXPECT_FALSE(ParseTimeText("8:30:00", &t));
  EXPECT_EQ(TimeToText(t.time_value()), "08:30:00");
}

TEST(ValidateTemporalTest, RejectsImpossibleDates) {
  v1::Value v;
  v.mutable_date_value()->set_year(2023);
  v.mutable_date_value()->set_month(2);
  v.mutable_date_value()->set_day(29);
  Status s = ValidateTemporal(v, "beginn");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "beginn");
  v.mutable_date_value()->set_year(2024);
  EXPECT_TRUE(ValidateTemporal(v, "beginn").ok());
}

TEST(LikePatternTest, TranslatesTheApiEscapeToThePortableOne) {
  EXPECT_EQ(TranslateLikePattern("100\\%%"), "100!%%");
  EXPECT_EQ(TranslateLikePattern("a\\_b"), "a!_b");
  EXPECT_EQ(TranslateLikePattern("back\\\\slash"), "back\\slash");
  EXPECT_EQ(TranslateLikePattern("wow!"), "wow!!");
  EXPECT_EQ(PrefixPattern("50%_off!"), "50!%!_off!!%");
}

TEST(RedactSecretsTest, StripsPasswordsFromConnectionStringsAndDiagnostics) {
  EXPECT_EQ(RedactSecrets("DSN=x;UID=u;PWD=secret;Port=5"), "DSN=x;UID=u;PWD=***;Port=5");
  EXPECT_EQ(RedactSecrets("Driver={PostgreSQL};password={a;b}}c};Server=h"),
            "Driver={PostgreSQL};password=***;Server=h");
  EXPECT_EQ(RedactSecrets("pwd=x"), "pwd=***");
  RegisterSecret("s3cr3t-value");
  EXPECT_EQ(RedactSecrets("login failed for s3cr3t-value"), "login failed for ***");
}

TEST(SqlStateTest, MapsClassesToCodes) {
  std::string reason;
  EXPECT_EQ(SqlStateToCode("08001", "", &reason), StatusCode::kUnavailable);
  EXPECT_EQ(SqlStateToCode("40001", "", &reason), StatusCode::kAborted);
  EXPECT_EQ(SqlStateToCode("40P01", "", &reason), StatusCode::kAborted);
  EXPECT_EQ(SqlStateToCode("23505", "", &reason), StatusCode::kAlreadyExists);
  EXPECT_EQ(reason, "DUPLICATE_KEY");
  EXPECT_EQ(SqlStateToCode("23000", "UNIQUE constraint failed: t.id", &reason), StatusCode::kAlreadyExists);
  EXPECT_EQ(SqlStateToCode("23502", "null value violates not-null constraint", &reason),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqlStateToCode("HY000", "NOT NULL constraint failed: t.x", &reason), StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqlStateToCode("22003", "", &reason), StatusCode::kInvalidArgument);
  EXPECT_EQ(SqlStateToCode("IM002", "", &reason), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reason, "ODBC_DRIVER_NOT_FOUND");
  EXPECT_EQ(SqlStateToCode("01000", "[unixODBC][Driver Manager]Can't open lib 'x'", &reason),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqlStateToCode("42S02", "", &reason), StatusCode::kUnknown);
}

TEST(TypeMappingTest, ExactNumericNamesWinOverTheDriversDataType) {
  Column c;
  c.sql_type = SQL_VARCHAR;  // what the SQLite driver says for DECIMAL(20,2)
  c.type_name = "DECIMAL(20,2)";
  MapColumnType(&c, 2, 10, false);
  EXPECT_EQ(c.type, v1::FIELD_TYPE_DECIMAL);
  EXPECT_EQ(c.precision, 20);
  EXPECT_EQ(c.scale, 2);

  Column n;
  n.sql_type = SQL_NUMERIC;  // psqlODBC, MariaDB
  n.type_name = "numeric";
  MapColumnType(&n, 12, 3, false);
  EXPECT_EQ(n.type, v1::FIELD_TYPE_DECIMAL);
  EXPECT_EQ(n.native_type, "numeric(12,3)");

  Column t;
  t.sql_type = SQL_LONGVARCHAR;
  t.type_name = "text";
  MapColumnType(&t, 0, 0, true);
  EXPECT_EQ(t.type, v1::FIELD_TYPE_STRING);
  EXPECT_TRUE(t.long_data);

  Column v;
  v.sql_type = SQL_WVARCHAR;
  v.type_name = "nvarchar";
  MapColumnType(&v, 40, 0, true);
  EXPECT_EQ(v.native_type, "nvarchar(40)");
  EXPECT_FALSE(v.long_data);

  Column b;
  b.sql_type = SQL_BIT;
  b.type_name = "bool";
  MapColumnType(&b, 1, 0, true);
  EXPECT_EQ(b.type, v1::FIELD_TYPE_BOOL);
}

TEST(SettingsTest, ParsesAndValidates) {
  google::protobuf::Struct s;
  (*s.mutable_fields())["connection_string"].set_string_value("DSN=x");
  (*s.mutable_fields())["batch_size"].set_string_value("250");
  auto r = ParseSettings(s);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->batch_size, 250);
  EXPECT_EQ(r->pool_size, 4);
  (*s.mutable_fields())["batch_size"].set_number_value(1.5);
  EXPECT_EQ(ParseSettings(s).status().field(), "batch_size");
  (*s.mutable_fields())["batch_size"].set_number_value(250);

  EXPECT_TRUE(r->fetch_ahead);
  (*s.mutable_fields())["fetch_ahead"].set_bool_value(false);
  auto off = ParseSettings(s);
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_FALSE(off->fetch_ahead);
  (*s.mutable_fields())["fetch_ahead"].set_string_value("no");
  Status bad = ParseSettings(s).status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.reason(), "INVALID_SETTING");
  EXPECT_EQ(bad.field(), "fetch_ahead");
  EXPECT_NE(bad.message().find("true or false"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace fachadapter::odbc
