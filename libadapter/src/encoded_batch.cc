#include "encoded_batch.h"

#include <cstring>

#include "fachadapter/connector/wire.h"

namespace fachadapter {
namespace {

namespace tag = sdk::wire::tag;

// A bounds-checked reader over one message's bytes.
class Reader {
 public:
  explicit Reader(std::string_view b) : p_(b.data()), end_(b.data() + b.size()) {}
  bool done() const { return p_ == end_; }
  const char* pos() const { return p_; }

  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && p_ != end_; shift += 7) {
      const auto byte = static_cast<uint8_t>(*p_++);
      r |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) {
        *v = r;
        return true;
      }
    }
    return false;
  }

  // The payload of a length-delimited field whose tag was just read.
  bool Delimited(std::string_view* out) {
    uint64_t len;
    if (!Varint(&len) || len > static_cast<uint64_t>(end_ - p_)) return false;
    *out = std::string_view(p_, static_cast<size_t>(len));
    p_ += len;
    return true;
  }

  // Skips the value of the field whose tag `t` was just read; false if `t` is no valid tag.
  bool SkipField(uint64_t t) { return t >> 3 != 0 && t >> 3 <= UINT32_MAX && Skip(static_cast<uint32_t>(t & 7)); }

  // Skips the value of a field of wire type `type` (groups are not used by these messages).
  bool Skip(uint32_t type) {
    switch (type) {
      case 0: {
        uint64_t v;
        return Varint(&v);
      }
      case 1: return Advance(8);
      case 2: {
        std::string_view s;
        return Delimited(&s);
      }
      case 5: return Advance(4);
      default: return false;
    }
  }

 private:
  bool Advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  const char* p_;
  const char* end_;
};

// Protobuf refuses a proto3 string that is not UTF-8, so a client would fail on it: it is
// checked here, where the connector can still be named. ASCII, the common case, goes 8 bytes
// at a time.
bool ValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p != end) {
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

// Checks every field of a nested message (Decimal, Date, TimeOfDay, Timestamp) for bounds;
// `utf8_field` is the number of a string field to check as text, 0 for none.
bool NestedOk(std::string_view b, uint32_t utf8_field) {
  Reader r(b);
  while (!r.done()) {
    uint64_t t;
    if (!r.Varint(&t) || t >> 3 == 0 || t > UINT32_MAX) return false;
    if ((t >> 3) == utf8_field && (t & 7) == 2) {
      std::string_view s;
      if (!r.Delimited(&s) || !ValidUtf8(s)) return false;
    } else if (!r.Skip(static_cast<uint32_t>(t & 7))) {
      return false;
    }
  }
  return true;
}

EncodedBatchCheck CheckValue(std::string_view v) {
  if (v.empty()) return EncodedBatchCheck::kNeedsParse;  // no kind: the API says null_value
  Reader r(v);
  while (!r.done()) {
    uint64_t t;
    if (!r.Varint(&t)) return EncodedBatchCheck::kMalformed;
    std::string_view s;
    switch (t) {
      case tag::kValueNull:
      case tag::kValueBool:
      case tag::kValueInt:
      case tag::kValueDouble:
        if (!r.Skip(static_cast<uint32_t>(t & 7))) return EncodedBatchCheck::kMalformed;
        break;
      case tag::kValueString:
        if (!r.Delimited(&s) || !ValidUtf8(s)) return EncodedBatchCheck::kMalformed;
        break;
      case tag::kValueBytes:
        if (!r.Delimited(&s)) return EncodedBatchCheck::kMalformed;
        break;
      case tag::kValueDecimal:
        if (!r.Delimited(&s) || !NestedOk(s, 1)) return EncodedBatchCheck::kMalformed;
        break;
      case tag::kValueDate:
      case tag::kValueTime:
      case tag::kValueTimestamp:
        if (!r.Delimited(&s) || !NestedOk(s, 0)) return EncodedBatchCheck::kMalformed;
        break;
      default:
        return EncodedBatchCheck::kNeedsParse;
    }
  }
  return EncodedBatchCheck::kForwardable;
}

EncodedBatchCheck CheckRecord(std::string_view rec, int values_per_record) {
  Reader r(rec);
  int values = 0;
  while (!r.done()) {
    uint64_t t;
    std::string_view v;
    if (!r.Varint(&t)) return EncodedBatchCheck::kMalformed;
    if (t != tag::kRecordValue) {
      if (!r.SkipField(t)) return EncodedBatchCheck::kMalformed;
      return EncodedBatchCheck::kNeedsParse;  // an etag, or a field this version does not know
    }
    if (!r.Delimited(&v)) return EncodedBatchCheck::kMalformed;
    EncodedBatchCheck c = CheckValue(v);
    if (c != EncodedBatchCheck::kForwardable) return c;
    ++values;
  }
  return values == values_per_record ? EncodedBatchCheck::kForwardable : EncodedBatchCheck::kNeedsParse;
}

}  // namespace

