// Scans: a ScanRequest becomes one SELECT (projection, filter as bound parameters, order with
// NULLs first ascending, limit), read in blocks into ScanBatch messages.
#ifndef FACHADAPTER_CONNECTORS_ODBC_SCAN_CURSOR_H_
#define FACHADAPTER_CONNECTORS_ODBC_SCAN_CURSOR_H_

#include <memory>
#include <string_view>

#include "fachadapter/connector/sdk.h"
#include "odbc_source.h"

namespace fachadapter::odbc {

/// Name of the host counter metric that every scan adds its number of rows fetched from the
/// driver to when it ends (also when the client leaves early): what crossed from the database
/// into the connector, so a test or an operator can see that a selective query read only
/// the rows it needed.
inline constexpr std::string_view kRowsFetchedCounter = "odbc_rows_fetched";

/// Name of the host counter metric counting scans whose limit went into the SQL text (LIMIT or
/// FETCH FIRST), so that the DBMS itself stops producing rows.
inline constexpr std::string_view kLimitInSqlCounter = "odbc_scans_limited_in_sql";

/// Name of the host counter metric counting scans that ran on a short connection (opened
/// without the driver's streaming options; see ConnectionKind).
inline constexpr std::string_view kShortConnectionScansCounter = "odbc_scans_on_short_connections";

/// Name of the host counter metric counting statements a scan prepared (SQLPrepare) and
/// cached on its connection.
inline constexpr std::string_view kStatementsPreparedCounter = "odbc_statements_prepared";

/// Name of the host counter metric counting scans that executed a statement prepared before
/// on their connection again, with new parameters.
inline constexpr std::string_view kStatementsReusedCounter = "odbc_statements_reused";

/// Name of the host counter metric counting scans that fetched ahead: their result went on
/// past its first full block, so each further block was fetched on a thread of its own while
/// the one before was encoded.
inline constexpr std::string_view kFetchAheadScansCounter = "odbc_scans_fetching_ahead";

/// Starts a scan on a pooled connection, which the cursor keeps until it is destroyed. The
/// cursor adds to `host`'s counter kRowsFetchedCounter when it ends. The first scan with a
/// limit logs (info) which limit clause the database accepted.
///
/// A scan whose limit is at most the source's batch_size runs on a short connection (see
/// ConnectionKind), any other on a streaming one. Once a result goes on past a full block,
/// the next block is fetched while the current one is encoded (two sets of bound buffers;
/// where a column is read with SQLGetData, block by block as before). The statement is prepared once per
/// connection and SQL text (with its parameter types) and executed again with new parameters
/// by later scans on that connection (Connection::statements()).
Result<std::unique_ptr<sdk::ScanCursor>> StartScan(const OdbcSource& source,
                                                   const connector::v1::ScanRequest& request,
                                                   sdk::CallContext& ctx, const sdk::Host& host);

/// Whether ORDER BY accepts NULLS FIRST/LAST, probed once per source on `table` (a statement
/// that returns no rows) when the driver's SQL_NULL_COLLATION does not already give the
/// API's NULL order.
bool NullsClauseSupported(const OdbcSource& source, Connection& conn, const Table& table);

/// The limit clause the DBMS accepts, probed once per source on `table` (statements that
/// return no rows) in the order of Dialect::limit_candidates(); kNone if it takes neither.
LimitSyntax LimitClauseSupported(const OdbcSource& source, Connection& conn, const Table& table);

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_SCAN_CURSOR_H_
