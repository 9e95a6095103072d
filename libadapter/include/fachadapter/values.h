// Operations on typed values (fachadapter.v1.Value): type checks, ordering, display.
//
// Header-only so that the core and every connector (through the SDK) compare values the same
// way: a filter means the same thing whether a connector or the core evaluates it.
#ifndef FACHADAPTER_VALUES_H_
#define FACHADAPTER_VALUES_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "fachadapter/v1/value.pb.h"

namespace fachadapter {

/// Lower-case name of a field type as used in configs and messages ("decimal", "date", ...).
inline const char* FieldTypeName(v1::FieldType type) {
  switch (type) {
    case v1::FIELD_TYPE_BOOL: return "bool";
    case v1::FIELD_TYPE_INT64: return "int64";
    case v1::FIELD_TYPE_DOUBLE: return "double";
    case v1::FIELD_TYPE_DECIMAL: return "decimal";
    case v1::FIELD_TYPE_STRING: return "string";
    case v1::FIELD_TYPE_BYTES: return "bytes";
    case v1::FIELD_TYPE_DATE: return "date";
    case v1::FIELD_TYPE_TIME: return "time";
    case v1::FIELD_TYPE_TIMESTAMP: return "timestamp";
    default: return "unspecified";
  }
}

/// Parses a type name as written by FieldTypeName; FIELD_TYPE_UNSPECIFIED if unknown.
inline v1::FieldType ParseFieldType(std::string_view name) {
  for (int t = v1::FIELD_TYPE_BOOL; t <= v1::FIELD_TYPE_TIMESTAMP; ++t) {
    if (name == FieldTypeName(static_cast<v1::FieldType>(t))) return static_cast<v1::FieldType>(t);
  }
  return v1::FIELD_TYPE_UNSPECIFIED;
}

/// True if the value is NULL (or unset, which the API treats as NULL).
inline bool IsNull(const v1::Value& v) {
  return v.kind_case() == v1::Value::KIND_NOT_SET || v.kind_case() == v1::Value::kNullValue;
}

/// The field type a value carries; FIELD_TYPE_UNSPECIFIED for NULL.
inline v1::FieldType TypeOf(const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::kBoolValue: return v1::FIELD_TYPE_BOOL;
    case v1::Value::kIntValue: return v1::FIELD_TYPE_INT64;
    case v1::Value::kDoubleValue: return v1::FIELD_TYPE_DOUBLE;
    case v1::Value::kDecimalValue: return v1::FIELD_TYPE_DECIMAL;
    case v1::Value::kStringValue: return v1::FIELD_TYPE_STRING;
    case v1::Value::kBytesValue: return v1::FIELD_TYPE_BYTES;
    case v1::Value::kDateValue: return v1::FIELD_TYPE_DATE;
    case v1::Value::kTimeValue: return v1::FIELD_TYPE_TIME;
    case v1::Value::kTimestampValue: return v1::FIELD_TYPE_TIMESTAMP;
    default: return v1::FIELD_TYPE_UNSPECIFIED;
  }
}

/// True if `text` is a canonical decimal: optional '-', 1+ digits, optionally '.' and 1+ digits.
inline bool IsCanonicalDecimal(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  size_t digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  if (digits == 0) return false;
  if (i == text.size()) return true;
  if (text[i] != '.') return false;
  ++i;
  size_t frac = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++frac;
  return frac > 0 && i == text.size();
}

/// Compares two canonical decimals exactly (no floating point). Returns -1, 0 or 1.
inline int CompareDecimal(std::string_view a, std::string_view b) {
  auto split = [](std::string_view s, bool* neg, std::string_view* ip, std::string_view* fp) {
    *neg = !s.empty() && s[0] == '-';
    if (*neg) s.remove_prefix(1);
    size_t dot = s.find('.');
    *ip = s.substr(0, dot);
    *fp = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
    while (ip->size() > 1 && (*ip)[0] == '0') ip->remove_prefix(1);
    while (!fp->empty() && fp->back() == '0') fp->remove_suffix(1);
  };
  bool na, nb;
  std::string_view ia, fa, ib, fb;
  split(a, &na, &ia, &fa);
  split(b, &nb, &ib, &fb);
  bool za = ia == "0" && fa.empty(), zb = ib == "0" && fb.empty();
  if (za) na = false;  // -0 == 0
  if (zb) nb = false;
  if (na != nb) return na ? -1 : 1;
  int mag;
  if (ia.size() != ib.size()) {
    mag = ia.size() < ib.size() ? -1 : 1;
  } else {
    int c = ia.compare(ib);
    if (c == 0) c = fa.compare(fb);  // equal length integer parts: fractions compare lexically
    mag = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return na ? -mag : mag;
}

namespace values_internal {
template <typename T>
inline int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}
}  // namespace values_internal

