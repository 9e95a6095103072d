#include <gtest/gtest.h>

#include "page_token_internal.h"

namespace fachadapter {
namespace {

PageToken Sample() {
  PageToken t;
  t.query_fingerprint = 0x0123456789abcdefULL;
  v1::Value a, b, n;
  a.set_string_value("Müller; DROP TABLE x");
  b.set_int_value(-42);
  n.set_null_value(v1::NULL_VALUE);
  t.last_sort_values = {a, b, n};
  return t;
}

void ExpectInvalid(const Result<PageToken>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << what;
  EXPECT_EQ(r.status().reason(), "INVALID_PAGE_TOKEN") << what;
  EXPECT_EQ(r.status().field(), "page_token") << what;
}

TEST(PageTokenTest, RoundTripsAndHidesTheSortValues) {
  auto sealer = PageTokenSealer::Random();
  std::string text = sealer.Encode(Sample());
  EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  // Neither the text nor its base64 decoding shows the value (it may be personal data).
  EXPECT_EQ(text.find("TcO8bGxlc"), std::string::npos);  // base64 of "Müller"
  EXPECT_NE(sealer.Encode(Sample()), text) << "a fresh nonce per token";
  auto back = sealer.Decode(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->query_fingerprint, 0x0123456789abcdefULL);
  ASSERT_EQ(back->last_sort_values.size(), 3u);
  EXPECT_EQ(back->last_sort_values[0].string_value(), "Müller; DROP TABLE x");
  EXPECT_EQ(back->last_sort_values[1].int_value(), -42);
  EXPECT_TRUE(back->last_sort_values[2].has_null_value());
}

TEST(PageTokenTest, AlteredOrForeignTokensAreRejected) {
  auto sealer = PageTokenSealer::Random();
  std::string text = sealer.Encode(Sample());
  for (size_t i = 0; i < text.size(); i += 7) {
    std::string t = text;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    ExpectInvalid(sealer.Decode(t), "flipped at " + std::to_string(i));
  }
  ExpectInvalid(PageTokenSealer::Random().Decode(text), "another process's key");
  auto k1 = PageTokenSealer::FromKey(std::string(32, 'k'));
  auto k2 = PageTokenSealer::FromKey(std::string(32, 'k'));
  ASSERT_TRUE(k1.ok() && k2.ok());
  EXPECT_TRUE(k2->Decode(k1->Encode(Sample())).ok()) << "replicas sharing a configured key";
  auto short_key = PageTokenSealer::FromKey("too short");
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.status().code(), StatusCode::kInvalidArgument);
}

TEST(PageTokenTest, RejectsMalformedTokens) {
  auto sealer = PageTokenSealer::Random();
  for (const std::string& bad : std::vector<std::string>{"", "!!!!", "A", "AAAA", "not a token at all",
                                                         std::string(70000, 'A'), std::string(80, 'A')}) {
    ExpectInvalid(sealer.Decode(bad), bad.substr(0, 20));
  }
}

}  // namespace
}  // namespace fachadapter
