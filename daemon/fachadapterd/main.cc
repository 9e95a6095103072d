// fachadapterd: serves the entities of one YAML configuration over gRPC.
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT) or a valid --check-config;
// 2 for a broken configuration or usage; 1 when a back end, plugin or listener fails at start.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

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

int g_signal_pipe[2] = {-1, -1};

extern "C" void OnSignal(int sig) {
  const int saved = errno;
  const unsigned char b = static_cast<unsigned char>(sig);
  ssize_t n = write(g_signal_pipe[1], &b, 1);  // async-signal-safe; a full pipe drops extras
  (void)n;
  errno = saved;
}

// Blocks until a stop or reload signal arrives and returns it.
int NextSignal() {
  unsigned char b = 0;
  while (true) {
    ssize_t n = read(g_signal_pipe[0], &b, 1);
    if (n == 1) return b;
    if (n < 0 && errno == EINTR) continue;
    return SIGTERM;  // the pipe broke: stop rather than hang
  }
}

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

  // Signals are turned into bytes on a pipe that the main thread reads. A signal mask alone is
  // not enough: libraries start threads of their own (gRPC's thread pools among them) whose
  // masks we do not control, and a SIGTERM delivered to one of those would kill the process
  // without a graceful shutdown. A handler runs in whatever thread gets the signal.
  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) {
    std::perror("fachadapterd: pipe");
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = &OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaction(s, &sa, nullptr);
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
  while ((sig = NextSignal()) == SIGHUP) {
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
