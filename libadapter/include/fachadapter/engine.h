// The engine: configured sources and entities, and the API operations on them, independent of
// gRPC. The gRPC service (server.h) is a thin layer over it; integrators can call it directly.
#ifndef FACHADAPTER_ENGINE_H_
#define FACHADAPTER_ENGINE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fachadapter/config.h"
#include "fachadapter/export.h"
#include "fachadapter/status.h"
#include "fachadapter/v1/adapter.pb.h"

namespace fachadapter {

/// What one caller may see and touch of one entity (from the authorization policy). The
/// engine enforces it on every path: reads, filters, order, projection and writes.
struct Restrictions {
  /// API filter every row the caller reads, updates or deletes must match, and every row it
  /// creates or leaves after an update must match; KIND_NOT_SET = all rows. It may name
  /// hidden fields (it is the policy's, not the caller's).
  v1::Filter rows;
  /// Fields treated as if they did not exist: absent from results and default projections,
  /// UNKNOWN_FIELD in filters, order, projection and values, so they cannot be probed.
  std::set<std::string> hidden_fields;
  /// Fields returned masked (text "***", other types NULL; NULL stays NULL); using them in a
  /// filter, order or value is PERMISSION_DENIED.
  std::set<std::string> masked_fields;
};

/// Deadline, cancellation and restrictions of one API call.
struct CallOptions {
  /// Returns true once the caller went away; may be empty.
  std::function<bool()> is_cancelled;
  /// Absolute deadline; max() for none.
  std::chrono::system_clock::time_point deadline = std::chrono::system_clock::time_point::max();
  /// The caller's restrictions; nullptr = none (the caller may see everything).
  const Restrictions* restrictions = nullptr;
};

/// Health of one source.
struct SourceHealth {
  std::string source;  ///< Source name.
  bool serving;        ///< The back end answers.
  std::string detail;  ///< Why not, if not.
};

/// Serves the configured entities. Thread-safe: all operations may run concurrently.
class FACHADAPTER_API Engine {
 public:
  /// Loads the connectors, opens every source and checks every entity against the raw schema
  /// the source reports. Any problem is an error naming the config file and line
  /// (FAILED_PRECONDITION for back ends and plugins, INVALID_ARGUMENT for the mapping).
  static Result<std::unique_ptr<Engine>> Start(const Config& config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// The configuration it runs.
  const Config& config() const;

  /// All entities, sorted by name.
  Status ListEntities(v1::ListEntitiesResponse* out) const;
  /// One entity's schema; NOT_FOUND/UNKNOWN_ENTITY if there is none.
  Status DescribeEntity(const v1::DescribeEntityRequest& request, v1::EntitySchema* out) const;
  /// Reads one record by key; NOT_FOUND/RECORD_NOT_FOUND if there is none.
  Status Get(const v1::GetRequest& request, v1::GetResponse* out, const CallOptions& options) const;
  /// Streams the matching records: `emit` receives each response message and returns false
  /// when the caller is gone (the scan then stops). Memory stays bounded by one batch.
  Status Query(const v1::QueryRequest& request,
               const std::function<bool(v1::QueryResponse&)>& emit,
               const CallOptions& options) const;
  /// Query for callers that only serialize the messages, such as the gRPC service. Where a
  /// batch's records need no conversion (every field delivered as the connector read it, no
  /// filter left to the core, nothing masked), they go into the message as the connector
  /// encoded them, as unknown field 2, which serializes exactly like `batch`, instead of being
  /// parsed and encoded again. `batch()` then reads as empty in C++, so `emit` also gets the
  /// number of records in each message.
  Status QueryEncoded(const v1::QueryRequest& request,
                      const std::function<bool(v1::QueryResponse&, int64_t records)>& emit,
                      const CallOptions& options) const;
  /// Creates a record (idempotent by idempotency_key).
  Status Create(const v1::CreateRequest& request, v1::CreateResponse* out,
                const CallOptions& options) const;
  /// Updates a record if its etag matches.
  Status Update(const v1::UpdateRequest& request, v1::UpdateResponse* out,
                const CallOptions& options) const;
  /// Deletes a record if its etag matches.
  Status Delete(const v1::DeleteRequest& request, v1::DeleteResponse* out,
                const CallOptions& options) const;

  /// Asks every source whether its back end answers.
  std::vector<SourceHealth> CheckHealth() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  Status QueryWith(const v1::QueryRequest& request,
                   const std::function<bool(v1::QueryResponse&, int64_t records)>& emit,
                   const CallOptions& options, bool forward_encoded) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fachadapter

#endif  // FACHADAPTER_ENGINE_H_
