// The settings of an ODBC source (OpenRequest.settings), declared once as data so that the
// parser, its error messages and docs/ (connectors/odbc/README.md) cannot drift apart.
#ifndef FACHADAPTER_CONNECTORS_ODBC_ODBC_SETTINGS_H_
#define FACHADAPTER_CONNECTORS_ODBC_ODBC_SETTINGS_H_

#include <google/protobuf/struct.pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fachadapter/status.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter::odbc {

/// A view configured under `views:` (a view has no primary key in the catalog).
struct ViewSettings {
  /// Raw entity name of the view, as discovery names it ("view" or "schema.view").
  std::string name;
  /// Columns that identify a row, in key order: Get and keyset paging use them.
  std::vector<std::string> key;
  /// Insert/Update/Delete go through the view (the DBMS must allow it). Needs `key`.
  bool writable = false;
};

/// A typed, named parameter of a configured query.
struct QueryParameter {
  std::string name;                              ///< As written in the SQL after ':'.
  v1::FieldType type = v1::FIELD_TYPE_STRING;    ///< Values are bound as this type.
};

/// A named query configured under `queries:` (read-only).
struct QuerySettings {
  /// Raw entity name; must not be the name of a table or view.
  std::string name;
  /// The operator's SELECT with ":name" placeholders.
  std::string sql;
  /// Declared parameters; every one must occur in `sql` and every placeholder be declared.
  std::vector<QueryParameter> parameters;
  /// Result columns that identify a row, in key order (optional).
  std::vector<std::string> key;
};

/// Parsed settings of one ODBC source.
struct OdbcSettings {
  /// ODBC connection string ("DSN=...;UID=...;PWD=..." or "Driver=...;..."). Required.
  std::string connection_string;
  /// Rows per fetch and per ScanBatch unless the scan asks for fewer. 1..100000.
  int32_t batch_size = 1000;
  /// Most connections open at once. 1..1024.
  int32_t pool_size = 4;
  /// SQL_ATTR_LOGIN_TIMEOUT in seconds; 0 leaves the driver's default. 0..3600.
  int32_t login_timeout_seconds = 0;
  /// Rows per statement of a chunked scan (chunked_scan.h): a scan that may return more
  /// rows runs as several bounded statements in key order. 0: never chunked. -1 (the
  /// setting absent): kDefaultScanChunkRows where the driver reads whole results into
  /// memory (MariaDB, MySQL), else never. 0..100000000.
  int32_t scan_chunk_rows = -1;
  /// Whether a scan whose result goes on past a full block fetches the next block on a
  /// thread of its own while the current one is encoded (see StartScan). Off for a driver
  /// that will not have one statement used by two threads in turn.
  bool fetch_ahead = true;
  /// Only tables of this schema are discovered, named without the schema. Empty: all
  /// schemas the connection sees (names are qualified as "schema.table" only where a table
  /// name occurs in more than one schema).
  std::string schema;
  /// Views with declared keys (sorted by name).
  std::vector<ViewSettings> views;
  /// Named queries (sorted by name).
  std::vector<QuerySettings> queries;
};

/// Parses and validates settings. An unknown key, a wrong type or a value out of range is
/// INVALID_ARGUMENT naming the key (reason INVALID_SETTING, field = the key's path, e.g.
/// "queries.q1.parameters.ort"); a missing connection_string is INVALID_ARGUMENT with reason
/// MISSING_SETTING. The SQL of a query is checked against the database at Open, not here.
Result<OdbcSettings> ParseSettings(const google::protobuf::Struct& settings);

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_ODBC_SETTINGS_H_
