#include "mapping_internal.h"

#include <iconv.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "fachadapter/values.h"

namespace fachadapter {

namespace {

std::string Quote(const std::string& s) {
  // Values in messages are cut so that a huge value cannot flood a log line.
  std::string v = s.size() > 80 ? s.substr(0, 77) + "..." : s;
  return "'" + v + "'";
}

std::string_view TrimView(std::string_view s, bool left, bool right) {
  auto blank = [](char c) { return c == ' ' || c == '\0' || c == '\t'; };
  size_t b = 0, e = s.size();
  if (left) while (b < e && blank(s[b])) ++b;
  if (right) while (e > b && blank(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string TrimBlanks(std::string_view s, bool left, bool right) {
  return std::string(TrimView(s, left, right));
}

bool ParseInt64(std::string_view s, int64_t* out) {
  std::string t = TrimBlanks(s, true, true);
  if (t.empty()) return false;
  size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (i == t.size()) return false;
  for (size_t j = i; j < t.size(); ++j) {
    if (t[j] < '0' || t[j] > '9') return false;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (errno == ERANGE || *end != '\0') return false;
  *out = v;
  return true;
}

// Canonicalizes decimal text with the given separators: strips blanks and grouping, accepts
// a leading or trailing sign (legacy '123,45-'), drops redundant leading zeros, keeps scale.
bool CanonicalDecimal(std::string_view in, const std::string& dec_sep, const std::string& group_sep,
                      std::string* out) {
  std::string t = TrimBlanks(in, true, true);
  bool neg = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    neg = t[0] == '-';
    t.erase(0, 1);
  } else if (!t.empty() && (t.back() == '-' || t.back() == '+')) {
    neg = t.back() == '-';
    t.pop_back();
  }
  std::string digits;
  bool seen_point = false;
  const std::string dsep = dec_sep.empty() ? "." : dec_sep;
  for (size_t i = 0; i < t.size();) {
    if (t.compare(i, dsep.size(), dsep) == 0) {
      if (seen_point) return false;
      seen_point = true;
      digits += '.';
      i += dsep.size();
    } else if (!group_sep.empty() && !seen_point && t.compare(i, group_sep.size(), group_sep) == 0) {
      i += group_sep.size();
    } else if (t[i] >= '0' && t[i] <= '9') {
      digits += t[i++];
    } else {
      return false;
    }
  }
  if (digits.empty() || digits[0] == '.' || digits.back() == '.') return false;
  size_t lead = 0;
  while (lead + 1 < digits.size() && digits[lead] == '0' && digits[lead + 1] != '.') ++lead;
  digits.erase(0, lead);
  *out = (neg && digits.find_first_not_of("0.") != std::string::npos ? "-" : "") + digits;
  return true;
}

// Legacy layouts whose text order equals chronological order.
bool OrderKeepingFormat(const std::string& f) {
  static const char* const kFormats[] = {"YYYYMMDD", "YYYY-MM-DD", "HHMMSS", "HH:MM:SS", "HHMM",
                                         "YYYYMMDDHHMMSS", "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DDTHH:MM:SS"};
  for (const char* k : kFormats) {
    if (f == k) return true;
  }
  return false;
}

bool IsTemporal(v1::FieldType t) {
  return t == v1::FIELD_TYPE_DATE || t == v1::FIELD_TYPE_TIME || t == v1::FIELD_TYPE_TIMESTAMP;
}

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ParseByFormat(std::string_view text, const std::string& format, v1::FieldType type,
                   v1::Value* out) {
  int y = -1, mo = -1, d = -1, h = 0, mi = 0, s = 0;
  bool seen_hour = false;
  size_t ti = 0;
  auto digits = [&](size_t n, int* v) {
    if (ti + n > text.size()) return false;
    int x = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = text[ti + k];
      if (c < '0' || c > '9') return false;
      x = x * 10 + (c - '0');
    }
    ti += n;
    *v = x;
    return true;
  };
  for (size_t fi = 0; fi < format.size();) {
    if (format.compare(fi, 4, "YYYY") == 0) {
      if (!digits(4, &y)) return false;
      fi += 4;
    } else if (format.compare(fi, 2, "YY") == 0) {
      int yy;
      if (!digits(2, &yy)) return false;
      y = yy < 50 ? 2000 + yy : 1900 + yy;  // pivot 1950..2049
      fi += 2;
    } else if (format.compare(fi, 2, "MM") == 0) {
      if (!digits(2, seen_hour ? &mi : &mo)) return false;
      fi += 2;
    } else if (format.compare(fi, 2, "DD") == 0) {
      if (!digits(2, &d)) return false;
      fi += 2;
    } else if (format.compare(fi, 2, "HH") == 0) {
      if (!digits(2, &h)) return false;
      seen_hour = true;
      fi += 2;
    } else if (format.compare(fi, 2, "SS") == 0) {
      if (!digits(2, &s)) return false;
      fi += 2;
    } else {
      if (ti >= text.size() || text[ti] != format[fi]) return false;
      ++ti;
      ++fi;
    }
  }
  if (ti != text.size()) return false;
  if (h > 23 || mi > 59 || s > 59) return false;
  if (type == v1::FIELD_TYPE_TIME) {
    auto* t = out->mutable_time_value();
    t->set_hours(h);
    t->set_minutes(mi);
    t->set_seconds(s);
    t->set_nanos(0);
    return true;
  }
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo)) return false;
  if (type == v1::FIELD_TYPE_DATE) {
    auto* dv = out->mutable_date_value();
    dv->set_year(y);
    dv->set_month(mo);
    dv->set_day(d);
    return true;
  }
  if (type == v1::FIELD_TYPE_TIMESTAMP) {
    auto* ts = out->mutable_timestamp_value();
    ts->set_seconds(DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s);
    ts->set_nanos(0);
    return true;
  }
  return false;
}

bool FormatByFormat(const v1::Value& v, const std::string& format, std::string* out) {
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (v.has_date_value()) {
    y = v.date_value().year();
    mo = v.date_value().month();
    d = v.date_value().day();
  } else if (v.has_time_value()) {
    h = v.time_value().hours();
    mi = v.time_value().minutes();
    s = v.time_value().seconds();
  } else if (v.has_timestamp_value()) {
    int64_t secs = v.timestamp_value().seconds();
    if (v.timestamp_value().has_utc_offset_minutes()) secs += v.timestamp_value().utc_offset_minutes() * 60;
    // Render through the ISO text, which already does civil-from-days.
    v1::Value naive;
    naive.mutable_timestamp_value()->set_seconds(secs);
    std::string iso = ValueToString(naive);  // YYYY-MM-DDTHH:MM:SS
    if (iso.size() < 19 || iso[4] != '-') return false;
    y = std::stoll(iso.substr(0, 4));
    mo = std::stoll(iso.substr(5, 2));
    d = std::stoll(iso.substr(8, 2));
    h = std::stoll(iso.substr(11, 2));
    mi = std::stoll(iso.substr(14, 2));
    s = std::stoll(iso.substr(17, 2));
  } else {
    return false;
  }
  out->clear();
  bool seen_hour = false;
  char buf[8];
  for (size_t fi = 0; fi < format.size();) {
    if (format.compare(fi, 4, "YYYY") == 0) {
      if (y < 0 || y > 9999) return false;
      std::snprintf(buf, sizeof buf, "%04d", static_cast<int>(y));
      fi += 4;
    } else if (format.compare(fi, 2, "YY") == 0) {
      if (y < 1950 || y > 2049) return false;  // outside the pivot window it would not read back
      std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(y % 100));
      fi += 2;
    } else if (format.compare(fi, 2, "MM") == 0) {
      std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(seen_hour ? mi : mo));
      fi += 2;
    } else if (format.compare(fi, 2, "DD") == 0) {
      std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(d));
      fi += 2;
    } else if (format.compare(fi, 2, "HH") == 0) {
      std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(h));
      seen_hour = true;
      fi += 2;
    } else if (format.compare(fi, 2, "SS") == 0) {
      std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(s));
      fi += 2;
    } else {
      buf[0] = format[fi++];
      buf[1] = '\0';
    }
    *out += buf;
  }
  return true;
}

