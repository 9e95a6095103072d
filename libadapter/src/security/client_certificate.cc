// Client certificates are verified here rather than by gRPC's TLS stack because gRPC reports
// nothing about a handshake it refuses: an expired or foreign certificate would leave no trace
// for the operator. gRPC only requests the certificate (and OpenSSL still checks that the
// client holds its key, in CertificateVerify); the decision, and the audit record of a refusal,
// are made here.
#include "fachadapter/security/client_certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace fachadapter::security {

namespace {

// Refused handshakes are audited up to a burst of kRecordBurst, then kRecordsPerSecond: enough
// to see every misconfigured client, too few for a flood of handshakes to fill the disk or to
// hold the audit lock (and its fsync) away from the calls that disclose personal data.
constexpr double kRecordBurst = 100;
constexpr double kRecordsPerSecond = 10;
// The cache of good certificates only saves work; clearing it when full is enough.
constexpr size_t kMaxCachedCertificates = 4096;

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

struct CertStackDeleter {
  void operator()(STACK_OF(X509)* s) const { sk_X509_pop_free(s, X509_free); }
};
using CertStackPtr = std::unique_ptr<STACK_OF(X509), CertStackDeleter>;

// Every certificate in `pem`, in order; text between them is ignored.
CertStackPtr ReadCertificates(std::string_view pem) {
  CertStackPtr out(sk_X509_new_null());
  if (pem.empty() || !out) return out;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (bio) {
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (!x) break;
    sk_X509_push(out.get(), x);
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the input is reported as an error
  return out;
}

std::string NameText(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return "";
  // RFC 2253 form, but UTF-8 kept as is (names like "Köln"); control characters stay escaped.
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data ? data : "", data ? static_cast<size_t>(len) : 0);
  BIO_free(bio);
  return out;
}

bool TimeOf(const ASN1_TIME* t, std::tm* tm) { return t && ASN1_TIME_to_tm(t, tm) == 1; }

std::string TimeText(const ASN1_TIME* t) {
  std::tm tm{};
  if (!TimeOf(t, &tm)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string Hex(const unsigned char* data, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

CertificateSummary Summarize(X509* x) {
  CertificateSummary s;
  s.subject = NameText(X509_get_subject_name(x));
  s.issuer = NameText(X509_get_issuer_name(x));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      s.serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(x, EVP_sha256(), md, &len) == 1) s.sha256 = Hex(md, len);
  s.not_before = TimeText(X509_get0_notBefore(x));
  s.not_after = TimeText(X509_get0_notAfter(x));
  return s;
}

std::string ReasonOf(int err) {
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "CERTIFICATE_EXPIRED";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "CERTIFICATE_NOT_YET_VALID";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return "UNKNOWN_CA";
    case X509_V_ERR_INVALID_PURPOSE:
      return "CERTIFICATE_NOT_FOR_CLIENTS";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_CERT_UNTRUSTED:
      return "CERTIFICATE_INVALID";
    default:
      return "CERTIFICATE_REJECTED";
  }
}

std::string RandomId() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return "";
  return Hex(raw, sizeof raw);
}

struct FileStamp {
  bool ok = false;
  struct timespec mtime {};
  off_t size = 0;
  ino_t inode = 0;
  bool operator==(const FileStamp& o) const {
    return ok == o.ok && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec && size == o.size &&
           inode == o.inode;
  }
};

FileStamp StampOf(const std::string& path) {
  FileStamp s;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return s;
  s.ok = true;
  s.mtime = st.st_mtim;
  s.size = st.st_size;
  s.inode = st.st_ino;
  return s;
}

}  // namespace

struct ClientCertificateVerifier::Bundle {
  X509_STORE* store = nullptr;
  FileStamp stamp;
  ~Bundle() { X509_STORE_free(store); }
};

