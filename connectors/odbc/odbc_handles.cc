#include "odbc_handles.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>

namespace fachadapter::odbc {

namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::mutex& SecretsMutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& Secrets() {
  static std::set<std::string> s;
  return s;
}

}  // namespace

std::vector<DiagRecord> ReadDiagnostics(SQLSMALLINT handle_type, SQLHANDLE handle) {
  std::vector<DiagRecord> out;
  if (handle == SQL_NULL_HANDLE) return out;
  for (SQLSMALLINT i = 1; i <= 16; ++i) {
    SQLCHAR state[6] = {0};
    SQLINTEGER native = 0;
    SQLCHAR text[1024];
    SQLSMALLINT len = 0;
    SQLRETURN rc = SQLGetDiagRec(handle_type, handle, i, state, &native, text, sizeof text, &len);
    if (!SQL_SUCCEEDED(rc)) break;
    DiagRecord d;
    d.sqlstate.assign(reinterpret_cast<char*>(state), 5);
    d.native = native;
    size_t n = std::min<size_t>(len < 0 ? 0 : static_cast<size_t>(len), sizeof text - 1);
    d.message.assign(reinterpret_cast<char*>(text), n);
    out.push_back(std::move(d));
  }
  return out;
}

// SQLSTATE classes to gRPC codes, following the rules of status.h (UNAVAILABLE: retry may
// help; ABORTED: retry the whole transaction; FAILED_PRECONDITION: fix the state first):
//   08xxx connection, 57P0x     -> UNAVAILABLE          BACKEND_UNAVAILABLE
//   40xxx (40001, 40P01)        -> ABORTED              TRANSACTION_CONFLICT
//   23xxx unique/primary key    -> ALREADY_EXISTS       DUPLICATE_KEY
//   23xxx not null/check/fk     -> FAILED_PRECONDITION  CONSTRAINT_VIOLATION
//   22P05, MySQL 1366 "Incorrect string value" (a character the column's character set
//         cannot hold)      -> INVALID_ARGUMENT     UNREPRESENTABLE_CHARACTER
//   22xxx data exception        -> INVALID_ARGUMENT     INVALID_VALUE
//   28xxx authorization         -> FAILED_PRECONDITION  BACKEND_AUTH_FAILED
//   42501 / 42000 privilege     -> PERMISSION_DENIED    BACKEND_PERMISSION_DENIED (42501 only)
//   IM0xx driver manager        -> FAILED_PRECONDITION  ODBC_DRIVER_NOT_FOUND / ODBC_CONFIG
//   HYT00, HYT01 timeouts       -> UNAVAILABLE          BACKEND_TIMEOUT
//   "database is locked" etc.   -> UNAVAILABLE          BACKEND_BUSY
//   HY008 cancelled             -> CANCELLED            CANCELLED
//   everything else             -> UNKNOWN              BACKEND_ERROR
// Some drivers (SQLite's among them) report every constraint failure as 23000 or even HY000;
// the driver's text decides between a duplicate key and another constraint then.
StatusCode SqlStateToCode(std::string_view state, std::string_view message,
                          std::string* reason) {
  std::string msg = Lower(message);
  auto is_duplicate = [&] {
    return msg.find("unique") != std::string::npos || msg.find("duplicate") != std::string::npos ||
           msg.find("primary key") != std::string::npos;
  };
  auto is_constraint = [&] {
    return msg.find("constraint") != std::string::npos;
  };
  // 57P01..57P03 (PostgreSQL): the server is shutting down, crashed or is starting up; the
  // connection is gone as with class 08.
  if (StartsWith(state, "08") || StartsWith(state, "57P")) {
    *reason = "BACKEND_UNAVAILABLE";
    return StatusCode::kUnavailable;
  }
  if (StartsWith(state, "40")) {
    *reason = "TRANSACTION_CONFLICT";
    return StatusCode::kAborted;
  }
  if (StartsWith(state, "23") || (state == "HY000" && is_constraint())) {
    if (state == "23505" || (state != "23502" && state != "23503" && state != "23514" &&
                             is_duplicate())) {
      *reason = "DUPLICATE_KEY";
      return StatusCode::kAlreadyExists;
    }
    *reason = "CONSTRAINT_VIOLATION";
    return StatusCode::kFailedPrecondition;
  }
  // PostgreSQL's "character ... has no equivalent in encoding", MySQL/MariaDB's "Incorrect
  // string value" (22007 or HY000 by version). The connector checks written values against
  // the column's character set first (charset.h); this catches what it could not know.
  if (state == "22P05" || msg.find("incorrect string value") != std::string::npos) {
    *reason = "UNREPRESENTABLE_CHARACTER";
    return StatusCode::kInvalidArgument;
  }
  if (StartsWith(state, "22")) {
    *reason = "INVALID_VALUE";
    return StatusCode::kInvalidArgument;
  }
  if (StartsWith(state, "28")) {
    *reason = "BACKEND_AUTH_FAILED";
    return StatusCode::kFailedPrecondition;
  }
  if (state == "42501") {
    *reason = "BACKEND_PERMISSION_DENIED";
    return StatusCode::kPermissionDenied;
  }
  // unixODBC reports a Driver= that names no installed driver as warning 01000 "Can't open
  // lib" (and then fails the call), not as IM002/IM003.
  if (state == "IM002" || state == "IM003" ||
      (StartsWith(state, "01") && msg.find("can't open lib") != std::string::npos)) {
    *reason = "ODBC_DRIVER_NOT_FOUND";
    return StatusCode::kFailedPrecondition;
  }
  if (StartsWith(state, "IM")) {
    *reason = "ODBC_CONFIG";
    return StatusCode::kFailedPrecondition;
  }
  // Lock contention that outlasted the DBMS's own wait (SQLite's "database is locked",
  // MySQL's lock wait timeout) arrives as a generic state; retrying may help.
  if (msg.find("database is locked") != std::string::npos ||
      msg.find("lock wait timeout") != std::string::npos) {
    *reason = "BACKEND_BUSY";
    return StatusCode::kUnavailable;
  }
  if (state == "HYT00" || state == "HYT01") {
    *reason = "BACKEND_TIMEOUT";
    return StatusCode::kUnavailable;
  }
  if (state == "HY008") {
    *reason = "CANCELLED";
    return StatusCode::kCancelled;
  }
  *reason = "BACKEND_ERROR";
  return StatusCode::kUnknown;
}