// An iconv pair for one legacy character set. iconv descriptors keep state, so calls are
// serialized; conversions are short and this is off the identity fast path.
class Charset {
 public:
  static std::unique_ptr<Charset> Open(const std::string& name) {
    iconv_t to_utf8 = iconv_open("UTF-8", name.c_str());
    if (to_utf8 == reinterpret_cast<iconv_t>(-1)) return nullptr;
    iconv_t from_utf8 = iconv_open(name.c_str(), "UTF-8");
    if (from_utf8 == reinterpret_cast<iconv_t>(-1)) {
      iconv_close(to_utf8);
      return nullptr;
    }
    auto c = std::unique_ptr<Charset>(new Charset);
    c->to_utf8_ = to_utf8;
    c->from_utf8_ = from_utf8;
    return c;
  }
  ~Charset() {
    iconv_close(to_utf8_);
    iconv_close(from_utf8_);
  }
  bool ToUtf8(const std::string& in, std::string* out) const { return Convert(to_utf8_, in, out); }
  bool FromUtf8(const std::string& in, std::string* out) const { return Convert(from_utf8_, in, out); }

 private:
  Charset() = default;
  bool Convert(iconv_t cd, const std::string& in, std::string* out) const {
    std::lock_guard<std::mutex> lock(mu_);
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
    out->assign(in.size() * 4 + 16, '\0');
    char* src = const_cast<char*>(in.data());
    size_t src_left = in.size();
    char* dst = out->data();
    size_t dst_left = out->size();
    if (iconv(cd, &src, &src_left, &dst, &dst_left) == static_cast<size_t>(-1)) return false;
    if (iconv(cd, nullptr, nullptr, &dst, &dst_left) == static_cast<size_t>(-1)) return false;
    out->resize(out->size() - dst_left);
    return true;
  }
  iconv_t to_utf8_{}, from_utf8_{};
  mutable std::mutex mu_;
};

