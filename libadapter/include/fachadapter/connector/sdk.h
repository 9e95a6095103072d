// The connector SDK: write a Fachadapter connector as an ordinary C++ class.
//
// Header-only. It wraps the C ABI of abi.h: a connector author derives from
// fachadapter::sdk::Connector, implements the operations its back end supports, and names the
// class in FACHADAPTER_CONNECTOR(id, Class). The macro defines the entry point
// `fachadapter_connector_init_<id>` (for static linking, see connector_registry.h) and, when
// FACHADAPTER_CONNECTOR_PLUGIN is defined (fachadapter_add_connector() does that for the
// plugin build), the plugin entry points FACHADAPTER_CONNECTOR_ENTRY and
// FACHADAPTER_CONNECTOR_ABI_SYMBOL.
//
// All requests and responses are the messages of proto/fachadapter/connector/v1. The SDK
// catches every exception at the boundary and turns it into INTERNAL, so none crosses it.
//
// Example:
//   class EchoConnector : public fachadapter::sdk::Connector {
//    public:
//     fachadapter::Status Open(const OpenRequest& req) override { ... }
//     fachadapter::Status Describe(const DescribeRequest&, DescribeResponse*,
//                                  fachadapter::sdk::CallContext&) override { ... }
//     fachadapter::Result<std::unique_ptr<fachadapter::sdk::ScanCursor>> Scan(
//         const ScanRequest&, fachadapter::sdk::CallContext&) override { ... }
//   };
//   FACHADAPTER_CONNECTOR(echo, "echo", "1.0.0", EchoConnector)
#ifndef FACHADAPTER_CONNECTOR_SDK_H_
#define FACHADAPTER_CONNECTOR_SDK_H_

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include <google/protobuf/arena.h>

#include "fachadapter/connector/abi.h"
#include "fachadapter/connector/v1/connector.pb.h"
#include "fachadapter/filter_evaluator.h"
#include "fachadapter/status.h"
#include "fachadapter/values.h"

namespace fachadapter::sdk {

namespace cv1 = ::fachadapter::connector::v1;

/// The host's services for the whole life of a connector instance.
class Host {
 public:
  /// Wraps the host table; `api` may be null (then logging and metrics do nothing).
  explicit Host(const FaHostApi* api = nullptr) : api_(api) {}
  /// Writes a log line at a FA_LOG_* level.
  void Log(int level, std::string_view message) const {
    if (api_ && api_->log) api_->log(api_->host_data, level, message.data(), message.size());
  }
  /// Adds to a counter metric.
  void CounterAdd(std::string_view name, int64_t delta) const {
    if (api_ && api_->struct_size >= offsetof(FaHostApi, counter_add) + sizeof(void*) &&
        api_->counter_add) {
      api_->counter_add(api_->host_data, name.data(), name.size(), delta);
    }
  }

 private:
  const FaHostApi* api_;
};

/// Deadline and cancellation of the client call behind one connector call.
class CallContext {
 public:
  /// Wraps the host's context; `ctx` may be null (never cancelled, no deadline).
  explicit CallContext(const FaCallContext* ctx = nullptr) : ctx_(ctx) {}
  /// True once the client went away or the deadline passed.
  bool cancelled() const {
    return ctx_ && ctx_->is_cancelled && ctx_->is_cancelled(ctx_->host_data) != 0;
  }
  /// Absolute deadline, or time_point::max() if none.
  std::chrono::system_clock::time_point deadline() const {
    if (!ctx_ || ctx_->deadline_unix_nanos == 0) return std::chrono::system_clock::time_point::max();
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<
        std::chrono::system_clock::duration>(std::chrono::nanoseconds(ctx_->deadline_unix_nanos)));
  }
  /// CANCELLED if cancelled, else OK: for loops that should stop when the client leaves.
  Status CheckCancelled() const {
    if (!cancelled()) return Status::OK();
    return Status(StatusCode::kCancelled, "the call was cancelled or its deadline passed",
                  "CANCELLED");
  }

 private:
  const FaCallContext* ctx_;
};

