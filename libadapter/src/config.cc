// Config loading. The checks are strict on purpose: an operator's typo must be an error with
// its line, never a silently ignored setting.
#include "fachadapter/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "fachadapter/values.h"

namespace fachadapter {

std::string Config::Where(const ConfigLocation& loc) const {
  std::string s = path;
  if (loc.line > 0) s += ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column);
  return s;
}

namespace {

ConfigLocation LocOf(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.is_null()) return {};
  return {m.line + 1, m.column + 1};
}

// Collects every problem so that one run of --check-config shows them all.
class Checker {
 public:
  explicit Checker(const std::string& path) : path_(path) {}

  void Error(const YAML::Node& at, const std::string& message) { Error(LocOf(at), message); }
  void Error(ConfigLocation loc, const std::string& message) {
    std::string line = path_;
    if (loc.line > 0) line += ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column);
    errors_.push_back(line + ": " + message);
  }
  bool ok() const { return errors_.empty(); }
  Status ToStatus() const {
    std::string msg;
    for (const auto& e : errors_) {
      if (!msg.empty()) msg += "\n";
      msg += e;
    }
    return InvalidArgument(msg, "INVALID_CONFIG");
  }

  // Checks that `node` is a map with only `allowed` keys.
  bool Keys(const YAML::Node& node, const std::string& what, std::initializer_list<const char*> allowed) {
    if (!node.IsMap()) {
      Error(node, what + " must be a mapping of keys to values");
      return false;
    }
    for (const auto& kv : node) {
      std::string key = kv.first.as<std::string>();
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        Error(kv.first, "unknown key '" + key + "' in " + what + " (allowed: " + list + ")");
      }
    }
    return true;
  }

  bool String(const YAML::Node& node, const std::string& what, std::string* out) {
    if (!node.IsScalar()) {
      Error(node, what + " must be a text value");
      return false;
    }
    *out = node.Scalar();
    return true;
  }
  bool Bool(const YAML::Node& node, const std::string& what, bool* out) {
    std::string s;
    if (!String(node, what, &s)) return false;
    if (s == "true" || s == "yes" || s == "on") {
      *out = true;
    } else if (s == "false" || s == "no" || s == "off") {
      *out = false;
    } else {
      Error(node, what + " must be true or false, not '" + s + "'");
      return false;
    }
    return true;
  }
  bool Int(const YAML::Node& node, const std::string& what, long min, long max, int* out) {
    std::string s;
    if (!String(node, what, &s)) return false;
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0 || v < min || v > max) {
      Error(node, what + " must be a whole number from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", not '" + s + "'");
      return false;
    }
    *out = static_cast<int>(v);
    return true;
  }
  // A string or a list of strings.
  bool StringList(const YAML::Node& node, const std::string& what, std::vector<std::string>* out) {
    out->clear();
    if (node.IsScalar()) {
      out->push_back(node.Scalar());
      return true;
    }
    if (!node.IsSequence()) {
      Error(node, what + " must be a text value or a list of them");
      return false;
    }
    for (const auto& item : node) {
      std::string s;
      if (!String(item, what + " item", &s)) return false;
      out->push_back(s);
    }
    return true;
  }

 private:
  std::string path_;
  std::vector<std::string> errors_;
};

bool ValidName(const std::string& s, bool allow_dash) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && !(allow_dash && c == '-')) {
      return false;
    }
  }
  return true;
}

bool IsLoopbackAddress(const std::string& addr) {
  static const std::regex kLoopback(R"(^(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\]):[0-9]+$)");
  return std::regex_match(addr, kLoopback);
}

// A file the daemon must read at start (certificates, keys): resolved against the config's
// folder and checked now, so a typo is a config error with its line rather than a failed
// handshake later.
bool ReadableFile(Checker& ck, const YAML::Node& node, const std::string& what,
                  const std::string& config_dir, std::string* out) {
  if (!ck.String(node, what, out)) return false;
  std::filesystem::path p = *out;
  if (p.is_relative()) p = std::filesystem::path(config_dir) / p;
  *out = p.lexically_normal().string();
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    ck.Error(node, what + ": cannot read " + *out + ": " + std::strerror(errno));
    return false;
  }
  return true;
}

