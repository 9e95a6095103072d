// Pins the layout of the connector ABI: changing any of these numbers breaks every plugin
// built before, so a change here must come with a new FACHADAPTER_CONNECTOR_ABI_VERSION.
#include <gtest/gtest.h>

#include <cstddef>

#include "fachadapter/connector/abi.h"

namespace {

TEST(AbiLayoutTest, VersionOne) {
  static_assert(sizeof(void*) == 8, "layout pinned for 64-bit platforms");
  EXPECT_EQ(FACHADAPTER_CONNECTOR_ABI_VERSION, 1u);
  EXPECT_STREQ(FACHADAPTER_CONNECTOR_ENTRY, "fachadapter_connector_init");
  EXPECT_STREQ(FACHADAPTER_CONNECTOR_ABI_SYMBOL, "fachadapter_connector_abi_version");

  EXPECT_EQ(offsetof(FaConnectorV1, struct_size), 0u);
  EXPECT_EQ(offsetof(FaConnectorV1, abi_version), 4u);
  EXPECT_EQ(offsetof(FaConnectorV1, name), 8u);
  EXPECT_EQ(offsetof(FaConnectorV1, version), 16u);
  EXPECT_EQ(offsetof(FaConnectorV1, open), 24u);
  EXPECT_EQ(offsetof(FaConnectorV1, close), 32u);
  EXPECT_EQ(offsetof(FaConnectorV1, call), 40u);
  EXPECT_EQ(offsetof(FaConnectorV1, scan_open), 48u);
  EXPECT_EQ(offsetof(FaConnectorV1, scan_next), 56u);
  EXPECT_EQ(offsetof(FaConnectorV1, scan_close), 64u);
  EXPECT_EQ(sizeof(FaConnectorV1), 72u);

  EXPECT_EQ(offsetof(FaHostApi, struct_size), 0u);
  EXPECT_EQ(offsetof(FaHostApi, abi_version), 4u);
  EXPECT_EQ(offsetof(FaHostApi, host_data), 8u);
  EXPECT_EQ(offsetof(FaHostApi, log), 16u);
  EXPECT_EQ(offsetof(FaHostApi, counter_add), 24u);
  EXPECT_EQ(sizeof(FaHostApi), 32u);

  EXPECT_EQ(offsetof(FaCallContext, struct_size), 0u);
  EXPECT_EQ(offsetof(FaCallContext, deadline_unix_nanos), 8u);
  EXPECT_EQ(offsetof(FaCallContext, host_data), 16u);
  EXPECT_EQ(offsetof(FaCallContext, is_cancelled), 24u);
  EXPECT_EQ(sizeof(FaCallContext), 32u);

  EXPECT_EQ(offsetof(FaBuffer, data), 0u);
  EXPECT_EQ(offsetof(FaBuffer, size), 8u);
  EXPECT_EQ(offsetof(FaBuffer, release), 16u);
  EXPECT_EQ(offsetof(FaBuffer, private_data), 24u);
  EXPECT_EQ(sizeof(FaBuffer), 32u);

  EXPECT_EQ(FA_METHOD_DESCRIBE, 1);
  EXPECT_EQ(FA_METHOD_INSERT, 2);
  EXPECT_EQ(FA_METHOD_UPDATE, 3);
  EXPECT_EQ(FA_METHOD_DELETE, 4);
  EXPECT_EQ(FA_METHOD_HEALTH, 5);
}

}  // namespace
