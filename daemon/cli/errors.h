// Errors of the `fachadapter` CLI: what a failed call means, in plain words on stderr, and
// as an exit code a script can branch on.
#ifndef FACHADAPTER_DAEMON_CLI_ERRORS_H_
#define FACHADAPTER_DAEMON_CLI_ERRORS_H_

#include <map>
#include <string>

#include <grpcpp/support/status.h>
#include <grpcpp/support/string_ref.h>

namespace fachadapter::cli {

/// Exit codes of `fachadapter` (documented in docs/cli.md and `fachadapter --help`).
enum ExitCode : int {
  kExitOk = 0,           ///< Success.
  kExitError = 1,        ///< Any other error (INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS, ...).
  kExitUsage = 2,        ///< The command line is wrong: unknown option, missing argument, filter syntax.
  kExitNotFound = 3,     ///< NOT_FOUND: no such entity or record.
  kExitInvalid = 4,      ///< The request is wrong for the data: INVALID_ARGUMENT,
                         ///< FAILED_PRECONDITION, ABORTED (stale etag), ALREADY_EXISTS, OUT_OF_RANGE.
  kExitUnavailable = 5,  ///< Try again later: UNAVAILABLE, cannot connect, DEADLINE_EXCEEDED,
                         ///< RESOURCE_EXHAUSTED, CANCELLED.
  kExitDenied = 6,       ///< PERMISSION_DENIED or UNAUTHENTICATED.
};

/// The exit code for a gRPC status code (kExitOk for OK).
ExitCode ExitCodeFor(grpc::StatusCode code);

/// A failed call, decoded.
struct RpcError {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;  ///< gRPC code.
  std::string message;  ///< The server's message (or the channel's, if it never got there).
  std::string reason;   ///< Machine-readable reason (ErrorInfo.reason / fachadapter-reason).
  std::string field;    ///< Offending field (ErrorInfo.metadata["field"] / fachadapter-field).
  /// True if the call never reached fachadapterd: UNAVAILABLE with no reason from the server.
  bool unreachable = false;
};

/// Server trailing metadata, as grpc::ClientContext::GetServerTrailingMetadata returns it.
using Trailers = std::multimap<grpc::string_ref, grpc::string_ref>;

/// Decodes a failed status: reason and field from the google.rpc.ErrorInfo in
/// `status.error_details()` (grpc-status-details-bin), else from the trailers
/// `fachadapter-reason` and `fachadapter-field`.
RpcError DecodeRpcError(const grpc::Status& status, const Trailers& trailers);

/// "<message> (<CODE>, reason <REASON>, field <FIELD>)", leaving out the parts that are
/// empty; for an unreachable server "cannot reach fachadapterd at <target>: <message> (<CODE>)",
/// for a deadline the channel ran out of, advice to raise --timeout.
/// Without the "fachadapter: " prefix.
std::string FormatRpcError(const RpcError& error, const std::string& target);

/// Upper-case name of a gRPC code, e.g. "NOT_FOUND".
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace fachadapter::cli

#endif  // FACHADAPTER_DAEMON_CLI_ERRORS_H_
