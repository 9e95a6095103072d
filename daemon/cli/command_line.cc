#include "command_line.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "fachadapter/values.h"
#include "filter_parser.h"
#include "value_text.h"

namespace fachadapter::cli {
namespace {

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
    "  --ca FILE          talk TLS, trusting the daemon's certificate from this CA bundle (PEM)\n"
    "  --cert FILE        client certificate (PEM) for mutual TLS; with --key and --ca\n"
    "  --key FILE         private key (PEM) of --cert\n"
    "  --token-file FILE  send the bearer token (JWT) in FILE with every call\n"
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

}  // namespace

const v1::FieldSchema* FindField(const v1::EntitySchema& schema, std::string_view name) {
  for (const auto& f : schema.fields()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

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
    bool global = name == "target" || name == "format" || name == "timeout" || name == "ca" ||
                  name == "cert" || name == "key" || name == "token-file";
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
    } else if (name == "ca" || name == "cert" || name == "key" || name == "token-file") {
      if (value->empty()) {
        *error = "--" + name + " needs a file name";
        return false;
      }
      (name == "ca" ? inv.global.ca_file
       : name == "cert" ? inv.global.cert_file
       : name == "key" ? inv.global.key_file : inv.global.token_file) = *value;
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
  if (inv.global.cert_file.empty() != inv.global.key_file.empty()) {
    *error = "--cert and --key go together";
    return false;
  }
  if (!inv.global.cert_file.empty() && inv.global.ca_file.empty()) {
    *error = "--cert needs --ca (mutual TLS is TLS)";
    return false;
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

bool ParseQueryOptions(const std::map<std::string, std::string>& options, v1::QueryRequest* req,
                       std::string* error) {
  auto opt = [&](const char* name) -> const std::string* {
    auto it = options.find(name);
    return it == options.end() ? nullptr : &it->second;
  };
  if (const std::string* v = opt("fields")) {
    std::vector<std::string> fields;
    if (!ParseFieldList(*v, &fields, error)) return false;
    for (auto& f : fields) req->add_fields(std::move(f));
  }
  if (const std::string* v = opt("order-by")) {
    if (!ParseOrderBy(*v, req->mutable_order_by(), error)) return false;
  }
  if (const std::string* v = opt("limit")) {
    int64_t n;
    if (!ParseInt64(*v, &n) || n < 0) {
      *error = "--limit wants a whole number >= 0 (0: no limit), not '" + *v + "'";
      return false;
    }
    req->set_limit(n);
  }
  if (const std::string* v = opt("batch-size")) {
    int64_t n;
    if (!ParseInt64(*v, &n) || n < 0 || n > INT32_MAX) {
      *error = "--batch-size wants a whole number from 0 (server's choice) to 2147483647, not '" +
               *v + "'";
      return false;
    }
    req->set_batch_size(static_cast<int32_t>(n));
  }
  if (const std::string* v = opt("page-token")) req->set_page_token(*v);
  return true;
}

std::string HelpText(std::string_view command) {
  const CommandSpec* c = FindCommand(command);
  return c ? CommandHelp(*c) : UsageText();
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
}  // namespace fachadapter::cli
