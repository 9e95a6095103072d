// Character sets and numeric field codecs of the flat-file connector.
//
// Everything here works on borrowed byte ranges and appends to caller-owned buffers, so a scan
// that reuses its buffers decodes a record without a heap allocation per field.
//
// Character sets are table-driven (src/codepages.inc, generated from Python's codecs and glibc
// iconv by tools/gen_codepages.py): UTF-8, ISO-8859-1, ISO-8859-15, Windows-1252, CP850 and the
// EBCDIC code pages CP037, CP500, CP273 and CP1141 (CP273 with the euro sign). "ebcdic-common"
// is CP037 restricted to printable ASCII (every other byte reads as a space), the default code
// page of Cobrix, for files whose reference output was made with it.
//
// Numbers are exact: packed (COMP-3), zoned (DISPLAY with overpunched or separate sign) and
// big-endian binary (COMP/COMP-4/BINARY/COMP-5) fields decode to canonical decimal text
// ("-1234.50", see fachadapter.v1.Decimal) or an int64, never through a double.
#ifndef FACHADAPTER_CONNECTORS_FLATFILE_CODECS_H_
#define FACHADAPTER_CONNECTORS_FLATFILE_CODECS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fachadapter/status.h"

namespace fachadapter::flatfile {

/// A character set: bytes of a file <-> UTF-8.
class Charset {
 public:
  /// Looks a character set up by name (case-insensitive; "utf-8", "iso-8859-1"/"latin1",
  /// "iso-8859-15"/"latin9", "windows-1252"/"cp1252", "cp850"/"ibm850", "cp037"/"ibm037"/"ebcdic",
  /// "cp500"/"ibm500", "cp273"/"ibm273", "cp1141"/"ibm1141", "ebcdic-common"). Null if unknown.
  static const Charset* ByName(std::string_view name);
  /// The names ByName accepts, for error messages.
  static const char* KnownNames();

  /// Canonical name, e.g. "cp273".
  std::string_view name() const { return name_; }
  /// True for EBCDIC code pages (digits are 0xF0..0xF9, space is 0x40).
  bool ebcdic() const { return ebcdic_; }
  /// True for "ebcdic-common": every byte outside printable ASCII reads as a space.
  bool ascii_only() const { return ascii_only_; }
  /// True for UTF-8 (the only multi-byte set).
  bool utf8() const { return table_ == nullptr; }
  /// The byte of a space.
  uint8_t space() const { return ebcdic_ ? 0x40 : 0x20; }

  /// Appends the UTF-8 text of `in` to `out`. On a byte the set does not define (or invalid
  /// UTF-8) returns false and sets *bad_offset to its offset within `in`.
  bool Decode(std::string_view in, std::string* out, size_t* bad_offset) const;
  /// Checks that Decode would succeed, without converting; same *bad_offset on failure.
  bool Validate(std::string_view in, size_t* bad_offset) const;
  /// Appends the encoding of UTF-8 `in` to `out`. On a character the set cannot hold returns
  /// false and sets *bad_char to its code point (0xFFFFFFFF for invalid UTF-8).
  bool Encode(std::string_view in, std::string* out, uint32_t* bad_char) const;
  /// Decode and Encode with a Status naming the offending byte or character.
  Status DecodeStatus(std::string_view in, std::string* out) const;
  Status EncodeStatus(std::string_view in, std::string* out) const;

  /// Byte of ASCII character `c` (0x20..0x7E) in this set; 0 if it has none.
  uint8_t FromAscii(char c) const { return from_ascii_[static_cast<unsigned char>(c)]; }
  /// ASCII character of byte `b` if it is one, else 0.
  char ToAscii(uint8_t b) const { return to_ascii_[b]; }

  Charset(const char* name, const uint16_t* table, bool ebcdic, bool ascii_only);

