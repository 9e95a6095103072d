// The chain: every line carries "prev", the SHA-256 of the previous line's bytes, and "seq",
// one more than the previous line's. The hash covers the whole previous line, so changing any
// byte of a record, dropping one or slipping one in breaks the link of the line after it.
#include "fachadapter/security/audit_log.h"

#include <fcntl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace fachadapter::security {

namespace {

const std::string kZeroHash(64, '0');

std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t Utf8Len(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// The number after "seq": in a line of ours; -1 if there is none.
int64_t SeqOf(const std::string& line) {
  const std::string tag = "{\"seq\":";
  if (line.rfind(tag, 0) != 0) return -1;
  char* end = nullptr;
  long long v = std::strtoll(line.c_str() + tag.size(), &end, 10);
  return end && *end == ',' && v > 0 ? v : -1;
}

std::string CompactUtc() {
  auto secs = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool IsRotateRecord(const std::string& line) {
  return line.find(",\"operation\":\"rotate\",") != std::string::npos;
}

void SyncDirectory(const std::string& file) {
  std::filesystem::path dir = std::filesystem::path(file).parent_path();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string PrevOf(const std::string& line) {
  const std::string tag = ",\"prev\":\"";
  size_t p = line.find(tag);
  return p == std::string::npos ? "" : line.substr(p + tag.size(), 64);
}

}  // namespace

std::string Sha256Hex(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c >= 0x80) {
      size_t n = Utf8Len(s, i);
      if (n == 0) {
        out += "\\ufffd";  // not UTF-8: keep the line valid JSON
        ++i;
        continue;
      }
      out.append(s, i, n);
      i += n;
      continue;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  return out + "\"";
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path, const AuditLogOptions& options) {
  std::unique_ptr<AuditLog> log(new AuditLog);
  log->path_ = path;
  log->options_ = options;
  log->prev_hash_ = kZeroHash;
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    // Continue the chain from the last line; only the tail is read.
    std::ifstream in(path, std::ios::binary);
    const std::streamoff tail = std::min<std::streamoff>(st.st_size, 1 << 20);
    in.seekg(-tail, std::ios::end);
    std::string buf(static_cast<size_t>(tail), '\0');
    in.read(buf.data(), tail);
    if (!in || buf.back() != '\n') {
      return FailedPrecondition("audit log " + path + " ends in an incomplete line (a write was cut off); "
                                "check it with 'fachadapter audit verify " + path + "' and move it aside",
                                "AUDIT_LOG_DAMAGED");
    }
    buf.pop_back();
    size_t nl = buf.rfind('\n');
    std::string last = nl == std::string::npos ? buf : buf.substr(nl + 1);
    int64_t seq = SeqOf(last);
    if (seq < 0) {
      return FailedPrecondition("audit log " + path + ": its last line is not an audit record of fachadapterd",
                                "AUDIT_LOG_DAMAGED");
    }
    log->seq_ = static_cast<uint64_t>(seq);
    log->prev_hash_ = Sha256Hex(last);
  }
  log->fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (log->fd_ < 0) {
    return FailedPrecondition("cannot open audit log " + path + ": " + std::strerror(errno), "AUDIT_UNAVAILABLE");
  }
  log->Expire();
  return log;
}

void AuditLog::Expire() const {
  if (options_.retention_days <= 0) return;
  const std::filesystem::path p(path_);
  const std::string prefix = p.filename().string() + ".";
  const auto limit = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24) * options_.retention_days;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(p.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    // Only our own rotated files: FILE.YYYYMMDDTHHMMSSZ[.N]
    if (name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + 16 || name[prefix.size() + 8] != 'T') continue;
    std::error_code e2;
    if (!entry.is_regular_file(e2) || entry.last_write_time(e2) >= limit || e2) continue;
    if (std::filesystem::remove(entry.path(), e2)) {
      std::fprintf(stderr, "fachadapterd: audit: removed %s (older than the retention of %d days)\n",
                   entry.path().c_str(), options_.retention_days);
    }
  }
}

Status AuditLog::Rotate() {
  std::string rotated = path_ + "." + CompactUtc();
  for (int n = 1; std::filesystem::exists(rotated); ++n) rotated = path_ + "." + CompactUtc() + "." + std::to_string(n);
  if (std::rename(path_.c_str(), rotated.c_str()) != 0) {
    problem_ = "audit log " + path_ + ": cannot rotate to " + rotated + ": " + std::strerror(errno);
    return Status(StatusCode::kUnavailable, "the audit log cannot be rotated, so no personal data is served now",
                  "AUDIT_UNAVAILABLE", "");
  }
  ::chmod(rotated.c_str(), 0400);
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    problem_ = "audit log " + path_ + ": cannot open after rotation: " + std::strerror(errno);
    return Status(StatusCode::kUnavailable, "the audit log cannot be written, so no personal data is served now",
                  "AUDIT_UNAVAILABLE", "");
  }
  ::close(fd_);
  fd_ = fd;
  SyncDirectory(path_);
  // The new file opens with a record that carries the chain over (seq and prev).
  const std::string line = "{\"seq\":" + std::to_string(seq_ + 1) + ",\"time\":\"" + NowRfc3339() +
                           "\",\"operation\":\"rotate\",\"previous_file\":" +
                           JsonQuote(std::filesystem::path(rotated).filename().string()) + ",\"prev\":\"" +
                           prev_hash_ + "\"}";
  FA_RETURN_IF_ERROR(WriteLine(line));
  Expire();
  return Status::OK();
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

std::string AuditLog::Problem() const {
  std::lock_guard<std::mutex> lock(mu_);
  return problem_;
}

Status AuditLog::Append(const AuditRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string line = "{\"seq\":" + std::to_string(seq_ + 1) + ",\"time\":\"" + NowRfc3339() + "\"";
  line += ",\"request_id\":" + JsonQuote(r.request_id);
  line += ",\"principal\":" + JsonQuote(r.principal);
  line += ",\"auth\":" + JsonQuote(r.auth);
  if (!r.peer.empty()) line += ",\"peer\":" + JsonQuote(r.peer);
  if (!r.client_certificate.empty()) line += ",\"client_certificate\":" + JsonQuote(r.client_certificate);
  line += ",\"operation\":" + JsonQuote(r.operation);
  if (!r.phase.empty()) line += ",\"phase\":" + JsonQuote(r.phase);
  line += ",\"entity\":" + JsonQuote(r.entity);
  if (!r.keys_json.empty()) line += ",\"keys\":" + r.keys_json;
  if (!r.filter_json.empty()) line += ",\"filter\":" + r.filter_json;
  if (r.records >= 0) line += ",\"records\":" + std::to_string(r.records);
  line += ",\"personal_fields\":[";
  for (size_t i = 0; i < r.personal_fields.size(); ++i) {
    line += (i ? "," : "") + JsonQuote(r.personal_fields[i]);
  }
  line += "]";
  if (!r.rule.empty()) line += ",\"rule\":" + JsonQuote(r.rule);
  if (!r.listener.empty()) line += ",\"listener\":" + JsonQuote(r.listener);
  const CertificateSummary& c = r.certificate;
  if (!c.sha256.empty()) {
    line += ",\"certificate\":{\"subject\":" + JsonQuote(c.subject) + ",\"issuer\":" + JsonQuote(c.issuer) +
            ",\"serial\":" + JsonQuote(c.serial) + ",\"sha256\":" + JsonQuote(c.sha256) +
            ",\"not_before\":" + JsonQuote(c.not_before) + ",\"not_after\":" + JsonQuote(c.not_after) + "}";
  }
  line += ",\"outcome\":" + JsonQuote(r.outcome);
  if (!r.reason.empty()) line += ",\"reason\":" + JsonQuote(r.reason);
  if (!r.detail.empty()) line += ",\"detail\":" + JsonQuote(r.detail);
  if (r.suppressed_before > 0) line += ",\"suppressed_before\":" + std::to_string(r.suppressed_before);
  line += ",\"prev\":\"" + prev_hash_ + "\"}";

  if (options_.rotate_bytes > 0) {
    struct stat st;
    if (fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        static_cast<uint64_t>(st.st_size) + line.size() + 1 > options_.rotate_bytes) {
      FA_RETURN_IF_ERROR(Rotate());
      // seq and prev moved on with the rotate record.
      const std::string old_head = "{\"seq\":" + std::to_string(seq_) + ",";
      line = "{\"seq\":" + std::to_string(seq_ + 1) + "," + line.substr(old_head.size());
      line = line.substr(0, line.rfind(",\"prev\":\"")) + ",\"prev\":\"" + prev_hash_ + "\"}";
    }
  }
  return WriteLine(line);
}

Status AuditLog::WriteLine(const std::string& line) {
  const std::string data = line + "\n";
  struct stat st;
  const bool regular = fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  const off_t before = regular ? st.st_size : 0;
  size_t done = 0;
  int err = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && ::fsync(fd_) != 0 && errno != EINVAL) err = errno;  // EINVAL: not syncable (pipe, device)
  if (err != 0) {
    // Leave no torn line behind: the chain must stay verifiable after the disk recovers.
    if (regular && done > 0 && ftruncate(fd_, before) != 0) {
      problem_ = "audit log " + path_ + ": write failed (" + std::strerror(err) +
                 ") and the partial line could not be removed";
    } else {
      problem_ = "audit log " + path_ + ": write failed: " + std::strerror(err);
    }
    return Status(StatusCode::kUnavailable,
                  "the audit log cannot be written, so no personal data is served now; try again later",
                  "AUDIT_UNAVAILABLE", "");
  }
  ++seq_;
  prev_hash_ = Sha256Hex(line);
  problem_.clear();
  return Status::OK();
}

