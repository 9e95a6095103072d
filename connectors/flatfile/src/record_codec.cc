#include "record_codec.h"

#include <cstring>

namespace fachadapter::flatfile {

namespace {

Status FieldError(const FieldDef& f, std::string reason, const std::string& what) {
  return InvalidArgument("field " + f.name + ": " + what, std::move(reason), f.name);
}

std::string Hex(std::string_view b) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string s;
  for (size_t i = 0; i < b.size() && i < 16; ++i) {
    unsigned char c = static_cast<unsigned char>(b[i]);
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  if (b.size() > 16) s += "...";
  return s;
}

Status SetNumber(const FieldDef& f, const Number& n, v1::Value* out) {
  if (f.type() == v1::FIELD_TYPE_INT64) {
    if (!n.FitsInt64()) return FieldError(f, "NUMBER_OUT_OF_RANGE", "value does not fit int64");
    out->set_int_value(n.ToInt64());
  } else {
    std::string* s = out->mutable_decimal_value()->mutable_value();
    s->clear();
    n.AppendDecimal(s);
  }
  return Status::OK();
}

bool NumberFromValue(const v1::Value& v, int scale, char sep, Number* n) {
  switch (v.kind_case()) {
    case v1::Value::kIntValue: {
      std::string s = std::to_string(v.int_value());
      return ParseDecimalText(s, scale, n);
    }
    case v1::Value::kDecimalValue: return ParseDecimalText(v.decimal_value().value(), scale, n);
    case v1::Value::kStringValue: return ParseDecimalText(v.string_value(), scale, n, sep);
    default: return false;
  }
}

}  // namespace

int64_t RecordCodec::IntValue(std::string_view rec, int i) const {
  v1::Value v;
  if (!Decode(rec, i, &v).ok()) return -1;
  if (v.has_int_value()) return v.int_value();
  return -1;
}

Status RecordCodec::Decode(std::string_view rec, int i, v1::Value* out) const {
  const FieldDef& f = layout_->fields[static_cast<size_t>(i)];
  for (const auto& [counter, element] : f.odo) {
    if (IntValue(rec, counter) < element) {
      out->set_null_value(v1::NULL_VALUE);
      return Status::OK();
    }
  }
  if (f.offset >= rec.size()) {
    out->set_null_value(v1::NULL_VALUE);
    return Status::OK();
  }
  size_t len = f.length;
  if (f.offset + len > rec.size()) {
    if (f.kind != FieldKind::kText) {
      out->set_null_value(v1::NULL_VALUE);
      return Status::OK();
    }
    len = rec.size() - f.offset;
  }
  std::string_view b = rec.substr(f.offset, len);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(b.data());
  Number n;
  NumError err = NumError::kOk;
  switch (f.kind) {
    case FieldKind::kText: {
      if (trim_ != Trim::kNone) {
        const char sp = static_cast<char>(cs_->space());
        size_t s = 0, e = b.size();
        while (e > s && (b[e - 1] == sp || b[e - 1] == 0)) --e;
        if (trim_ == Trim::kBoth) {
          while (s < e && (b[s] == sp || b[s] == 0)) ++s;
        }
        b = b.substr(s, e - s);
      }
      std::string* s = out->mutable_string_value();
      s->clear();
      size_t bad = 0;
      if (!cs_->Decode(b, s, &bad)) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "byte 0x%02X is not a character of %s",
                      static_cast<unsigned char>(b[bad]), std::string(cs_->name()).c_str());
        return FieldError(f, "UNDECODABLE_BYTES", buf);
      }
      if (trim_ == Trim::kBoth && cs_->ascii_only()) {
        // Non-ASCII bytes read as spaces in this code page: trim again.
        size_t s0 = s->find_first_not_of(' ');
        if (s0 == std::string::npos) s->clear();
        else s->erase(0, s0), s->erase(s->find_last_not_of(' ') + 1);
      }
      return Status::OK();
    }
    case FieldKind::kPacked:
      err = DecodePacked(p, len, f.scale, &n);
      if (err != NumError::kOk) {
        return FieldError(f, "INVALID_PACKED_DECIMAL",
                          std::string("invalid packed decimal (") + NumErrorText(err) +
                              ") in bytes " + Hex(b));
      }
      break;
    case FieldKind::kZoned:
      err = DecodeZoned(p, len, *cs_, f.is_signed, f.sign_pos, f.sign_separate, f.scale, &n);
      if (err == NumError::kBlank) {
        out->set_null_value(v1::NULL_VALUE);
        return Status::OK();
      }
      if (err != NumError::kOk) {
        return FieldError(f, "INVALID_ZONED_DECIMAL",
                          std::string("invalid zoned decimal (") + NumErrorText(err) +
                              ") in bytes " + Hex(b));
      }
      break;
    case FieldKind::kBinary:
    case FieldKind::kNativeBinary:
      err = DecodeBinary(p, len, f.is_signed, f.scale, &n);
      if (err != NumError::kOk) return FieldError(f, "INVALID_NUMBER", NumErrorText(err));
      if (f.kind == FieldKind::kBinary) {
        int sig = 0;
        for (int k = 0; k < n.ndigits; ++k) {
          if (n.digits[k] != '0') {
            sig = n.ndigits - k;
            break;
          }
        }
        if (sig > f.digits) {
          out->set_null_value(v1::NULL_VALUE);
          return Status::OK();
        }
      }
      break;
    case FieldKind::kDecimalText: {
      std::string tmp;
      size_t bad = 0;
      if (!cs_->Decode(b, &tmp, &bad)) {
        return FieldError(f, "UNDECODABLE_BYTES", "undecodable byte in number");
      }
      if (tmp.find_first_not_of(' ') == std::string::npos) {
        out->set_null_value(v1::NULL_VALUE);
        return Status::OK();
      }
      if (!ParseDecimalText(tmp, f.scale, &n, f.decimal_sep)) {
        return FieldError(f, "INVALID_NUMBER", "'" + tmp + "' is not a number");
      }
      break;
    }
  }
  return SetNumber(f, n, out);
}

