#include "codecs.h"

#include <cstdio>
#include <cstring>
#include <mutex>

namespace fachadapter::flatfile {

namespace {
#include "codepages.inc"

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one UTF-8 sequence at in[i]; returns its length or 0 if invalid.
size_t NextUtf8(std::string_view in, size_t i, uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(in[i]);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n;
  uint32_t v, min;
  if ((c & 0xE0) == 0xC0) n = 2, v = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0) n = 3, v = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0) n = 4, v = c & 0x07, min = 0x10000;
  else return 0;
  if (i + n > in.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = static_cast<unsigned char>(in[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    v = (v << 6) | (d & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

struct Registry {
  Charset utf8{"utf-8", nullptr, false, false};
  Charset latin1{"iso-8859-1", kLatin1Table, false, false};
  Charset latin9{"iso-8859-15", kLatin9Table, false, false};
  Charset cp1252{"windows-1252", kCp1252Table, false, false};
  Charset cp850{"cp850", kCp850Table, false, false};
  Charset cp037{"cp037", kCp037Table, true, false};
  Charset cp500{"cp500", kCp500Table, true, false};
  Charset cp273{"cp273", kCp273Table, true, false};
  Charset cp1141{"cp1141", kCp1141Table, true, false};
  Charset common{"ebcdic-common", kCp037Table, true, true};
};

const Registry& Reg() {
  static const Registry r;
  return r;
}
}  // namespace

Charset::Charset(const char* name, const uint16_t* table, bool ebcdic, bool ascii_only)
    : name_(name), table_(table), ebcdic_(ebcdic), ascii_only_(ascii_only) {
  for (int b = 0; b < 256; ++b) {
    uint32_t cp = table_ ? table_[b] : (b < 0x80 ? b : 0xFFFF);
    if (cp >= 0x20 && cp < 0x7F) {
      to_ascii_[b] = static_cast<char>(cp);
      from_ascii_[cp] = static_cast<uint8_t>(b);
    }
  }
  if (ascii_only_) {
    // As in Cobrix' common EBCDIC table: the soft hyphen reads as '-'.
    for (int b = 0; b < 256; ++b) {
      if (table_[b] == 0x00AD) to_ascii_[b] = '-';
    }
  }
}

const Charset* Charset::ByName(std::string_view n) {
  const Registry& r = Reg();
  struct Alias {
    const char* name;
    const Charset* cs;
  };
  const Alias aliases[] = {
      {"utf-8", &r.utf8},        {"utf8", &r.utf8},           {"iso-8859-1", &r.latin1},
      {"latin1", &r.latin1},     {"latin-1", &r.latin1},      {"iso8859-1", &r.latin1},
      {"iso-8859-15", &r.latin9}, {"latin9", &r.latin9},      {"iso8859-15", &r.latin9},
      {"windows-1252", &r.cp1252}, {"cp1252", &r.cp1252},     {"cp850", &r.cp850},
      {"ibm850", &r.cp850},      {"ibm-850", &r.cp850},       {"cp037", &r.cp037},
      {"ibm037", &r.cp037},      {"ibm-037", &r.cp037},       {"ebcdic", &r.cp037},
      {"cp500", &r.cp500},       {"ibm500", &r.cp500},        {"ibm-500", &r.cp500},
      {"cp273", &r.cp273},       {"ibm273", &r.cp273},        {"ibm-273", &r.cp273},
      {"cp1141", &r.cp1141},     {"ibm1141", &r.cp1141},      {"ibm-1141", &r.cp1141},
      {"ebcdic-common", &r.common},
  };
  for (const auto& a : aliases) {
    if (IEquals(n, a.name)) return a.cs;
  }
  return nullptr;
}

const char* Charset::KnownNames() {
  return "utf-8, iso-8859-1, iso-8859-15, windows-1252, cp850, cp037, cp500, cp273, cp1141, "
         "ebcdic-common";
}

bool Charset::Validate(std::string_view in, size_t* bad_offset) const {
  if (table_) {
    for (size_t i = 0; i < in.size(); ++i) {
      if (!ascii_only_ && table_[static_cast<uint8_t>(in[i])] == 0xFFFF) {
        *bad_offset = i;
        return false;
      }
    }
    return true;
  }
  // UTF-8. ASCII runs are checked eight bytes at a time.
  size_t i = 0;
  while (i < in.size()) {
    if (i + 8 <= in.size()) {
      uint64_t w;
      std::memcpy(&w, in.data() + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    } else if (static_cast<uint8_t>(in[i]) < 0x80) {
      ++i;
      continue;
    }
    uint32_t cp;
    size_t n = NextUtf8(in, i, &cp);
    if (n == 0) {
      *bad_offset = i;
      return false;
    }
    i += n;
  }
  return true;
}

bool Charset::Decode(std::string_view in, std::string* out, size_t* bad_offset) const {
  if (!table_) {
    if (!Validate(in, bad_offset)) return false;
    out->append(in.data(), in.size());
    return true;
  }
  // Single-byte set: at most 3 UTF-8 bytes per byte (all code points are in the BMP).
  const size_t base = out->size();
  out->resize(base + in.size() * 3);
  char* w = out->data() + base;
  for (size_t i = 0; i < in.size(); ++i) {
    uint8_t b = static_cast<uint8_t>(in[i]);
    if (ascii_only_) {
      *w++ = to_ascii_[b] ? to_ascii_[b] : ' ';
      continue;
    }
    uint32_t cp = table_[b];
    if (cp < 0x80) {
      *w++ = static_cast<char>(cp);
    } else if (cp == 0xFFFF) {
      out->resize(base);
      *bad_offset = i;
      return false;
    } else if (cp < 0x800) {
      *w++ = static_cast<char>(0xC0 | (cp >> 6));
      *w++ = static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *w++ = static_cast<char>(0xE0 | (cp >> 12));
      *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *w++ = static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  out->resize(static_cast<size_t>(w - out->data()));
  return true;
}

void Charset::BuildReverse() const {
  reverse_ = std::make_unique<uint8_t[]>(0x10000);
  reverse_ok_ = std::make_unique<uint8_t[]>(0x10000 / 8);
  std::memset(reverse_ok_.get(), 0, 0x10000 / 8);
  for (int b = 255; b >= 0; --b) {  // lowest byte wins for duplicates
    uint32_t cp = table_[b];
    if (cp == 0xFFFF) continue;
    if (ascii_only_ && !(cp >= 0x20 && cp < 0x7F)) continue;
    reverse_[cp] = static_cast<uint8_t>(b);
    reverse_ok_[cp >> 3] |= static_cast<uint8_t>(1u << (cp & 7));
  }
}

bool Charset::Encode(std::string_view in, std::string* out, uint32_t* bad_char) const {
  if (!table_) {
    size_t bad;
    std::string tmp;
    if (!Decode(in, &tmp, &bad)) {
      *bad_char = 0xFFFFFFFF;
      return false;
    }
    out->append(in.data(), in.size());
    return true;
  }
  static std::mutex mu;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!reverse_) BuildReverse();
  }
  size_t i = 0;
  while (i < in.size()) {
    uint32_t cp;
    size_t n = NextUtf8(in, i, &cp);
    if (n == 0) {
      *bad_char = 0xFFFFFFFF;
      return false;
    }
    if (cp > 0xFFFF || !(reverse_ok_[cp >> 3] & (1u << (cp & 7)))) {
      *bad_char = cp;
      return false;
    }
    out->push_back(static_cast<char>(reverse_[cp]));
    i += n;
  }
  return true;
}

std::string CodePointName(uint32_t cp) {
  if (cp == 0xFFFFFFFF) return "invalid UTF-8";
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", cp);
  return buf;
}

Status Charset::DecodeStatus(std::string_view in, std::string* out) const {
  size_t bad = 0;
  if (Decode(in, out, &bad)) return Status::OK();
  char buf[128];
  std::snprintf(buf, sizeof buf, "byte 0x%02X at offset %zu is not a character of %s",
                static_cast<unsigned char>(in[bad]), bad, name_);
  return InvalidArgument(buf, "UNDECODABLE_BYTES");
}

Status Charset::EncodeStatus(std::string_view in, std::string* out) const {
  uint32_t bad = 0;
  if (Encode(in, out, &bad)) return Status::OK();
  if (bad == 0xFFFFFFFF) return InvalidArgument("value is not valid UTF-8", "INVALID_UTF8");
  std::string msg = "character " + CodePointName(bad);
  if (bad >= 0x20 && bad < 0x10000) {
    std::string ch;
    AppendUtf8(bad, &ch);
    msg += " '" + ch + "'";
  }
  msg += " cannot be written in code page ";
  msg += name_;
  return InvalidArgument(msg, "UNMAPPABLE_CHARACTER");
}

// ---- Numbers ----

bool Number::FitsInt64() const {
  if (scale > 0) {
    for (int i = ndigits - scale; i < ndigits; ++i) {
      if (i >= 0 && digits[i] != '0') return false;
    }
  }
  int n = IntegerDigits();
  if (n < 19) return true;
  if (n > 19) return false;
  // 19 digits: compare with 9223372036854775807 / 808.
  const char* lim = negative ? "9223372036854775808" : "9223372036854775807";
  int start = ndigits - (scale > 0 ? scale : 0) - n;
  return std::memcmp(digits + start, lim, 19) <= 0;
}

int Number::IntegerDigits() const {
  int int_end = ndigits - (scale > 0 ? scale : 0);
  int i = 0;
  while (i < int_end && digits[i] == '0') ++i;
  return int_end - i;
}

int64_t Number::ToInt64() const {
  int int_end = ndigits - (scale > 0 ? scale : 0);
  uint64_t v = 0;
  for (int i = 0; i < int_end; ++i) v = v * 10 + static_cast<uint64_t>(digits[i] - '0');
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

void Number::AppendDecimal(std::string* out) const {
  int int_end = ndigits - (scale > 0 ? scale : 0);
  bool zero = true;
  for (int i = 0; i < ndigits; ++i) {
    if (digits[i] != '0') zero = false;
  }
  if (negative && !zero) out->push_back('-');
  int i = 0;
  while (i < int_end - 1 && digits[i] == '0') ++i;
  if (int_end <= 0) {
    out->push_back('0');
  } else {
    out->append(digits + i, static_cast<size_t>(int_end - i));
  }
  if (scale > 0) {
    out->push_back('.');
    for (int k = 0; k < scale - ndigits; ++k) out->push_back('0');
    int from = int_end < 0 ? 0 : int_end;
    out->append(digits + from, static_cast<size_t>(ndigits - from));
  } else if (scale < 0) {
    out->append(static_cast<size_t>(-scale), '0');
  }
}

const char* NumErrorText(NumError e) {
  switch (e) {
    case NumError::kOk: return "ok";
    case NumError::kBadDigit: return "invalid digit";
    case NumError::kBadSign: return "invalid sign";
    case NumError::kBlank: return "blank";
    case NumError::kOverflow: return "value does not fit the field";
  }
  return "?";
}

NumError DecodePacked(const uint8_t* p, size_t n, int scale, Number* out) {
  out->negative = false;
  out->ndigits = 0;
  out->scale = scale;
  if (n == 0 || n * 2 - 1 > 38) return NumError::kOverflow;
  for (size_t i = 0; i < n; ++i) {
    uint8_t hi = p[i] >> 4, lo = p[i] & 0x0F;
    if (hi > 9) return NumError::kBadDigit;
    out->digits[out->ndigits++] = static_cast<char>('0' + hi);
    if (i + 1 < n) {
      if (lo > 9) return NumError::kBadDigit;
      out->digits[out->ndigits++] = static_cast<char>('0' + lo);
    } else {
      if (lo < 0x0A) return NumError::kBadSign;
      out->negative = lo == 0x0D || lo == 0x0B;
    }
  }
  return NumError::kOk;
}

namespace {
// Right-aligns the digits of `v` into `width` digits (leading zeros); false if they don't fit.
bool AlignDigits(const Number& v, int width, char* dst) {
  int start = 0;
  while (start < v.ndigits && v.digits[start] == '0') ++start;
  int significant = v.ndigits - start;
  if (significant > width) return false;
  std::memset(dst, '0', static_cast<size_t>(width));
  std::memcpy(dst + width - significant, v.digits + start, static_cast<size_t>(significant));
  return true;
}
bool IsZero(const Number& v) {
  for (int i = 0; i < v.ndigits; ++i) {
    if (v.digits[i] != '0') return false;
  }
  return true;
}
}  // namespace

bool EncodePacked(const Number& v, size_t n, bool is_signed, uint8_t* out) {
  int width = static_cast<int>(n * 2 - 1);
  char d[40];
  if (width > 38 || !AlignDigits(v, width, d)) return false;
  bool neg = v.negative && !IsZero(v);
  if (neg && !is_signed) return false;
  int k = 0;
  for (size_t i = 0; i < n; ++i) {
    uint8_t hi = static_cast<uint8_t>(d[k++] - '0');
    uint8_t lo = i + 1 < n ? static_cast<uint8_t>(d[k++] - '0')
                           : static_cast<uint8_t>(!is_signed ? 0x0F : (neg ? 0x0D : 0x0C));
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

NumError DecodeZoned(const uint8_t* p, size_t n, const Charset& cs, bool is_signed,
                     SignPosition pos, bool separate, int scale, Number* out) {
  out->negative = false;
  out->ndigits = 0;
  out->scale = scale;
  const bool eb = cs.ebcdic();
  const uint8_t space = cs.space();
  bool blank = true;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != space && p[i] != 0) blank = false;
  }
  if (blank) return NumError::kBlank;
  size_t begin = 0, end = n;
  if (separate) {
    if (n < 2) return NumError::kBadSign;
    size_t at = pos == SignPosition::kLeading ? 0 : n - 1;
    char s = cs.ToAscii(p[at]);
    if (s == '-') out->negative = true;
    else if (s != '+' && !(s == ' ' && pos == SignPosition::kTrailing)) return NumError::kBadSign;
    if (pos == SignPosition::kLeading) begin = 1;
    else end = n - 1;
  }
  if (end - begin > 38) return NumError::kOverflow;
  size_t sign_at = separate || !is_signed ? n : (pos == SignPosition::kLeading ? begin : end - 1);
  bool leading = true;
  for (size_t i = begin; i < end; ++i) {
    uint8_t b = p[i];
    int digit = -1;
    if (i == sign_at) {
      if (eb) {
        uint8_t zone = b >> 4, low = b & 0x0F;
        if (low <= 9) {
          if (zone == 0xC || zone == 0xF || zone == 0xA || zone == 0xE) digit = low;
          else if (zone == 0xD || zone == 0xB) digit = low, out->negative = true;
        } else if (b == 0xC0) {
          digit = 0;  // '{'
        } else if (b == 0xD0) {
          digit = 0, out->negative = true;  // '}'
        }
      } else {
        if (b >= '0' && b <= '9') digit = b - '0';
        else if (b == '{') digit = 0;
        else if (b >= 'A' && b <= 'I') digit = b - 'A' + 1;
        else if (b == '}') digit = 0, out->negative = true;
        else if (b >= 'J' && b <= 'R') digit = b - 'J' + 1, out->negative = true;
        else if (b >= 0x70 && b <= 0x79) digit = b - 0x70, out->negative = true;
      }
      if (digit < 0) return NumError::kBadSign;
    } else {
      if (eb) {
        if (b >= 0xF0 && b <= 0xF9) digit = b - 0xF0;
      } else if (b >= '0' && b <= '9') {
        digit = b - '0';
      }
      if (digit < 0) {
        if (leading && (b == space || b == 0)) digit = 0;
        else return NumError::kBadDigit;
      } else {
        leading = false;
      }
    }
    out->digits[out->ndigits++] = static_cast<char>('0' + digit);
  }
  if (!is_signed && out->negative) return NumError::kBadSign;
  return NumError::kOk;
}

bool EncodeZoned(const Number& v, size_t n, const Charset& cs, bool is_signed, SignPosition pos,
                 bool separate, uint8_t* out) {
  int width = static_cast<int>(n) - (separate && is_signed ? 1 : 0);
  char d[40];
  if (width <= 0 || width > 38 || !AlignDigits(v, width, d)) return false;
  bool neg = v.negative && !IsZero(v);
  if (neg && !is_signed) return false;
  const bool eb = cs.ebcdic();
  uint8_t* digits = out + (separate && is_signed && pos == SignPosition::kLeading ? 1 : 0);
  for (int i = 0; i < width; ++i) digits[i] = eb ? static_cast<uint8_t>(0xF0 + (d[i] - '0'))
                                                 : static_cast<uint8_t>(d[i]);
  if (!is_signed) return true;
  if (separate) {
    uint8_t s = cs.FromAscii(neg ? '-' : '+');
    out[pos == SignPosition::kLeading ? 0 : n - 1] = s;
    return true;
  }
  uint8_t* sb = pos == SignPosition::kLeading ? &digits[0] : &digits[width - 1];
  int dg = d[pos == SignPosition::kLeading ? 0 : width - 1] - '0';
  if (eb) {
    *sb = static_cast<uint8_t>((neg ? 0xD0 : 0xC0) | dg);
  } else {
    *sb = static_cast<uint8_t>(dg == 0 ? (neg ? '}' : '{') : (neg ? 'J' + dg - 1 : 'A' + dg - 1));
  }
  return true;
}

NumError DecodeBinary(const uint8_t* p, size_t n, bool is_signed, int scale, Number* out) {
  out->negative = false;
  out->ndigits = 0;
  out->scale = scale;
  if (n != 1 && n != 2 && n != 4 && n != 8) return NumError::kOverflow;
  uint64_t u = 0;
  for (size_t i = 0; i < n; ++i) u = (u << 8) | p[i];
  if (is_signed && n < 8 && (p[0] & 0x80)) u |= ~uint64_t{0} << (n * 8);  // sign-extend
  uint64_t mag = u;
  if (is_signed && (p[0] & 0x80)) {
    out->negative = true;
    mag = 0 - u;
  }
  char buf[24];
  int k = 0;
  do {
    buf[k++] = static_cast<char>('0' + mag % 10);
    mag /= 10;
  } while (mag);
  while (k) out->digits[out->ndigits++] = buf[--k];
  return NumError::kOk;
}

bool EncodeBinary(const Number& v, size_t n, bool is_signed, uint8_t* out) {
  if (n != 1 && n != 2 && n != 4 && n != 8) return false;
  int start = 0;
  while (start < v.ndigits && v.digits[start] == '0') ++start;
  if (v.ndigits - start > 20) return false;
  uint64_t mag = 0;
  for (int i = start; i < v.ndigits; ++i) {
    uint64_t d = static_cast<uint64_t>(v.digits[i] - '0');
    if (mag > (UINT64_MAX - d) / 10) return false;
    mag = mag * 10 + d;
  }
  bool neg = v.negative && mag != 0;
  const unsigned bits = static_cast<unsigned>(n * 8);
  // Largest magnitude: 2^(bits-1) for negative signed, 2^(bits-1)-1 positive signed,
  // 2^bits-1 unsigned.
  uint64_t max_pos = is_signed ? (uint64_t{1} << (bits - 1)) - 1
                               : (bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1);
  if (neg) {
    if (!is_signed || mag > max_pos + 1) return false;
  } else if (mag > max_pos) {
    return false;
  }
  uint64_t u = neg ? 0 - mag : mag;
  for (size_t i = 0; i < n; ++i) out[n - 1 - i] = static_cast<uint8_t>(u >> (8 * i));
  return true;
}

bool ParseDecimalText(std::string_view t, int scale, Number* out, char decimal_sep,
                      char group_sep) {
  out->negative = false;
  out->ndigits = 0;
  out->scale = scale < 0 ? 0 : scale;
  size_t i = 0;
  while (i < t.size() && t[i] == ' ') ++i;
  size_t e = t.size();
  while (e > i && t[e - 1] == ' ') --e;
  t = t.substr(i, e - i);
  i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) out->negative = t[i++] == '-';
  int int_digits = 0, frac = 0;
  bool seen_sep = false, any = false;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (c >= '0' && c <= '9') {
      any = true;
      if (seen_sep) {
        if (frac >= out->scale) {
          if (c != '0') return false;  // would lose precision
          continue;
        }
        ++frac;
      } else {
        if (int_digits == 0 && c == '0') continue;
        ++int_digits;
      }
      if (out->ndigits >= 38) return false;
      out->digits[out->ndigits++] = c;
    } else if (c == decimal_sep && !seen_sep) {
      seen_sep = true;
    } else if (group_sep && c == group_sep && !seen_sep) {
      continue;
    } else {
      return false;
    }
  }
  if (!any) return false;
  if (int_digits == 0) {  // keep one integer digit
    std::memmove(out->digits + 1, out->digits, out->ndigits);
    out->digits[0] = '0';
    ++out->ndigits;
  }
  while (frac < out->scale) {
    if (out->ndigits >= 38) return false;
    out->digits[out->ndigits++] = '0';
    ++frac;
  }
  return true;
}

int BinarySizeForDigits(int digits) { return digits <= 4 ? 2 : (digits <= 9 ? 4 : 8); }

}  // namespace fachadapter::flatfile