 private:
  const char* name_;
  const uint16_t* table_;  // byte -> code point (0xFFFF undefined); null for UTF-8
  bool ebcdic_;
  bool ascii_only_;        // every non-ASCII character decodes as a space
  uint8_t from_ascii_[256] = {};
  char to_ascii_[256] = {};
  mutable std::unique_ptr<uint8_t[]> reverse_;      // BMP code point -> byte, built on first Encode
  mutable std::unique_ptr<uint8_t[]> reverse_ok_;   // bit set: code point is encodable
  void BuildReverse() const;
};

/// Writes "U+00E4" for a code point.
std::string CodePointName(uint32_t cp);

// ---- Numbers ----

/// Where the sign of a DISPLAY numeric field is.
enum class SignPosition : uint8_t { kTrailing, kLeading };

/// A decoded exact number: sign and up to 38 decimal digits (most significant first, no
/// leading-zero stripping), plus the number of fraction digits.
struct Number {
  bool negative = false;
  uint8_t ndigits = 0;
  char digits[40];
  int scale = 0;  // digits after the decimal point; negative for PIC P scaling (x 10^-scale)

  /// True if it fits an int64 without a fraction.
  bool FitsInt64() const;
  /// The value as int64 (only if FitsInt64()).
  int64_t ToInt64() const;
  /// Appends the canonical decimal text ("-12.50", "0.05", "1200") to `out`.
  void AppendDecimal(std::string* out) const;
  /// Number of significant integer digits (without leading zeros).
  int IntegerDigits() const;
};

/// Reasons a numeric field does not decode.
enum class NumError : uint8_t { kOk, kBadDigit, kBadSign, kBlank, kOverflow };
/// Plain text of a NumError.
const char* NumErrorText(NumError e);

/// Packed decimal (COMP-3): two digits per byte, sign in the low nibble of the last byte
/// (C/A/E/F positive, D/B negative; F for unsigned). Invalid nibbles -> kBadDigit/kBadSign.
NumError DecodePacked(const uint8_t* p, size_t n, int scale, Number* out);
/// Encodes into exactly `n` bytes; false if it does not fit. `is_signed`: sign nibble C/D,
/// else F (a negative value then fails).
bool EncodePacked(const Number& v, size_t n, bool is_signed, uint8_t* out);

/// Zoned decimal (DISPLAY numeric) in `cs` (EBCDIC or ASCII). With `separate` the sign is an
/// own '+'/'-' character at `pos`; otherwise it is overpunched on the first/last digit (EBCDIC
/// zones C/D/F; ASCII '{'..'I' '}'..'R' and 0x70..0x79 for negative). Leading spaces count as
/// zeros; an all-blank field is kBlank (the caller makes it NULL).
NumError DecodeZoned(const uint8_t* p, size_t n, const class Charset& cs, bool is_signed,
                     SignPosition pos, bool separate, int scale, Number* out);
/// Encodes `v` into exactly `n` bytes, digits right-aligned with leading zeros.
bool EncodeZoned(const Number& v, size_t n, const Charset& cs, bool is_signed, SignPosition pos,
                 bool separate, uint8_t* out);

/// Big-endian two's complement (signed) or unsigned binary of 1, 2, 4 or 8 bytes.
NumError DecodeBinary(const uint8_t* p, size_t n, bool is_signed, int scale, Number* out);
/// Encodes into `n` bytes big-endian; false on overflow.
bool EncodeBinary(const Number& v, size_t n, bool is_signed, uint8_t* out);

/// Parses decimal text ("-12.5", "+3", "1.234,56" with `decimal_sep` ','; `group_sep` is
/// skipped) into digits at exactly `scale` fraction digits. Fails on more fraction digits than
/// `scale` would hold unless they are zeros. Returns false on malformed text.
bool ParseDecimalText(std::string_view text, int scale, Number* out, char decimal_sep = '.',
                      char group_sep = 0);
/// Number of bytes of a binary (COMP) field for `digits` PIC digits: 2, 4 or 8.
int BinarySizeForDigits(int digits);

}  // namespace fachadapter::flatfile

#endif  // FACHADAPTER_CONNECTORS_FLATFILE_CODECS_H_