// A page token key file holds 64 hex digits (whitespace around them ignored).
bool ParsePageTokenKey(const std::string& file, std::string* key) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
  text = b == std::string::npos ? "" : text.substr(b, e - b + 1);
  if (text.size() != 64) return false;
  auto nibble = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  key->clear();
  for (size_t i = 0; i < 64; i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    key->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

void ParseTls(Checker& ck, const YAML::Node& n, const std::string& dir, TlsConfig* t) {
  t->enabled = true;
  t->location = LocOf(n);
  if (!ck.Keys(n, "security.tls", {"cert_file", "key_file", "client_ca_file", "client_auth",
                                   "principal_from", "reload_interval_seconds"})) {
    return;
  }
  for (const char* req : {"cert_file", "key_file"}) {
    if (!n[req]) ck.Error(n, std::string("security.tls: '") + req + "' is required");
  }
  if (n["cert_file"]) ReadableFile(ck, n["cert_file"], "security.tls.cert_file", dir, &t->cert_file);
  if (n["key_file"]) ReadableFile(ck, n["key_file"], "security.tls.key_file", dir, &t->key_file);
  if (n["client_ca_file"]) {
    ReadableFile(ck, n["client_ca_file"], "security.tls.client_ca_file", dir, &t->client_ca_file);
    t->client_auth = "require";
  }
  if (n["client_auth"]) {
    if (ck.String(n["client_auth"], "security.tls.client_auth", &t->client_auth)) {
      if (t->client_auth != "none" && t->client_auth != "request" && t->client_auth != "require") {
        ck.Error(n["client_auth"], "security.tls.client_auth must be none, request or require, not '" +
                                       t->client_auth + "'");
      } else if (t->client_auth != "none" && t->client_ca_file.empty()) {
        ck.Error(n["client_auth"], "security.tls.client_auth: '" + t->client_auth +
                                       "' needs client_ca_file (the CAs that sign client certificates)");
      }
    }
  }
  if (n["principal_from"]) {
    if (ck.StringList(n["principal_from"], "security.tls.principal_from", &t->principal_from)) {
      for (const auto& p : t->principal_from) {
        if (p != "san_uri" && p != "san_dns" && p != "subject_cn") {
          ck.Error(n["principal_from"], "security.tls.principal_from: unknown source '" + p +
                                            "' (san_uri, san_dns, subject_cn)");
        }
      }
      if (t->principal_from.empty()) ck.Error(n["principal_from"], "security.tls.principal_from: at least one source");
    }
  }
  if (n["reload_interval_seconds"]) {
    ck.Int(n["reload_interval_seconds"], "security.tls.reload_interval_seconds", 1, 86400,
           &t->reload_interval_seconds);
  }
}

void ParseJwt(Checker& ck, const YAML::Node& n, const std::string& dir, JwtConfig* j) {
  j->enabled = true;
  j->location = LocOf(n);
  if (!ck.Keys(n, "security.jwt", {"jwks_file", "issuer", "audience", "principal_claim", "scopes_claim",
                                   "groups_claim", "algorithms", "clock_skew_seconds"})) {
    return;
  }
  for (const char* req : {"jwks_file", "issuer", "audience"}) {
    if (!n[req]) ck.Error(n, std::string("security.jwt: '") + req + "' is required");
  }
  if (n["jwks_file"]) ReadableFile(ck, n["jwks_file"], "security.jwt.jwks_file", dir, &j->jwks_file);
  if (n["issuer"]) ck.String(n["issuer"], "security.jwt.issuer", &j->issuer);
  if (n["audience"]) ck.StringList(n["audience"], "security.jwt.audience", &j->audiences);
  if (n["principal_claim"]) ck.String(n["principal_claim"], "security.jwt.principal_claim", &j->principal_claim);
  if (n["scopes_claim"]) ck.String(n["scopes_claim"], "security.jwt.scopes_claim", &j->scopes_claim);
  if (n["groups_claim"]) ck.String(n["groups_claim"], "security.jwt.groups_claim", &j->groups_claim);
  if (n["algorithms"] && ck.StringList(n["algorithms"], "security.jwt.algorithms", &j->algorithms)) {
    for (const auto& a : j->algorithms) {
      if (a != "RS256" && a != "ES256" && a != "PS256") {
        ck.Error(n["algorithms"], "security.jwt.algorithms: '" + a + "' is not accepted (RS256, ES256, PS256)");
      }
    }
    if (j->algorithms.empty()) ck.Error(n["algorithms"], "security.jwt.algorithms: at least one");
  }
  if (n["clock_skew_seconds"]) ck.Int(n["clock_skew_seconds"], "security.jwt.clock_skew_seconds", 0, 300, &j->clock_skew_seconds);
}

void ParseRule(Checker& ck, const YAML::Node& n, int index, PolicyRule* r) {
  r->location = LocOf(n);
  r->name = "rule " + std::to_string(index + 1);
  std::string what = "security.policy[" + std::to_string(index) + "]";
  if (!ck.Keys(n, what, {"name", "principals", "groups", "scopes", "entities", "operations", "rows",
                         "personal_fields", "masked_fields"})) {
    return;
  }
  if (n["name"]) ck.String(n["name"], what + ": name", &r->name);
  what = "security.policy rule '" + r->name + "'";
  if (n["principals"]) ck.StringList(n["principals"], what + ": principals", &r->principals);
  if (n["groups"]) ck.StringList(n["groups"], what + ": groups", &r->groups);
  if (n["scopes"]) ck.StringList(n["scopes"], what + ": scopes", &r->scopes);
  if (r->principals.empty() && r->groups.empty() && r->scopes.empty()) {
    ck.Error(n, what + ": names no caller; give principals, groups or scopes (principals: [\"*\"] = any authenticated caller)");
  }
  if (!n["entities"]) ck.Error(n, what + ": 'entities' is required (\"*\" = all)");
  else ck.StringList(n["entities"], what + ": entities", &r->entities);
  if (!n["operations"]) {
    ck.Error(n, what + ": 'operations' is required (describe, get, query, create, update, delete, \"*\")");
  } else if (ck.StringList(n["operations"], what + ": operations", &r->operations)) {
    for (const auto& op : r->operations) {
      if (op != "*" && op != "describe" && op != "get" && op != "query" && op != "create" &&
          op != "update" && op != "delete") {
        ck.Error(n["operations"], what + ": unknown operation '" + op +
                                      "' (describe, get, query, create, update, delete, *)");
      }
    }
  }
  if (const YAML::Node rows = n["rows"]) {
    if (!rows.IsSequence()) {
      ck.Error(rows, what + ": rows must be a list of {field: F, claim: C} or {field: F, value: V}");
    } else {
      for (const auto& c : rows) {
        RowCondition rc;
        rc.location = LocOf(c);
        if (!ck.Keys(c, what + ": rows item", {"field", "claim", "value"})) continue;
        if (!c["field"]) ck.Error(c, what + ": rows item needs 'field'");
        else ck.String(c["field"], what + ": rows field", &rc.field);
        if (!!c["claim"] == !!c["value"]) {
          ck.Error(c, what + ": rows item needs exactly one of 'claim' (the caller's claim to compare with) or 'value'");
        }
        if (c["claim"]) ck.String(c["claim"], what + ": rows claim", &rc.claim);
        if (c["value"]) ck.String(c["value"], what + ": rows value", &rc.value);
        r->rows.push_back(std::move(rc));
      }
    }
  }
  if (n["personal_fields"]) ck.StringList(n["personal_fields"], what + ": personal_fields", &r->personal_fields);
  if (n["masked_fields"]) ck.StringList(n["masked_fields"], what + ": masked_fields", &r->masked_fields);
}

// Checks the policy against the entities the file declares. Entities without `fields` are
// checked again against their discovered schema when the server starts.
void CheckPolicy(Checker& ck, const YAML::Node& policy, const Config& cfg) {
  std::map<std::string, const EntityConfig*> by_name;
  for (const auto& e : cfg.entities) by_name[e.name] = &e;
  int i = 0;
  for (const auto& r : cfg.security.policy) {
    const YAML::Node n = policy[i++];
    const std::string what = "security.policy rule '" + r.name + "'";
    std::vector<const EntityConfig*> targets;
    for (const auto& name : r.entities) {
      if (name == "*") {
        for (const auto& e : cfg.entities) targets.push_back(&e);
        continue;
      }
      auto it = by_name.find(name);
      if (it == by_name.end()) {
        ck.Error(n["entities"], what + ": entity '" + name + "' is not defined under entities");
      } else {
        targets.push_back(it->second);
      }
    }
    for (const EntityConfig* e : targets) {
      if (e->all_fields) continue;
      auto field = [&](const std::string& f) -> const FieldConfig* {
        for (const auto& fc : e->fields) if (fc.name == f) return &fc;
        return nullptr;
      };
      for (const auto& rc : r.rows) {
        if (!rc.field.empty() && !field(rc.field)) {
          ck.Error(rc.location, what + ": row field '" + rc.field + "' is not a field of entity '" + e->name + "'");
        }
      }
      for (const auto* list : {&r.personal_fields, &r.masked_fields}) {
        for (const auto& f : *list) {
          if (f == "*") continue;
          const FieldConfig* fc = field(f);
          if (!fc) {
            ck.Error(n[list == &r.personal_fields ? "personal_fields" : "masked_fields"],
                     what + ": field '" + f + "' is not a field of entity '" + e->name + "'");
          } else if (!fc->personal_data) {
            ck.Error(n[list == &r.personal_fields ? "personal_fields" : "masked_fields"],
                     what + ": field '" + f + "' of entity '" + e->name +
                         "' is not marked personal_data; only personal-data fields are restricted");
          }
        }
      }
    }
  }
}

void ParseSecurity(Checker& ck, const YAML::Node& n, Config* cfg) {
  SecurityConfig& sec = cfg->security;
  sec.configured = true;
  sec.location = LocOf(n);
  if (!ck.Keys(n, "security", {"tls", "jwt", "policy", "audit"})) return;
  if (n["tls"]) ParseTls(ck, n["tls"], cfg->directory, &sec.tls);
  if (n["jwt"]) ParseJwt(ck, n["jwt"], cfg->directory, &sec.jwt);
  if (const YAML::Node a = n["audit"]) {
    sec.audit.location = LocOf(a);
    if (ck.Keys(a, "security.audit", {"file", "rotate_megabytes", "retention_days"})) {
      int mb = 0;
      if (a["rotate_megabytes"] && ck.Int(a["rotate_megabytes"], "security.audit.rotate_megabytes", 1, 1 << 20, &mb)) {
        sec.audit.rotate_bytes = static_cast<int64_t>(mb) << 20;
      }
      if (a["retention_days"]) {
        ck.Int(a["retention_days"], "security.audit.retention_days", 1, 36500, &sec.audit.retention_days);
      }
      if (!a["file"]) {
        ck.Error(a, "security.audit: 'file' is required");
      } else if (ck.String(a["file"], "security.audit.file", &sec.audit.file)) {
        std::filesystem::path p = sec.audit.file;
        if (p.is_relative()) p = std::filesystem::path(cfg->directory) / p;
        sec.audit.file = p.lexically_normal().string();
        std::error_code ec;
        if (!std::filesystem::is_directory(p.parent_path(), ec)) {
          ck.Error(a["file"], "security.audit.file: folder " + p.parent_path().string() + " does not exist");
        }
      }
    }
  }
  const YAML::Node policy = n["policy"];
  if (!policy) {
    ck.Error(n, "security: 'policy' is required; authorization is deny by default, so without rules nobody may do anything");
  } else if (!policy.IsSequence() || policy.size() == 0) {
    ck.Error(policy, "security.policy must be a list of rules");
  } else {
    int i = 0;
    for (const auto& r : policy) {
      PolicyRule rule;
      ParseRule(ck, r, i++, &rule);
      sec.policy.push_back(std::move(rule));
    }
  }
  if (!sec.jwt.enabled && sec.tls.client_ca_file.empty()) {
    ck.Error(n, "security: no way to identify callers; configure security.jwt or security.tls.client_ca_file");
  }
}

// Replaces ${NAME} by the environment variable and ${CONFIG_DIR} by the config's folder.
bool ExpandVariables(Checker& ck, const YAML::Node& at, const std::string& in,
                     const std::string& config_dir, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < in.size()) {
    size_t start = in.find("${", i);
    if (start == std::string::npos) {
      out->append(in, i, std::string::npos);
      break;
    }
    out->append(in, i, start - i);
    size_t end = in.find('}', start);
    if (end == std::string::npos) {
      ck.Error(at, "unterminated '${' in value");
      return false;
    }
    std::string name = in.substr(start + 2, end - start - 2);
    if (name == "CONFIG_DIR") {
      out->append(config_dir);
    } else {
      const char* v = std::getenv(name.c_str());
      if (!v) {
        ck.Error(at, "environment variable '" + name + "' is not set");
        return false;
      }
      out->append(v);
    }
    i = end + 1;
  }
  return true;
}