FieldMapping::FieldMapping(FieldMapping&&) noexcept = default;
FieldMapping& FieldMapping::operator=(FieldMapping&&) noexcept = default;
FieldMapping::~FieldMapping() = default;

Result<FieldMapping> FieldMapping::Identity(const connector::v1::RawField& raw) {
  FieldConfig cfg;
  cfg.name = raw.name();
  cfg.column = raw.name();
  return Create(cfg, raw);
}

Result<FieldMapping> FieldMapping::Create(const FieldConfig& cfg, const connector::v1::RawField& raw) {
  FieldMapping m;
  m.cfg_ = cfg;
  m.raw_ = raw;
  if (m.cfg_.type == v1::FIELD_TYPE_UNSPECIFIED) m.cfg_.type = raw.type();
  const v1::FieldType rt = raw.type(), at = m.cfg_.type;
  auto fail = [&](const std::string& why) {
    return InvalidArgument("field '" + cfg.name + "' (raw " + raw.name() + ", " +
                               FieldTypeName(rt) + "): " + why,
                           "INVALID_MAPPING", cfg.name);
  };
  const bool text_raw = rt == v1::FIELD_TYPE_STRING || rt == v1::FIELD_TYPE_BYTES;
  if (!cfg.charset.empty()) {
    if (!text_raw) return fail("charset applies only to text or bytes");
    m.charset_ = Charset::Open(cfg.charset);
    if (!m.charset_) return fail("unknown character set '" + cfg.charset + "' (see iconv -l)");
  }
  if (cfg.trim != "none" && !text_raw) return fail("trim applies only to text");
  if (!cfg.format.empty()) {
    if (!IsTemporal(at)) return fail("format applies only to date, time and timestamp fields");
    if (!text_raw && rt != v1::FIELD_TYPE_INT64) return fail("format needs a text or integer raw field");
    v1::Value probe;
    probe.mutable_date_value()->set_year(2000), probe.mutable_date_value()->set_month(1),
        probe.mutable_date_value()->set_day(2);
    if (at == v1::FIELD_TYPE_TIME) probe.mutable_time_value()->set_hours(1);
    if (at == v1::FIELD_TYPE_TIMESTAMP) probe.mutable_timestamp_value()->set_seconds(946771200);
    std::string text;
    v1::Value back;
    if (!FormatByFormat(probe, cfg.format, &text) || !ParseByFormat(text, cfg.format, at, &back)) {
      return fail("format '" + cfg.format + "' is not a layout of YYYY, YY, MM, DD, HH, MM, SS for a " +
                  FieldTypeName(at));
    }
  }
  if ((!cfg.decimal_separator.empty() || !cfg.grouping_separator.empty()) &&
      !(at == v1::FIELD_TYPE_DECIMAL || at == v1::FIELD_TYPE_DOUBLE) ) {
    return fail("decimal_separator/grouping_separator apply only to decimal or double fields");
  }
  if (cfg.scale >= 0 && !(rt == v1::FIELD_TYPE_INT64 && at == v1::FIELD_TYPE_DECIMAL)) {
    return fail("scale applies only to a decimal field over an integer raw field");
  }
  // Which raw -> API type pairs convert.
  bool ok = rt == at || text_raw || at == v1::FIELD_TYPE_STRING;
  if (rt == v1::FIELD_TYPE_INT64) ok = ok || at == v1::FIELD_TYPE_DECIMAL || at == v1::FIELD_TYPE_DOUBLE || at == v1::FIELD_TYPE_BOOL || IsTemporal(at);
  if (rt == v1::FIELD_TYPE_DECIMAL) ok = ok || at == v1::FIELD_TYPE_INT64 || at == v1::FIELD_TYPE_DOUBLE;
  if (rt == v1::FIELD_TYPE_BOOL) ok = ok || at == v1::FIELD_TYPE_INT64;
  if (IsTemporal(at) && IsTemporal(rt) && rt != at) ok = false;
  if (!ok) return fail(std::string("cannot present a ") + FieldTypeName(rt) + " raw field as " + FieldTypeName(at));
  if (IsTemporal(at) && rt == v1::FIELD_TYPE_INT64 && cfg.format.empty()) {
    return fail("an integer raw field needs a format to become a " + std::string(FieldTypeName(at)));
  }

  const bool plain = cfg.charset.empty() && cfg.trim == "none" && cfg.codes.empty() &&
                     cfg.null_values.empty() && cfg.decimal_separator.empty() &&
                     cfg.grouping_separator.empty() && cfg.scale < 0;
  m.identity_ = plain && rt == at && cfg.format.empty();
  m.trim_left_ = cfg.trim == "left" || cfg.trim == "both";
  m.trim_right_ = cfg.trim == "right" || cfg.trim == "both";
  m.trim_only_ = rt == v1::FIELD_TYPE_STRING && at == v1::FIELD_TYPE_STRING && cfg.trim != "none" &&
                 cfg.charset.empty() && cfg.codes.empty() && cfg.null_values.empty();
  const bool order_format = !cfg.format.empty() && OrderKeepingFormat(cfg.format) &&
                            cfg.trim == "none" && cfg.charset.empty() && cfg.codes.empty();
  const bool scaled = rt == v1::FIELD_TYPE_INT64 && at == v1::FIELD_TYPE_DECIMAL &&
                      cfg.trim == "none" && cfg.codes.empty();
  m.order_pushdown_ = (m.identity_ && rt != v1::FIELD_TYPE_DOUBLE) || order_format || scaled;
  m.equality_pushdown_ =
      m.order_pushdown_ ||
      (cfg.trim == "none" && cfg.decimal_separator.empty() && cfg.grouping_separator.empty() &&
       (rt == at || !cfg.format.empty() || (!cfg.codes.empty() && at == v1::FIELD_TYPE_STRING)));
  bool markers_sort_first = true;
  for (const auto& nv : cfg.null_values) {
    markers_sort_first = markers_sort_first && nv.find_first_not_of("0 ") == std::string::npos;
  }
  m.sortable_ = (m.identity_ || order_format || scaled) && markers_sort_first &&
                at != v1::FIELD_TYPE_BYTES;
  return m;
}

