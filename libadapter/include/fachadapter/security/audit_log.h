// The audit log of accesses to personal data: append-only JSON lines, each fsync'ed before the
// answer leaves and chained to the previous line by SHA-256 (format in docs/security.md).
#ifndef FACHADAPTER_SECURITY_AUDIT_LOG_H_
#define FACHADAPTER_SECURITY_AUDIT_LOG_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fachadapter/export.h"
#include "fachadapter/status.h"

namespace fachadapter::security {

/// What a client certificate says about itself (in records of refused connections).
struct CertificateSummary {
  std::string subject;     ///< Subject DN (RFC 2253 form).
  std::string issuer;      ///< Issuer DN (RFC 2253 form).
  std::string serial;      ///< Serial number (upper-case hex).
  std::string sha256;      ///< SHA-256 fingerprint of the DER encoding (lower-case hex).
  std::string not_before;  ///< Start of validity (UTC, RFC 3339).
  std::string not_after;   ///< End of validity (UTC, RFC 3339).
};

/// One audited call (or, for Query, its start or its end), or one refused connection.
struct AuditRecord {
  std::string request_id;      ///< Request id (the client's x-request-id or a generated one).
  std::string principal;       ///< Caller ("" if not identified).
  std::string auth;            ///< How it was identified: mtls, jwt, none.
  std::string peer;            ///< The client's address (gRPC form) when it could not be identified; else "".
  std::string client_certificate;  ///< Principal of the client certificate when a token named the caller.
  std::string operation;       ///< get, query, create, update, delete; connect for a refused TLS handshake.
  std::string phase;           ///< "" for a whole call; "start"/"end" for a Query stream.
  std::string entity;          ///< Entity.
  std::string keys_json;       ///< JSON array of the key values, or "" if none.
  std::string filter_json;     ///< JSON of the Query filter, or "" if none.
  int64_t records = -1;        ///< Records disclosed or changed; -1 if not applicable.
  std::vector<std::string> personal_fields;  ///< Personal-data fields disclosed (or written).
  std::string rule;            ///< Policy rule that permitted it.
  std::string outcome;         ///< OK or the gRPC code name.
  std::string reason;          ///< Machine-readable reason of a failure.
  std::string detail;          ///< Human-readable detail of a refused connection ("" otherwise).
  std::string listener;        ///< Listening address that refused a connection ("" otherwise).
  CertificateSummary certificate;  ///< The client certificate of a refused connection, if one was shown.
  int64_t suppressed_before = 0;   ///< Refused connections left unrecorded since the previous such record.
};

/// Rotation and retention of the audit log.
struct AuditLogOptions {
  /// Rotate before a record would make the file larger than this; 0 = never.
  uint64_t rotate_bytes = 0;
  /// Delete rotated files (FILE.<UTC time>) whose last change is older than this; 0 = keep.
  int retention_days = 0;
};

/// Appends chained records to one file. Thread-safe; records are written in order.
class FACHADAPTER_API AuditLog {
 public:
  /// Opens (creates, mode 0600) `path` for appending and continues the chain from its last
  /// line. A file whose last line is not a record of this format is FAILED_PRECONDITION.
  /// On rotation the file is renamed to `path.YYYYMMDDTHHMMSSZ` (made read-only) and the new
  /// file starts with a "rotate" record that continues the chain (seq and prev).
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path, const AuditLogOptions& options = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  /// Writes `record` (adds seq, time, prev) and fsyncs. On failure nothing is left in the
  /// file (a partial line is cut off again), the log reports itself unhealthy, and the
  /// result is UNAVAILABLE (reason AUDIT_UNAVAILABLE): the caller must not answer.
  Status Append(const AuditRecord& record);

  /// "" while the last write succeeded; otherwise why it failed.
  std::string Problem() const;

  /// The file.
  const std::string& path() const { return path_; }

 private:
  AuditLog() = default;
  Status Rotate();
  Status WriteLine(const std::string& line);
  void Expire() const;
  std::string path_;
  AuditLogOptions options_;
  int fd_ = -1;
  mutable std::mutex mu_;
  uint64_t seq_ = 0;
  std::string prev_hash_;
  std::string problem_;
};

/// Result of checking an audit log file.
struct AuditVerification {
  bool ok = false;          ///< The chain is intact.
  int64_t records = 0;      ///< Records read (up to the first problem).
  int64_t bad_line = 0;     ///< 1-based line of the first problem; 0 if none.
  std::string problem;      ///< What is wrong there.
  std::string last_hash;    ///< SHA-256 of the last good line (keep it elsewhere to detect cut-off tails).
  std::string file;         ///< File of the problem (VerifyAuditLogs).
  bool continues_rotated = false;  ///< The first file continues an older, unchecked file.
};

/// Checks every line's sequence number and hash link. A deleted, inserted, reordered or
/// altered record breaks the chain at (or right after) its line. Removing records from the
/// end is only detected against a last hash kept elsewhere (`expected_last_hash`, optional).
/// A file that starts with a "rotate" record continues a rotated chain from its `prev`.
FACHADAPTER_API AuditVerification VerifyAuditLog(const std::string& path,
                                                 const std::string& expected_last_hash = "");

/// Checks several files of one chain in order (rotated files first, oldest first): each file
/// must continue the previous one. `problem` and `bad_line` name the file ("FILE:LINE").
FACHADAPTER_API AuditVerification VerifyAuditLogs(const std::vector<std::string>& paths,
                                                  const std::string& expected_last_hash = "");

/// Lower-case hex SHA-256 of `data`.
FACHADAPTER_API std::string Sha256Hex(const std::string& data);

/// `s` as a JSON string literal (with quotes).
FACHADAPTER_API std::string JsonQuote(const std::string& s);

}  // namespace fachadapter::security

#endif  // FACHADAPTER_SECURITY_AUDIT_LOG_H_
