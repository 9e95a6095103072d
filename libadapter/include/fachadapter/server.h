// The gRPC face of the engine: the fachadapter.v1.Adapter service, health and reflection.
#ifndef FACHADAPTER_SERVER_H_
#define FACHADAPTER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fachadapter/engine.h"
#include "fachadapter/export.h"
#include "fachadapter/status.h"
#include "fachadapter/v1/adapter.grpc.pb.h"

namespace fachadapter {

namespace security {
class Guard;
}  // namespace security

/// Converts a Status to a grpc::Status: same code and message, plus a google.rpc.ErrorInfo
/// (reason, domain "fachadapter.de", metadata field) in the details. Use with
/// AddErrorTrailers to also set the plain `fachadapter-reason`/`fachadapter-field` trailers.
FACHADAPTER_API grpc::Status ToGrpcStatus(const Status& status);
/// Adds the `fachadapter-reason` and `fachadapter-field` trailers of `status` to `context`.
FACHADAPTER_API void AddErrorTrailers(const Status& status, grpc::ServerContext* context);

/// The fachadapter.v1.Adapter service over an engine; register it with any grpc::ServerBuilder
/// to embed Fachadapter in your own server. The engine (and guard) must outlive the service.
class FACHADAPTER_API AdapterService final : public v1::Adapter::Service {
 public:
  /// Serves `engine`. With a `guard` every call is identified, authorized, limited and, on
  /// entities with personal data, audited (docs/security.md); without one it serves anyone.
  explicit AdapterService(const Engine* engine, const security::Guard* guard = nullptr);
  ~AdapterService() override;

  /// See adapter.proto.
  grpc::Status ListEntities(grpc::ServerContext* ctx, const v1::ListEntitiesRequest* req,
                            v1::ListEntitiesResponse* resp) override;
  /// See adapter.proto.
  grpc::Status DescribeEntity(grpc::ServerContext* ctx, const v1::DescribeEntityRequest* req,
                              v1::EntitySchema* resp) override;
  /// See adapter.proto.
  grpc::Status Get(grpc::ServerContext* ctx, const v1::GetRequest* req, v1::GetResponse* resp) override;
  /// See adapter.proto.
  grpc::Status Query(grpc::ServerContext* ctx, const v1::QueryRequest* req,
                     grpc::ServerWriter<v1::QueryResponse>* writer) override;
  /// See adapter.proto.
  grpc::Status Create(grpc::ServerContext* ctx, const v1::CreateRequest* req,
                      v1::CreateResponse* resp) override;
  /// See adapter.proto.
  grpc::Status Update(grpc::ServerContext* ctx, const v1::UpdateRequest* req,
                      v1::UpdateResponse* resp) override;
  /// See adapter.proto.
  grpc::Status Delete(grpc::ServerContext* ctx, const v1::DeleteRequest* req,
                      v1::DeleteResponse* resp) override;

 private:
  class DeadlineReaper;
  // Watches a call that got the deadline cap; the result ends the watch (empty if none).
  std::function<void()> WatchDeadline(grpc::ServerContext* ctx, std::chrono::system_clock::time_point deadline);
  const Engine* engine_;
  const security::Guard* guard_;
  std::unique_ptr<DeadlineReaper> reaper_;  // cancels calls that outlive the deadline cap
};

/// A running Fachadapter server: engine, gRPC listeners, health and reflection.
class FACHADAPTER_API Server {
 public:
  /// Starts the engine from `config` and listens on `config.server.listen`: with TLS where
  /// `security.tls` is set (except listeners marked plaintext), plain text otherwise (the
  /// config only allows that on loopback or when marked). Checks the policy against the
  /// served entities and opens the audit log; any problem names the config file and line.
  static Result<std::unique_ptr<Server>> Start(const Config& config);
  ~Server();

  /// The ports actually bound, in listen order (useful with port 0).
  const std::vector<int>& ports() const { return ports_; }
  /// The engine.
  const Engine& engine() const { return *engine_; }

  /// Reads the config file again and replaces the authorization policy (SIGHUP in
  /// fachadapterd). A broken file or policy keeps the policy in force and returns why
  /// (FILE:LINE). Only `security.policy` is taken; everything else needs a restart.
  Status ReloadPolicy();

  /// Stops accepting calls, lets in-flight calls finish for up to the configured grace
  /// period, then cancels the rest. Idempotent.
  void Shutdown();
  /// Blocks until the server has shut down.
  void Wait();

 private:
  Server() = default;
  void HealthLoop();

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<security::Guard> guard_;
  std::unique_ptr<AdapterService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<int> ports_;
  struct HealthState;
  std::unique_ptr<HealthState> health_;
};

}  // namespace fachadapter

#endif  // FACHADAPTER_SERVER_H_