// Converts connector settings to a Struct, resolving {env: X}, {file: P} and ${...}.
bool SettingsValue(Checker& ck, const YAML::Node& node, const std::string& key,
                   const std::string& config_dir, google::protobuf::Value* out,
                   std::vector<std::string>* secrets) {
  if (node.IsMap() && node.size() == 1 && (node["env"] || node["file"])) {
    std::string secret;
    if (node["env"]) {
      std::string var = node["env"].Scalar();
      const char* v = std::getenv(var.c_str());
      if (!v) {
        ck.Error(node, "setting '" + key + "': environment variable '" + var + "' is not set");
        return false;
      }
      secret = v;
    } else {
      std::filesystem::path p = node["file"].Scalar();
      if (p.is_relative()) p = std::filesystem::path(config_dir) / p;
      std::ifstream in(p, std::ios::binary);
      if (!in) {
        ck.Error(node, "setting '" + key + "': cannot read secret file " + p.string() + ": " +
                           std::strerror(errno));
        return false;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      secret = ss.str();
      if (!secret.empty() && secret.back() == '\n') secret.pop_back();
      if (!secret.empty() && secret.back() == '\r') secret.pop_back();
    }
    if (!secret.empty()) secrets->push_back(secret);
    out->set_string_value(secret);
    return true;
  }
  if (node.IsMap()) {
    auto* fields = out->mutable_struct_value()->mutable_fields();
    for (const auto& kv : node) {
      std::string k = kv.first.as<std::string>();
      if (!SettingsValue(ck, kv.second, key + "." + k, config_dir, &(*fields)[k], secrets)) {
        return false;
      }
    }
    return true;
  }
  if (node.IsSequence()) {
    auto* list = out->mutable_list_value();
    int i = 0;
    for (const auto& item : node) {
      if (!SettingsValue(ck, item, key + "[" + std::to_string(i++) + "]", config_dir,
                         list->add_values(), secrets)) {
        return false;
      }
    }
    return true;
  }
  if (node.IsNull()) {
    out->set_null_value(google::protobuf::NULL_VALUE);
    return true;
  }
  // Scalars: YAML 1.2 core schema for plain scalars, text for quoted ones.
  const std::string& s = node.Scalar();
  if (node.Tag() != "!") {
    if (s == "true" || s == "false") {
      out->set_bool_value(s == "true");
      return true;
    }
    static const std::regex kNumber(R"(^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$)");
    if (std::regex_match(s, kNumber)) {
      out->set_number_value(std::strtod(s.c_str(), nullptr));
      return true;
    }
  }
  std::string expanded;
  if (!ExpandVariables(ck, node, s, config_dir, &expanded)) return false;
  out->set_string_value(expanded);
  return true;
}

void ParseField(Checker& ck, const std::string& entity, const std::string& name,
                const YAML::Node& node, FieldConfig* f) {
  f->name = name;
  f->column = name;
  f->location = LocOf(node);
  std::string what = "field '" + name + "' of entity '" + entity + "'";
  if (!ValidName(name, false)) {
    ck.Error(node, what + ": a field name must start with a letter and hold only letters, digits and '_'");
  }
  if (node.IsNull()) return;  // `field:` alone exposes raw field `field` as it is
  if (node.IsScalar()) {      // `field: RAW_COLUMN`
    f->column = node.Scalar();
    return;
  }
  if (!ck.Keys(node, what,
               {"column", "type", "trim", "format", "null_values", "decimal_separator",
                "grouping_separator", "scale", "codes", "charset", "personal_data", "read_only",
                "description"})) {
    return;
  }
  if (node["column"]) ck.String(node["column"], what + ": column", &f->column);
  if (node["type"]) {
    std::string t;
    if (ck.String(node["type"], what + ": type", &t)) {
      f->type = ParseFieldType(t);
      if (f->type == v1::FIELD_TYPE_UNSPECIFIED) {
        ck.Error(node["type"], what + ": unknown type '" + t +
                                   "' (bool, int64, double, decimal, string, bytes, date, time, timestamp)");
      }
    }
  }
  if (node["trim"]) {
    if (ck.String(node["trim"], what + ": trim", &f->trim) && f->trim != "none" &&
        f->trim != "left" && f->trim != "right" && f->trim != "both") {
      ck.Error(node["trim"], what + ": trim must be none, left, right or both, not '" + f->trim + "'");
    }
  }
  if (node["format"]) ck.String(node["format"], what + ": format", &f->format);
  if (node["null_values"]) ck.StringList(node["null_values"], what + ": null_values", &f->null_values);
  if (node["decimal_separator"]) ck.String(node["decimal_separator"], what + ": decimal_separator", &f->decimal_separator);
  if (node["grouping_separator"]) ck.String(node["grouping_separator"], what + ": grouping_separator", &f->grouping_separator);
  if (node["scale"]) ck.Int(node["scale"], what + ": scale", 0, 18, &f->scale);
  if (node["codes"]) {
    const YAML::Node& codes = node["codes"];
    if (!codes.IsMap()) {
      ck.Error(codes, what + ": codes must map raw values to API values");
    } else {
      std::set<std::string> raws, apis;
      for (const auto& kv : codes) {
        std::string raw = kv.first.Scalar(), api;
        if (!ck.String(kv.second, what + ": code '" + raw + "'", &api)) continue;
        if (!raws.insert(raw).second) ck.Error(kv.first, what + ": raw code '" + raw + "' appears twice");
        if (!apis.insert(api).second) {
          ck.Error(kv.second, what + ": value '" + api + "' is mapped from two raw codes; codes must be one-to-one");
        }
        f->codes.emplace_back(raw, api);
      }
    }
  }
  if (node["charset"]) ck.String(node["charset"], what + ": charset", &f->charset);
  if (node["personal_data"]) ck.Bool(node["personal_data"], what + ": personal_data", &f->personal_data);
  if (node["read_only"]) ck.Bool(node["read_only"], what + ": read_only", &f->read_only);
  if (node["description"]) ck.String(node["description"], what + ": description", &f->description);
}

void ParseEntity(Checker& ck, const std::string& name, const YAML::Node& node, EntityConfig* e) {
  e->name = name;
  e->location = LocOf(node);
  std::string what = "entity '" + name + "'";
  if (!ValidName(name, false)) {
    ck.Error(node, what + ": an entity name must start with a letter and hold only letters, digits and '_'");
  }
  if (!ck.Keys(node, what, {"source", "table", "description", "key", "operations", "fields"})) return;
  if (!node["source"]) ck.Error(node, what + ": 'source' is required");
  else ck.String(node["source"], what + ": source", &e->source);
  if (!node["table"]) ck.Error(node, what + ": 'table' is required (the raw entity in the source)");
  else ck.String(node["table"], what + ": table", &e->table);
  if (node["description"]) ck.String(node["description"], what + ": description", &e->description);
  if (node["key"]) ck.StringList(node["key"], what + ": key", &e->key);
  if (node["operations"]) {
    if (ck.StringList(node["operations"], what + ": operations", &e->operations)) {
      for (const auto& op : e->operations) {
        if (op != "get" && op != "query" && op != "create" && op != "update" && op != "delete") {
          ck.Error(node["operations"], what + ": unknown operation '" + op +
                                           "' (get, query, create, update, delete)");
        }
      }
    }
  }
  const YAML::Node fields = node["fields"];
  if (!fields) {
    e->all_fields = true;
    return;
  }
  if (!fields.IsMap() || fields.size() == 0) {
    ck.Error(fields, what + ": fields must map API field names to their raw fields");
    return;
  }
  std::set<std::string> seen;
  for (const auto& kv : fields) {
    FieldConfig f;
    ParseField(ck, name, kv.first.Scalar(), kv.second, &f);
    if (!seen.insert(f.name).second) ck.Error(kv.first, what + ": field '" + f.name + "' appears twice");
    e->fields.push_back(std::move(f));
  }
  for (const auto& k : e->key) {
    if (!seen.count(k)) ck.Error(node["key"], what + ": key field '" + k + "' is not among its fields");
  }
}

}  // namespace