EncodedBatchCheck SplitScanBatch(std::string_view bytes, int values_per_record, EncodedBatch* out) {
  *out = EncodedBatch{};
  Reader top(bytes);
  bool have_batch = false;
  EncodedBatchCheck verdict = EncodedBatchCheck::kForwardable;
  while (!top.done()) {
    uint64_t t;
    std::string_view s;
    if (!top.Varint(&t)) return EncodedBatchCheck::kMalformed;
    if (t == tag::kScanBatchFields) {
      if (!top.Delimited(&s) || !ValidUtf8(s)) return EncodedBatchCheck::kMalformed;
      ++out->field_names;
    } else if (t == tag::kScanBatchBatch) {
      if (!top.Delimited(&s)) return EncodedBatchCheck::kMalformed;
      // A second batch field would be merged by a parser; not worth forwarding specially.
      if (have_batch) verdict = EncodedBatchCheck::kNeedsParse;
      have_batch = true;
      out->records = s;
    } else {
      if (!top.SkipField(t)) return EncodedBatchCheck::kMalformed;
      verdict = EncodedBatchCheck::kNeedsParse;
    }
  }
  Reader recs(out->records);
  while (!recs.done()) {
    const size_t at = static_cast<size_t>(recs.pos() - out->records.data());
    uint64_t t;
    std::string_view rec;
    if (!recs.Varint(&t)) return EncodedBatchCheck::kMalformed;
    if (t != tag::kBatchRecord) {
      if (!recs.SkipField(t)) return EncodedBatchCheck::kMalformed;
      verdict = EncodedBatchCheck::kNeedsParse;
      continue;
    }
    if (!recs.Delimited(&rec)) return EncodedBatchCheck::kMalformed;
    EncodedBatchCheck c = CheckRecord(rec, values_per_record);
    if (c == EncodedBatchCheck::kMalformed) return c;
    if (c == EncodedBatchCheck::kNeedsParse) verdict = c;
    out->last_record = at;
    ++out->record_count;
  }
  return verdict;
}

bool EncodedEntries::Next(std::string_view* entry) {
  Reader r(bytes_.substr(pos_));
  uint64_t t;
  if (r.done() || !r.Varint(&t) || t != tag::kBatchRecord || !r.Delimited(entry)) return false;
  pos_ = static_cast<size_t>(r.pos() - bytes_.data());
  return true;
}

bool EncodedStringValue(std::string_view value, std::string_view* text) {
  Reader r(value);
  uint64_t t;
  return r.Varint(&t) && t == tag::kValueString && r.Delimited(text) && r.done();
}

namespace {

// Appends a tag byte and a length.
void AppendHead(uint8_t tag, uint64_t len, std::string* out) {
  char head[11];
  size_t n = 0;
  head[n++] = static_cast<char>(tag);
  while (len >= 0x80) {
    head[n++] = static_cast<char>(len | 0x80);
    len >>= 7;
  }
  head[n++] = static_cast<char>(len);
  out->append(head, n);
}

}  // namespace

void AppendDelimited(uint8_t tag, std::string_view payload, std::string* out) {
  AppendHead(tag, payload.size(), out);
  out->append(payload);
}

void AppendStringValue(std::string_view text, std::string* out) {
  AppendHead(tag::kRecordValue, 1 + sdk::wire::VarintSize(text.size()) + text.size(), out);
  AppendDelimited(tag::kValueString, text, out);
}

void AppendMessage(uint8_t tag, const google::protobuf::MessageLite& m, std::string* out) {
  const size_t size = m.ByteSizeLong();
  AppendHead(tag, size, out);
  const size_t at = out->size();
  out->resize(at + size);
  m.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->data() + at));
}

size_t EncodedRecordsPrefix(std::string_view records, int64_t n) {
  Reader r(records);
  for (int64_t i = 0; i < n && !r.done(); ++i) {
    uint64_t t;
    std::string_view rec;
    if (!r.Varint(&t) || !r.Delimited(&rec)) return records.size();
  }
  return static_cast<size_t>(r.pos() - records.data());
}

}  // namespace fachadapter
