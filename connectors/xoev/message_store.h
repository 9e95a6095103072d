// What the connector knows about the messages in a folder: each message analysed once (parsed
// with the hardened parser, header extracted, matched to a schema set and validated, code lists
// checked, fields mapped) and cached by file identity (size, mtime, inode), so a folder is
// re-read only where it changed.
#ifndef FACHADAPTER_CONNECTORS_XOEV_MESSAGE_STORE_H_
#define FACHADAPTER_CONNECTORS_XOEV_MESSAGE_STORE_H_

#include <sys/stat.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "code_list.h"
#include "fachadapter/connector/sdk.h"
#include "field_mapping.h"
#include "message_header.h"
#include "schema_set.h"
#include "xml_security.h"

namespace fachadapter::xoev {

/// The fixed raw fields of the message entities, in order; mapped fields follow.
enum MessageField : int {
  kFileName, kMessageUuid, kProcessId, kTypeCode, kTypeName, kTypeListUri, kTypeListVersion,
  kCreatedAt, kAuthorDirectoryService, kAuthorId, kAuthorName, kReaderDirectoryService, kReaderId,
  kReaderName, kRootElement, kRootNamespace, kHeaderStyle, kStandard, kVersion, kProduct,
  kProductVendor, kProductVersion, kSchemaSetName, kValidationStatus, kValidationErrors,
  kCodeListStatus, kCodeListErrors, kMappingErrors, kState, kReceivedAt, kProcessedAt, kSizeBytes,
  kDocument, kContent, kFixedFieldCount
};

/// Name and type of a fixed field.
struct FieldSpec {
  const char* name;
  v1::FieldType type;
  const char* native_type;
};
/// The spec of every fixed field, indexed by MessageField.
const FieldSpec* FixedFields();

/// One message, analysed.
struct MessageInfo {
  MessageHeader header;                  ///< Header (node pointers cleared).
  std::string validation_status;         ///< valid | invalid | unknown_schema | malformed
  std::string schema_set;                ///< Matched set, "" if none.
  std::vector<XmlDiagnostic> errors;     ///< Parse or validation errors.
  std::vector<v1::Value> values;         ///< All fields; per-file ones (name, state, ...) unset.
};

/// Everything needed to analyse a message; immutable after Open.
struct MessageAnalyzer {
  XmlLimits limits;
  std::vector<std::shared_ptr<const SchemaSet>> schema_sets;
  std::unique_ptr<FieldMapper> mapper;
  CodeListRegistry code_lists;

  /// The first set the header matches, or null.
  const SchemaSet* Match(const MessageHeader& h) const;
  /// Number of fields (fixed + mapped).
  size_t field_count() const;
  /// Analyses a message from its bytes.
  std::shared_ptr<const MessageInfo> Analyze(std::string_view bytes) const;
  /// The analysis of a message the parser refused (status names the reason).
  std::shared_ptr<const MessageInfo> Rejected(const Status& status) const;
  /// Analyses an already parsed (and validated) document.
  std::shared_ptr<MessageInfo> AnalyzeParsed(xmlDoc* doc, const MessageHeader& h,
                                             const SchemaSet* set, bool valid,
                                             std::vector<XmlDiagnostic> errors) const;
};

/// A folder of messages with a cache of their analyses.
class FolderIndex {
 public:
  /// One file of the folder.
  struct Item {
    std::string name;
    std::string path;
    struct stat st {};
    std::shared_ptr<const MessageInfo> info;
  };
  FolderIndex(std::string dir, const MessageAnalyzer* analyzer)
      : dir_(std::move(dir)), analyzer_(analyzer) {}
  /// The folder.
  const std::string& dir() const { return dir_; }
  /// Lists the folder's messages (*.xml, no dot files), by name, analysing new or changed ones.
  Result<std::vector<Item>> Snapshot(sdk::CallContext& ctx);

 private:
  struct Cached {
    off_t size;
    int64_t mtime_ns;
    ino_t ino;
    std::shared_ptr<const MessageInfo> info;
  };
  Result<std::vector<std::string>> List();
  std::string dir_;
  const MessageAnalyzer* analyzer_;
  std::mutex mu_;
  std::map<std::string, Cached> cache_;
  // Listing cache: reused while the folder's mtime is unchanged and was already in the past
  // when the listing was taken (a change within the same clock tick re-lists).
  int64_t listed_dir_mtime_ns_ = -1;
  int64_t listed_at_ns_ = 0;
  std::vector<std::string> listing_;
};

/// Nanoseconds of a timespec.
inline int64_t ToNanos(const struct timespec& ts) {
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace fachadapter::xoev

#endif  // FACHADAPTER_CONNECTORS_XOEV_MESSAGE_STORE_H_
