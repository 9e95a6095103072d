// Reads result rows with bound columns and block fetch, and decodes them into
// fachadapter.v1.Value.
//
// Columns are bound column-wise (one array per column, SQL_ATTR_ROW_ARRAY_SIZE rows per
// SQLFetch, SQL_ATTR_ROWS_FETCHED_PTR). Columns too long to bind sensibly (LOBs, unknown
// length) are read with SQLGetData after the bound ones; ODBC allows that only one row at a
// time unless the driver supports SQL_GD_BLOCK, so such a result is fetched row by row.
//
// Bound columns may have a second set of buffers, so that one block can be fetched into one
// set (on another thread) while the block in the other is decoded (see FetchAhead in
// scan_cursor.cc).
#ifndef FACHADAPTER_CONNECTORS_ODBC_ROW_READER_H_
#define FACHADAPTER_CONNECTORS_ODBC_ROW_READER_H_

#include <sql.h>
#include <sqlext.h>

#include <string>
#include <vector>

#include "catalog.h"
#include "fachadapter/connector/wire.h"
#include "fachadapter/status.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter::odbc {

/// Most bytes of bound buffers per block; wider rows get fewer rows per fetch.
inline constexpr size_t kMaxBlockBytes = 16u << 20;

/// Bound buffers for the selected columns of one statement.
class RowReader {
 public:
  /// Prepares buffers for `select` (table column indexes in select order, long columns last)
  /// with room for `rows` rows per fetch (fewer if a row is wide, see kMaxBlockBytes; one if
  /// a column is read with SQLGetData).
  RowReader(const Table& table, std::vector<int> select, size_t rows);

  /// Sets the row array size and binds the buffers (set 0) to an executed or prepared
  /// statement; Decode and Encode then read set 0.
  Status Bind(SQLHSTMT stmt);
  /// Binds buffer set `set` (0 or 1; each allocated when first bound) to the statement, so
  /// that the next Fetch fills it while Decode and Encode still read the other one. Only
  /// when every column is bound (all_bound()).
  Status BindSet(SQLHSTMT stmt, int set);
  /// Makes Decode and Encode read buffer set `set` (the one the last Fetch into it filled).
  void ReadSet(int set) { read_set_ = set; }
  /// Fetches the next block into the bound set. Returns the number of rows in it; 0 at the
  /// end. Touches no buffer of the other set, so it may run on another thread while that
  /// set is decoded (nothing else may use the statement meanwhile).
  Result<size_t> Fetch(SQLHSTMT stmt);
  /// Decodes select position `pos` of row `row` of the current block into `out`. Long
  /// columns must be decoded in select order, once per row (SQLGetData). A value longer than
  /// its bound buffer (a DBMS that does not enforce VARCHAR(n), like SQLite) is never cut:
  /// it is ABORTED with reason FIELD_LONGER_THAN_DECLARED, and the column is marked so that
  /// the next scan reads it unbounded. A value that is not what the column declares (text
  /// in a DECIMAL column) is DATA_LOSS naming the field.
  Status Decode(SQLHSTMT stmt, size_t row, size_t pos, v1::Value* out);
  /// Like Decode, but appends the value to `out` as a Record.values entry in protobuf wire
  /// format, straight from the bound buffer: exactly the bytes of Decode's value serialized,
  /// with the same errors.
  Status Encode(SQLHSTMT stmt, size_t row, size_t pos, sdk::wire::WireBuffer* out);

  /// Rows per fetch actually in effect.
  size_t rows_per_fetch() const { return rows_; }
  /// Whether every selected column is bound (none read with SQLGetData), and a second set of
  /// buffers stays within kMaxBlockBytes with the first.
  bool can_double_buffer() const { return double_bufferable_; }

 private:
  struct Buffer {
    int column = 0;             // table column index
    SQLSMALLINT c_type = 0;     // SQL_C_* bound or requested from SQLGetData
    SQLLEN width = 0;           // bytes per row
    bool bound = true;          // false: read with SQLGetData
    bool zoned = false;         // an instant selected as UTC (IsZonedTimestampType)
    std::vector<char> data[2];   // per set: width * rows
    std::vector<SQLLEN> ind[2];  // per set: rows
  };
  Status GetLong(SQLHSTMT stmt, Buffer& b, v1::Value* out);
  // Decodes a text or binary image of a value of column `c`.
  Status FromText(const Column& c, std::string_view text, v1::Value* out);
  // The canonical text of a decimal the driver printed, in decimal_; DATA_LOSS if not a number.
  Result<std::string_view> CanonicalText(const Column& c, std::string_view text);
  // ABORTED FIELD_LONGER_THAN_DECLARED for a value of `b` longer than its bound buffer; the
  // column is read unbounded from the next scan on.
  Status TooLong(const Buffer& b) const;
  static Status NotStored(const Column& c, std::string_view text, std::string_view what);

  const Table& table_;
  size_t rows_;
  SQLULEN fetched_ = 0;
  int read_set_ = 0;
  bool double_bufferable_ = false;
  std::vector<Buffer> buffers_;
  std::string scratch_;  // reused for SQLGetData
  std::string decimal_;  // reused for canonical decimal text
  v1::Value value_;      // Encode: the rare values decoded as a message first
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_ROW_READER_H_
