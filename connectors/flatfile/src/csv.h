// CSV per RFC 4180 and its dialects: delimiter, quoting with doubled quotes, embedded line
// breaks, CRLF or LF, a UTF-8 byte order mark.
#ifndef FACHADAPTER_CONNECTORS_FLATFILE_CSV_H_
#define FACHADAPTER_CONNECTORS_FLATFILE_CSV_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fachadapter::flatfile {

/// A CSV dialect.
struct CsvDialect {
  char delimiter = ',';
  char quote = '"';  ///< 0: no quoting
  bool header = true;
  std::string line_ending = "\n";  ///< used on write ("\r\n" or "\n"); detected on open
};

/// One CSV row; field views point into the file or into the reader's scratch buffer and stay
/// valid until the next call of Next.
struct CsvRow {
  std::vector<std::string_view> fields;
  uint64_t start = 0;   ///< byte offset of the row
  uint64_t end = 0;     ///< byte offset after its line ending
  uint64_t number = 0;  ///< 1-based row number (the header is row 1 when present)
  uint64_t line = 0;    ///< 1-based physical line of its start
  std::vector<uint32_t> field_offsets;  ///< byte offset of each field relative to `start`
};

/// Reads the rows of a CSV buffer.
class CsvReader {
 public:
  enum class Step { kRow, kEnd, kError };
  CsvReader(std::string_view data, const CsvDialect& d);
  /// Reads the next row. kError leaves a message and the byte offset in error()/error_offset().
  Step Next(CsvRow* row);
  const std::string& error() const { return error_; }
  uint64_t error_offset() const { return error_offset_; }
  uint64_t position() const { return pos_; }
  void Seek(uint64_t pos, uint64_t rows_before, uint64_t lines_before) {
    pos_ = pos;
    number_ = rows_before;
    line_ = lines_before;
  }

 private:
  std::string_view data_;
  CsvDialect d_;
  uint64_t pos_ = 0;
  uint64_t number_ = 0;
  uint64_t line_ = 0;
  std::string scratch_;
  std::string error_;
  uint64_t error_offset_ = 0;
};

/// Appends one CSV field, quoted if it holds the delimiter, a quote, CR or LF (or leading or
/// trailing spaces).
void AppendCsvField(std::string_view value, const CsvDialect& d, std::string* out);

/// Detects the line ending of a buffer: "\r\n" if the first line ends with CRLF, else "\n".
std::string DetectLineEnding(std::string_view data);

}  // namespace fachadapter::flatfile

#endif  // FACHADAPTER_CONNECTORS_FLATFILE_CSV_H_
