#include "page_token_internal.h"

#include "fachadapter/v1/adapter.pb.h"

namespace fachadapter {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kVersion = 1;
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
  return true;
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

std::string EncodePageToken(const PageToken& token) {
  v1::Key values;
  for (const auto& v : token.last_sort_values) *values.add_values() = v;
  std::string raw(1, static_cast<char>(kVersion));
  for (int i = 0; i < 8; ++i) raw.push_back(static_cast<char>((token.query_fingerprint >> (8 * i)) & 0xff));
  raw += values.SerializeAsString();
  return Base64Url(raw);
}

Result<PageToken> DecodePageToken(const std::string& text) {
  auto bad = [](const std::string& why) {
    return InvalidArgument("malformed page token: " + why + "; use a token exactly as a previous response gave it",
                           "INVALID_PAGE_TOKEN", "page_token");
  };
  if (text.size() > kMaxTokenBytes) return bad("too long");
  std::string raw;
  if (!FromBase64Url(text, &raw)) return bad("not URL-safe base64");
  if (raw.size() < 9) return bad("too short");
  if (static_cast<uint8_t>(raw[0]) != kVersion) return bad("unknown version");
  PageToken t;
  for (int i = 0; i < 8; ++i) t.query_fingerprint |= uint64_t(uint8_t(raw[1 + i])) << (8 * i);
  v1::Key values;
  if (!values.ParseFromArray(raw.data() + 9, static_cast<int>(raw.size() - 9))) return bad("corrupt");
  for (const auto& v : values.values()) t.last_sort_values.push_back(v);
  return t;
}

}  // namespace fachadapter
