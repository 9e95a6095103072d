// Config loading. The checks are strict on purpose: an operator's typo must be an error with
// its line, never a silently ignored setting.
#include "fachadapter/config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
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
  try {
    ck.Keys(root, "the configuration", {"server", "limits", "connectors", "sources", "entities"});

    if (const YAML::Node s = root["server"]) {
      if (ck.Keys(s, "server", {"listen", "shutdown_grace_seconds", "reflection", "health_interval_seconds"})) {
        if (s["listen"]) {
          ck.StringList(s["listen"], "server.listen", &cfg.server.listen);
          static const std::regex kAddr(R"(^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):([0-9]{1,5})$)");
          for (const auto& a : cfg.server.listen) {
            std::smatch m;
            if (!std::regex_match(a, m, kAddr) || std::stoi(m[2]) > 65535) {
              ck.Error(s["listen"], "server.listen: '" + a + "' is not host:port");
            }
          }
          if (cfg.server.listen.empty()) ck.Error(s["listen"], "server.listen: at least one address");
        }
        if (s["shutdown_grace_seconds"]) ck.Int(s["shutdown_grace_seconds"], "server.shutdown_grace_seconds", 0, 3600, &cfg.server.shutdown_grace_seconds);
        if (s["reflection"]) ck.Bool(s["reflection"], "server.reflection", &cfg.server.reflection);
        if (s["health_interval_seconds"]) ck.Int(s["health_interval_seconds"], "server.health_interval_seconds", 1, 3600, &cfg.server.health_interval_seconds);
      }
    }
    if (const YAML::Node l = root["limits"]) {
      if (ck.Keys(l, "limits", {"max_batch_records", "default_batch_records", "max_receive_message_bytes"})) {
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
