#include "fachadapter/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpc/grpc_security.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/conf.h>
#include <openssl/ssl.h>
#include <stdlib.h>

#include <algorithm>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <regex>
#include <thread>

#include "fachadapter/security/guard.h"

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

// BSI TR-02102-2: TLS 1.2 only with ECDHE and AES-GCM (no CBC, no RSA key exchange, no SHA-1).
// gRPC reads GRPC_SSL_CIPHER_SUITES once, when it creates its first TLS context, so this must
// be in the environment before any TLS credentials exist in the process. TLS 1.3 suites are
// OpenSSL's defaults (all AEAD).
constexpr char kTls12CipherSuites[] =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256";

// TLS 1.3 suites and key-exchange groups cannot be set through gRPC's API. OpenSSL applies
// the "system_default" section of its ssl_conf module to every SSL_CTX it creates, so this
// in-memory configuration, loaded before gRPC makes its contexts, restricts them to the suites
// and groups of BSI TR-02102-2 (AES-GCM; NIST P-256/P-384 and Brainpool curves).
constexpr char kOpenSslTlsConf[] =
    "fachadapter_conf = fachadapter_conf_sect\n"
    "[fachadapter_conf_sect]\n"
    "ssl_conf = fachadapter_ssl_sect\n"
    "[fachadapter_ssl_sect]\n"
    "system_default = fachadapter_tls_sect\n"
    "[fachadapter_tls_sect]\n"
    "MinProtocol = TLSv1.2\n"
    "Options = ServerPreference\n"
    "Ciphersuites = TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256\n"
    "Groups = P-384:P-256:brainpoolP384r1tls13:brainpoolP256r1tls13:brainpoolP384r1:brainpoolP256r1\n";

Status RestrictOpenSslTls() {
  if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1) {
    return Internal("OpenSSL could not be initialised", "TLS_SETUP_FAILED");
  }
  CONF* conf = NCONF_new(nullptr);
  BIO* bio = BIO_new_mem_buf(kOpenSslTlsConf, -1);
  long line = 0;
  bool ok = conf && bio && NCONF_load_bio(conf, bio, &line) > 0 &&
            CONF_modules_load(conf, "fachadapter_conf", 0) > 0;
  BIO_free(bio);
  NCONF_free(conf);
  if (!ok) return Internal("OpenSSL rejected the TLS restrictions (line " + std::to_string(line) + ")", "TLS_SETUP_FAILED");
  return Status::OK();
}

// Hands every TLS handshake of one listener to the client certificate verifier. gRPC verifies
// nothing itself (GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY), so this is the only
// gate: a refusal fails the handshake, and the verifier has written the audit record by then.
// The check is synchronous (it reads no network); it runs on a gRPC thread per handshake.
class HandshakeVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  HandshakeVerifier(std::shared_ptr<const security::ClientCertificateVerifier> verifier, std::string listener)
      : verifier_(std::move(verifier)), listener_(std::move(listener)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    // The C request, because the C++ accessors do not allow for an absent certificate.
    const auto& peer = request->c_request()->peer_info;
    const std::string_view leaf = peer.peer_cert ? peer.peer_cert : "";
    const std::string_view chain = peer.peer_cert_full_chain ? peer.peer_cert_full_chain : "";
    const Status s = verifier_->AdmitHandshake(leaf, chain, listener_);
    *sync_status = s.ok() ? grpc::Status::OK : grpc::Status(grpc::StatusCode::UNAUTHENTICATED, s.message());
    return true;
  }

  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  std::shared_ptr<const security::ClientCertificateVerifier> verifier_;
  std::string listener_;
};

