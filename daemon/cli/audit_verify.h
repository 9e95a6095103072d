// `fachadapter audit verify FILE`: checks the hash chain of a fachadapterd audit log offline.
#ifndef FACHADAPTER_CLI_AUDIT_VERIFY_H_
#define FACHADAPTER_CLI_AUDIT_VERIFY_H_

#include <ostream>
#include <string>
#include <vector>

namespace fachadapter::cli {

/// Runs `audit ...` (`args[0]` is "audit"). Exit codes: 0 the chain is intact, 1 it is broken
/// (the line and what is wrong go to `err`), 2 usage, 3 the file cannot be read.
int RunAudit(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace fachadapter::cli

#endif  // FACHADAPTER_CLI_AUDIT_VERIFY_H_