bool FieldMapping::CanPushDown(v1::Operator op) const {
  switch (op) {
    case v1::OPERATOR_EQ:
    case v1::OPERATOR_IN: return equality_pushdown_;
    case v1::OPERATOR_NE:
    case v1::OPERATOR_IS_NULL:
    case v1::OPERATOR_IS_NOT_NULL: return equality_pushdown_ && !has_null_markers();
    case v1::OPERATOR_LT:
    case v1::OPERATOR_LE:
    case v1::OPERATOR_GT:
    case v1::OPERATOR_GE: return order_pushdown_ && !has_null_markers();
    case v1::OPERATOR_PREFIX:
    case v1::OPERATOR_LIKE: return identity_ && cfg_.type == v1::FIELD_TYPE_STRING;
    default: return false;
  }
}

Status FieldMapping::ApiError(const std::string& what, const v1::Value& v) const {
  return InvalidArgument("field '" + cfg_.name + "': " + what + " " + Quote(ValueToString(v)),
                         "CONVERSION_FAILED", cfg_.name);
}

Status FieldMapping::ParseText(std::string_view text, v1::Value* out) const {
  auto bad = [&](const char* expected) {
    return Status(StatusCode::kDataLoss,
                  "field '" + cfg_.name + "' (raw " + cfg_.column + "): raw value " +
                      Quote(std::string(text)) + " is not " + expected,
                  "CONVERSION_FAILED", cfg_.name);
  };
  switch (cfg_.type) {
    case v1::FIELD_TYPE_STRING: out->set_string_value(text.data(), text.size()); return Status::OK();
    case v1::FIELD_TYPE_BYTES: out->set_bytes_value(text.data(), text.size()); return Status::OK();
    case v1::FIELD_TYPE_INT64: {
      int64_t v;
      if (!ParseInt64(text, &v)) return bad("a whole number");
      out->set_int_value(v);
      return Status::OK();
    }
    case v1::FIELD_TYPE_DECIMAL: {
      std::string d;
      if (!CanonicalDecimal(text, cfg_.decimal_separator, cfg_.grouping_separator, &d)) {
        return bad("a decimal number in the configured format");
      }
      out->mutable_decimal_value()->set_value(d);
      return Status::OK();
    }
    case v1::FIELD_TYPE_DOUBLE: {
      std::string d;
      if (!CanonicalDecimal(text, cfg_.decimal_separator, cfg_.grouping_separator, &d)) {
        return bad("a number in the configured format");
      }
      out->set_double_value(std::strtod(d.c_str(), nullptr));
      return Status::OK();
    }
    case v1::FIELD_TYPE_BOOL: {
      std::string t = TrimBlanks(text, true, true);
      for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (t == "true" || t == "1" || t == "j" || t == "y" || t == "ja" || t == "yes") {
        out->set_bool_value(true);
      } else if (t == "false" || t == "0" || t == "n" || t == "nein" || t == "no") {
        out->set_bool_value(false);
      } else {
        return bad("a truth value");
      }
      return Status::OK();
    }
    case v1::FIELD_TYPE_DATE:
    case v1::FIELD_TYPE_TIME:
    case v1::FIELD_TYPE_TIMESTAMP: {
      std::string fmt = cfg_.format;
      if (fmt.empty()) {
        fmt = cfg_.type == v1::FIELD_TYPE_DATE ? "YYYY-MM-DD"
              : cfg_.type == v1::FIELD_TYPE_TIME ? "HH:MM:SS" : "YYYY-MM-DD HH:MM:SS";
      }
      if (!ParseByFormat(text, fmt, cfg_.type, out)) {
        if (cfg_.format.empty() && cfg_.type == v1::FIELD_TYPE_TIMESTAMP &&
            ParseByFormat(text, "YYYY-MM-DDTHH:MM:SS", cfg_.type, out)) {
          return Status::OK();
        }
        return bad(("a valid " + std::string(FieldTypeName(cfg_.type)) + " in layout " + fmt).c_str());
      }
      return Status::OK();
    }
    default: return bad("convertible");
  }
}

