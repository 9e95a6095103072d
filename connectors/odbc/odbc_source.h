// What every operation of one configured ODBC source shares: its settings, the ODBC
// environment, the connection pool, the dialect and the catalog cache.
#ifndef FACHADAPTER_CONNECTORS_ODBC_ODBC_SOURCE_H_
#define FACHADAPTER_CONNECTORS_ODBC_ODBC_SOURCE_H_

#include <chrono>
#include <memory>

#include "catalog.h"
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

  /// Borrows a connection, waiting at most until the call's deadline (capped at kMaxPoolWait).
  Result<PooledConnection> Acquire(const sdk::CallContext& ctx) const {
    auto deadline = std::chrono::steady_clock::now() + kMaxPoolWait;
    auto call = ctx.deadline();
    if (call != std::chrono::system_clock::time_point::max()) {
      auto left = call - std::chrono::system_clock::now();
      auto candidate = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
      if (candidate < deadline) deadline = candidate;
    }
    return pool->Acquire(deadline);
  }
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_ODBC_SOURCE_H_
