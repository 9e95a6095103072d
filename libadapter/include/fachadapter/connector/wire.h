// Protobuf wire format written by hand, for a scan's hot path (ScanCursor::NextEncoded): a
// cursor encodes its batch straight from its source's bytes instead of building a message per
// value and serializing it. Covers what a connector.v1.ScanBatch of fachadapter.v1 values
// needs. Every writer produces exactly the bytes protobuf's own serializer writes for the
// same message (fields in number order, zero-valued proto3 scalars left out, oneof members
// and optional fields always written, minimal varints), so that a hand-encoded batch and a
// serialized one are interchangeable and can be compared byte for byte in tests.
//
// A batch is written as: for the first batch the field names (tag::kScanBatchFields, one
// length-delimited entry each), then tag::kScanBatchBatch, the length of the RecordBatch and
// its records; each record is BeginRecord, one Put*Value per field, optionally the etag, and
// EndRecord.
#ifndef FACHADAPTER_CONNECTOR_WIRE_H_
#define FACHADAPTER_CONNECTOR_WIRE_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace fachadapter::sdk::wire {

/// Tags (field number << 3 | wire type) of the messages a scan batch is made of.
namespace tag {
inline constexpr uint8_t kScanBatchFields = 0x0A;   ///< ScanBatch.fields = 1, string
inline constexpr uint8_t kScanBatchBatch = 0x12;    ///< ScanBatch.batch = 2, RecordBatch
inline constexpr uint8_t kBatchRecord = 0x0A;       ///< RecordBatch.records = 1, Record
inline constexpr uint8_t kRecordValue = 0x0A;       ///< Record.values = 1, Value
inline constexpr uint8_t kRecordEtag = 0x12;        ///< Record.etag = 2, string
inline constexpr uint8_t kValueNull = 0x08;         ///< Value.null_value = 1, enum
inline constexpr uint8_t kValueBool = 0x10;         ///< Value.bool_value = 2, bool
inline constexpr uint8_t kValueInt = 0x18;          ///< Value.int_value = 3, int64
inline constexpr uint8_t kValueDouble = 0x21;       ///< Value.double_value = 4, fixed64
inline constexpr uint8_t kValueDecimal = 0x2A;      ///< Value.decimal_value = 5, Decimal
inline constexpr uint8_t kValueString = 0x32;       ///< Value.string_value = 6, string
inline constexpr uint8_t kValueBytes = 0x3A;        ///< Value.bytes_value = 7, bytes
inline constexpr uint8_t kValueDate = 0x42;         ///< Value.date_value = 8, Date
inline constexpr uint8_t kValueTime = 0x4A;         ///< Value.time_value = 9, TimeOfDay
inline constexpr uint8_t kValueTimestamp = 0x52;    ///< Value.timestamp_value = 10, Timestamp
inline constexpr uint8_t kDecimalValue = 0x0A;      ///< Decimal.value = 1, string
}  // namespace tag

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
  /// Empties the buffer, keeping its capacity.
  void Clear() { size_ = 0; }
  /// Bytes written.
  size_t size() const { return size_; }
  /// The bytes written; valid until the next write.
  std::string_view view() const { return {data_, size_}; }
  /// Start of the bytes written; valid until the next write.
  char* data() { return data_; }

  /// Room for `n` more bytes at the end; write them, then Advance() by what was written.
  char* Room(size_t n) {
    if (size_ + n > cap_) Grow(size_ + n);
    return data_ + size_;
  }
  /// Counts `n` bytes written into Room() as part of the buffer.
  void Advance(size_t n) { size_ += n; }
  /// Drops everything from `n` on.
  void Truncate(size_t n) { size_ = n; }

  /// Appends one byte.
  void Byte(uint8_t b) {
    Room(1)[0] = static_cast<char>(b);
    ++size_;
  }
  /// Appends `v` as a varint.
  void Varint(uint64_t v) {
    char* p = Room(10);
    size_ += static_cast<size_t>(PutVarint(v, p) - p);
  }
  /// Appends raw bytes.
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

