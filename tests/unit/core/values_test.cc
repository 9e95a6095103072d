// Value ordering and in-memory filter evaluation: what every connector and the core share.
#include <gtest/gtest.h>

#include "fachadapter/filter_evaluator.h"
#include "fachadapter/values.h"

namespace fachadapter {
namespace {

v1::Value Dec(const std::string& s) {
  v1::Value v;
  v.mutable_decimal_value()->set_value(s);
  return v;
}
v1::Value Int(int64_t i) {
  v1::Value v;
  v.set_int_value(i);
  return v;
}
v1::Value Str(const std::string& s) {
  v1::Value v;
  v.set_string_value(s);
  return v;
}
v1::Value Null() {
  v1::Value v;
  v.set_null_value(v1::NULL_VALUE);
  return v;
}

TEST(ValuesTest, DecimalsCompareExactly) {
  EXPECT_EQ(CompareDecimal("12345678901234567.89", "12345678901234567.88"), 1);
  EXPECT_EQ(CompareDecimal("1.50", "1.5"), 0);
  EXPECT_EQ(CompareDecimal("-0.00", "0"), 0);
  EXPECT_EQ(CompareDecimal("-2", "-10"), 1);
  EXPECT_EQ(CompareDecimal("0010.1", "10.10"), 0);
  EXPECT_EQ(CompareDecimal("99.999", "100"), -1);
  EXPECT_EQ(*CompareValues(Int(10), Dec("9.99")), 1);
  EXPECT_EQ(*CompareValues(Dec("9223372036854775807.5"), Int(INT64_MAX)), 1);
  EXPECT_FALSE(CompareValues(Str("1"), Int(1)).has_value());
  EXPECT_FALSE(CompareValues(Null(), Null()).has_value());
}

TEST(ValuesTest, CanonicalDecimalSyntax) {
  EXPECT_TRUE(IsCanonicalDecimal("0"));
  EXPECT_TRUE(IsCanonicalDecimal("-12.50"));
  EXPECT_FALSE(IsCanonicalDecimal("12,50"));
  EXPECT_FALSE(IsCanonicalDecimal("1e5"));
  EXPECT_FALSE(IsCanonicalDecimal(".5"));
  EXPECT_FALSE(IsCanonicalDecimal("5."));
  EXPECT_FALSE(IsCanonicalDecimal(""));
}

TEST(ValuesTest, LikeMatchesUtf8Characters) {
  EXPECT_TRUE(LikeMatch("Müller", "M_ller"));
  EXPECT_TRUE(LikeMatch("Müller", "%ll%"));
  EXPECT_TRUE(LikeMatch("100%", "100\\%"));
  EXPECT_FALSE(LikeMatch("1000", "100\\%"));
  EXPECT_TRUE(LikeMatch("", "%"));
  EXPECT_FALSE(LikeMatch("abc", "ab"));
  EXPECT_TRUE(LikeMatch("a_c", "a\\_c"));
  EXPECT_FALSE(LikeMatch("abc", "a\\_c"));
  // Pathological pattern stays fast (no exponential backtracking).
  EXPECT_FALSE(LikeMatch(std::string(5000, 'a'), std::string(50, '%') + "b"));
}

TEST(ValuesTest, TimestampText) {
  v1::Value ts;
  ts.mutable_timestamp_value()->set_seconds(1554076800);  // 2019-04-01T00:00:00Z
  EXPECT_EQ(ValueToString(ts), "2019-04-01T00:00:00");
  ts.mutable_timestamp_value()->set_utc_offset_minutes(120);
  EXPECT_EQ(ValueToString(ts), "2019-04-01T02:00:00+02:00");
  ts.mutable_timestamp_value()->set_seconds(-86400);
  ts.mutable_timestamp_value()->clear_utc_offset_minutes();
  EXPECT_EQ(ValueToString(ts), "1969-12-31T00:00:00");
}

v1::Filter Cond(const std::string& f, v1::Operator op, v1::Value v = {}) {
  v1::Filter x;
  x.mutable_field()->set_field(f);
  x.mutable_field()->set_op(op);
  *x.mutable_field()->mutable_value() = v;
  return x;
}

TEST(FilterEvaluatorTest, ThreeValuedLogicLikeSql) {
  const std::vector<std::string> fields = {"a", "b"};
  v1::Record with_null;
  *with_null.add_values() = Null();
  *with_null.add_values() = Str("x");
  // NOT (a = 1) is unknown for a NULL, so it does not match, as in SQL.
  v1::Filter negated;
  *negated.mutable_not_() = Cond("a", v1::OPERATOR_EQ, Int(1));
  auto ev = FilterEvaluator::Compile(negated, fields);
  ASSERT_TRUE(ev.ok());
  EXPECT_FALSE(ev->Matches(with_null));
  auto ne = FilterEvaluator::Compile(Cond("a", v1::OPERATOR_NE, Int(1)), fields);
  EXPECT_FALSE(ne->Matches(with_null));
  // unknown OR true is true; unknown AND false is false.
  v1::Filter any;
  *any.mutable_or_()->add_filters() = Cond("a", v1::OPERATOR_EQ, Int(1));
  *any.mutable_or_()->add_filters() = Cond("b", v1::OPERATOR_EQ, Str("x"));
  EXPECT_TRUE(FilterEvaluator::Compile(any, fields)->Matches(with_null));
  auto isnull = FilterEvaluator::Compile(Cond("a", v1::OPERATOR_IS_NULL), fields);
  EXPECT_TRUE(isnull->Matches(with_null));
}

TEST(FilterEvaluatorTest, RejectsUnknownFieldsAndDeepNesting) {
  auto bad = FilterEvaluator::Compile(Cond("zzz", v1::OPERATOR_EQ, Int(1)), {"a"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "UNKNOWN_FIELD");
  EXPECT_EQ(bad.status().field(), "zzz");
  v1::Filter deep = Cond("a", v1::OPERATOR_EQ, Int(1));
  for (int i = 0; i < 100; ++i) {
    v1::Filter n;
    *n.mutable_not_() = deep;
    deep = n;
  }
  auto d = FilterEvaluator::Compile(deep, {"a"});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().reason(), "INVALID_FILTER");
}

}  // namespace
}  // namespace fachadapter
