// Configured named queries: SQL written by the operator with typed ":name" parameters,
// offered as read-only entities.
//
// The SQL is never changed beyond replacing each ":name" by '?': a scan wraps it as a derived
// table, "SELECT <fields> FROM (<sql>) q WHERE <filter> ORDER BY ... <limit>", so filters,
// projection, order and limit are pushed down as for a table, and the parameter values are
// bound with SQLBindParameter, never written into the text.
#ifndef FACHADAPTER_CONNECTORS_ODBC_NAMED_QUERY_H_
#define FACHADAPTER_CONNECTORS_ODBC_NAMED_QUERY_H_

#include <memory>
#include <string>
#include <vector>

#include "catalog.h"
#include "connection_pool.h"
#include "dialect.h"
#include "fachadapter/status.h"
#include "odbc_settings.h"

namespace fachadapter::odbc {

/// The operator's SQL with its placeholders replaced.
struct PlaceholderSql {
  std::string sql;                ///< ":name" replaced by '?', trailing ';' and blanks removed.
  std::vector<int> placeholders;  ///< Index into the query's parameters per '?', in order.
  std::vector<int> first_use;     ///< Parameter indexes in order of their first ':name'.
};

/// Replaces every ":name" outside string literals, quoted identifiers and comments by '?'.
/// "::" (a PostgreSQL cast) and ":=" are left alone. INVALID_ARGUMENT naming the setting for
/// a placeholder that is not declared, a declared parameter the SQL never uses, or a '?' (use
/// named parameters).
Result<PlaceholderSql> ReplaceNamedParameters(const QuerySettings& query);

/// Prepares the query on `conn` (with typed NULL parameters bound) and builds its entity:
/// result columns from SQLNumResultCols/SQLDescribeCol, then one field per parameter that
/// is not also a result column. A query that does not prepare is an error naming the query
/// and carrying the driver's message; so is a result column without a name or a name twice.
Result<std::shared_ptr<Table>> PrepareNamedQuery(Connection& conn, const Dialect& dialect,
                                                 const QuerySettings& query);

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_NAMED_QUERY_H_
