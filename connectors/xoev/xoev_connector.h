// XoevConnector: XÖV messages in exchange folders as entities of the uniform API.
//
// Raw entities (see docs/xoev.md for every field and setting):
//  - `inbound`: the messages in `inbound_dir`, one record per file; Delete acknowledges a
//    message (writes `<file>.ack` beside it; the file itself stays for the legacy side);
//  - `outbound`: the messages in `outbound_dir` plus the receipts of those the connector wrote;
//    Insert takes a complete document, or header fields and the message body from which it
//    assembles one (g2g header only), validates it against its schema set and writes it
//    atomically and idempotently by message UUID.
#ifndef FACHADAPTER_CONNECTORS_XOEV_XOEV_CONNECTOR_H_
#define FACHADAPTER_CONNECTORS_XOEV_XOEV_CONNECTOR_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fachadapter/connector/sdk.h"
#include "message_assembly.h"
#include "message_store.h"

namespace fachadapter::xoev {

/// The connector class registered as "xoev".
class XoevConnector : public sdk::Connector {
 public:
  XoevConnector();
  ~XoevConnector() override;

  Status Open(const sdk::cv1::OpenRequest& request) override;
  Status Describe(const sdk::cv1::DescribeRequest& request, sdk::cv1::DescribeResponse* response,
                  sdk::CallContext& ctx) override;
  Result<std::unique_ptr<sdk::ScanCursor>> Scan(const sdk::cv1::ScanRequest& request,
                                                sdk::CallContext& ctx) override;
  Status Insert(const sdk::cv1::InsertRequest& request, sdk::cv1::InsertResponse* response,
                sdk::CallContext& ctx) override;
  Status Delete(const sdk::cv1::DeleteRequest& request, sdk::cv1::DeleteResponse* response,
                sdk::CallContext& ctx) override;
  Status Health(const sdk::cv1::HealthRequest& request, sdk::cv1::HealthResponse* response,
                sdk::CallContext& ctx) override;

  /// Raw field names of the message entities (fixed fields, then mapped fields).
  const std::vector<std::string>& field_names() const { return field_names_; }
  /// The analyzer (schema sets, mappings, code lists) after Open.
  const MessageAnalyzer& analyzer() const { return analyzer_; }

 private:
  struct Row;
  Result<std::vector<Row>> Collect(const std::string& entity, sdk::CallContext& ctx);
  v1::Record RecordOf(const FolderIndex::Item& item, const std::string& state,
                      const std::optional<int64_t>& processed_at_ns) const;
  Status WriteOutbound(const std::string& file_name, const std::string& content,
                       const std::string& request_hash, sdk::cv1::InsertResponse* response,
                       sdk::CallContext& ctx);

  std::string source_name_;
  std::string inbound_dir_, outbound_dir_, receipts_dir_;
  std::vector<std::string> ack_suffixes_;
  MessageAnalyzer analyzer_;
  std::map<std::string, MessageHeaderDefaults> header_defaults_;  // by schema set name
  std::vector<std::string> field_names_;
  std::unique_ptr<FolderIndex> inbound_, outbound_, receipts_;
  std::mutex write_mu_;
};

}  // namespace fachadapter::xoev

#endif  // FACHADAPTER_CONNECTORS_XOEV_XOEV_CONNECTOR_H_
