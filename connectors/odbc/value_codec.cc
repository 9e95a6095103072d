#include "value_codec.h"

#include <cctype>
#include <cstdio>
#include <cstring>

#include "fachadapter/values.h"

namespace fachadapter::odbc {

size_t CanonicalDecimal(std::string_view text, int scale, char* out, size_t cap) {
  size_t i = 0, n = text.size();
  while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
  while (n > i && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\0')) --n;
  bool neg = false;
  if (i < n && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  // The mantissa: its digits are text[mant, i) without the point; `point` counts the digits
  // before the point. Read in place, so any length works without a buffer.
  const size_t mant = i;
  size_t nd = 0;
  long point = -1;
  size_t dot_at = std::string_view::npos;  // position of '.' in text, if any
  for (; i < n; ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      ++nd;
    } else if (c == '.' && point < 0) {
      point = static_cast<long>(nd);
      dot_at = i;
    } else {
      break;
    }
  }
  if (nd == 0) return 0;
  auto digit_at = [&](size_t k) {
    size_t pos = mant + k;
    if (dot_at != std::string_view::npos && pos >= dot_at) ++pos;
    return text[pos];
  };
  if (point < 0) point = static_cast<long>(nd);
  if (i < n) {
    if (text[i] != 'e' && text[i] != 'E') return 0;
    ++i;
    bool eneg = false;
    if (i < n && (text[i] == '-' || text[i] == '+')) eneg = text[i++] == '-';
    long e = 0;
    bool edigits = false;
    for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i) {
      e = e * 10 + (text[i] - '0');
      if (e > 400) return 0;
      edigits = true;
    }
    if (!edigits || i != n) return 0;
    point += eneg ? -e : e;
  }
  // Integer part: digits[0, point); fraction: digits[point, nd). point may lie outside.
  size_t o = 0;
  auto put = [&](char c) {
    if (o < cap) out[o] = c;
    ++o;
  };
  if (neg) put('-');
  bool leading = true;
  for (long k = 0; k < point; ++k) {
    char c = k < static_cast<long>(nd) ? digit_at(static_cast<size_t>(k)) : '0';
    if (leading && c == '0') continue;
    leading = false;
    put(c);
  }
  if (leading) put('0');
  // Every fraction digit the driver printed is kept (trailing zeros carry the value's scale),
  // and the fraction is padded to the column's scale.
  long keep = static_cast<long>(nd) - point;
  if (keep < 0) keep = 0;
  auto frac_digit = [&](long k) {  // k-th fraction digit, '0' outside the mantissa
    long idx = point + k;
    return idx >= 0 && idx < static_cast<long>(nd) ? digit_at(static_cast<size_t>(idx)) : '0';
  };
  long width = keep > scale ? keep : scale;
  if (width > 0) {
    put('.');
    for (long k = 0; k < width; ++k) put(k < keep ? frac_digit(k) : '0');
  }
  if (o > cap) return 0;
  // "-0" and "-0.00" are zero.
  if (neg) {
    bool zero = true;
    for (size_t k = 1; k < o; ++k) zero = zero && (out[k] == '0' || out[k] == '.');
    if (zero) {
      std::memmove(out, out + 1, o - 1);
      --o;
    }
  }
  return o;
}

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

void DateToValue(const SQL_DATE_STRUCT& d, v1::Value* out) {
  v1::Date* date = out->mutable_date_value();
  date->set_year(d.year);
  date->set_month(d.month);
  date->set_day(d.day);
}

void TimestampToValue(const SQL_TIMESTAMP_STRUCT& ts, v1::Value* out) {
  int64_t days = DaysFromCivil(ts.year, ts.month, ts.day);
  v1::Timestamp* t = out->mutable_timestamp_value();
  t->set_seconds(days * 86400 + ts.hour * 3600 + ts.minute * 60 + ts.second);
  t->set_nanos(static_cast<int32_t>(ts.fraction));
}

bool ParseTimeText(std::string_view s, v1::Value* out) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  auto two = [&](size_t at, int* v) {
    if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') return false;
    *v = (s[at] - '0') * 10 + (s[at + 1] - '0');
    return true;
  };
  int h = 0, mi = 0, se = 0, nanos = 0;
  if (!two(0, &h) || s.size() < 5 || s[2] != ':' || !two(3, &mi)) return false;
  size_t i = 5;
  if (i < s.size() && s[i] == ':') {
    if (!two(6, &se)) return false;
    i = 8;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (digits < 9) {
        nanos = nanos * 10 + (s[i] - '0');
        ++digits;
      }
    }
    for (; digits < 9; ++digits) nanos *= 10;
  }
  if (i != s.size() || h > 23 || mi > 59 || se > 59) return false;
  v1::TimeOfDay* t = out->mutable_time_value();
  t->set_hours(h);
  t->set_minutes(mi);
  t->set_seconds(se);
  t->set_nanos(nanos);
  return true;
}

