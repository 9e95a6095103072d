// The one place where Status becomes grpc::Status and where gRPC contexts become CallOptions
// (after Arrow Flight's transport layer).
#include <google/protobuf/any.pb.h>

#include "fachadapter/server.h"
#include "fachadapter/v1/error.pb.h"

namespace fachadapter {

namespace {

CallOptions OptionsOf(grpc::ServerContext* ctx) {
  CallOptions o;
  o.is_cancelled = [ctx] { return ctx->IsCancelled(); };
  auto d = ctx->deadline();
  if (d != std::chrono::system_clock::time_point::max()) o.deadline = d;
  return o;
}

grpc::Status Finish(const Status& s, grpc::ServerContext* ctx) {
  if (s.ok()) return grpc::Status::OK;
  AddErrorTrailers(s, ctx);
  return ToGrpcStatus(s);
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

AdapterService::AdapterService(const Engine* engine) : engine_(engine) {}

grpc::Status AdapterService::ListEntities(grpc::ServerContext* ctx, const v1::ListEntitiesRequest*,
                                          v1::ListEntitiesResponse* resp) {
  return Finish(engine_->ListEntities(resp), ctx);
}

grpc::Status AdapterService::DescribeEntity(grpc::ServerContext* ctx, const v1::DescribeEntityRequest* req,
                                            v1::EntitySchema* resp) {
  return Finish(engine_->DescribeEntity(*req, resp), ctx);
}

grpc::Status AdapterService::Get(grpc::ServerContext* ctx, const v1::GetRequest* req, v1::GetResponse* resp) {
  return Finish(engine_->Get(*req, resp, OptionsOf(ctx)), ctx);
}

grpc::Status AdapterService::Query(grpc::ServerContext* ctx, const v1::QueryRequest* req,
                                   grpc::ServerWriter<v1::QueryResponse>* writer) {
  // Write blocks while the client's flow-control window is full, which stalls the scan loop
  // and so the fetch from the back end: back-pressure without an unbounded queue.
  Status s = engine_->Query(*req, [&](v1::QueryResponse& msg) { return writer->Write(msg); },
                            OptionsOf(ctx));
  return Finish(s, ctx);
}

grpc::Status AdapterService::Create(grpc::ServerContext* ctx, const v1::CreateRequest* req,
                                    v1::CreateResponse* resp) {
  return Finish(engine_->Create(*req, resp, OptionsOf(ctx)), ctx);
}

grpc::Status AdapterService::Update(grpc::ServerContext* ctx, const v1::UpdateRequest* req,
                                    v1::UpdateResponse* resp) {
  return Finish(engine_->Update(*req, resp, OptionsOf(ctx)), ctx);
}

grpc::Status AdapterService::Delete(grpc::ServerContext* ctx, const v1::DeleteRequest* req,
                                    v1::DeleteResponse* resp) {
  return Finish(engine_->Delete(*req, resp, OptionsOf(ctx)), ctx);
}

}  // namespace fachadapter
