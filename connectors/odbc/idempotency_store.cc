#include "idempotency_store.h"

#include <cctype>
#include <chrono>
#include <ctime>

#include "catalog.h"
#include "odbc_handles.h"

namespace fachadapter::odbc {

namespace {

std::string ToHex(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool FromHex(const std::string& hex, std::string* out) {
  if (hex.size() % 2) return false;
  auto nibble = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  out->clear();
  out->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

std::string UtcNow() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Reads column `col` of the current row as text (any length).
Result<std::string> ReadText(SQLHSTMT st, SQLUSMALLINT col) {
  std::string out;
  char buf[4096];
  for (;;) {
    SQLLEN ind = 0;
    SQLRETURN rc = SQLGetData(st, col, SQL_C_CHAR, buf, sizeof buf, &ind);
    if (rc == SQL_NO_DATA) break;
    FA_RETURN_IF_ERROR(Check(rc, SQL_HANDLE_STMT, st, "reading an idempotency record"));
    if (ind == SQL_NULL_DATA) break;
    size_t got = (ind == SQL_NO_TOTAL || ind >= static_cast<SQLLEN>(sizeof buf))
                     ? sizeof buf - 1 : static_cast<size_t>(ind);
    out.append(buf, got);
    if (rc == SQL_SUCCESS) break;
  }
  return out;
}

void BindText(SQLHSTMT st, SQLUSMALLINT n, const std::string& s, SQLLEN* ind, SQLSMALLINT sql_type) {
  *ind = static_cast<SQLLEN>(s.size());
  SQLBindParameter(st, n, SQL_PARAM_INPUT, SQL_C_CHAR, sql_type, s.empty() ? 1 : s.size(), 0,
                   const_cast<char*>(s.data()), static_cast<SQLLEN>(s.size()), ind);
}

}  // namespace

Status IdempotencyStore::NotYetVisible(Status s) {
  if (s.ok() || !ready_.load(std::memory_order_acquire)) return s;
  std::string msg = s.message();
  for (char& c : msg) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (msg.find("no such table") == std::string::npos) return s;
  // The table exists (this process saw or created it). SQLite checks a connection's cached
  // schema only when it can take a read lock; while another connection writes, a connection
  // that cached the schema before the table was created reports it missing. Busy, not absent;
  // the next call checks again (and creates the table should someone really have dropped it).
  ready_.store(false, std::memory_order_release);
  return Status(StatusCode::kUnavailable,
                s.message() + " (the idempotency table was created by another connection while "
                              "the database was busy; retry)",
                "BACKEND_BUSY");
}

Result<std::string> IdempotencyStore::Name() const { return dialect_->Quote(kIdempotencyTable); }

Result<bool> IdempotencyStore::Exists(Connection& conn) {
  FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
  std::string pattern = dialect_->CatalogPattern(kIdempotencyTable);
  FA_RETURN_IF_ERROR(conn.Note(st.Check(
      SQLTables(st.get(), nullptr, 0, nullptr, 0, reinterpret_cast<SQLCHAR*>(pattern.data()),
                static_cast<SQLSMALLINT>(pattern.size()), nullptr, 0),
      "looking for the idempotency table")));
  bool found = false;
  for (;;) {
    SQLRETURN rc = SQLFetch(st.get());
    if (rc == SQL_NO_DATA) break;
    FA_RETURN_IF_ERROR(st.Check(rc, "looking for the idempotency table"));
    FA_ASSIGN_OR_RETURN(std::string name, ReadText(st.get(), 3));
    if (name == kIdempotencyTable) found = true;
  }
  return found;
}

Status IdempotencyStore::EnsureTable(Connection& conn) {
  if (ready_.load(std::memory_order_acquire)) return Status::OK();
  std::lock_guard lock(mu_);
  if (ready_.load(std::memory_order_relaxed)) return Status::OK();
  FA_ASSIGN_OR_RETURN(bool exists, Exists(conn));
  if (!exists) {
    FA_ASSIGN_OR_RETURN(std::string table, Name());
    std::string q[5];
    const char* names[5] = {"idempotency_key", "entity", "request_hash", "response", "created_at"};
    for (int i = 0; i < 5; ++i) {
      FA_ASSIGN_OR_RETURN(q[i], dialect_->Quote(names[i]));
    }
    const std::string& vc = dialect_->varchar_type();
    std::string text = dialect_->long_text_type().empty() ? vc + "(8000)" : dialect_->long_text_type();
    std::string ddl = "CREATE TABLE " + table + " (" + q[0] + " " + vc + "(255) NOT NULL, " +
                      q[1] + " " + vc + "(255) NOT NULL, " + q[2] + " " + vc + "(128) NOT NULL, " +
                      q[3] + " " + text + " NOT NULL, " + q[4] + " " + vc +
                      "(32) NOT NULL, PRIMARY KEY (" + q[0] + "))";
    Status s = conn.ExecuteDirect(ddl, "creating the idempotency table " + std::string(kIdempotencyTable));
    if (!s.ok()) {
      // Another process may have created it at the same moment.
      Result<bool> again = Exists(conn);
      if (!again.ok() || !*again) return conn.Note(s);
    }
  }
  ready_.store(true, std::memory_order_release);
  return Status::OK();
}

Result<std::optional<IdempotencyStore::Entry>> IdempotencyStore::Find(Connection& conn,
                                                                      const std::string& key) {
  FA_ASSIGN_OR_RETURN(std::string table, Name());
  FA_ASSIGN_OR_RETURN(std::string k, dialect_->Quote("idempotency_key"));
  FA_ASSIGN_OR_RETURN(std::string e, dialect_->Quote("entity"));
  FA_ASSIGN_OR_RETURN(std::string h, dialect_->Quote("request_hash"));
  FA_ASSIGN_OR_RETURN(std::string r, dialect_->Quote("response"));
  std::string sql = "SELECT " + e + ", " + h + ", " + r + " FROM " + table + " WHERE " + k + " = ?";
  FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
  SQLLEN ind = 0;
  BindText(st.get(), 1, key, &ind, SQL_VARCHAR);
  FA_RETURN_IF_ERROR(NotYetVisible(conn.Note(st.Check(
      SQLExecDirect(st.get(), reinterpret_cast<SQLCHAR*>(sql.data()), static_cast<SQLINTEGER>(sql.size())),
      "looking up the idempotency key"))));
  SQLRETURN rc = SQLFetch(st.get());
  if (rc == SQL_NO_DATA) return std::optional<Entry>();
  FA_RETURN_IF_ERROR(conn.Note(st.Check(rc, "looking up the idempotency key")));
  Entry entry;
  FA_ASSIGN_OR_RETURN(entry.entity, ReadText(st.get(), 1));
  FA_ASSIGN_OR_RETURN(entry.request_hash, ReadText(st.get(), 2));
  FA_ASSIGN_OR_RETURN(std::string hex, ReadText(st.get(), 3));
  if (!FromHex(hex, &entry.response)) {
    return Status(StatusCode::kDataLoss,
                  "the idempotency record of this key is corrupt (table " +
                      std::string(kIdempotencyTable) + ")",
                  "IDEMPOTENCY_RECORD_CORRUPT");
  }
  return std::optional<Entry>(std::move(entry));
}

Status IdempotencyStore::Record(Connection& conn, const std::string& key, const std::string& entity,
                                const std::string& request_hash, const std::string& response) {
  FA_ASSIGN_OR_RETURN(std::string table, Name());
  std::string cols;
  const char* names[5] = {"idempotency_key", "entity", "request_hash", "response", "created_at"};
  for (int i = 0; i < 5; ++i) {
    FA_ASSIGN_OR_RETURN(std::string q, dialect_->Quote(names[i]));
    cols += (i ? ", " : "") + q;
  }
  std::string sql = "INSERT INTO " + table + " (" + cols + ") VALUES (?, ?, ?, ?, ?)";
  std::string hex = ToHex(response), now = UtcNow();
  FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
  SQLLEN ind[5];
  BindText(st.get(), 1, key, &ind[0], SQL_VARCHAR);
  BindText(st.get(), 2, entity, &ind[1], SQL_VARCHAR);
  BindText(st.get(), 3, request_hash, &ind[2], SQL_VARCHAR);
  BindText(st.get(), 4, hex, &ind[3], SQL_LONGVARCHAR);
  BindText(st.get(), 5, now, &ind[4], SQL_VARCHAR);
  return NotYetVisible(conn.Note(st.Check(
      SQLExecDirect(st.get(), reinterpret_cast<SQLCHAR*>(sql.data()), static_cast<SQLINTEGER>(sql.size())),
      "recording the idempotency key")));
}

}  // namespace fachadapter::odbc
