// A bounded pool of ODBC connections shared by all threads calling one connector instance.
//
// A connector instance is called from many gRPC threads at once; an ODBC connection handle is
// not meant to be used by two threads at a time. The pool hands each caller a connection of
// its own, opens connections lazily up to `pool_size`, and makes further callers wait
// (bounded by the call's deadline) until one is given back. A connection that saw a
// connection-class error (SQLSTATE 08xxx) or whose transaction state is unknown is closed
// instead of being reused.
//
// Connections come in two kinds (ConnectionKind): streaming ones, opened with the driver
// options that make a result stream from the server (psqlODBC's server-side cursor mode), and
// short ones, opened without, for statements whose result is small. pool_size bounds both
// together; when the pool is full, an idle connection of the other kind is closed to make room.
//
// Each connection keeps the statements prepared on it (StatementCache): a repeated statement
// is executed again with new parameters instead of being parsed and planned again.
#ifndef FACHADAPTER_CONNECTORS_ODBC_CONNECTION_POOL_H_
#define FACHADAPTER_CONNECTORS_ODBC_CONNECTION_POOL_H_

#include <chrono>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fachadapter/status.h"
#include "odbc_handles.h"

namespace fachadapter::odbc {

/// What a connection is opened for.
enum class ConnectionKind {
  /// With the driver options that make results stream (Dialect::streaming_options): for
  /// scans whose result may be of any size.
  kStreaming,
  /// Without them: for statements whose result is bounded (a scan whose limit fits one fetch
  /// block, the reads of a write). Cheaper per statement where the streaming mode costs round
  /// trips (psqlODBC: BEGIN, DECLARE, FETCH, CLOSE, COMMIT for every SELECT).
  kShort,
  /// Acquire only: whichever kind is idle (short first); a new connection is a short one.
  kAny,
};

/// Default number of prepared statements a connection keeps.
inline constexpr size_t kDefaultStatementCacheSize = 64;

/// The prepared statements of one connection, by key (the SQL text and the types its
/// parameters are bound as), least recently used first out. Not thread-safe: it belongs to
/// its connection, which one caller uses at a time.
class StatementCache {
 public:
  /// Keeps at most `capacity` statements (0: none; every Prepare makes a new one).
  explicit StatementCache(size_t capacity = kDefaultStatementCacheSize) : capacity_(capacity) {}
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  /// The statement cached under `key` (it becomes the most recently used), or nullptr.
  SQLHSTMT Find(std::string_view key);
  /// Caches `stmt` (prepared by the caller) under `key`, freeing the least recently used
  /// statement if the cache is full. With capacity 0 the statement is freed at once and
  /// nullptr returned; else the handle, now owned by the cache.
  SQLHSTMT Insert(std::string key, StmtHandle stmt);
  /// Frees the statement cached under `key`, if any (after it failed: its state on the
  /// server is unknown).
  void Erase(std::string_view key);
  /// Frees every statement.
  void Clear();
  /// Statements cached.
  size_t size() const { return entries_.size(); }
  /// Most statements kept.
  size_t capacity() const { return capacity_; }
  /// True if `key` is cached (without touching the order).
  bool Contains(std::string_view key) const { return index_.count(key) > 0; }

 private:
  struct Entry {
    std::string key;
    StmtHandle stmt;
  };
  size_t capacity_;
  std::list<Entry> entries_;  // most recently used first; nodes keep their address
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // views into Entry::key
};

/// One open ODBC connection.
class Connection {
 public:
  /// A connection (not yet connected) that keeps up to `statement_cache_size` prepared
  /// statements.
  explicit Connection(size_t statement_cache_size = kDefaultStatementCacheSize)
      : statements_(statement_cache_size) {}
  /// What the connection was opened for (kStreaming or kShort).
  ConnectionKind kind() const { return kind_; }
  /// The connection handle.
  SQLHDBC dbc() const { return dbc_.get(); }
  /// Allocates a statement on this connection.
  Result<StmtHandle> NewStatement() const;
  /// Runs one statement without parameters or results (DDL, session settings).
  Status ExecuteDirect(const std::string& sql, std::string_view what) const;

  /// Turns autocommit off: the statements up to Commit/Rollback form one transaction.
  Status Begin();
  /// Commits and turns autocommit back on.
  Status Commit();
  /// Rolls back (best effort) and turns autocommit back on. Never fails; a connection whose
  /// rollback failed is marked broken.
  void Rollback();

  /// Remembers that the connection must not be reused (after `status`, if it says the
  /// connection is gone). Returns `status` for chaining.
  /// A failure on a connection the driver now reports dead is UNAVAILABLE/BACKEND_UNAVAILABLE
  /// whatever its SQLSTATE (psqlODBC, for one, reports a lost server inside a transaction as
  /// HY000 "internal SAVEPOINT failed"), so that it is retried and reported as what it is.
  Status Note(Status status);
  /// Marks the connection as not reusable.
  void MarkBroken() { broken_ = true; }
  /// True if the connection must be closed instead of reused.
  bool broken() const { return broken_ || in_transaction_; }

  /// The statements prepared on this connection. Freed before the connection is closed.
  StatementCache& statements() { return statements_; }

