#include "cli.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "errors.h"
#include "fachadapter/status.h"
#include "fachadapter/v1/adapter.grpc.pb.h"
#include "fachadapter/values.h"
#include "filter_parser.h"
#include "value_text.h"

#ifndef FACHADAPTER_VERSION
#define FACHADAPTER_VERSION "unknown"
#endif

namespace fachadapter::cli {
namespace {

// Largest response message the CLI accepts. The server bounds its batches; this only keeps
// a misbehaving peer from making the client allocate without limit.
constexpr int kMaxReceiveMessageBytes = 64 * 1024 * 1024;

struct CommandSpec {
  const char* name;
  const char* synopsis;     // after "fachadapter "
  const char* description;  // one line
  std::set<std::string> value_options;
  const char* details;      // per-command help
};

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"entities", "entities", "List the entities fachadapterd serves.", {},
       "Prints name, source, capabilities and description of every entity.\n"},
      {"describe", "describe ENTITY", "Show the fields of an entity.", {},
       "Prints every field with its type and marks: key, nullable, personal data (DSGVO),\n"
       "read-only, sortable, filterable, the description and the allowed values.\n"
       "With --format json the schema is printed as one JSON object.\n"},
      {"get", "get ENTITY KEY... [--fields a,b]", "Read one record by its key.", {"fields"},
       "Give one value per key field, in key order (see 'describe'). Prints the record and\n"
       "its etag (pass it to update/delete --etag for optimistic concurrency).\n"},
      {"query",
       "query ENTITY [--filter EXPR] [--fields a,b] [--order-by a,-b] [--limit N]\n"
       "                  [--page-token T] [--batch-size N]",
       "Stream the records matching a filter.",
       {"filter", "fields", "order-by", "limit", "page-token", "batch-size"},
       "  --filter EXPR      e.g. \"ort = 'Berlin' and beginn >= 2019-01-01\" (see docs/cli.md)\n"
       "  --fields a,b       only these fields\n"
       "  --order-by a,-b    sort by a ascending, then b descending\n"
       "  --limit N          at most N records; if more follow, the token to continue is\n"
       "                     printed to stderr as 'next_page_token: T'\n"
       "  --page-token T     continue where a previous call stopped (same filter and order)\n"
       "  --batch-size N     records per message from the server (0: server's choice)\n"
       "Records are printed as they arrive. The table fixes its column widths from the\n"
       "first 200 records; later, longer values stretch their own row only.\n"},
      {"create", "create ENTITY field=value... [--idempotency-key K]", "Create a record.",
       {"idempotency-key"},
       "field=value types the text by the field's type (42, 1234.50, 2019-04-01, ...);\n"
       "field:=LITERAL takes a literal of the filter syntax, so name:=null sets NULL.\n"
       "With --idempotency-key a retried create returns the first result instead of a\n"
       "second record.\n"},
      {"update", "update ENTITY KEY... field=value... [--etag E]", "Change fields of a record.",
       {"etag"},
       "Give one value per key field, then the fields to change. With --etag the update\n"
       "fails (exit 4, reason ETAG_MISMATCH) if the record changed since it was read.\n"},
      {"delete", "delete ENTITY KEY... [--etag E]", "Delete a record.", {"etag"},
       "Give one value per key field. With --etag the delete fails (exit 4) if the record\n"
       "changed since it was read.\n"},
  };
  return kCommands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const auto& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

const char kGlobalOptionsHelp[] =
    "Options (before or after the command):\n"
    "  --target ADDR      fachadapterd to talk to (default: $FACHADAPTER_TARGET, else "
    "127.0.0.1:50051)\n"
    "  --format FORMAT    table (default), json (one object per line) or csv (RFC 4180)\n"
    "  --timeout SECONDS  time limit for the whole command (default 30; 0: none)\n"
    "  --help             this help; 'fachadapter COMMAND --help' for a command\n"
    "  --version          print the version\n"
    "  --                 end of options (for values that start with '--')\n";

const char kExitCodesHelp[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  other error (INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS)\n"
    "  2  usage error: wrong command line or filter syntax\n"
    "  3  not found: no such entity or record (NOT_FOUND)\n"
    "  4  the request does not fit the data: unknown field, wrong type, stale etag,\n"
    "     reused idempotency key, existing record (INVALID_ARGUMENT, FAILED_PRECONDITION,\n"
    "     ABORTED, ALREADY_EXISTS, OUT_OF_RANGE)\n"
    "  5  try again later: cannot reach fachadapterd, back end unavailable, time limit\n"
    "     (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, CANCELLED)\n"
    "  6  not allowed (PERMISSION_DENIED, UNAUTHENTICATED)\n";

std::string CommandHelp(const CommandSpec& c) {
  std::string s = "Usage: fachadapter [options] ";
  s += c.synopsis;
  s += "\n\n";
  s += c.description;
  s += "\n";
  s += c.details;
  s += "\n";
  s += kGlobalOptionsHelp;
  return s;
}

bool ParseDouble(std::string_view text, double* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*out);
}