/// Appends `v` as a varint to a string.
inline void AppendVarint(uint64_t v, std::string* out) {
  char buf[10];
  out->append(buf, static_cast<size_t>(WireBuffer::PutVarint(v, buf) - buf));
}

/// Starts a RecordBatch.records entry with a one-byte length placeholder; returns the offset
/// of its first value, for EndRecord.
inline size_t BeginRecord(WireBuffer* out) {
  char* p = out->Room(2);
  p[0] = static_cast<char>(tag::kBatchRecord);
  p[1] = 0;
  out->Advance(2);
  return out->size();
}
/// Ends the record begun at `values` (BeginRecord): writes its length, moving its bytes up in
/// the rare case that it is 128 bytes or longer and the length needs more than one byte.
inline void EndRecord(size_t values, WireBuffer* out) {
  const size_t len = out->size() - values;
  if (len < 0x80) {
    out->data()[values - 1] = static_cast<char>(len);
    return;
  }
  const size_t extra = VarintSize(len) - 1;
  out->Room(extra);
  char* d = out->data();
  std::memmove(d + values + extra, d + values, len);
  WireBuffer::PutVarint(len, d + values - 1);
  out->Advance(extra);
}

// Record.values entries. Each appends one complete entry: tag::kRecordValue, the Value's
// length, and the Value with one member of its oneof set.

/// Appends a string value (UTF-8).
inline void PutStringValue(std::string_view s, WireBuffer* out) {
  char* p = out->Room(22 + s.size());
  char* w = p;
  *w++ = static_cast<char>(tag::kRecordValue);
  w = WireBuffer::PutVarint(1 + VarintSize(s.size()) + s.size(), w);
  *w++ = static_cast<char>(tag::kValueString);
  w = WireBuffer::PutVarint(s.size(), w);
  std::memcpy(w, s.data(), s.size());
  out->Advance(static_cast<size_t>(w - p) + s.size());
}
/// Appends a bytes value.
inline void PutBytesValue(std::string_view b, WireBuffer* out) {
  char* p = out->Room(22 + b.size());
  char* w = p;
  *w++ = static_cast<char>(tag::kRecordValue);
  w = WireBuffer::PutVarint(1 + VarintSize(b.size()) + b.size(), w);
  *w++ = static_cast<char>(tag::kValueBytes);
  w = WireBuffer::PutVarint(b.size(), w);
  std::memcpy(w, b.data(), b.size());
  out->Advance(static_cast<size_t>(w - p) + b.size());
}
/// Appends an int64 value.
inline void PutIntValue(int64_t v, WireBuffer* out) {
  const uint64_t u = static_cast<uint64_t>(v);  // negative int64: ten bytes, as protobuf does
  char* p = out->Room(13);
  char* w = p;
  *w++ = static_cast<char>(tag::kRecordValue);
  *w++ = static_cast<char>(1 + VarintSize(u));  // at most 11: one byte
  *w++ = static_cast<char>(tag::kValueInt);
  w = WireBuffer::PutVarint(u, w);
  out->Advance(static_cast<size_t>(w - p));
}
/// Appends a bool value.
inline void PutBoolValue(bool v, WireBuffer* out) {
  char* p = out->Room(4);
  p[0] = static_cast<char>(tag::kRecordValue);
  p[1] = 2;
  p[2] = static_cast<char>(tag::kValueBool);
  p[3] = v ? 1 : 0;
  out->Advance(4);
}
/// Appends a double value (fixed64, little-endian, whatever the host's byte order).
inline void PutDoubleValue(double v, WireBuffer* out) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  char* p = out->Room(11);
  p[0] = static_cast<char>(tag::kRecordValue);
  p[1] = 9;
  p[2] = static_cast<char>(tag::kValueDouble);
  for (int i = 0; i < 8; ++i) p[3 + i] = static_cast<char>(bits >> (8 * i));
  out->Advance(11);
}
/// Appends a decimal value given its canonical text (fachadapter.v1.Decimal); `text` must
/// not be empty (an empty Decimal is an empty message: use PutValue).
inline void PutDecimalValue(std::string_view text, WireBuffer* out) {
  const size_t decimal = 1 + VarintSize(text.size()) + text.size();
  char* p = out->Room(33 + text.size());
  char* w = p;
  *w++ = static_cast<char>(tag::kRecordValue);
  w = WireBuffer::PutVarint(1 + VarintSize(decimal) + decimal, w);
  *w++ = static_cast<char>(tag::kValueDecimal);
  w = WireBuffer::PutVarint(decimal, w);
  *w++ = static_cast<char>(tag::kDecimalValue);
  w = WireBuffer::PutVarint(text.size(), w);
  std::memcpy(w, text.data(), text.size());
  out->Advance(static_cast<size_t>(w - p) + text.size());
}
/// Appends a NULL.
inline void PutNullValue(WireBuffer* out) {
  char* p = out->Room(4);
  p[0] = static_cast<char>(tag::kRecordValue);
  p[1] = 2;
  p[2] = static_cast<char>(tag::kValueNull);
  p[3] = 0;
  out->Advance(4);
}