namespace {
bool LeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && LeapYear(y) ? 29 : kDays[m - 1];
}
Status BadTemporal(std::string_view field, const std::string& what) {
  return InvalidArgument("field '" + std::string(field) + "': " + what, "INVALID_VALUE",
                         std::string(field));
}
}  // namespace

Status ValidateTemporal(const v1::Value& v, std::string_view field) {
  if (v.has_date_value()) {
    const v1::Date& d = v.date_value();
    if (d.year() < 1 || d.year() > 9999 || d.month() < 1 || d.month() > 12 || d.day() < 1 ||
        d.day() > DaysInMonth(d.year(), d.month())) {
      return BadTemporal(field, "not a valid date: " + std::to_string(d.year()) + "-" +
                                    std::to_string(d.month()) + "-" + std::to_string(d.day()));
    }
  } else if (v.has_time_value()) {
    const v1::TimeOfDay& t = v.time_value();
    if (t.hours() < 0 || t.hours() > 23 || t.minutes() < 0 || t.minutes() > 59 || t.seconds() < 0 ||
        t.seconds() > 59 || t.nanos() < 0 || t.nanos() > 999999999) {
      return BadTemporal(field, "not a valid time of day");
    }
  } else if (v.has_timestamp_value()) {
    const v1::Timestamp& t = v.timestamp_value();
    // 0001-01-01 .. 9999-12-31 like the dates.
    if (t.nanos() < 0 || t.nanos() > 999999999 || t.seconds() < -62135596800LL ||
        t.seconds() > 253402300799LL ||
        (t.has_utc_offset_minutes() && (t.utc_offset_minutes() < -1080 || t.utc_offset_minutes() > 1080))) {
      return BadTemporal(field, "timestamp out of range");
    }
  }
  return Status::OK();
}

SQL_DATE_STRUCT ValueToDate(const v1::Date& d) {
  SQL_DATE_STRUCT out{};
  out.year = static_cast<SQLSMALLINT>(d.year());
  out.month = static_cast<SQLUSMALLINT>(d.month());
  out.day = static_cast<SQLUSMALLINT>(d.day());
  return out;
}

SQL_TIMESTAMP_STRUCT ValueToTimestamp(const v1::Timestamp& ts) {
  int64_t secs = ts.seconds();
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  SQL_TIMESTAMP_STRUCT out{};
  out.year = static_cast<SQLSMALLINT>(y);
  out.month = static_cast<SQLUSMALLINT>(m);
  out.day = static_cast<SQLUSMALLINT>(d);
  out.hour = static_cast<SQLUSMALLINT>(rem / 3600);
  out.minute = static_cast<SQLUSMALLINT>(rem / 60 % 60);
  out.second = static_cast<SQLUSMALLINT>(rem % 60);
  out.fraction = static_cast<SQLUINTEGER>(ts.nanos());
  return out;
}

