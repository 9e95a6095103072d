// Typed values from and to the text an operator types and reads: the literal syntax of the
// `fachadapter` CLI (keys, `field=value` arguments, filter literals) and the text of values
// in its output formats.
//
// Parsing is exact: a decimal is carried as its digits (never through a double), dates and
// times are checked against the calendar, and a timestamp keeps the UTC offset it was written
// with.
#ifndef FACHADAPTER_DAEMON_CLI_VALUE_TEXT_H_
#define FACHADAPTER_DAEMON_CLI_VALUE_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "fachadapter/status.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter::cli {

/// Parses `text` as a value of `type`. The accepted forms per type:
///  - bool: `true`, `false` (any case);
///  - int64: optional sign and decimal digits, within the int64 range;
///  - double: a decimal number with optional exponent, `NaN`, `Infinity`, `-Infinity`;
///  - decimal: optional sign, digits, optionally `.` and digits (`-1234.50`); canonicalised
///    (leading `+` and leading zeros dropped, trailing zeros kept: they carry the scale);
///  - string: the text as it is;
///  - bytes: `0x` followed by an even number of hex digits;
///  - date: `YYYY-MM-DD`; time: `HH:MM[:SS[.fraction]]`;
///  - timestamp: `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]` followed by `Z` or `+HH:MM`/`-HH:MM`
///    (an instant recorded with that offset), or by nothing (a local timestamp without zone).
/// Errors: INVALID_ARGUMENT (reason TYPE_MISMATCH) whose message quotes the text and names the
/// expected form, e.g. "'abc' is not an int64 (expected a whole number such as 42)".
Result<v1::Value> ParseValueText(v1::FieldType type, std::string_view text);

/// Shape checks used by the filter lexer to accept a bare (unquoted) literal.
/// True if `text` is an integer or a decimal number (with optional exponent).
bool LooksLikeNumber(std::string_view text);
/// True if `text` parses as a date, a time or a timestamp.
bool LooksLikeTemporal(std::string_view text);

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

/// Shortest text that reads back as the same double (`NaN`, `Infinity`, `-Infinity` for the
/// non-finite values).
std::string DoubleToText(double value);

/// The text of a value in the CLI's output: fachadapter::ValueToString, except that doubles
/// print in their shortest exact form (0.1, not 0.10000000000000001) and that bytes print in
/// full hex when `full_bytes` is set (the machine formats must not lose data).
std::string FormatValue(const v1::Value& value, bool full_bytes);

}  // namespace fachadapter::cli

#endif  // FACHADAPTER_DAEMON_CLI_VALUE_TEXT_H_
