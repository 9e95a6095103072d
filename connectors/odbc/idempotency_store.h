// The table the connector owns to make Insert idempotent: fachadapter_idempotency, created on
// first use with portable DDL (type names from SQLGetTypeInfo), holding per idempotency key
// the entity, the core's request hash, the serialized InsertResponse and the time it was
// written. Its row is written in the same transaction as the inserted row, so a retry after a
// timeout or a crash finds either both or neither.
#ifndef FACHADAPTER_CONNECTORS_ODBC_IDEMPOTENCY_STORE_H_
#define FACHADAPTER_CONNECTORS_ODBC_IDEMPOTENCY_STORE_H_

#include <atomic>
#include <mutex>
#include <optional>
#include <string>

#include "connection_pool.h"
#include "dialect.h"
#include "fachadapter/status.h"

namespace fachadapter::odbc {

/// Longest idempotency key accepted (the key column is VARCHAR(255)).
inline constexpr size_t kMaxIdempotencyKeyLength = 255;

/// Access to fachadapter_idempotency. Thread-safe.
class IdempotencyStore {
 public:
  /// `dialect` must outlive the store.
  explicit IdempotencyStore(const Dialect* dialect) : dialect_(dialect) {}

  /// A stored answer.
  struct Entry {
    std::string entity;        ///< Raw entity of the first insert.
    std::string request_hash;  ///< The core's hash of the first request.
    std::string response;      ///< Serialized InsertResponse of the first insert.
  };

  /// Creates the table unless it exists (once per source; outside any transaction, since
  /// some DBMSs commit DDL implicitly).
  Status EnsureTable(Connection& conn);
  /// Looks `key` up (inside the caller's transaction).
  Result<std::optional<Entry>> Find(Connection& conn, const std::string& key);
  /// Writes the record of a first insert (inside the caller's transaction). ALREADY_EXISTS
  /// if another transaction recorded the same key first.
  Status Record(Connection& conn, const std::string& key, const std::string& entity,
                const std::string& request_hash, const std::string& response);

 private:
  Result<bool> Exists(Connection& conn);
  Result<std::string> Name() const;
  // A "no such table" for the table this process already saw is SQLite's stale schema cache
  // under lock contention: UNAVAILABLE/BACKEND_BUSY (retry), and the table is checked again.
  Status NotYetVisible(Status s);

  const Dialect* dialect_;
  std::mutex mu_;
  std::atomic<bool> ready_{false};
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_IDEMPOTENCY_STORE_H_
