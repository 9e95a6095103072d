// Conversions between ODBC's C representations and fachadapter.v1.Value, and the row etag.
//
// Everything here is allocation-free apart from what protobuf itself needs to store a value:
// decimals are canonicalised in a stack buffer, dates are computed arithmetically.
#ifndef FACHADAPTER_CONNECTORS_ODBC_VALUE_CODEC_H_
#define FACHADAPTER_CONNECTORS_ODBC_VALUE_CODEC_H_

#include <sql.h>
#include <sqlext.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "fachadapter/status.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter::odbc {

/// Writes the canonical decimal text (fachadapter.v1.Decimal: optional '-', digits, optional
/// '.' and digits, no exponent) of a number the driver printed (leading/trailing blanks,
/// '+', exponent, leading zeros allowed) into `out` (capacity `cap`). `scale` > 0 pads the
/// fraction with zeros to that many digits; no digit is ever dropped, not even a trailing
/// zero (it carries the scale). Returns the length, or
/// 0 if `text` is not a number or does not fit.
size_t CanonicalDecimal(std::string_view text, int scale, char* out, size_t cap);

/// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
/// The date of a day number (inverse of DaysFromCivil).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d);

/// Fills `out` from an ODBC date.
void DateToValue(const SQL_DATE_STRUCT& d, v1::Value* out);
/// Fills `out` (a local timestamp without offset) from an ODBC timestamp.
void TimestampToValue(const SQL_TIMESTAMP_STRUCT& ts, v1::Value* out);
/// Parses "HH:MM:SS[.fraction]" (as drivers print SQL TIME) into `out`; false if malformed.
bool ParseTimeText(std::string_view text, v1::Value* out);

/// Checks a date/time/timestamp message for range errors (month 13, 31 February, nanos past
/// 999,999,999, ...): INVALID_ARGUMENT naming `field`.
Status ValidateTemporal(const v1::Value& v, std::string_view field);
/// ODBC date of a valid date value.
SQL_DATE_STRUCT ValueToDate(const v1::Date& d);
/// ODBC timestamp of a timestamp value: the wall-clock time in UTC (or, for a local value
/// without offset, the local wall-clock time it carries).
SQL_TIMESTAMP_STRUCT ValueToTimestamp(const v1::Timestamp& ts);
/// True for a column type that stores an instant rather than a wall-clock time: PostgreSQL's
/// TIMESTAMP WITH TIME ZONE (TYPE_NAME "timestamptz", or spelled out by other drivers).
/// psqlODBC converts such a value to the session time zone and drops the offset, so the
/// connector selects it as UTC (see SelectExpression) and binds it as text with "+00".
bool IsZonedTimestampType(std::string_view type_name);
/// The SELECT-list expression for a column (`quoted`, of type `type_name`): the column itself,
/// or for a zoned timestamp its UTC wall-clock time, `(col AT TIME ZONE 'UTC') AS col`.
std::string SelectExpression(std::string_view type_name, const std::string& quoted);
/// "YYYY-MM-DD HH:MM:SS[.fraction]+00": the instant of a timestamp value in UTC (a local value
/// without offset counts as UTC, as fachadapter.v1.Timestamp defines).
std::string TimestampToUtcText(const v1::Timestamp& ts);

/// "HH:MM:SS" with ".fraction" (trailing zeros removed) if nanos are non-zero.
std::string TimeToText(const v1::TimeOfDay& t);

/// 64-bit FNV-1a over a canonical, type-tagged encoding of values: the etag of a row is the
/// hash of all its columns in table order, so it changes whenever any column changes.
class RowHasher {
 public:
  /// Adds one value.
  void Add(const v1::Value& v);
  /// The hash as 16 lower-case hex digits.
  std::string Hex() const;

 private:
  void Bytes(const void* p, size_t n);
  void U64(uint64_t x);
  uint64_t h_ = 14695981039346656037ull;
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_VALUE_CODEC_H_