Result<Config> ParseConfig(const std::string& yaml, const std::string& path) {
  Checker ck(path);
  Config cfg;
  cfg.path = path;
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  cfg.directory = abs.parent_path().string();

  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    ck.Error(ConfigLocation{e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg);
    return ck.ToStatus();
  }
  if (!root.IsMap()) {
    ck.Error(root, "the configuration must be a mapping with sources and entities");
    return ck.ToStatus();
  }
  std::vector<std::pair<std::string, YAML::Node>> listen_nodes;
  try {
    ck.Keys(root, "the configuration", {"server", "limits", "connectors", "sources", "entities", "security"});

    if (const YAML::Node s = root["server"]) {
      if (ck.Keys(s, "server", {"listen", "shutdown_grace_seconds", "reflection", "health_interval_seconds",
                                "page_token_key_file"})) {
        if (const YAML::Node listen = s["listen"]) {
          // Items are "host:port" or {address: "host:port", plaintext: true}.
          cfg.server.listen.clear();
          std::vector<YAML::Node> items;
          if (listen.IsSequence()) {
            for (const auto& item : listen) items.push_back(item);
          } else {
            items.push_back(listen);
          }
          static const std::regex kAddr(R"(^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):([0-9]{1,5})$)");
          for (const auto& item : items) {
            std::string a;
            bool plaintext = false;
            if (item.IsMap()) {
              if (!ck.Keys(item, "server.listen item", {"address", "plaintext"})) continue;
              if (!item["address"]) {
                ck.Error(item, "server.listen item: 'address' is required");
                continue;
              }
              if (!ck.String(item["address"], "server.listen address", &a)) continue;
              if (item["plaintext"]) ck.Bool(item["plaintext"], "server.listen plaintext", &plaintext);
            } else if (!ck.String(item, "server.listen", &a)) {
              continue;
            }
            std::smatch m;
            if (!std::regex_match(a, m, kAddr) || std::stoi(m[2]) > 65535) {
              ck.Error(item, "server.listen: '" + a + "' is not host:port");
            }
            cfg.server.listen.push_back(a);
            if (plaintext) cfg.security.plaintext_listen.push_back(a);
            listen_nodes.emplace_back(a, item);
          }
          if (cfg.server.listen.empty()) ck.Error(listen, "server.listen: at least one address");
        }
        if (s["shutdown_grace_seconds"]) ck.Int(s["shutdown_grace_seconds"], "server.shutdown_grace_seconds", 0, 3600, &cfg.server.shutdown_grace_seconds);
        if (s["reflection"]) ck.Bool(s["reflection"], "server.reflection", &cfg.server.reflection);
        if (s["health_interval_seconds"]) ck.Int(s["health_interval_seconds"], "server.health_interval_seconds", 1, 3600, &cfg.server.health_interval_seconds);
        if (const YAML::Node k = s["page_token_key_file"]) {
          std::string file;
          if (ReadableFile(ck, k, "server.page_token_key_file", cfg.directory, &file)) {
            if (!ParsePageTokenKey(file, &cfg.server.page_token_key)) {
              ck.Error(k, "server.page_token_key_file: " + file +
                              " must hold 32 random bytes as 64 hex digits (openssl rand -hex 32)");
            }
          }
        }
      }
    }
    if (const YAML::Node l = root["limits"]) {
      if (ck.Keys(l, "limits", {"max_batch_records", "default_batch_records", "max_receive_message_bytes",
                                "max_send_message_bytes", "default_deadline_seconds",
                                "max_concurrent_calls_per_principal", "rate_limit_per_second",
                                "rate_limit_burst", "max_concurrent_streams_per_connection",
                                "keepalive_min_ping_interval_seconds", "max_connection_idle_seconds"})) {
        struct IntLimit {
          const char* key;
          long min, max;
          int* out;
        };
        const IntLimit more[] = {
            {"max_send_message_bytes", 1024, 1 << 30, &cfg.limits.max_send_message_bytes},
            {"default_deadline_seconds", 1, 86400, &cfg.limits.default_deadline_seconds},
            {"max_concurrent_calls_per_principal", 1, 100000, &cfg.limits.max_concurrent_calls_per_principal},
            {"rate_limit_per_second", 0, 1000000, &cfg.limits.rate_limit_per_second},
            {"rate_limit_burst", 1, 1000000, &cfg.limits.rate_limit_burst},
            {"max_concurrent_streams_per_connection", 1, 100000, &cfg.limits.max_concurrent_streams_per_connection},
            {"keepalive_min_ping_interval_seconds", 1, 86400, &cfg.limits.keepalive_min_ping_interval_seconds},
            {"max_connection_idle_seconds", 1, 86400 * 7, &cfg.limits.max_connection_idle_seconds},
        };
        for (const auto& m : more) {
          if (l[m.key]) ck.Int(l[m.key], std::string("limits.") + m.key, m.min, m.max, m.out);
        }
        if (l["max_batch_records"]) ck.Int(l["max_batch_records"], "limits.max_batch_records", 1, 100000, &cfg.limits.max_batch_records);
        if (l["default_batch_records"]) ck.Int(l["default_batch_records"], "limits.default_batch_records", 1, 100000, &cfg.limits.default_batch_records);
        if (l["max_receive_message_bytes"]) ck.Int(l["max_receive_message_bytes"], "limits.max_receive_message_bytes", 1024, 1 << 30, &cfg.limits.max_receive_message_bytes);
        if (cfg.limits.default_batch_records > cfg.limits.max_batch_records) {
          ck.Error(l, "limits.default_batch_records is larger than limits.max_batch_records");
        }
      }
    }
    if (const YAML::Node c = root["connectors"]) {
      if (ck.Keys(c, "connectors", {"search_path"}) && c["search_path"]) {
        ck.StringList(c["search_path"], "connectors.search_path", &cfg.connector_search_path);
        for (auto& p : cfg.connector_search_path) {
          if (std::filesystem::path(p).is_relative()) p = (std::filesystem::path(cfg.directory) / p).string();
        }
      }
    }

    const YAML::Node sources = root["sources"];
    if (!sources || !sources.IsMap() || sources.size() == 0) {
      ck.Error(sources ? sources : root, "'sources' must name at least one source");
    } else {
      for (const auto& kv : sources) {
        SourceConfig src;
        src.name = kv.first.Scalar();
        src.location = LocOf(kv.first);
        std::string what = "source '" + src.name + "'";
        if (!ValidName(src.name, true)) ck.Error(kv.first, what + ": a source name must start with a letter and hold only letters, digits, '_' and '-'");
        if (ck.Keys(kv.second, what, {"connector", "settings"})) {
          if (!kv.second["connector"]) ck.Error(kv.second, what + ": 'connector' is required");
          else ck.String(kv.second["connector"], what + ": connector", &src.connector);
          if (const YAML::Node st = kv.second["settings"]) {
            if (!st.IsMap()) {
              ck.Error(st, what + ": settings must be a mapping");
            } else {
              for (const auto& s : st) {
                std::string key = s.first.Scalar();
                SettingsValue(ck, s.second, key, cfg.directory, &(*src.settings.mutable_fields())[key],
                              &src.secret_values);
              }
            }
          }
        }
        cfg.sources.push_back(std::move(src));
      }
    }

    const YAML::Node entities = root["entities"];
    if (!entities || !entities.IsMap() || entities.size() == 0) {
      ck.Error(entities ? entities : root, "'entities' must name at least one entity");
    } else {
      for (const auto& kv : entities) {
        EntityConfig e;
        ParseEntity(ck, kv.first.Scalar(), kv.second, &e);
        e.location = LocOf(kv.first);
        bool known = false;
        for (const auto& s : cfg.sources) known = known || s.name == e.source;
        if (!e.source.empty() && !known) {
          ck.Error(kv.second["source"], "entity '" + e.name + "': source '" + e.source + "' is not defined under sources");
        }
        cfg.entities.push_back(std::move(e));
      }
    }

    if (const YAML::Node sec = root["security"]) {
      ParseSecurity(ck, sec, &cfg);
      if (sec.IsMap() && sec["policy"] && sec["policy"].IsSequence()) CheckPolicy(ck, sec["policy"], cfg);
      bool personal = false;
      for (const auto& e : cfg.entities) {
        for (const auto& f : e.fields) personal = personal || f.personal_data;
      }
      if (sec.IsMap() && personal && !sec["audit"]) {
        ck.Error(sec, "security: entities hold personal_data fields, so security.audit.file is required "
                      "(every access to personal data is audited)");
      }
    }
    // Plain text stays on this machine unless a listener says otherwise, explicitly.
    for (const auto& [addr, node] : listen_nodes) {
      const bool marked = std::find(cfg.security.plaintext_listen.begin(), cfg.security.plaintext_listen.end(),
                                    addr) != cfg.security.plaintext_listen.end();
      if (IsLoopbackAddress(addr) || marked) continue;
      if (!cfg.security.tls.enabled) {
        ck.Error(node, "server.listen: '" + addr + "' is not a loopback address; configure security.tls "
                       "(or, behind a TLS-terminating proxy on a trusted network, write {address: " + addr +
                       ", plaintext: true})");
      }
      if (!cfg.security.configured) {
        ck.Error(node, "server.listen: '" + addr + "' is not a loopback address; callers beyond this "
                       "machine need a security section (identification, policy, audit)");
      }
    }
  } catch (const YAML::Exception& e) {
    ck.Error(ConfigLocation{e.mark.line + 1, e.mark.column + 1}, "invalid configuration: " + e.msg);
  }
  if (!ck.ok()) return ck.ToStatus();
  return cfg;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound("config file " + path + " does not exist", "CONFIG_NOT_FOUND");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return FailedPrecondition("cannot read config file " + path + ": " + std::strerror(errno),
                              "CONFIG_UNREADABLE");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace fachadapter
