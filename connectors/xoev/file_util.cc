#include "file_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace fachadapter::xoev {
namespace {

constexpr uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void Block(uint32_t h[8], const unsigned char* p) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i) {
    w[i] = uint32_t{p[4 * i]} << 24 | uint32_t{p[4 * i + 1]} << 16 | uint32_t{p[4 * i + 2]} << 8 |
           p[4 * i + 3];
  }
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; ++i) {
    uint32_t S1 = Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = hh + S1 + ch + kK[i] + w[i];
    uint32_t S0 = Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = S0 + maj;
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void Sha256(std::string_view data, unsigned char out[32]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size(), i = 0;
  for (; i + 64 <= n; i += 64) Block(h, p + i);
  unsigned char tail[128] = {0};
  size_t rest = n - i;
  std::memcpy(tail, p + i, rest);
  tail[rest] = 0x80;
  size_t tail_len = rest + 9 <= 64 ? 64 : 128;
  uint64_t bits = uint64_t{n} * 8;
  for (int k = 0; k < 8; ++k) tail[tail_len - 1 - k] = static_cast<unsigned char>(bits >> (8 * k));
  Block(h, tail);
  if (tail_len == 128) Block(h, tail + 64);
  for (int k = 0; k < 8; ++k) {
    out[4 * k] = static_cast<unsigned char>(h[k] >> 24);
    out[4 * k + 1] = static_cast<unsigned char>(h[k] >> 16);
    out[4 * k + 2] = static_cast<unsigned char>(h[k] >> 8);
    out[4 * k + 3] = static_cast<unsigned char>(h[k]);
  }
}

std::string FormatUuid(unsigned char b[16]) {
  b[6] = (b[6] & 0x0F) | 0x40;
  b[8] = (b[8] & 0x3F) | 0x80;
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[b[i] >> 4];
    s += kHex[b[i] & 15];
  }
  return s;
}

Status Errno(const std::string& what) {
  return Unavailable(what + ": " + std::strerror(errno), "WRITE_FAILED");
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char d[32];
  Sha256(data, d);
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : d) {
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  return s;
}

Status WriteFileAtomically(const std::string& dir, const std::string& name, std::string_view content,
                           bool replace) {
  std::string final_path = dir + "/" + name;
  std::string tmpl = dir + "/." + name + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return Errno("cannot create a temporary file in '" + dir + "'");
  auto cleanup = [&] { ::unlink(tmpl.c_str()); };
  size_t off = 0;
  while (off < content.size()) {
    ssize_t w = ::write(fd, content.data() + off, content.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("cannot write '" + tmpl + "'");
      ::close(fd);
      cleanup();
      return s;
    }
    off += static_cast<size_t>(w);
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) {
    Status s = Errno("cannot sync '" + tmpl + "'");
    ::close(fd);
    cleanup();
    return s;
  }
  ::close(fd);
  if (replace) {
    if (::rename(tmpl.c_str(), final_path.c_str()) != 0) {
      Status s = Errno("cannot rename to '" + final_path + "'");
      cleanup();
      return s;
    }
  } else {
    // link() fails if the target exists, so an existing message is never replaced.
    if (::link(tmpl.c_str(), final_path.c_str()) != 0) {
      int e = errno;
      cleanup();
      if (e == EEXIST) {
        return Status(StatusCode::kAlreadyExists, "'" + final_path + "' already exists",
                      "ALREADY_EXISTS");
      }
      errno = e;
      return Errno("cannot link '" + final_path + "'");
    }
    cleanup();
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd < 0) return Errno("cannot open folder '" + dir + "'");
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return Errno("cannot sync folder '" + dir + "'");
  return Status::OK();
}

Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("'" + path + "' does not exist");
    return Unavailable("cannot open '" + path + "': " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = Unavailable("cannot stat '" + path + "': " + std::strerror(errno));
    ::close(fd);
    return s;
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Status(StatusCode::kResourceExhausted,
                  "'" + path + "' is " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                      std::to_string(max_bytes),
                  "XML_TOO_LARGE");
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t off = 0;
  while (off < out.size()) {
    ssize_t r = ::read(fd, out.data() + off, out.size() - off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      // A short document must not pass for the message: it would be analysed (and answered)
      // as if it were the whole file.
      Status s = Unavailable("cannot read '" + path + "': " + std::strerror(errno));
      ::close(fd);
      return s;
    }
    if (r == 0) break;  // the file shrank meanwhile: what is there now
    off += static_cast<size_t>(r);
  }
  out.resize(off);
  ::close(fd);
  return out;
}

std::string RandomUuid() {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t r = ::getrandom(b + got, sizeof b - got, 0);
    if (r > 0) got += static_cast<size_t>(r);
  }
  return FormatUuid(b);
}

std::string UuidFromSeed(std::string_view seed) {
  unsigned char d[32];
  Sha256(seed, d);
  return FormatUuid(d);
}

}  // namespace fachadapter::xoev
