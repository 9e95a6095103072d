// Values, filters and field values for the ODBC connector's tests (the API's protobuf
// messages built in one line).
#ifndef FACHADAPTER_TESTS_INTEGRATION_ODBC_TEST_VALUES_H_
#define FACHADAPTER_TESTS_INTEGRATION_ODBC_TEST_VALUES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fachadapter/connector/v1/connector.pb.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter::testing {

inline v1::Value Str(const std::string& s) { v1::Value v; v.set_string_value(s); return v; }
inline v1::Value Int(int64_t i) { v1::Value v; v.set_int_value(i); return v; }

inline connector::v1::FieldValue FV(const std::string& field, v1::Value v) {
  connector::v1::FieldValue fv;
  fv.set_field(field);
  *fv.mutable_value() = std::move(v);
  return fv;
}

inline v1::Value Dbl(double d) { v1::Value v; v.set_double_value(d); return v; }
inline v1::Value Dec(const std::string& s) { v1::Value v; v.mutable_decimal_value()->set_value(s); return v; }
inline v1::Value Bool(bool b) { v1::Value v; v.set_bool_value(b); return v; }
inline v1::Value Bytes(const std::string& b) { v1::Value v; v.set_bytes_value(b); return v; }
inline v1::Value Null() { v1::Value v; v.set_null_value(v1::NULL_VALUE); return v; }
inline v1::Value DateV(int y, int m, int d) {
  v1::Value v;
  v.mutable_date_value()->set_year(y);
  v.mutable_date_value()->set_month(m);
  v.mutable_date_value()->set_day(d);
  return v;
}
inline v1::Value TimeV(int h, int m, int s, int nanos = 0) {
  v1::Value v;
  auto* t = v.mutable_time_value();
  t->set_hours(h); t->set_minutes(m); t->set_seconds(s); t->set_nanos(nanos);
  return v;
}
// A local timestamp (no offset) of the given wall-clock time.
inline v1::Value Ts(int y, int mo, int d, int h, int mi, int s, int nanos = 0) {
  int64_t yy = y - (mo <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  v1::Value v;
  v.mutable_timestamp_value()->set_seconds(days * 86400 + h * 3600 + mi * 60 + s);
  v.mutable_timestamp_value()->set_nanos(nanos);
  return v;
}

inline v1::Filter Cond(const std::string& field, v1::Operator op, v1::Value value = v1::Value()) {
  v1::Filter f;
  f.mutable_field()->set_field(field);
  f.mutable_field()->set_op(op);
  if (value.kind_case() != v1::Value::KIND_NOT_SET) *f.mutable_field()->mutable_value() = value;
  return f;
}
inline v1::Filter In(const std::string& field, std::vector<v1::Value> values) {
  v1::Filter f;
  f.mutable_field()->set_field(field);
  f.mutable_field()->set_op(v1::OPERATOR_IN);
  for (auto& v : values) *f.mutable_field()->add_values() = v;
  return f;
}
inline v1::Filter And(std::vector<v1::Filter> fs) {
  v1::Filter f;
  for (auto& x : fs) *f.mutable_and_()->add_filters() = x;
  return f;
}
inline v1::Filter Or(std::vector<v1::Filter> fs) {
  v1::Filter f;
  for (auto& x : fs) *f.mutable_or_()->add_filters() = x;
  return f;
}
inline v1::Filter Not(v1::Filter inner) {
  v1::Filter f;
  *f.mutable_not_() = inner;
  return f;
}

}  // namespace fachadapter::testing

#endif  // FACHADAPTER_TESTS_INTEGRATION_ODBC_TEST_VALUES_H_
