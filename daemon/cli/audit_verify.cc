// Kept apart from the gRPC client: verifying needs no server, only the file and the same
// chain rules fachadapterd writes by (libadapter's VerifyAuditLog).
#include "audit_verify.h"

#include <filesystem>

#include "fachadapter/security/audit_log.h"

namespace fachadapter::cli {

namespace {

constexpr char kUsage[] =
    "usage: fachadapter audit verify FILE... [--expect-last-hash HASH]\n"
    "\n"
    "Checks that no record of a fachadapterd audit log was removed, inserted or altered.\n"
    "Give rotated files oldest first, the current file last, to check the chain across them.\n"
    "Prints the number of records and the hash of the last one; keep that hash elsewhere and\n"
    "pass it later with --expect-last-hash to also detect records cut off at the end.\n"
    "Exit codes: 0 intact, 1 broken (the line is printed), 2 usage, 3 file not readable.\n";

}  // namespace

int RunAudit(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() < 2 || args[1] != "verify") {
    err << kUsage;
    return 2;
  }
  std::vector<std::string> files;
  std::string expected;
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--expect-last-hash" && i + 1 < args.size()) {
      expected = args[++i];
    } else if (args[i] == "--help" || args[i] == "-h") {
      out << kUsage;
      return 0;
    } else if (args[i].empty() || args[i][0] != '-') {
      files.push_back(args[i]);
    } else {
      err << "fachadapter: unknown argument '" << args[i] << "'\n\n" << kUsage;
      return 2;
    }
  }
  if (files.empty()) {
    err << "fachadapter: audit verify needs the audit log FILE\n\n" << kUsage;
    return 2;
  }
  for (const auto& file : files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      err << "fachadapter: cannot read audit log " << file << ": no such file\n";
      return 3;
    }
  }
  const security::AuditVerification v = security::VerifyAuditLogs(files, expected);
  if (v.bad_line == 0 && !v.ok) {
    err << "fachadapter: " << v.problem << "\n";
    return 3;
  }
  if (!v.ok) {
    err << v.file << ":" << v.bad_line << ": " << v.problem << "\n"
        << "fachadapter: audit log is BROKEN after " << v.records << " intact records\n";
    return 1;
  }
  const std::string name = files.size() == 1 ? files[0] : files.front() + " ... " + files.back();
  out << name << ": OK, " << v.records << " records, chain intact"
      << (v.continues_rotated ? " (continues an older rotated file not given here)" : "") << "; last hash "
      << v.last_hash << "\n";
  return 0;
}

}  // namespace fachadapter::cli