/// Orders two non-NULL values of comparable types: -1, 0, 1; nullopt if they are NULL or
/// incomparable. int64 and decimal compare exactly with each other; double compares with
/// both numerically.
inline std::optional<int> CompareValues(const v1::Value& a, const v1::Value& b) {
  using values_internal::Cmp;
  using K = v1::Value::KindCase;
  K ka = a.kind_case(), kb = b.kind_case();
  if (IsNull(a) || IsNull(b)) return std::nullopt;
  if (ka == kb) {
    switch (ka) {
      case K::kBoolValue: return Cmp(a.bool_value(), b.bool_value());
      case K::kIntValue: return Cmp(a.int_value(), b.int_value());
      case K::kDoubleValue:
        if (std::isnan(a.double_value()) || std::isnan(b.double_value())) return std::nullopt;
        return Cmp(a.double_value(), b.double_value());
      case K::kDecimalValue:
        return CompareDecimal(a.decimal_value().value(), b.decimal_value().value());
      case K::kStringValue: {
        int c = a.string_value().compare(b.string_value());  // bytewise = code point order
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
      }
      case K::kBytesValue: {
        int c = a.bytes_value().compare(b.bytes_value());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
      }
      case K::kDateValue: {
        const auto &x = a.date_value(), &y = b.date_value();
        if (int c = Cmp(x.year(), y.year())) return c;
        if (int c = Cmp(x.month(), y.month())) return c;
        return Cmp(x.day(), y.day());
      }
      case K::kTimeValue: {
        const auto &x = a.time_value(), &y = b.time_value();
        if (int c = Cmp(x.hours(), y.hours())) return c;
        if (int c = Cmp(x.minutes(), y.minutes())) return c;
        if (int c = Cmp(x.seconds(), y.seconds())) return c;
        return Cmp(x.nanos(), y.nanos());
      }
      case K::kTimestampValue: {
        const auto &x = a.timestamp_value(), &y = b.timestamp_value();
        if (int c = Cmp(x.seconds(), y.seconds())) return c;
        return Cmp(x.nanos(), y.nanos());
      }
      default: return std::nullopt;
    }
  }
  auto numeric = [](K k) { return k == K::kIntValue || k == K::kDoubleValue || k == K::kDecimalValue; };
  if (!numeric(ka) || !numeric(kb)) return std::nullopt;
  if (ka == K::kDoubleValue || kb == K::kDoubleValue) {
    auto as_double = [](const v1::Value& v) {
      if (v.has_decimal_value()) return std::strtod(v.decimal_value().value().c_str(), nullptr);
      if (v.kind_case() == K::kIntValue) return static_cast<double>(v.int_value());
      return v.double_value();
    };
    double x = as_double(a), y = as_double(b);
    if (std::isnan(x) || std::isnan(y)) return std::nullopt;
    return Cmp(x, y);
  }
  auto as_decimal = [](const v1::Value& v) {
    return v.has_decimal_value() ? v.decimal_value().value() : std::to_string(v.int_value());
  };
  return CompareDecimal(as_decimal(a), as_decimal(b));
}

/// Total order for sorting (NULLs first, then by CompareValues; incomparable values by type).
inline int SortCompare(const v1::Value& a, const v1::Value& b) {
  bool na = IsNull(a), nb = IsNull(b);
  if (na || nb) return na == nb ? 0 : (na ? -1 : 1);
  if (auto c = CompareValues(a, b)) return *c;
  return values_internal::Cmp(static_cast<int>(a.kind_case()), static_cast<int>(b.kind_case()));
}

/// Human-readable text of a value for tables and messages: dates as ISO 8601, decimals as
/// their canonical text, NULL as "NULL", bytes as hex (shortened past 32 bytes).
inline std::string ValueToString(const v1::Value& v) {
  char buf[64];
  switch (v.kind_case()) {
    case v1::Value::kBoolValue: return v.bool_value() ? "true" : "false";
    case v1::Value::kIntValue: return std::to_string(v.int_value());
    case v1::Value::kDoubleValue:
      std::snprintf(buf, sizeof buf, "%.17g", v.double_value());
      return buf;
    case v1::Value::kDecimalValue: return v.decimal_value().value();
    case v1::Value::kStringValue: return v.string_value();
    case v1::Value::kBytesValue: {
      static const char kHex[] = "0123456789abcdef";
      std::string out = "0x";
      size_t n = v.bytes_value().size() > 32 ? 32 : v.bytes_value().size();
      for (size_t i = 0; i < n; ++i) {
        unsigned char c = static_cast<unsigned char>(v.bytes_value()[i]);
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
      if (n < v.bytes_value().size()) out += "...";
      return out;
    }
    case v1::Value::kDateValue:
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", v.date_value().year(),
                    v.date_value().month(), v.date_value().day());
      return buf;
    case v1::Value::kTimeValue: {
      const auto& t = v.time_value();
      int n = std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", t.hours(), t.minutes(), t.seconds());
      if (t.nanos() != 0) std::snprintf(buf + n, sizeof buf - n, ".%09d", t.nanos());
      return buf;
    }
    case v1::Value::kTimestampValue: {
      const auto& ts = v.timestamp_value();
      int offset = ts.has_utc_offset_minutes() ? ts.utc_offset_minutes() : 0;
      int64_t local = ts.seconds() + int64_t{offset} * 60;
      int64_t days = local / 86400, secs = local % 86400;
      if (secs < 0) secs += 86400, --days;
      // Civil-from-days (H. Hinnant), valid for the whole proleptic Gregorian range.
      days += 719468;
      int64_t era = (days >= 0 ? days : days - 146096) / 146097;
      int64_t doe = days - era * 146097;
      int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
      int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
      int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
      int64_t m = mp < 10 ? mp + 3 : mp - 9;
      if (m <= 2) ++y;
      int n = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                            static_cast<long long>(y), static_cast<long long>(m),
                            static_cast<long long>(d), static_cast<long long>(secs / 3600),
                            static_cast<long long>(secs / 60 % 60),
                            static_cast<long long>(secs % 60));
      if (ts.nanos() != 0) n += std::snprintf(buf + n, sizeof buf - n, ".%09d", ts.nanos());
      if (ts.has_utc_offset_minutes()) {
        if (offset == 0) {
          std::snprintf(buf + n, sizeof buf - n, "Z");
        } else {
          int a = offset < 0 ? -offset : offset;
          std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 60,
                        a % 60);
        }
      }
      return buf;
    }
    default: return "NULL";
  }
}

}  // namespace fachadapter

#endif  // FACHADAPTER_VALUES_H_