Status FieldMapping::ToApi(const v1::Value& raw, v1::Value* out) const {
  if (IsNull(raw)) {
    out->set_null_value(v1::NULL_VALUE);
    return Status::OK();
  }
  if (identity_) {
    *out = raw;
    return Status::OK();
  }
  // The raw text is looked at through a view; a copy is made only where a conversion needs
  // one (character sets, numbers rendered as text), so the common path allocates nothing.
  std::string owned;
  std::string_view text;
  switch (raw.kind_case()) {
    case v1::Value::kStringValue:
    case v1::Value::kBytesValue: {
      const std::string& bytes = raw.has_string_value() ? raw.string_value() : raw.bytes_value();
      if (charset_) {
        if (!charset_->ToUtf8(bytes, &owned)) {
          return Status(StatusCode::kDataLoss,
                        "field '" + cfg_.name + "': raw value is not valid " + cfg_.charset,
                        "CONVERSION_FAILED", cfg_.name);
        }
        text = owned;
      } else {
        text = bytes;
      }
      break;
    }
    case v1::Value::kIntValue:
      if (cfg_.type == v1::FIELD_TYPE_INT64 && cfg_.codes.empty() && cfg_.null_values.empty()) {
        *out = raw;
        return Status::OK();
      }
      if (cfg_.scale > 0 && cfg_.codes.empty() && cfg_.null_values.empty()) {
        int64_t v = raw.int_value();
        std::string digits = std::to_string(v < 0 ? -(v + 1) + 1ULL : static_cast<uint64_t>(v));
        if (digits.size() <= static_cast<size_t>(cfg_.scale)) {
          digits.insert(0, cfg_.scale + 1 - digits.size(), '0');
        }
        digits.insert(digits.size() - cfg_.scale, ".");
        out->mutable_decimal_value()->set_value((v < 0 ? "-" : "") + digits);
        return Status::OK();
      }
      if (cfg_.type == v1::FIELD_TYPE_BOOL && cfg_.codes.empty()) {
        out->set_bool_value(raw.int_value() != 0);
        return Status::OK();
      }
      owned = std::to_string(raw.int_value());
      if (!cfg_.format.empty()) {
        // Integer-stored dates lose leading zeros (e.g. 10199 for 0101 99 in DDMMYY).
        size_t width = 0;
        for (char c : cfg_.format) width += std::isalpha(static_cast<unsigned char>(c)) ? 1 : 0;
        if (owned.size() < width && raw.int_value() >= 0) owned.insert(0, width - owned.size(), '0');
      }
      text = owned;
      break;
    case v1::Value::kDecimalValue:
      if (cfg_.type == v1::FIELD_TYPE_DOUBLE) {
        out->set_double_value(std::strtod(raw.decimal_value().value().c_str(), nullptr));
        return Status::OK();
      }
      text = raw.decimal_value().value();
      break;
    case v1::Value::kBoolValue:
      if (cfg_.type == v1::FIELD_TYPE_INT64) {
        out->set_int_value(raw.bool_value() ? 1 : 0);
        return Status::OK();
      }
      text = raw.bool_value() ? "true" : "false";
      break;
    default:
      if (TypeOf(raw) == cfg_.type) {
        *out = raw;
        return Status::OK();
      }
      owned = ValueToString(raw);
      text = owned;
  }
  for (const auto& nv : cfg_.null_values) {
    if (TrimView(text, false, true) == TrimView(nv, false, true)) {
      out->set_null_value(v1::NULL_VALUE);
      return Status::OK();
    }
  }
  if (trim_left_ || trim_right_) text = TrimView(text, trim_left_, trim_right_);
  if (!cfg_.codes.empty()) {
    std::string_view key = cfg_.trim == "none" ? TrimView(text, true, true) : text;
    for (const auto& [r, a] : cfg_.codes) {
      if (r == key) return ParseText(a, out);
    }
    return Status(StatusCode::kDataLoss,
                  "field '" + cfg_.name + "' (raw " + cfg_.column + "): raw code " + Quote(std::string(key)) +
                      " is not in the configured code list",
                  "CONVERSION_FAILED", cfg_.name);
  }
  return ParseText(text, out);
}

