// fachadapterd: serves the entities of one YAML configuration over gRPC.
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT) or a valid --check-config;
// 2 for a broken configuration or usage; 1 when a back end, plugin or listener fails at start.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "fachadapter/config.h"
#include "fachadapter/security/policy.h"
#include "fachadapter/server.h"

namespace {

constexpr char kUsage[] =
    "usage: fachadapterd --config FILE [--check-config]\n"
    "\n"
    "  --config FILE    the YAML configuration (docs/configuration.md)\n"
    "  --check-config   validate the configuration, load its connectors and open its sources,\n"
    "                   then exit: 0 if it is fine, 2 if it is not, 1 if a back end fails\n"
    "  --version        print the version\n"
    "\n"
    "Signals: SIGTERM or SIGINT stop accepting calls and let in-flight calls finish within\n"
    "server.shutdown_grace_seconds, then exit 0. SIGHUP reloads security.policy.\n";

int ExitCodeFor(const fachadapter::Status& s) {
  return s.reason() == "INVALID_CONFIG" || s.code() == fachadapter::StatusCode::kInvalidArgument ||
                 s.reason() == "CONFIG_NOT_FOUND" || s.reason() == "CONFIG_UNREADABLE"
             ? 2
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_path = a.substr(9);
    } else if (a == "--check-config") {
      check_only = true;
    } else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      std::puts("fachadapterd 0.1.0");
      return 0;
    } else {
      std::fprintf(stderr, "fachadapterd: unknown argument '%s'\n\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "fachadapterd: --config FILE is required\n\n%s", kUsage);
    return 2;
  }

  // Block the stop signals before any thread starts, so that only sigwait below sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto config = fachadapter::LoadConfigFile(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "fachadapterd: configuration is invalid:\n%s\n", config.status().message().c_str());
    return ExitCodeFor(config.status());
  }
  if (check_only) {
    auto engine = fachadapter::Engine::Start(*config);
    if (!engine.ok()) {
      std::fprintf(stderr, "fachadapterd: %s\n", engine.status().message().c_str());
      return ExitCodeFor(engine.status());
    }
    if (auto policy = fachadapter::security::Policy::Compile(*config, **engine); !policy.ok()) {
      std::fprintf(stderr, "fachadapterd: configuration is invalid:\n%s\n", policy.status().message().c_str());
      return ExitCodeFor(policy.status());
    }
    fachadapter::v1::ListEntitiesResponse entities;
    (void)(*engine)->ListEntities(&entities);
    std::printf("%s: OK (%zu sources, %d entities)\n", config_path.c_str(), config->sources.size(),
                entities.entities_size());
    return 0;
  }

  auto server = fachadapter::Server::Start(*config);
  if (!server.ok()) {
    std::fprintf(stderr, "fachadapterd: cannot start: %s\n", server.status().message().c_str());
    return ExitCodeFor(server.status());
  }
  for (size_t i = 0; i < config->server.listen.size(); ++i) {
    std::string addr = config->server.listen[i];
    addr = addr.substr(0, addr.rfind(':')) + ":" + std::to_string((*server)->ports()[i]);
    std::fprintf(stderr, "fachadapterd: serving %zu entities on %s\n", config->entities.size(), addr.c_str());
  }
  std::fflush(stderr);

  int sig = 0;
  // SIGHUP reloads the authorization policy; a broken one keeps the last good one.
  while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
    fachadapter::Status s = (*server)->ReloadPolicy();
    if (s.ok()) {
      std::fprintf(stderr, "fachadapterd: SIGHUP: policy reloaded from %s\n", config_path.c_str());
    } else {
      std::fprintf(stderr, "fachadapterd: SIGHUP: policy NOT reloaded, the last good one stays in force:\n%s\n",
                   s.message().c_str());
    }
    std::fflush(stderr);
  }
  std::fprintf(stderr, "fachadapterd: %s received, finishing in-flight calls (up to %d s)\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT", config->server.shutdown_grace_seconds);
  (*server)->Shutdown();
  (*server)->Wait();
  server->reset();
  std::fprintf(stderr, "fachadapterd: stopped\n");
  return 0;
}
