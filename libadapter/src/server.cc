#include "fachadapter/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <regex>
#include <thread>

namespace fachadapter {

struct Server::HealthState {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool shut_down = false;
  std::thread thread;
};

namespace {

bool IsLoopback(const std::string& addr) {
  static const std::regex kLoopback(R"(^(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\]):[0-9]+$)");
  return std::regex_match(addr, kLoopback);
}

void SetHealth(grpc::Server* server, const Engine& engine, bool log_changes,
               std::map<std::string, bool>* last) {
  auto* hs = server->GetHealthCheckService();
  if (!hs) return;
  bool all = true;
  for (const auto& h : engine.CheckHealth()) {
    all = all && h.serving;
    hs->SetServingStatus("fachadapter.source." + h.source, h.serving);
    auto it = last->find(h.source);
    if (log_changes && (it == last->end() || it->second != h.serving)) {
      std::fprintf(stderr, "fachadapterd: source %s is %s%s%s\n", h.source.c_str(),
                   h.serving ? "SERVING" : "NOT_SERVING", h.detail.empty() ? "" : ": ",
                   h.detail.c_str());
    }
    (*last)[h.source] = h.serving;
  }
  hs->SetServingStatus("fachadapter.v1.Adapter", all);
  hs->SetServingStatus("", all);
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const Config& config) {
  for (const auto& addr : config.server.listen) {
    if (!IsLoopback(addr)) {
      return FailedPrecondition(config.path + ": server.listen: '" + addr +
                                    "' is not a loopback address; serving plain text beyond this machine is refused "
                                    "(TLS support is not built yet; put a TLS-terminating proxy in front and listen on 127.0.0.1)",
                                "PLAINTEXT_REFUSED");
    }
  }
  std::unique_ptr<Server> srv(new Server);
  FA_ASSIGN_OR_RETURN(srv->engine_, Engine::Start(config));
  srv->service_ = std::make_unique<AdapterService>(srv->engine_.get());

  grpc::EnableDefaultHealthCheckService(true);
  if (config.server.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  srv->ports_.assign(config.server.listen.size(), 0);
  for (size_t i = 0; i < config.server.listen.size(); ++i) {
    builder.AddListeningPort(config.server.listen[i], grpc::InsecureServerCredentials(), &srv->ports_[i]);
  }
  builder.SetMaxReceiveMessageSize(config.limits.max_receive_message_bytes);
  builder.RegisterService(srv->service_.get());
  srv->server_ = builder.BuildAndStart();
  if (!srv->server_) {
    return Unavailable(config.path + ": cannot listen on " + config.server.listen.front() +
                           " (address in use or not available)",
                       "LISTEN_FAILED");
  }
  for (size_t i = 0; i < srv->ports_.size(); ++i) {
    if (srv->ports_[i] == 0) {
      srv->server_->Shutdown();
      return Unavailable(config.path + ": cannot listen on " + config.server.listen[i] +
                             " (address in use or not available)",
                         "LISTEN_FAILED");
    }
  }
  srv->health_ = std::make_unique<HealthState>();
  std::map<std::string, bool> last;
  SetHealth(srv->server_.get(), *srv->engine_, false, &last);
  srv->health_->thread = std::thread([s = srv.get()] { s->HealthLoop(); });
  return srv;
}

void Server::HealthLoop() {
  std::map<std::string, bool> last;
  const auto interval = std::chrono::seconds(engine_->config().server.health_interval_seconds);
  std::unique_lock<std::mutex> lock(health_->mu);
  while (!health_->stop) {
    if (health_->cv.wait_for(lock, interval, [&] { return health_->stop; })) break;
    lock.unlock();
    SetHealth(server_.get(), *engine_, true, &last);
    lock.lock();
  }
}

void Server::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(health_->mu);
    if (health_->shut_down) return;
    health_->shut_down = true;
    health_->stop = true;
  }
  health_->cv.notify_all();
  if (health_->thread.joinable()) health_->thread.join();
  if (auto* hs = server_->GetHealthCheckService()) hs->Shutdown();
  auto deadline = std::chrono::system_clock::now() +
                  std::chrono::seconds(engine_->config().server.shutdown_grace_seconds);
  server_->Shutdown(deadline);
}

void Server::Wait() { server_->Wait(); }

Server::~Server() {
  if (server_) {
    Shutdown();
    server_->Wait();
  }
}

}  // namespace fachadapter
