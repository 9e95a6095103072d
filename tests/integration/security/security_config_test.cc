// The `security` section and listener rules of the config: every mistake names its line.
#include <gtest/gtest.h>

#include "fachadapter/config.h"
#include "test_util.h"

namespace fachadapter {
namespace {

using testing::TempDir;
using testing::WriteFile;

class SecurityConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "jwks.json", "{\"keys\":[]}");
    WriteFile(dir_ / "cert.pem", "x");
    WriteFile(dir_ / "key.pem", "x");
  }
  Result<Config> Parse(const std::string& head, const std::string& security) {
    std::string yaml = head + R"(
sources:
  s: {connector: odbc}
entities:
  E:
    source: s
    table: T
    fields:
      id: ID
      name: {column: NAME, personal_data: true}
      plz: PLZ
)" + security;
    return ParseConfig(yaml, (dir_ / "c.yaml").string());
  }
  static std::string Message(const Result<Config>& r) { return r.ok() ? "" : r.status().message(); }
  TempDir dir_;
};

constexpr char kJwt[] = "  jwt: {jwks_file: jwks.json, issuer: i, audience: a}\n";

TEST_F(SecurityConfigTest, NoSecuritySectionKeepsLoopbackPlainText) {
  auto c = Parse("server: {listen: 127.0.0.1:0}", "");
  ASSERT_TRUE(c.ok()) << Message(c);
  EXPECT_FALSE(c->security.configured);
}

TEST_F(SecurityConfigTest, NonLoopbackNeedsTls) {
  auto c = Parse("server:\n  listen: [127.0.0.1:1, 0.0.0.0:50051]", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(Message(c).find("c.yaml:2:"), std::string::npos) << Message(c);
  EXPECT_NE(Message(c).find("'0.0.0.0:50051' is not a loopback address; configure security.tls"), std::string::npos);
}

TEST_F(SecurityConfigTest, ExplicitPlaintextListenerIsAllowedWithSecurity) {
  auto c = Parse("server:\n  listen: [{address: 10.0.0.1:50051, plaintext: true}]",
                 std::string("security:\n") + kJwt + "  audit: {file: a.log}\n  policy:\n    - {principals: [\"*\"], entities: [E], operations: [query]}\n");
  ASSERT_TRUE(c.ok()) << Message(c);
  EXPECT_EQ(c->security.plaintext_listen, std::vector<std::string>{"10.0.0.1:50051"});
  EXPECT_EQ(c->security.audit.file, (dir_ / "a.log").string());
}

TEST_F(SecurityConfigTest, AuditRotationAndRetentionAreRead) {
  auto c = Parse("", std::string("security:\n") + kJwt +
                         "  audit: {file: a.log, rotate_megabytes: 5, retention_days: 30}\n"
                         "  policy:\n    - {principals: [\"*\"], entities: [E], operations: [query]}\n");
  ASSERT_TRUE(c.ok()) << Message(c);
  EXPECT_EQ(c->security.audit.rotate_bytes, 5 << 20);
  EXPECT_EQ(c->security.audit.retention_days, 30);
  auto bad = Parse("", std::string("security:\n") + kJwt +
                           "  audit: {file: a.log, retention_days: 0}\n"
                           "  policy:\n    - {principals: [\"*\"], entities: [E], operations: [query]}\n");
  EXPECT_FALSE(bad.ok());
}

TEST_F(SecurityConfigTest, TlsSectionIsChecked) {
  auto c = Parse("", "security:\n  tls: {cert_file: cert.pem, key_file: missing.pem, client_auth: require}\n" +
                         std::string(kJwt) + "  audit: {file: a.log}\n  policy:\n    - {principals: [\"*\"], entities: [E], operations: [query]}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(Message(c).find("security.tls.key_file: cannot read"), std::string::npos) << Message(c);
  EXPECT_NE(Message(c).find("'require' needs client_ca_file"), std::string::npos) << Message(c);
}

TEST_F(SecurityConfigTest, PolicyMistakesNameTheirLines) {
  auto c = Parse("", std::string("security:\n") + kJwt + R"(  audit: {file: a.log}
  policy:
    - name: r1
      principals: ["*"]
      entities: [E, F]
      operations: [query, read]
      rows: [{field: gemeinde, claim: ags}]
      personal_fields: [plz]
    - entities: [E]
      operations: [get]
)");
  ASSERT_FALSE(c.ok());
  const std::string m = Message(c);
  EXPECT_NE(m.find("unknown operation 'read'"), std::string::npos) << m;
  EXPECT_NE(m.find("entity 'F' is not defined"), std::string::npos) << m;
  EXPECT_NE(m.find("row field 'gemeinde' is not a field of entity 'E'"), std::string::npos) << m;
  EXPECT_NE(m.find("field 'plz' of entity 'E' is not marked personal_data"), std::string::npos) << m;
  EXPECT_NE(m.find("names no caller"), std::string::npos) << m;
  EXPECT_NE(m.find("c.yaml:20:14: security.policy rule 'r1': row field"), std::string::npos) << m;
}

TEST_F(SecurityConfigTest, PersonalDataNeedsAnAuditLogAndCallersAWayIn) {
  auto c = Parse("", "security:\n  policy:\n    - {principals: [\"*\"], entities: [E], operations: [query]}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(Message(c).find("security.audit.file is required"), std::string::npos) << Message(c);
  EXPECT_NE(Message(c).find("no way to identify callers"), std::string::npos) << Message(c);
}

TEST_F(SecurityConfigTest, SecurityWithoutPolicyIsAnError) {
  auto c = Parse("", std::string("security:\n") + kJwt + "  audit: {file: a.log}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(Message(c).find("'policy' is required"), std::string::npos) << Message(c);
}

TEST_F(SecurityConfigTest, NewLimitsAreRead) {
  auto c = Parse("limits: {rate_limit_per_second: 5, max_concurrent_calls_per_principal: 2, default_deadline_seconds: 30}", "");
  ASSERT_TRUE(c.ok()) << Message(c);
  EXPECT_EQ(c->limits.rate_limit_per_second, 5);
  EXPECT_EQ(c->limits.max_concurrent_calls_per_principal, 2);
  EXPECT_EQ(c->limits.default_deadline_seconds, 30);
  EXPECT_FALSE(Parse("limits: {rate_limit_burst: 0}", "").ok());
}

}  // namespace
}  // namespace fachadapter
