// Builds the SQL text of scans and writes from structured requests.
//
// Identifiers come only from the discovered catalog (quoted by the dialect); every value
// becomes a '?' with its parameter appended to a ParamSet in the same order.
#ifndef FACHADAPTER_CONNECTORS_ODBC_SQL_BUILDER_H_
#define FACHADAPTER_CONNECTORS_ODBC_SQL_BUILDER_H_

#include <string>
#include <vector>

#include "catalog.h"
#include "dialect.h"
#include "fachadapter/connector/v1/connector.pb.h"
#include "fachadapter/status.h"
#include "parameters.h"

namespace fachadapter::odbc {

/// Escape character of the LIKE patterns the connector writes (ESCAPE '!'). Not the API's
/// backslash: a backslash inside a string literal is itself an escape on MySQL/MariaDB.
inline constexpr char kLikeEscape = '!';

/// The columns a statement selects and how they map back to the request.
struct Projection {
  /// Table column index per select position. Columns read with SQLGetData come last (ODBC
  /// only guarantees SQLGetData for columns after the last bound one).
  std::vector<int> select;
  /// Select position per requested output field.
  std::vector<int> output;
  /// Select position per table column, -1 if not selected (for the etag: all columns).
  std::vector<int> by_column;
  /// Select positions below this are in the SQL; the rest are a named query's parameter
  /// fields, whose value the cursor fills in.
  size_t sql_columns = 0;
};

/// Chooses the columns: `fields` (empty: all) and, with `all_columns`, every column too.
/// Parameter fields of a named query come last; if only those are asked for, the first
/// result column is selected as well (a SELECT needs one). INVALID_ARGUMENT/UNKNOWN_FIELD for
/// a field the table does not have.
Result<Projection> MakeProjection(const Table& table,
                                  const google::protobuf::RepeatedPtrField<std::string>& fields,
                                  bool all_columns);

/// "SELECT <select columns> FROM <table>" (for a named query, FROM its SQL as a derived
/// table).
std::string SelectClause(const Table& table, const Projection& p);

/// The value of each parameter of a named query (in Table::parameters order), taken from
/// `filter`: the client constrains every parameter field with an equality term of the
/// filter's top-level AND ("ort = 'Berlin' AND ..."). A parameter without one is
/// INVALID_ARGUMENT/MISSING_PARAMETER naming it; NULL is INVALID_ARGUMENT/INVALID_PARAMETER.
/// Empty for any other entity.
Result<std::vector<v1::Value>> QueryArguments(const Table& table, const v1::Filter* filter);

/// Binds `args` (from QueryArguments) for each '?' of a named query's SQL, type-checked
/// against the declared parameter types. Nothing for other entities.
Status BindQueryParameters(const Table& table, const std::vector<v1::Value>& args, ParamSet* params);

/// Binds a typed NULL for each '?' of a named query's SQL (for statements that only look at
/// the result's shape). Nothing for other entities.
Status BindNullParameters(const Table& table, ParamSet* params);

/// Appends the SQL of `filter` to `sql` and its values to `params`. INVALID_ARGUMENT with
/// reason UNKNOWN_FIELD, TYPE_MISMATCH or INVALID_FILTER for a bad expression. A condition
/// on a named query's parameter field is decided here from `args` (the field has that value
/// in every row) and written as a constant truth value.
Status AppendFilter(const Table& table, const v1::Filter& filter, std::string* sql,
                    ParamSet* params, const std::vector<v1::Value>& args = {});

/// Appends " ORDER BY ..." with NULLs first ascending and last descending whatever the DBMS
/// does by default: nothing extra where SQL_NULL_COLLATION already agrees, NULLS FIRST/LAST
/// where the DBMS accepts it (`nulls_clause`), a CASE term otherwise. Parameter fields of a
/// named query are constant and left out.
Status AppendOrder(const Table& table, const Dialect& dialect, bool nulls_clause,
                   const google::protobuf::RepeatedPtrField<connector::v1::SortKey>& order,
                   std::string* sql);

/// Appends "<k1> = ? AND <k2> = ?" for the primary key and binds `key` (raw field values,
/// any order). INVALID_ARGUMENT if a key field is missing, repeated, unknown or NULL.
Status AppendKeyPredicate(const Table& table,
                          const google::protobuf::RepeatedPtrField<connector::v1::FieldValue>& key,
                          std::string* sql, ParamSet* params);

/// Translates a LIKE pattern of the API ('\' escapes) into one for ESCAPE '!'.
std::string TranslateLikePattern(const std::string& api_pattern);
/// A LIKE pattern matching values that start with `prefix` (ESCAPE '!').
std::string PrefixPattern(const std::string& prefix);

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_SQL_BUILDER_H_
