// Plain ODBC for tests: a connection of the test's own (not the connector's) that sets up
// databases, holds locks and transactions against the connector, and looks behind its back.
// The value helpers the ODBC tests share are in test_values.h.
#ifndef FACHADAPTER_TESTS_INTEGRATION_ODBC_RAW_ODBC_H_
#define FACHADAPTER_TESTS_INTEGRATION_ODBC_RAW_ODBC_H_

#include <sql.h>
#include <sqlext.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <regex>
#include <stdexcept>
#include <string>

#include "test_values.h"

namespace fachadapter::testing {


/// Replaces (or appends) the value of `key` (case-insensitive) in an ODBC connection string.
inline std::string WithKey(const std::string& cs, const std::string& key, const std::string& value) {
  std::regex re("(^|;)" + key + "=[^;]*", std::regex::icase);
  if (std::regex_search(cs, re)) return std::regex_replace(cs, re, "$1" + key + "=" + value);
  return cs + (cs.empty() || cs.back() == ';' ? "" : ";") + key + "=" + value + ";";
}

/// A database name no other test (or run) uses: prefix, process id, counter.
inline std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(getpid()) + "_" + std::to_string(counter++);
}

/// One ODBC connection. Every method throws std::runtime_error with the driver's diagnostic.
class RawConnection {
 public:
  explicit RawConnection(const std::string& connection_string) {
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env_);
    SQLSetEnvAttr(env_, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env_, &dbc_);
    SQLRETURN rc = SQLDriverConnect(dbc_, nullptr,
                                    reinterpret_cast<SQLCHAR*>(const_cast<char*>(connection_string.c_str())),
                                    SQL_NTS, nullptr, 0, nullptr, SQL_DRIVER_NOPROMPT);
    if (!SQL_SUCCEEDED(rc)) {
      std::string diag = Diagnostic(SQL_HANDLE_DBC, dbc_);
      Free();
      throw std::runtime_error("connect: " + diag);
    }
  }
  ~RawConnection() { Free(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// Runs one statement (autocommit unless Begin was called).
  void Exec(const std::string& sql) {
    SQLHSTMT st = SQL_NULL_HSTMT;
    SQLAllocHandle(SQL_HANDLE_STMT, dbc_, &st);
    SQLRETURN rc = SQLExecDirect(st, reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql.c_str())), SQL_NTS);
    std::string diag = SQL_SUCCEEDED(rc) || rc == SQL_NO_DATA ? "" : Diagnostic(SQL_HANDLE_STMT, st);
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    if (!diag.empty()) throw std::runtime_error(diag + " in: " + sql.substr(0, 160));
  }
  /// The first column of the first row as text; `null_text` if NULL or no row.
  std::string Text(const std::string& sql, const std::string& null_text = "<none>") {
    SQLHSTMT st = SQL_NULL_HSTMT;
    SQLAllocHandle(SQL_HANDLE_STMT, dbc_, &st);
    std::string out = null_text;
    SQLRETURN rc = SQLExecDirect(st, reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql.c_str())), SQL_NTS);
    if (!SQL_SUCCEEDED(rc)) {
      std::string diag = Diagnostic(SQL_HANDLE_STMT, st);
      SQLFreeHandle(SQL_HANDLE_STMT, st);
      throw std::runtime_error(diag + " in: " + sql.substr(0, 160));
    }
    if (SQL_SUCCEEDED(SQLFetch(st))) {
      char buf[4096] = {0};
      SQLLEN ind = 0;
      if (SQL_SUCCEEDED(SQLGetData(st, 1, SQL_C_CHAR, buf, sizeof buf, &ind)) && ind >= 0) {
        out.assign(buf, std::min<size_t>(static_cast<size_t>(ind), sizeof buf - 1));
      }
    }
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    return out;
  }
  /// The first column of the first row as an integer.
  int64_t Count(const std::string& sql) { return std::stoll(Text(sql, "-1")); }
  /// Starts a transaction (autocommit off).
  void Begin() {
    Check(SQLSetConnectAttr(dbc_, SQL_ATTR_AUTOCOMMIT, reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_OFF), 0));
  }
  /// Commits and returns to autocommit.
  void Commit() { End(SQL_COMMIT); }
  /// Rolls back and returns to autocommit.
  void Rollback() { End(SQL_ROLLBACK); }

 private:
  void End(SQLSMALLINT how) {
    Check(SQLEndTran(SQL_HANDLE_DBC, dbc_, how));
    Check(SQLSetConnectAttr(dbc_, SQL_ATTR_AUTOCOMMIT, reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_ON), 0));
  }
  void Check(SQLRETURN rc) {
    if (!SQL_SUCCEEDED(rc)) throw std::runtime_error(Diagnostic(SQL_HANDLE_DBC, dbc_));
  }
  static std::string Diagnostic(SQLSMALLINT type, SQLHANDLE h) {
    SQLCHAR state[6] = {0}, text[1024] = {0};
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    if (SQL_SUCCEEDED(SQLGetDiagRec(type, h, 1, state, &native, text, sizeof text, &len))) {
      return std::string(reinterpret_cast<char*>(state)) + " " + reinterpret_cast<char*>(text);
    }
    return "unknown ODBC error";
  }
  void Free() {
    if (dbc_) {
      SQLDisconnect(dbc_);
      SQLFreeHandle(SQL_HANDLE_DBC, dbc_);
      dbc_ = SQL_NULL_HDBC;
    }
    if (env_) {
      SQLFreeHandle(SQL_HANDLE_ENV, env_);
      env_ = SQL_NULL_HENV;
    }
  }
  SQLHENV env_ = SQL_NULL_HENV;
  SQLHDBC dbc_ = SQL_NULL_HDBC;
};

}  // namespace fachadapter::testing

#endif  // FACHADAPTER_TESTS_INTEGRATION_ODBC_RAW_ODBC_H_