std::string_view FieldMapping::TrimmedText(std::string_view s) const {
  return TrimView(s, trim_left_, trim_right_);
}

Status FieldMapping::ToApiMove(v1::Value* raw, v1::Value* out) const {
  if (identity_ || IsNull(*raw)) {
    if (IsNull(*raw)) raw->set_null_value(v1::NULL_VALUE);
    out->Swap(raw);
    return Status::OK();
  }
  if (trim_only_ && raw->has_string_value()) {
    // Blank-padded CHAR columns are the most common conversion: trim in place, then hand the
    // string over instead of copying it.
    std::string* str = raw->mutable_string_value();
    std::string_view t = TrimView(*str, trim_left_, trim_right_);
    size_t start = static_cast<size_t>(t.data() - str->data());
    str->resize(start + t.size());
    str->erase(0, start);
    out->Swap(raw);
    return Status::OK();
  }
  return ToApi(*raw, out);
}

Status FieldMapping::FormatText(const v1::Value& api, std::string* out) const {
  switch (api.kind_case()) {
    case v1::Value::kDecimalValue:
    case v1::Value::kDoubleValue:
    case v1::Value::kIntValue: {
      std::string s = ValueToString(api);
      if (cfg_.decimal_separator.empty() && cfg_.grouping_separator.empty()) {
        *out = s;
        return Status::OK();
      }
      bool neg = !s.empty() && s[0] == '-';
      if (neg) s.erase(0, 1);
      size_t dot = s.find('.');
      std::string ip = s.substr(0, dot), fp = dot == std::string::npos ? "" : s.substr(dot + 1);
      std::string grouped;
      for (size_t i = 0; i < ip.size(); ++i) {
        if (i > 0 && (ip.size() - i) % 3 == 0) grouped += cfg_.grouping_separator;
        grouped += ip[i];
      }
      *out = (neg ? "-" : "") + grouped;
      if (!fp.empty()) *out += (cfg_.decimal_separator.empty() ? "." : cfg_.decimal_separator) + fp;
      return Status::OK();
    }
    case v1::Value::kDateValue:
    case v1::Value::kTimeValue:
    case v1::Value::kTimestampValue:
      if (cfg_.format.empty()) {
        *out = ValueToString(api);
        if (api.has_timestamp_value() && out->size() >= 19) (*out)[10] = ' ';
        return Status::OK();
      }
      if (!FormatByFormat(api, cfg_.format, out)) {
        return ApiError("cannot be written in layout " + cfg_.format + ":", api);
      }
      return Status::OK();
    default: *out = ValueToString(api); return Status::OK();
  }
}

