// examples/gewerberegister/fachadapter-secure.yaml as shipped (only the listener moved to a free
// loopback port): it starts, and its policy does what its comments say.
#include <gtest/gtest.h>

#include <regex>

#include "daemon_harness.h"
#include "fachadapter/values.h"
#include "security_fixtures.h"
#include "test_util.h"

namespace fachadapter {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

TEST(SecureExampleTest, StartsAndEnforcesItsPolicy) {
  TempDir dir;
  const auto& d = dir.path();
  const auto example = testing::SourceDir() / "examples" / "gewerberegister";
  std::filesystem::create_directories(d / "data");
  std::filesystem::create_directories(d / "tls");
  std::filesystem::create_directories(d / "keys");
  std::filesystem::create_directories(d / "audit");
  auto gen = testing::RunProgram({"/usr/bin/python3", (example / "generate.py").string(), "--betriebe", "200",
                                  "--output", (d / "data" / "gewerbe.db").string(), "--quiet"},
                                 d / "generate.out");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  testing::MakeCa(d, "tls/server-ca", "Server CA");
  testing::MakeCa(d, "tls/clients-ca", "Client CA");
  testing::MakeCert(d, "tls/server-ca", "tls/server", "localhost", "DNS:localhost,IP:127.0.0.1");
  testing::MakeCert(d, "tls/clients-ca", "statistik", "statistik", "URI:spiffe://kommune.example/statistik");
  testing::SigningKey idp(d, "idp-1", "RS256");
  WriteFile(d / "keys" / "idp-jwks.json", "{\"keys\":[" + idp.Jwk() + "]}");

  std::string yaml = ReadFile(example / "fachadapter-secure.yaml");
  yaml = std::regex_replace(yaml, std::regex("0\\.0\\.0\\.0:50443"), "127.0.0.1:0");
  yaml = std::regex_replace(yaml, std::regex("search_path: \\[[^\\]]*\\]"), "");
  yaml = "connectors:\n  search_path: [" + testing::PluginDir().string() + "]\n" + yaml;
  WriteFile(d / "fachadapter-secure.yaml", yaml);
  testing::Daemon daemon(d / "fachadapter-secure.yaml", d / "daemon.log");
  ASSERT_TRUE(daemon.up()) << daemon.log();

  auto channel = [&](bool with_cert) {
    return with_cert ? testing::TlsChannel(daemon.address(), d / "tls" / "server-ca.pem", d / "statistik.pem",
                                           d / "statistik.key")
                     : testing::TlsChannel(daemon.address(), d / "tls" / "server-ca.pem");
  };
  // The statistics office: businesses without personal data.
  {
    auto stub = v1::Adapter::NewStub(channel(true));
    grpc::ClientContext ctx;
    v1::DescribeEntityRequest req;
    req.set_entity("Gewerbebetrieb");
    v1::EntitySchema schema;
    ASSERT_TRUE(stub->DescribeEntity(&ctx, req, &schema).ok());
    for (const auto& f : schema.fields()) EXPECT_FALSE(f.personal_data()) << f.name();
    grpc::ClientContext ctx2;
    v1::DescribeEntityRequest preq;
    preq.set_entity("Person");
    EXPECT_EQ(stub->DescribeEntity(&ctx2, preq, &schema).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // A clerk of one town sees only that town's businesses.
  {
    const std::string claims = R"({"iss":"https://idp.kommune.example/realms/verwaltung","aud":"fachadapter-gewerbe",)"
                               R"("preferred_username":"anna","groups":["gewerbeamt"],"scope":"gewerbe.read","ort":"Berlin","exp":)" +
                               std::to_string(testing::EpochSeconds(std::chrono::seconds(300))) + "}";
    auto stub = v1::Adapter::NewStub(channel(false));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + idp.Sign(claims));
    v1::QueryRequest req;
    req.set_entity("Gewerbebetrieb");
    req.add_fields("ort");
    auto reader = stub->Query(&ctx, req);
    v1::QueryResponse msg;
    int rows = 0;
    while (reader->Read(&msg)) {
      for (const auto& r : msg.batch().records()) {
        EXPECT_EQ(r.values(0).string_value(), "Berlin");
        ++rows;
      }
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_GT(rows, 0);
  }
  auto v = testing::RunProgram({(testing::BinaryDir() / "bin" / "fachadapter").string(), "audit", "verify",
                                (d / "audit" / "gewerbe-audit.jsonl").string()},
                               d / "verify.out");
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("OK, 2 records"), std::string::npos) << v.output;

  // The operator's CLI against the secured daemon: mutual TLS, and a bearer token over TLS.
  const std::string cli = (testing::BinaryDir() / "bin" / "fachadapter").string();
  const std::string ca = (d / "tls" / "server-ca.pem").string();
  auto mtls = testing::RunProgram({cli, "--target", daemon.address(), "--ca", ca, "--cert",
                                   (d / "statistik.pem").string(), "--key", (d / "statistik.key").string(),
                                   "describe", "Gewerbebetrieb"},
                                  d / "cli-mtls.out");
  EXPECT_EQ(mtls.exit_code, 0) << mtls.output;
  EXPECT_NE(mtls.output.find("betriebsnummer"), std::string::npos) << mtls.output;
  const std::string claims = R"({"iss":"https://idp.kommune.example/realms/verwaltung","aud":"fachadapter-gewerbe",)"
                             R"("preferred_username":"anna","groups":["gewerbeamt"],"scope":"gewerbe.read","ort":"Berlin","exp":)" +
                             std::to_string(testing::EpochSeconds(std::chrono::seconds(300))) + "}";
  WriteFile(d / "anna.jwt", idp.Sign(claims) + "\n");
  auto bearer = testing::RunProgram({cli, "--target", daemon.address(), "--ca", ca, "--token-file",
                                     (d / "anna.jwt").string(), "--format", "csv", "query", "Gewerbebetrieb",
                                     "--fields", "ort", "--limit", "3"},
                                    d / "cli-jwt.out");
  EXPECT_EQ(bearer.exit_code, 0) << bearer.output;
  EXPECT_NE(bearer.output.find("ort\r\nBerlin\r\nBerlin\r\nBerlin\r\n"), std::string::npos) << bearer.output;  // CSV lines end in CRLF (RFC 4180)
  // Without credentials the same query is refused: exit code 6 (not allowed).
  auto anonymous = testing::RunProgram({cli, "--target", daemon.address(), "--ca", ca, "query", "Gewerbebetrieb",
                                        "--fields", "ort", "--limit", "3"},
                                       d / "cli-anon.out");
  EXPECT_EQ(anonymous.exit_code, 6) << anonymous.output;
  EXPECT_EQ(daemon.Stop(), 0);
}

}  // namespace
}  // namespace fachadapter
