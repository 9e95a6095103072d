#include "odbc_settings.h"

#include <cmath>
#include <string_view>

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
};

constexpr const char* kStringSettings[] = {"connection_string", "schema"};

Status Bad(const std::string& key, const std::string& what) {
  return InvalidArgument("setting '" + key + "' " + what, "INVALID_SETTING", key);
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
    if (!known) {
      return InvalidArgument("unknown setting '" + key +
                                 "' for the odbc connector (known: connection_string, batch_size, "
                                 "pool_size, login_timeout_seconds, schema)",
                             "INVALID_SETTING", key);
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
