// The settings of configured views and named queries, and how ":name" placeholders become '?'
// (ReplaceNamedParameters): literals, quoted identifiers, comments and PostgreSQL casts keep
// their colons; mistakes are INVALID_ARGUMENT naming the setting.
#include <gtest/gtest.h>
#include <google/protobuf/util/json_util.h>

#include <string>
#include <vector>

#include "named_query.h"
#include "odbc_settings.h"

namespace fachadapter::odbc {
namespace {

Result<OdbcSettings> Parse(const std::string& json_without_connection_string) {
  google::protobuf::Struct s;
  std::string json = "{\"connection_string\": \"DSN=x\"" +
                     (json_without_connection_string.empty() ? "" : ", " + json_without_connection_string) + "}";
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
  return ParseSettings(s);
}

QuerySettings Query(std::string sql, std::vector<QueryParameter> params) {
  QuerySettings q;
  q.name = "q";
  q.sql = std::move(sql);
  q.parameters = std::move(params);
  return q;
}

TEST(NamedQuerySettingsTest, ParsesViewsAndQueries) {
  auto s = Parse(R"("views": {"V": {"key": ["A", "B"], "writable": true}},
                    "queries": {"q2": {"sql": "SELECT 1 AS x"}, "q1": {"sql": "SELECT a FROM t WHERE b = :b",
                                "parameters": {"b": "date"}, "key": ["a"]}})");
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->views.size(), 1u);
  EXPECT_EQ(s->views[0].name, "V");
  EXPECT_EQ(s->views[0].key, (std::vector<std::string>{"A", "B"}));
  EXPECT_TRUE(s->views[0].writable);
  ASSERT_EQ(s->queries.size(), 2u);
  EXPECT_EQ(s->queries[0].name, "q1");  // sorted by name
  ASSERT_EQ(s->queries[0].parameters.size(), 1u);
  EXPECT_EQ(s->queries[0].parameters[0].type, v1::FIELD_TYPE_DATE);
  EXPECT_EQ(s->queries[0].key, (std::vector<std::string>{"a"}));
  EXPECT_TRUE(s->queries[1].parameters.empty());
}

TEST(NamedQuerySettingsTest, MistakesNameTheSetting) {
  struct Case {
    const char* json;
    const char* field;
  };
  for (const Case& c : {
           Case{R"("views": {"V": {}})", "views.V.key"},
           Case{R"("views": {"V": {"key": []}})", "views.V.key"},
           Case{R"("views": {"V": {"key": ["a", "a"]}})", "views.V.key[1]"},
           Case{R"("views": {"V": {"key": ["a"], "writable": "yes"}})", "views.V.writable"},
           Case{R"("views": ["V"])", "views"},
           Case{R"("queries": {"q": {"parameters": {}}})", "queries.q.sql"},
           Case{R"("queries": {"q": {"sql": " ; "}})", "queries.q.sql"},
           Case{R"("queries": {"q": {"sql": "SELECT 1", "params": {}}})", "queries.q.params"},
           Case{R"("queries": {"q": {"sql": "SELECT 1", "parameters": {"p": "varchar"}}})", "queries.q.parameters.p"},
           Case{R"("queries": {"q": {"sql": "SELECT 1", "parameters": {"p": 3}}})", "queries.q.parameters.p"},
           Case{R"("queries": {"1q": {"sql": "SELECT 1"}})", "queries.1q"},
           Case{R"("querys": {})", "querys"},
       }) {
    auto s = Parse(c.json);
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_EQ(s.status().field(), c.field) << c.json << ": " << s.status().message();
    EXPECT_NE(s.status().message().find(c.field), std::string::npos) << s.status().message();
  }
}

TEST(ReplaceNamedParametersTest, ReplacesPlaceholdersOnly) {
  auto r = ReplaceNamedParameters(Query(
      "SELECT a::text, 'x :no' AS \"c:no\", `d:no` -- :no\n"
      "FROM t /* :no */ WHERE b = :b AND (c > :c OR c = :b) AND e := 1 AND f[1:2] = g;;  \n",
      {{"b", v1::FIELD_TYPE_STRING}, {"c", v1::FIELD_TYPE_INT64}}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->sql,
            "SELECT a::text, 'x :no' AS \"c:no\", `d:no` -- :no\n"
            "FROM t /* :no */ WHERE b = ? AND (c > ? OR c = ?) AND e := 1 AND f[1:2] = g");
  EXPECT_EQ(r->placeholders, (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(r->first_use, (std::vector<int>{0, 1}));
}

TEST(ReplaceNamedParametersTest, RefusesWhatCannotBeBoundSafely) {
  struct Case {
    const char* sql;
    const char* field;
    const char* needle;
  };
  for (const Case& c : {
           Case{"SELECT a FROM t WHERE b = :x", "queries.q.sql", ":x"},
           Case{"SELECT a FROM t WHERE b = ?", "queries.q.sql", "named parameters"},
           Case{"SELECT a FROM t WHERE b = 'open", "queries.q.sql", "unterminated"},
           Case{"SELECT a FROM t /* open", "queries.q.sql", "unterminated"},
           Case{"SELECT a FROM t", "queries.q.parameters.b", "no placeholder :b"},
           Case{"SELECT a FROM t WHERE c = ':b'", "queries.q.parameters.b", "no placeholder :b"},
       }) {
    auto r = ReplaceNamedParameters(Query(c.sql, {{"b", v1::FIELD_TYPE_STRING}}));
    ASSERT_FALSE(r.ok()) << c.sql;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().field(), c.field) << c.sql;
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace fachadapter::odbc