Status FieldMapping::ToRaw(const v1::Value& api, v1::Value* out) const {
  if (IsNull(api)) {
    if (!cfg_.null_values.empty()) {
      const std::string& marker = cfg_.null_values.front();
      if (raw_.type() == v1::FIELD_TYPE_INT64) {
        int64_t v;
        if (ParseInt64(marker, &v)) {
          out->set_int_value(v);
          return Status::OK();
        }
      }
      out->set_string_value(marker);
      return Status::OK();
    }
    out->set_null_value(v1::NULL_VALUE);
    return Status::OK();
  }
  if (TypeOf(api) != cfg_.type) {
    return InvalidArgument("field '" + cfg_.name + "' is " + FieldTypeName(cfg_.type) + ", got " +
                               FieldTypeName(TypeOf(api)) + " " + Quote(ValueToString(api)),
                           "TYPE_MISMATCH", cfg_.name);
  }
  if (identity_) {
    *out = api;
    return Status::OK();
  }
  const v1::FieldType rt = raw_.type();
  // Typed raw fields without text conversions.
  if (cfg_.codes.empty() && cfg_.null_values.empty()) {
    if (rt == cfg_.type) {
      *out = api;
      if (rt != v1::FIELD_TYPE_STRING) return Status::OK();
    } else if (cfg_.scale >= 0 && rt == v1::FIELD_TYPE_INT64) {
      std::string d = api.decimal_value().value();
      bool neg = !d.empty() && d[0] == '-';
      if (neg) d.erase(0, 1);
      size_t dot = d.find('.');
      std::string ip = d.substr(0, dot), fp = dot == std::string::npos ? "" : d.substr(dot + 1);
      while (fp.size() > static_cast<size_t>(cfg_.scale) && fp.back() == '0') fp.pop_back();
      if (fp.size() > static_cast<size_t>(cfg_.scale)) {
        return ApiError("has more than " + std::to_string(cfg_.scale) + " decimal places:", api);
      }
      fp.append(cfg_.scale - fp.size(), '0');
      int64_t v;
      if (!ParseInt64((neg ? "-" : "") + ip + fp, &v)) return ApiError("is out of range:", api);
      out->set_int_value(v);
      return Status::OK();
    } else if (rt == v1::FIELD_TYPE_DECIMAL && cfg_.type == v1::FIELD_TYPE_INT64) {
      out->mutable_decimal_value()->set_value(std::to_string(api.int_value()));
      return Status::OK();
    } else if (rt == v1::FIELD_TYPE_DOUBLE && cfg_.type != v1::FIELD_TYPE_STRING) {
      out->set_double_value(std::strtod(ValueToString(api).c_str(), nullptr));
      return Status::OK();
    } else if (rt == v1::FIELD_TYPE_INT64 && cfg_.type == v1::FIELD_TYPE_BOOL) {
      out->set_int_value(api.bool_value() ? 1 : 0);
      return Status::OK();
    } else if (rt == v1::FIELD_TYPE_BOOL && cfg_.type == v1::FIELD_TYPE_INT64) {
      if (api.int_value() != 0 && api.int_value() != 1) return ApiError("must be 0 or 1, got", api);
      out->set_bool_value(api.int_value() == 1);
      return Status::OK();
    }
  }
  std::string text;
  if (cfg_.type == v1::FIELD_TYPE_STRING) {
    text = api.string_value();
  } else if (cfg_.type == v1::FIELD_TYPE_BYTES) {
    text = api.bytes_value();
  } else {
    FA_RETURN_IF_ERROR(FormatText(api, &text));
  }
  if (!cfg_.codes.empty()) {
    bool found = false;
    for (const auto& [r, a] : cfg_.codes) {
      if (a == text) {
        text = r;
        found = true;
        break;
      }
    }
    if (!found) {
      std::string allowed;
      for (const auto& [r, a] : cfg_.codes) allowed += (allowed.empty() ? "" : ", ") + a;
      return InvalidArgument("field '" + cfg_.name + "': " + Quote(text) +
                                 " is not one of the allowed values (" + allowed + ")",
                             "CONVERSION_FAILED", cfg_.name);
    }
  }
  for (const auto& nv : cfg_.null_values) {
    if (TrimBlanks(text, false, true) == TrimBlanks(nv, false, true)) {
      return ApiError("would be stored as the NULL marker:", api);
    }
  }
  if (charset_) {
    std::string enc;
    if (!charset_->FromUtf8(text, &enc)) {
      return InvalidArgument("field '" + cfg_.name + "': " + Quote(text) +
                                 " holds a character that " + cfg_.charset + " cannot represent",
                             "UNREPRESENTABLE_CHARACTER", cfg_.name);
    }
    text = std::move(enc);
  }
  switch (rt) {
    case v1::FIELD_TYPE_STRING: out->set_string_value(text); return Status::OK();
    case v1::FIELD_TYPE_BYTES: out->set_bytes_value(text); return Status::OK();
    case v1::FIELD_TYPE_INT64: {
      int64_t v;
      if (!ParseInt64(text, &v)) return ApiError("does not fit the integer raw field:", api);
      out->set_int_value(v);
      return Status::OK();
    }
    case v1::FIELD_TYPE_DECIMAL: {
      std::string d;
      if (!CanonicalDecimal(text, "", "", &d)) return ApiError("does not fit the decimal raw field:", api);
      out->mutable_decimal_value()->set_value(d);
      return Status::OK();
    }
    default: return ApiError("cannot be written to the raw field:", api);
  }
}

