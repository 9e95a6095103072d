// Scans: a ScanRequest becomes one SELECT (projection, filter as bound parameters, order with
// NULLs first ascending, limit), read in blocks into ScanBatch messages.
#ifndef FACHADAPTER_CONNECTORS_ODBC_SCAN_CURSOR_H_
#define FACHADAPTER_CONNECTORS_ODBC_SCAN_CURSOR_H_

#include <memory>

#include "fachadapter/connector/sdk.h"
#include "odbc_source.h"

namespace fachadapter::odbc {

/// Starts a scan on a pooled connection, which the cursor keeps until it is destroyed.
Result<std::unique_ptr<sdk::ScanCursor>> StartScan(const OdbcSource& source,
                                                   const connector::v1::ScanRequest& request,
                                                   sdk::CallContext& ctx);

/// Whether ORDER BY accepts NULLS FIRST/LAST, probed once per source on `table` (a statement
/// that returns no rows) when the driver's SQL_NULL_COLLATION does not already give the
/// API's NULL order.
bool NullsClauseSupported(const OdbcSource& source, Connection& conn, const Table& table);

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_SCAN_CURSOR_H_