namespace {

// Checks one file. `prev_hash`/`expected_seq` carry the chain in and out; `anchor_free` lets
// the first file start with a rotate record whose predecessor is not at hand.
bool VerifyFile(const std::string& path, bool anchor_free, std::string* prev_hash, int64_t* expected_seq,
                AuditVerification* v) {
  v->file = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    v->problem = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int64_t lineno = 0;
  auto fail = [&](const std::string& why) {
    v->bad_line = lineno;
    v->problem = why;
    return false;
  };
  size_t pos = 0;
  while (pos < content.size()) {
    size_t nl = content.find('\n', pos);
    ++lineno;
    if (nl == std::string::npos) return fail("incomplete last line (no newline): a write was cut off or the file was edited");
    const std::string line = content.substr(pos, nl - pos);
    pos = nl + 1;
    google::protobuf::Struct rec;
    if (!google::protobuf::util::JsonStringToMessage(line, &rec).ok()) {
      return fail("not a JSON object: the record was altered or inserted");
    }
    const int64_t seq = SeqOf(line);
    if (seq < 0) return fail("no sequence number: not an audit record");
    if (lineno == 1 && anchor_free && IsRotateRecord(line) && PrevOf(line) != *prev_hash) {
      // Continues a rotated file that is not being checked.
      *prev_hash = PrevOf(line);
      *expected_seq = seq;
      v->continues_rotated = true;
    }
    if (PrevOf(line) != *prev_hash) {
      return fail(lineno == 1 ? (anchor_free ? "the first record does not start the chain: records before it were removed"
                                             : "does not continue the previous file: files are missing or out of order")
                              : "hash link broken: line " + std::to_string(lineno - 1) +
                                    " was altered, or records were removed or inserted here");
    }
    if (seq != *expected_seq) {
      return fail("sequence number " + std::to_string(seq) + " where " + std::to_string(*expected_seq) +
                  " was expected: records were removed or inserted here");
    }
    *prev_hash = Sha256Hex(line);
    ++*expected_seq;
    ++v->records;
  }
  return true;
}

}  // namespace

AuditVerification VerifyAuditLogs(const std::vector<std::string>& paths, const std::string& expected_last_hash) {
  AuditVerification v;
  std::string prev_hash = kZeroHash;
  int64_t expected_seq = 1;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (!VerifyFile(paths[i], i == 0, &prev_hash, &expected_seq, &v)) return v;
  }
  v.last_hash = prev_hash;
  v.file = paths.empty() ? "" : paths.back();
  if (!expected_last_hash.empty() && expected_last_hash != prev_hash) {
    v.bad_line = std::max<int64_t>(v.records, 1);
    v.problem = "the last record's hash differs from the expected one: records at the end were removed or the last one was altered";
    return v;
  }
  v.ok = true;
  return v;
}

AuditVerification VerifyAuditLog(const std::string& path, const std::string& expected_last_hash) {
  return VerifyAuditLogs({path}, expected_last_hash);
}

}  // namespace fachadapter::security
