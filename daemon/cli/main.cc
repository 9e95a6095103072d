// fachadapter: the command-line client of fachadapterd. See docs/cli.md.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "audit_verify.h"
#include "cli.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "audit") return fachadapter::cli::RunAudit(args, std::cout, std::cerr);
  return fachadapter::cli::RunCli(args, std::getenv("FACHADAPTER_TARGET"), std::cout, std::cerr);
}