bool IsZonedTimestampType(std::string_view type_name) {
  std::string t(type_name);
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  t = t.substr(0, t.find('('));
  return t == "timestamptz" || (t.find("with time zone") != std::string::npos &&
                                t.find("without") == std::string::npos && t.find("timestamp") != std::string::npos);
}

std::string SelectExpression(std::string_view type_name, const std::string& quoted) {
  if (!IsZonedTimestampType(type_name)) return quoted;
  return "(" + quoted + " AT TIME ZONE 'UTC') AS " + quoted;
}

std::string TimestampToUtcText(const v1::Timestamp& ts) {
  SQL_TIMESTAMP_STRUCT t = ValueToTimestamp(ts);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02u:%02u:%02u", t.year, t.month, t.day, t.hour,
                        t.minute, t.second);
  if (t.fraction != 0) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%09u", static_cast<unsigned>(t.fraction));
    while (buf[n - 1] == '0') --n;
  }
  std::string out(buf, static_cast<size_t>(n));
  out += "+00";
  return out;
}

std::string TimeToText(const v1::TimeOfDay& t) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", t.hours(), t.minutes(), t.seconds());
  if (t.nanos() != 0) {
    int m = std::snprintf(buf + n, sizeof buf - n, ".%09d", t.nanos());
    int end = n + m;
    while (end > n + 2 && buf[end - 1] == '0') --end;
    n = end;
  }
  return std::string(buf, static_cast<size_t>(n));
}

void RowHasher::Bytes(const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    h_ ^= b[i];
    h_ *= 1099511628211ull;
  }
}

void RowHasher::U64(uint64_t x) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(x >> (8 * i));
  Bytes(b, 8);
}

void RowHasher::Add(const v1::Value& v) {
  // Tag, then a fixed-width or length-prefixed payload, so that no two different rows
  // share an encoding ("ab","c" vs "a","bc").
  unsigned char tag = IsNull(v) ? 0 : static_cast<unsigned char>(v.kind_case());
  Bytes(&tag, 1);
  switch (v.kind_case()) {
    case v1::Value::kBoolValue: U64(v.bool_value() ? 1 : 0); break;
    case v1::Value::kIntValue: U64(static_cast<uint64_t>(v.int_value())); break;
    case v1::Value::kDoubleValue: {
      uint64_t bits;
      double d = v.double_value();
      std::memcpy(&bits, &d, 8);
      U64(bits);
      break;
    }
    case v1::Value::kDecimalValue:
      U64(v.decimal_value().value().size());
      Bytes(v.decimal_value().value().data(), v.decimal_value().value().size());
      break;
    case v1::Value::kStringValue:
      U64(v.string_value().size());
      Bytes(v.string_value().data(), v.string_value().size());
      break;
    case v1::Value::kBytesValue:
      U64(v.bytes_value().size());
      Bytes(v.bytes_value().data(), v.bytes_value().size());
      break;
    case v1::Value::kDateValue:
      U64(static_cast<uint64_t>(DaysFromCivil(v.date_value().year(), v.date_value().month(),
                                              v.date_value().day())));
      break;
    case v1::Value::kTimeValue: {
      const auto& t = v.time_value();
      U64(static_cast<uint64_t>((t.hours() * 3600LL + t.minutes() * 60 + t.seconds()) * 1000000000LL +
                                t.nanos()));
      break;
    }
    case v1::Value::kTimestampValue:
      U64(static_cast<uint64_t>(v.timestamp_value().seconds()));
      U64(static_cast<uint64_t>(v.timestamp_value().nanos()));
      break;
    default: break;  // NULL: the tag alone
  }
}

std::string RowHasher::Hex() const {
  static const char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 0; i < 16; ++i) out[15 - i] = kHex[(h_ >> (4 * i)) & 15];
  return out;
}

}  // namespace fachadapter::odbc
