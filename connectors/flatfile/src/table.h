// A file entity: its settings, its raw fields, and reading its records from a snapshot.
#ifndef FACHADAPTER_CONNECTORS_FLATFILE_TABLE_H_
#define FACHADAPTER_CONNECTORS_FLATFILE_TABLE_H_

#include <google/protobuf/struct.pb.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "codecs.h"
#include "csv.h"
#include "fileio.h"
#include "framing.h"
#include "layout.h"
#include "fachadapter/connector/wire.h"
#include "record_codec.h"

namespace fachadapter::flatfile {

// The SDK's wire-format writers, used by the scan's encoder (NextEncoded).
namespace wire_tag = sdk::wire::tag;
using sdk::wire::PutDecimalValue;
using sdk::wire::PutIntValue;
using sdk::wire::PutStringValue;
using sdk::wire::PutValue;
using sdk::wire::VarintSize;
using sdk::wire::WireBuffer;

enum class Format { kCsv, kFixed, kCobol };
enum class Mode { kReadWrite, kReadOnly, kAppend };

/// One raw field of an entity.
struct Column {
  std::string name;
  v1::FieldType type = v1::FIELD_TYPE_STRING;
  std::string native;
  int64_t length = 0;
  int precision = 0;
  int scale = 0;
  int src = 0;              ///< CSV: column position; fixed/cobol: index in the layout
  char decimal_sep = '.';   ///< CSV numbers
};

/// One record type of a multi-record file.
struct Segment {
  std::string value;              ///< discriminator value as text
  std::string bytes;              ///< ... encoded in the file's code page
  const RecordLayout* layout = nullptr;
};

/// Everything configured for one file entity (see docs/flatfile.md).
struct EntityDef {
  std::string name;        ///< raw entity name ("NAME" or "NAME.SEGMENT")
  std::string file_key;    ///< the key under `files`
  Format format = Format::kCsv;
  std::string path;        ///< the file, or the drop folder
  bool folder = false;
  std::string pattern = "*";       ///< drop folder: file name glob
  std::string done_suffix;         ///< drop folder: a file counts once NAME+suffix exists
  const Charset* cs = nullptr;
  Trim trim = Trim::kBoth;
  // fixed / cobol
  std::shared_ptr<std::vector<RecordLayout>> layouts;
  const RecordLayout* layout = nullptr;
  Framing framing;
  std::string line_ending = "\n";  ///< kLines framing and CSV: used for new records
  bool detect_line_ending = true;
  uint32_t disc_offset = 0, disc_length = 0;
  std::vector<Segment> segments;   ///< all record types of the file; empty: one type
  int my_segment = -1;             ///< this entity's segment
  // csv
  CsvDialect csv;
  bool csv_columns_from_header = false;
  // common
  std::vector<Column> columns;
  std::vector<int> key;            ///< indexes into columns
  LockSpec lock;
  bool skip_bad = false;           ///< read policy
  Mode mode = Mode::kReadWrite;
  std::string journal;             ///< idempotency journal path
  bool index_on_open = true;

  int FindColumn(std::string_view n) const;
  /// The record length for fixed framing of multi-record files.
  uint32_t LengthAt(std::string_view rest) const;
  /// True if `rec` is of this entity's segment (always true without segments).
  bool InSegment(std::string_view rec) const;
};

/// Parses the connector settings into entity definitions. Relative paths are resolved against
/// `base_dir`. Errors name the setting: "files.kunden.encoding: unknown ...".
Result<std::vector<std::shared_ptr<EntityDef>>> ParseSettings(const google::protobuf::Struct& s,
                                                              const std::string& base_dir);

/// A record's place in a snapshot.
struct RowPos {
  uint32_t file = 0;
  uint64_t start = 0;    ///< first byte (header included)
  uint64_t number = 0;   ///< 1-based record number in its file
  uint64_t line = 0;     ///< CSV: physical line before the row
};

/// A consistent view of an entity's files for one scan or write.
struct Snapshot {
  std::vector<std::string> paths;
  std::vector<MappedFile> files;
};

/// Lists the files of an entity (one, or the ready files of a drop folder, by name).
Result<std::vector<std::string>> ListFiles(const EntityDef& e);
/// Maps the files under a shared lock each (so a legacy append is seen whole or not at all).
Result<std::shared_ptr<Snapshot>> TakeSnapshot(const EntityDef& e);

/// One record read from a snapshot.
struct Row {
  RowPos pos;
  uint64_t end = 0;             ///< byte after the record (line ending included)
  uint64_t data_offset = 0;     ///< byte offset of the record's data (after an RDW)
  std::string_view bytes;       ///< fixed/cobol: record data; CSV: the row without line ending
  CsvRow csv;                   ///< CSV fields
};

/// Reads the records of a snapshot in order, one file after another.
class RowReader {
 public:
  RowReader(const EntityDef& e, std::shared_ptr<Snapshot> snap);
  /// Next record of this entity (other segments are passed over). kError: error() explains,
  /// naming file, record number and byte offset. After kError reading may continue (skip
  /// policy) where the framing allows; otherwise the rest of that file is passed over.
  enum class Step { kRow, kEnd, kError };
  Step Next(Row* row);
  /// Positions at a known record (from the key index).
  Status SeekTo(const RowPos& pos, Row* row);
  const Status& error() const { return error_; }
  const Snapshot& snapshot() const { return *snap_; }

 private:
  bool OpenFile(uint32_t i);
  const EntityDef& e_;
  std::shared_ptr<Snapshot> snap_;
  uint32_t file_ = 0;
  bool open_ = false;
  std::unique_ptr<RecordReader> rr_;
  std::unique_ptr<CsvReader> cr_;
  uint64_t header_rows_ = 0;
  Status error_;
};

/// Decodes column `c` of `row` into `out`. Errors carry the field, not the position.
Status DecodeColumn(const EntityDef& e, const Row& row, int c, v1::Value* out);
/// The scan's hot path: decodes column `c` of a CSV row when it has a common shape (text in
/// the file's code page, a plain integer or decimal) without building a Status. Returns false
/// for anything else, leaving `out` for DecodeColumn to decode or to report the error.
bool DecodeColumnFast(const EntityDef& e, const Row& row, int c, v1::Value* out);
/// Like DecodeColumnFast, but appends the value in protobuf wire format (a Record.values
/// entry) to `out`; `scratch` holds converted text. False leaves `out` unchanged.
bool EncodeColumnFast(const EntityDef& e, const Row& row, int c, std::string* scratch, WireBuffer* out);

/// "FILE: record N at byte B: " prefix for messages.
std::string Where(const EntityDef& e, const Snapshot& s, const Row& row);

/// Canonical key text of values (one per key column) for the index.
std::string KeyText(const std::vector<const v1::Value*>& values);

}  // namespace fachadapter::flatfile

#endif  // FACHADAPTER_CONNECTORS_FLATFILE_TABLE_H_
