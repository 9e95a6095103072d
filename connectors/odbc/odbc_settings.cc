#include "odbc_settings.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <string_view>

#include "fachadapter/values.h"

namespace fachadapter::odbc {

namespace {

struct IntSetting {
  const char* key;
  int32_t OdbcSettings::*member;
  int32_t min;
  int32_t max;
};

constexpr IntSetting kIntSettings[] = {
    {"batch_size", &OdbcSettings::batch_size, 1, 100000},
    {"pool_size", &OdbcSettings::pool_size, 1, 1024},
    {"login_timeout_seconds", &OdbcSettings::login_timeout_seconds, 0, 3600},
    {"scan_chunk_rows", &OdbcSettings::scan_chunk_rows, 0, 100000000},
};

constexpr const char* kStringSettings[] = {"connection_string", "schema"};

Status Bad(const std::string& key, const std::string& what) {
  return InvalidArgument("setting '" + key + "' " + what, "INVALID_SETTING", key);
}

using google::protobuf::Value;

Status Unknown(const std::string& path, const std::string& key, const char* known) {
  std::string full = path.empty() ? key : path + "." + key;
  return InvalidArgument("unknown setting '" + full + "' for the odbc connector (known: " + known + ")",
                         "INVALID_SETTING", full);
}

// An entity or parameter name: it becomes a raw name the core maps, so keep it plain.
bool PlainName(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
}

Result<const google::protobuf::Struct*> MapOf(const Value& v, const std::string& path) {
  if (!v.has_struct_value()) return Bad(path, "must be a map");
  return &v.struct_value();
}

Result<std::vector<std::string>> NameList(const Value& v, const std::string& path) {
  if (!v.has_list_value()) return Bad(path, "must be a list of column names, e.g. [id]");
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (int i = 0; i < v.list_value().values_size(); ++i) {
    const Value& item = v.list_value().values(i);
    std::string where = path + "[" + std::to_string(i) + "]";
    if (!item.has_string_value() || item.string_value().empty()) return Bad(where, "must be a column name");
    if (!seen.insert(item.string_value()).second) {
      return Bad(where, "names column '" + item.string_value() + "' twice");
    }
    out.push_back(item.string_value());
  }
  if (out.empty()) return Bad(path, "must name at least one column");
  return out;
}

Result<bool> BoolOf(const Value& v, const std::string& path) {
  if (v.has_bool_value()) return v.bool_value();
  return Bad(path, "must be true or false");
}

Result<std::vector<ViewSettings>> ParseViews(const Value& v) {
  FA_ASSIGN_OR_RETURN(const google::protobuf::Struct* views, MapOf(v, "views"));
  std::vector<ViewSettings> out;
  for (const auto& [name, body] : views->fields()) {
    std::string path = "views." + name;
    FA_ASSIGN_OR_RETURN(const google::protobuf::Struct* m, MapOf(body, path));
    ViewSettings view;
    view.name = name;
    bool have_key = false;
    for (const auto& [key, value] : m->fields()) {
      if (key == "key") {
        FA_ASSIGN_OR_RETURN(view.key, NameList(value, path + ".key"));
        have_key = true;
      } else if (key == "writable") {
        FA_ASSIGN_OR_RETURN(view.writable, BoolOf(value, path + ".writable"));
      } else {
        return Unknown(path, key, "key, writable");
      }
    }
    if (!have_key) return Bad(path + ".key", "is required: the columns that identify a row of the view");
    out.push_back(std::move(view));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<QuerySettings>> ParseQueries(const Value& v) {
  FA_ASSIGN_OR_RETURN(const google::protobuf::Struct* queries, MapOf(v, "queries"));
  std::vector<QuerySettings> out;
  for (const auto& [name, body] : queries->fields()) {
    std::string path = "queries." + name;
    if (!PlainName(name)) {
      return Bad(path, "has a name that is not plain: use letters, digits and '_', starting with a letter");
    }
    FA_ASSIGN_OR_RETURN(const google::protobuf::Struct* m, MapOf(body, path));
    QuerySettings q;
    q.name = name;
    for (const auto& [key, value] : m->fields()) {
      if (key == "sql") {
        if (!value.has_string_value() || value.string_value().find_first_not_of(" \t\r\n;") == std::string::npos) {
          return Bad(path + ".sql", "must be the text of a SELECT statement");
        }
        q.sql = value.string_value();
      } else if (key == "parameters") {
        FA_ASSIGN_OR_RETURN(const google::protobuf::Struct* params, MapOf(value, path + ".parameters"));
        for (const auto& [pname, ptype] : params->fields()) {
          std::string ppath = path + ".parameters." + pname;
          if (!PlainName(pname) || pname.find('.') != std::string::npos) {
            return Bad(ppath, "is not a plain name (letters, digits, '_', starting with a letter or '_')");
          }
          v1::FieldType type = ptype.has_string_value() ? ParseFieldType(ptype.string_value())
                                                        : v1::FIELD_TYPE_UNSPECIFIED;
          if (type == v1::FIELD_TYPE_UNSPECIFIED) {
            return Bad(ppath, "must be a type: bool, int64, double, decimal, string, bytes, date, time or timestamp");
          }
          q.parameters.push_back({pname, type});
        }
        std::sort(q.parameters.begin(), q.parameters.end(),
                  [](const auto& a, const auto& b) { return a.name < b.name; });
      } else if (key == "key") {
        FA_ASSIGN_OR_RETURN(q.key, NameList(value, path + ".key"));
      } else {
        return Unknown(path, key, "sql, parameters, key");
      }
    }
    if (q.sql.empty()) return Bad(path + ".sql", "is required: the SELECT statement of the query");
    out.push_back(std::move(q));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace

Result<OdbcSettings> ParseSettings(const google::protobuf::Struct& settings) {
  OdbcSettings out;
  bool have_connection_string = false;
  for (const auto& [key, value] : settings.fields()) {
    bool known = false;
    for (const IntSetting& s : kIntSettings) {
      if (key != s.key) continue;
      known = true;
      double d = 0;
      if (value.has_number_value()) {
        d = value.number_value();
      } else if (value.has_string_value()) {
        // YAML scalars may arrive as strings; accept plain integers only.
        const std::string& t = value.string_value();
        size_t pos = 0;
        try {
          d = static_cast<double>(std::stoll(t, &pos));
        } catch (...) {
          pos = 0;
        }
        if (t.empty() || pos != t.size()) return Bad(key, "must be an integer, not '" + t + "'");
      } else {
        return Bad(key, "must be an integer");
      }
      if (std::floor(d) != d || d < s.min || d > s.max) {
        return Bad(key, "must be an integer from " + std::to_string(s.min) + " to " +
                            std::to_string(s.max));
      }
      out.*s.member = static_cast<int32_t>(d);
    }
    for (const char* s : kStringSettings) {
      if (key != s) continue;
      known = true;
      if (!value.has_string_value()) return Bad(key, "must be a string");
      if (key == "connection_string") {
        if (value.string_value().empty()) return Bad(key, "must not be empty");
        out.connection_string = value.string_value();
        have_connection_string = true;
      } else {
        out.schema = value.string_value();
      }
    }
    if (key == "fetch_ahead") {
      known = true;
      FA_ASSIGN_OR_RETURN(out.fetch_ahead, BoolOf(value, key));
    } else if (key == "views") {
      known = true;
      FA_ASSIGN_OR_RETURN(out.views, ParseViews(value));
    } else if (key == "queries") {
      known = true;
      FA_ASSIGN_OR_RETURN(out.queries, ParseQueries(value));
    }
    if (!known) {
      return Unknown("", key,
                     "connection_string, batch_size, pool_size, login_timeout_seconds, scan_chunk_rows, "
                     "fetch_ahead, schema, views, queries");
    }
  }
  if (!have_connection_string) {
    return InvalidArgument(
        "setting 'connection_string' is required (e.g. \"DSN=mydb\" or "
        "\"Driver=SQLite3;Database=/path/file.db\")",
        "MISSING_SETTING", "connection_string");
  }
  return out;
}

}  // namespace fachadapter::odbc
