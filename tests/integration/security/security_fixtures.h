// Test helpers for the security tests: a throw-away PKI made with the openssl command, signed
// JWTs and JWKS files made with OpenSSL's library, and TLS channels to the daemon.
#ifndef FACHADAPTER_TESTS_SECURITY_FIXTURES_H_
#define FACHADAPTER_TESTS_SECURITY_FIXTURES_H_

#include <grpcpp/grpcpp.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "test_util.h"

namespace fachadapter::testing {

/// Runs the openssl command; fails the test on a non-zero exit.
inline void OpenSsl(const std::filesystem::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), OPENSSL_PROGRAM);
  RunResult r = RunProgram(args, dir / "openssl.out");
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

/// A CA with its key: ca.pem / ca.key under `dir` with the given file stem.
inline void MakeCa(const std::filesystem::path& dir, const std::string& stem, const std::string& cn) {
  OpenSsl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", (dir / (stem + ".key")).string(), "-out", (dir / (stem + ".pem")).string(),
                "-days", "2", "-subj", "/CN=" + cn});
}

/// A certificate `stem`.pem/.key signed by CA `ca`, with the given SAN (e.g. "URI:spiffe://x")
/// and validity in days (negative: already expired).
inline void MakeCert(const std::filesystem::path& dir, const std::string& ca, const std::string& stem,
                     const std::string& cn, const std::string& san, int days = 2) {
  const auto key = (dir / (stem + ".key")).string(), csr = (dir / (stem + ".csr")).string();
  OpenSsl(dir, {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", csr, "-subj", "/CN=" + cn});
  WriteFile(dir / (stem + ".ext"), "subjectAltName=" + san + "\n");
  OpenSsl(dir, {"x509", "-req", "-in", csr, "-CA", (dir / (ca + ".pem")).string(), "-CAkey",
                (dir / (ca + ".key")).string(), "-CAcreateserial", "-out", (dir / (stem + ".pem")).string(),
                "-days", std::to_string(days), "-extfile", (dir / (stem + ".ext")).string()});
}

inline std::string Base64Url(const std::string& in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

/// A signing key of a token issuer, generated with the openssl command.
class SigningKey {
 public:
  /// `alg` RS256/PS256 (RSA 2048) or ES256 (P-256).
  SigningKey(const std::filesystem::path& dir, const std::string& kid, const std::string& alg)
      : kid_(kid), alg_(alg) {
    const auto path = dir / (kid + ".jwk.pem");
    if (alg == "ES256") {
      OpenSsl(dir, {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path.string()});
    } else {
      OpenSsl(dir, {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path.string()});
    }
    FILE* f = std::fopen(path.c_str(), "r");
    if (f) {
      key_ = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
      std::fclose(f);
    }
  }
  ~SigningKey() { EVP_PKEY_free(key_); }
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  /// The public key as a JWK.
  std::string Jwk() const {
    if (alg_ == "ES256") {
      unsigned char pub[65];
      size_t len = 0;
      EVP_PKEY_get_octet_string_param(key_, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &len);
      std::string x(reinterpret_cast<char*>(pub) + 1, 32), y(reinterpret_cast<char*>(pub) + 33, 32);
      return R"({"kty":"EC","crv":"P-256","use":"sig","kid":")" + kid_ + R"(","x":")" + Base64Url(x) +
             R"(","y":")" + Base64Url(y) + "\"}";
    }
    return R"({"kty":"RSA","use":"sig","kid":")" + kid_ + R"(","n":")" + Bn(OSSL_PKEY_PARAM_RSA_N) +
           R"(","e":")" + Bn(OSSL_PKEY_PARAM_RSA_E) + "\"}";
  }

  /// A signed token with `claims_json` (a JSON object), header kid = `kid` (default: own).
  std::string Sign(const std::string& claims_json, const std::string& kid = "") const {
    std::string header = R"({"alg":")" + alg_ + R"(","typ":"JWT","kid":")" + (kid.empty() ? kid_ : kid) + "\"}";
    std::string input = Base64Url(header) + "." + Base64Url(claims_json);
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestSignInit(md, &pctx, EVP_sha256(), nullptr, key_);
    if (alg_ == "PS256") {
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    size_t len = 0;
    EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    EVP_MD_CTX_free(md);
    if (alg_ == "ES256") {  // DER -> r||s
      const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
      ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
      unsigned char raw[64];
      BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
      BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
      ECDSA_SIG_free(es);
      sig.assign(reinterpret_cast<char*>(raw), 64);
    }
    return input + "." + Base64Url(sig);
  }

 private:
  std::string Bn(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_, name, &bn);
    std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return Base64Url(bytes);
  }
  std::string kid_, alg_;
  EVP_PKEY* key_ = nullptr;
};

/// Seconds since the epoch, shifted by `delta`.
inline int64_t EpochSeconds(std::chrono::seconds delta = std::chrono::seconds(0)) {
  return std::chrono::duration_cast<std::chrono::seconds>(
             (std::chrono::system_clock::now() + delta).time_since_epoch())
      .count();
}

/// A TLS channel to `address` trusting `ca_pem`, optionally with a client certificate.
inline std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::filesystem::path& ca_pem,
                                                 const std::filesystem::path& cert = {},
                                                 const std::filesystem::path& key = {}) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = ReadFile(ca_pem);
  if (!cert.empty()) {
    o.pem_cert_chain = ReadFile(cert);
    o.pem_private_key = ReadFile(key);
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(o), args);
}

}  // namespace fachadapter::testing

#endif  // FACHADAPTER_TESTS_SECURITY_FIXTURES_H_
