#include "connection_pool.h"

namespace fachadapter::odbc {

namespace {

int Index(ConnectionKind kind) { return kind == ConnectionKind::kShort ? 1 : 0; }

}  // namespace

SQLHSTMT StatementCache::Find(std::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) return SQL_NULL_HSTMT;
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->stmt.get();
}

SQLHSTMT StatementCache::Insert(std::string key, StmtHandle stmt) {
  if (capacity_ == 0) return SQL_NULL_HSTMT;  // `stmt` is freed on return
  Erase(key);
  while (entries_.size() >= capacity_) {
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
  entries_.push_front(Entry{std::move(key), std::move(stmt)});
  index_.emplace(entries_.front().key, entries_.begin());
  return entries_.front().stmt.get();
}

void StatementCache::Erase(std::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  auto entry = it->second;
  index_.erase(it);
  entries_.erase(entry);
}

void StatementCache::Clear() {
  index_.clear();
  entries_.clear();
}

Result<StmtHandle> Connection::NewStatement() const {
  StmtHandle st;
  FA_RETURN_IF_ERROR(st.Allocate(dbc_.get()));
  return st;
}

Status Connection::ExecuteDirect(const std::string& sql, std::string_view what) const {
  FA_ASSIGN_OR_RETURN(StmtHandle st, NewStatement());
  SQLRETURN rc = SQLExecDirect(st.get(), reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql.c_str())),
                               static_cast<SQLINTEGER>(sql.size()));
  // SQL_NO_DATA: a searched UPDATE/DELETE that touched nothing; not an error here.
  if (rc == SQL_NO_DATA) return Status::OK();
  return st.Check(rc, what);
}

Status Connection::Note(Status status) {
  if (status.ok()) return status;
  if (status.code() != StatusCode::kUnavailable) {
    SQLUINTEGER dead = SQL_CD_FALSE;
    if (SQL_SUCCEEDED(SQLGetConnectAttr(dbc_.get(), SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr)) &&
        dead == SQL_CD_TRUE) {
      status = Status(StatusCode::kUnavailable,
                      status.message() + " (the connection to the database was lost)", "BACKEND_UNAVAILABLE");
    }
  }
  if (status.code() == StatusCode::kUnavailable) broken_ = true;
  return status;
}

Status Connection::Begin() {
  Status s = Check(SQLSetConnectAttr(dbc_.get(), SQL_ATTR_AUTOCOMMIT,
                                     reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_OFF), 0),
                   SQL_HANDLE_DBC, dbc_.get(), "starting a transaction");
  if (s.ok()) in_transaction_ = true;
  return Note(s);
}

Status Connection::Commit() {
  Status s = Check(SQLEndTran(SQL_HANDLE_DBC, dbc_.get(), SQL_COMMIT), SQL_HANDLE_DBC, dbc_.get(),
                   "committing the transaction");
  if (!s.ok()) {
    Rollback();
    return Note(s);
  }
  Status a = Check(SQLSetConnectAttr(dbc_.get(), SQL_ATTR_AUTOCOMMIT,
                                     reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_ON), 0),
                   SQL_HANDLE_DBC, dbc_.get(), "restoring autocommit");
  if (a.ok()) {
    in_transaction_ = false;
  } else {
    broken_ = true;  // committed, but the connection's mode is unknown: do not reuse it
  }
  return Status::OK();
}

void Connection::Rollback() {
  if (!in_transaction_) return;
  bool ok = SQL_SUCCEEDED(SQLEndTran(SQL_HANDLE_DBC, dbc_.get(), SQL_ROLLBACK)) &&
            SQL_SUCCEEDED(SQLSetConnectAttr(dbc_.get(), SQL_ATTR_AUTOCOMMIT,
                                            reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_ON), 0));
  if (ok) {
    in_transaction_ = false;
  } else {
    broken_ = true;
  }
}

PooledConnection& PooledConnection::operator=(PooledConnection&& o) noexcept {
  if (this != &o) {
    Return();
    pool_ = std::exchange(o.pool_, nullptr);
    conn_ = std::move(o.conn_);
  }
  return *this;
}

PooledConnection::~PooledConnection() { Return(); }

void PooledConnection::Return() {
  if (pool_ && conn_) {
    conn_->Rollback();  // a transaction left open by an early return is never committed
    pool_->Release(std::move(conn_));
  }
  pool_ = nullptr;
}

