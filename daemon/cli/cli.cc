#include "cli.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "command_line.h"
#include "errors.h"
#include "fachadapter/values.h"
#include "fachadapter/v1/adapter.grpc.pb.h"
#include "filter_parser.h"
#include "output.h"
#include "value_text.h"

#ifndef FACHADAPTER_VERSION
#define FACHADAPTER_VERSION "unknown"
#endif

namespace fachadapter::cli {
namespace {


// Largest response message the CLI accepts. The server bounds its batches; this only keeps
// a misbehaving peer from making the client allocate without limit.
constexpr int kMaxReceiveMessageBytes = 64 * 1024 * 1024;

std::string Capabilities(const v1::Capabilities& c) {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ',';
    s += name;
  };
  add(c.get(), "get");
  add(c.query(), "query");
  add(c.create(), "create");
  add(c.update(), "update");
  add(c.delete_(), "delete");
  return s;
}

v1::Value Text(std::string s) {
  v1::Value v;
  v.set_string_value(std::move(s));
  return v;
}

v1::Value Bool(bool b) {
  v1::Value v;
  v.set_bool_value(b);
  return v;
}

// One run of a command against one fachadapterd: the channel, the deadline, and the
// printing of errors.
class Session {
 public:
  Session(const GlobalOptions& options, std::ostream& out, std::ostream& err)
      : options_(options), out_(out), err_(err) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (!options.ca_file.empty()) {
      grpc::SslCredentialsOptions tls;
      tls.pem_root_certs = ReadCredential(options.ca_file, "--ca");
      if (!options.cert_file.empty()) {
        tls.pem_cert_chain = ReadCredential(options.cert_file, "--cert");
        tls.pem_private_key = ReadCredential(options.key_file, "--key");
      }
      creds = grpc::SslCredentials(tls);
    }
    if (!options.token_file.empty()) {
      token_ = ReadCredential(options.token_file, "--token-file");
      while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r' || token_.back() == ' ')) {
        token_.pop_back();
      }
    }
    channel_ = grpc::CreateCustomChannel(options.target, creds, args);
    stub_ = v1::Adapter::NewStub(channel_);
    // Beyond about 30 years a deadline means nothing, and its nanoseconds would overflow.
    if (options.timeout_seconds > 0 && options.timeout_seconds < 1e9) {
      deadline_ = std::chrono::system_clock::now() +
                  std::chrono::duration_cast<std::chrono::system_clock::duration>(
                      std::chrono::duration<double>(options.timeout_seconds));
    }
  }

  v1::Adapter::Stub& stub() { return *stub_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  OutputFormat format() const { return options_.format; }

  void Prepare(grpc::ClientContext* ctx) const {
    if (deadline_) ctx->set_deadline(*deadline_);
    if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
  }

  // A credential file that cannot be read is a usage error, reported before any call.
  bool credentials_ok() const { return credential_error_.empty(); }
  const std::string& credential_error() const { return credential_error_; }

  // Prints a failed call and returns its exit code.
  int Fail(const grpc::Status& status, const grpc::ClientContext& ctx) {
    RpcError e = DecodeRpcError(status, ctx.GetServerTrailingMetadata());
    err_ << "fachadapter: " << FormatRpcError(e, options_.target) << "\n";
    return ExitCodeFor(e.code);
  }

  // Prints a local mistake and returns `code`.
  int Local(int code, const std::string& message) {
    err_ << "fachadapter: " << message << "\n";
    return code;
  }

  // Fetches the schema of `entity`; on failure prints and sets `*exit_code`.
  bool Describe(const std::string& entity, v1::EntitySchema* schema, int* exit_code) {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    v1::DescribeEntityRequest req;
    req.set_entity(entity);
    grpc::Status s = stub_->DescribeEntity(&ctx, req, schema);
    if (!s.ok()) {
      *exit_code = Fail(s, ctx);
      return false;
    }
    return true;
  }

 private:
  const GlobalOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Adapter::Stub> stub_;
  std::optional<std::chrono::system_clock::time_point> deadline_;
  std::string token_;
  std::string credential_error_;

  std::string ReadCredential(const std::string& path, const char* option) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    if (in) ss << in.rdbuf();
    if (!in || ss.str().empty()) {
      if (credential_error_.empty()) {
        credential_error_ = std::string(option) + ": cannot read " + path +
                            (in ? " (empty)" : std::string(": ") + std::strerror(errno));
      }
      return {};
    }
    return ss.str();
  }
};