bool ParseInt64(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

const v1::FieldSchema* FindField(const v1::EntitySchema& schema, std::string_view name) {
  for (const auto& f : schema.fields()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

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
    // TLS comes with a later issue; until then the CLI speaks plaintext only.
    channel_ = grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Adapter::NewStub(channel_);
    if (options.timeout_seconds > 0) {
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
  }

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
  auto opt = [&](const char* name) -> const std::string* {
    auto it = inv.options.find(name);
    return it == inv.options.end() ? nullptr : &it->second;
  };
  // Check the command line before anything goes over the wire.
  if (const std::string* v = opt("fields")) {
    std::vector<std::string> fields;
    if (!ParseFieldList(*v, &fields, &error)) return s.Local(kExitUsage, error);
    for (auto& f : fields) req.add_fields(std::move(f));
  }
  if (const std::string* v = opt("order-by")) {
    if (!ParseOrderBy(*v, req.mutable_order_by(), &error)) return s.Local(kExitUsage, error);
  }
  if (const std::string* v = opt("limit")) {
    int64_t n;
    if (!ParseInt64(*v, &n) || n < 0) {
      return s.Local(kExitUsage, "--limit wants a whole number >= 0 (0: no limit), not '" + *v + "'");
    }
    req.set_limit(n);
  }
  if (const std::string* v = opt("batch-size")) {
    int64_t n;
    if (!ParseInt64(*v, &n) || n < 0 || n > INT32_MAX) {
      return s.Local(kExitUsage,
                     "--batch-size wants a whole number >= 0 (0: server's choice), not '" + *v + "'");
    }
    req.set_batch_size(static_cast<int32_t>(n));
  }
  if (const std::string* v = opt("page-token")) req.set_page_token(*v);

  v1::EntitySchema schema;
  int code = kExitOk;
  if (!s.Describe(entity, &schema, &code)) return code;
  if (const std::string* v = opt("filter")) {
    FilterError fe;
    if (!ParseFilter(*v, schema, req.mutable_filter(), &fe)) {
      return s.Local(fe.kind == FilterError::Kind::kSyntax ? kExitUsage : kExitInvalid,
                     "invalid filter: " + FormatFilterError(*v, fe));
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

bool ParseCommandLine(const std::vector<std::string>& args, const char* env_target,
                      Invocation* out, std::string* error) {
  Invocation inv;
  if (env_target && *env_target) inv.global.target = env_target;
  const CommandSpec* spec = nullptr;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool is_option = !options_done && a.size() > 2 && a.compare(0, 2, "--") == 0;
    if (!options_done && a == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && a == "-h") {
      inv.help = true;
      continue;
    }
    if (!is_option) {
      if (inv.command.empty()) {
        if (a == "help") {
          // `fachadapter help [COMMAND]`
          inv.help = true;
          if (i + 1 < args.size()) inv.command = args[++i];
          if (!inv.command.empty() && !FindCommand(inv.command)) {
            *error = "unknown command '" + inv.command + "'";
            return false;
          }
          continue;
        }
        spec = FindCommand(a);
        if (!spec) {
          *error = "unknown command '" + a + "' (commands: entities, describe, get, query, "
                   "create, update, delete)";
          return false;
        }
        inv.command = a;
      } else {
        inv.positionals.push_back(a);
      }
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "help" || name == "version") {
      if (value) {
        *error = "--" + name + " takes no value";
        return false;
      }
      (name == "help" ? inv.help : inv.version) = true;
      continue;
    }
    bool global = name == "target" || name == "format" || name == "timeout";
    bool command_option = spec && spec->value_options.count(name) > 0;
    if (!global && !command_option) {
      for (const auto& c : Commands()) {
        if (c.value_options.count(name)) {
          *error = spec ? "option --" + name + " is not valid for '" + spec->name + "'"
                        : "option --" + name + " belongs after a command such as '" +
                              std::string(c.name) + "'";
          return false;
        }
      }
      *error = "unknown option --" + name;
      return false;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        *error = "option --" + name + " needs a value";
        return false;
      }
      value = args[++i];
    }
    if (name == "target") {
      if (value->empty()) {
        *error = "--target needs an address such as 127.0.0.1:50051";
        return false;
      }
      inv.global.target = *value;
    } else if (name == "format") {
      if (!ParseOutputFormat(*value, &inv.global.format)) {
        *error = "--format must be table, json or csv, not '" + *value + "'";
        return false;
      }
    } else if (name == "timeout") {
      double t;
      if (!ParseDouble(*value, &t) || t < 0) {
        *error = "--timeout wants seconds >= 0 (0: no limit), not '" + *value + "'";
        return false;
      }
      inv.global.timeout_seconds = t;
    } else {
      if (inv.options.count(name)) {
        *error = "option --" + name + " is given twice";
        return false;
      }
      inv.options[name] = *value;
    }
  }
  *out = std::move(inv);
  return true;
}

bool ParseFieldList(std::string_view text, std::vector<std::string>* out, std::string* error) {
  out->clear();
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string name = Trim(text.substr(start, comma == std::string_view::npos ? text.npos
                                                                              : comma - start));
    if (name.empty()) {
      *error = "empty field name in '" + std::string(text) + "'";
      return false;
    }
    out->push_back(std::move(name));
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

bool ParseOrderBy(std::string_view text, google::protobuf::RepeatedPtrField<v1::OrderBy>* out,
                  std::string* error) {
  std::vector<std::string> items;
  if (!ParseFieldList(text, &items, error)) {
    *error = "--order-by: " + *error;
    return false;
  }
  for (const auto& item : items) {
    v1::OrderBy* o = out->Add();
    std::string_view name = item;
    if (name[0] == '-' || name[0] == '+') {
      o->set_descending(name[0] == '-');
      name.remove_prefix(1);
    }
    if (name.empty()) {
      *error = "--order-by: '" + item + "' names no field";
      return false;
    }
    o->set_field(std::string(name));
  }
  return true;
}

bool ParseAssignment(std::string_view arg, const v1::EntitySchema& schema, std::string* field,
                     v1::Value* value, std::string* error, bool* usage) {
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0 || (eq == 1 && arg[0] == ':')) {
    *usage = true;
    *error = "expected field=value, not '" + std::string(arg) + "'";
    return false;
  }
  bool literal = arg[eq - 1] == ':';
  std::string name(arg.substr(0, literal ? eq - 1 : eq));
  std::string_view text = arg.substr(eq + 1);
  *field = name;
  const v1::FieldSchema* f = FindField(schema, name);
  if (!f) {
    *usage = false;
    *error = "unknown field '" + name + "' in entity " + schema.name();
    return false;
  }
  if (literal) {
    FilterError fe;
    if (!ParseFieldLiteral(text, *f, value, &fe)) {
      *usage = fe.kind == FilterError::Kind::kSyntax;
      // A caret helps within a literal's syntax; a schema mistake is said in words.
      *error = *usage ? "value of " + name + ": " + FormatFilterError(text, fe) : fe.message;
      return false;
    }
    return true;
  }
  Result<v1::Value> v = ParseValueText(f->type(), text);
  if (!v.ok()) {
    *usage = false;
    *error = "field '" + name + "' (" + FieldTypeName(f->type()) + "): " + v.status().message();
    return false;
  }
  *value = std::move(v).value();
  return true;
}

bool ParseKey(const std::vector<std::string>& texts, const v1::EntitySchema& schema,
              v1::Key* key, std::string* error) {
  if (static_cast<int>(texts.size()) != schema.key_fields_size()) {
    std::string names;
    for (const auto& k : schema.key_fields()) names += (names.empty() ? "" : ", ") + k;
    *error = "entity " + schema.name() + " has " + std::to_string(schema.key_fields_size()) +
             " key field(s) (" + names + "), but " + std::to_string(texts.size()) +
             " key value(s) were given";
    return false;
  }
  key->Clear();
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string& name = schema.key_fields(static_cast<int>(i));
    const v1::FieldSchema* f = FindField(schema, name);
    v1::FieldType type = f ? f->type() : v1::FIELD_TYPE_STRING;
    Result<v1::Value> v = ParseValueText(type, texts[i]);
    if (!v.ok()) {
      *error = "key field '" + name + "' (" + FieldTypeName(type) + "): " + v.status().message();
      return false;
    }
    *key->add_values() = std::move(v).value();
  }
  return true;
}

std::string UsageText() {
  std::string s =
      "Usage: fachadapter [options] COMMAND [arguments]\n"
      "\n"
      "The command-line client of fachadapterd.\n"
      "\n"
      "Commands:\n";
  for (const auto& c : Commands()) {
    std::string line = std::string("  ") + c.name;
    line.append(line.size() < 12 ? 12 - line.size() : 1, ' ');
    s += line + c.description + "\n";
  }
  s += "\n";
  s += kGlobalOptionsHelp;
  s += "\n";
  s += kExitCodesHelp;
  s +=
      "\n"
      "Examples:\n"
      "  fachadapter entities\n"
      "  fachadapter describe Gewerbebetrieb\n"
      "  fachadapter get Gewerbebetrieb 100001\n"
      "  fachadapter query Gewerbebetrieb --filter \"ort = 'Berlin' and beginn >= 2019-01-01\" "
      "--limit 10\n"
      "  fachadapter --format csv query Gewerbebetrieb --fields name,ort > betriebe.csv\n"
      "\n"
      "Filter syntax, formats and more: docs/cli.md\n";
  return s;
}

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
    const CommandSpec* c = FindCommand(inv.command);
    out << (c ? CommandHelp(*c) : UsageText());
    return kExitOk;
  }
  if (inv.command.empty()) {
    err << UsageText();
    return kExitUsage;
  }
  Session session(inv.global, out, err);
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