/// A running scan. The host calls Next until it sets *end, or destroys the cursor early.
class ScanCursor {
 public:
  virtual ~ScanCursor() = default;
  /// Fills `out` with the next batch (the first batch also names the fields), or sets *end.
  virtual Status Next(cv1::ScanBatch* out, bool* end, CallContext& ctx) = 0;
  /// Like Next, but appends the batch to the empty `wire` as a serialized cv1::ScanBatch, the
  /// bytes the host receives. The default builds it with Next on an arena and serializes it; a
  /// cursor that can write the wire format straight from its source overrides this to skip
  /// building a message per value. Both must yield the same batches.
  virtual Status NextEncoded(std::string* wire, bool* end, CallContext& ctx);
};

inline Status ScanCursor::NextEncoded(std::string* wire, bool* end, CallContext& ctx) {
  // The batch lives on an arena for this call only: its thousands of small values are
  // allocated by bumping a pointer and freed at once, instead of one malloc/free each.
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 * 1024;
  options.max_block_size = 1024 * 1024;
  google::protobuf::Arena arena(options);
  auto* out = google::protobuf::Arena::CreateMessage<cv1::ScanBatch>(&arena);
  Status s = Next(out, end, ctx);
  if (!s.ok() || *end) return s;
  if (!out->AppendToString(wire)) return Status(StatusCode::kInternal, "cannot serialize the scan batch");
  return Status::OK();
}

/// Base class of a connector: one instance per configured source. Methods a back end does
/// not support keep their default, which answers UNIMPLEMENTED.
class Connector {
 public:
  virtual ~Connector() = default;

  /// Called once after construction with the source's settings. A failure here stops the
  /// daemon at start with the message, so name the setting or the back end that failed.
  virtual Status Open(const cv1::OpenRequest& request) = 0;
  /// Describes raw entities (tables, views, files, ...).
  virtual Status Describe(const cv1::DescribeRequest& request, cv1::DescribeResponse* response,
                          CallContext& ctx) = 0;
  /// Starts a scan. The connector applies the whole request: filter, order, projection, limit.
  virtual Result<std::unique_ptr<ScanCursor>> Scan(const cv1::ScanRequest& request,
                                                   CallContext& ctx) = 0;
  /// Inserts one row (see InsertRequest for the idempotency contract).
  virtual Status Insert(const cv1::InsertRequest&, cv1::InsertResponse*, CallContext&) {
    return Unimplemented("this connector cannot create records");
  }
  /// Updates one row by key, checking the etag.
  virtual Status Update(const cv1::UpdateRequest&, cv1::UpdateResponse*, CallContext&) {
    return Unimplemented("this connector cannot update records");
  }
  /// Deletes one row by key, checking the etag.
  virtual Status Delete(const cv1::DeleteRequest&, cv1::DeleteResponse*, CallContext&) {
    return Unimplemented("this connector cannot delete records");
  }
  /// Reports whether the back end answers.
  virtual Status Health(const cv1::HealthRequest&, cv1::HealthResponse* response, CallContext&) {
    response->set_serving(true);
    return Status::OK();
  }

  /// The host's services; valid from before Open until destruction.
  const Host& host() const { return host_; }

 private:
  template <typename C>
  friend struct Glue;
  Host host_;
};

// ---- Everything below is the glue between the C ABI and Connector. ----

namespace internal {

inline void FreeBuffer(FaBuffer* b) {
  std::free(b->data);
  b->data = nullptr;
  b->size = 0;
}

inline void FreeStringBuffer(FaBuffer* b) {
  delete static_cast<std::string*>(b->private_data);
  b->data = nullptr;
  b->size = 0;
  b->private_data = nullptr;
}

/// Hands a string to the host as an FaBuffer that frees it, without copying.
inline void StringToBuffer(std::unique_ptr<std::string> s, FaBuffer* out) {
  out->data = reinterpret_cast<uint8_t*>(s->data());
  out->size = s->size();
  out->release = &FreeStringBuffer;
  out->private_data = s.release();
}

/// Serializes a message into a malloc'ed FaBuffer that frees itself.
inline bool ToBuffer(const google::protobuf::MessageLite& m, FaBuffer* out) {
  size_t n = m.ByteSizeLong();
  out->data = static_cast<uint8_t*>(std::malloc(n == 0 ? 1 : n));
  if (!out->data) return false;
  out->size = n;
  out->release = &FreeBuffer;
  out->private_data = nullptr;
  return m.SerializeWithCachedSizesToArray(out->data) != nullptr || n == 0;
}

inline int32_t Fail(const Status& s, FaBuffer* out) {
  cv1::Error e;
  e.set_code(static_cast<int32_t>(s.code()));
  e.set_message(s.message());
  e.set_reason(s.reason());
  e.set_field(s.field());
  if (out) ToBuffer(e, out);
  return static_cast<int32_t>(s.code() == StatusCode::kOk ? StatusCode::kInternal : s.code());
}

inline Status ParseRequest(google::protobuf::MessageLite* m, const uint8_t* data, size_t size) {
  if (size > static_cast<size_t>(INT32_MAX) || !m->ParseFromArray(data, static_cast<int>(size))) {
    return InvalidArgument(std::string("malformed ") + m->GetTypeName() + " from the host",
                           "MALFORMED_REQUEST");
  }
  return Status::OK();
}

inline Status FromException() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, "connector ran out of memory", "OUT_OF_MEMORY");
  } catch (const std::exception& e) {
    return Internal(std::string("connector threw: ") + e.what());
  } catch (...) {
    return Internal("connector threw an unknown exception");
  }
}

