// Errors: exit codes by gRPC code, and reason/field from rich status details or trailers.
#include "errors.h"

#include <gtest/gtest.h>

#include <string>

#include "fachadapter/v1/error.pb.h"

namespace fachadapter::cli {
namespace {

TEST(ExitCodes, EveryGrpcCodeHasItsExitCode) {
  using C = grpc::StatusCode;
  EXPECT_EQ(ExitCodeFor(C::OK), 0);
  EXPECT_EQ(ExitCodeFor(C::NOT_FOUND), 3);
  EXPECT_EQ(ExitCodeFor(C::INVALID_ARGUMENT), 4);
  EXPECT_EQ(ExitCodeFor(C::FAILED_PRECONDITION), 4);
  EXPECT_EQ(ExitCodeFor(C::ABORTED), 4);
  EXPECT_EQ(ExitCodeFor(C::ALREADY_EXISTS), 4);
  EXPECT_EQ(ExitCodeFor(C::OUT_OF_RANGE), 4);
  EXPECT_EQ(ExitCodeFor(C::UNAVAILABLE), 5);
  EXPECT_EQ(ExitCodeFor(C::DEADLINE_EXCEEDED), 5);
  EXPECT_EQ(ExitCodeFor(C::RESOURCE_EXHAUSTED), 5);
  EXPECT_EQ(ExitCodeFor(C::CANCELLED), 5);
  EXPECT_EQ(ExitCodeFor(C::PERMISSION_DENIED), 6);
  EXPECT_EQ(ExitCodeFor(C::UNAUTHENTICATED), 6);
  EXPECT_EQ(ExitCodeFor(C::INTERNAL), 1);
  EXPECT_EQ(ExitCodeFor(C::UNKNOWN), 1);
  EXPECT_EQ(ExitCodeFor(C::UNIMPLEMENTED), 1);
  EXPECT_EQ(ExitCodeFor(C::DATA_LOSS), 1);
  // Usage errors have their own code that no gRPC code maps to.
  for (int c = 0; c <= 16; ++c) EXPECT_NE(ExitCodeFor(static_cast<C>(c)), kExitUsage) << c;
}

TEST(ExitCodes, Names) {
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::NOT_FOUND), "NOT_FOUND");
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
}

// The trailer grpc-status-details-bin as fachadapterd sends it.
std::string RichDetails(const std::string& reason, const std::string& field,
                        const std::string& type_url = "type.googleapis.com/google.rpc.ErrorInfo") {
  v1::ErrorInfo info;
  info.set_reason(reason);
  info.set_domain("fachadapter.de");
  if (!field.empty()) (*info.mutable_metadata())["field"] = field;
  v1::RpcStatus status;
  status.set_code(3);
  status.set_message("from details");
  google::protobuf::Any* any = status.add_details();
  any->set_type_url(type_url);
  any->set_value(info.SerializeAsString());
  return status.SerializeAsString();
}

TEST(DecodeRpcError, ReadsErrorInfoFromStatusDetails) {
  grpc::Status s(grpc::StatusCode::INVALID_ARGUMENT, "'abc' is not an int64",
                 RichDetails("TYPE_MISMATCH", "betriebsnummer"));
  RpcError e = DecodeRpcError(s, {});
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.reason, "TYPE_MISMATCH");
  EXPECT_EQ(e.field, "betriebsnummer");
  EXPECT_FALSE(e.unreachable);
  EXPECT_EQ(FormatRpcError(e, "127.0.0.1:50051"),
            "'abc' is not an int64 (INVALID_ARGUMENT, reason TYPE_MISMATCH, field betriebsnummer)");
}

TEST(DecodeRpcError, FallsBackToTrailers) {
  std::string reason_key = "fachadapter-reason", reason = "ETAG_MISMATCH";
  std::string field_key = "fachadapter-field", field = "name";
  Trailers trailers;
  trailers.emplace(grpc::string_ref(reason_key), grpc::string_ref(reason));
  trailers.emplace(grpc::string_ref(field_key), grpc::string_ref(field));
  grpc::Status s(grpc::StatusCode::ABORTED, "the record changed");
  RpcError e = DecodeRpcError(s, trailers);
  EXPECT_EQ(e.reason, "ETAG_MISMATCH");
  EXPECT_EQ(e.field, "name");
  EXPECT_EQ(FormatRpcError(e, "x"), "the record changed (ABORTED, reason ETAG_MISMATCH, field name)");
  EXPECT_EQ(ExitCodeFor(e.code), kExitInvalid);
}

TEST(DecodeRpcError, IgnoresOtherDetailsAndGarbage) {
  grpc::Status other(grpc::StatusCode::NOT_FOUND, "no such record",
                     RichDetails("X", "y", "type.googleapis.com/google.rpc.DebugInfo"));
  RpcError e = DecodeRpcError(other, {});
  EXPECT_EQ(e.reason, "");
  EXPECT_EQ(FormatRpcError(e, "x"), "no such record (NOT_FOUND)");

  grpc::Status garbage(grpc::StatusCode::INTERNAL, "boom", std::string("\xff\xff\xff", 3));
  e = DecodeRpcError(garbage, {});
  EXPECT_EQ(FormatRpcError(e, "x"), "boom (INTERNAL)");
}

TEST(DecodeRpcError, ReasonWithoutField) {
  grpc::Status s(grpc::StatusCode::NOT_FOUND, "entity Foo does not exist",
                 RichDetails("UNKNOWN_ENTITY", ""));
  EXPECT_EQ(FormatRpcError(DecodeRpcError(s, {}), "x"),
            "entity Foo does not exist (NOT_FOUND, reason UNKNOWN_ENTITY)");
}

TEST(DecodeRpcError, UnreachableServer) {
  grpc::Status s(grpc::StatusCode::UNAVAILABLE, "failed to connect to all addresses");
  RpcError e = DecodeRpcError(s, {});
  EXPECT_TRUE(e.unreachable);
  EXPECT_EQ(FormatRpcError(e, "10.0.0.1:50051"),
            "cannot reach fachadapterd at 10.0.0.1:50051: failed to connect to all addresses "
            "(UNAVAILABLE)");
  // An unavailable back end behind a reachable daemon names its reason.
  grpc::Status backend(grpc::StatusCode::UNAVAILABLE, "database is down",
                       RichDetails("BACKEND_UNAVAILABLE", ""));
  e = DecodeRpcError(backend, {});
  EXPECT_FALSE(e.unreachable);
  EXPECT_EQ(FormatRpcError(e, "x"), "database is down (UNAVAILABLE, reason BACKEND_UNAVAILABLE)");

  grpc::Status late(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded");
  std::string msg = FormatRpcError(DecodeRpcError(late, {}), "h:1");
  EXPECT_NE(msg.find("--timeout"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(DEADLINE_EXCEEDED)"), std::string::npos) << msg;
}

}  // namespace
}  // namespace fachadapter::cli
