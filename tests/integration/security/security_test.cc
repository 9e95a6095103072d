// The caller matrix of issue 6 against a running fachadapterd with TLS, mTLS and JWT: each
// caller gets the right code, the audit log gets a record, and nobody gets data they may not
// see, by any route (get, query, filter, order, projection, writes).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <memory>

#include "daemon_harness.h"
#include "fachadapter/security/audit_log.h"
#include "fachadapter/v1/error.pb.h"
#include "fachadapter/values.h"
#include "grpc_standard_subset.grpc.pb.h"
#include "security_fixtures.h"
#include "test_util.h"

namespace fachadapter {
namespace {

using testing::Daemon;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr char kMuenchen[] = "09162000";
constexpr char kKoeln[] = "05315000";
constexpr int kRows = 20;
constexpr char kIssuer[] = "https://idp.kommune.test";
constexpr char kAudience[] = "fachadapter-test";

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << sql;
}

// Odd numbers are in München, even ones in Köln.
void CreateDatabase(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  Exec(db, "CREATE TABLE GEW (NR INTEGER PRIMARY KEY, NAME TEXT NOT NULL, GEB CHAR(8), GEM CHAR(8) NOT NULL, ORT TEXT)");
  for (int i = 1; i <= kRows; ++i) {
    Exec(db, "INSERT INTO GEW VALUES (" + std::to_string(i) + ", 'Inhaber " + std::to_string(i) + "', '19" +
                 std::to_string(50 + i) + "0101', '" + (i % 2 ? kMuenchen : kKoeln) + "', '" +
                 (i % 2 ? "München" : "Köln") + "')");
  }
  sqlite3_close(db);
}

std::string ScalarText(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  std::string out = "<none>";
  if (sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    out = t ? reinterpret_cast<const char*>(t) : "<null>";
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

v1::Value Str(const std::string& s) {
  v1::Value v;
  v.set_string_value(s);
  return v;
}
v1::Value Int(int64_t i) {
  v1::Value v;
  v.set_int_value(i);
  return v;
}
v1::Filter Eq(const std::string& field, const v1::Value& v) {
  v1::Filter f;
  f.mutable_field()->set_field(field);
  f.mutable_field()->set_op(v1::OPERATOR_EQ);
  *f.mutable_field()->mutable_value() = v;
  return f;
}

std::string Reason(const grpc::ClientContext& ctx) {
  auto md = ctx.GetServerTrailingMetadata();
  auto it = md.find("fachadapter-reason");
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const auto& d = dir_->path();
    CreateDatabase(d / "register.db");
    testing::MakeCa(d, "ca", "Kommune Test CA");
    testing::MakeCa(d, "foreign", "Fremde CA");
    testing::MakeCert(d, "ca", "server", "localhost", "DNS:localhost,IP:127.0.0.1");
    testing::MakeCert(d, "ca", "statistik", "statistik", "URI:spiffe://kommune.test/statistik");
    testing::MakeCert(d, "ca", "fremd", "fremd", "URI:spiffe://kommune.test/fremd");
    testing::MakeCert(d, "ca", "expired", "statistik", "URI:spiffe://kommune.test/statistik", -1);
    testing::MakeCert(d, "foreign", "foreign_client", "statistik", "URI:spiffe://kommune.test/statistik");
    rsa_ = new testing::SigningKey(d, "rsa-1", "RS256");
    ec_ = new testing::SigningKey(d, "ec-1", "ES256");
    pss_ = new testing::SigningKey(d, "pss-1", "PS256");
    forger_ = new testing::SigningKey(d, "forger", "RS256");
    WriteFile(d / "jwks.json", "{\"keys\":[" + rsa_->Jwk() + "," + ec_->Jwk() + "," + pss_->Jwk() + "]}");
    // A secret that must never show up in a log: the (otherwise ignored) PWD of the connection.
    secret_ = "Geheim-" + std::to_string(EpochSecondsForSecret());
    setenv("FA_SECURITY_TEST_CONNECTION",
           ("Driver=SQLite3;Database=" + (d / "register.db").string() + ";PWD=" + secret_).c_str(), 1);
    WriteFile(d / "fachadapter.yaml", R"(server:
  listen: 127.0.0.1:0
  shutdown_grace_seconds: 2
connectors:
  search_path: [)" + testing::PluginDir().string() + R"(]
security:
  tls:
    cert_file: server.pem
    key_file: server.key
    client_ca_file: ca.pem
    client_auth: request
  jwt:
    jwks_file: jwks.json
    issuer: )" + kIssuer + R"(
    audience: )" + kAudience + R"(
  audit:
    file: audit.log
  policy:
    - name: sachbearbeitung-lesen
      scopes: [gewerbe.read]
      entities: [Betrieb]
      operations: [describe, get, query]
      rows: [{field: gemeinde, claim: ags}]
      personal_fields: [name]
      masked_fields: [geburtsdatum]
    - name: sachbearbeitung-schreiben
      scopes: [gewerbe.write]
      entities: [Betrieb]
      operations: [create, update, delete]
      rows: [{field: gemeinde, claim: ags}]
      personal_fields: [name]
    - name: statistik
      principals: [spiffe://kommune.test/statistik]
      entities: [Betrieb]
      operations: [describe, query]
sources:
  register:
    connector: odbc
    settings:
      connection_string: {env: FA_SECURITY_TEST_CONNECTION}
entities:
  Betrieb:
    source: register
    table: GEW
    fields:
      nummer: {column: NR, type: int64}
      name: {column: NAME, personal_data: true}
      geburtsdatum: {column: GEB, type: date, format: YYYYMMDD, personal_data: true}
      gemeinde: GEM
      ort: ORT
)");
    daemon_ = new Daemon(d / "fachadapter.yaml", d / "daemon.log");
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete rsa_;
    delete ec_;
    delete pss_;
    delete forger_;
    delete dir_;
  }
  static int64_t EpochSecondsForSecret() { return testing::EpochSeconds(); }

  void SetUp() override { ASSERT_TRUE(daemon_->up()) << daemon_->log(); }

  static const std::filesystem::path& Dir() { return dir_->path(); }
  static std::filesystem::path Db() { return Dir() / "register.db"; }

  static std::string Claims(const std::string& scope, const std::string& ags = kMuenchen,
                            const std::string& aud = kAudience, int64_t exp_delta = 300,
                            const std::string& sub = "anna.sachbearbeiterin") {
    std::string c = R"({"iss":")" + std::string(kIssuer) + R"(","sub":")" + sub + R"(","aud":")" + aud +
                    R"(","scope":")" + scope + R"(","exp":)" + std::to_string(testing::EpochSeconds(std::chrono::seconds(exp_delta))) +
                    R"(,"iat":)" + std::to_string(testing::EpochSeconds(std::chrono::seconds(-10)));
    if (!ags.empty()) c += R"(,"ags":")" + ags + "\"";
    return c + "}";
  }
  static std::string Token() { return rsa_->Sign(Claims("gewerbe.read gewerbe.write")); }

