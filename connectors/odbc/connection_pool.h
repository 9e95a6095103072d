// A bounded pool of ODBC connections shared by all threads calling one connector instance.
//
// A connector instance is called from many gRPC threads at once; an ODBC connection handle is
// not meant to be used by two threads at a time. The pool hands each caller a connection of
// its own, opens connections lazily up to `pool_size`, and makes further callers wait
// (bounded by the call's deadline) until one is given back. A connection that saw a
// connection-class error (SQLSTATE 08xxx) or whose transaction state is unknown is closed
// instead of being reused.
#ifndef FACHADAPTER_CONNECTORS_ODBC_CONNECTION_POOL_H_
#define FACHADAPTER_CONNECTORS_ODBC_CONNECTION_POOL_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fachadapter/status.h"
#include "odbc_handles.h"

namespace fachadapter::odbc {

/// One open ODBC connection.
class Connection {
 public:
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

 private:
  friend class ConnectionPool;
  DbcHandle dbc_;
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
  /// `env` must outlive the pool. `setup` statements run on every new connection.
  ConnectionPool(SQLHENV env, std::string connection_string, int size, int login_timeout_seconds)
      : env_(env), connection_string_(std::move(connection_string)), size_(size),
        login_timeout_seconds_(login_timeout_seconds) {}
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

  /// Replaces the connection string for connections opened from now on (Open adds the
  /// driver's streaming and type options once it knows the driver; see Dialect).
  void set_connection_string(std::string connection_string) {
    std::lock_guard lock(mu_);
    connection_string_ = std::move(connection_string);
  }

  /// Opens a connection outside the pool's accounting (used by Open to learn the dialect
  /// and fail early); it can be handed to Adopt afterwards.
  Result<std::unique_ptr<Connection>> Connect() const;
  /// Puts a connection opened by Connect into the pool.
  void Adopt(std::unique_ptr<Connection> c);

  /// Borrows a connection, waiting until `deadline` if all are in use: UNAVAILABLE with
  /// reason POOL_EXHAUSTED when none became free in time. Idle connections are validated
  /// first (see set_validation); a new connection that cannot be opened is UNAVAILABLE with
  /// the driver's diagnostic.
  Result<PooledConnection> Acquire(std::chrono::steady_clock::time_point deadline);

  /// Most connections at once.
  int size() const { return size_; }

 private:
  friend class PooledConnection;
  void Release(std::unique_ptr<Connection> c);
  // True if `c` still answers: not SQL_ATTR_CONNECTION_DEAD and `query` (if any) runs.
  static bool Validate(Connection& c, const std::string& query);

  SQLHENV env_;
  std::string connection_string_;
  int size_;
  int login_timeout_seconds_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // connections in idle_ plus those lent out
  std::vector<std::string> setup_;
  std::string validation_query_;
  std::chrono::milliseconds validate_after_{1000};
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_CONNECTION_POOL_H_
