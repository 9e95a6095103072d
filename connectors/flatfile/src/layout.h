// Record layouts: where each field of a record is and how its bytes are encoded.
//
// A layout comes from a COBOL copybook (ParseCopybook) or from a fixed-width layout declared in
// the configuration (see connector.cc). Either way it is a flat list of elementary fields with
// byte offsets: groups are resolved, OCCURS are unrolled into numbered fields (NAME_1..NAME_n,
// nested OCCURS give NAME_i_j), and REDEFINES simply overlap.
#ifndef FACHADAPTER_CONNECTORS_FLATFILE_LAYOUT_H_
#define FACHADAPTER_CONNECTORS_FLATFILE_LAYOUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs.h"
#include "fachadapter/status.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter::flatfile {

/// How a field's bytes encode its value.
enum class FieldKind : uint8_t {
  kText,         ///< PIC X / A / edited pictures: characters in the file's code page
  kZoned,        ///< PIC 9 USAGE DISPLAY: one digit per byte, sign overpunched or separate
  kPacked,       ///< COMP-3 / PACKED-DECIMAL
  kBinary,       ///< COMP / COMP-4 / BINARY: big-endian, value limited to the PIC digits
  kNativeBinary, ///< COMP-5: big-endian, the whole range of the bytes
  kDecimalText,  ///< fixed-width text number: optional sign, digits, optional separator
};

/// One elementary field.
struct FieldDef {
  std::string name;        ///< unique raw name (hyphens become underscores)
  uint32_t offset = 0;     ///< byte offset in the record
  uint32_t length = 0;     ///< bytes
  FieldKind kind = FieldKind::kText;
  uint8_t digits = 0;      ///< PIC digits (numeric kinds)
  int8_t scale = 0;        ///< implied decimals (V)
  bool is_signed = false;  ///< PIC S
  SignPosition sign_pos = SignPosition::kTrailing;
  bool sign_separate = false;
  bool filler = false;     ///< FILLER: kept for writes, never exposed
  char decimal_sep = '.';  ///< kDecimalText
  bool zero_pad = false;   ///< kDecimalText: written with leading zeros instead of spaces
  int line = 0;            ///< copybook line that declared it (0 for config layouts)
  std::string native;      ///< native type text, e.g. "PIC S9(7)V99 COMP-3"
  /// OCCURS DEPENDING ON: (index of the counter field in RecordLayout::fields, 1-based element
  /// number); the field is NULL (absent) when element > counter. Outermost first.
  std::vector<std::pair<int, int>> odo;

  /// The type values of this field are delivered in.
  v1::FieldType type() const;
};

/// One record type.
struct RecordLayout {
  std::string name;               ///< 01-level name, segment name or entity name
  uint32_t length = 0;            ///< bytes of the whole record (max size for OCCURS DEPENDING ON)
  std::vector<FieldDef> fields;   ///< in offset order, FILLER included

  /// Index of the field named `name` (exposed fields only), or -1.
  int Find(std::string_view name) const;
};

/// Copybook source format.
struct CopybookOptions {
  /// Fixed format: columns 1-6 sequence area, column 7 indicator ('*' '/' 'D' comment, '-'
  /// continuation), columns 8-72 code, 73-80 ignored. Free format: whole lines are code, lines
  /// whose first non-blank characters are "*>" or '*' are comments.
  bool free_format = false;
};

/// Parses a copybook into one layout per 01 (or 77) level item. Syntax errors name the line:
/// INVALID_ARGUMENT/COPYBOOK_SYNTAX, "copybook line 12: ...".
Result<std::vector<RecordLayout>> ParseCopybook(std::string_view text,
                                                const CopybookOptions& options = {});

/// Parses a PIC string (e.g. "S9(5)V99", "X(10)") into `f` (kind, digits, scale, signed, and
/// display length in f->length). `usage` is DISPLAY, COMP, COMP-3, ... (upper case).
Status ApplyPicture(std::string_view pic, std::string_view usage, FieldDef* f);

}  // namespace fachadapter::flatfile

#endif  // FACHADAPTER_CONNECTORS_FLATFILE_LAYOUT_H_