  // A stub over TLS, with a client certificate `cert` (stem) or none.
  static std::unique_ptr<v1::Adapter::Stub> Stub(const std::string& cert = "") {
    const auto& d = Dir();
    auto ch = cert.empty() ? testing::TlsChannel(daemon_->address(), d / "ca.pem")
                           : testing::TlsChannel(daemon_->address(), d / "ca.pem", d / (cert + ".pem"), d / (cert + ".key"));
    return v1::Adapter::NewStub(ch);
  }
  static void Bearer(grpc::ClientContext* ctx, const std::string& token) {
    ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  }

  static std::vector<std::string> AuditLines() {
    std::vector<std::string> out;
    std::istringstream in(ReadFile(Dir() / "audit.log"));
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
    return out;
  }
  static std::string LastAudit() {
    auto lines = AuditLines();
    return lines.empty() ? "" : lines.back();
  }

  grpc::Status GetWith(const std::string& token, const std::string& cert, int64_t nr, v1::GetResponse* resp,
                       std::string* reason = nullptr) {
    grpc::ClientContext ctx;
    if (!token.empty()) Bearer(&ctx, token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::GetRequest req;
    req.set_entity("Betrieb");
    *req.mutable_key()->add_values() = Int(nr);
    grpc::Status s = Stub(cert)->Get(&ctx, req, resp);
    if (reason) *reason = Reason(ctx);
    return s;
  }

  // Runs a query and returns all records; `status` gets the outcome.
  std::vector<v1::Record> QueryWith(const std::string& token, const std::string& cert, const v1::QueryRequest& req,
                                    grpc::Status* status, std::vector<std::string>* fields = nullptr,
                                    std::string* reason = nullptr) {
    grpc::ClientContext ctx;
    if (!token.empty()) Bearer(&ctx, token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    auto stub = Stub(cert);
    auto reader = stub->Query(&ctx, req);
    v1::QueryResponse msg;
    std::vector<v1::Record> out;
    while (reader->Read(&msg)) {
      if (fields && fields->empty()) fields->assign(msg.fields().begin(), msg.fields().end());
      for (const auto& r : msg.batch().records()) out.push_back(r);
    }
    *status = reader->Finish();
    if (reason) *reason = Reason(ctx);
    return out;
  }

  static TempDir* dir_;
  static Daemon* daemon_;
  static testing::SigningKey* rsa_;
  static testing::SigningKey* ec_;
  static testing::SigningKey* pss_;
  static testing::SigningKey* forger_;
  static std::string secret_;
};

TempDir* SecurityTest::dir_ = nullptr;
Daemon* SecurityTest::daemon_ = nullptr;
testing::SigningKey* SecurityTest::rsa_ = nullptr;
testing::SigningKey* SecurityTest::ec_ = nullptr;
testing::SigningKey* SecurityTest::pss_ = nullptr;
testing::SigningKey* SecurityTest::forger_ = nullptr;
std::string SecurityTest::secret_;

TEST_F(SecurityTest, ValidTokensOfEveryAlgorithmReadOwnRowsWithGrantedAndMaskedFields) {
  for (const auto* key : {rsa_, ec_, pss_}) {
    v1::GetResponse resp;
    grpc::Status s = GetWith(key->Sign(Claims("gewerbe.read")), "", 1, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> fields(resp.fields().begin(), resp.fields().end());
    EXPECT_EQ(fields, (std::vector<std::string>{"nummer", "name", "geburtsdatum", "gemeinde", "ort"}));
    EXPECT_EQ(resp.record().values(1).string_value(), "Inhaber 1");
    EXPECT_TRUE(IsNull(resp.record().values(2))) << "masked non-text field reads NULL";
    EXPECT_EQ(resp.record().values(3).string_value(), kMuenchen);
  }
  const std::string last = LastAudit();
  EXPECT_NE(last.find("\"principal\":\"anna.sachbearbeiterin\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"auth\":\"jwt\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"operation\":\"get\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"keys\":[\"1\"]"), std::string::npos) << last;
  EXPECT_NE(last.find("\"personal_fields\":[\"name\"]"), std::string::npos) << last;
  EXPECT_NE(last.find("\"outcome\":\"OK\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"rule\":\"sachbearbeitung-lesen\""), std::string::npos) << last;
}

TEST_F(SecurityTest, NoCredentialsIsUnauthenticatedAndAudited) {
  const size_t before = AuditLines().size();
  v1::GetResponse resp;
  std::string reason;
  grpc::Status s = GetWith("", "", 1, &resp, &reason);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_EQ(reason, "UNAUTHENTICATED");
  EXPECT_FALSE(resp.has_record());
  ASSERT_EQ(AuditLines().size(), before + 1);
  EXPECT_NE(LastAudit().find("\"outcome\":\"UNAUTHENTICATED\""), std::string::npos) << LastAudit();
  EXPECT_NE(LastAudit().find("\"peer\":\"ipv4:127.0.0.1:"), std::string::npos) << LastAudit();
}

TEST_F(SecurityTest, BadTokensAreUnauthenticatedAndAudited) {
  struct Case {
    const char* what;
    std::string token;
  };
  const Case cases[] = {
      {"forged (signed by a key not in the JWKS, same kid)", forger_->Sign(Claims("gewerbe.read"), "rsa-1")},
      {"expired", rsa_->Sign(Claims("gewerbe.read", kMuenchen, kAudience, -3600))},
      {"wrong audience", rsa_->Sign(Claims("gewerbe.read", kMuenchen, "another-service"))},
      {"tampered payload", [] {
         std::string t = rsa_->Sign(Claims("gewerbe.read", kMuenchen));
         std::string other = rsa_->Sign(Claims("gewerbe.read", kKoeln));
         size_t a = t.find('.'), b = t.rfind('.');
         size_t oa = other.find('.'), ob = other.rfind('.');
         return t.substr(0, a) + other.substr(oa, ob - oa) + t.substr(b);
       }()},
      {"not a JWT", "abc.def"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const size_t before = AuditLines().size();
    v1::GetResponse resp;
    std::string reason;
    grpc::Status s = GetWith(c.token, "", 2, &resp, &reason);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
    EXPECT_EQ(reason, "INVALID_TOKEN");
    EXPECT_FALSE(resp.has_record());
    EXPECT_EQ(s.error_message().find(c.token), std::string::npos) << "the token must not be echoed";
    ASSERT_EQ(AuditLines().size(), before + 1);
    EXPECT_NE(LastAudit().find("\"outcome\":\"UNAUTHENTICATED\""), std::string::npos);
  }
}

TEST_F(SecurityTest, TooFewScopesOrMissingClaimIsPermissionDenied) {
  v1::GetResponse resp;
  std::string reason;
  grpc::Status s = GetWith(rsa_->Sign(Claims("profile")), "", 1, &resp, &reason);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_EQ(reason, "NOT_PERMITTED");
  EXPECT_FALSE(resp.has_record());
  EXPECT_NE(LastAudit().find("\"outcome\":\"PERMISSION_DENIED\""), std::string::npos) << LastAudit();

  s = GetWith(rsa_->Sign(Claims("gewerbe.read", "")), "", 1, &resp, &reason);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_EQ(reason, "MISSING_CLAIM");
  EXPECT_FALSE(resp.has_record());
}

TEST_F(SecurityTest, ClientCertificates) {
  // The statistics service may query, without personal data.
  grpc::Status s;
  v1::QueryRequest req;
  req.set_entity("Betrieb");
  std::vector<std::string> fields;
  auto rows = QueryWith("", "statistik", req, &s, &fields);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(rows.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(fields, (std::vector<std::string>{"nummer", "gemeinde", "ort"}));
  EXPECT_NE(LastAudit().find("\"principal\":\"spiffe://kommune.test/statistik\""), std::string::npos) << LastAudit();
  EXPECT_NE(LastAudit().find("\"auth\":\"mtls\""), std::string::npos);
  EXPECT_NE(LastAudit().find("\"records\":20"), std::string::npos) << LastAudit();
  EXPECT_NE(LastAudit().find("\"personal_fields\":[]"), std::string::npos) << LastAudit();

  // A token sent over a connection with a client certificate: the token names the caller,
  // the certificate is on record too.
  {
    v1::GetResponse r;
    ASSERT_TRUE(GetWith(Token(), "statistik", 1, &r).ok());
    EXPECT_NE(LastAudit().find("\"principal\":\"anna.sachbearbeiterin\",\"auth\":\"jwt\","
                               "\"client_certificate\":\"spiffe://kommune.test/statistik\""),
              std::string::npos)
        << LastAudit();
  }

  // It may not get (not in its rule).
  v1::GetResponse resp;
  EXPECT_EQ(GetWith("", "statistik", 1, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // A valid certificate with a SAN the policy does not know.
  std::string reason;
  s = GetWith("", "fremd", 1, &resp, &reason);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_EQ(reason, "NOT_PERMITTED");
  EXPECT_NE(LastAudit().find("\"principal\":\"spiffe://kommune.test/fremd\""), std::string::npos) << LastAudit();
  EXPECT_FALSE(resp.has_record());

  // Expired certificates and those of another CA fail in the TLS handshake: the call never
  // reaches the service, also with a valid token; the refused handshake is audited
  // (client_certificate_test.cc has the details).
  for (const auto& [cert, why] : {std::pair<std::string, std::string>{"expired", "CERTIFICATE_EXPIRED"},
                                  {"foreign_client", "UNKNOWN_CA"}}) {
    SCOPED_TRACE(cert);
    const size_t before = AuditLines().size();
    resp.Clear();
    s = GetWith(Token(), cert, 1, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_FALSE(resp.has_record());
    const auto lines = AuditLines();
    ASSERT_GT(lines.size(), before);
    for (size_t i = before; i < lines.size(); ++i) {
      EXPECT_NE(lines[i].find("\"operation\":\"connect\""), std::string::npos) << lines[i];
      EXPECT_NE(lines[i].find("\"outcome\":\"UNAUTHENTICATED\",\"reason\":\"" + why + "\""), std::string::npos)
          << lines[i];
    }
  }
}

TEST_F(SecurityTest, OtherMunicipalitysRowsAreUnreachable) {
  const std::string token = Token();
  // get: a Köln record is "not found", exactly like a missing one.
  v1::GetResponse resp;
  std::string reason;
  grpc::Status s = GetWith(token, "", 2, &resp, &reason);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_EQ(reason, "RECORD_NOT_FOUND");
  EXPECT_FALSE(resp.has_record());
  EXPECT_NE(LastAudit().find("\"outcome\":\"NOT_FOUND\""), std::string::npos);

  // query without filter: only München.
  v1::QueryRequest req;
  req.set_entity("Betrieb");
  auto rows = QueryWith(token, "", req, &s);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(rows.size(), static_cast<size_t>(kRows / 2));
  for (const auto& r : rows) EXPECT_EQ(r.values(3).string_value(), kMuenchen);

  // query asking for Köln by filter, by key, and ordered: nothing of Köln comes back.
  *req.mutable_filter() = Eq("gemeinde", Str(kKoeln));
  EXPECT_TRUE(QueryWith(token, "", req, &s).empty());
  EXPECT_TRUE(s.ok()) << s.error_message();
  *req.mutable_filter() = Eq("nummer", Int(4));
  EXPECT_TRUE(QueryWith(token, "", req, &s).empty());
  req.clear_filter();
  auto* o = req.add_order_by();
  o->set_field("gemeinde");
  rows = QueryWith(token, "", req, &s);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(rows.size(), static_cast<size_t>(kRows / 2));
  const auto lines = AuditLines();
  ASSERT_GE(lines.size(), 2u);
  EXPECT_NE(lines[lines.size() - 2].find("\"phase\":\"start\""), std::string::npos) << lines[lines.size() - 2];
  EXPECT_NE(lines.back().find("\"phase\":\"end\""), std::string::npos);
  EXPECT_NE(lines.back().find("\"records\":10"), std::string::npos) << lines.back();
}

TEST_F(SecurityTest, HiddenFieldsCannotBeProbedByAnyRoute) {
  // For the statistics service `name` and `geburtsdatum` do not exist.
  auto expect_unknown = [&](const v1::QueryRequest& req, const char* route) {
    SCOPED_TRACE(route);
    grpc::Status s;
    std::string reason;
    auto rows = QueryWith("", "statistik", req, &s, nullptr, &reason);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_EQ(reason, "UNKNOWN_FIELD");
    EXPECT_TRUE(rows.empty());
  };
  v1::QueryRequest req;
  req.set_entity("Betrieb");
  *req.mutable_filter() = Eq("name", Str("Inhaber 1"));
  expect_unknown(req, "filter");
  v1::QueryRequest prefix = req;
  prefix.mutable_filter()->mutable_field()->set_op(v1::OPERATOR_PREFIX);
  expect_unknown(prefix, "prefix filter");
  v1::Filter inner = Eq("name", Str("x"));
  v1::QueryRequest nested;
  nested.set_entity("Betrieb");
  *nested.mutable_filter()->mutable_not_()->mutable_or_()->add_filters() = inner;
  expect_unknown(nested, "nested filter");
  v1::QueryRequest order;
  order.set_entity("Betrieb");
  order.add_order_by()->set_field("geburtsdatum");
  expect_unknown(order, "order");
  v1::QueryRequest proj;
  proj.set_entity("Betrieb");
  proj.add_fields("name");
  expect_unknown(proj, "projection");

  // describe does not show them either.
  grpc::ClientContext ctx;
  v1::DescribeEntityRequest dreq;
  dreq.set_entity("Betrieb");
  v1::EntitySchema schema;
  ASSERT_TRUE(Stub("statistik")->DescribeEntity(&ctx, dreq, &schema).ok());
  for (const auto& f : schema.fields()) {
    EXPECT_NE(f.name(), "name");
    EXPECT_NE(f.name(), "geburtsdatum");
  }

  // A masked field may be read (masked) but not used to select or order.
  const std::string token = Token();
  v1::QueryRequest masked;
  masked.set_entity("Betrieb");
  *masked.mutable_filter() = Eq("geburtsdatum", Str("1951-01-01"));
  grpc::Status s;
  std::string reason;
  EXPECT_TRUE(QueryWith(token, "", masked, &s, nullptr, &reason).empty());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_EQ(reason, "FIELD_MASKED");
}

TEST_F(SecurityTest, WritesOutsideTheRestrictionChangeNothing) {
  const std::string token = Token();
  auto stub = Stub();
  // update a Köln record: not found, unchanged.
  {
    grpc::ClientContext ctx;
    Bearer(&ctx, token);
    v1::UpdateRequest req;
    req.set_entity("Betrieb");
    *req.mutable_key()->add_values() = Int(2);
    (*req.mutable_values())["ort"] = Str("Gehackt");
    v1::UpdateResponse resp;
    EXPECT_EQ(stub->Update(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(ScalarText(Db(), "SELECT ORT FROM GEW WHERE NR = 2"), "Köln");
  }
  // move an own record to Köln: denied, unchanged.
  {
    grpc::ClientContext ctx;
    Bearer(&ctx, token);
    v1::UpdateRequest req;
    req.set_entity("Betrieb");
    *req.mutable_key()->add_values() = Int(3);
    (*req.mutable_values())["gemeinde"] = Str(kKoeln);
    v1::UpdateResponse resp;
    grpc::Status s = stub->Update(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
    EXPECT_EQ(Reason(ctx), "ROW_NOT_PERMITTED");
    EXPECT_EQ(ScalarText(Db(), "SELECT GEM FROM GEW WHERE NR = 3"), kMuenchen);
  }
  // write a field the writing rule hides: unknown, unchanged.
  {
    grpc::ClientContext ctx;
    Bearer(&ctx, token);
    v1::UpdateRequest req;
    req.set_entity("Betrieb");
    *req.mutable_key()->add_values() = Int(3);
    (*req.mutable_values())["geburtsdatum"] = Str("2000-01-01");
    v1::UpdateResponse resp;
    EXPECT_EQ(stub->Update(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(ScalarText(Db(), "SELECT GEB FROM GEW WHERE NR = 3"), "19530101");
  }
  // create in Köln: denied, nothing created.
  {
    grpc::ClientContext ctx;
    Bearer(&ctx, token);
    v1::CreateRequest req;
    req.set_entity("Betrieb");
    (*req.mutable_values())["nummer"] = Int(100);
    (*req.mutable_values())["name"] = Str("Neu");
    (*req.mutable_values())["gemeinde"] = Str(kKoeln);
    v1::CreateResponse resp;
    EXPECT_EQ(stub->Create(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(ScalarText(Db(), "SELECT COUNT(*) FROM GEW"), std::to_string(kRows));
  }
  // delete a Köln record: not found, still there.
  {
    grpc::ClientContext ctx;
    Bearer(&ctx, token);
    v1::DeleteRequest req;
    req.set_entity("Betrieb");
    *req.mutable_key()->add_values() = Int(4);
    v1::DeleteResponse resp;
    EXPECT_EQ(stub->Delete(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(ScalarText(Db(), "SELECT COUNT(*) FROM GEW WHERE NR = 4"), "1");
  }
  // ...while an own record can be changed, audited before and after.
  {
    grpc::ClientContext ctx;
    Bearer(&ctx, token);
    v1::UpdateRequest req;
    req.set_entity("Betrieb");
    *req.mutable_key()->add_values() = Int(5);
    (*req.mutable_values())["name"] = Str("Inhaberin 5");
    v1::UpdateResponse resp;
    grpc::Status s = stub->Update(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(ScalarText(Db(), "SELECT NAME FROM GEW WHERE NR = 5"), "Inhaberin 5");
    for (const auto& f : resp.fields()) EXPECT_NE(f, "geburtsdatum");
    auto lines = AuditLines();
    EXPECT_NE(lines[lines.size() - 2].find("\"phase\":\"start\""), std::string::npos);
    EXPECT_NE(lines[lines.size() - 2].find("\"personal_fields\":[\"name\"]"), std::string::npos);
    EXPECT_NE(lines.back().find("\"phase\":\"end\""), std::string::npos);
  }
}

TEST_F(SecurityTest, TlsRefusesOldProtocolsAndCbcSuites) {
  const std::string addr = daemon_->address();
  auto handshake = [&](std::vector<std::string> args) {
    // s_client reads stdin after the handshake; an empty one makes it end at once.
    std::string cmd = std::string("exec /usr/bin/timeout 20 ") + OPENSSL_PROGRAM + " s_client -connect " + addr +
                      " -CAfile " + (Dir() / "ca.pem").string();
    for (const auto& a : args) cmd += " '" + a + "'";
    auto r = testing::RunProgram({"/bin/sh", "-c", cmd + " < /dev/null"}, Dir() / "s_client.out");
    return r.output;
  };
  auto negotiated = [](const std::string& out) {
    return out.find("Cipher is (NONE)") == std::string::npos && out.find("New, TLS") != std::string::npos;
  };
  EXPECT_FALSE(negotiated(handshake({"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"})));
  EXPECT_FALSE(negotiated(handshake({"-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"})));
  EXPECT_FALSE(negotiated(handshake({"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"})));
  EXPECT_FALSE(negotiated(handshake({"-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA"})));
  EXPECT_FALSE(negotiated(handshake({"-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"})));
  // TLS 1.3 suites outside BSI TR-02102-2 and weak groups.
  EXPECT_FALSE(negotiated(handshake({"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"})));
  EXPECT_FALSE(negotiated(handshake({"-tls1_3", "-groups", "X25519"})));
  std::string ok = handshake({"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"});
  EXPECT_TRUE(negotiated(ok)) << ok;
  ok = handshake({"-tls1_3"});
  EXPECT_TRUE(negotiated(ok)) << ok;
}

// CTest runs every test in its own process (and daemon), so this one makes its own calls:
// granted, failed and refused ones, whose messages could carry a secret if anything did.
TEST_F(SecurityTest, LogsHoldNoSecretsAndTheAuditChainIsIntact) {
  const std::string token = Token();
  const std::string expired = rsa_->Sign(Claims("gewerbe.read", kMuenchen, kAudience, -3600));
  v1::GetResponse resp;
  EXPECT_TRUE(GetWith(token, "", 1, &resp).ok());
  EXPECT_EQ(GetWith(token, "", 2, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GetWith(expired, "", 1, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetWith(token + "x", "", 1, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status s;
  v1::QueryRequest req;
  req.set_entity("Betrieb");
  req.add_fields("nicht_da");
  QueryWith(token, "", req, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  const std::string logs = daemon_->log() + ReadFile(Dir() / "audit.log");
  EXPECT_EQ(logs.find(secret_), std::string::npos) << "the connection secret leaked into a log";
  for (const auto& t : {token, expired}) {
    EXPECT_EQ(logs.find(t.substr(t.rfind('.') + 1)), std::string::npos) << "a token signature leaked";
    EXPECT_EQ(logs.find(t.substr(0, t.find('.', t.find('.') + 1))), std::string::npos) << "a token leaked";
  }
  EXPECT_EQ(logs.find("Bearer"), std::string::npos);
  auto v = security::VerifyAuditLog((Dir() / "audit.log").string());
  EXPECT_TRUE(v.ok) << v.bad_line << ": " << v.problem;
  EXPECT_GE(v.records, 5);
}

// The audit log cannot be written: calls on personal data fail, health says NOT_SERVING.
TEST(SecurityFailClosedTest, UnwritableAuditLogFailsCallsAndHealth) {
  TempDir dir;
  CreateDatabase(dir / "register.db");
  testing::SigningKey key(dir.path(), "k", "ES256");
  WriteFile(dir / "jwks.json", "{\"keys\":[" + key.Jwk() + "]}");
  WriteFile(dir / "fachadapter.yaml", R"(server:
  listen: 127.0.0.1:0
  health_interval_seconds: 1
connectors:
  search_path: [)" + testing::PluginDir().string() + R"(]
limits:
  rate_limit_per_second: 1
  rate_limit_burst: 3
security:
  jwt: {jwks_file: jwks.json, issuer: i, audience: a}
  audit: {file: /dev/full}
  policy:
    - {principals: ["*"], entities: ["*"], operations: ["*"], personal_fields: ["*"]}
sources:
  register: {connector: odbc, settings: {connection_string: "Driver=SQLite3;Database=)" +
                                  (dir / "register.db").string() + R"("}}
entities:
  Betrieb:
    source: register
    table: GEW
    fields:
      nummer: {column: NR, type: int64}
      name: {column: NAME, personal_data: true}
)");
  Daemon d(dir / "fachadapter.yaml", dir / "daemon.log");
  ASSERT_TRUE(d.up()) << d.log();
  auto token = [&](const std::string& sub) {
    return key.Sign(R"({"iss":"i","aud":"a","sub":")" + sub + R"(","exp":)" +
                    std::to_string(testing::EpochSeconds(std::chrono::seconds(300))) + "}");
  };
  auto stub = d.Stub();
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token("pruefer"));
    v1::GetRequest req;
    req.set_entity("Betrieb");
    *req.mutable_key()->add_values() = Int(1);
    v1::GetResponse resp;
    grpc::Status s = stub->Get(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_EQ(Reason(ctx), "AUDIT_UNAVAILABLE");
    EXPECT_FALSE(resp.has_record());
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token("pruefer"));
    v1::QueryRequest req;
    req.set_entity("Betrieb");
    auto reader = stub->Query(&ctx, req);
    v1::QueryResponse msg;
    int messages = 0;
    while (reader->Read(&msg)) ++messages;
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(messages, 0) << "no record may leave before its audit record is written";
  }
  auto health = grpc::health::v1::Health::NewStub(d.Channel());
  for (const char* service : {"", "fachadapter.audit"}) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(health->Check(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING) << service;
  }
  EXPECT_NE(d.log().find("audit log is NOT_SERVING"), std::string::npos) << d.log();

  // Rate limit: a burst of 3, then RESOURCE_EXHAUSTED with retry information. ListEntities
  // is not audited, so it works while the audit log is down. (8 calls in a row cannot all
  // be a second apart.)
  int exhausted = 0;
  for (int i = 0; i < 8 && exhausted == 0; ++i) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token("eiliger-dienst"));
    v1::ListEntitiesResponse resp;
    grpc::Status s = stub->ListEntities(&ctx, v1::ListEntitiesRequest(), &resp);
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
      EXPECT_EQ(Reason(ctx), "RATE_LIMITED");
      auto md = ctx.GetServerTrailingMetadata();
      EXPECT_NE(md.find("retry-after-ms"), md.end());
      v1::RpcStatus rpc;
      ASSERT_TRUE(rpc.ParseFromString(s.error_details()));
      bool retry_info = false;
      for (const auto& any : rpc.details()) retry_info = retry_info || any.type_url() == "type.googleapis.com/google.rpc.RetryInfo";
      EXPECT_TRUE(retry_info);
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
  }
  EXPECT_EQ(exhausted, 1);
  EXPECT_EQ(d.Stop(), 0);
}

// A caller may run only so many calls at once: an open Query stream that the client does not
// read holds its slot (the server blocks on flow control), so a second call is refused.
TEST(SecurityLimitsTest, ConcurrentCallsPerCallerAreLimited) {
  TempDir dir;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "big.db").c_str(), &db), SQLITE_OK);
    Exec(db, "CREATE TABLE T (ID INTEGER PRIMARY KEY, TXT TEXT)");
    Exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) "
             "INSERT INTO T SELECT i, printf('%.2000c', 'x') FROM n");  // 80 MB: more than gRPC and TCP buffer
    sqlite3_close(db);
  }
  testing::SigningKey key(dir.path(), "k", "ES256");
  WriteFile(dir / "jwks.json", "{\"keys\":[" + key.Jwk() + "]}");
  WriteFile(dir / "fachadapter.yaml", R"(server:
  listen: 127.0.0.1:0
  shutdown_grace_seconds: 1
connectors:
  search_path: [)" + testing::PluginDir().string() + R"(]
limits:
  max_concurrent_calls_per_principal: 1
security:
  jwt: {jwks_file: jwks.json, issuer: i, audience: a}
  policy:
    - {principals: ["*"], entities: ["*"], operations: ["*"]}
sources:
  big: {connector: odbc, settings: {connection_string: "Driver=SQLite3;Database=)" + (dir / "big.db").string() + R"("}}
entities:
  Gross: {source: big, table: T}
)");
  Daemon d(dir / "fachadapter.yaml", dir / "daemon.log");
  ASSERT_TRUE(d.up()) << d.log();
  auto bearer = [&](grpc::ClientContext* ctx, const std::string& sub) {
    ctx->AddMetadata("authorization", "Bearer " + key.Sign(R"({"iss":"i","aud":"a","sub":")" + sub + R"(","exp":)" +
                                                           std::to_string(testing::EpochSeconds(std::chrono::seconds(300))) + "}"));
  };
  auto stub = d.Stub();
  grpc::ClientContext held;
  bearer(&held, "langsam");
  v1::QueryRequest req;
  req.set_entity("Gross");
  req.set_batch_size(10);
  auto reader = stub->Query(&held, req);
  v1::QueryResponse first;
  ASSERT_TRUE(reader->Read(&first));  // the stream is running; 8 MB stay unread

  grpc::ClientContext second;
  bearer(&second, "langsam");
  v1::ListEntitiesResponse list;
  grpc::Status s = stub->ListEntities(&second, v1::ListEntitiesRequest(), &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(Reason(second), "TOO_MANY_CALLS");
  // Another caller is not affected.
  grpc::ClientContext other;
  bearer(&other, "andere");
  EXPECT_TRUE(stub->ListEntities(&other, v1::ListEntitiesRequest(), &list).ok());

  held.TryCancel();
  reader->Finish();
  // The slot comes back once the stream has ended (bounded wait).
  bool admitted = false;
  for (int i = 0; i < 100 && !admitted; ++i) {
    grpc::ClientContext again;
    bearer(&again, "langsam");
    admitted = stub->ListEntities(&again, v1::ListEntitiesRequest(), &list).ok();
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(admitted);
  EXPECT_EQ(d.Stop(), 0);
}

// A call without a deadline gets the cap; a stream whose client stopped reading is cancelled
// by the server when it passes, which frees the caller's slot.
TEST(SecurityLimitsTest, DeadlineCapEndsStalledStreams) {
  TempDir dir;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "big.db").c_str(), &db), SQLITE_OK);
    Exec(db, "CREATE TABLE T (ID INTEGER PRIMARY KEY, TXT TEXT)");
    Exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) "
             "INSERT INTO T SELECT i, printf('%.2000c', 'x') FROM n");  // 80 MB: more than gRPC and TCP buffer
    sqlite3_close(db);
  }
  testing::SigningKey key(dir.path(), "k", "ES256");
  WriteFile(dir / "jwks.json", "{\"keys\":[" + key.Jwk() + "]}");
  WriteFile(dir / "fachadapter.yaml", R"(server:
  listen: 127.0.0.1:0
  shutdown_grace_seconds: 1
connectors:
  search_path: [)" + testing::PluginDir().string() + R"(]
limits:
  max_concurrent_calls_per_principal: 1
  default_deadline_seconds: 1
security:
  jwt: {jwks_file: jwks.json, issuer: i, audience: a}
  policy:
    - {principals: ["*"], entities: ["*"], operations: ["*"]}
sources:
  big: {connector: odbc, settings: {connection_string: "Driver=SQLite3;Database=)" + (dir / "big.db").string() + R"("}}
entities:
  Gross: {source: big, table: T}
)");
  Daemon d(dir / "fachadapter.yaml", dir / "daemon.log");
  ASSERT_TRUE(d.up()) << d.log();
  const std::string token = key.Sign(R"({"iss":"i","aud":"a","sub":"langsam","exp":)" +
                                     std::to_string(testing::EpochSeconds(std::chrono::seconds(300))) + "}");
  auto stub = d.Stub();
  grpc::ClientContext held;  // no deadline
  held.AddMetadata("authorization", "Bearer " + token);
  v1::QueryRequest req;
  req.set_entity("Gross");
  req.set_batch_size(10);
  auto reader = stub->Query(&held, req);
  v1::QueryResponse first;
  ASSERT_TRUE(reader->Read(&first));
  // Without the cap the stalled stream would hold the only slot forever.
  bool admitted = false;
  for (int i = 0; i < 100 && !admitted; ++i) {
    grpc::ClientContext again;
    again.AddMetadata("authorization", "Bearer " + token);
    v1::ListEntitiesResponse list;
    admitted = stub->ListEntities(&again, v1::ListEntitiesRequest(), &list).ok();
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(admitted);
  while (reader->Read(&first)) {
  }
  EXPECT_FALSE(reader->Finish().ok());
  EXPECT_EQ(d.Stop(), 0);
}

// SIGHUP reloads the policy; a broken one is reported and the last good one stays.
TEST(SecurityReloadTest, SighupReloadsThePolicyAndKeepsTheLastGoodOne) {
  TempDir dir;
  CreateDatabase(dir / "register.db");
  testing::SigningKey key(dir.path(), "k", "ES256");
  WriteFile(dir / "jwks.json", "{\"keys\":[" + key.Jwk() + "]}");
  auto config = [&](const std::string& principal, const std::string& entity) {
    return R"(server:
  listen: 127.0.0.1:0
connectors:
  search_path: [)" + testing::PluginDir().string() + R"(]
security:
  jwt: {jwks_file: jwks.json, issuer: i, audience: a}
  policy:
    - {principals: [)" + principal + R"(], entities: [)" + entity + R"(], operations: [query]}
sources:
  register: {connector: odbc, settings: {connection_string: "Driver=SQLite3;Database=)" +
           (dir / "register.db").string() + R"("}}
entities:
  Roh: {source: register, table: GEW}
)";
  };
  WriteFile(dir / "fachadapter.yaml", config("alt", "Roh"));
  Daemon d(dir / "fachadapter.yaml", dir / "daemon.log");
  ASSERT_TRUE(d.up()) << d.log();
  auto query_as = [&](const std::string& sub) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + key.Sign(R"({"iss":"i","aud":"a","sub":")" + sub + R"(","exp":)" +
                                                          std::to_string(testing::EpochSeconds(std::chrono::seconds(300))) + "}"));
    v1::QueryRequest req;
    req.set_entity("Roh");
    auto reader = d.Stub()->Query(&ctx, req);
    v1::QueryResponse msg;
    while (reader->Read(&msg)) {
    }
    return reader->Finish().error_code();
  };
  EXPECT_EQ(query_as("neu"), grpc::StatusCode::PERMISSION_DENIED);
  WriteFile(dir / "fachadapter.yaml", config("neu", "Roh"));
  ASSERT_TRUE(d.Signal(SIGHUP));
  ASSERT_TRUE(d.WaitForLog("SIGHUP: policy reloaded")) << d.log();
  EXPECT_EQ(query_as("neu"), grpc::StatusCode::OK);
  EXPECT_EQ(query_as("alt"), grpc::StatusCode::PERMISSION_DENIED);

  WriteFile(dir / "fachadapter.yaml", config("niemand", "Unbekannt"));
  ASSERT_TRUE(d.Signal(SIGHUP));
  ASSERT_TRUE(d.WaitForLog("policy NOT reloaded")) << d.log();
  EXPECT_NE(d.log().find("fachadapter.yaml:8:"), std::string::npos) << d.log();
  EXPECT_NE(d.log().find("entity 'Unbekannt' is not defined"), std::string::npos) << d.log();
  EXPECT_EQ(query_as("neu"), grpc::StatusCode::OK);
  EXPECT_EQ(d.Stop(), 0);
}

// A policy that names a field the entity does not have stops the daemon with FILE:LINE.
TEST(SecurityStartTest, BrokenPolicyStopsTheDaemon) {
  TempDir dir;
  CreateDatabase(dir / "register.db");
  testing::SigningKey key(dir.path(), "k", "ES256");
  WriteFile(dir / "jwks.json", "{\"keys\":[" + key.Jwk() + "]}");
  WriteFile(dir / "fachadapter.yaml", R"(server:
  listen: 127.0.0.1:0
connectors:
  search_path: [)" + testing::PluginDir().string() + R"(]
security:
  jwt: {jwks_file: jwks.json, issuer: i, audience: a}
  policy:
    - name: roh
      principals: ["*"]
      entities: [Roh]
      operations: [query]
      rows: [{field: GEMEINDE, claim: ags}]
sources:
  register: {connector: odbc, settings: {connection_string: "Driver=SQLite3;Database=)" +
                                  (dir / "register.db").string() + R"("}}
entities:
  Roh:
    source: register
    table: GEW
)");
  Daemon d(dir / "fachadapter.yaml", dir / "daemon.log");
  EXPECT_FALSE(d.up());
  EXPECT_EQ(d.Stop(), 2) << d.log();
  EXPECT_NE(d.log().find("fachadapter.yaml:12:"), std::string::npos) << d.log();
  EXPECT_NE(d.log().find("row field 'GEMEINDE' is not a field of entity 'Roh'"), std::string::npos) << d.log();
  // --check-config finds it too.
  auto check = testing::RunProgram({Daemon::Binary(), "--check-config", "--config", (dir / "fachadapter.yaml").string()},
                                   dir / "check.out");
  EXPECT_EQ(check.exit_code, 2) << check.output;
  EXPECT_NE(check.output.find("fachadapter.yaml:12:"), std::string::npos) << check.output;
}

}  // namespace
}  // namespace fachadapter
