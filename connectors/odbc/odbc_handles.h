// RAII owners of ODBC handles (SQLHENV, SQLHDBC, SQLHSTMT) and the one place where ODBC
// diagnostics become fachadapter::Status values.
//
// Every ODBC call in the connector goes through Check(): it reads all diagnostic records of the
// handle, picks a gRPC code from the SQLSTATE class (docs: SqlStateToCode) and keeps the
// driver's own text in the message, with any password stripped.
#ifndef FACHADAPTER_CONNECTORS_ODBC_ODBC_HANDLES_H_
#define FACHADAPTER_CONNECTORS_ODBC_ODBC_HANDLES_H_

#include <sql.h>
#include <sqlext.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fachadapter/status.h"

namespace fachadapter::odbc {

/// One ODBC diagnostic record.
struct DiagRecord {
  std::string sqlstate;    ///< Five characters, e.g. "23000".
  SQLINTEGER native = 0;   ///< Driver/DBMS-specific error number.
  std::string message;     ///< The driver's text.
};

/// Reads all diagnostic records of a handle (at most 16, in order).
std::vector<DiagRecord> ReadDiagnostics(SQLSMALLINT handle_type, SQLHANDLE handle);

/// Chooses the gRPC code for a SQLSTATE (see the table in odbc_handles.cc). `message` is the
/// driver's text; it refines the generic class-23 state that some drivers use for every
/// constraint. Writes the machine-readable reason into `*reason`.
StatusCode SqlStateToCode(std::string_view sqlstate, std::string_view message,
                          std::string* reason);

/// Returns `text` with the values of PWD=, PASSWORD= (any case, also braced values) replaced
/// by "***", so connection strings and diagnostics can be shown to operators.
std::string RedactSecrets(std::string_view text);

/// Registers a secret (e.g. the password of the connection string) that RedactSecrets also
/// removes wherever it appears, e.g. inside a driver's diagnostic. Values shorter than three
/// characters are not registered (they would mangle ordinary text).
void RegisterSecret(std::string secret);

/// Builds a Status from the diagnostics of a failed call. `what` says what was attempted
/// ("executing the scan", "connecting"). Driver texts are redacted.
Status DiagnosticsToStatus(SQLSMALLINT handle_type, SQLHANDLE handle, SQLRETURN rc,
                           std::string_view what);

/// OK if `rc` is SQL_SUCCESS or SQL_SUCCESS_WITH_INFO, else the Status of the handle's
/// diagnostics.
inline Status Check(SQLRETURN rc, SQLSMALLINT handle_type, SQLHANDLE handle,
                    std::string_view what) {
  if (SQL_SUCCEEDED(rc)) return Status::OK();
  return DiagnosticsToStatus(handle_type, handle, rc, what);
}

/// Owns one ODBC handle of kind `Type`; frees it on destruction. Movable, not copyable.
template <SQLSMALLINT Type>
class Handle {
 public:
  Handle() = default;
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, SQLHANDLE{})) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, SQLHANDLE{});
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  /// Allocates the handle under `parent` (SQL_NULL_HANDLE for an environment).
  Status Allocate(SQLHANDLE parent) {
    reset();
    SQLRETURN rc = SQLAllocHandle(Type, parent, &h_);
    if (!SQL_SUCCEEDED(rc)) {
      h_ = SQL_NULL_HANDLE;
      if (parent == SQL_NULL_HANDLE) {
        return Internal("cannot allocate an ODBC environment (is unixODBC installed?)");
      }
      return DiagnosticsToStatus(Type == SQL_HANDLE_STMT ? SQL_HANDLE_DBC : SQL_HANDLE_ENV,
                                 parent, rc, "allocating an ODBC handle");
    }
    return Status::OK();
  }
  /// The raw handle.
  SQLHANDLE get() const { return h_; }
  /// True if allocated.
  explicit operator bool() const { return h_ != SQL_NULL_HANDLE; }
  /// Checks `rc` of a call on this handle.
  Status Check(SQLRETURN rc, std::string_view what) const {
    return odbc::Check(rc, Type, h_, what);
  }
  /// Frees the handle (a connection is disconnected first).
  void reset() {
    if (h_ == SQL_NULL_HANDLE) return;
    if constexpr (Type == SQL_HANDLE_DBC) SQLDisconnect(h_);
    SQLFreeHandle(Type, h_);
    h_ = SQL_NULL_HANDLE;
  }

 private:
  SQLHANDLE h_ = SQL_NULL_HANDLE;
};

/// An ODBC environment handle (ODBC 3 behaviour).
using EnvHandle = Handle<SQL_HANDLE_ENV>;
/// An ODBC connection handle.
using DbcHandle = Handle<SQL_HANDLE_DBC>;
/// An ODBC statement handle.
using StmtHandle = Handle<SQL_HANDLE_STMT>;

/// Allocates an environment and declares ODBC 3 behaviour.
Result<EnvHandle> MakeEnvironment();

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_ODBC_HANDLES_H_
