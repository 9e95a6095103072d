// Decoding and encoding the fields of one record of a RecordLayout.
#ifndef FACHADAPTER_CONNECTORS_FLATFILE_RECORD_CODEC_H_
#define FACHADAPTER_CONNECTORS_FLATFILE_RECORD_CODEC_H_

#include <string>
#include <string_view>

#include "codecs.h"
#include "layout.h"

namespace fachadapter::flatfile {

/// How text fields are trimmed on read (spaces and NUL/low-values).
enum class Trim : uint8_t { kNone, kRight, kBoth };

/// Decodes/encodes the fields of records of one layout in one character set.
class RecordCodec {
 public:
  RecordCodec(const RecordLayout* layout, const Charset* charset, Trim trim)
      : layout_(layout), cs_(charset), trim_(trim) {}

  const RecordLayout& layout() const { return *layout_; }
  const Charset& charset() const { return *cs_; }

  /// Decodes field `i` of `rec` into `out`. A record may be shorter than the layout (variable
  /// length): a text field is cut to the bytes present, any other field past the end is NULL,
  /// as is an OCCURS DEPENDING ON element beyond the count and a blank numeric DISPLAY field.
  /// A COMP value with more digits than its PIC is NULL too (as Cobrix does). Errors carry a
  /// reason (INVALID_PACKED_DECIMAL, INVALID_ZONED_DECIMAL, INVALID_NUMBER, UNDECODABLE_BYTES)
  /// and the field; the caller adds file, record and offset.
  Status Decode(std::string_view rec, int i, v1::Value* out) const;

  /// Writes `v` into field `i` of `rec` (which must be layout().length bytes). Strings are
  /// encoded in the code page and padded with spaces; numbers are exact (int64, decimal, or a
  /// string holding a decimal). Errors name the field: VALUE_TOO_LONG, UNMAPPABLE_CHARACTER,
  /// TYPE_MISMATCH, NUMBER_OUT_OF_RANGE.
  Status Encode(const v1::Value& v, int i, std::string* rec) const;

  /// A record of layout().length bytes with every field blank (spaces, zeros).
  std::string Blank() const;

  /// Reads the integer value of field `i` (for OCCURS counters and discriminators); -1 if not
  /// a valid number.
  int64_t IntValue(std::string_view rec, int i) const;

 private:
  const RecordLayout* layout_;
  const Charset* cs_;
  Trim trim_;
};

}  // namespace fachadapter::flatfile

#endif  // FACHADAPTER_CONNECTORS_FLATFILE_RECORD_CODEC_H_
