// The daemon configuration: one YAML file (format in docs/configuration.md).
#ifndef FACHADAPTER_CONFIG_H_
#define FACHADAPTER_CONFIG_H_

#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/struct.pb.h>

#include "fachadapter/export.h"
#include "fachadapter/status.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter {

/// Where in the config file something was written (1-based; 0 if unknown).
struct ConfigLocation {
  int line = 0;    ///< Line.
  int column = 0;  ///< Column.
};

/// How one API field maps to a raw field (see docs/configuration.md, "Conversions").
struct FieldConfig {
  std::string name;                   ///< API field name.
  std::string column;                 ///< Raw field name.
  v1::FieldType type = v1::FIELD_TYPE_UNSPECIFIED;  ///< API type; UNSPECIFIED = the raw type.
  std::string trim = "none";          ///< none | left | right | both.
  std::string format;                 ///< Legacy date/time layout, e.g. "YYYYMMDD".
  std::vector<std::string> null_values;             ///< Raw values meaning NULL.
  std::string decimal_separator;      ///< Raw decimal separator, e.g. ",".
  std::string grouping_separator;     ///< Raw thousands separator, e.g. ".".
  int scale = -1;                     ///< Implied decimal places of a raw integer; -1 = none.
  std::vector<std::pair<std::string, std::string>> codes;  ///< raw -> API code map.
  std::string charset;                ///< Raw character set (iconv name); empty = UTF-8.
  bool personal_data = false;         ///< Holds personal data.
  bool read_only = false;             ///< Not settable by clients.
  std::string description;            ///< For DescribeEntity.
  ConfigLocation location;            ///< Where it was configured.
};

/// One entity of the API.
struct EntityConfig {
  std::string name;                   ///< Entity name.
  std::string source;                 ///< Source name.
  std::string table;                  ///< Raw entity name in the source.
  std::string description;            ///< For DescribeEntity.
  std::vector<std::string> key;       ///< API key fields; empty = the raw primary key.
  std::vector<std::string> operations;  ///< Allowed operations; empty = all the raw entity allows.
  bool all_fields = false;            ///< No `fields` given: expose every raw field as it is.
  std::vector<FieldConfig> fields;    ///< Exposed fields, in API order.
  ConfigLocation location;            ///< Where it was configured.
};

/// One back end: a connector instance.
struct SourceConfig {
  std::string name;                        ///< Source name.
  std::string connector;                   ///< Connector type name.
  google::protobuf::Struct settings;       ///< Connector settings, secrets resolved.
  std::vector<std::string> secret_values;  ///< Resolved secrets, to scrub from messages.
  ConfigLocation location;                 ///< Where it was configured.
};

/// Listener and lifecycle settings.
struct ServerConfig {
  std::vector<std::string> listen{"127.0.0.1:50051"};  ///< host:port addresses.
  int shutdown_grace_seconds = 10;   ///< Time in-flight calls get on SIGTERM.
  bool reflection = true;            ///< Serve gRPC server reflection.
  int health_interval_seconds = 5;   ///< How often sources are probed for health.
};

/// Resource limits.
struct LimitsConfig {
  int max_batch_records = 1000;               ///< Records per Query message at most.
  int default_batch_records = 500;            ///< When the client sets no batch size.
  int max_receive_message_bytes = 4 << 20;    ///< Largest request accepted.
};

/// The whole configuration.
struct Config {
  std::string path;                          ///< File it was read from.
  std::string directory;                     ///< Folder of that file (for relative paths).
  ServerConfig server;                       ///< Listeners.
  LimitsConfig limits;                       ///< Limits.
  std::vector<std::string> connector_search_path;  ///< Extra plugin folders.
  std::vector<SourceConfig> sources;         ///< Sources, in file order.
  std::vector<EntityConfig> entities;        ///< Entities, in file order.

  /// "FILE:LINE:COLUMN" for a location in this file.
  std::string Where(const ConfigLocation& loc) const;
};

/// Reads and validates a config file. On any mistake returns INVALID_ARGUMENT (reason
/// INVALID_CONFIG) whose message lists every problem as "FILE:LINE:COLUMN: message", one
/// per line. A missing or unreadable file is NOT_FOUND / FAILED_PRECONDITION.
FACHADAPTER_API Result<Config> LoadConfigFile(const std::string& path);

/// Same for YAML text; `path` is used in messages and for relative paths.
FACHADAPTER_API Result<Config> ParseConfig(const std::string& yaml, const std::string& path);

}  // namespace fachadapter

#endif  // FACHADAPTER_CONFIG_H_