 private:
  friend class ConnectionPool;
  DbcHandle dbc_;
  // Declared after dbc_: statement handles are freed before the connection is disconnected.
  StatementCache statements_;
  ConnectionKind kind_ = ConnectionKind::kStreaming;
  bool broken_ = false;
  bool in_transaction_ = false;
  std::chrono::steady_clock::time_point idle_since_{};  // when it was last returned
};

class ConnectionPool;

/// A connection borrowed from the pool; gives it back on destruction.
class PooledConnection {
 public:
  PooledConnection() = default;
  PooledConnection(ConnectionPool* pool, std::unique_ptr<Connection> c)
      : pool_(pool), conn_(std::move(c)) {}
  PooledConnection(PooledConnection&&) noexcept = default;
  PooledConnection& operator=(PooledConnection&& o) noexcept;
  ~PooledConnection();
  /// The connection.
  Connection* operator->() const { return conn_.get(); }
  /// The connection.
  Connection& operator*() const { return *conn_; }

 private:
  void Return();
  ConnectionPool* pool_ = nullptr;
  std::unique_ptr<Connection> conn_;
};

/// The pool. Thread-safe.
class ConnectionPool {
 public:
  /// `env` must outlive the pool. Until set_connection_strings, both kinds use
  /// `connection_string` (they are then one kind).
  ConnectionPool(SQLHENV env, std::string connection_string, int size, int login_timeout_seconds,
                 size_t statement_cache_size = kDefaultStatementCacheSize)
      : env_(env), size_(size), login_timeout_seconds_(login_timeout_seconds),
        statement_cache_size_(statement_cache_size) {
    connection_string_[0] = connection_string;
    connection_string_[1] = std::move(connection_string);
  }
  ~ConnectionPool() = default;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// Statements to run on each new connection (set once after the dialect is known).
  void set_session_setup(std::vector<std::string> statements) {
    std::lock_guard lock(mu_);
    setup_ = std::move(statements);
  }

  /// A cheap statement (e.g. "SELECT 1") run to validate a connection that has been idle for
  /// longer than `after` before it is lent out; empty: only SQL_ATTR_CONNECTION_DEAD is asked.
  /// A connection that fails validation is closed and replaced by a new one, so that the pool
  /// recovers by itself after the database restarted.
  void set_validation(std::string query, std::chrono::milliseconds after) {
    std::lock_guard lock(mu_);
    validation_query_ = std::move(query);
    validate_after_ = after;
  }

  /// Sets the connection strings of the two kinds for connections opened from now on (Open
  /// adds the driver's options once it knows the driver; see Dialect). Equal strings make
  /// the two kinds one: every connection serves every purpose.
  void set_connection_strings(std::string streaming, std::string short_statements) {
    std::lock_guard lock(mu_);
    connection_string_[0] = std::move(streaming);
    connection_string_[1] = std::move(short_statements);
    distinct_ = connection_string_[0] != connection_string_[1];
  }

  /// Opens a connection of `kind` (kStreaming or kShort) outside the pool's accounting (used
  /// by Open to learn the dialect and fail early); it can be handed to Adopt afterwards. The
  /// pool's connects run one at a time; a caller still waiting for its turn at `deadline` is
  /// UNAVAILABLE/BACKEND_UNAVAILABLE.
  Result<std::unique_ptr<Connection>> Connect(
      ConnectionKind kind = ConnectionKind::kStreaming,
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max()) const;
  /// Puts a connection opened by Connect into the pool.
  void Adopt(std::unique_ptr<Connection> c);

  /// Borrows a connection of `kind`, waiting until `deadline` if all are in use: UNAVAILABLE
  /// with reason POOL_EXHAUSTED when none became free in time. An idle connection of the
  /// other kind is closed to make room when the pool is full. Idle connections are validated
  /// first (see set_validation); a new connection that cannot be opened is UNAVAILABLE with
  /// the driver's diagnostic.
  Result<PooledConnection> Acquire(ConnectionKind kind, std::chrono::steady_clock::time_point deadline);
  /// Borrows a connection of any kind (kAny).
  Result<PooledConnection> Acquire(std::chrono::steady_clock::time_point deadline) {
    return Acquire(ConnectionKind::kAny, deadline);
  }

  /// Most connections at once, both kinds together.
  int size() const { return size_; }

 private:
  friend class PooledConnection;
  void Release(std::unique_ptr<Connection> c);
  // True if `c` still answers: not SQL_ATTR_CONNECTION_DEAD and `query` (if any) runs.
  static bool Validate(Connection& c, const std::string& query);
  // The kind a request for `kind` is served with (kStreaming or kShort); mu_ held.
  ConnectionKind ResolveLocked(ConnectionKind kind) const;

  SQLHENV env_;
  std::string connection_string_[2];  // by kind: [0] streaming, [1] short
  bool distinct_ = false;
  int size_;
  int login_timeout_seconds_;
  size_t statement_cache_size_;
  mutable std::mutex mu_;
  mutable std::timed_mutex connect_mu_;  // held around SQLDriverConnect (see Connect)
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_[2];  // by kind, most recently returned last
  int open_ = 0;  // connections in idle_ plus those lent out, both kinds
  std::vector<std::string> setup_;
  std::string validation_query_;
  std::chrono::milliseconds validate_after_{1000};
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_CONNECTION_POOL_H_