std::vector<Column> ColumnsFor(const google::protobuf::RepeatedPtrField<std::string>& names,
                               const v1::EntitySchema& schema) {
  std::vector<Column> cols;
  for (const auto& n : names) {
    const v1::FieldSchema* f = FindField(schema, n);
    cols.push_back({n, f ? f->type() : v1::FIELD_TYPE_UNSPECIFIED});
  }
  return cols;
}

// One record with its etag: vertical "field  value" lines in a table, an object with
// "record" and "etag" in JSON, a header and a row in CSV (etag on stderr).
void PrintRecord(Session& s, const google::protobuf::RepeatedPtrField<std::string>& fields,
                 const v1::Record& record, const v1::EntitySchema& schema,
                 const char* extra_json = nullptr) {
  switch (s.format()) {
    case OutputFormat::kTable: {
      size_t width = 4;  // "etag"
      for (const auto& f : fields) width = std::max(width, DisplayWidth(f));
      std::string text;
      for (int i = 0; i < fields.size(); ++i) {
        std::string name = EscapeForTable(fields[i]);
        text += name;
        text.append(width - std::min(width, DisplayWidth(name)) + 2, ' ');
        text += i < record.values_size() ? EscapeForTable(FormatValue(record.values(i), false))
                                         : std::string();
        text += '\n';
      }
      if (!record.etag().empty()) {
        text += "\netag";
        text.append(width - 4 + 2, ' ');
        text += EscapeForTable(record.etag()) + "\n";
      }
      s.out() << text;
      break;
    }
    case OutputFormat::kJson: {
      std::string line = "{\"record\":{";
      for (int i = 0; i < fields.size(); ++i) {
        if (i > 0) line += ',';
        line += JsonString(fields[i]) + ":" +
                (i < record.values_size() ? JsonValue(record.values(i)) : "null");
      }
      line += "},\"etag\":" + JsonString(record.etag());
      if (extra_json) line += extra_json;
      line += "}\n";
      s.out() << line;
      break;
    }
    case OutputFormat::kCsv: {
      auto w = RecordWriter::Create(OutputFormat::kCsv, s.out());
      w->Begin(ColumnsFor(fields, schema));
      w->Write(record.values());
      w->Finish();
      if (!record.etag().empty()) s.err() << "etag: " << record.etag() << "\n";
      break;
    }
  }
  s.out().flush();
}

int RunEntities(Session& s, const Invocation& inv) {
  if (!inv.positionals.empty()) {
    return s.Local(kExitUsage, "'entities' takes no arguments (got '" + inv.positionals[0] + "')");
  }
  grpc::ClientContext ctx;
  s.Prepare(&ctx);
  v1::ListEntitiesResponse resp;
  grpc::Status st = s.stub().ListEntities(&ctx, v1::ListEntitiesRequest(), &resp);
  if (!st.ok()) return s.Fail(st, ctx);
  auto w = RecordWriter::Create(s.format(), s.out());
  w->Begin({{"name", v1::FIELD_TYPE_STRING},
            {"source", v1::FIELD_TYPE_STRING},
            {"capabilities", v1::FIELD_TYPE_STRING},
            {"description", v1::FIELD_TYPE_STRING}});
  for (const auto& e : resp.entities()) {
    v1::Record r;
    *r.add_values() = Text(e.name());
    *r.add_values() = Text(e.source());
    *r.add_values() = Text(Capabilities(e.capabilities()));
    *r.add_values() = Text(e.description());
    w->Write(r.values());
  }
  w->Finish();
  return kExitOk;
}

