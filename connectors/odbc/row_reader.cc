#include "row_reader.h"

#include <algorithm>

#include "odbc_handles.h"
#include "value_codec.h"

namespace fachadapter::odbc {

RowReader::RowReader(const Table& table, std::vector<int> select, size_t rows)
    : table_(table), rows_(rows == 0 ? 1 : rows) {
  buffers_.reserve(select.size());
  bool any_long = false;
  for (int idx : select) {
    const Column& c = table.columns[idx];
    Buffer b;
    b.column = idx;
    b.bound = !(c.long_data || table.read_unbounded(idx));
    any_long = any_long || !b.bound;
    switch (c.type) {
      // Read as an integer: MariaDB Connector/ODBC 3.1 mis-fills SQL_C_BIT arrays in block
      // fetches (rows past the first few came back NULL); every driver converts BIT to it.
      case v1::FIELD_TYPE_BOOL: b.c_type = SQL_C_SBIGINT; b.width = sizeof(SQLBIGINT); break;
      case v1::FIELD_TYPE_INT64: b.c_type = SQL_C_SBIGINT; b.width = sizeof(SQLBIGINT); break;
      case v1::FIELD_TYPE_DOUBLE: b.c_type = SQL_C_DOUBLE; b.width = sizeof(double); break;
      case v1::FIELD_TYPE_DECIMAL:
        // Text, never a double. Room for every digit, sign, point, NUL, and for drivers that
        // print a floating value in exponent form.
        b.c_type = SQL_C_CHAR;
        b.width = std::max<SQLLEN>(c.precision + 3, 64);
        break;
      case v1::FIELD_TYPE_DATE: b.c_type = SQL_C_TYPE_DATE; b.width = sizeof(SQL_DATE_STRUCT); break;
      case v1::FIELD_TYPE_TIME: b.c_type = SQL_C_CHAR; b.width = 32; break;  // keeps fractions
      case v1::FIELD_TYPE_TIMESTAMP:
        b.c_type = SQL_C_TYPE_TIMESTAMP;
        b.width = sizeof(SQL_TIMESTAMP_STRUCT);
        b.zoned = IsZonedTimestampType(c.type_name);
        break;
      case v1::FIELD_TYPE_BYTES:
        b.c_type = SQL_C_BINARY;
        b.width = static_cast<SQLLEN>(std::max<int64_t>(c.length, 1));
        break;
      default:
        // UTF-8 needs up to 4 bytes per character, plus the NUL.
        b.c_type = SQL_C_CHAR;
        b.width = static_cast<SQLLEN>(std::max<int64_t>(c.length, 1) * 4 + 1);
        break;
    }
    buffers_.push_back(std::move(b));
  }
  if (any_long) rows_ = 1;
  // Bound buffers are allocated for every row of a block: keep a block of a wide table (many
  // long VARCHARs) within kMaxBlockBytes by fetching fewer rows per SQLFetch. A batch is then
  // filled from several blocks.
  size_t row_bytes = 0;
  for (const Buffer& b : buffers_) {
    if (b.bound) row_bytes += static_cast<size_t>(b.width) + sizeof(SQLLEN);
  }
  if (row_bytes > 0 && rows_ * row_bytes > kMaxBlockBytes) {
    rows_ = std::max<size_t>(1, kMaxBlockBytes / row_bytes);
  }
  double_bufferable_ = !any_long && rows_ > 1 && 2 * rows_ * row_bytes <= kMaxBlockBytes;
  // The buffers are allocated by BindSet, for the rows the driver takes.
}

Status RowReader::Bind(SQLHSTMT stmt) {
  FA_RETURN_IF_ERROR(Check(SQLSetStmtAttr(stmt, SQL_ATTR_ROW_BIND_TYPE,
                                          reinterpret_cast<SQLPOINTER>(SQL_BIND_BY_COLUMN), 0),
                           SQL_HANDLE_STMT, stmt, "setting column-wise binding"));
  SQLRETURN rc = SQLSetStmtAttr(stmt, SQL_ATTR_ROW_ARRAY_SIZE,
                                reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(rows_)), 0);
  if (!SQL_SUCCEEDED(rc)) {
    rows_ = 1;  // a driver without block cursors: one row per fetch
    FA_RETURN_IF_ERROR(Check(SQLSetStmtAttr(stmt, SQL_ATTR_ROW_ARRAY_SIZE,
                                            reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(1)), 0),
                             SQL_HANDLE_STMT, stmt, "setting the row array size"));
  } else if (rc == SQL_SUCCESS_WITH_INFO) {
    // 01S02: the driver substituted another size; use what it took.
    SQLULEN actual = 0;
    if (SQL_SUCCEEDED(SQLGetStmtAttr(stmt, SQL_ATTR_ROW_ARRAY_SIZE, &actual, 0, nullptr)) &&
        actual > 0 && actual < rows_) {
      rows_ = actual;
    }
  }
  FA_RETURN_IF_ERROR(Check(SQLSetStmtAttr(stmt, SQL_ATTR_ROWS_FETCHED_PTR, &fetched_, 0),
                           SQL_HANDLE_STMT, stmt, "setting the rows-fetched pointer"));
  read_set_ = 0;
  return BindSet(stmt, 0);
}