Status CoerceToType(const v1::Value& in, v1::FieldType type, const std::string& field,
                    v1::Value* out) {
  const v1::FieldType t = TypeOf(in);
  auto invalid = [&](const std::string& what) {
    return InvalidArgument("field '" + field + "': " + what, "INVALID_VALUE", field);
  };
  // Reject malformed values of the right type too: they would not compare or store sanely.
  if (in.has_decimal_value() && !IsCanonicalDecimal(in.decimal_value().value())) {
    return InvalidArgument("field '" + field + "': '" + in.decimal_value().value() +
                               "' is not a decimal (digits, optional '.' and digits)",
                           "TYPE_MISMATCH", field);
  }
  if (in.has_date_value()) {
    const auto& d = in.date_value();
    if (d.year() < 1 || d.year() > 9999 || d.month() < 1 || d.month() > 12 || d.day() < 1 ||
        d.day() > DaysInMonth(d.year(), d.month())) {
      return invalid("date " + ValueToString(in) + " does not exist");
    }
  }
  if (in.has_time_value()) {
    const auto& x = in.time_value();
    if (x.hours() < 0 || x.hours() > 23 || x.minutes() < 0 || x.minutes() > 59 || x.seconds() < 0 ||
        x.seconds() > 59 || x.nanos() < 0 || x.nanos() > 999999999) {
      return invalid("time is out of range");
    }
  }
  if (in.has_timestamp_value() &&
      (in.timestamp_value().nanos() < 0 || in.timestamp_value().nanos() > 999999999)) {
    return invalid("timestamp nanos out of range");
  }
  if (IsNull(in) || t == type) {
    *out = in;
    return Status::OK();
  }
  if (t == v1::FIELD_TYPE_INT64 && type == v1::FIELD_TYPE_DECIMAL) {
    out->mutable_decimal_value()->set_value(std::to_string(in.int_value()));
    return Status::OK();
  }
  if (t == v1::FIELD_TYPE_INT64 && type == v1::FIELD_TYPE_DOUBLE) {
    out->set_double_value(static_cast<double>(in.int_value()));
    return Status::OK();
  }
  if (t == v1::FIELD_TYPE_DECIMAL && type == v1::FIELD_TYPE_DOUBLE) {
    out->set_double_value(std::strtod(in.decimal_value().value().c_str(), nullptr));
    return Status::OK();
  }
  if (t == v1::FIELD_TYPE_DECIMAL && type == v1::FIELD_TYPE_INT64) {
    const std::string& d = in.decimal_value().value();
    size_t dot = d.find('.');
    int64_t v;
    if ((dot == std::string::npos || d.find_first_not_of('0', dot + 1) == std::string::npos) &&
        ParseInt64(d.substr(0, dot), &v)) {
      out->set_int_value(v);
      return Status::OK();
    }
  }
  return InvalidArgument("field '" + field + "' is " + FieldTypeName(type) + ", got " +
                             FieldTypeName(t) + " " + Quote(ValueToString(in)),
                         "TYPE_MISMATCH", field);
}

}  // namespace fachadapter