namespace internal {
// An integer field of a Date, TimeOfDay or Timestamp: (field number << 3) as the tag byte,
// `v` sign-extended (an int32 is written as protobuf writes it: negative takes ten bytes).
struct IntField {
  uint8_t tag;
  int64_t v;
  bool always = false;  // an optional field that is set: written even when zero
};
template <size_t N>
inline void PutTemporal(uint8_t value_tag, const IntField (&fields)[N], WireBuffer* out) {
  size_t inner = 0;
  for (const IntField& f : fields) {
    if (f.v != 0 || f.always) inner += 1 + VarintSize(static_cast<uint64_t>(f.v));
  }
  // inner is at most N * 11 < 128: every length is one byte.
  char* p = out->Room(4 + inner);
  char* w = p;
  *w++ = static_cast<char>(tag::kRecordValue);
  *w++ = static_cast<char>(2 + inner);
  *w++ = static_cast<char>(value_tag);
  *w++ = static_cast<char>(inner);
  for (const IntField& f : fields) {
    if (f.v == 0 && !f.always) continue;
    *w++ = static_cast<char>(f.tag);
    w = WireBuffer::PutVarint(static_cast<uint64_t>(f.v), w);
  }
  out->Advance(static_cast<size_t>(w - p));
}
}  // namespace internal

/// Appends a date value (fachadapter.v1.Date).
inline void PutDateValue(int32_t year, int32_t month, int32_t day, WireBuffer* out) {
  internal::PutTemporal(tag::kValueDate, {internal::IntField{0x08, year}, {0x10, month}, {0x18, day}}, out);
}
/// Appends a time-of-day value (fachadapter.v1.TimeOfDay).
inline void PutTimeValue(int32_t hours, int32_t minutes, int32_t seconds, int32_t nanos, WireBuffer* out) {
  internal::PutTemporal(tag::kValueTime,
                        {internal::IntField{0x08, hours}, {0x10, minutes}, {0x18, seconds}, {0x20, nanos}}, out);
}
/// Appends a timestamp value (fachadapter.v1.Timestamp); `utc_offset_minutes` null leaves the
/// optional offset unset (a local timestamp).
inline void PutTimestampValue(int64_t seconds, int32_t nanos, const int32_t* utc_offset_minutes,
                              WireBuffer* out) {
  internal::PutTemporal(tag::kValueTimestamp,
                        {internal::IntField{0x08, seconds}, {0x10, nanos},
                         {0x18, utc_offset_minutes ? *utc_offset_minutes : 0, utc_offset_minutes != nullptr}},
                        out);
}

/// Appends `v` (a fachadapter.v1.Value; a template so that this header needs no generated
/// code): the common kinds by hand, others through protobuf's serializer.
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
  out->Byte(tag::kRecordValue);
  out->Varint(n);
  v.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->Room(n)));
  out->Advance(n);
}

}  // namespace fachadapter::sdk::wire

#endif  // FACHADAPTER_CONNECTOR_WIRE_H_
