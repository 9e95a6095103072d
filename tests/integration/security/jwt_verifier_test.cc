// JwtVerifier in process: algorithms that must never pass, time claims, and key rotation by
// rewriting the JWKS file.
#include <gtest/gtest.h>

#include <thread>

#include "fachadapter/security/identity.h"
#include "security_fixtures.h"
#include "test_util.h"

namespace fachadapter::security {
namespace {

using testing::TempDir;
using testing::WriteFile;

class JwtVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::make_unique<testing::SigningKey>(dir_.path(), "k1", "RS256");
    WriteFile(dir_ / "jwks.json", "{\"keys\":[" + key_->Jwk() + "]}");
    config_.jwks_file = (dir_ / "jwks.json").string();
    config_.issuer = "iss";
    config_.audiences = {"aud"};
    auto v = JwtVerifier::Create(config_);
    ASSERT_TRUE(v.ok()) << v.status().message();
    verifier_ = std::move(v).value();
  }
  std::string Claims(const std::string& extra = "", int64_t exp_delta = 300) {
    return R"({"iss":"iss","aud":["other","aud"],"sub":"s","scope":"a b","groups":["g"],"ags":"09162000","n":7,"exp":)" +
           std::to_string(testing::EpochSeconds(std::chrono::seconds(exp_delta))) + extra + "}";
  }
  std::string Unsigned(const std::string& alg, const std::string& claims, const std::string& sig = "") {
    return testing::Base64Url(R"({"alg":")" + alg + R"(","kid":"k1"})") + "." + testing::Base64Url(claims) + "." + sig;
  }
  TempDir dir_;
  JwtConfig config_;
  std::unique_ptr<testing::SigningKey> key_;
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST_F(JwtVerifierTest, ValidTokenYieldsPrincipalScopesGroupsAndClaims) {
  auto t = verifier_->Verify(key_->Sign(Claims()), std::chrono::system_clock::now());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->principal, "s");
  EXPECT_EQ(t->scopes, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t->groups, (std::vector<std::string>{"g"}));
  EXPECT_EQ(t->claims.at("ags"), "09162000");
  EXPECT_EQ(t->claims.at("n"), "7");
}

TEST_F(JwtVerifierTest, NoneAndHmacAreNeverAccepted) {
  for (const char* alg : {"none", "HS256", "RS384", ""}) {
    SCOPED_TRACE(alg);
    auto t = verifier_->Verify(Unsigned(alg, Claims(), "c2ln"), std::chrono::system_clock::now());
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kUnauthenticated);
  }
}

TEST_F(JwtVerifierTest, TimeClaimsWithSkew) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_TRUE(verifier_->Verify(key_->Sign(Claims("", -30)), now).ok()) << "within 60 s skew";
  EXPECT_FALSE(verifier_->Verify(key_->Sign(Claims("", -120)), now).ok());
  const std::string nbf = ",\"nbf\":" + std::to_string(testing::EpochSeconds(std::chrono::seconds(600)));
  auto t = verifier_->Verify(key_->Sign(Claims(nbf)), now);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("not valid yet"), std::string::npos);
  std::string no_exp = key_->Sign(R"({"iss":"iss","aud":"aud","sub":"s"})");
  EXPECT_FALSE(verifier_->Verify(no_exp, now).ok());
  EXPECT_FALSE(verifier_->Verify(key_->Sign(R"({"iss":"iss","aud":"aud","exp":9999999999})"), now).ok())
      << "no principal claim";
}

TEST_F(JwtVerifierTest, RotatedJwksIsPickedUpAndBrokenOneKeepsOldKeys) {
  testing::SigningKey next(dir_.path(), "k2", "ES256");
  const std::string token2 = next.Sign(Claims());
  EXPECT_FALSE(verifier_->Verify(token2, std::chrono::system_clock::now()).ok());
  // Rewrite the file with both keys; the verifier looks at most once a second.
  WriteFile(dir_ / "jwks.json.new", "{\"keys\":[" + key_->Jwk() + "," + next.Jwk() + "]}");
  std::filesystem::rename(dir_ / "jwks.json.new", dir_ / "jwks.json");
  bool accepted = false;
  for (int i = 0; i < 60 && !accepted; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    accepted = verifier_->Verify(token2, std::chrono::system_clock::now()).ok();
  }
  EXPECT_TRUE(accepted);
  // A broken file keeps the keys in use.
  WriteFile(dir_ / "jwks.json", "{not json");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_TRUE(verifier_->Verify(token2, std::chrono::system_clock::now()).ok());
  EXPECT_TRUE(verifier_->Verify(key_->Sign(Claims()), std::chrono::system_clock::now()).ok());
}

TEST_F(JwtVerifierTest, JwksWithoutUsableKeysIsRefused) {
  WriteFile(dir_ / "bad.json", R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})");
  JwtConfig c = config_;
  c.jwks_file = (dir_ / "bad.json").string();
  auto v = JwtVerifier::Create(c);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("no usable signing key"), std::string::npos);
}

}  // namespace
}  // namespace fachadapter::security
