// Runs the real fachadapterd as a child process for tests: writes a config, starts the
// daemon on a free loopback port, waits until it answers, and stops it with SIGTERM.
#ifndef FACHADAPTER_TESTS_COMMON_DAEMON_HARNESS_H_
#define FACHADAPTER_TESTS_COMMON_DAEMON_HARNESS_H_

#include <grpcpp/grpcpp.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "fachadapter/v1/adapter.grpc.pb.h"
#include "test_util.h"

extern char** environ;

namespace fachadapter::testing {

/// Result of running a program to its end.
struct RunResult {
  int exit_code = -1;   ///< Exit status, or 128+signal.
  std::string output;   ///< stdout and stderr together.
};

/// Runs `argv` to completion (bounded by `timeout`), capturing its output.
inline RunResult RunProgram(const std::vector<std::string>& argv, const std::filesystem::path& log,
                            std::chrono::seconds timeout = std::chrono::seconds(60)) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  RunResult r;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    r.output = "cannot start " + argv[0];
    return r;
  }
  posix_spawn_file_actions_destroy(&fa);
  auto until = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.output = ReadFile(log);
  return r;
}

/// A running fachadapterd.
class Daemon {
 public:
  /// The daemon binary of this build tree.
  static std::string Binary() { return (BinaryDir() / "bin" / "fachadapterd").string(); }

  /// Starts fachadapterd with `config_path`; the config should listen on 127.0.0.1:0.
  /// Fails the test if it does not come up within 30 s.
  explicit Daemon(const std::filesystem::path& config_path, const std::filesystem::path& log)
      : log_(log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::string bin = Binary(), flag = "--config", cfg = config_path.string();
    char* args[] = {bin.data(), flag.data(), cfg.data(), nullptr};
    if (posix_spawn(&pid_, bin.c_str(), &fa, nullptr, args, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    static const std::regex kServing(R"(serving \d+ entities on 127\.0\.0\.1:(\d+))");
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (pid_ > 0 && std::chrono::steady_clock::now() < until) {
      std::smatch m;
      std::string out = ReadFile(log_);
      if (std::regex_search(out, m, kServing)) {
        port_ = std::stoi(m[1]);
        break;
      }
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  /// True once it listens.
  bool up() const { return port_ > 0; }
  /// "127.0.0.1:PORT".
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  /// What it logged so far.
  std::string log() const { return ReadFile(log_); }
  /// A channel to it.
  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }
  /// A stub of the Adapter service.
  std::unique_ptr<v1::Adapter::Stub> Stub() const { return v1::Adapter::NewStub(Channel()); }

  /// Sends `sig` to the running daemon; false if it is not running.
  bool Signal(int sig) const { return pid_ > 0 && kill(pid_, sig) == 0; }

  /// Waits (bounded by `timeout`) until the daemon's log contains `text`.
  bool WaitForLog(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(30)) const {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  /// Sends SIGTERM and returns the exit code (bounded wait).
  int Stop(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, SIGTERM);
    auto until = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
};

}  // namespace fachadapter::testing

#endif  // FACHADAPTER_TESTS_COMMON_DAEMON_HARNESS_H_