Status RowReader::BindSet(SQLHSTMT stmt, int set) {
  for (size_t i = 0; i < buffers_.size(); ++i) {
    Buffer& b = buffers_[i];
    if (!b.bound) continue;
    // Allocated on first binding, for the rows Bind settled on (a driver may take fewer).
    if (b.data[set].size() < static_cast<size_t>(b.width) * rows_) {
      b.data[set].resize(static_cast<size_t>(b.width) * rows_);
      b.ind[set].resize(rows_);
    }
    FA_RETURN_IF_ERROR(Check(SQLBindCol(stmt, static_cast<SQLUSMALLINT>(i + 1), b.c_type,
                                        b.data[set].data(), b.width, b.ind[set].data()),
                             SQL_HANDLE_STMT, stmt,
                             "binding column '" + table_.columns[b.column].name + "'"));
  }
  return Status::OK();
}

Result<size_t> RowReader::Fetch(SQLHSTMT stmt) {
  fetched_ = 0;
  SQLRETURN rc = SQLFetch(stmt);
  if (rc == SQL_NO_DATA) return size_t{0};
  FA_RETURN_IF_ERROR(Check(rc, SQL_HANDLE_STMT, stmt, "fetching rows"));
  return static_cast<size_t>(fetched_);
}

Status RowReader::GetLong(SQLHSTMT stmt, Buffer& b, v1::Value* out) {
  const SQLUSMALLINT col = static_cast<SQLUSMALLINT>(&b - buffers_.data() + 1);
  const size_t terminator = b.c_type == SQL_C_CHAR ? 1 : 0;
  if (scratch_.size() < 4096) scratch_.resize(4096);
  size_t have = 0;
  for (;;) {
    SQLLEN ind = 0;
    SQLLEN room = static_cast<SQLLEN>(scratch_.size() - have);
    SQLRETURN rc = SQLGetData(stmt, col, b.c_type, scratch_.data() + have, room, &ind);
    if (rc == SQL_NO_DATA) break;
    FA_RETURN_IF_ERROR(Check(rc, SQL_HANDLE_STMT, stmt,
                             "reading field '" + table_.columns[b.column].name + "'"));
    if (ind == SQL_NULL_DATA) {
      out->set_null_value(v1::NULL_VALUE);
      return Status::OK();
    }
    if (ind != SQL_NO_TOTAL && ind <= room - static_cast<SQLLEN>(terminator)) {
      have += static_cast<size_t>(ind);  // the rest fitted
      break;
    }
    // Truncated: this chunk filled the buffer (minus the NUL for text). Grow and go on.
    have += static_cast<size_t>(room) - terminator;
    size_t need = ind == SQL_NO_TOTAL ? scratch_.size() * 2
                                      : have + static_cast<size_t>(ind - (room - static_cast<SQLLEN>(terminator))) + 1;
    if (need > scratch_.size()) scratch_.resize(std::max(need, scratch_.size() * 2));
  }
  return FromText(table_.columns[b.column], std::string_view(scratch_.data(), have), out);
}

