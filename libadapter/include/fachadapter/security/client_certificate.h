// Client certificates (mTLS) verified by fachadapterd itself instead of by gRPC's TLS stack, so
// that a refused certificate (expired, of a foreign CA, not meant for TLS clients, missing when
// required) leaves an audit record instead of vanishing in a failed handshake.
#ifndef FACHADAPTER_SECURITY_CLIENT_CERTIFICATE_H_
#define FACHADAPTER_SECURITY_CLIENT_CERTIFICATE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "fachadapter/config.h"
#include "fachadapter/export.h"
#include "fachadapter/security/audit_log.h"
#include "fachadapter/status.h"

namespace fachadapter::security {

/// The outcome of checking one presented client certificate.
struct CertificateCheck {
  bool presented = false;  ///< The client sent a certificate.
  bool ok = false;         ///< It chains to a configured CA, is valid now and fits a TLS client.
  /// Why not (machine-readable): NO_CLIENT_CERTIFICATE (none presented), CERTIFICATE_EXPIRED,
  /// CERTIFICATE_NOT_YET_VALID, UNKNOWN_CA, CERTIFICATE_NOT_FOR_CLIENTS (key usage or
  /// extended key usage), CERTIFICATE_INVALID (unreadable, bad signature) or
  /// CERTIFICATE_REJECTED (anything else OpenSSL refuses). "" when ok.
  std::string reason;
  std::string detail;       ///< OpenSSL's words for the problem; "" when ok.
  CertificateSummary certificate;  ///< What the leaf certificate says about itself (if presented).
  /// When the first certificate of the verified chain expires (if ok): the verdict holds until then.
  std::chrono::system_clock::time_point valid_until;
};

/// Verifies client certificates against the CA bundle `client_ca_file` with OpenSSL: the chain
/// (the client's intermediates are used as untrusted helpers), validity at the time of the check,
/// and the TLS client purpose (keyUsage/extendedKeyUsage, if the certificate has them). The bundle
/// is read again when the file changes (checked at most every `reload_interval_seconds`); a
/// bundle that does not parse keeps the previous one and says so on stderr. Thread-safe.
///
/// The handshake gate: gRPC is told to request client certificates without verifying them and
/// calls AdmitHandshake (via a gRPC certificate verifier, see server.cc) for every handshake, so
/// a refused certificate fails the handshake as before but is audited first. Authenticator
/// checks the certificate of every call again (cached), so a certificate that expires or whose CA
/// is removed from the bundle while its connection stays open stops working.
class FACHADAPTER_API ClientCertificateVerifier {
 public:
  /// Loads `tls.client_ca_file` (at least one certificate; else INVALID_ARGUMENT naming the
  /// file). `audit` (may be null: no log configured) receives the records of refused
  /// handshakes.
  static Result<std::shared_ptr<ClientCertificateVerifier>> Create(const TlsConfig& tls,
                                                                   std::shared_ptr<AuditLog> audit);
  ~ClientCertificateVerifier();
  ClientCertificateVerifier(const ClientCertificateVerifier&) = delete;
  ClientCertificateVerifier& operator=(const ClientCertificateVerifier&) = delete;

  /// Checks the leaf `leaf_pem` (PEM; empty = none presented) with the intermediates in
  /// `chain_pem` (PEM, may be empty or also hold the leaf) at time `now`.
  CertificateCheck Check(std::string_view leaf_pem, std::string_view chain_pem,
                         std::chrono::system_clock::time_point now) const;

  /// Like Check at the current time, but remembers good certificates (by the SHA-256 of leaf and
  /// chain) until `valid_until` or until the CA bundle changes, for the per-call check. A
  /// remembered verdict carries no `certificate` summary.
  CertificateCheck CheckCached(std::string_view leaf_pem, std::string_view chain_pem) const;

  /// The decision for one TLS handshake on `listener`: OK lets it complete (a good certificate,
  /// or none where `client_auth` is `request`). Otherwise an audit record (operation "connect",
  /// outcome UNAUTHENTICATED, the reason and the certificate's subject, issuer, serial and
  /// fingerprint) is written (without an audit log: a line on stderr) and UNAUTHENTICATED
  /// returned, which fails the handshake. Records are limited to a burst of 100 and then 10 per
  /// second so a flood of bad handshakes cannot fill the disk; the next written record counts
  /// the ones left out (`suppressed_before`).
  Status AdmitHandshake(std::string_view leaf_pem, std::string_view chain_pem, const std::string& listener) const;

  /// Whether a client must present a certificate (`client_auth: require`).
  bool required() const { return required_; }

  /// The loaded CA bundle (opaque).
  struct Bundle;

 private:
  ClientCertificateVerifier() = default;
  std::shared_ptr<const Bundle> CurrentBundle() const;
  bool TakeRecordToken(int64_t* suppressed) const;

  TlsConfig tls_;
  bool required_ = false;
  std::shared_ptr<AuditLog> audit_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const Bundle> bundle_;
  mutable std::chrono::steady_clock::time_point last_check_;
  // Good certificates by SHA-256 of their PEM: when they stop being valid.
  mutable std::map<std::string, std::chrono::system_clock::time_point> good_;
  // Token bucket for audit records of refused handshakes.
  mutable double tokens_ = 0;
  mutable std::chrono::steady_clock::time_point refill_;
  mutable int64_t suppressed_ = 0;
};

}  // namespace fachadapter::security

#endif  // FACHADAPTER_SECURITY_CLIENT_CERTIFICATE_H_
