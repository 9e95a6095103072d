// Config validation: every mistake is reported with file, line and a plain message.
#include <gtest/gtest.h>

#include <cstdlib>

#include "fachadapter/config.h"
#include "test_util.h"

namespace fachadapter {
namespace {

constexpr char kGood[] = R"(server:
  listen: 127.0.0.1:0
sources:
  gewerbe:
    connector: odbc
    settings:
      connection_string: "Driver=SQLite3;Database=${CONFIG_DIR}/x.db"
      batch_size: 500
entities:
  Gewerbebetrieb:
    source: gewerbe
    table: GEW_BETRIEB
    fields:
      nummer: {column: BETR_NR, type: int64, read_only: true}
      beginn: {column: GEW_BEG_DAT, type: date, format: YYYYMMDD, null_values: ["00000000"]}
      rechtsform: {column: RF_CD, codes: {"1": Einzelunternehmen, "2": GmbH}}
)";

TEST(ConfigTest, ParsesAValidConfig) {
  auto c = ParseConfig(kGood, "/etc/fachadapter/test.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->server.listen, std::vector<std::string>{"127.0.0.1:0"});
  ASSERT_EQ(c->sources.size(), 1u);
  const auto& s = c->sources[0].settings.fields();
  EXPECT_EQ(s.at("connection_string").string_value(), "Driver=SQLite3;Database=/etc/fachadapter/x.db");
  EXPECT_EQ(s.at("batch_size").number_value(), 500);
  ASSERT_EQ(c->entities.size(), 1u);
  const auto& e = c->entities[0];
  ASSERT_EQ(e.fields.size(), 3u);
  EXPECT_EQ(e.fields[1].format, "YYYYMMDD");
  EXPECT_EQ(e.fields[1].null_values, std::vector<std::string>{"00000000"});
  EXPECT_EQ(e.fields[2].codes.size(), 2u);
  EXPECT_EQ(e.fields[1].location.line, 15);
}

void ExpectError(const std::string& yaml, const std::string& where, const std::string& what) {
  auto c = ParseConfig(yaml, "cfg.yaml");
  ASSERT_FALSE(c.ok()) << "accepted:\n" << yaml;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().reason(), "INVALID_CONFIG");
  EXPECT_NE(c.status().message().find(where), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find(what), std::string::npos) << c.status().message();
}

TEST(ConfigTest, UnknownKeyNamesLineAndAllowedKeys) {
  std::string y = kGood;
  y.replace(y.find("    table:"), 10, "    tabel:");
  ExpectError(y, "cfg.yaml:12:", "unknown key 'tabel'");
}

TEST(ConfigTest, YamlSyntaxError) { ExpectError("sources: [unclosed\n", "cfg.yaml:", "YAML syntax error"); }

TEST(ConfigTest, WrongTypesAndRanges) {
  std::string y = kGood;
  y.replace(y.find("type: int64"), 11, "type: integer");
  ExpectError(y, "cfg.yaml:14:", "unknown type 'integer'");
  y = kGood;
  y.replace(y.find("127.0.0.1:0"), 11, "127.0.0.1");
  ExpectError(y, "cfg.yaml:2:", "is not host:port");
  ExpectError(std::string(kGood) + "limits:\n  max_batch_records: many\n", "cfg.yaml:18:",
              "limits.max_batch_records must be a whole number");
}

TEST(ConfigTest, EntityOnUndefinedSource) {
  std::string y = kGood;
  y.replace(y.find("source: gewerbe"), 15, "source: gewrbe");
  ExpectError(y, "cfg.yaml:11:", "source 'gewrbe' is not defined");
}

TEST(ConfigTest, CodesMustBeOneToOne) {
  std::string y = kGood;
  y.replace(y.find("\"2\": GmbH"), 9, "\"2\": Einzelunternehmen");
  ExpectError(y, "cfg.yaml:16:", "codes must be one-to-one");
}

TEST(ConfigTest, ReportsEveryMistakeAtOnce) {
  std::string y = kGood;
  y.replace(y.find("type: int64"), 11, "type: integer");
  y.replace(y.find("    table:"), 10, "    tabel:");
  auto c = ParseConfig(y, "cfg.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown type"), std::string::npos);
  EXPECT_NE(c.status().message().find("unknown key 'tabel'"), std::string::npos);
}

TEST(ConfigTest, SecretsFromEnvironmentAndFile) {
  testing::TempDir dir;
  testing::WriteFile(dir / "pw.txt", "s3cr3t-from-file\n");
  ::setenv("FACHADAPTER_TEST_SECRET", "s3cr3t-from-env", 1);
  std::string y = std::string(kGood);
  y.replace(y.find("      batch_size: 500"), 21,
            "      password: {env: FACHADAPTER_TEST_SECRET}\n      other: {file: pw.txt}");
  auto c = ParseConfig(y, (dir / "cfg.yaml").string());
  ASSERT_TRUE(c.ok()) << c.status().message();
  const auto& s = c->sources[0].settings.fields();
  EXPECT_EQ(s.at("password").string_value(), "s3cr3t-from-env");
  EXPECT_EQ(s.at("other").string_value(), "s3cr3t-from-file");
  EXPECT_EQ(c->sources[0].secret_values.size(), 2u);

  ::unsetenv("FACHADAPTER_TEST_SECRET");
  auto missing = ParseConfig(y, (dir / "cfg.yaml").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("FACHADAPTER_TEST_SECRET' is not set"), std::string::npos);
  EXPECT_EQ(missing.status().message().find("s3cr3t"), std::string::npos);  // never the value
}

TEST(ConfigTest, MissingFile) {
  auto c = LoadConfigFile("/nonexistent/fachadapter.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("/nonexistent/fachadapter.yaml"), std::string::npos);
}

TEST(ConfigTest, NotAMapping) { ExpectError("- just\n- a list\n", "cfg.yaml:1:1", "must be a mapping"); }

}  // namespace
}  // namespace fachadapter
