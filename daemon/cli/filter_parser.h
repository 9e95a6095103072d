// The readable filter syntax of the `fachadapter` CLI, turned into a structured filter
// (fachadapter.v1.Filter) typed against the entity's schema.
//
//   filter     := or_expr
//   or_expr    := and_expr { "or" and_expr }
//   and_expr   := unary { "and" unary }
//   unary      := "not" unary | "(" or_expr ")" | condition
//   condition  := FIELD ( "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" ) literal
//               | FIELD [ "not" ] "in" "(" literal { "," literal } ")"
//               | FIELD [ "not" ] ( "like" | "prefix" | "startswith" ) literal
//               | FIELD "is" [ "not" ] "null"
//   literal    := 'text' | "text" | number | date | time | timestamp | true | false
//
// Keywords are case-insensitive. Strings take the escapes \\ \' \" \n \r \t \uXXXX; `\%` and
// `\_` stay as they are, so that they reach a LIKE pattern as its escapes. Each literal is
// converted to the type of its field (ParseValueText): `"42"` is fine for an int64 field,
// `'abc'` is not. Nothing is ever evaluated through a double unless the field is a double.
// The full description, with examples, is in docs/cli.md.
#ifndef FACHADAPTER_DAEMON_CLI_FILTER_PARSER_H_
#define FACHADAPTER_DAEMON_CLI_FILTER_PARSER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "fachadapter/v1/adapter.pb.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter::cli {

/// How deeply parentheses and `not` may nest. Each level adds up to two levels of protobuf
/// message nesting, so this stays well inside protobuf's default recursion limit of 100 on
/// the server's side.
inline constexpr int kMaxFilterDepth = 32;

/// Longest filter text accepted, in bytes.
inline constexpr size_t kMaxFilterLength = 64 * 1024;

/// A mistake in a filter or literal, with where it is.
struct FilterError {
  /// kSyntax: the text is not in the grammar; kSchema: it is, but does not fit the entity
  /// (unknown field, value of the wrong type, operator not valid for the field).
  enum class Kind { kSyntax, kSchema };
  Kind kind = Kind::kSyntax;
  std::string message;  ///< Plain words, naming the field and the value where there is one.
  std::string field;    ///< The offending field, if any.
  size_t offset = 0;    ///< Byte offset of the mistake in the text.
  size_t column = 1;    ///< 1-based column of the mistake, counted in UTF-8 code points.
};

/// Parses `text` into `*out`, checking every field against `schema` (it must exist and be
/// filterable) and converting every literal to its field's type. Returns false and fills
/// `*error` on the first mistake.
bool ParseFilter(std::string_view text, const v1::EntitySchema& schema, v1::Filter* out,
                 FilterError* error);

/// Parses a single literal in the filter syntax (quoted string, number, date, ..., or
/// `null`) as a value of `field`. Used for `field:=literal` arguments, where NULL is allowed
/// if the field is nullable.
bool ParseFieldLiteral(std::string_view text, const v1::FieldSchema& field, v1::Value* out,
                       FilterError* error);

/// Renders an error for a terminal: "<message> at column N", then the text and a caret
/// under the column, each line indented by two spaces.
std::string FormatFilterError(std::string_view text, const FilterError& error);

/// Number of UTF-8 code points in `text` (continuation bytes do not count).
size_t CodePointCount(std::string_view text);

}  // namespace fachadapter::cli

#endif  // FACHADAPTER_DAEMON_CLI_FILTER_PARSER_H_
