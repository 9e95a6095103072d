#include "value_text.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <system_error>

#include "fachadapter/values.h"

namespace fachadapter::cli {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Reads exactly `n` digits at `*pos` into `*out`.
bool ReadDigits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// YYYY-MM-DD at `*pos`.
bool ParseDatePart(std::string_view s, size_t* pos, v1::Date* out) {
  int y, m, d;
  if (!ReadDigits(s, pos, 4, &y) || *pos >= s.size() || s[(*pos)++] != '-' ||
      !ReadDigits(s, pos, 2, &m) || *pos >= s.size() || s[(*pos)++] != '-' ||
      !ReadDigits(s, pos, 2, &d)) {
    return false;
  }
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return false;
  out->set_year(y);
  out->set_month(m);
  out->set_day(d);
  return true;
}

// HH:MM[:SS[.fraction]] at `*pos`.
bool ParseTimePart(std::string_view s, size_t* pos, v1::TimeOfDay* out) {
  int h, mi, sec = 0, nanos = 0;
  if (!ReadDigits(s, pos, 2, &h) || *pos >= s.size() || s[(*pos)++] != ':' ||
      !ReadDigits(s, pos, 2, &mi)) {
    return false;
  }
  if (*pos < s.size() && s[*pos] == ':') {
    ++*pos;
    if (!ReadDigits(s, pos, 2, &sec)) return false;
    if (*pos < s.size() && s[*pos] == '.') {
      ++*pos;
      size_t digits = 0;
      while (*pos < s.size() && IsDigit(s[*pos])) {
        if (++digits > 9) return false;
        nanos = nanos * 10 + (s[*pos] - '0');
        ++*pos;
      }
      if (digits == 0) return false;
      for (size_t i = digits; i < 9; ++i) nanos *= 10;
    }
  }
  if (h > 23 || mi > 59 || sec > 59) return false;
  out->set_hours(h);
  out->set_minutes(mi);
  out->set_seconds(sec);
  out->set_nanos(nanos);
  return true;
}

std::optional<v1::Date> ParseDate(std::string_view s) {
  v1::Date d;
  size_t pos = 0;
  if (!ParseDatePart(s, &pos, &d) || pos != s.size()) return std::nullopt;
  return d;
}

std::optional<v1::TimeOfDay> ParseTime(std::string_view s) {
  v1::TimeOfDay t;
  size_t pos = 0;
  if (!ParseTimePart(s, &pos, &t) || pos != s.size()) return std::nullopt;
  return t;
}

std::optional<v1::Timestamp> ParseTimestamp(std::string_view s) {
  v1::Date d;
  v1::TimeOfDay t;
  size_t pos = 0;
  if (!ParseDatePart(s, &pos, &d)) return std::nullopt;
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!ParseTimePart(s, &pos, &t)) return std::nullopt;
  std::optional<int> offset;
  if (pos < s.size()) {
    char c = s[pos++];
    if (c == 'Z' || c == 'z') {
      offset = 0;
    } else if (c == '+' || c == '-') {
      int oh, om = 0;
      if (!ReadDigits(s, &pos, 2, &oh)) return std::nullopt;
      if (pos < s.size()) {
        if (s[pos] == ':') ++pos;
        if (!ReadDigits(s, &pos, 2, &om)) return std::nullopt;
      }
      if (oh > 23 || om > 59) return std::nullopt;
      offset = (c == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  int64_t local = DaysFromCivil(d.year(), static_cast<unsigned>(d.month()),
                                static_cast<unsigned>(d.day())) * 86400 +
                  int64_t{t.hours()} * 3600 + int64_t{t.minutes()} * 60 + t.seconds();
  v1::Timestamp ts;
  ts.set_seconds(local - int64_t{offset.value_or(0)} * 60);
  ts.set_nanos(t.nanos());
  if (offset) ts.set_utc_offset_minutes(*offset);
  return ts;
}

// Canonical decimal text of `s`, or nullopt if `s` is not a plain decimal number.
std::optional<std::string> CanonicalDecimal(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t dot = s.find('.');
  std::string_view int_part = s.substr(0, dot);
  std::string_view frac_part =
      dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  auto all_digits = [](std::string_view p) {
    for (char c : p) {
      if (!IsDigit(c)) return false;
    }
    return true;
  };
  if (int_part.empty() || !all_digits(int_part)) return std::nullopt;
  if (dot != std::string_view::npos && (frac_part.empty() || !all_digits(frac_part))) {
    return std::nullopt;
  }
  while (int_part.size() > 1 && int_part[0] == '0') int_part.remove_prefix(1);
  std::string out;
  if (negative) out += '-';
  out.append(int_part);
  if (dot != std::string_view::npos) {
    out += '.';
    out.append(frac_part);
  }
  return out;
}

std::optional<double> ParseDouble(std::string_view s) {
  if (EqualsIgnoreCase(s, "nan")) return std::numeric_limits<double>::quiet_NaN();
  if (EqualsIgnoreCase(s, "infinity") || EqualsIgnoreCase(s, "+infinity")) {
    return std::numeric_limits<double>::infinity();
  }
  if (EqualsIgnoreCase(s, "-infinity")) return -std::numeric_limits<double>::infinity();
  if (!LooksLikeNumber(s)) return std::nullopt;
  if (s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Status Mismatch(std::string_view text, const char* type_phrase, const char* expected) {
  std::string msg = "'";
  msg.append(text);
  msg += "' is not ";
  msg += type_phrase;
  msg += " (expected ";
  msg += expected;
  msg += ")";
  return InvalidArgument(std::move(msg), "TYPE_MISMATCH");
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool LooksLikeNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t frac = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++frac;
    if (frac == 0) return false;
    digits += frac;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == s.size();
}

bool LooksLikeTemporal(std::string_view s) {
  return ParseDate(s) || ParseTime(s) || ParseTimestamp(s);
}

Result<v1::Value> ParseValueText(v1::FieldType type, std::string_view text) {
  v1::Value v;
  switch (type) {
    case v1::FIELD_TYPE_BOOL:
      if (EqualsIgnoreCase(text, "true")) {
        v.set_bool_value(true);
      } else if (EqualsIgnoreCase(text, "false")) {
        v.set_bool_value(false);
      } else {
        return Mismatch(text, "a bool", "true or false");
      }
      return v;
    case v1::FIELD_TYPE_INT64: {
      std::string_view digits = text;
      if (!digits.empty() && digits[0] == '+') {
        digits.remove_prefix(1);
        if (!digits.empty() && digits[0] == '-') digits = "-";  // "+-1" is no number
      }
      bool shaped = !digits.empty();
      for (size_t i = (!digits.empty() && digits[0] == '-') ? 1 : 0; i < digits.size(); ++i) {
        if (!IsDigit(digits[i])) shaped = false;
      }
      if (digits == "-") shaped = false;
      if (!shaped) return Mismatch(text, "an int64", "a whole number such as 42");
      int64_t n = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec == std::errc::result_out_of_range) {
        return InvalidArgument("'" + std::string(text) +
                                   "' is out of the int64 range (-9223372036854775808 to "
                                   "9223372036854775807)",
                               "TYPE_MISMATCH");
      }
      if (ec != std::errc() || end != digits.data() + digits.size()) {
        return Mismatch(text, "an int64", "a whole number such as 42");
      }
      v.set_int_value(n);
      return v;
    }
    case v1::FIELD_TYPE_DOUBLE: {
      auto d = ParseDouble(text);
      if (!d) return Mismatch(text, "a double", "a number such as 3.25 or 1e-3");
      v.set_double_value(*d);
      return v;
    }
    case v1::FIELD_TYPE_DECIMAL: {
      auto d = CanonicalDecimal(text);
      if (!d) {
        return Mismatch(text, "a decimal",
                        "digits with an optional '.' and fraction, such as -1234.50");
      }
      v.mutable_decimal_value()->set_value(std::move(*d));
      return v;
    }
    case v1::FIELD_TYPE_STRING:
      v.set_string_value(std::string(text));
      return v;
    case v1::FIELD_TYPE_BYTES: {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      bool ok = text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') &&
                text.size() % 2 == 0;
      std::string bytes;
      for (size_t i = 2; ok && i < text.size(); i += 2) {
        int hi = hex(text[i]), lo = hex(text[i + 1]);
        if (hi < 0 || lo < 0) {
          ok = false;
        } else {
          bytes += static_cast<char>(hi * 16 + lo);
        }
      }
      if (!ok) return Mismatch(text, "bytes", "0x and hex digits, such as 0x00ff");
      v.set_bytes_value(std::move(bytes));
      return v;
    }
    case v1::FIELD_TYPE_DATE: {
      auto d = ParseDate(text);
      if (!d) return Mismatch(text, "a date", "a calendar date YYYY-MM-DD such as 2019-04-01");
      *v.mutable_date_value() = *d;
      return v;
    }
    case v1::FIELD_TYPE_TIME: {
      auto t = ParseTime(text);
      if (!t) return Mismatch(text, "a time", "HH:MM[:SS[.fraction]] such as 12:30:00");
      *v.mutable_time_value() = *t;
      return v;
    }
    case v1::FIELD_TYPE_TIMESTAMP: {
      auto ts = ParseTimestamp(text);
      if (!ts) {
        return Mismatch(text, "a timestamp",
                        "YYYY-MM-DDTHH:MM[:SS[.fraction]] with Z, an offset such as +02:00, "
                        "or no zone");
      }
      *v.mutable_timestamp_value() = *ts;
      return v;
    }
    default:
      return InvalidArgument("the field has no known type (" +
                                 std::string(FieldTypeName(type)) + "); cannot read '" +
                                 std::string(text) + "'",
                             "TYPE_MISMATCH");
  }
}

std::string DoubleToText(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value < 0 ? "-Infinity" : "Infinity";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return ValueToString([&] {
    v1::Value v;
    v.set_double_value(value);
    return v;
  }());
  return std::string(buf, end);
}

std::string FormatValue(const v1::Value& value, bool full_bytes) {
  if (value.kind_case() == v1::Value::kDoubleValue) return DoubleToText(value.double_value());
  if (full_bytes && value.kind_case() == v1::Value::kBytesValue) {
    static const char kHex[] = "0123456789abcdef";
    std::string out = "0x";
    out.reserve(2 + value.bytes_value().size() * 2);
    for (unsigned char c : value.bytes_value()) {
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    return out;
  }
  return ValueToString(value);
}

}  // namespace fachadapter::cli
