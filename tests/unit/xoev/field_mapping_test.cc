// Field mappings: XPath with namespace prefixes into typed values; errors at start, not later.
#include "field_mapping.h"

#include "test_util.h"
#include "xml_security.h"

namespace fachadapter::xoev {
namespace {

const char* kDoc =
    "<m:msg xmlns:m=\"urn:m\"><m:kopf><m:typ><code>0401</code></m:typ></m:kopf>"
    "<m:betrag>+001234.50</m:betrag><m:datum>2024-02-29</m:datum><m:anzahl>42</m:anzahl>"
    "<m:zeit>2024-05-24T11:27:50+02:00</m:zeit><m:flag>true</m:flag><m:name>  Gr\xC3\xBC\xC3\x9F""e </m:name>"
    "<m:kaputt>12x</m:kaputt></m:msg>";

TEST(FieldMappingTest, TypedValues) {
  MappingRuleConfig rule;
  rule.message_types = {"0401"};
  rule.fields = {{"betrag", "/m:msg/m:betrag", v1::FIELD_TYPE_DECIMAL},
                 {"datum", "//m:datum", v1::FIELD_TYPE_DATE},
                 {"anzahl", "number(//m:anzahl) + 1", v1::FIELD_TYPE_INT64},
                 {"zeit", "string(//m:zeit)", v1::FIELD_TYPE_TIMESTAMP},
                 {"flag", "//m:flag = 'true'", v1::FIELD_TYPE_BOOL},
                 {"name", "//m:name", v1::FIELD_TYPE_STRING},
                 {"fehlt", "//m:gibtsnicht", v1::FIELD_TYPE_STRING},
                 {"kaputt", "//m:kaputt", v1::FIELD_TYPE_INT64}};
  auto m = FieldMapper::Create({{"m", "urn:m"}}, {rule});
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto doc = ParseUntrusted(kDoc, {});
  ASSERT_TRUE(doc.ok());
  MessageHeader h;
  h.type_code = "0401";
  std::vector<v1::Value> v;
  std::string errors;
  (*m)->Evaluate(doc->get(), h, "", &v, &errors);
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(v[0].decimal_value().value(), "1234.50");
  EXPECT_EQ(v[1].date_value().day(), 29);
  EXPECT_EQ(v[2].int_value(), 43);
  EXPECT_EQ(v[3].timestamp_value().utc_offset_minutes(), 120);
  EXPECT_TRUE(v[4].bool_value());
  EXPECT_EQ(v[5].string_value(), "  Grüße ");
  EXPECT_TRUE(v[6].has_null_value());
  EXPECT_TRUE(v[7].has_null_value());
  EXPECT_EQ(errors, "kaputt: '12x' is not a valid int64");
  // Another message type: the rule does not apply.
  h.type_code = "0402";
  errors.clear();
  (*m)->Evaluate(doc->get(), h, "", &v, &errors);
  EXPECT_TRUE(v[0].has_null_value());
}

TEST(FieldMappingTest, ConfigurationErrorsNameTheField) {
  MappingRuleConfig rule;
  rule.fields = {{"a", "//m:x[", v1::FIELD_TYPE_STRING}};
  auto m = FieldMapper::Create({{"m", "urn:m"}}, {rule});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().field(), "a");
  rule.fields = {{"b", "//unbekannt:x", v1::FIELD_TYPE_STRING}};
  m = FieldMapper::Create({{"m", "urn:m"}}, {rule});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().field(), "b");
  rule.fields = {{"c", "//m:x", v1::FIELD_TYPE_STRING}, {"c", "//m:y", v1::FIELD_TYPE_INT64}};
  m = FieldMapper::Create({{"m", "urn:m"}}, {rule});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("two types"), std::string::npos);
}

}  // namespace
}  // namespace fachadapter::xoev