std::shared_ptr<grpc::ServerCredentials> TlsCredentials(
    const TlsConfig& tls, const std::shared_ptr<const security::ClientCertificateVerifier>& verifier,
    const std::string& listener) {
  // The provider re-reads key, certificate chain and client CAs every interval, so renewed
  // certificates take effect without a restart (replace the files atomically, e.g. by rename).
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file, tls.cert_file, tls.client_ca_file, static_cast<unsigned>(tls.reload_interval_seconds));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!tls.client_ca_file.empty()) options.watch_root_certs();
  if (verifier) {
    // Also with client_auth: require, so that a client without a certificate gets as far as
    // the verifier (which refuses and audits it) instead of failing unseen inside OpenSSL.
    // The client CAs are still watched: they name the acceptable CAs to the client.
    options.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
    options.set_certificate_verifier(
        grpc::experimental::ExternalCertificateVerifier::Create<HandshakeVerifier>(verifier, listener));
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

void SetHealth(grpc::Server* server, const Engine& engine, const security::Guard* guard, bool log_changes,
               std::map<std::string, bool>* last) {
  auto* hs = server->GetHealthCheckService();
  if (!hs) return;
  bool all = true;
  if (guard) {
    const std::string problem = guard->Problem();
    const bool audit_ok = problem.empty();
    all = audit_ok;
    hs->SetServingStatus("fachadapter.audit", audit_ok);
    auto it = last->find("\naudit");
    if (log_changes && (it == last->end() || it->second != audit_ok)) {
      std::fprintf(stderr, "fachadapterd: audit log is %s%s%s\n", audit_ok ? "SERVING" : "NOT_SERVING",
                   audit_ok ? "" : ": ", problem.c_str());
    }
    (*last)["\naudit"] = audit_ok;
  }
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
  const auto& sec = config.security;
  auto plaintext = [&](const std::string& addr) {
    return !sec.tls.enabled ||
           std::find(sec.plaintext_listen.begin(), sec.plaintext_listen.end(), addr) != sec.plaintext_listen.end();
  };
  // ParseConfig enforces this too; a Config built in code must not bypass it.
  for (const auto& addr : config.server.listen) {
    if (plaintext(addr) && !IsLoopback(addr) &&
        std::find(sec.plaintext_listen.begin(), sec.plaintext_listen.end(), addr) == sec.plaintext_listen.end()) {
      return FailedPrecondition(config.path + ": server.listen: '" + addr +
                                    "' is not a loopback address and has no TLS; configure security.tls",
                                "PLAINTEXT_REFUSED");
    }
  }
  if (sec.tls.enabled) {
    setenv("GRPC_SSL_CIPHER_SUITES", kTls12CipherSuites, 1);
    FA_RETURN_IF_ERROR(RestrictOpenSslTls());
  }
  std::unique_ptr<Server> srv(new Server);
  FA_ASSIGN_OR_RETURN(srv->engine_, Engine::Start(config));
  FA_ASSIGN_OR_RETURN(srv->guard_, security::Guard::Create(config, *srv->engine_));
  srv->service_ = std::make_unique<AdapterService>(srv->engine_.get(), srv->guard_.get());
  if (!sec.configured) {
    std::fprintf(stderr, "fachadapterd: warning: no security section: every caller on this machine may use "
                         "every entity (docs/security.md)\n");
  }

  grpc::EnableDefaultHealthCheckService(true);
  if (config.server.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  srv->ports_.assign(config.server.listen.size(), 0);
  for (size_t i = 0; i < config.server.listen.size(); ++i) {
    const std::string& addr = config.server.listen[i];
    if (plaintext(addr)) {
      if (!IsLoopback(addr)) {
        std::fprintf(stderr, "fachadapterd: warning: %s serves PLAIN TEXT beyond this machine (plaintext: true); "
                             "only behind a TLS-terminating proxy on a trusted network\n", addr.c_str());
      }
      builder.AddListeningPort(addr, grpc::InsecureServerCredentials(), &srv->ports_[i]);
    } else {
      builder.AddListeningPort(addr, TlsCredentials(sec.tls, srv->guard_->client_certificates(), addr),
                               &srv->ports_[i]);
    }
  }
  const auto& lim = config.limits;
  builder.SetMaxReceiveMessageSize(lim.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(lim.max_send_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, lim.max_concurrent_streams_per_connection);
  // Keepalive enforcement: clients may ping at most this often (also without calls); more
  // frequent pings count as strikes and the connection is closed after two (GOAWAY).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             lim.keepalive_min_ping_interval_seconds * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 120 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, lim.max_connection_idle_seconds * 1000);
  // The sync server ends a thread that finds more than MAX_POLLERS others waiting for work
  // (default 2) and starts one when fewer than MIN_POLLERS wait; with many concurrent calls
  // blocked on their back ends that meant starting and ending a thread for almost every call.
  // Idle threads cost a stack each and nothing else.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 64);
  builder.RegisterService(srv->service_.get());
  // An audit failure turns health NOT_SERVING at once, not only at the next probe.
  srv->guard_->set_problem_hook([s = srv.get()](const std::string& problem) {
    std::fprintf(stderr, "fachadapterd: audit log is NOT_SERVING: %s\n", problem.c_str());
    if (auto* hs = s->server_ ? s->server_->GetHealthCheckService() : nullptr) {
      hs->SetServingStatus("fachadapter.audit", false);
      hs->SetServingStatus("fachadapter.v1.Adapter", false);
      hs->SetServingStatus("", false);
    }
  });
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
  SetHealth(srv->server_.get(), *srv->engine_, srv->guard_.get(), false, &last);
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
    SetHealth(server_.get(), *engine_, guard_.get(), true, &last);
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

Status Server::ReloadPolicy() {
  FA_ASSIGN_OR_RETURN(Config fresh, LoadConfigFile(engine_->config().path));
  return guard_->ReloadPolicy(fresh, *engine_);
}

Server::~Server() {
  if (server_) {
    Shutdown();
    server_->Wait();
  }
}

}  // namespace fachadapter
