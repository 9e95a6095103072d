#include "errors.h"

#include <string_view>

#include "fachadapter/status.h"
#include "fachadapter/v1/error.pb.h"

namespace fachadapter::cli {
namespace {

constexpr std::string_view kErrorInfoType = "type.googleapis.com/google.rpc.ErrorInfo";

std::string TrailerValue(const Trailers& trailers, std::string_view key) {
  auto it = trailers.find(grpc::string_ref(key.data(), key.size()));
  if (it == trailers.end()) return {};
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

ExitCode ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return kExitOk;
    case grpc::StatusCode::NOT_FOUND: return kExitNotFound;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::OUT_OF_RANGE: return kExitInvalid;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::CANCELLED: return kExitUnavailable;
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED: return kExitDenied;
    default: return kExitError;
  }
}

const char* GrpcCodeName(grpc::StatusCode code) {
  // Same numbering as fachadapter::StatusCode, which has the names.
  return StatusCodeName(static_cast<StatusCode>(static_cast<int>(code)));
}

RpcError DecodeRpcError(const grpc::Status& status, const Trailers& trailers) {
  RpcError e;
  e.code = status.error_code();
  e.message = status.error_message();
  if (!status.error_details().empty()) {
    v1::RpcStatus rich;
    if (rich.ParseFromString(status.error_details())) {
      if (e.message.empty()) e.message = rich.message();
      for (const auto& any : rich.details()) {
        if (any.type_url() != kErrorInfoType) continue;
        v1::ErrorInfo info;
        if (!info.ParseFromString(any.value())) continue;
        e.reason = info.reason();
        auto field = info.metadata().find("field");
        if (field != info.metadata().end()) e.field = field->second;
        break;
      }
    }
  }
  if (e.reason.empty()) e.reason = TrailerValue(trailers, "fachadapter-reason");
  if (e.field.empty()) e.field = TrailerValue(trailers, "fachadapter-field");
  // fachadapterd always names a reason; a bare UNAVAILABLE comes from the channel, which
  // could not reach it.
  e.unreachable = e.reason.empty() && e.code == grpc::StatusCode::UNAVAILABLE;
  return e;
}

std::string FormatRpcError(const RpcError& error, const std::string& target) {
  std::string out;
  std::string message = error.message.empty() ? "no message" : error.message;
  if (error.unreachable) {
    return "cannot reach fachadapterd at " + target + ": " + message + " (" +
           GrpcCodeName(error.code) + ")";
  }
  if (error.code == grpc::StatusCode::DEADLINE_EXCEEDED && error.reason.empty()) {
    return "no complete answer from fachadapterd at " + target +
           " within the time limit; raise --timeout (0 means none): " + message + " (" +
           GrpcCodeName(error.code) + ")";
  }
  out = message + " (" + GrpcCodeName(error.code);
  if (!error.reason.empty()) out += ", reason " + error.reason;
  if (!error.field.empty()) out += ", field " + error.field;
  out += ")";
  return out;
}

}  // namespace fachadapter::cli