Status RowReader::FromText(const Column& c, std::string_view text, v1::Value* out) {
  switch (c.type) {
    case v1::FIELD_TYPE_BYTES:
      out->set_bytes_value(text.data(), text.size());
      return Status::OK();
    case v1::FIELD_TYPE_DECIMAL: {
      FA_ASSIGN_OR_RETURN(std::string_view canonical, CanonicalText(c, text));
      out->mutable_decimal_value()->set_value(canonical.data(), canonical.size());
      return Status::OK();
    }
    case v1::FIELD_TYPE_TIME:
      if (!ParseTimeText(text, out)) return NotStored(c, text, "a time of day");
      return Status::OK();
    default:
      out->set_string_value(text.data(), text.size());
      return Status::OK();
  }
}

Result<std::string_view> RowReader::CanonicalText(const Column& c, std::string_view text) {
  // Exact whatever the length: a decimal may be longer than its declared precision where the
  // DBMS does not enforce it.
  if (decimal_.size() < text.size() + 8) decimal_.resize(text.size() + 8 + 128);
  size_t n = CanonicalDecimal(text, c.scale, decimal_.data(), decimal_.size());
  if (n == 0) return NotStored(c, text, "a number");
  return std::string_view(decimal_.data(), n);
}

Status RowReader::TooLong(const Buffer& b) const {
  const Column& c = table_.columns[b.column];
  table_.mark_unbounded(static_cast<size_t>(b.column));
  return Status(StatusCode::kAborted,
                "a value of field '" + c.name + "' is longer than its declared type " + c.native_type +
                    " (the database does not enforce it); the field is read unbounded from now on, retry the call",
                "FIELD_LONGER_THAN_DECLARED", c.name);
}

Status RowReader::NotStored(const Column& c, std::string_view text, std::string_view what) {
  return Status(StatusCode::kDataLoss,
                "field '" + c.name + "' (" + c.native_type + ") holds '" +
                    std::string(text.substr(0, 40)) + (text.size() > 40 ? "...'" : "'") +
                    ", which is not " + std::string(what),
                "INVALID_STORED_VALUE", c.name);
}

Status RowReader::Decode(SQLHSTMT stmt, size_t row, size_t pos, v1::Value* out) {
  Buffer& b = buffers_[pos];
  if (!b.bound) return GetLong(stmt, b, out);
  const Column& c = table_.columns[b.column];
  SQLLEN ind = b.ind[read_set_][row];
  if (ind == SQL_NULL_DATA) {
    out->set_null_value(v1::NULL_VALUE);
    return Status::OK();
  }
  const char* p = b.data[read_set_].data() + static_cast<size_t>(b.width) * row;
  auto text_fits = [&](SQLLEN terminator) { return ind != SQL_NO_TOTAL && ind <= b.width - terminator; };
  auto too_long = [&]() { return TooLong(b); };
  switch (c.type) {
    case v1::FIELD_TYPE_BOOL: out->set_bool_value(*reinterpret_cast<const SQLBIGINT*>(p) != 0); break;
    case v1::FIELD_TYPE_INT64: out->set_int_value(*reinterpret_cast<const SQLBIGINT*>(p)); break;
    case v1::FIELD_TYPE_DOUBLE: out->set_double_value(*reinterpret_cast<const double*>(p)); break;
    case v1::FIELD_TYPE_DATE: DateToValue(*reinterpret_cast<const SQL_DATE_STRUCT*>(p), out); break;
    case v1::FIELD_TYPE_TIMESTAMP:
      TimestampToValue(*reinterpret_cast<const SQL_TIMESTAMP_STRUCT*>(p), out);
      // Selected as UTC wall-clock time: the instant, with offset 0 (the DBMS keeps no other).
      if (b.zoned) out->mutable_timestamp_value()->set_utc_offset_minutes(0);
      break;
    case v1::FIELD_TYPE_DECIMAL:
    case v1::FIELD_TYPE_TIME:
      if (!text_fits(1)) return too_long();
      return FromText(c, std::string_view(p, static_cast<size_t>(ind)), out);
    case v1::FIELD_TYPE_BYTES:
      if (!text_fits(0)) return too_long();
      out->set_bytes_value(p, static_cast<size_t>(ind));
      break;
    default:
      if (!text_fits(1)) return too_long();
      out->set_string_value(p, static_cast<size_t>(ind));
      break;
  }
  return Status::OK();
}

