// Bound statement parameters: every value that reaches SQL does so through SQLBindParameter,
// never as text in the statement.
//
// A ParamSet owns the C buffers of its parameters (stable addresses until it is destroyed)
// and checks each value against the column it is compared with or written to, so a wrong
// type is INVALID_ARGUMENT naming the field before anything reaches the database.
#ifndef FACHADAPTER_CONNECTORS_ODBC_PARAMETERS_H_
#define FACHADAPTER_CONNECTORS_ODBC_PARAMETERS_H_

#include <sql.h>
#include <sqlext.h>

#include <deque>
#include <string>

#include "catalog.h"
#include "fachadapter/status.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter::odbc {

/// What a parameter is used for; decides which value types a column accepts.
enum class ParamUse {
  kCompare,  ///< Compared with the column (filters): any numeric type fits a numeric column.
  kWrite,    ///< Written into the column: must be the column's type (int64 also fits decimal
             ///< and double columns).
};

/// An ordered list of parameters for one statement.
class ParamSet {
 public:
  /// Appends a parameter holding `value` for `column`. INVALID_ARGUMENT (reason
  /// TYPE_MISMATCH or INVALID_VALUE, field = column name) if the value does not fit.
  Status Add(const v1::Value& value, const Column& column, ParamUse use);
  /// Appends a text parameter (e.g. a LIKE pattern built by the connector).
  void AddText(std::string text);
  /// Binds all parameters to `stmt` (in order, starting at 1).
  Status Bind(SQLHSTMT stmt) const;
  /// Number of parameters.
  size_t size() const { return params_.size(); }
  /// Appends what a prepared statement depends on besides its text: the C and SQL type of
  /// each parameter (a driver may fix the server-side parameter types when it prepares,
  /// so a statement is reused only for parameters bound as the same types).
  void AppendSignature(std::string* out) const;

 private:
  struct Param {
    SQLSMALLINT c_type = SQL_C_CHAR;
    SQLSMALLINT sql_type = SQL_VARCHAR;
    SQLULEN column_size = 1;
    SQLSMALLINT digits = 0;
    SQLLEN indicator = 0;
    union {
      SQLBIGINT i;
      double d;
      unsigned char b;
      SQL_DATE_STRUCT date;
      SQL_TIMESTAMP_STRUCT ts;
    } fixed{};
    std::string text;  // text, decimal and binary payloads
  };
  std::deque<Param> params_;  // deque: appending keeps earlier addresses valid
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_PARAMETERS_H_
