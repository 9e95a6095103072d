// Everything the gRPC service checks around a call: who calls, whether it may, within which
// limits, and the audit record. Built by Server::Start; integrators hand it to AdapterService.
#ifndef FACHADAPTER_SECURITY_GUARD_H_
#define FACHADAPTER_SECURITY_GUARD_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "fachadapter/config.h"
#include "fachadapter/engine.h"
#include "fachadapter/export.h"
#include "fachadapter/security/audit_log.h"
#include "fachadapter/security/call_limiter.h"
#include "fachadapter/security/client_certificate.h"
#include "fachadapter/security/identity.h"
#include "fachadapter/security/policy.h"
#include "fachadapter/status.h"

namespace fachadapter::security {

/// The security components of one configuration. Thread-safe.
class FACHADAPTER_API Guard {
 public:
  /// Builds identification, policy (checked against `engine`), limits and the audit log from
  /// `config`. Errors name the config file and line.
  static Result<std::unique_ptr<Guard>> Create(const Config& config, const Engine& engine);

  /// Caller identification.
  const Authenticator& authenticator() const { return *authenticator_; }
  /// The verifier of client certificates, for the TLS handshake; null without mTLS
  /// (`security.tls.client_ca_file` unset or `client_auth: none`). Shared, because gRPC may
  /// hold it for a handshake that outlives the server.
  std::shared_ptr<const ClientCertificateVerifier> client_certificates() const { return certificates_; }
  /// Authorization: the policy in force (a reload swaps it; holders keep theirs).
  std::shared_ptr<const Policy> policy() const;
  /// Replaces the policy by `config.security.policy`, checked against `engine`. On any
  /// problem the policy in force stays and the error (with FILE:LINE) is returned. Only the
  /// policy is taken from `config`; TLS, tokens, audit and limits need a restart.
  Status ReloadPolicy(const Config& config, const Engine& engine);
  /// Per-caller limits.
  CallLimiter& limiter() const { return *limiter_; }
  /// The limits in force.
  const LimitsConfig& limits() const { return limits_; }
  /// Whether calls on `entity` are audited (it has personal-data fields and a log is set).
  bool Audited(const std::string& entity) const;
  /// Writes an audit record; on failure calls the problem hook and returns UNAVAILABLE.
  Status Audit(const AuditRecord& record) const;
  /// "" while the audit log can be written; otherwise why not (for health).
  std::string Problem() const;
  /// Called (from the failing call's thread) when the audit log fails, with the reason.
  void set_problem_hook(std::function<void(const std::string&)> hook) { hook_ = std::move(hook); }

 private:
  Guard() = default;
  std::unique_ptr<Authenticator> authenticator_;
  std::shared_ptr<const ClientCertificateVerifier> certificates_;
  mutable std::mutex policy_mu_;
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<CallLimiter> limiter_;
  std::shared_ptr<AuditLog> audit_;
  LimitsConfig limits_;
  std::function<void(const std::string&)> hook_;
};

}  // namespace fachadapter::security

#endif  // FACHADAPTER_SECURITY_GUARD_H_
