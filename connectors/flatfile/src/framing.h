// Framing: how a file's bytes divide into records.
#ifndef FACHADAPTER_CONNECTORS_FLATFILE_FRAMING_H_
#define FACHADAPTER_CONNECTORS_FLATFILE_FRAMING_H_

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

namespace fachadapter::flatfile {

/// How records are delimited.
struct Framing {
  enum class Kind : uint8_t {
    kFixed,   ///< records of a fixed length (or the length of their segment), no separators
    kHeader,  ///< each record starts with a length header (RDW or a custom header)
    kLines,   ///< records end with LF or CRLF
  };
  Kind kind = Kind::kFixed;
  uint32_t record_length = 0;  ///< kFixed, when no segment decides it
  // kHeader. The IBM RDW: 4 bytes, big-endian length in bytes 0-1 that includes the header.
  uint32_t header_size = 4;
  uint32_t length_offset = 0;
  uint32_t length_bytes = 2;
  bool big_endian = true;
  int32_t length_adjust = -4;  ///< added to the header's length to get the data length
  int32_t valid_offset = -1;   ///< byte of the header that marks a record as valid; -1: none
  uint8_t valid_value = 1;     ///< records whose flag byte differs are skipped
};

/// One framed record.
struct RawRecord {
  std::string_view bytes;  ///< the record without header or line ending
  uint64_t offset = 0;     ///< byte offset of `bytes` in the file
  uint64_t start = 0;      ///< byte offset of the record including its header
  uint64_t end = 0;        ///< byte offset after the record (incl. line ending)
  uint64_t number = 0;     ///< 1-based record number in the file (skipped ones count)
};

/// Iterates the records of a buffer.
class RecordReader {
 public:
  enum class Step { kRecord, kSkipped, kEnd, kError };
  /// `length_of`, if set for kFixed, returns the record length for the record starting at the
  /// given bytes (0 = unknown) — multi-segment files whose segments differ in length.
  RecordReader(std::string_view data, const Framing& f,
               std::function<uint32_t(std::string_view)> length_of = nullptr)
      : data_(data), f_(f), length_of_(std::move(length_of)) {}

  /// Skips a leading UTF-8 byte order mark (text files).
  void SkipBom() {
    if (pos_ == 0 && data_.size() >= 3 && std::memcmp(data_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
  }
  /// Starts reading at byte `pos` (a record boundary) as record number `number` - 1.
  void Seek(uint64_t pos, uint64_t number_before) {
    pos_ = pos;
    number_ = number_before;
  }

  /// Reads the next record into *r. kError leaves a message in error().
  Step Next(RawRecord* r) {
    if (pos_ >= data_.size()) return Step::kEnd;
    r->start = pos_;
    r->number = ++number_;
    const size_t left = data_.size() - pos_;
    switch (f_.kind) {
      case Framing::Kind::kLines: {
        const char* p = data_.data() + pos_;
        const void* nl = std::memchr(p, '\n', left);
        size_t n = nl ? static_cast<size_t>(static_cast<const char*>(nl) - p) : left;
        size_t body = n;
        if (body > 0 && p[body - 1] == '\r') --body;
        r->bytes = std::string_view(p, body);
        r->offset = pos_;
        pos_ += nl ? n + 1 : n;
        r->end = pos_;
        return Step::kRecord;
      }
      case Framing::Kind::kFixed: {
        uint32_t len = f_.record_length;
        if (length_of_) len = length_of_(data_.substr(pos_));
        if (len == 0) {
          error_ = "no record type matches the bytes here";
          return Step::kError;
        }
        if (left < len) {
          error_ = "truncated record: " + std::to_string(left) + " bytes left, the record has " +
                   std::to_string(len);
          return Step::kError;
        }
        r->bytes = data_.substr(pos_, len);
        r->offset = pos_;
        pos_ += len;
        r->end = pos_;
        return Step::kRecord;
      }
      case Framing::Kind::kHeader: {
        if (left < f_.header_size) {
          error_ = "truncated record header: " + std::to_string(left) + " bytes left";
          return Step::kError;
        }
        const uint8_t* h = reinterpret_cast<const uint8_t*>(data_.data() + pos_);
        uint64_t len = 0;
        for (uint32_t i = 0; i < f_.length_bytes; ++i) {
          uint32_t at = f_.big_endian ? f_.length_offset + i : f_.length_offset + f_.length_bytes - 1 - i;
          len = (len << 8) | h[at];
        }
        int64_t data_len = static_cast<int64_t>(len) + f_.length_adjust;
        if (data_len < 0) {
          error_ = "record header gives a length of " + std::to_string(len) +
                   ", less than the header itself";
          return Step::kError;
        }
        if (left - f_.header_size < static_cast<uint64_t>(data_len)) {
          error_ = "truncated record: the header announces " + std::to_string(data_len) +
                   " bytes, " + std::to_string(left - f_.header_size) + " are left";
          return Step::kError;
        }
        r->offset = pos_ + f_.header_size;
        r->bytes = data_.substr(r->offset, static_cast<size_t>(data_len));
        pos_ = r->offset + static_cast<uint64_t>(data_len);
        r->end = pos_;
        if (f_.valid_offset >= 0 && h[f_.valid_offset] != f_.valid_value) return Step::kSkipped;
        return Step::kRecord;
      }
    }
    return Step::kEnd;
  }

  const std::string& error() const { return error_; }
  uint64_t position() const { return pos_; }

 private:
  std::string_view data_;
  Framing f_;
  std::function<uint32_t(std::string_view)> length_of_;
  uint64_t pos_ = 0;
  uint64_t number_ = 0;
  std::string error_;
};

}  // namespace fachadapter::flatfile

#endif  // FACHADAPTER_CONNECTORS_FLATFILE_FRAMING_H_
