// Header extraction from the real samples of every header style.
#include "message_header.h"

#include "test_util.h"
#include "xml_security.h"

namespace fachadapter::xoev {
namespace {

using testing::ReadFile;
using testing::SharedDataDir;

MessageHeader HeaderOf(const std::string& rel) {
  auto doc = ParseUntrusted(ReadFile(SharedDataDir() / "xoev" / rel), {});
  EXPECT_TRUE(doc.ok()) << rel;
  return doc.ok() ? ExtractHeader(doc->get()) : MessageHeader{};
}

TEST(MessageHeaderTest, G2gHeaderOfXBeteiligung) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto h = HeaderOf("xbeteiligung-1.2/samples/xbeteiligung-test-kommunal.Initiieren.0401.xml");
  EXPECT_EQ(h.header_style, "g2g");
  EXPECT_EQ(h.root_element, "kommunal.Initiieren.0401");
  EXPECT_EQ(h.root_namespace, "https://www.xleitstelle.de/xbeteiligung/12");
  EXPECT_EQ(h.standard, "XBeteiligung");
  EXPECT_EQ(h.version, "1.2");
  EXPECT_EQ(h.product, "DiPlan Cockpit");
  EXPECT_EQ(h.product_vendor, "]init[ AG");
  EXPECT_FALSE(h.product_version.has_value());
  EXPECT_EQ(h.message_uuid, "60f6667b-fa45-4bd7-b717-f4d6c65e5edb");
  EXPECT_EQ(h.type_code, "0401");
  EXPECT_EQ(h.type_name, "kommunal.Initiieren.0401");
  EXPECT_EQ(h.type_list_uri, "urn:xoev-de:xleitstelle:codeliste:xbeteiligung-nachrichten");
  EXPECT_EQ(h.type_list_version, "1.2");
  EXPECT_EQ(h.created, "2025-02-20T16:41:19.880Z");
  EXPECT_EQ(h.author.directory_service, "DVDV");
  EXPECT_EQ(h.author.id, "xyz:0001");
  EXPECT_EQ(h.author.name, "behoerde1");
  EXPECT_EQ(h.reader.id, "xyz:0002");
  EXPECT_EQ(h.reader.name, "behoerde2");
  EXPECT_NE(h.uuid_node, nullptr);
}

TEST(MessageHeaderTest, XdomeaKopf) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto h = HeaderOf("xdomea-3.0.0/samples/xx_Aussonderung.Anbieteverzeichnis.0501.xml");
  EXPECT_EQ(h.header_style, "kopf");
  EXPECT_EQ(h.root_element, "Aussonderung.Anbieteverzeichnis.0501");
  EXPECT_EQ(h.root_namespace, "urn:xoev-de:xdomea:schema:3.0.0");
  EXPECT_FALSE(h.message_uuid.has_value());
  EXPECT_EQ(h.process_id, "242f44e8-bebf-4503-a086-db252c6a4277");
  EXPECT_EQ(h.type_code, "0501");
  EXPECT_FALSE(h.type_list_uri.has_value());
  EXPECT_EQ(h.created, "2020-07-24T17:21:25");
  EXPECT_EQ(h.author.id, "AbsBehoerdenkennungPraefixCode:LATh");
  EXPECT_EQ(h.author.name, "AbsXdomeaInstitutionName");
  auto h2 = HeaderOf("xdomea-3.0.0/samples/9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.xml");
  EXPECT_EQ(h2.type_code, "0503");
  EXPECT_EQ(h2.type_list_uri, "urn:xoev-de:xdomea:codeliste:nachrichtentyp");
  EXPECT_EQ(h2.type_list_version, "2.0");
  EXPECT_EQ(h2.author.name, "[Abgebende Stelle]");
  EXPECT_EQ(h2.reader.name, "Landesarchiv NRW");
}

TEST(MessageHeaderTest, Xdomea4NachrichtenkopfWithoutSchema) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto h = HeaderOf("xdomea-3.0.0/samples/xdomea-4.0.0_no-xsd-here_0503.xml");
  EXPECT_EQ(h.header_style, "nachrichtenkopf");
  EXPECT_EQ(h.root_namespace, "urn:xoev-de:xdomea:schema:4.0.0");
  EXPECT_EQ(h.standard, "xdomea");
  EXPECT_EQ(h.version, "4.0.0");
  EXPECT_EQ(h.message_uuid, "95b80307-d19c-11ef-a43a-005056871b7c");
  EXPECT_EQ(h.process_id, "518c7c31-d1a0-11ef-accb-005056871b7c");
  EXPECT_EQ(h.type_code, "0503");
  EXPECT_EQ(h.type_list_version, "3.0");
  EXPECT_EQ(h.reader.name, "Landesarchiv NRW");
  EXPECT_EQ(h.author.name, "[Abgebende Stelle]");
}

TEST(MessageHeaderTest, NoHeaderStillGivesRoot) {
  auto doc = ParseUntrusted("<x:a xmlns:x=\"urn:x\" standard=\"S\" version=\"9\"/>", {});
  ASSERT_TRUE(doc.ok());
  auto h = ExtractHeader(doc->get());
  EXPECT_EQ(h.header_style, "");
  EXPECT_EQ(h.root_element, "a");
  EXPECT_EQ(h.root_namespace, "urn:x");
  EXPECT_EQ(h.standard, "S");
  EXPECT_EQ(h.version, "9");
}

TEST(MessageHeaderTest, XsDateTime) {
  v1::Timestamp ts;
  ASSERT_TRUE(ParseXsDateTime("2025-02-20T16:41:19.880Z", &ts));
  EXPECT_EQ(ts.seconds(), 1740069679);
  EXPECT_EQ(ts.nanos(), 880000000);
  EXPECT_EQ(ts.utc_offset_minutes(), 0);
  ASSERT_TRUE(ParseXsDateTime("2024-05-24T11:27:50.141+02:00", &ts));
  EXPECT_EQ(ts.seconds(), 1716542870);
  EXPECT_EQ(ts.utc_offset_minutes(), 120);
  EXPECT_EQ(FormatXsDateTime(ts), "2024-05-24T11:27:50.141+02:00");
  ASSERT_TRUE(ParseXsDateTime("2020-07-24T17:21:25", &ts));
  EXPECT_FALSE(ts.has_utc_offset_minutes());
  for (const char* bad : {"2020-02-30T00:00:00", "2020-07-24 17:21:25", "2020-07-24T17:21:25+2", "x"}) {
    EXPECT_FALSE(ParseXsDateTime(bad, &ts)) << bad;
  }
  v1::Date d;
  ASSERT_TRUE(ParseXsDate("2010-04-04", &d));
  EXPECT_EQ(d.day(), 4);
  EXPECT_FALSE(ParseXsDate("2010-13-04", &d));
}

}  // namespace
}  // namespace fachadapter::xoev
