// The command line of the `fachadapter` CLI: global and command options, and the arguments
// that become typed API values (keys, `field=value`, field lists, sort order). Nothing here
// talks to the server; the schema comes from the caller.
#ifndef FACHADAPTER_DAEMON_CLI_COMMAND_LINE_H_
#define FACHADAPTER_DAEMON_CLI_COMMAND_LINE_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fachadapter/v1/adapter.pb.h"
#include "output.h"

namespace fachadapter::cli {

/// Where the CLI connects when neither --target nor $FACHADAPTER_TARGET says otherwise.
inline constexpr const char* kDefaultTarget = "127.0.0.1:50051";
/// Default --timeout in seconds.
inline constexpr double kDefaultTimeoutSeconds = 30;

/// Options that apply to every command.
struct GlobalOptions {
  std::string target = kDefaultTarget;              ///< host:port of fachadapterd.
  OutputFormat format = OutputFormat::kTable;       ///< --format.
  double timeout_seconds = kDefaultTimeoutSeconds;  ///< Whole-command deadline; 0: none.
  std::string ca_file;     ///< --ca: PEM CA bundle to verify the daemon; turns TLS on.
  std::string cert_file;   ///< --cert: PEM client certificate chain for mutual TLS.
  std::string key_file;    ///< --key: PEM private key of --cert.
  std::string token_file;  ///< --token-file: file holding a bearer token (JWT).
};

/// A parsed command line.
struct Invocation {
  GlobalOptions global;                        ///< Global options.
  std::string command;                         ///< The command; empty if none was given.
  std::vector<std::string> positionals;        ///< Arguments after the command.
  std::map<std::string, std::string> options;  ///< Command options by name (without "--").
  bool help = false;                           ///< --help / -h / `help` was given.
  bool version = false;                        ///< --version was given.
};

/// Parses `args` (argv without the program name). `env_target` is $FACHADAPTER_TARGET (may
/// be null). Global options may stand before or after the command; a command option must
/// belong to the command. Returns false with a plain message in `*error` on a usage error.
bool ParseCommandLine(const std::vector<std::string>& args, const char* env_target,
                      Invocation* out, std::string* error);

/// Splits "a,b , c" into field names; false (with `*error`) on an empty name.
bool ParseFieldList(std::string_view text, std::vector<std::string>* out, std::string* error);

/// Parses "a,-b,+c" (minus: descending) into `out`.
bool ParseOrderBy(std::string_view text, google::protobuf::RepeatedPtrField<v1::OrderBy>* out,
                  std::string* error);

/// Fills the parts of a Query request that need no schema from the `query` options
/// (--fields, --order-by, --limit, --page-token, --batch-size). --filter is left to
/// ParseFilter, which needs the schema.
bool ParseQueryOptions(const std::map<std::string, std::string>& options, v1::QueryRequest* req,
                       std::string* error);

/// Parses one `field=text` (text typed by the field's type, as ParseValueText reads it) or
/// `field:=literal` (a literal in the filter syntax, so `name:=null` sets NULL and
/// `name:='null'` the text) against `schema`. False with a plain message naming the field
/// and the value in `*error`; `*usage` tells whether the argument is malformed (true) or does
/// not fit the schema (false).
bool ParseAssignment(std::string_view arg, const v1::EntitySchema& schema, std::string* field,
                     v1::Value* value, std::string* error, bool* usage);

/// Types the key values given as text, one per key field of `schema` in key order.
bool ParseKey(const std::vector<std::string>& texts, const v1::EntitySchema& schema,
              v1::Key* key, std::string* error);

/// The field called `name` in `schema`, or null.
const v1::FieldSchema* FindField(const v1::EntitySchema& schema, std::string_view name);

/// The general help text (commands, options, exit codes).
std::string UsageText();

/// Help for `command`, or the general help if it is empty or unknown.
std::string HelpText(std::string_view command);

}  // namespace fachadapter::cli

#endif  // FACHADAPTER_DAEMON_CLI_COMMAND_LINE_H_
