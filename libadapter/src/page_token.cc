#include "page_token_internal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "fachadapter/v1/adapter.pb.h"

namespace fachadapter {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Version 2: sealed. Layout before base64: version, 12-byte nonce, ciphertext, 16-byte tag;
// the version byte is authenticated as associated data.
constexpr uint8_t kVersion = 2;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kMaxTokenBytes = 64 * 1024;

std::string Base64Url(const std::string& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

bool FromBase64Url(const std::string& in, std::string* out) {
  if (in.size() % 4 == 1) return false;
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = c ? std::char_traits<char>::find(kAlphabet, 64, c) : nullptr;
    if (!p) return false;
    acc = (acc << 6) | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Only the canonical text of a token is one: unused low bits of the last digit must be zero.
  return (acc & ((1u << bits) - 1)) == 0;
}
}  // namespace

uint64_t Fnv1a64(const std::string& bytes, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

PageTokenSealer PageTokenSealer::Random() {
  PageTokenSealer s;
  if (RAND_bytes(s.key_.data(), static_cast<int>(s.key_.size())) != 1) {
    // Without randomness no key can be trusted; this is not a state to serve from.
    std::abort();
  }
  return s;
}

Result<PageTokenSealer> PageTokenSealer::FromKey(const std::string& key) {
  if (key.size() != kKeyBytes) {
    return InvalidArgument("page token key must be " + std::to_string(kKeyBytes) + " bytes, not " +
                               std::to_string(key.size()),
                           "INVALID_CONFIG");
  }
  PageTokenSealer s;
  std::copy(key.begin(), key.end(), s.key_.begin());
  return s;
}

namespace {
struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;
}  // namespace

std::string PageTokenSealer::Encode(const PageToken& token) const {
  v1::Key values;
  for (const auto& v : token.last_sort_values) *values.add_values() = v;
  std::string plain;
  for (int i = 0; i < 8; ++i) plain.push_back(static_cast<char>((token.query_fingerprint >> (8 * i)) & 0xff));
  plain += values.SerializeAsString();

  std::string raw(1 + kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  out[0] = kVersion;
  unsigned char* nonce = out + 1;
  if (RAND_bytes(nonce, kNonceBytes) != 1) std::abort();
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, out, 1) == 1 &&
            EVP_EncryptUpdate(ctx.get(), out + 1 + kNonceBytes, &len,
                              reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), out + 1 + kNonceBytes + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, out + 1 + kNonceBytes + plain.size()) == 1;
  if (!ok) std::abort();  // only allocation failure gets here
  return Base64Url(raw);
}

Result<PageToken> PageTokenSealer::Decode(const std::string& text) const {
  auto bad = [](const std::string& why) {
    return InvalidArgument("malformed page token: " + why + "; use a token exactly as a previous response gave it",
                           "INVALID_PAGE_TOKEN", "page_token");
  };
  if (text.size() > kMaxTokenBytes) return bad("too long");
  std::string raw;
  if (!FromBase64Url(text, &raw)) return bad("not URL-safe base64");
  if (raw.size() < 1 + kNonceBytes + kTagBytes + 8) return bad("too short");
  if (static_cast<uint8_t>(raw[0]) != kVersion) return bad("unknown version");
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  const size_t n = raw.size() - 1 - kNonceBytes - kTagBytes;
  std::string plain(n, '\0');
  auto* p = reinterpret_cast<unsigned char*>(plain.data());
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), in + 1) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, in, 1) == 1 &&
            EVP_DecryptUpdate(ctx.get(), p, &len, in + 1 + kNonceBytes, static_cast<int>(n)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                                const_cast<unsigned char*>(in + 1 + kNonceBytes + n)) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), p + len, &len) == 1;
  if (!ok) {
    return bad("altered, or issued under another key (a daemon without server.page_token_key_file issues "
               "tokens valid only until it restarts)");
  }
  PageToken t;
  for (int i = 0; i < 8; ++i) t.query_fingerprint |= uint64_t(uint8_t(plain[static_cast<size_t>(i)])) << (8 * i);
  v1::Key values;
  if (!values.ParseFromArray(plain.data() + 8, static_cast<int>(plain.size() - 8))) return bad("corrupt");
  for (const auto& v : values.values()) t.last_sort_values.push_back(v);
  return t;
}

}  // namespace fachadapter
