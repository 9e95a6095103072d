// A small host for connector plugins in tests: loads a plugin with dlopen, checks its ABI
// symbol, fills the function table through the real entry point, and drives an instance with
// serialized protobuf messages, exactly as the core does across the C boundary.
#ifndef FACHADAPTER_TESTS_INTEGRATION_ODBC_PLUGIN_CLIENT_H_
#define FACHADAPTER_TESTS_INTEGRATION_ODBC_PLUGIN_CLIENT_H_

#include <dlfcn.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "fachadapter/connector/abi.h"
#include "fachadapter/connector/v1/connector.pb.h"

namespace fachadapter::testing {

namespace cv1 = ::fachadapter::connector::v1;

/// The outcome of one call across the boundary: the return code, and either the response or
/// the connector's Error.
template <typename Response>
struct Reply {
  int32_t code = -1;      ///< gRPC code returned by the connector.
  Response response;      ///< Valid if code == 0.
  cv1::Error error;       ///< Valid if code != 0.
  bool ok() const { return code == 0; }
};

/// A cancellation flag a test can raise, handed to the connector as FaCallContext.
class TestCallContext {
 public:
  TestCallContext() {
    ctx_.struct_size = sizeof(FaCallContext);
    ctx_.deadline_unix_nanos = 0;
    ctx_.host_data = this;
    ctx_.is_cancelled = [](void* self) -> int32_t {
      return static_cast<TestCallContext*>(self)->cancelled_.load() ? 1 : 0;
    };
  }
  /// Sets the call's absolute deadline (CLOCK_REALTIME nanoseconds; 0 = none).
  void set_deadline_unix_nanos(int64_t nanos) { ctx_.deadline_unix_nanos = nanos; }
  /// Makes is_cancelled answer true from now on.
  void Cancel() { cancelled_.store(true); }
  /// The C view.
  const FaCallContext* get() const { return &ctx_; }

 private:
  FaCallContext ctx_{};
  std::atomic<bool> cancelled_{false};
};

/// A loaded plugin.
class Plugin {
 public:
  /// Loads `path`; throws std::runtime_error with dlerror() on failure.
  explicit Plugin(const std::string& path) {
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    // RTLD_NODELETE keeps the code mapped after dlclose, so sanitizer reports at exit can
    // still name the plugin's functions.
    if (!handle_) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    abi_symbol_ = static_cast<const uint32_t*>(dlsym(handle_, FACHADAPTER_CONNECTOR_ABI_SYMBOL));
    init_ = reinterpret_cast<FaConnectorInitFn>(dlsym(handle_, FACHADAPTER_CONNECTOR_ENTRY));
    if (!abi_symbol_ || !init_) throw std::runtime_error("plugin lacks the connector entry points");
    if (init_(FACHADAPTER_CONNECTOR_ABI_VERSION, &table_, sizeof table_) != FA_OK) {
      throw std::runtime_error("plugin refused the host's ABI version");
    }
  }
  ~Plugin() {
    if (handle_) dlclose(handle_);
  }
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  /// The ABI version the plugin exports.
  uint32_t abi_version() const { return *abi_symbol_; }
  /// The entry point.
  FaConnectorInitFn init() const { return init_; }
  /// The filled table.
  const FaConnectorV1& table() const { return table_; }