int RunDescribe(Session& s, const Invocation& inv) {
  if (inv.positionals.size() != 1) {
    return s.Local(kExitUsage, "usage: fachadapter describe ENTITY");
  }
  v1::EntitySchema schema;
  int code = kExitOk;
  if (!s.Describe(inv.positionals[0], &schema, &code)) return code;
  if (s.format() == OutputFormat::kJson) {
    google::protobuf::util::JsonPrintOptions opts;
    opts.preserve_proto_field_names = true;
    opts.always_print_primitive_fields = true;
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(schema, &json, opts).ok()) {
      return s.Local(kExitError, "cannot print the schema as JSON");
    }
    s.out() << json << "\n";
    return kExitOk;
  }
  bool table = s.format() == OutputFormat::kTable;
  if (table) {
    std::string keys;
    for (const auto& k : schema.key_fields()) keys += (keys.empty() ? "" : ", ") + k;
    s.out() << "entity        " << schema.name() << "\n"
            << "description   " << EscapeForTable(schema.description()) << "\n"
            << "source        " << schema.source() << "\n"
            << "key           " << keys << "\n"
            << "capabilities  " << Capabilities(schema.capabilities()) << "\n\n";
  }
  auto w = RecordWriter::Create(s.format(), s.out());
  w->Begin({{"field", v1::FIELD_TYPE_STRING},
            {"type", v1::FIELD_TYPE_STRING},
            {"key", v1::FIELD_TYPE_BOOL},
            {"nullable", v1::FIELD_TYPE_BOOL},
            {"personal_data", v1::FIELD_TYPE_BOOL},
            {"read_only", v1::FIELD_TYPE_BOOL},
            {"sortable", v1::FIELD_TYPE_BOOL},
            {"filterable", v1::FIELD_TYPE_BOOL},
            {"description", v1::FIELD_TYPE_STRING},
            {"allowed_values", v1::FIELD_TYPE_STRING}});
  // The table says "yes" and leaves "no" blank so that the marks stand out; CSV keeps
  // true/false for scripts.
  auto mark = [&](bool b) { return table ? Text(b ? "yes" : "") : Bool(b); };
  for (const auto& f : schema.fields()) {
    std::string allowed;
    for (const auto& a : f.allowed_values()) allowed += (allowed.empty() ? "" : ", ") + a;
    v1::Record r;
    *r.add_values() = Text(f.name());
    *r.add_values() = Text(FieldTypeName(f.type()));
    *r.add_values() = mark(f.key());
    *r.add_values() = mark(f.nullable());
    *r.add_values() = mark(f.personal_data());
    *r.add_values() = mark(f.read_only());
    *r.add_values() = mark(f.sortable());
    *r.add_values() = mark(f.filterable());
    *r.add_values() = Text(f.description());
    *r.add_values() = Text(allowed);
    w->Write(r.values());
  }
  w->Finish();
  return kExitOk;
}

// Validates the key arguments against the schema; prints on failure.
bool KeyFromArgs(Session& s, const v1::EntitySchema& schema,
                 const std::vector<std::string>& texts, v1::Key* key, int* code) {
  std::string error;
  if (!ParseKey(texts, schema, key, &error)) {
    *code = s.Local(static_cast<int>(texts.size()) == schema.key_fields_size() ? kExitInvalid
                                                                                : kExitUsage,
                    error);
    return false;
  }
  return true;
}

int RunGet(Session& s, const Invocation& inv) {
  if (inv.positionals.size() < 2) {
    return s.Local(kExitUsage, "usage: fachadapter get ENTITY KEY... [--fields a,b]");
  }
  v1::EntitySchema schema;
  int code = kExitOk;
  if (!s.Describe(inv.positionals[0], &schema, &code)) return code;
  v1::GetRequest req;
  req.set_entity(inv.positionals[0]);
  if (!KeyFromArgs(s, schema, {inv.positionals.begin() + 1, inv.positionals.end()},
                   req.mutable_key(), &code)) {
    return code;
  }
  if (auto it = inv.options.find("fields"); it != inv.options.end()) {
    std::vector<std::string> fields;
    std::string error;
    if (!ParseFieldList(it->second, &fields, &error)) return s.Local(kExitUsage, error);
    for (auto& f : fields) req.add_fields(std::move(f));
  }
  grpc::ClientContext ctx;
  s.Prepare(&ctx);
  v1::GetResponse resp;
  grpc::Status st = s.stub().Get(&ctx, req, &resp);
  if (!st.ok()) return s.Fail(st, ctx);
  PrintRecord(s, resp.fields(), resp.record(), schema);
  return kExitOk;
}

