#include <gtest/gtest.h>

#include "page_token_internal.h"

namespace fachadapter {
namespace {

TEST(PageTokenTest, RoundTrips) {
  PageToken t;
  t.query_fingerprint = 0x0123456789abcdefULL;
  v1::Value a, b, n;
  a.set_string_value("Müller; DROP TABLE x");
  b.set_int_value(-42);
  n.set_null_value(v1::NULL_VALUE);
  t.last_sort_values = {a, b, n};
  std::string text = EncodePageToken(t);
  EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  auto back = DecodePageToken(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->query_fingerprint, t.query_fingerprint);
  ASSERT_EQ(back->last_sort_values.size(), 3u);
  EXPECT_EQ(back->last_sort_values[0].string_value(), "Müller; DROP TABLE x");
  EXPECT_EQ(back->last_sort_values[1].int_value(), -42);
  EXPECT_TRUE(back->last_sort_values[2].has_null_value());
}

TEST(PageTokenTest, RejectsMalformedTokens) {
  for (const std::string& bad : std::vector<std::string>{"", "!!!!", "A", "AAAA", "not a token at all", std::string(70000, 'A')}) {
    auto r = DecodePageToken(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().reason(), "INVALID_PAGE_TOKEN");
    EXPECT_EQ(r.status().field(), "page_token");
  }
}

}  // namespace
}  // namespace fachadapter
