#include "fachadapter/security/guard.h"

namespace fachadapter::security {

Result<std::unique_ptr<Guard>> Guard::Create(const Config& config, const Engine& engine) {
  std::unique_ptr<Guard> g(new Guard);
  FA_ASSIGN_OR_RETURN(Policy policy, Policy::Compile(config, engine));
  g->policy_ = std::make_shared<const Policy>(std::move(policy));
  g->limits_ = config.limits;
  g->limiter_ = std::make_unique<CallLimiter>(config.limits);
  if (!config.security.audit.file.empty()) {
    AuditLogOptions options;
    options.rotate_bytes = static_cast<uint64_t>(config.security.audit.rotate_bytes);
    options.retention_days = config.security.audit.retention_days;
    auto log = AuditLog::Open(config.security.audit.file, options);
    if (!log.ok()) {
      return Status(log.status().code(), config.Where(config.security.audit.location) + ": security.audit: " +
                                             log.status().message(),
                    log.status().reason());
    }
    g->audit_ = std::move(log).value();
  }
  const TlsConfig& tls = config.security.tls;
  if (tls.enabled && !tls.client_ca_file.empty() && tls.client_auth != "none") {
    auto verifier = ClientCertificateVerifier::Create(tls, g->audit_);
    if (!verifier.ok()) {
      return Status(verifier.status().code(),
                    config.Where(tls.location) + ": security.tls.client_ca_file: " + verifier.status().message(),
                    verifier.status().reason());
    }
    g->certificates_ = std::move(verifier).value();
  }
  FA_ASSIGN_OR_RETURN(g->authenticator_, Authenticator::Create(config, g->certificates_));
  return g;
}

bool Guard::Audited(const std::string& entity) const {
  return audit_ && !policy()->PersonalFields(entity).empty();
}

Status Guard::Audit(const AuditRecord& record) const {
  if (!audit_) return Status::OK();
  Status s = audit_->Append(record);
  if (!s.ok() && hook_) hook_(audit_->Problem());
  return s;
}

std::shared_ptr<const Policy> Guard::policy() const {
  std::lock_guard<std::mutex> lock(policy_mu_);
  return policy_;
}

Status Guard::ReloadPolicy(const Config& config, const Engine& engine) {
  if (!config.security.configured) {
    return FailedPrecondition(config.path + ": the security section is gone; it cannot be switched off by a reload",
                              "POLICY_NOT_RELOADED");
  }
  FA_ASSIGN_OR_RETURN(Policy policy, Policy::Compile(config, engine));
  auto fresh = std::make_shared<const Policy>(std::move(policy));
  std::lock_guard<std::mutex> lock(policy_mu_);
  policy_ = std::move(fresh);
  return Status::OK();
}

std::string Guard::Problem() const { return audit_ ? audit_->Problem() : ""; }

}  // namespace fachadapter::security
