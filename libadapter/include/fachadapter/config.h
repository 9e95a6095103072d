// The daemon configuration: one YAML file (format in docs/configuration.md).
#ifndef FACHADAPTER_CONFIG_H_
#define FACHADAPTER_CONFIG_H_

#include <cstdint>
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
  /// Key sealing page and resume tokens (32 bytes, read from `page_token_key_file`); empty =
  /// a random key per process, so tokens end with the process.
  std::string page_token_key;
};

/// Resource limits.
struct LimitsConfig {
  int max_batch_records = 1000;               ///< Records per Query message at most.
  int default_batch_records = 500;            ///< When the client sets no batch size.
  int max_receive_message_bytes = 4 << 20;    ///< Largest request accepted.
  int max_send_message_bytes = 16 << 20;      ///< Largest response message sent.
  int default_deadline_seconds = 300;         ///< Deadline of a call that sets none.
  int max_concurrent_calls_per_principal = 32;  ///< Calls (incl. streams) one caller may run at once.
  int rate_limit_per_second = 100;            ///< Calls per second per caller (token bucket); 0 = off.
  int rate_limit_burst = 200;                 ///< Bucket size of the rate limit.
  int max_concurrent_streams_per_connection = 100;  ///< HTTP/2 streams per connection.
  int keepalive_min_ping_interval_seconds = 60;     ///< Pings more often than this are strikes.
  int max_connection_idle_seconds = 600;      ///< Idle connections are closed after this.
};

/// TLS of the listeners (docs/security.md).
struct TlsConfig {
  bool enabled = false;              ///< A `security.tls` section is present.
  std::string cert_file;             ///< Server certificate chain (PEM); reloaded when it changes.
  std::string key_file;              ///< Its private key (PEM); reloaded when it changes.
  std::string client_ca_file;        ///< CA bundle for client certificates (PEM); empty = no mTLS.
  std::string client_auth = "none";  ///< none | request | require (a client certificate).
  std::vector<std::string> principal_from{"san_uri", "san_dns", "subject_cn"};  ///< mTLS principal, first found.
  int reload_interval_seconds = 10;  ///< How often the files are checked for changes.
  ConfigLocation location;           ///< Where it was configured.
};

/// Bearer tokens (JWT) accepted from callers.
struct JwtConfig {
  bool enabled = false;                    ///< A `security.jwt` section is present.
  std::string jwks_file;                   ///< Verification keys (JWKS); reloaded when it changes.
  std::string issuer;                      ///< Required `iss`.
  std::vector<std::string> audiences;      ///< `aud` must contain one of these.
  std::string principal_claim = "sub";     ///< Claim naming the caller.
  std::string scopes_claim = "scope";      ///< Space-separated text or list of scopes.
  std::string groups_claim = "groups";     ///< List (or text) of groups.
  std::vector<std::string> algorithms{"RS256", "ES256", "PS256"};  ///< Accepted `alg` values.
  int clock_skew_seconds = 60;             ///< Tolerance for exp/nbf/iat.
  ConfigLocation location;                 ///< Where it was configured.
};

/// One condition of a row rule: `field` must equal a claim of the caller or a fixed value.
struct RowCondition {
  std::string field;         ///< API field of the entity.
  std::string claim;         ///< Claim whose value the field must equal (if set).
  std::string value;         ///< Fixed value the field must equal (if no claim).
  ConfigLocation location;   ///< Where it was configured.
};

/// One policy rule: who may do what on which entities, on which rows, seeing which fields.
struct PolicyRule {
  std::string name;                        ///< For messages and the audit log.
  std::vector<std::string> principals;     ///< Any of these principals ("*" = any authenticated caller)...
  std::vector<std::string> groups;         ///< ...or a member of any of these groups...
  std::vector<std::string> scopes;         ///< ...and holding all of these scopes.
  std::vector<std::string> entities;       ///< Entities ("*" = all).
  std::vector<std::string> operations;     ///< describe, get, query, create, update, delete ("*" = all).
  std::vector<RowCondition> rows;          ///< Row restriction (all must hold); empty = all rows.
  std::vector<std::string> personal_fields;  ///< Personal-data fields disclosed ("*" = all).
  std::vector<std::string> masked_fields;  ///< Personal-data fields shown masked.
  ConfigLocation location;                 ///< Where it was configured.
};

/// The audit log of accesses to personal data.
struct AuditConfig {
  std::string file;          ///< JSON-lines file, appended and fsync'ed.
  int64_t rotate_bytes = 0;  ///< Rotate when the file would grow beyond this; 0 = never.
  int retention_days = 0;    ///< Delete rotated files older than this; 0 = keep them.
  ConfigLocation location;   ///< Where it was configured.
};

/// The `security` section. Without it the daemon serves plain text on loopback to anyone.
struct SecurityConfig {
  bool configured = false;                   ///< A `security` section is present.
  TlsConfig tls;                             ///< TLS; required on non-loopback listeners.
  JwtConfig jwt;                             ///< Bearer tokens.
  std::vector<PolicyRule> policy;            ///< Authorization rules, first match wins.
  AuditConfig audit;                         ///< Audit log.
  std::vector<std::string> plaintext_listen; ///< Listeners explicitly marked `plaintext: true`.
  ConfigLocation location;                   ///< Where it was configured.
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
  SecurityConfig security;                   ///< TLS, callers, policy, audit.

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
