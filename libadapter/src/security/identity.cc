// Caller identification. JWT checks follow RFC 7519/7518 and the OAuth JWT BCP (RFC 8725):
// the algorithm comes from the configured allow-list, never from the token alone ("none" and
// HMAC are never accepted), the key type must fit the algorithm, and exp is mandatory.
#include "fachadapter/security/identity.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <strings.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace fachadapter::security {

namespace {

constexpr size_t kMaxTokenBytes = 16 * 1024;

Status BadToken(const std::string& why) {
  return Status(StatusCode::kUnauthenticated, "bearer token rejected: " + why, "INVALID_TOKEN", "authorization");
}

bool Base64UrlDecode(const std::string& in, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return false;  // padding and '+'/'/' are not base64url
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return bits < 6;  // a single leftover sextet cannot occur in valid base64
}

bool ParseJsonObject(const std::string& json, google::protobuf::Struct* out) {
  return google::protobuf::util::JsonStringToMessage(json, out).ok();
}

const google::protobuf::Value* Field(const google::protobuf::Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::string Text(const google::protobuf::Struct& s, const std::string& name) {
  const auto* v = Field(s, name);
  return v && v->kind_case() == google::protobuf::Value::kStringValue ? v->string_value() : "";
}

// A claim that is text or a list of texts; text is split at blanks (OAuth "scope").
std::vector<std::string> TextList(const google::protobuf::Struct& s, const std::string& name) {
  std::vector<std::string> out;
  const auto* v = Field(s, name);
  if (!v) return out;
  if (v->kind_case() == google::protobuf::Value::kStringValue) {
    std::istringstream in(v->string_value());
    std::string w;
    while (in >> w) out.push_back(w);
  } else if (v->kind_case() == google::protobuf::Value::kListValue) {
    for (const auto& item : v->list_value().values()) {
      if (item.kind_case() == google::protobuf::Value::kStringValue) out.push_back(item.string_value());
    }
  }
  return out;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey PkeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1) {
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return Pkey(pkey);
}

Pkey RsaKey(const std::string& n, const std::string& e) {
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Pkey key;
  if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
    key = PkeyFromParams("RSA", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return key;
}

Pkey P256Key(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  std::string pub = "\x04" + x + y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Pkey key;
  if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size()) == 1) {
    key = PkeyFromParams("EC", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  return key;
}

// JWS ES256 signatures are r||s; OpenSSL verifies DER.
bool EcdsaRawToDer(const std::string& raw, std::string* der) {
  if (raw.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  unsigned char* buf = nullptr;
  int len = i2d_ECDSA_SIG(sig, &buf);
  ECDSA_SIG_free(sig);
  if (len <= 0) return false;
  der->assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return true;
}

bool VerifySignature(EVP_PKEY* key, const std::string& alg, const std::string& data,
                     const std::string& sig) {
  std::string der;
  const std::string* s = &sig;
  if (alg == "ES256") {
    if (!EcdsaRawToDer(sig, &der)) return false;
    s = &der;
  }
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = md && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), nullptr, key) == 1;
  if (ok && alg == "PS256") {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  } else if (ok && alg == "RS256") {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  }
  ok = ok && EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(s->data()), s->size(),
                              reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

std::string ClaimText(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kStringValue: return v.string_value();
    case google::protobuf::Value::kBoolValue: return v.bool_value() ? "true" : "false";
    case google::protobuf::Value::kNumberValue: {
      double d = v.number_value();
      char buf[64];
      if (std::floor(d) == d && std::fabs(d) < 9e15) {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
      } else {
        std::snprintf(buf, sizeof buf, "%.17g", d);
      }
      return buf;
    }
    default: return "";
  }
}

int64_t MtimeOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace

struct JwtVerifier::Keys {
  struct Key {
    std::string kid;
    std::string kty;  // RSA | EC
    std::string alg;  // optional restriction from the JWK
    Pkey pkey;
  };
  std::vector<Key> keys;
  int64_t mtime = -1;
};

namespace {

Result<std::shared_ptr<JwtVerifier::Keys>> LoadJwks(const std::string& path) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(path + ": " + why, "INVALID_JWKS");
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad("cannot read the JWKS file");
  std::stringstream ss;
  ss << in.rdbuf();
  google::protobuf::Struct doc;
  if (!ParseJsonObject(ss.str(), &doc)) return bad("not a JSON object (expected {\"keys\": [...]})");
  const auto* list = Field(doc, "keys");
  if (!list || list->kind_case() != google::protobuf::Value::kListValue) return bad("has no \"keys\" list");
  auto keys = std::make_shared<JwtVerifier::Keys>();
  keys->mtime = MtimeOf(path);
  int index = 0;
  for (const auto& item : list->list_value().values()) {
    const std::string where = "key " + std::to_string(index++);
    if (item.kind_case() != google::protobuf::Value::kStructValue) return bad(where + " is not an object");
    const auto& k = item.struct_value();
    const std::string use = Text(k, "use");
    if (!use.empty() && use != "sig") continue;  // encryption keys are not for us
    JwtVerifier::Keys::Key key;
    key.kid = Text(k, "kid");
    key.kty = Text(k, "kty");
    key.alg = Text(k, "alg");
    if (key.kty == "RSA") {
      std::string n, e;
      if (!Base64UrlDecode(Text(k, "n"), &n) || !Base64UrlDecode(Text(k, "e"), &e) || n.empty() || e.empty()) {
        return bad(where + " (RSA) has no valid n/e");
      }
      key.pkey = RsaKey(n, e);
      if (!key.pkey) return bad(where + " (RSA) is not a valid public key");
      if (EVP_PKEY_get_bits(key.pkey.get()) < 2048) return bad(where + " (RSA) is shorter than 2048 bits");
    } else if (key.kty == "EC") {
      if (Text(k, "crv") != "P-256") continue;  // only ES256 is accepted
      std::string x, y;
      if (!Base64UrlDecode(Text(k, "x"), &x) || !Base64UrlDecode(Text(k, "y"), &y)) {
        return bad(where + " (EC) has no valid x/y");
      }
      key.pkey = P256Key(x, y);
      if (!key.pkey) return bad(where + " (EC P-256) is not a valid public key");
    } else {
      continue;  // symmetric and other key types are never accepted
    }
    keys->keys.push_back(std::move(key));
  }
  if (keys->keys.empty()) return bad("holds no usable signing key (RSA >= 2048 bits or EC P-256)");
  return keys;
}
}  // namespace

JwtVerifier::JwtVerifier(const JwtConfig& config) : config_(config) {}
JwtVerifier::~JwtVerifier() = default;

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(const JwtConfig& config) {
  std::unique_ptr<JwtVerifier> v(new JwtVerifier(config));
  FA_ASSIGN_OR_RETURN(auto keys, LoadJwks(config.jwks_file));
  v->keys_ = std::move(keys);
  v->last_check_ = std::chrono::steady_clock::now();
  return v;
}

std::shared_ptr<const JwtVerifier::Keys> JwtVerifier::CurrentKeys() const {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (now - last_check_ >= std::chrono::seconds(1)) {
    last_check_ = now;
    int64_t mtime = MtimeOf(config_.jwks_file);
    if (mtime != keys_->mtime) {
      auto fresh = LoadJwks(config_.jwks_file);
      if (fresh.ok()) {
        keys_ = std::move(fresh).value();
        std::fprintf(stderr, "fachadapterd: reloaded JWKS %s (%zu keys)\n", config_.jwks_file.c_str(),
                     keys_->keys.size());
      } else {
        // Keep verifying with the last good keys; say so once per change of the file.
        auto stale = std::make_shared<Keys>();
        for (const auto& k : keys_->keys) {
          EVP_PKEY_up_ref(k.pkey.get());
          stale->keys.push_back({k.kid, k.kty, k.alg, Pkey(k.pkey.get())});
        }
        stale->mtime = mtime;
        keys_ = std::move(stale);
        std::fprintf(stderr, "fachadapterd: JWKS reload failed, keeping the previous keys: %s\n",
                     fresh.status().message().c_str());
      }
    }
  }
  return keys_;
}

Result<VerifiedToken> JwtVerifier::Verify(const std::string& token,
                                          std::chrono::system_clock::time_point now) const {
  if (token.size() > kMaxTokenBytes) return BadToken("longer than 16 KiB");
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string::npos || token.find('.', d2 + 1) != std::string::npos) {
    return BadToken("not a signed JWT (header.payload.signature)");
  }
  std::string header_json, payload_json, sig;
  if (!Base64UrlDecode(token.substr(0, d1), &header_json) ||
      !Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1), &payload_json) ||
      !Base64UrlDecode(token.substr(d2 + 1), &sig)) {
    return BadToken("not base64url");
  }
  google::protobuf::Struct header, claims;
  if (!ParseJsonObject(header_json, &header)) return BadToken("header is not a JSON object");
  const std::string alg = Text(header, "alg");
  bool allowed = false;
  for (const auto& a : config_.algorithms) allowed = allowed || a == alg;
  if (!allowed) return BadToken("algorithm '" + alg.substr(0, 16) + "' is not accepted");
  if (Field(header, "crit")) return BadToken("critical header extensions are not supported");
  const std::string kid = Text(header, "kid");
  const std::string kty = alg == "ES256" ? "EC" : "RSA";

  auto keys = CurrentKeys();
  const std::string signed_part = token.substr(0, d2);
  bool verified = false, candidate = false;
  for (const auto& k : keys->keys) {
    if (k.kty != kty || (!k.alg.empty() && k.alg != alg) || (!kid.empty() && k.kid != kid)) continue;
    candidate = true;
    if (VerifySignature(k.pkey.get(), alg, signed_part, sig)) {
      verified = true;
      break;
    }
  }
  if (!candidate) return BadToken("no key in the JWKS fits its kid and algorithm");
  if (!verified) return BadToken("signature does not verify");

  // Only now that the signature holds are the claims worth reading.
  if (!ParseJsonObject(payload_json, &claims)) return BadToken("payload is not a JSON object");
  const double t = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double skew = config_.clock_skew_seconds;
  const auto* exp = Field(claims, "exp");
  if (!exp || exp->kind_case() != google::protobuf::Value::kNumberValue) return BadToken("has no exp");
  if (t > exp->number_value() + skew) return BadToken("expired");
  if (const auto* nbf = Field(claims, "nbf")) {
    if (nbf->kind_case() != google::protobuf::Value::kNumberValue) return BadToken("nbf is not a number");
    if (t + skew < nbf->number_value()) return BadToken("not valid yet (nbf)");
  }
  if (Text(claims, "iss") != config_.issuer) return BadToken("issuer is not the configured one");
  std::vector<std::string> aud = TextList(claims, "aud");
  if (const auto* a = Field(claims, "aud"); a && a->kind_case() == google::protobuf::Value::kStringValue) {
    aud = {a->string_value()};  // a single audience may contain blanks
  }
  bool aud_ok = false;
  for (const auto& a : aud) {
    for (const auto& want : config_.audiences) aud_ok = aud_ok || a == want;
  }
  if (!aud_ok) return BadToken("audience is not this service");
  VerifiedToken out;
  out.principal = Text(claims, config_.principal_claim);
  if (out.principal.empty()) return BadToken("has no text claim '" + config_.principal_claim + "'");
  out.scopes = TextList(claims, config_.scopes_claim);
  out.groups = TextList(claims, config_.groups_claim);
  for (const auto& [name, value] : claims.fields()) {
    std::string text = ClaimText(value);
    if (!text.empty() || value.kind_case() == google::protobuf::Value::kStringValue) out.claims[name] = text;
  }
  return out;
}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(
    const Config& config, std::shared_ptr<const ClientCertificateVerifier> certificates) {
  std::unique_ptr<Authenticator> a(new Authenticator);
  a->configured_ = config.security.configured;
  a->tls_ = config.security.tls;
  a->certificates_ = std::move(certificates);
  if (config.security.jwt.enabled) {
    auto v = JwtVerifier::Create(config.security.jwt);
    if (!v.ok()) {
      return InvalidArgument(config.Where(config.security.jwt.location) + ": security.jwt: " +
                                 v.status().message(),
                             "INVALID_CONFIG");
    }
    a->jwt_ = std::move(v).value();
  }
  return a;
}

