#include "source_internal.h"

#include <cstdio>
#include <ctime>

namespace fachadapter {

namespace {

struct BufferGuard {
  FaBuffer buf{};
  ~BufferGuard() {
    if (buf.release) buf.release(&buf);
  }
};

int32_t IsCancelled(void* host_data) {
  const auto* o = static_cast<const CallOptions*>(host_data);
  if (o->is_cancelled && o->is_cancelled()) return 1;
  return std::chrono::system_clock::now() >= o->deadline ? 1 : 0;
}

FaCallContext MakeContext(const CallOptions& o) {
  FaCallContext ctx{};
  ctx.struct_size = sizeof ctx;
  if (o.deadline != std::chrono::system_clock::time_point::max()) {
    ctx.deadline_unix_nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  o.deadline.time_since_epoch()).count();
  }
  ctx.host_data = const_cast<CallOptions*>(&o);
  ctx.is_cancelled = &IsCancelled;
  return ctx;
}

void HostLog(void* host_data, int32_t level, const char* msg, size_t size) {
  const auto* src = static_cast<const Source*>(host_data);
  static const char* const kLevels[] = {"debug", "info", "warning", "error"};
  const char* lv = level >= 0 && level <= 3 ? kLevels[level] : "info";
  std::string line = src->Scrub(std::string(msg, size));
  std::fprintf(stderr, "fachadapterd: %s: source %s: %s\n", lv, src->name().c_str(), line.c_str());
}

void HostCounterAdd(void*, const char*, size_t, int64_t) {
  // Metrics export arrives with the observability work; counters are accepted and dropped
  // until then so connectors can already report them.
}

}  // namespace

Result<std::unique_ptr<Source>> Source::Open(const SourceConfig& cfg, const Config& config) {
  std::vector<std::string> path = config.connector_search_path;
  for (auto& p : DefaultConnectorSearchPath()) path.push_back(p);
  auto type = FindConnector(cfg.connector, path);
  if (!type.ok()) return type.status();
  std::unique_ptr<Source> src(new Source);
  src->cfg_ = cfg;
  src->type_ = *type;
  src->host_.struct_size = sizeof(FaHostApi);
  src->host_.abi_version = FACHADAPTER_CONNECTOR_ABI_VERSION;
  src->host_.host_data = src.get();
  src->host_.log = &HostLog;
  src->host_.counter_add = &HostCounterAdd;

  connector::v1::OpenRequest req;
  req.set_source_name(cfg.name);
  *req.mutable_settings() = cfg.settings;
  req.set_config_file(config.path);
  std::string bytes = req.SerializeAsString();
  BufferGuard err;
  int32_t rc = src->type_->table().open(&src->host_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                        bytes.size(), &src->instance_, &err.buf);
  if (rc != FA_OK) return src->FromBuffer(rc, &err.buf);
  return src;
}

Source::~Source() {
  if (instance_) type_->table().close(instance_);
}

std::string Source::Scrub(std::string text) const {
  for (const auto& secret : cfg_.secret_values) {
    if (secret.size() < 3) continue;  // too short to find without false hits; never logged anyway
    size_t pos;
    while ((pos = text.find(secret)) != std::string::npos) text.replace(pos, secret.size(), "***");
  }
  return text;
}

Status Source::FromBuffer(int32_t code, FaBuffer* buf) const {
  connector::v1::Error e;
  if (buf->data && buf->size > 0 && e.ParseFromArray(buf->data, static_cast<int>(buf->size))) {
    StatusCode c = e.code() > 0 && e.code() <= 16 ? static_cast<StatusCode>(e.code())
                                                  : StatusCode::kInternal;
    return Status(c, Scrub(e.message()), e.reason(), e.field());
  }
  StatusCode c = code > 0 && code <= 16 ? static_cast<StatusCode>(code) : StatusCode::kInternal;
  return Status(c, "connector " + type_->name() + " failed with code " + std::to_string(code) +
                       " and no message", "CONNECTOR_ERROR");
}

Status Source::Call(FaMethod method, const google::protobuf::MessageLite& request,
                    google::protobuf::MessageLite* response, const CallOptions& options) const {
  std::string bytes = request.SerializeAsString();
  FaCallContext ctx = MakeContext(options);
  BufferGuard out;
  int32_t rc = type_->table().call(instance_, &ctx, method,
                                   reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out.buf);
  if (rc != FA_OK) return FromBuffer(rc, &out.buf);
  if (out.buf.size > static_cast<size_t>(INT32_MAX) ||
      !response->ParseFromArray(out.buf.data, static_cast<int>(out.buf.size))) {
    return Internal("connector " + type_->name() + " sent a malformed " + response->GetTypeName());
  }
  return Status::OK();
}

Result<std::unique_ptr<Source::Cursor>> Source::Scan(const connector::v1::ScanRequest& request,
                                                      const CallOptions& options) const {
  std::string bytes = request.SerializeAsString();
  FaCallContext ctx = MakeContext(options);
  BufferGuard err;
  FaScanCursor* c = nullptr;
  int32_t rc = type_->table().scan_open(instance_, &ctx, reinterpret_cast<const uint8_t*>(bytes.data()),
                                        bytes.size(), &c, &err.buf);
  if (rc != FA_OK) return FromBuffer(rc, &err.buf);
  return std::unique_ptr<Cursor>(new Cursor(this, c, options));
}

Source::Cursor::~Cursor() {
  if (cursor_) src_->type_->table().scan_close(cursor_);
}

Source::EncodedBatch& Source::EncodedBatch::operator=(EncodedBatch&& o) noexcept {
  if (this != &o) {
    Release();
    buf_ = o.buf_;
    o.buf_ = FaBuffer{};
  }
  return *this;
}

void Source::EncodedBatch::Release() {
  if (buf_.release) buf_.release(&buf_);
  buf_ = FaBuffer{};
}

Status Source::Cursor::NextEncoded(EncodedBatch* batch, bool* end) {
  FaCallContext ctx = MakeContext(options_);
  batch->Release();
  int32_t eos = 0;
  int32_t rc = src_->type_->table().scan_next(cursor_, &ctx, &batch->buf_, &eos);
  if (rc != FA_OK) {
    Status s = src_->FromBuffer(rc, &batch->buf_);
    batch->Release();
    return s;
  }
  *end = eos != 0;
  if (!*end && batch->buf_.size > static_cast<size_t>(INT32_MAX)) return Malformed();
  return Status::OK();
}

Status Source::Cursor::ParseBatch(const EncodedBatch& encoded, connector::v1::ScanBatch* batch) const {
  std::string_view b = encoded.bytes();
  if (!batch->ParseFromArray(b.data(), static_cast<int>(b.size()))) return Malformed();
  return Status::OK();
}

Status Source::Cursor::Malformed() const {
  return Internal("connector " + src_->type_->name() + " sent a malformed ScanBatch");
}

Status Source::Cursor::Next(connector::v1::ScanBatch* batch, bool* end) {
  EncodedBatch encoded;
  FA_RETURN_IF_ERROR(NextEncoded(&encoded, end));
  if (*end) return Status::OK();
  return ParseBatch(encoded, batch);
}

}  // namespace fachadapter
