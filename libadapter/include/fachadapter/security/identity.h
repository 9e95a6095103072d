// Who is calling: callers identified by a client certificate (mTLS) or a bearer token (JWT).
#ifndef FACHADAPTER_SECURITY_IDENTITY_H_
#define FACHADAPTER_SECURITY_IDENTITY_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fachadapter/config.h"
#include "fachadapter/export.h"
#include "fachadapter/security/client_certificate.h"
#include "fachadapter/status.h"

namespace fachadapter::security {

/// An identified caller.
struct Caller {
  bool authenticated = false;          ///< False only when no `security` section is configured.
  std::string principal;               ///< Name of the caller ("" if not authenticated).
  std::string method;                  ///< "mtls", "jwt" or "none".
  std::string certificate_principal;   ///< Principal of the client certificate, if one was shown.
  std::vector<std::string> groups;     ///< Groups (from the token's groups claim).
  std::vector<std::string> scopes;     ///< Scopes (from the token's scopes claim).
  std::map<std::string, std::string> claims;  ///< Text, number and boolean claims, for row rules.
};

/// A parsed and verified JSON Web Token.
struct VerifiedToken {
  std::string principal;                ///< The principal claim.
  std::vector<std::string> scopes;      ///< The scopes claim, split.
  std::vector<std::string> groups;      ///< The groups claim.
  std::map<std::string, std::string> claims;  ///< Text, number and boolean claims.
};

/// Verifies JWTs (RS256, ES256, PS256) against the keys of a JWKS file, which is read again
/// when it changes (key rotation without restart; a broken new file keeps the old keys).
/// Thread-safe.
class FACHADAPTER_API JwtVerifier {
 public:
  /// Loads the JWKS file of `config`; INVALID_ARGUMENT naming the file if it holds no usable key.
  static Result<std::unique_ptr<JwtVerifier>> Create(const JwtConfig& config);
  ~JwtVerifier();

  /// Verifies signature, alg, iss, aud, exp and nbf of `token` at time `now`.
  /// UNAUTHENTICATED (reason INVALID_TOKEN) with a message that never contains the token.
  Result<VerifiedToken> Verify(const std::string& token,
                               std::chrono::system_clock::time_point now) const;

  /// The loaded key set (opaque).
  struct Keys;

 private:
  explicit JwtVerifier(const JwtConfig& config);
  std::shared_ptr<const Keys> CurrentKeys() const;

  JwtConfig config_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const Keys> keys_;
  mutable std::chrono::steady_clock::time_point last_check_;
};

/// Identifies the caller of a gRPC call from its TLS peer and its `authorization` metadata.
class FACHADAPTER_API Authenticator {
 public:
  /// From the `security` section of `config`. `certificates` (null without mTLS) checks the
  /// client certificate of every call again.
  static Result<std::unique_ptr<Authenticator>> Create(
      const Config& config, std::shared_ptr<const ClientCertificateVerifier> certificates = nullptr);

  /// The caller of `ctx`. A client certificate, if shown, must pass `certificates` now (it may
  /// have expired, or its CA left the bundle, since the handshake); a refused one is
  /// UNAUTHENTICATED with the verifier's reason even if a valid token comes with it. A bearer
  /// token, if sent, must be valid (and wins over a client certificate as the principal);
  /// otherwise the certificate identifies the caller. No credentials, or bad ones, is
  /// UNAUTHENTICATED when security is configured.
  Result<Caller> Authenticate(const grpc::ServerContext& ctx) const;

 private:
  Authenticator() = default;
  bool configured_ = false;
  TlsConfig tls_;
  std::shared_ptr<const ClientCertificateVerifier> certificates_;
  std::unique_ptr<JwtVerifier> jwt_;
};

}  // namespace fachadapter::security

#endif  // FACHADAPTER_SECURITY_IDENTITY_H_
