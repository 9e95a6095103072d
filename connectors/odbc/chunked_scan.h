// Keyset chunking of scans for ODBC drivers that read a whole result into client memory when
// the statement executes (MariaDB Connector/ODBC up to 3.1.16, MySQL Connector/ODBC): a scan
// of unbounded size runs as a sequence of bounded statements, each "the request's filter AND
// after the last row delivered, in the scan's order, LIMIT chunk_rows", so that at most one
// chunk is ever in the driver's memory.
//
// The order is made total by appending the entity's key columns, so "after the last row" is
// exact. The result is not one snapshot: each chunk is its own statement, so rows inserted,
// changed or deleted meanwhile may appear, move or vanish between chunks, exactly as with the
// API's page tokens (a row behind the read position is never delivered twice).
#ifndef FACHADAPTER_CONNECTORS_ODBC_CHUNKED_SCAN_H_
#define FACHADAPTER_CONNECTORS_ODBC_CHUNKED_SCAN_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fachadapter/connector/sdk.h"
#include "odbc_source.h"

namespace fachadapter::odbc {

/// Name of the host counter metric counting the chunk statements chunked scans ran (one per
/// chunk, the last one included even when it finds no row).
inline constexpr std::string_view kScanChunksCounter = "odbc_scan_chunks";

/// Most rows per chunk when the setting scan_chunk_rows is absent and the driver is known not
/// to stream: large enough that the extra statements cost little against the rows they read.
inline constexpr int32_t kDefaultScanChunkRows = 50000;

/// Without the setting, a chunk holds about this many bytes of declared row width (see
/// AutomaticChunkRows), so that wide rows make smaller chunks.
inline constexpr int64_t kChunkTargetBytes = 8 << 20;

/// Rows per chunk of `table` when the setting is absent: kChunkTargetBytes over the declared
/// width of a row (text and binary columns by their declared length, long columns counted as
/// 4 KiB, 16 bytes more per column for the driver's bookkeeping), between 1,000 and
/// kDefaultScanChunkRows.
int64_t AutomaticChunkRows(const Table& table);

/// True if the source's driver is known to read a whole result into client memory on
/// SQLExecute, whatever the statement's options: MariaDB Connector/ODBC (libmaodbc; result-set
/// streaming arrived only in 3.1.17, after the one Debian 12 ships) and MySQL Connector/ODBC
/// (libmyodbc), told by SQL_DRIVER_NAME, or a MariaDB/MySQL server by SQL_DBMS_NAME.
bool DriverMaterializesResults(const Dialect& dialect);

/// Rows per chunk of a source's scans; 0: scans are not chunked. The setting scan_chunk_rows
/// when set (0 turns chunking off), else kDefaultScanChunkRows where
/// DriverMaterializesResults, else 0.
int64_t ScanChunkRows(const OdbcSettings& settings, const Dialect& dialect);

/// The order a chunked scan of `table` runs in: `order`, then each key column that `order`
/// does not name (ascending), so that no two rows tie. Order keys naming no column of the table
/// are kept as they are (the scan reports them). Empty if the table has no key.
std::vector<connector::v1::SortKey> TotalOrder(
    const Table& table, const google::protobuf::RepeatedPtrField<connector::v1::SortKey>& order);

/// Starts the scans of one source: chunked where the source's chunk size (ScanChunkRows) is
/// set and the scan may return more rows than one chunk, else as one statement (StartScan).
/// Thread-safe; one instance per source, living as long as its scans.
class ChunkedScans {
 public:
  ChunkedScans() = default;
  ChunkedScans(const ChunkedScans&) = delete;
  ChunkedScans& operator=(const ChunkedScans&) = delete;

  /// Logs (info) whether and why `source`'s scans are chunked; call once after Open.
  void LogPolicy(const OdbcSource& source, const sdk::Host& host) const;

  /// Starts a scan of `request` on `source`. A scan of an entity without a key (a view
  /// without declared key, a named query without key), or ordered by a column whose
  /// comparison through a bound parameter may disagree with the ORDER BY (TIME, long columns
  /// read with SQLGetData, DECIMAL on SQLite), or on a database known to take no limit clause,
  /// cannot be chunked: it runs as one statement, and the first such scan of each entity (per
  /// reason) logs a warning. The cursor delivers
  /// exactly the batches' records, fields, limit, projection and etags one statement would;
  /// its batches may be cut at chunk ends. Only the start of the first chunk is the caller's
  /// to retry; a later chunk's start is retried by the cursor (no row of it went out yet).
  Result<std::unique_ptr<sdk::ScanCursor>> Start(const OdbcSource& source,
                                                 const connector::v1::ScanRequest& request,
                                                 sdk::CallContext& ctx, const sdk::Host& host);

 private:
  // Logs that scans of `entity` are not chunked because of `reason`, unless done before.
  void WarnUnchunked(const std::string& entity, const std::string& reason, const OdbcSource& source,
                     const sdk::Host& host);

  std::mutex mu_;
  std::set<std::string, std::less<>> warned_;  // entity '\0' reason, for each warning logged
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_CHUNKED_SCAN_H_
