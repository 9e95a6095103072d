// Output formats of the `fachadapter` CLI: an aligned table for people, JSON lines and
// RFC 4180 CSV for scripts. Writers stream: a query of any size runs in constant memory
// (the table keeps one block of rows to fix its column widths).
#ifndef FACHADAPTER_DAEMON_CLI_OUTPUT_H_
#define FACHADAPTER_DAEMON_CLI_OUTPUT_H_

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "fachadapter/v1/value.pb.h"

namespace fachadapter::cli {

/// The output format chosen with --format.
enum class OutputFormat { kTable, kJson, kCsv };

/// Parses "table", "json" or "csv"; false for anything else.
bool ParseOutputFormat(std::string_view text, OutputFormat* out);

/// Rows the table collects before it fixes its column widths and prints them. Later rows
/// keep those widths; a longer value then overflows its column in that row only.
inline constexpr size_t kTableBlockRows = 200;

/// Widest a table column is made for alignment, in code points. Longer values are printed
/// whole, never cut, and push the rest of their row to the right.
inline constexpr size_t kTableMaxColumnWidth = 60;

/// One column of output: its name and the type of its values (numbers align right).
struct Column {
  std::string name;                                         ///< Header text.
  v1::FieldType type = v1::FIELD_TYPE_UNSPECIFIED;          ///< Type of the values.
};

/// Writes rows of typed values in one format to a stream.
///
/// Call Begin once, Write for each row (values positional to the columns), then Finish.
class RecordWriter {
 public:
  virtual ~RecordWriter() = default;
  /// Sets the columns. Nothing may be written before.
  virtual void Begin(std::vector<Column> columns) = 0;
  /// Writes one row; `values` has one value per column.
  virtual void Write(const google::protobuf::RepeatedPtrField<v1::Value>& values) = 0;
  /// Writes what is still buffered. Rows written so far: `rows()`.
  virtual void Finish() = 0;
  /// Number of rows written.
  size_t rows() const { return rows_; }

  /// A writer for `format` on `out` (which must outlive it).
  static std::unique_ptr<RecordWriter> Create(OutputFormat format, std::ostream& out,
                                              size_t table_block_rows = kTableBlockRows);

 protected:
  size_t rows_ = 0;  ///< Rows written so far.
};

/// Display width of UTF-8 text on a terminal, counted in code points.
size_t DisplayWidth(std::string_view text);

/// `text` made safe for one table cell: newline, carriage return and tab become `\n`, `\r`,
/// `\t`; other control characters `\xHH`. UTF-8 stays as it is.
std::string EscapeForTable(std::string_view text);

/// `text` as a JSON string literal, quotes included. UTF-8 stays as it is; `"`, `\` and
/// control characters are escaped.
std::string JsonString(std::string_view text);

/// A value as JSON: null, true/false, a number for int64 and finite double, a string for
/// everything else (decimals as their exact text, bytes as full 0x hex, dates ISO 8601) and
/// for NaN/Infinity, which JSON has no number for.
std::string JsonValue(const v1::Value& value);

/// `text` as one CSV field (RFC 4180): quoted if it contains `,`, `;`, `"`, CR or LF, or
/// has leading or trailing blanks, with `"` doubled. An empty string is written as `""` so
/// that it differs from NULL, which is written as nothing.
std::string CsvField(std::string_view text);

}  // namespace fachadapter::cli

#endif  // FACHADAPTER_DAEMON_CLI_OUTPUT_H_