int RunQuery(Session& s, const Invocation& inv) {
  if (inv.positionals.size() != 1) {
    return s.Local(kExitUsage,
                   "usage: fachadapter query ENTITY [--filter EXPR] [--fields a,b] "
                   "[--order-by a,-b] [--limit N] [--page-token T] [--batch-size N]");
  }
  const std::string& entity = inv.positionals[0];
  v1::QueryRequest req;
  req.set_entity(entity);
  std::string error;
  // Check the command line before anything goes over the wire.
  if (!ParseQueryOptions(inv.options, &req, &error)) return s.Local(kExitUsage, error);
  auto filter = inv.options.find("filter");

  v1::EntitySchema schema;
  int code = kExitOk;
  if (!s.Describe(entity, &schema, &code)) return code;
  if (filter != inv.options.end()) {
    FilterError fe;
    if (!ParseFilter(filter->second, schema, req.mutable_filter(), &fe)) {
      return s.Local(fe.kind == FilterError::Kind::kSyntax ? kExitUsage : kExitInvalid,
                     "invalid filter: " + FormatFilterError(filter->second, fe));
    }
  }

  grpc::ClientContext ctx;
  s.Prepare(&ctx);
  auto reader = s.stub().Query(&ctx, req);
  auto writer = RecordWriter::Create(s.format(), s.out());
  bool begun = false;
  std::string next_page_token, resume_token;
  v1::QueryResponse resp;
  bool output_broken = false;
  while (reader->Read(&resp)) {
    if (!begun) {
      begun = true;
      google::protobuf::RepeatedPtrField<std::string> names = resp.fields();
      if (names.empty()) {
        names = req.fields();
        if (names.empty()) {
          for (const auto& f : schema.fields()) names.Add(std::string(f.name()));
        }
      }
      writer->Begin(ColumnsFor(names, schema));
    }
    for (const auto& r : resp.batch().records()) writer->Write(r.values());
    if (!resp.resume_token().empty()) resume_token = resp.resume_token();
    if (!resp.next_page_token().empty()) next_page_token = resp.next_page_token();
    if (s.format() != OutputFormat::kTable) s.out().flush();
    if (!s.out()) {
      // The reader of our output went away (e.g. `| head`): stop the stream.
      output_broken = true;
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status st = reader->Finish();
  if (output_broken) return kExitError;
  if (!begun && st.ok()) {
    // An empty result still gets its header (and, in a table, "(no records)").
    google::protobuf::RepeatedPtrField<std::string> names = req.fields();
    if (names.empty()) {
      for (const auto& f : schema.fields()) names.Add(std::string(f.name()));
    }
    writer->Begin(ColumnsFor(names, schema));
    begun = true;
  }
  // Print what arrived before an error too: those records are valid.
  if (begun) writer->Finish();
  if (!st.ok()) {
    code = s.Fail(st, ctx);
    if (writer->rows() > 0 && !resume_token.empty()) {
      s.err() << "fachadapter: the stream broke after " << writer->rows()
              << " records; continue with --page-token " << resume_token << "\n";
    }
    return code;
  }
  if (!next_page_token.empty()) s.err() << "next_page_token: " << next_page_token << "\n";
  return kExitOk;
}

// Collects `field=value` arguments into `values`; prints on failure.
bool ValuesFromArgs(Session& s, const v1::EntitySchema& schema,
                    const std::vector<std::string>& args,
                    google::protobuf::Map<std::string, v1::Value>* values, int* code) {
  for (const auto& a : args) {
    std::string field, error;
    v1::Value v;
    bool usage = false;
    if (!ParseAssignment(a, schema, &field, &v, &error, &usage)) {
      *code = s.Local(usage ? kExitUsage : kExitInvalid, error);
      return false;
    }
    if (values->count(field)) {
      *code = s.Local(kExitUsage, "field '" + field + "' is given twice");
      return false;
    }
    (*values)[field] = std::move(v);
  }
  return true;
}

int RunCreate(Session& s, const Invocation& inv) {
  if (inv.positionals.size() < 2) {
    return s.Local(kExitUsage,
                   "usage: fachadapter create ENTITY field=value... [--idempotency-key K]");
  }
  v1::EntitySchema schema;
  int code = kExitOk;
  if (!s.Describe(inv.positionals[0], &schema, &code)) return code;
  v1::CreateRequest req;
  req.set_entity(inv.positionals[0]);
  if (!ValuesFromArgs(s, schema, {inv.positionals.begin() + 1, inv.positionals.end()},
                      req.mutable_values(), &code)) {
    return code;
  }
  if (auto it = inv.options.find("idempotency-key"); it != inv.options.end()) {
    req.set_idempotency_key(it->second);
  }
  grpc::ClientContext ctx;
  s.Prepare(&ctx);
  v1::CreateResponse resp;
  grpc::Status st = s.stub().Create(&ctx, req, &resp);
  if (!st.ok()) return s.Fail(st, ctx);
  if (resp.replayed() && s.format() != OutputFormat::kJson) {
    s.err() << "fachadapter: this idempotency key was used before; showing the record it "
               "created then\n";
  }
  PrintRecord(s, resp.fields(), resp.record(), schema,
              resp.replayed() ? ",\"replayed\":true" : ",\"replayed\":false");
  return kExitOk;
}

int RunUpdate(Session& s, const Invocation& inv) {
  if (inv.positionals.empty()) {
    return s.Local(kExitUsage, "usage: fachadapter update ENTITY KEY... field=value... [--etag E]");
  }
  v1::EntitySchema schema;
  int code = kExitOk;
  if (!s.Describe(inv.positionals[0], &schema, &code)) return code;
  size_t nkeys = static_cast<size_t>(schema.key_fields_size());
  if (inv.positionals.size() < 2 + nkeys) {
    return s.Local(kExitUsage, "update of " + schema.name() + " needs " + std::to_string(nkeys) +
                                   " key value(s) and at least one field=value");
  }
  v1::UpdateRequest req;
  req.set_entity(inv.positionals[0]);
  auto key_end = inv.positionals.begin() + 1 + static_cast<std::ptrdiff_t>(nkeys);
  if (!KeyFromArgs(s, schema, {inv.positionals.begin() + 1, key_end}, req.mutable_key(), &code) ||
      !ValuesFromArgs(s, schema, {key_end, inv.positionals.end()}, req.mutable_values(), &code)) {
    return code;
  }
  if (auto it = inv.options.find("etag"); it != inv.options.end()) req.set_etag(it->second);
  grpc::ClientContext ctx;
  s.Prepare(&ctx);
  v1::UpdateResponse resp;
  grpc::Status st = s.stub().Update(&ctx, req, &resp);
  if (!st.ok()) return s.Fail(st, ctx);
  PrintRecord(s, resp.fields(), resp.record(), schema);
  return kExitOk;
}

int RunDelete(Session& s, const Invocation& inv) {
  if (inv.positionals.size() < 2) {
    return s.Local(kExitUsage, "usage: fachadapter delete ENTITY KEY... [--etag E]");
  }
  v1::EntitySchema schema;
  int code = kExitOk;
  if (!s.Describe(inv.positionals[0], &schema, &code)) return code;
  v1::DeleteRequest req;
  req.set_entity(inv.positionals[0]);
  if (!KeyFromArgs(s, schema, {inv.positionals.begin() + 1, inv.positionals.end()},
                   req.mutable_key(), &code)) {
    return code;
  }
  if (auto it = inv.options.find("etag"); it != inv.options.end()) req.set_etag(it->second);
  grpc::ClientContext ctx;
  s.Prepare(&ctx);
  v1::DeleteResponse resp;
  grpc::Status st = s.stub().Delete(&ctx, req, &resp);
  if (!st.ok()) return s.Fail(st, ctx);
  if (s.format() == OutputFormat::kTable) s.out() << "deleted\n";
  return kExitOk;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, const char* env_target, std::ostream& out,
           std::ostream& err) {
  Invocation inv;
  std::string error;
  if (!ParseCommandLine(args, env_target, &inv, &error)) {
    err << "fachadapter: " << error << "\nRun 'fachadapter --help' for usage.\n";
    return kExitUsage;
  }
  if (inv.version) {
    out << "fachadapter " << FACHADAPTER_VERSION << "\n";
    return kExitOk;
  }
  if (inv.help) {
    out << HelpText(inv.command);
    return kExitOk;
  }
  if (inv.command.empty()) {
    err << UsageText();
    return kExitUsage;
  }
  Session session(inv.global, out, err);
  if (!session.credentials_ok()) {
    err << "fachadapter: " << session.credential_error() << "\n";
    return kExitUsage;
  }
  const std::string& c = inv.command;
  if (c == "entities") return RunEntities(session, inv);
  if (c == "describe") return RunDescribe(session, inv);
  if (c == "get") return RunGet(session, inv);
  if (c == "query") return RunQuery(session, inv);
  if (c == "create") return RunCreate(session, inv);
  if (c == "update") return RunUpdate(session, inv);
  return RunDelete(session, inv);
}

}  // namespace fachadapter::cli
