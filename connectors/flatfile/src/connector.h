// FlatFileConnector: the fachadapter::sdk::Connector of the flat-file connector.
#ifndef FACHADAPTER_CONNECTORS_FLATFILE_CONNECTOR_H_
#define FACHADAPTER_CONNECTORS_FLATFILE_CONNECTOR_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fachadapter/connector/sdk.h"
#include "table.h"

namespace fachadapter::flatfile {

namespace cv1 = ::fachadapter::connector::v1;

/// Serves CSV, fixed-width and COBOL-copybook files as raw entities (settings: docs/flatfile.md).
class FlatFileConnector : public sdk::Connector {
 public:
  FlatFileConnector();
  ~FlatFileConnector() override;

  Status Open(const cv1::OpenRequest& request) override;
  Status Describe(const cv1::DescribeRequest& request, cv1::DescribeResponse* response,
                  sdk::CallContext& ctx) override;
  Result<std::unique_ptr<sdk::ScanCursor>> Scan(const cv1::ScanRequest& request,
                                                sdk::CallContext& ctx) override;
  Status Insert(const cv1::InsertRequest& req, cv1::InsertResponse* resp, sdk::CallContext& ctx) override;
  Status Update(const cv1::UpdateRequest& req, cv1::UpdateResponse* resp, sdk::CallContext& ctx) override;
  Status Delete(const cv1::DeleteRequest& req, cv1::DeleteResponse* resp, sdk::CallContext& ctx) override;
  Status Health(const cv1::HealthRequest& req, cv1::HealthResponse* resp, sdk::CallContext& ctx) override;

  /// How often a key index was (re)built, for tests: a Get on an unchanged file builds none.
  int64_t index_builds() const { return index_builds_.load(); }

 private:
  struct EntityState;
  class Cursor;
  struct WriteTxn;
  struct JournalEntry {
    char state;
    std::string key, hash, ref, response;
  };

  Result<EntityState*> Find(const std::string& name);
  void BuildIndex(EntityState& st, std::shared_ptr<Snapshot> snap);
  std::shared_ptr<Snapshot> LookupKey(EntityState& st, const std::string& key, std::vector<RowPos>* out);
  Status BeginWrite(const EntityDef& e, WriteTxn* t);
  // Sets *relock when it replaced the data file (a torn append cut out): the lock must be taken
  // again on the new file.
  Status LoadJournal(const EntityDef& e, WriteTxn* t, bool* relock);
  bool FileParses(const EntityDef& e, WriteTxn& t);
  void RecoverJournals();
  Status SaveJournal(const EntityDef& e, WriteTxn* t);
  std::string Frame(const EntityDef& e, const std::string& data, std::string_view old_header,
                    std::string_view file);
  Status RecordResponse(const EntityDef& e, const std::string& data,
                        google::protobuf::RepeatedPtrField<std::string>* fields, v1::Record* rec);
  Result<std::string> EncodeRecord(const EntityDef& e, const Row* old,
                                   const google::protobuf::RepeatedPtrField<cv1::FieldValue>& values);
  Status FindByKey(const EntityDef& e, WriteTxn& t, const std::string& key, Row* found, bool* exists);
  Status LockExistingRecord(const EntityDef& e,
                            const google::protobuf::RepeatedPtrField<cv1::FieldValue>& key_values,
                            const std::string& etag, WriteTxn* t, Row* row, std::string* key);
  Result<std::string> KeyFromValues(const EntityDef& e,
                                    const google::protobuf::RepeatedPtrField<cv1::FieldValue>& kv);

  std::map<std::string, std::unique_ptr<EntityState>> entities_;
  std::mutex path_mu_;
  std::map<std::string, std::unique_ptr<std::mutex>> path_locks_;
  std::atomic<int64_t> index_builds_{0};
};

}  // namespace fachadapter::flatfile

#endif  // FACHADAPTER_CONNECTORS_FLATFILE_CONNECTOR_H_