struct Cursor {
  std::unique_ptr<ScanCursor> impl;
};

}  // namespace internal

/// Implements the C function table for connector class C.
template <typename C>
struct Glue {
  static int32_t Open(const FaHostApi* host, const uint8_t* req, size_t size,
                      FaConnectorInstance** out, FaBuffer* error) {
    try {
      cv1::OpenRequest request;
      Status s = internal::ParseRequest(&request, req, size);
      if (!s.ok()) return internal::Fail(s, error);
      auto conn = std::make_unique<C>();
      static_cast<Connector*>(conn.get())->host_ = Host(host);
      s = conn->Open(request);
      if (!s.ok()) return internal::Fail(s, error);
      *out = reinterpret_cast<FaConnectorInstance*>(static_cast<Connector*>(conn.release()));
      return FA_OK;
    } catch (...) {
      return internal::Fail(internal::FromException(), error);
    }
  }

  static void Close(FaConnectorInstance* inst) {
    try {
      delete reinterpret_cast<Connector*>(inst);
    } catch (...) {
    }
  }

  template <typename Req, typename Resp, typename Fn>
  static int32_t Unary(const uint8_t* req, size_t size, FaBuffer* out, Fn&& fn) {
    Req request;
    Resp response;
    Status s = internal::ParseRequest(&request, req, size);
    if (s.ok()) s = fn(request, &response);
    if (!s.ok()) return internal::Fail(s, out);
    if (!internal::ToBuffer(response, out)) {
      return internal::Fail(Status(StatusCode::kResourceExhausted, "out of memory"), nullptr);
    }
    return FA_OK;
  }

  static int32_t Call(FaConnectorInstance* inst, const FaCallContext* context, int32_t method,
                      const uint8_t* req, size_t size, FaBuffer* out) {
    try {
      auto* c = reinterpret_cast<Connector*>(inst);
      CallContext ctx(context);
      switch (method) {
        case FA_METHOD_DESCRIBE:
          return Unary<cv1::DescribeRequest, cv1::DescribeResponse>(
              req, size, out, [&](auto& rq, auto* rs) { return c->Describe(rq, rs, ctx); });
        case FA_METHOD_INSERT:
          return Unary<cv1::InsertRequest, cv1::InsertResponse>(
              req, size, out, [&](auto& rq, auto* rs) { return c->Insert(rq, rs, ctx); });
        case FA_METHOD_UPDATE:
          return Unary<cv1::UpdateRequest, cv1::UpdateResponse>(
              req, size, out, [&](auto& rq, auto* rs) { return c->Update(rq, rs, ctx); });
        case FA_METHOD_DELETE:
          return Unary<cv1::DeleteRequest, cv1::DeleteResponse>(
              req, size, out, [&](auto& rq, auto* rs) { return c->Delete(rq, rs, ctx); });
        case FA_METHOD_HEALTH:
          return Unary<cv1::HealthRequest, cv1::HealthResponse>(
              req, size, out, [&](auto& rq, auto* rs) { return c->Health(rq, rs, ctx); });
        default:
          return internal::Fail(Unimplemented("unknown connector method " + std::to_string(method)),
                                out);
      }
    } catch (...) {
      return internal::Fail(internal::FromException(), out);
    }
  }