Result<Caller> Authenticator::Authenticate(const grpc::ServerContext& ctx) const {
  Caller c;
  c.method = "none";
  if (!configured_) return c;

  // The certificate's identity, if it passes the verifier. The handshake let only good
  // certificates through, but a connection may outlive its certificate or its CA.
  if (!tls_.client_ca_file.empty()) {
    auto auth = ctx.auth_context();
    const auto pem = auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
                          : std::vector<grpc::string_ref>();
    if (certificates_ && !pem.empty()) {
      const auto chain = auth->FindPropertyValues(GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME);
      const CertificateCheck check =
          certificates_->CheckCached(std::string_view(pem.front().data(), pem.front().size()),
                                     chain.empty() ? std::string_view()
                                                   : std::string_view(chain.front().data(), chain.front().size()));
      if (!check.ok) {
        return Status(StatusCode::kUnauthenticated, "client certificate refused: " + check.detail, check.reason, "");
      }
    }
    // The handshake refuses such connections already; this only keeps the rule in one more place.
    if (certificates_ && certificates_->required() && pem.empty()) {
      return Status(StatusCode::kUnauthenticated, "a client certificate is required", "NO_CLIENT_CERTIFICATE", "");
    }
    if (auth && auth->IsPeerAuthenticated() && (!certificates_ || !pem.empty())) {
      for (const auto& source : tls_.principal_from) {
        const char* prop = source == "san_uri" ? GRPC_PEER_URI_PROPERTY_NAME
                           : source == "san_dns" ? GRPC_PEER_DNS_PROPERTY_NAME
                                                 : GRPC_X509_CN_PROPERTY_NAME;
        auto values = auth->FindPropertyValues(prop);
        if (!values.empty()) {
          c.certificate_principal.assign(values.front().data(), values.front().size());
          break;
        }
      }
    }
  }

  const auto& md = ctx.client_metadata();
  auto range = md.equal_range("authorization");
  int count = 0;
  std::string header;
  for (auto it = range.first; it != range.second; ++it, ++count) header.assign(it->second.data(), it->second.size());
  if (count > 1) {
    return Status(StatusCode::kUnauthenticated, "more than one authorization header", "INVALID_TOKEN",
                  "authorization");
  }
  if (count == 1) {
    if (!jwt_) {
      return Status(StatusCode::kUnauthenticated, "bearer tokens are not accepted by this server",
                    "INVALID_TOKEN", "authorization");
    }
    if (header.size() < 7 || strncasecmp(header.c_str(), "Bearer ", 7) != 0) {
      return Status(StatusCode::kUnauthenticated, "authorization header is not 'Bearer <token>'",
                    "INVALID_TOKEN", "authorization");
    }
    FA_ASSIGN_OR_RETURN(VerifiedToken t, jwt_->Verify(header.substr(7), std::chrono::system_clock::now()));
    c.authenticated = true;
    c.method = "jwt";
    c.principal = std::move(t.principal);
    c.scopes = std::move(t.scopes);
    c.groups = std::move(t.groups);
    c.claims = std::move(t.claims);
    return c;
  }
  if (!c.certificate_principal.empty()) {
    c.authenticated = true;
    c.method = "mtls";
    c.principal = c.certificate_principal;
    return c;
  }
  return Status(StatusCode::kUnauthenticated,
                "no credentials: present a client certificate or an 'authorization: Bearer <token>' header",
                "UNAUTHENTICATED", "");
}

}  // namespace fachadapter::security
