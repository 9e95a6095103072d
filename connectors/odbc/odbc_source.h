// What every operation of one configured ODBC source shares: its settings, the ODBC
// environment, the connection pool, the dialect and the catalog cache.
#ifndef FACHADAPTER_CONNECTORS_ODBC_ODBC_SOURCE_H_
#define FACHADAPTER_CONNECTORS_ODBC_ODBC_SOURCE_H_

#include <chrono>
#include <memory>
#include <thread>
#include <type_traits>

#include "catalog.h"
#include "charset.h"
#include "connection_pool.h"
#include "dialect.h"
#include "fachadapter/connector/sdk.h"
#include "odbc_handles.h"
#include "odbc_settings.h"

namespace fachadapter::odbc {

/// Longest a call waits for a free pooled connection when its own deadline is later or unset.
inline constexpr std::chrono::seconds kMaxPoolWait{30};

/// The shared state of one source. Members are set up once by OdbcConnector::Open and are
/// thread-safe to use afterwards.
struct OdbcSource {
  OdbcSettings settings;
  EnvHandle env;
  std::unique_ptr<ConnectionPool> pool;
  Dialect dialect;
  std::unique_ptr<Catalog> catalog;
  /// Legacy character sets of text columns, learned on first write (see charset.h).
  ColumnCharsets charsets;

  /// Borrows a connection of `kind`, waiting at most until the call's deadline (capped at
  /// kMaxPoolWait).
  Result<PooledConnection> Acquire(const sdk::CallContext& ctx,
                                   ConnectionKind kind = ConnectionKind::kAny) const {
    auto deadline = std::chrono::steady_clock::now() + kMaxPoolWait;
    auto call = ctx.deadline();
    if (call != std::chrono::system_clock::time_point::max()) {
      auto left = call - std::chrono::system_clock::now();
      auto candidate = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
      if (candidate < deadline) deadline = candidate;
    }
    return pool->Acquire(kind, deadline);
  }
};

/// True for a failure that another attempt on a fresh connection may well not meet: the
/// connection or the server went away (SQLSTATE class 08), or the DBMS chose this transaction
/// as a deadlock victim or could not serialize it (class 40).
inline bool IsTransient(const Status& s) {
  return (s.code() == StatusCode::kUnavailable && s.reason() == "BACKEND_UNAVAILABLE") ||
         (s.code() == StatusCode::kAborted && s.reason() == "TRANSACTION_CONFLICT");
}

/// Most attempts of an operation that is safe to repeat (reads; inserts with an idempotency key).
inline constexpr int kMaxAttempts = 4;

/// Runs `attempt` (returning Status or Result<T>) until it succeeds, fails for good, or
/// kMaxAttempts were made, waiting 100 ms, 400 ms, 1.6 s in between, never past the call's
/// deadline and never after cancellation. Only for operations that are safe to repeat: a
/// broken connection is not returned to the pool, so each attempt gets a validated or new one.
template <typename F>
auto WithRetries(const sdk::CallContext& ctx, F&& attempt) -> decltype(attempt()) {
  auto backoff = std::chrono::milliseconds(100);
  for (int i = 1;; ++i) {
    auto result = attempt();
    Status status;
    if constexpr (std::is_same_v<decltype(result), Status>) {
      status = result;
    } else {
      status = result.status();
    }
    if (status.ok() || !IsTransient(status) || i == kMaxAttempts || ctx.cancelled()) return result;
    auto wake = std::chrono::system_clock::now() + backoff;
    if (wake >= ctx.deadline()) return result;
    std::this_thread::sleep_for(backoff);
    backoff *= 4;
  }
}

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_ODBC_SOURCE_H_
