// The `fachadapter` command-line client: a plain gRPC client of fachadapter.v1.Adapter.
//
// Everything but main() lives in fachadapter_cli_lib, so that tests run the real command
// line in process: parsing (command_line.h), typing values against DescribeEntity, the calls,
// output (output.h) and exit codes (errors.h).
#ifndef FACHADAPTER_DAEMON_CLI_CLI_H_
#define FACHADAPTER_DAEMON_CLI_CLI_H_

#include <ostream>
#include <string>
#include <vector>

namespace fachadapter::cli {

/// Runs the CLI. `args` is argv without the program name; `env_target` is
/// $FACHADAPTER_TARGET or null. Writes results to `out` and messages to `err`; returns the
/// process exit code (ExitCode in errors.h).
int RunCli(const std::vector<std::string>& args, const char* env_target, std::ostream& out,
           std::ostream& err);

}  // namespace fachadapter::cli

#endif  // FACHADAPTER_DAEMON_CLI_CLI_H_
