// The `fachadapter` command-line client: a plain gRPC client of fachadapter.v1.Adapter.
//
// Everything but main() lives here, so that tests run the real command line in process:
// argument parsing, typing values against DescribeEntity, the calls, output and exit codes.
#ifndef FACHADAPTER_DAEMON_CLI_CLI_H_
#define FACHADAPTER_DAEMON_CLI_CLI_H_

#include <cstdint>
#include <map>
#include <ostream>
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
  std::string target = kDefaultTarget;           ///< host:port of fachadapterd.
  OutputFormat format = OutputFormat::kTable;    ///< --format.
  double timeout_seconds = kDefaultTimeoutSeconds;  ///< Whole-command deadline; 0: none.
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
/// be null). Returns false with a plain message in `*error` on a usage error.
bool ParseCommandLine(const std::vector<std::string>& args, const char* env_target,
                      Invocation* out, std::string* error);

/// Splits "a,b , c" into field names; false (with `*error`) on an empty name.
bool ParseFieldList(std::string_view text, std::vector<std::string>* out, std::string* error);

/// Parses "a,-b,+c" (minus: descending) into `out`.
bool ParseOrderBy(std::string_view text, google::protobuf::RepeatedPtrField<v1::OrderBy>* out,
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

/// The general help text (commands, options, exit codes).
std::string UsageText();

/// Runs the CLI. `args` is argv without the program name; `env_target` is
/// $FACHADAPTER_TARGET or null. Returns the process exit code (see errors.h).
int RunCli(const std::vector<std::string>& args, const char* env_target, std::ostream& out,
           std::ostream& err);

}  // namespace fachadapter::cli

#endif  // FACHADAPTER_DAEMON_CLI_CLI_H_