Result<std::unique_ptr<Connection>> ConnectionPool::Connect(ConnectionKind kind,
                                                            std::chrono::steady_clock::time_point deadline) const {
  std::string connection_string;
  {
    std::lock_guard lock(mu_);
    kind = ResolveLocked(kind);
    connection_string = connection_string_[Index(kind)];
  }
  auto c = std::make_unique<Connection>(statement_cache_size_);
  c->kind_ = kind;
  FA_RETURN_IF_ERROR(c->dbc_.Allocate(env_));
  if (login_timeout_seconds_ > 0) {
    FA_RETURN_IF_ERROR(c->dbc_.Check(
        SQLSetConnectAttr(c->dbc_.get(), SQL_ATTR_LOGIN_TIMEOUT,
                          reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(login_timeout_seconds_)), 0),
        "setting the login timeout"));
  }
  SQLCHAR out[1024];
  SQLSMALLINT out_len = 0;
  // One connect at a time per pool: psqlODBC 13 calls setlocale while it connects, which
  // frees the locale name another connecting thread may be reading (AddressSanitizer caught
  // it when connections were reopened after a restart).
  std::unique_lock connecting(connect_mu_, std::defer_lock);
  if (!connecting.try_lock_until(deadline)) {
    return Status(StatusCode::kUnavailable,
                  "another connection to the database was still being opened when the call's time ran out",
                  "BACKEND_UNAVAILABLE");
  }
  SQLRETURN rc = SQLDriverConnect(
      c->dbc_.get(), nullptr,
      reinterpret_cast<SQLCHAR*>(connection_string.data()),
      static_cast<SQLSMALLINT>(connection_string.size()), out, sizeof out, &out_len,
      SQL_DRIVER_NOPROMPT);
  if (!SQL_SUCCEEDED(rc)) {
    Status s = DiagnosticsToStatus(SQL_HANDLE_DBC, c->dbc_.get(), rc, "connecting");
    // A connection attempt fails either because the setup is wrong (driver or DSN missing,
    // bad credentials: FAILED_PRECONDITION) or because the database does not answer (every
    // other state: UNAVAILABLE, so callers may retry).
    StatusCode code = s.code();
    if (code != StatusCode::kFailedPrecondition) code = StatusCode::kUnavailable;
    std::string hint;
    if (s.reason() == "ODBC_DRIVER_NOT_FOUND") {
      hint = " (the ODBC driver or DSN named in the connection string is not installed; "
             "`odbcinst -q -d` lists drivers, `odbcinst -q -s` DSNs)";
    }
    return Status(code,
                  "cannot connect with connection string '" + RedactSecrets(connection_string) +
                      "'" + hint + ": " + s.message().substr(std::string("connecting: ").size()),
                  code == StatusCode::kUnavailable ? "BACKEND_UNAVAILABLE" : s.reason());
  }
  std::vector<std::string> setup;
  {
    std::lock_guard lock(mu_);
    setup = setup_;
  }
  for (const std::string& sql : setup) {
    FA_RETURN_IF_ERROR(c->ExecuteDirect(sql, "setting up the session (" + sql + ")"));
  }
  return c;
}

ConnectionKind ConnectionPool::ResolveLocked(ConnectionKind kind) const {
  if (!distinct_) return ConnectionKind::kStreaming;  // one kind serves everything
  return kind == ConnectionKind::kAny ? ConnectionKind::kShort : kind;
}

void ConnectionPool::Adopt(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  if (open_ >= size_) return;  // pool full: just close it
  if (!distinct_) c->kind_ = ConnectionKind::kStreaming;
  ++open_;
  c->idle_since_ = std::chrono::steady_clock::now();
  idle_[Index(c->kind_)].push_back(std::move(c));
  cv_.notify_one();
}

Result<PooledConnection> ConnectionPool::Acquire(ConnectionKind want,
                                                 std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  for (;;) {
    const ConnectionKind kind = ResolveLocked(want);
    // An idle connection that fits: the one of the wanted kind, for kAny whichever is idle.
    std::vector<std::unique_ptr<Connection>>* idle = &idle_[Index(kind)];
    if (want == ConnectionKind::kAny && idle->empty()) idle = &idle_[1 - Index(kind)];
    if (!idle->empty()) {
      std::unique_ptr<Connection> c = std::move(idle->back());
      idle->pop_back();
      if (std::chrono::steady_clock::now() - c->idle_since_ < validate_after_) {
        return PooledConnection(this, std::move(c));
      }
      std::string query = validation_query_;
      lock.unlock();
      bool valid = Validate(*c, query);
      if (valid) return PooledConnection(this, std::move(c));
      c.reset();  // closed outside the lock: a dead connection may take a moment to close
      lock.lock();
      --open_;
      cv_.notify_one();
      continue;
    }
    // None idle of that kind: open one if the pool has room, or make room by closing an idle
    // connection of the other kind (the total stays within pool_size).
    std::unique_ptr<Connection> other;
    if (open_ >= size_ && !idle_[1 - Index(kind)].empty()) {
      other = std::move(idle_[1 - Index(kind)].front());  // the longest idle
      idle_[1 - Index(kind)].erase(idle_[1 - Index(kind)].begin());
      --open_;
    }
    if (open_ < size_) {
      ++open_;
      lock.unlock();
      other.reset();
      Result<std::unique_ptr<Connection>> c = Connect(kind, deadline);
      if (!c.ok()) {
        lock.lock();
        --open_;
        cv_.notify_one();
        return c.status();
      }
      return PooledConnection(this, std::move(c).value());
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= deadline) {
      // A last look: something may have come free just now.
      bool any_idle = !idle_[0].empty() || !idle_[1].empty();
      if (!any_idle && open_ >= size_) {
        return Status(StatusCode::kUnavailable,
                      "all " + std::to_string(size_) +
                          " database connections of the source stayed busy (raise pool_size?)",
                      "POOL_EXHAUSTED");
      }
      deadline = std::chrono::steady_clock::now();  // one more round, then give up
    }
  }
}

void ConnectionPool::Release(std::unique_ptr<Connection> c) {
  std::unique_ptr<Connection> closing;
  {
    std::lock_guard lock(mu_);
    if (c->broken()) {
      closing = std::move(c);
      --open_;
    } else {
      c->idle_since_ = std::chrono::steady_clock::now();
      idle_[Index(c->kind_)].push_back(std::move(c));
    }
    cv_.notify_all();  // a waiter of either kind may use the connection or its room
  }
  // Closed outside the lock: a dead connection may take a moment to close.
}

bool ConnectionPool::Validate(Connection& c, const std::string& query) {
  SQLUINTEGER dead = SQL_CD_FALSE;
  if (SQL_SUCCEEDED(SQLGetConnectAttr(c.dbc(), SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr)) &&
      dead == SQL_CD_TRUE) {
    return false;
  }
  if (query.empty()) return true;
  // Any failure counts: a driver may report a lost server as a general error (HY000).
  return c.ExecuteDirect(query, "validating a pooled connection").ok();
}

}  // namespace fachadapter::odbc