Status RowReader::Encode(SQLHSTMT stmt, size_t row, size_t pos, sdk::wire::WireBuffer* out) {
  namespace wire = sdk::wire;
  Buffer& b = buffers_[pos];
  if (!b.bound) {
    // Long values are few and large: decoding them as a message first costs nothing that counts.
    FA_RETURN_IF_ERROR(GetLong(stmt, b, &value_));
    wire::PutValue(value_, out);
    return Status::OK();
  }
  const Column& c = table_.columns[b.column];
  SQLLEN ind = b.ind[read_set_][row];
  if (ind == SQL_NULL_DATA) {
    wire::PutNullValue(out);
    return Status::OK();
  }
  const char* p = b.data[read_set_].data() + static_cast<size_t>(b.width) * row;
  auto text_fits = [&](SQLLEN terminator) { return ind != SQL_NO_TOTAL && ind <= b.width - terminator; };
  // Each case writes what Decode's value serializes to (the byte comparison in
  // tests/integration/odbc/odbc_wire_test.cc holds the two together).
  switch (c.type) {
    case v1::FIELD_TYPE_BOOL: wire::PutBoolValue(*reinterpret_cast<const SQLBIGINT*>(p) != 0, out); break;
    case v1::FIELD_TYPE_INT64: wire::PutIntValue(*reinterpret_cast<const SQLBIGINT*>(p), out); break;
    case v1::FIELD_TYPE_DOUBLE: wire::PutDoubleValue(*reinterpret_cast<const double*>(p), out); break;
    case v1::FIELD_TYPE_DATE: {
      const auto& d = *reinterpret_cast<const SQL_DATE_STRUCT*>(p);
      wire::PutDateValue(d.year, d.month, d.day, out);
      break;
    }
    case v1::FIELD_TYPE_TIMESTAMP: {
      // As TimestampToValue: a local wall-clock time counted as if it were UTC; a zoned
      // column was selected as UTC and carries offset 0.
      const auto& ts = *reinterpret_cast<const SQL_TIMESTAMP_STRUCT*>(p);
      const int64_t seconds =
          DaysFromCivil(ts.year, ts.month, ts.day) * 86400 + ts.hour * 3600 + ts.minute * 60 + ts.second;
      const int32_t utc = 0;
      wire::PutTimestampValue(seconds, static_cast<int32_t>(ts.fraction), b.zoned ? &utc : nullptr, out);
      break;
    }
    case v1::FIELD_TYPE_DECIMAL: {
      if (!text_fits(1)) return TooLong(b);
      FA_ASSIGN_OR_RETURN(std::string_view canonical, CanonicalText(c, std::string_view(p, static_cast<size_t>(ind))));
      wire::PutDecimalValue(canonical, out);
      break;
    }
    case v1::FIELD_TYPE_TIME:
      if (!text_fits(1)) return TooLong(b);
      FA_RETURN_IF_ERROR(FromText(c, std::string_view(p, static_cast<size_t>(ind)), &value_));
      wire::PutValue(value_, out);
      break;
    case v1::FIELD_TYPE_BYTES:
      if (!text_fits(0)) return TooLong(b);
      wire::PutBytesValue(std::string_view(p, static_cast<size_t>(ind)), out);
      break;
    default:
      if (!text_fits(1)) return TooLong(b);
      wire::PutStringValue(std::string_view(p, static_cast<size_t>(ind)), out);
      break;
  }
  return Status::OK();
}

}  // namespace fachadapter::odbc