namespace {

Result<std::shared_ptr<ClientCertificateVerifier::Bundle>> LoadBundle(const std::string& path) {
  auto bundle = std::make_shared<ClientCertificateVerifier::Bundle>();
  bundle->stamp = StampOf(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(path + ": cannot read the client CA bundle", "INVALID_CONFIG");
  std::stringstream text;
  text << in.rdbuf();
  const std::string pem = text.str();
  CertStackPtr certs = ReadCertificates(pem);
  if (!certs || sk_X509_num(certs.get()) == 0) {
    return InvalidArgument(path + ": the client CA bundle holds no PEM certificate", "INVALID_CONFIG");
  }
  bundle->store = X509_STORE_new();
  if (!bundle->store) return Internal("OpenSSL could not make a certificate store", "TLS_SETUP_FAILED");
  for (int i = 0; i < sk_X509_num(certs.get()); ++i) {
    if (X509_STORE_add_cert(bundle->store, sk_X509_value(certs.get(), i)) != 1) {
      ERR_clear_error();  // a duplicate; the first copy serves
    }
  }
  return bundle;
}

}  // namespace

Result<std::shared_ptr<ClientCertificateVerifier>> ClientCertificateVerifier::Create(const TlsConfig& tls,
                                                                                   std::shared_ptr<AuditLog> audit) {
  std::shared_ptr<ClientCertificateVerifier> v(new ClientCertificateVerifier);
  v->tls_ = tls;
  v->required_ = tls.client_auth == "require";
  v->audit_ = std::move(audit);
  FA_ASSIGN_OR_RETURN(v->bundle_, LoadBundle(tls.client_ca_file));
  v->last_check_ = std::chrono::steady_clock::now();
  v->tokens_ = kRecordBurst;
  v->refill_ = v->last_check_;
  return v;
}

ClientCertificateVerifier::~ClientCertificateVerifier() = default;

std::shared_ptr<const ClientCertificateVerifier::Bundle> ClientCertificateVerifier::CurrentBundle() const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_check_ < std::chrono::seconds(tls_.reload_interval_seconds)) return bundle_;
  last_check_ = now;
  const FileStamp stamp = StampOf(tls_.client_ca_file);
  if (stamp == bundle_->stamp) return bundle_;
  auto fresh = LoadBundle(tls_.client_ca_file);
  if (!fresh.ok()) {
    std::fprintf(stderr, "fachadapterd: client CA bundle NOT reloaded, the previous one stays in force: %s\n",
                 fresh.status().message().c_str());
    // Not again until the file changes once more.
    auto kept = std::make_shared<Bundle>();
    kept->store = bundle_->store;
    X509_STORE_up_ref(kept->store);
    kept->stamp = stamp;
    bundle_ = std::move(kept);
    return bundle_;
  }
  bundle_ = std::move(fresh).value();
  good_.clear();
  return bundle_;
}

CertificateCheck ClientCertificateVerifier::Check(std::string_view leaf_pem, std::string_view chain_pem,
                                                  std::chrono::system_clock::time_point now) const {
  CertificateCheck out;
  if (leaf_pem.empty()) {
    out.reason = "NO_CLIENT_CERTIFICATE";
    out.detail = "the client presented no certificate";
    return out;
  }
  out.presented = true;
  CertStackPtr leaf_stack = ReadCertificates(leaf_pem);
  if (!leaf_stack || sk_X509_num(leaf_stack.get()) == 0) {
    out.reason = "CERTIFICATE_INVALID";
    out.detail = "the client certificate is not readable";
    return out;
  }
  X509* leaf = sk_X509_value(leaf_stack.get(), 0);
  out.certificate = Summarize(leaf);
  CertStackPtr untrusted = ReadCertificates(chain_pem);
  const auto bundle = CurrentBundle();
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  if (!ctx || X509_STORE_CTX_init(ctx, bundle->store, leaf, untrusted.get()) != 1) {
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    out.reason = "CERTIFICATE_REJECTED";
    out.detail = "OpenSSL could not set up the verification";
    return out;
  }
  // The TLS client purpose checks keyUsage (digitalSignature) and extendedKeyUsage (clientAuth)
  // where the certificate has them, so a server certificate or a pure e-mail certificate of the
  // same CA does not pass as a client.
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  X509_STORE_CTX_set_time(ctx, 0, std::chrono::system_clock::to_time_t(now));
  const int rc = X509_verify_cert(ctx);
  if (rc == 1) {
    out.ok = true;
    // The verdict holds until the first certificate of the chain expires (an intermediate
    // may expire before the client's own).
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
    for (int i = 0; chain && i < sk_X509_num(chain); ++i) {
      std::tm tm{};
      if (!TimeOf(X509_get0_notAfter(sk_X509_value(chain, i)), &tm)) continue;
      const auto until = std::chrono::system_clock::from_time_t(timegm(&tm));
      if (out.valid_until == std::chrono::system_clock::time_point() || until < out.valid_until) {
        out.valid_until = until;
      }
    }
  } else {
    const int err = X509_STORE_CTX_get_error(ctx);
    out.reason = ReasonOf(err);
    out.detail = std::string(X509_verify_cert_error_string(err)) + " (certificate " +
                 std::to_string(X509_STORE_CTX_get_error_depth(ctx)) + " of the chain, 0 = the client's own)";
  }
  X509_STORE_CTX_free(ctx);
  ERR_clear_error();
  return out;
}

