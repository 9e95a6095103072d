// A source: one opened connector instance, called through the checked C function table.
// This is the only place that touches the connector boundary, so every buffer it receives is
// released here and every error is turned into a Status here.
#ifndef FACHADAPTER_SRC_SOURCE_INTERNAL_H_
#define FACHADAPTER_SRC_SOURCE_INTERNAL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fachadapter/config.h"
#include "fachadapter/connector/v1/connector.pb.h"
#include "fachadapter/connector_registry.h"
#include "fachadapter/engine.h"
#include "fachadapter/status.h"

namespace fachadapter {

/// One opened connector instance.
class Source {
 public:
  /// Loads the connector and opens the instance with the source's settings.
  static Result<std::unique_ptr<Source>> Open(const SourceConfig& cfg, const Config& config);
  ~Source();

  /// Source name.
  const std::string& name() const { return cfg_.name; }
  /// Connector type.
  const ConnectorType& type() const { return *type_; }

  /// Runs a unary connector method.
  Status Call(FaMethod method, const google::protobuf::MessageLite& request,
              google::protobuf::MessageLite* response, const CallOptions& options) const;

  /// A batch as the connector encoded it (a serialized connector::v1::ScanBatch), held in the
  /// connector's own buffer until this goes away; may be released on any thread.
  class EncodedBatch {
   public:
    EncodedBatch() = default;
    EncodedBatch(EncodedBatch&& o) noexcept : buf_(o.buf_) { o.buf_ = FaBuffer{}; }
    EncodedBatch& operator=(EncodedBatch&& o) noexcept;
    EncodedBatch(const EncodedBatch&) = delete;
    EncodedBatch& operator=(const EncodedBatch&) = delete;
    ~EncodedBatch() { Release(); }
    /// The encoded ScanBatch.
    std::string_view bytes() const {
      return {reinterpret_cast<const char*>(buf_.data), buf_.data ? buf_.size : 0};
    }

   private:
    friend class Source;
    void Release();
    FaBuffer buf_{};
  };

  /// A running scan; closes itself.
  class Cursor {
   public:
    ~Cursor();
    /// Next batch, or *end = true.
    Status Next(connector::v1::ScanBatch* batch, bool* end);
    /// Next batch as the connector encoded it, unparsed, or *end = true. Parse it with
    /// ParseBatch (on whatever thread suits).
    Status NextEncoded(EncodedBatch* batch, bool* end);
    /// Parses a batch NextEncoded returned; INTERNAL naming the connector if it is malformed.
    Status ParseBatch(const EncodedBatch& encoded, connector::v1::ScanBatch* batch) const;
    /// INTERNAL: the connector sent a malformed batch (for callers that read it themselves).
    Status Malformed() const;

   private:
    friend class Source;
    Cursor(const Source* src, FaScanCursor* c, const CallOptions& o) : src_(src), cursor_(c), options_(o) {}
    const Source* src_;
    FaScanCursor* cursor_;
    CallOptions options_;
  };
  /// Starts a scan.
  Result<std::unique_ptr<Cursor>> Scan(const connector::v1::ScanRequest& request,
                                       const CallOptions& options) const;

  /// Replaces every configured secret in `text` by "***".
  std::string Scrub(std::string text) const;

 private:
  Source() = default;
  Status FromBuffer(int32_t code, FaBuffer* buf) const;

  SourceConfig cfg_;
  std::shared_ptr<ConnectorType> type_;
  FaConnectorInstance* instance_ = nullptr;
  FaHostApi host_{};
};

}  // namespace fachadapter

#endif  // FACHADAPTER_SRC_SOURCE_INTERNAL_H_