 private:
  void* handle_ = nullptr;
  const uint32_t* abi_symbol_ = nullptr;
  FaConnectorInitFn init_ = nullptr;
  FaConnectorV1 table_{};
};

/// Takes ownership of a connector-filled buffer: copies it out and releases it.
inline std::string TakeBuffer(FaBuffer* b) {
  std::string out;
  if (b->data && b->size) out.assign(reinterpret_cast<const char*>(b->data), b->size);
  if (b->release) b->release(b);
  *b = FaBuffer{};
  return out;
}

/// Collects log lines the connector writes through the host table.
struct TestHost {
  TestHost() {
    api.struct_size = sizeof(FaHostApi);
    api.abi_version = FACHADAPTER_CONNECTOR_ABI_VERSION;
    api.host_data = this;
    api.log = [](void* self, int32_t, const char* m, size_t n) {
      auto* h = static_cast<TestHost*>(self);
      std::lock_guard lock(h->mu);
      h->lines.emplace_back(m, n);
    };
    api.counter_add = [](void* self, const char* name, size_t n, int64_t delta) {
      auto* h = static_cast<TestHost*>(self);
      std::lock_guard lock(h->mu);
      h->counters[std::string(name, n)] += delta;
    };
  }
  FaHostApi api{};
  std::mutex mu;
  std::vector<std::string> lines;
  std::map<std::string, int64_t> counters;
};

/// One open connector instance.
class Instance {
 public:
  /// Opens an instance with `settings` (source name "test").
  static Reply<std::unique_ptr<Instance>> Open(const Plugin& plugin,
                                               const google::protobuf::Struct& settings) {
    Reply<std::unique_ptr<Instance>> r;
    auto inst = std::unique_ptr<Instance>(new Instance(plugin));
    cv1::OpenRequest req;
    req.set_source_name("test");
    *req.mutable_settings() = settings;
    std::string bytes = req.SerializeAsString();
    FaBuffer err{};
    r.code = plugin.table().open(&inst->host_.api, reinterpret_cast<const uint8_t*>(bytes.data()),
                                 bytes.size(), &inst->instance_, &err);
    if (r.code != 0) {
      r.error.ParseFromString(TakeBuffer(&err));
      return r;
    }
    r.response = std::move(inst);
    return r;
  }
  ~Instance() {
    if (instance_) plugin_.table().close(instance_);
  }

  /// A unary call.
  template <typename Response, typename Request>
  Reply<Response> Call(FaMethod method, const Request& request, const TestCallContext* ctx = nullptr) {
    Reply<Response> r;
    std::string bytes = request.SerializeAsString();
    FaBuffer out{};
    r.code = plugin_.table().call(instance_, ctx ? ctx->get() : nullptr, method,
                                  reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out);
    std::string payload = TakeBuffer(&out);
    if (r.code == 0) {
      if (!r.response.ParseFromString(payload)) r.code = -2;
    } else {
      r.error.ParseFromString(payload);
    }
    return r;
  }

  Reply<cv1::DescribeResponse> Describe(const cv1::DescribeRequest& req) {
    return Call<cv1::DescribeResponse>(FA_METHOD_DESCRIBE, req);
  }
  Reply<cv1::InsertResponse> Insert(const cv1::InsertRequest& req) {
    return Call<cv1::InsertResponse>(FA_METHOD_INSERT, req);
  }
  Reply<cv1::UpdateResponse> Update(const cv1::UpdateRequest& req) {
    return Call<cv1::UpdateResponse>(FA_METHOD_UPDATE, req);
  }
  Reply<cv1::DeleteResponse> Delete(const cv1::DeleteRequest& req) {
    return Call<cv1::DeleteResponse>(FA_METHOD_DELETE, req);
  }
  Reply<cv1::HealthResponse> Health() { return Call<cv1::HealthResponse>(FA_METHOD_HEALTH, cv1::HealthRequest()); }

  /// The batches of a whole scan (at most `max_batches`), or the first error.
  struct ScanResult {
    int32_t code = -1;
    cv1::Error error;
    std::vector<cv1::ScanBatch> batches;
    std::vector<std::string> fields;       // from the first batch
    std::vector<v1::Record> records;       // all records in order
    bool ok() const { return code == 0; }
  };
  /// With `cancel_after_batches`, raises `ctx`'s cancellation flag after that many batches.
  ScanResult Scan(const cv1::ScanRequest& request, TestCallContext* ctx = nullptr,
                  size_t max_batches = 100000, size_t cancel_after_batches = SIZE_MAX) {
    ScanResult r;
    std::string bytes = request.SerializeAsString();
    FaScanCursor* cursor = nullptr;
    FaBuffer err{};
    r.code = plugin_.table().scan_open(instance_, ctx ? ctx->get() : nullptr,
                                       reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                       &cursor, &err);
    if (r.code != 0) {
      r.error.ParseFromString(TakeBuffer(&err));
      return r;
    }
    for (size_t i = 0; i < max_batches; ++i) {
      FaBuffer batch{};
      int32_t end = 0;
      int32_t code = plugin_.table().scan_next(cursor, ctx ? ctx->get() : nullptr, &batch, &end);
      std::string payload = TakeBuffer(&batch);
      if (code != 0) {
        r.code = code;
        r.error.ParseFromString(payload);
        break;
      }
      if (end) break;
      cv1::ScanBatch b;
      if (!b.ParseFromString(payload)) {
        r.code = -2;
        break;
      }
      if (r.batches.empty()) r.fields.assign(b.fields().begin(), b.fields().end());
      for (const auto& rec : b.batch().records()) r.records.push_back(rec);
      r.batches.push_back(std::move(b));
      if (ctx && r.batches.size() == cancel_after_batches) ctx->Cancel();
    }
    plugin_.table().scan_close(cursor);
    return r;
  }