  static int32_t ScanOpen(FaConnectorInstance* inst, const FaCallContext* context,
                          const uint8_t* req, size_t size, FaScanCursor** out, FaBuffer* error) {
    try {
      cv1::ScanRequest request;
      Status s = internal::ParseRequest(&request, req, size);
      if (!s.ok()) return internal::Fail(s, error);
      CallContext ctx(context);
      auto cursor = reinterpret_cast<Connector*>(inst)->Scan(request, ctx);
      if (!cursor.ok()) return internal::Fail(cursor.status(), error);
      *out = reinterpret_cast<FaScanCursor*>(new internal::Cursor{std::move(cursor).value()});
      return FA_OK;
    } catch (...) {
      return internal::Fail(internal::FromException(), error);
    }
  }

  static int32_t ScanNext(FaScanCursor* cursor, const FaCallContext* context, FaBuffer* batch,
                          int32_t* end_of_scan) {
    try {
      CallContext ctx(context);
      auto wire = std::make_unique<std::string>();
      bool end = false;
      Status s = reinterpret_cast<internal::Cursor*>(cursor)->impl->NextEncoded(wire.get(), &end, ctx);
      if (!s.ok()) return internal::Fail(s, batch);
      *end_of_scan = end ? 1 : 0;
      if (end) return FA_OK;
      internal::StringToBuffer(std::move(wire), batch);
      return FA_OK;
    } catch (...) {
      return internal::Fail(internal::FromException(), batch);
    }
  }

  static void ScanClose(FaScanCursor* cursor) {
    try {
      delete reinterpret_cast<internal::Cursor*>(cursor);
    } catch (...) {
    }
  }

  /// Fills the table for ABI version 1.
  static int32_t Init(uint32_t host_abi, void* table, size_t table_size, const char* name,
                      const char* version) {
    if (host_abi != FACHADAPTER_CONNECTOR_ABI_VERSION || table == nullptr ||
        table_size < sizeof(FaConnectorV1)) {
      return FA_ABI_UNSUPPORTED;
    }
    FaConnectorV1 t{};
    t.struct_size = sizeof(FaConnectorV1);
    t.abi_version = FACHADAPTER_CONNECTOR_ABI_VERSION;
    t.name = name;
    t.version = version;
    t.open = &Open;
    t.close = &Close;
    t.call = &Call;
    t.scan_open = &ScanOpen;
    t.scan_next = &ScanNext;
    t.scan_close = &ScanClose;
    std::memcpy(table, &t, sizeof t);
    return FA_OK;
  }
};

}  // namespace fachadapter::sdk

#ifdef FACHADAPTER_CONNECTOR_PLUGIN
/// Defines the plugin entry points (only in the plugin build of a connector).
#define FACHADAPTER_CONNECTOR_PLUGIN_ENTRY_(id)                                              \
  extern "C" FACHADAPTER_CONNECTOR_EXPORT const uint32_t fachadapter_connector_abi_version = \
      FACHADAPTER_CONNECTOR_ABI_VERSION;                                                     \
  extern "C" FACHADAPTER_CONNECTOR_EXPORT int32_t fachadapter_connector_init(                \
      uint32_t host_abi, void* table, size_t table_size) {                                   \
    return fachadapter_connector_init_##id(host_abi, table, table_size);                     \
  }
#else
#define FACHADAPTER_CONNECTOR_PLUGIN_ENTRY_(id)
#endif

/// Declares connector class `cls` under type name `name` (a string literal, used in configs
/// as `connector: name`) with version string `version`. `id` is a C identifier, unique among
/// the connectors linked into one program.
#define FACHADAPTER_CONNECTOR(id, name, version, cls)                                     \
  extern "C" FACHADAPTER_CONNECTOR_EXPORT int32_t fachadapter_connector_init_##id(        \
      uint32_t host_abi, void* table, size_t table_size) {                                \
    return ::fachadapter::sdk::Glue<cls>::Init(host_abi, table, table_size, name, version); \
  }                                                                                       \
  FACHADAPTER_CONNECTOR_PLUGIN_ENTRY_(id)

#endif  // FACHADAPTER_CONNECTOR_SDK_H_