void RegisterSecret(std::string secret) {
  if (secret.size() < 3) return;
  std::lock_guard lock(SecretsMutex());
  Secrets().insert(std::move(secret));
}

std::string RedactSecrets(std::string_view text) {
  // Pass 1: connection-string attributes whose key names a password. Values may be braced
  // ({...}, with '}}' for a literal brace) per the ODBC connection string grammar.
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t eq = text.find('=', i);
    if (eq == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    // The key is the run of word characters right before '='.
    size_t k = eq;
    while (k > i && (std::isalnum(static_cast<unsigned char>(text[k - 1])) || text[k - 1] == '_')) --k;
    std::string key = Lower(text.substr(k, eq - k));
    out.append(text.substr(i, eq + 1 - i));
    i = eq + 1;
    if (key == "pwd" || key == "password" || key.find("password") != std::string::npos) {
      if (i < text.size() && text[i] == '{') {
        size_t j = i + 1;
        while (j < text.size()) {
          if (text[j] == '}') {
            if (j + 1 < text.size() && text[j + 1] == '}') {
              j += 2;
              continue;
            }
            break;
          }
          ++j;
        }
        i = j < text.size() ? j + 1 : j;
      } else {
        while (i < text.size() && text[i] != ';' && text[i] != ' ' && text[i] != ',' &&
               text[i] != '\n') {
          ++i;
        }
      }
      out.append("***");
    }
  }
  // Pass 2: known secret values wherever they appear (drivers sometimes echo them).
  std::lock_guard lock(SecretsMutex());
  for (const std::string& s : Secrets()) {
    size_t pos = 0;
    while ((pos = out.find(s, pos)) != std::string::npos) {
      out.replace(pos, s.size(), "***");
      pos += 3;
    }
  }
  return out;
}

Status DiagnosticsToStatus(SQLSMALLINT handle_type, SQLHANDLE handle, SQLRETURN rc,
                           std::string_view what) {
  std::vector<DiagRecord> diags = ReadDiagnostics(handle_type, handle);
  std::string message(what);
  if (diags.empty()) {
    message += rc == SQL_INVALID_HANDLE ? ": invalid ODBC handle" : ": ODBC call failed without diagnostics";
    return Status(StatusCode::kUnknown, RedactSecrets(message), "BACKEND_ERROR");
  }
  // The first record that is not a mere warning (class 01) decides the code; the others often
  // add context (e.g. the DBMS's text behind a generic driver state).
  const DiagRecord* decisive = &diags.front();
  for (const DiagRecord& d : diags) {
    if (!StartsWith(d.sqlstate, "01")) {
      decisive = &d;
      break;
    }
  }
  std::string reason;
  StatusCode code = SqlStateToCode(decisive->sqlstate, decisive->message, &reason);
  message += ": ";
  for (size_t i = 0; i < diags.size(); ++i) {
    if (i > 0) message += "; ";
    message += "[" + diags[i].sqlstate + "] " + diags[i].message;
  }
  return Status(code, RedactSecrets(message), std::move(reason));
}

Result<EnvHandle> MakeEnvironment() {
  EnvHandle env;
  FA_RETURN_IF_ERROR(env.Allocate(SQL_NULL_HANDLE));
  FA_RETURN_IF_ERROR(env.Check(
      SQLSetEnvAttr(env.get(), SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0),
      "declaring ODBC 3 behaviour"));
  return env;
}

}  // namespace fachadapter::odbc
