// Protobuf wire format written by hand, for the scan's hot path: a scan batch is encoded
// straight from the file's bytes instead of building a message per value and serializing it
// (see FlatFileConnector's cursor, NextEncoded). Only what a cv1::ScanBatch of fachadapter.v1
// values needs: varints and length-delimited fields with one-byte tags.
#ifndef FACHADAPTER_CONNECTORS_FLATFILE_WIRE_H_
#define FACHADAPTER_CONNECTORS_FLATFILE_WIRE_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace fachadapter::flatfile {

/// Tags (field number << 3 | wire type) of the messages a scan batch is made of.
namespace wire_tag {
inline constexpr uint8_t kScanBatchFields = 0x0A;   ///< ScanBatch.fields = 1, string
inline constexpr uint8_t kScanBatchBatch = 0x12;    ///< ScanBatch.batch = 2, RecordBatch
inline constexpr uint8_t kBatchRecord = 0x0A;       ///< RecordBatch.records = 1, Record
inline constexpr uint8_t kRecordValue = 0x0A;       ///< Record.values = 1, Value
inline constexpr uint8_t kRecordEtag = 0x12;        ///< Record.etag = 2, string
inline constexpr uint8_t kValueNull = 0x08;         ///< Value.null_value = 1, enum
inline constexpr uint8_t kValueInt = 0x18;          ///< Value.int_value = 3, int64
inline constexpr uint8_t kValueDecimal = 0x2A;      ///< Value.decimal_value = 5, Decimal
inline constexpr uint8_t kValueString = 0x32;       ///< Value.string_value = 6, string
inline constexpr uint8_t kDecimalValue = 0x0A;      ///< Decimal.value = 1, string
}  // namespace wire_tag

/// Bytes of `v` as a varint.
inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

/// A growing byte buffer that keeps its capacity across Clear(), so encoding batch after
/// batch allocates nothing once it has grown to the batch size. Writers ask for Room() once
/// per value and then write through the pointer.
class WireBuffer {
 public:
  void Clear() { size_ = 0; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }
  char* data() { return data_; }

  /// Room for `n` more bytes at the end; write them, then Advance() by what was written.
  char* Room(size_t n) {
    if (size_ + n > cap_) Grow(size_ + n);
    return data_ + size_;
  }
  void Advance(size_t n) { size_ += n; }
  /// Drops everything from `n` on.
  void Truncate(size_t n) { size_ = n; }

  void Byte(uint8_t b) {
    Room(1)[0] = static_cast<char>(b);
    ++size_;
  }
  void Varint(uint64_t v) {
    char* p = Room(10);
    size_ += static_cast<size_t>(PutVarint(v, p) - p);
  }
  void Bytes(std::string_view b) {
    std::memcpy(Room(b.size()), b.data(), b.size());
    size_ += b.size();
  }
  /// A length-delimited field: tag, length, bytes.
  void Field(uint8_t tag, std::string_view b) {
    char* p = Room(11 + b.size());
    char* w = p;
    *w++ = static_cast<char>(tag);
    w = PutVarint(b.size(), w);
    std::memcpy(w, b.data(), b.size());
    size_ += static_cast<size_t>(w - p) + b.size();
  }

  /// Writes `v` as a varint at `p`; returns the byte after it.
  static char* PutVarint(uint64_t v, char* p) {
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    return p;
  }

 private:
  void Grow(size_t need) {
    buf_.resize(std::max(buf_.size() * 2, need + 4096));
    data_ = buf_.data();
    cap_ = buf_.size();
  }
  std::string buf_;
  char* data_ = nullptr;
  size_t cap_ = 0;
  size_t size_ = 0;
};

/// Appends one Record.values entry holding a string, an int64, a canonical decimal or NULL.
inline void PutStringValue(std::string_view s, WireBuffer* out) {
  char* p = out->Room(22 + s.size());
  char* w = p;
  *w++ = static_cast<char>(wire_tag::kRecordValue);
  w = WireBuffer::PutVarint(1 + VarintSize(s.size()) + s.size(), w);
  *w++ = static_cast<char>(wire_tag::kValueString);
  w = WireBuffer::PutVarint(s.size(), w);
  std::memcpy(w, s.data(), s.size());
  out->Advance(static_cast<size_t>(w - p) + s.size());
}
inline void PutIntValue(int64_t v, WireBuffer* out) {
  const uint64_t u = static_cast<uint64_t>(v);  // negative int64: ten bytes, as protobuf does
  char* p = out->Room(13);
  char* w = p;
  *w++ = static_cast<char>(wire_tag::kRecordValue);
  *w++ = static_cast<char>(1 + VarintSize(u));  // at most 11: one byte
  *w++ = static_cast<char>(wire_tag::kValueInt);
  w = WireBuffer::PutVarint(u, w);
  out->Advance(static_cast<size_t>(w - p));
}
inline void PutDecimalValue(std::string_view text, WireBuffer* out) {
  const size_t decimal = 1 + VarintSize(text.size()) + text.size();
  char* p = out->Room(33 + text.size());
  char* w = p;
  *w++ = static_cast<char>(wire_tag::kRecordValue);
  w = WireBuffer::PutVarint(1 + VarintSize(decimal) + decimal, w);
  *w++ = static_cast<char>(wire_tag::kValueDecimal);
  w = WireBuffer::PutVarint(decimal, w);
  *w++ = static_cast<char>(wire_tag::kDecimalValue);
  w = WireBuffer::PutVarint(text.size(), w);
  std::memcpy(w, text.data(), text.size());
  out->Advance(static_cast<size_t>(w - p) + text.size());
}
inline void PutNullValue(WireBuffer* out) {
  char* p = out->Room(4);
  p[0] = static_cast<char>(wire_tag::kRecordValue);
  p[1] = 2;
  p[2] = static_cast<char>(wire_tag::kValueNull);
  p[3] = 0;
  out->Advance(4);
}

/// Appends one Record.values entry holding `v`: the kinds above by hand, others serialized.
template <typename ValueMessage>
void PutValue(const ValueMessage& v, WireBuffer* out) {
  switch (v.kind_case()) {
    case ValueMessage::kStringValue: return PutStringValue(v.string_value(), out);
    case ValueMessage::kIntValue: return PutIntValue(v.int_value(), out);
    case ValueMessage::kDecimalValue:
      if (!v.decimal_value().value().empty()) return PutDecimalValue(v.decimal_value().value(), out);
      break;  // an empty Decimal is an empty message on the wire
    case ValueMessage::kNullValue:
      if (v.null_value() == 0) return PutNullValue(out);
      break;
    default: break;
  }
  const size_t n = v.ByteSizeLong();
  out->Byte(wire_tag::kRecordValue);
  out->Varint(n);
  v.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->Room(n)));
  out->Advance(n);
}

}  // namespace fachadapter::flatfile

#endif  // FACHADAPTER_CONNECTORS_FLATFILE_WIRE_H_