Status RecordCodec::Encode(const v1::Value& v, int i, std::string* rec) const {
  const FieldDef& f = layout_->fields[static_cast<size_t>(i)];
  if (rec->size() < f.offset + f.length) rec->resize(f.offset + f.length, static_cast<char>(cs_->space()));
  uint8_t* dst = reinterpret_cast<uint8_t*>(rec->data()) + f.offset;
  const bool is_null = v.kind_case() == v1::Value::KIND_NOT_SET || v.has_null_value();
  if (f.kind == FieldKind::kText) {
    std::string enc;
    if (!is_null) {
      std::string text;
      if (v.has_string_value()) text = v.string_value();
      else if (v.has_int_value()) text = std::to_string(v.int_value());
      else if (v.has_decimal_value()) text = v.decimal_value().value();
      else return FieldError(f, "TYPE_MISMATCH", "expects a string");
      Status s = cs_->EncodeStatus(text, &enc);
      if (!s.ok()) return FieldError(f, s.reason(), s.message());
    }
    if (enc.size() > f.length) {
      return FieldError(f, "VALUE_TOO_LONG", "value needs " + std::to_string(enc.size()) +
                                                 " bytes, the field holds " + std::to_string(f.length));
    }
    std::memcpy(dst, enc.data(), enc.size());
    std::memset(dst + enc.size(), cs_->space(), f.length - enc.size());
    return Status::OK();
  }
  Number n;
  if (is_null) {
    if (f.kind == FieldKind::kZoned || f.kind == FieldKind::kDecimalText) {
      std::memset(dst, cs_->space(), f.length);  // blank = NULL
      return Status::OK();
    }
    return FieldError(f, "NULL_NOT_ALLOWED", "a binary or packed field cannot be NULL");
  }
  if (!NumberFromValue(v, f.scale, f.decimal_sep, &n)) {
    return FieldError(f, "TYPE_MISMATCH",
                      "expects a number with at most " + std::to_string(f.scale) + " decimals");
  }
  bool ok = false;
  switch (f.kind) {
    case FieldKind::kPacked: ok = EncodePacked(n, f.length, f.is_signed, dst); break;
    case FieldKind::kZoned:
      ok = EncodeZoned(n, f.length, *cs_, f.is_signed, f.sign_pos, f.sign_separate, dst);
      break;
    case FieldKind::kBinary:
    case FieldKind::kNativeBinary: {
      int sig = 0;
      for (int k = 0; k < n.ndigits; ++k) {
        if (n.digits[k] != '0') {
          sig = n.ndigits - k;
          break;
        }
      }
      ok = (f.kind == FieldKind::kNativeBinary || sig <= f.digits) &&
           EncodeBinary(n, f.length, f.is_signed, dst);
      break;
    }
    case FieldKind::kDecimalText: {
      std::string t;
      n.AppendDecimal(&t);
      if (f.decimal_sep != '.') {
        for (char& c : t) {
          if (c == '.') c = f.decimal_sep;
        }
      }
      std::string enc;
      uint32_t bad_char = 0;
      ok = t.size() <= f.length && cs_->Encode(t, &enc, &bad_char);
      if (ok) {
        size_t padn = f.length - enc.size();
        if (f.zero_pad) {
          // Sign first, then zeros: "-0000012".
          size_t sign = (!enc.empty() && enc[0] == static_cast<char>(cs_->FromAscii('-'))) ? 1 : 0;
          std::memcpy(dst, enc.data(), sign);
          std::memset(dst + sign, cs_->FromAscii('0'), padn);
          std::memcpy(dst + sign + padn, enc.data() + sign, enc.size() - sign);
        } else {
          std::memset(dst, cs_->space(), padn);  // right-aligned
          std::memcpy(dst + padn, enc.data(), enc.size());
        }
      }
      break;
    }
    default: break;
  }
  if (!ok) {
    std::string t;
    n.AppendDecimal(&t);
    return FieldError(f, "NUMBER_OUT_OF_RANGE", "value " + t + " does not fit " + f.native);
  }
  return Status::OK();
}

std::string RecordCodec::Blank() const {
  std::string rec(layout_->length, static_cast<char>(cs_->space()));
  v1::Value zero;
  zero.set_int_value(0);
  for (size_t i = 0; i < layout_->fields.size(); ++i) {
    const FieldDef& f = layout_->fields[i];
    if (f.kind == FieldKind::kPacked || f.kind == FieldKind::kBinary ||
        f.kind == FieldKind::kNativeBinary || f.kind == FieldKind::kZoned) {
      (void)Encode(zero, static_cast<int>(i), &rec);
    }
  }
  return rec;
}

}  // namespace fachadapter::flatfile