CertificateCheck ClientCertificateVerifier::CheckCached(std::string_view leaf_pem, std::string_view chain_pem) const {
  const auto now = std::chrono::system_clock::now();
  const std::string key = Sha256Hex(std::string(leaf_pem)) + Sha256Hex(std::string(chain_pem));
  const auto bundle = CurrentBundle();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = good_.find(key);
    if (it != good_.end() && bundle_ == bundle && now < it->second) {
      CertificateCheck c;
      c.presented = c.ok = true;
      return c;
    }
  }
  CertificateCheck c = Check(leaf_pem, chain_pem, now);
  if (c.ok && c.valid_until > now) {
    std::lock_guard<std::mutex> lock(mu_);
    if (good_.size() >= kMaxCachedCertificates) good_.clear();
    if (bundle_ == bundle) good_[key] = c.valid_until;  // not if the bundle changed meanwhile
  }
  return c;
}

bool ClientCertificateVerifier::TakeRecordToken(int64_t* suppressed) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  tokens_ = std::min(kRecordBurst, tokens_ + std::chrono::duration<double>(now - refill_).count() * kRecordsPerSecond);
  refill_ = now;
  if (tokens_ < 1) {
    ++suppressed_;
    return false;
  }
  tokens_ -= 1;
  *suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

Status ClientCertificateVerifier::AdmitHandshake(std::string_view leaf_pem, std::string_view chain_pem,
                                                 const std::string& listener) const {
  const CertificateCheck c = Check(leaf_pem, chain_pem, std::chrono::system_clock::now());
  if (c.ok || (!c.presented && !required_)) return Status::OK();
  Status refused(StatusCode::kUnauthenticated, "client certificate refused: " + c.detail, c.reason, "");
  int64_t suppressed = 0;
  if (!TakeRecordToken(&suppressed)) return refused;
  if (!audit_) {
    // No audit log (it is only required with personal data): the operator still sees it.
    std::fprintf(stderr,
                 "fachadapterd: %s: TLS handshake refused: %s (%s); certificate subject \"%s\", issuer \"%s\", "
                 "sha256 %s; %lld earlier refusals not shown\n",
                 listener.c_str(), c.reason.c_str(), c.detail.c_str(), c.certificate.subject.c_str(),
                 c.certificate.issuer.c_str(), c.certificate.sha256.c_str(), static_cast<long long>(suppressed));
    return refused;
  }
  AuditRecord r;
  r.request_id = RandomId();
  r.auth = "none";
  r.operation = "connect";
  r.outcome = "UNAUTHENTICATED";
  r.reason = c.reason;
  r.detail = c.detail;
  r.listener = listener;
  r.certificate = c.certificate;
  r.suppressed_before = suppressed;
  if (!audit_->Append(r).ok()) {
    // The handshake is refused all the same; the log reports its problem to health.
    std::lock_guard<std::mutex> lock(mu_);
    suppressed_ += suppressed + 1;
  }
  return refused;
}

}  // namespace fachadapter::security