  /// Streams a scan batch by batch into `on_batch` without keeping the records (for tests of
  /// memory use); returns the number of records, or the first error in `error`.
  template <typename OnBatch>
  int32_t ScanEach(const cv1::ScanRequest& request, OnBatch on_batch, cv1::Error* error,
                   size_t max_batches = 1000000) {
    std::string bytes = request.SerializeAsString();
    FaScanCursor* cursor = nullptr;
    FaBuffer err{};
    int32_t code = plugin_.table().scan_open(instance_, nullptr, reinterpret_cast<const uint8_t*>(bytes.data()),
                                             bytes.size(), &cursor, &err);
    if (code != 0) {
      error->ParseFromString(TakeBuffer(&err));
      return code;
    }
    for (size_t i = 0; i < max_batches; ++i) {
      FaBuffer batch{};
      int32_t end = 0;
      code = plugin_.table().scan_next(cursor, nullptr, &batch, &end);
      std::string payload = TakeBuffer(&batch);
      if (code != 0) {
        error->ParseFromString(payload);
        break;
      }
      if (end) break;
      cv1::ScanBatch b;
      if (!b.ParseFromString(payload)) {
        code = -2;
        break;
      }
      on_batch(b);
    }
    plugin_.table().scan_close(cursor);
    return code;
  }

  /// A scan cursor left open (holding whatever the connector keeps for it) until destroyed.
  class OpenCursor {
   public:
    OpenCursor(const Plugin& plugin, FaScanCursor* c) : plugin_(plugin), cursor_(c) {}
    ~OpenCursor() {
      if (cursor_) plugin_.table().scan_close(cursor_);
    }
    OpenCursor(const OpenCursor&) = delete;
    OpenCursor& operator=(const OpenCursor&) = delete;
    bool ok() const { return cursor_ != nullptr; }

   private:
    const Plugin& plugin_;
    FaScanCursor* cursor_;
  };
  /// Opens a scan and returns its cursor without reading it.
  std::unique_ptr<OpenCursor> StartScan(const cv1::ScanRequest& request) {
    std::string bytes = request.SerializeAsString();
    FaScanCursor* cursor = nullptr;
    FaBuffer err{};
    int32_t code = plugin_.table().scan_open(instance_, nullptr, reinterpret_cast<const uint8_t*>(bytes.data()),
                                             bytes.size(), &cursor, &err);
    TakeBuffer(&err);
    return std::make_unique<OpenCursor>(plugin_, code == 0 ? cursor : nullptr);
  }

  /// The sum of what the connector added to counter metric `name` so far.
  int64_t counter(const std::string& name) {
    std::lock_guard lock(host_.mu);
    auto it = host_.counters.find(name);
    return it == host_.counters.end() ? 0 : it->second;
  }

  /// Log lines written so far.
  std::vector<std::string> log() {
    std::lock_guard lock(host_.mu);
    return host_.lines;
  }

 private:
  explicit Instance(const Plugin& plugin) : plugin_(plugin) {}
  const Plugin& plugin_;
  TestHost host_;
  FaConnectorInstance* instance_ = nullptr;
};

}  // namespace fachadapter::testing

#endif  // FACHADAPTER_TESTS_INTEGRATION_ODBC_PLUGIN_CLIENT_H_
