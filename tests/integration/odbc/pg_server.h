// A PostgreSQL server of a test's own, for tests that stop and start it (recovery, statement
// caches across restarts): initdb in a temporary directory, loopback, a free port. Needs
// PostgreSQL's bin directory (FACHADAPTER_TEST_PG_BINDIR, printed by scripts/test-servers.sh).
#ifndef FACHADAPTER_TESTS_INTEGRATION_ODBC_PG_SERVER_H_
#define FACHADAPTER_TESTS_INTEGRATION_ODBC_PG_SERVER_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "test_util.h"

namespace fachadapter::testing {

/// A TCP port on 127.0.0.1 that was free a moment ago; -1 if none could be found.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

/// Why a PostgreSQL server of the test's own cannot be started here (no bin directory, no
/// psqlODBC registered), for GTEST_SKIP; empty if it can. `*bindir` gets the bin directory.
inline std::string PgServerUnavailable(std::string* bindir) {
  const char* dir = std::getenv("FACHADAPTER_TEST_PG_BINDIR");
  if (!dir || !*dir) {
    return "FACHADAPTER_TEST_PG_BINDIR is not set: no PostgreSQL to start (scripts/test-servers.sh prints it)";
  }
  if (ReadFile("/etc/odbcinst.ini").find("[PostgreSQL Unicode]") == std::string::npos) {
    return "psqlODBC is not registered as 'PostgreSQL Unicode' in /etc/odbcinst.ini";
  }
  *bindir = dir;
  return "";
}

/// A PostgreSQL server in a temporary directory. As root, its commands run as the system user
/// "postgres" (PostgreSQL refuses to run as root). `server_options` are added to the server's
/// command line (e.g. "-c log_min_duration_statement=0").
class PgServer {
 public:
  PgServer(std::string bindir, const std::filesystem::path& dir, std::string server_options = "")
      : bindir_(std::move(bindir)), dir_(dir), port_(FreePort()), options_(std::move(server_options)) {}
  ~PgServer() {
    if (started_) Run("pg_ctl -D " + Data() + " -m immediate -w stop");
  }

  /// Initialises the cluster and a database "recovery"; false (with `error`) on failure.
  bool Init(std::string* error) {
    if (geteuid() == 0 && std::system(("chown postgres " + dir_.string()).c_str()) != 0) {
      *error = "cannot hand " + dir_.string() + " to user postgres";
      return false;
    }
    if (!Run("initdb -D " + Data() + " -U fachadapter --auth=trust -E UTF8 --locale=C.UTF-8")) {
      *error = "initdb failed (see " + Log() + ")";
      return false;
    }
    if (!Start()) {
      *error = "the server did not start (see " + Log() + ")";
      return false;
    }
    if (!Run("createdb -h 127.0.0.1 -p " + std::to_string(port_) + " -U fachadapter recovery")) {
      *error = "createdb failed (see " + Log() + ")";
      return false;
    }
    return true;
  }
  bool Start() {
    started_ = Run("pg_ctl -D " + Data() + " -l " + dir_.string() + "/server.log -w -t 60 -o \"-p " +
                   std::to_string(port_) + " -k " + dir_.string() +
                   " -c listen_addresses=127.0.0.1 -c fsync=off -c timezone=UTC " + options_ + "\" start");
    return started_;
  }
  /// Stops the server the hard way (as a crash or power cut would), dropping every connection.
  bool Stop() {
    bool ok = Run("pg_ctl -D " + Data() + " -m immediate -w stop");
    started_ = !ok;
    return ok;
  }
  /// Runs one SQL statement with psql.
  bool Sql(const std::string& sql) const {
    return Run("psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " + std::to_string(port_) +
               " -U fachadapter -d recovery -c \"" + sql + "\"");
  }
  /// The server's log (what the server options make it write).
  std::filesystem::path ServerLog() const { return dir_ / "server.log"; }
  std::string ConnectionString() const {
    return "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=" + std::to_string(port_) +
           ";Database=recovery;Uid=fachadapter;Pwd=unused;";
  }

 private:
  std::string Data() const { return dir_.string() + "/data"; }
  std::string Log() const { return dir_.string() + "/commands.log"; }
  bool Run(const std::string& command) const {
    std::string line = bindir_ + "/" + command;
    if (geteuid() == 0) line = "runuser -u postgres -- " + line;
    return std::system((line + " >>" + Log() + " 2>&1").c_str()) == 0;
  }

  std::string bindir_;
  std::filesystem::path dir_;
  int port_;
  std::string options_;
  bool started_ = false;
};

}  // namespace fachadapter::testing

#endif  // FACHADAPTER_TESTS_INTEGRATION_ODBC_PG_SERVER_H_
