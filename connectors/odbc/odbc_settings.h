// The settings of an ODBC source (OpenRequest.settings), declared once as data so that the
// parser, its error messages and docs/ (connectors/odbc/README.md) cannot drift apart.
#ifndef FACHADAPTER_CONNECTORS_ODBC_ODBC_SETTINGS_H_
#define FACHADAPTER_CONNECTORS_ODBC_ODBC_SETTINGS_H_

#include <google/protobuf/struct.pb.h>

#include <cstdint>
#include <string>

#include "fachadapter/status.h"

namespace fachadapter::odbc {

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
  /// Only tables of this schema are discovered, named without the schema. Empty: all
  /// schemas the connection sees (names are qualified as "schema.table" only where a table
  /// name occurs in more than one schema).
  std::string schema;
};

/// Parses and validates settings. An unknown key, a wrong type or a value out of range is
/// INVALID_ARGUMENT naming the key (reason INVALID_SETTING, field = key); a missing
/// connection_string is INVALID_ARGUMENT with reason MISSING_SETTING.
Result<OdbcSettings> ParseSettings(const google::protobuf::Struct& settings);

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_ODBC_SETTINGS_H_
