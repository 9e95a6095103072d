// The one place where Status becomes grpc::Status and where gRPC contexts become CallOptions
// (after Arrow Flight's transport layer). With a security::Guard every call goes the same way:
// identify the caller, admit it under its limits, authorize it (which yields its row and field
// restrictions for the engine), run it, and write the audit record before the answer leaves.
#include <google/protobuf/any.pb.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "fachadapter/security/guard.h"
#include "fachadapter/server.h"
#include "fachadapter/v1/error.pb.h"
#include "fachadapter/values.h"

namespace fachadapter {

namespace {

using std::chrono::milliseconds;

// Per-call state of the guard.
struct Call {
  std::string request_id;
  std::string peer;  // the client's address, on record when it could not be identified
  security::Caller caller;
  security::Grant grant;
  security::CallLimiter::Slot slot;
  CallOptions options;
  milliseconds retry_after{0};
  bool audited = false;
  bool limited = false;  // refused by the limiter: not audited, so a flood cannot fill the disk
  std::function<void()> forget;  // ends the deadline watch
  ~Call() {
    if (forget) forget();
  }
};

std::string RequestId(const grpc::ServerContext& ctx) {
  auto it = ctx.client_metadata().find("x-request-id");
  if (it != ctx.client_metadata().end() && it->second.size() > 0 && it->second.size() <= 64) {
    std::string id(it->second.data(), it->second.size());
    bool ok = true;
    for (char c : id) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
    if (ok) return id;
  }
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return "";
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char c : raw) {
    id += kHex[c >> 4];
    id += kHex[c & 15];
  }
  return id;
}

CallOptions OptionsOf(grpc::ServerContext* ctx, const security::Guard* guard) {
  CallOptions o;
  auto d = ctx->deadline();
  if (d != std::chrono::system_clock::time_point::max()) {
    o.deadline = d;
  } else if (guard) {
    o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(guard->limits().default_deadline_seconds);
  }
  const auto deadline = o.deadline;
  // ServerContext::IsCancelled polls a completion queue; asked before every statement and
  // batch, that was a twentieth of a point read's time. gRPC is asked at most every 2 ms, the
  // first time 2 ms into the call (a short call never asks), so a cancelled call stops at most
  // that much later. The deadline is checked every time. Connectors may ask from the fetch
  // thread while the call's thread asks too, hence atomics.
  struct Poll {
    std::atomic<int64_t> next_ns;
    std::atomic<bool> cancelled{false};
  };
  constexpr int64_t kPollEveryNs = 2'000'000;
  auto steady_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  auto poll = std::make_shared<Poll>();
  poll->next_ns = steady_ns() + kPollEveryNs;
  o.is_cancelled = [ctx, deadline, poll, steady_ns] {
    if (poll->cancelled.load(std::memory_order_relaxed) || std::chrono::system_clock::now() > deadline) return true;
    const int64_t now = steady_ns();
    int64_t next = poll->next_ns.load(std::memory_order_relaxed);
    if (now < next || !poll->next_ns.compare_exchange_strong(next, now + kPollEveryNs)) return false;
    const bool gone = ctx->IsCancelled();
    if (gone) poll->cancelled.store(true, std::memory_order_relaxed);
    return gone;
  };
  return o;
}

// Identifies, admits and authorizes the call.
Status Begin(grpc::ServerContext* ctx, const security::Guard* guard, const char* op,
             const std::string& entity, Call* call) {
  call->request_id = RequestId(*ctx);
  if (!call->request_id.empty()) ctx->AddInitialMetadata("x-request-id", call->request_id);
  call->options = OptionsOf(ctx, guard);
  if (!guard) return Status::OK();
  call->audited = !entity.empty() && guard->Audited(entity);
  call->peer = ctx->peer();
  auto caller = guard->authenticator().Authenticate(*ctx);
  // Unidentified callers share limits per peer address, identified ones per principal.
  std::string key = caller.ok() && caller->authenticated ? "principal:" + caller->principal : "peer:" + call->peer;
  if (!caller.ok()) {
    size_t colon = key.rfind(':');
    if (colon > 5) key.resize(colon);  // all connections of one host share the bucket
  }
  Status admitted = guard->limiter().Admit(key, &call->slot, &call->retry_after);
  if (!admitted.ok()) {
    call->limited = true;
    return admitted;
  }
  if (!caller.ok()) return caller.status();
  call->caller = std::move(caller).value();
  if (entity.empty()) return Status::OK();  // ListEntities filters per entity itself
  FA_ASSIGN_OR_RETURN(call->grant, guard->policy()->Authorize(call->caller, op, entity));
  if (!call->grant.unrestricted) call->options.restrictions = &call->grant.restrictions;
  return Status::OK();
}

security::AuditRecord RecordOf(const Call& call, const char* op, const std::string& entity, const Status& s) {
  security::AuditRecord r;
  r.request_id = call.request_id;
  r.principal = call.caller.principal;
  r.auth = call.caller.method.empty() ? "none" : call.caller.method;
  if (!call.caller.authenticated) r.peer = call.peer;
  // A service forwarding a clerk's token: both are on record.
  if (call.caller.method == "jwt") r.client_certificate = call.caller.certificate_principal;
  r.operation = op;
  r.entity = entity;
  r.rule = call.grant.rule;
  r.outcome = s.ok() ? "OK" : StatusCodeName(s.code());
  r.reason = s.ok() ? "" : s.reason();
  return r;
}

std::string KeysJson(const google::protobuf::RepeatedPtrField<v1::Value>& values) {
  std::string out = "[";
  for (int i = 0; i < values.size(); ++i) out += (i ? "," : "") + security::JsonQuote(ValueToString(values[i]));
  return out + "]";
}

// Personal-data fields among `names` whose values the caller saw (masked ones disclose nothing).
std::vector<std::string> Disclosed(const security::Guard* guard, const Call& call, const std::string& entity,
                                   const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::vector<std::string> out;
  const auto policy = guard->policy();
  const auto& personal = policy->PersonalFields(entity);
  for (const auto& n : names) {
    if (personal.count(n) && !call.grant.restrictions.masked_fields.count(n)) out.push_back(n);
  }
  return out;
}

// Writes the record; if that fails the call fails (fail closed) and `clear` drops the answer.
Status AuditOrFail(const security::Guard* guard, const security::AuditRecord& record, Status s,
                   const std::function<void()>& clear) {
  Status a = guard->Audit(record);
  if (a.ok()) return s;
  clear();
  return a;
}

// A write is audited before it reaches the back end (phase "start", with the personal-data
// fields it writes) and after (phase "end"), so no change can happen unaudited.
Status WriteIntent(const security::Guard* guard, const Call& call, const char* op, const std::string& entity,
                   const std::string& keys_json, const google::protobuf::Map<std::string, v1::Value>& values,
                   bool* written) {
  if (!call.audited) return Status::OK();
  auto rec = RecordOf(call, op, entity, Status::OK());
  rec.phase = "start";
  rec.outcome = "STARTED";
  rec.keys_json = keys_json;
  const auto policy = guard->policy();
  const auto& personal = policy->PersonalFields(entity);
  for (const auto& [name, v] : values) {
    if (personal.count(name)) rec.personal_fields.push_back(name);
  }
  std::sort(rec.personal_fields.begin(), rec.personal_fields.end());
  Status s = guard->Audit(rec);
  *written = s.ok();
  return s;
}

grpc::Status Finish(const Status& s, grpc::ServerContext* ctx, milliseconds retry_after = milliseconds(0)) {
  if (s.ok()) return grpc::Status::OK;
  AddErrorTrailers(s, ctx);
  grpc::Status g = ToGrpcStatus(s);
  if (retry_after.count() <= 0) return g;
  // google.rpc.RetryInfo { Duration retry_delay = 1; }, appended to the rich status details.
  ctx->AddTrailingMetadata("retry-after-ms", std::to_string(retry_after.count()));
  v1::RpcStatus rpc;
  rpc.ParseFromString(g.error_details());
  google::protobuf::Duration delay;
  delay.set_seconds(retry_after.count() / 1000);
  delay.set_nanos(static_cast<int32_t>(retry_after.count() % 1000) * 1000000);
  std::string d = delay.SerializeAsString();
  std::string info;
  info.push_back(0x0A);
  info.push_back(static_cast<char>(d.size()));
  info += d;
  auto* any = rpc.add_details();
  any->set_type_url("type.googleapis.com/google.rpc.RetryInfo");
  any->set_value(info);
  return grpc::Status(g.error_code(), g.error_message(), rpc.SerializeAsString());
}

}  // namespace

