// The back ends the ODBC suites run against, and a fresh database on one of them per test:
// a SQLite file always; PostgreSQL and MariaDB when FACHADAPTER_TEST_PG_DSN /
// FACHADAPTER_TEST_MARIADB_DSN name a server (scripts/test-servers.sh starts both).
#ifndef FACHADAPTER_TESTS_INTEGRATION_ODBC_TEST_DATABASE_H_
#define FACHADAPTER_TESTS_INTEGRATION_ODBC_TEST_DATABASE_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "raw_odbc.h"
#include "test_util.h"

namespace fachadapter::testing {

/// A back end of the parameterised ODBC suites.
enum class Backend { kSqlite, kPostgres, kMariaDb };

/// "SQLite", "PostgreSQL" or "MariaDB".
inline std::string BackendName(Backend b) {
  switch (b) {
    case Backend::kSqlite: return "SQLite";
    case Backend::kPostgres: return "PostgreSQL";
    case Backend::kMariaDb: return "MariaDB";
  }
  return "unknown";
}

/// Test names of INSTANTIATE_TEST_SUITE_P over the back ends.
inline std::string BackendParamName(const ::testing::TestParamInfo<Backend>& info) { return BackendName(info.param); }

/// All three back ends, for INSTANTIATE_TEST_SUITE_P.
inline auto AllBackends() { return ::testing::Values(Backend::kSqlite, Backend::kPostgres, Backend::kMariaDb); }

/// A database of its own for one test: the file `t.db` in `dir` for SQLite, else a database
/// named `<prefix>_<unique>` created on the test server and dropped when this goes.
class TestDatabase {
 public:
  TestDatabase(Backend backend, const std::filesystem::path& dir, std::string_view prefix) : backend_(backend) {
    if (backend == Backend::kSqlite) {
      if (ReadFile("/etc/odbcinst.ini").find("[SQLite3]") == std::string::npos) {
        unavailable_ = "the SQLite3 ODBC driver is not registered in /etc/odbcinst.ini";
        return;
      }
      connection_string_ = "Driver=SQLite3;StepAPI=1;Database=" + (dir / "t.db").string() + ";";
      return;
    }
    const char* var = backend == Backend::kPostgres ? "FACHADAPTER_TEST_PG_DSN" : "FACHADAPTER_TEST_MARIADB_DSN";
    const char* base = std::getenv(var);
    if (!base || !*base) {
      unavailable_ = std::string(var) + " is not set: no " + BackendName(backend) +
                     " server to test against (scripts/test-servers.sh starts one)";
      return;
    }
    name_ = UniqueName(std::string(prefix));
    server_ = std::make_unique<RawConnection>(base);
    server_->Exec("CREATE DATABASE " + name_);
    connection_string_ = WithKey(base, "Database", name_);
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  /// Drops the server database; close every connection to it first.
  ~TestDatabase() {
    if (!server_) return;
    try {
      server_->Exec("DROP DATABASE " + name_ + (backend_ == Backend::kPostgres ? " WITH (FORCE)" : ""));
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }

  /// Why the back end cannot be tested here (the test skips with it); empty if it can.
  const std::string& unavailable() const { return unavailable_; }
  /// ODBC connection string of the database.
  const std::string& connection_string() const { return connection_string_; }

 private:
  Backend backend_;
  std::string unavailable_;
  std::string name_;
  std::string connection_string_;
  std::unique_ptr<RawConnection> server_;  // to the server's base database (not SQLite)
};

}  // namespace fachadapter::testing

#endif  // FACHADAPTER_TESTS_INTEGRATION_ODBC_TEST_DATABASE_H_