grpc::Status ToGrpcStatus(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  v1::ErrorInfo info;
  info.set_reason(s.reason().empty() ? StatusCodeName(s.code()) : s.reason());
  info.set_domain("fachadapter.de");
  if (!s.field().empty()) (*info.mutable_metadata())["field"] = s.field();
  v1::RpcStatus rpc;
  rpc.set_code(static_cast<int>(s.code()));
  rpc.set_message(s.message());
  auto* any = rpc.add_details();
  any->set_type_url("type.googleapis.com/google.rpc.ErrorInfo");
  any->set_value(info.SerializeAsString());
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message(), rpc.SerializeAsString());
}

void AddErrorTrailers(const Status& s, grpc::ServerContext* ctx) {
  if (s.ok()) return;
  ctx->AddTrailingMetadata("fachadapter-reason", s.reason().empty() ? StatusCodeName(s.code()) : s.reason());
  if (!s.field().empty()) ctx->AddTrailingMetadata("fachadapter-field", s.field());
}

// Calls without a client deadline get the cap as their deadline. The engine checks it between
// batches, but a call blocked in ServerWriter::Write by a client that stopped reading would
// never get there, so this thread cancels such calls through gRPC when the cap has passed.
class AdapterService::DeadlineReaper {
 public:
  DeadlineReaper() : thread_([this] { Loop(); }) {}
  ~DeadlineReaper() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Watches `ctx` until Forget(id); returns the id.
  uint64_t Watch(grpc::ServerContext* ctx, std::chrono::system_clock::time_point deadline) {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t id = ++next_id_;
    calls_.emplace(std::make_pair(deadline, id), ctx);
    ids_[id] = deadline;
    cv_.notify_all();
    return id;
  }
  void Forget(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ids_.find(id);
    if (it == ids_.end()) return;
    calls_.erase(std::make_pair(it->second, id));
    ids_.erase(it);
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (calls_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto first = calls_.begin();
      // A copy: Forget may erase the entry while this thread waits.
      const auto due = first->first.first;
      if (std::chrono::system_clock::now() < due) {
        cv_.wait_until(lock, due);
        continue;
      }
      // Still registered, so the call is still running: cancel it (safe from any thread).
      first->second->TryCancel();
      ids_.erase(first->first.second);
      calls_.erase(first);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t next_id_ = 0;
  std::map<std::pair<std::chrono::system_clock::time_point, uint64_t>, grpc::ServerContext*> calls_;
  std::map<uint64_t, std::chrono::system_clock::time_point> ids_;
  std::thread thread_;
};

AdapterService::AdapterService(const Engine* engine, const security::Guard* guard)
    : engine_(engine), guard_(guard), reaper_(guard ? std::make_unique<DeadlineReaper>() : nullptr) {}

AdapterService::~AdapterService() = default;

std::function<void()> AdapterService::WatchDeadline(grpc::ServerContext* ctx,
                                                    std::chrono::system_clock::time_point deadline) {
  if (!reaper_ || ctx->deadline() != std::chrono::system_clock::time_point::max() ||
      deadline == std::chrono::system_clock::time_point::max()) {
    return {};
  }
  const uint64_t id = reaper_->Watch(ctx, deadline);
  return [r = reaper_.get(), id] { r->Forget(id); };
}

namespace {

// Removes what the caller may not see from a schema.
void RestrictSchema(const Restrictions& r, v1::EntitySchema* schema) {
  auto* fields = schema->mutable_fields();
  for (int i = fields->size() - 1; i >= 0; --i) {
    if (r.hidden_fields.count(fields->Get(i).name())) fields->DeleteSubrange(i, 1);
  }
}

}  // namespace

grpc::Status AdapterService::ListEntities(grpc::ServerContext* ctx, const v1::ListEntitiesRequest*,
                                          v1::ListEntitiesResponse* resp) {
  Call call;
  Status s = Begin(ctx, guard_, "describe", "", &call);
  if (s.ok() || !guard_) s = engine_->ListEntities(resp);
  if (s.ok() && guard_) {
    // Only entities the caller may describe, with only the fields it may see.
    v1::ListEntitiesResponse all;
    all.Swap(resp);
    for (auto& e : *all.mutable_entities()) {
      auto g = guard_->policy()->Authorize(call.caller, "describe", e.name());
      if (!g.ok()) continue;
      if (!g->unrestricted) RestrictSchema(g->restrictions, &e);
      *resp->add_entities() = std::move(e);
    }
  }
  return Finish(s, ctx, call.retry_after);
}

grpc::Status AdapterService::DescribeEntity(grpc::ServerContext* ctx, const v1::DescribeEntityRequest* req,
                                            v1::EntitySchema* resp) {
  Call call;
  Status s = Begin(ctx, guard_, "describe", req->entity(), &call);
  if (s.ok()) s = engine_->DescribeEntity(*req, resp);
  if (s.ok() && call.options.restrictions) RestrictSchema(*call.options.restrictions, resp);
  return Finish(s, ctx, call.retry_after);
}

grpc::Status AdapterService::Get(grpc::ServerContext* ctx, const v1::GetRequest* req, v1::GetResponse* resp) {
  Call call;
  Status s = Begin(ctx, guard_, "get", req->entity(), &call);
  call.forget = WatchDeadline(ctx, call.options.deadline);
  if (s.ok()) s = engine_->Get(*req, resp, call.options);
  if (call.audited && !call.limited) {
    auto rec = RecordOf(call, "get", req->entity(), s);
    rec.keys_json = KeysJson(req->key().values());
    rec.records = s.ok() ? 1 : 0;
    if (s.ok()) rec.personal_fields = Disclosed(guard_, call, req->entity(), resp->fields());
    s = AuditOrFail(guard_, rec, s, [&] { resp->Clear(); });
  }
  return Finish(s, ctx, call.retry_after);
}

grpc::Status AdapterService::Query(grpc::ServerContext* ctx, const v1::QueryRequest* req,
                                   grpc::ServerWriter<v1::QueryResponse>* writer) {
  Call call;
  Status s = Begin(ctx, guard_, "query", req->entity(), &call);
  call.forget = WatchDeadline(ctx, call.options.deadline);
  // "Before the answer leaves" for a stream: a start record (who, filter, which personal
  // fields) is durable before the first message is written; an end record follows with the
  // count and the outcome. If the start record cannot be written, nothing is sent.
  bool started = false;
  int64_t count = 0;
  Status audit_failure;
  auto base = [&](const Status& st) {
    auto rec = RecordOf(call, "query", req->entity(), st);
    if (req->has_filter()) {
      std::string json;
      if (google::protobuf::util::MessageToJsonString(req->filter(), &json).ok()) rec.filter_json = json;
    }
    return rec;
  };
  std::vector<std::string> disclosed;
  if (s.ok()) {
    // Write blocks while the client's flow-control window is full, which stalls the scan loop
    // and so the fetch from the back end: back-pressure without an unbounded queue.
    s = engine_->QueryEncoded(*req, [&](v1::QueryResponse& msg, int64_t records) {
          if (!started) {
            started = true;
            if (call.audited) {
              disclosed = Disclosed(guard_, call, req->entity(), msg.fields());
              auto rec = base(Status::OK());
              rec.phase = "start";
              rec.outcome = "STARTED";
              rec.personal_fields = disclosed;
              audit_failure = guard_->Audit(rec);
              if (!audit_failure.ok()) return false;
            }
          }
          count += records;
          return writer->Write(msg);
        }, call.options);
    if (!audit_failure.ok()) s = audit_failure;
    if (s.code() == StatusCode::kCancelled && !ctx->IsCancelled() &&
        std::chrono::system_clock::now() > call.options.deadline) {
      s = Status(StatusCode::kDeadlineExceeded, "the call's deadline passed", "DEADLINE_EXCEEDED");
    }
  }
  if (call.audited && !call.limited && audit_failure.ok()) {
    auto rec = base(s);
    rec.records = count;
    rec.personal_fields = disclosed;
    if (started) rec.phase = "end";
    s = AuditOrFail(guard_, rec, s, [] {});
  }
  return Finish(s, ctx, call.retry_after);
}

grpc::Status AdapterService::Create(grpc::ServerContext* ctx, const v1::CreateRequest* req,
                                    v1::CreateResponse* resp) {
  Call call;
  Status s = Begin(ctx, guard_, "create", req->entity(), &call);
  call.forget = WatchDeadline(ctx, call.options.deadline);
  bool intent = false;
  if (s.ok()) s = WriteIntent(guard_, call, "create", req->entity(), "", req->values(), &intent);
  if (s.ok()) s = engine_->Create(*req, resp, call.options);
  if (call.audited && !call.limited) {
    auto rec = RecordOf(call, "create", req->entity(), s);
    if (intent) rec.phase = "end";
    rec.records = s.ok() ? 1 : 0;
    if (s.ok()) {
      v1::DescribeEntityRequest dreq;
      dreq.set_entity(req->entity());
      v1::EntitySchema schema;
      if (engine_->DescribeEntity(dreq, &schema).ok()) {
        google::protobuf::RepeatedPtrField<v1::Value> key;
        for (const auto& k : schema.key_fields()) {
          for (int i = 0; i < resp->fields_size(); ++i) {
            if (resp->fields(i) == k && i < resp->record().values_size()) *key.Add() = resp->record().values(i);
          }
        }
        rec.keys_json = KeysJson(key);
      }
      rec.personal_fields = Disclosed(guard_, call, req->entity(), resp->fields());
    }
    s = AuditOrFail(guard_, rec, s, [&] { resp->Clear(); });
  }
  return Finish(s, ctx, call.retry_after);
}

grpc::Status AdapterService::Update(grpc::ServerContext* ctx, const v1::UpdateRequest* req,
                                    v1::UpdateResponse* resp) {
  Call call;
  Status s = Begin(ctx, guard_, "update", req->entity(), &call);
  call.forget = WatchDeadline(ctx, call.options.deadline);
  bool intent = false;
  if (s.ok()) s = WriteIntent(guard_, call, "update", req->entity(), KeysJson(req->key().values()), req->values(), &intent);
  if (s.ok()) s = engine_->Update(*req, resp, call.options);
  if (call.audited && !call.limited) {
    auto rec = RecordOf(call, "update", req->entity(), s);
    if (intent) rec.phase = "end";
    rec.keys_json = KeysJson(req->key().values());
    rec.records = s.ok() ? 1 : 0;
    if (s.ok()) rec.personal_fields = Disclosed(guard_, call, req->entity(), resp->fields());
    s = AuditOrFail(guard_, rec, s, [&] { resp->Clear(); });
  }
  return Finish(s, ctx, call.retry_after);
}

grpc::Status AdapterService::Delete(grpc::ServerContext* ctx, const v1::DeleteRequest* req,
                                    v1::DeleteResponse* resp) {
  Call call;
  Status s = Begin(ctx, guard_, "delete", req->entity(), &call);
  call.forget = WatchDeadline(ctx, call.options.deadline);
  bool intent = false;
  if (s.ok()) {
    s = WriteIntent(guard_, call, "delete", req->entity(), KeysJson(req->key().values()),
                    google::protobuf::Map<std::string, v1::Value>(), &intent);
  }
  if (s.ok()) s = engine_->Delete(*req, resp, call.options);
  if (call.audited && !call.limited) {
    auto rec = RecordOf(call, "delete", req->entity(), s);
    if (intent) rec.phase = "end";
    rec.keys_json = KeysJson(req->key().values());
    rec.records = s.ok() ? 1 : 0;
    s = AuditOrFail(guard_, rec, s, [&] { resp->Clear(); });
  }
  return Finish(s, ctx, call.retry_after);
}

}  // namespace fachadapter
