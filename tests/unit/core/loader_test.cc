// The connector loader refuses every kind of broken plugin with a message naming it.
#include <gtest/gtest.h>

#include "fachadapter/connector/v1/connector.pb.h"
#include "fachadapter/connector_registry.h"
#include "test_util.h"

namespace fachadapter {
namespace {

std::string Plugin(const std::string& name) {
  return std::string(TEST_PLUGIN_DIR) + "/fachadapter_connector_" + name + ".so";
}

TEST(LoaderTest, LoadsAGoodPluginAndChecksItsTable) {
  auto ct = ConnectorType::LoadPlugin(Plugin("test_good"));
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EXPECT_EQ((*ct)->name(), "test_good");
  EXPECT_EQ((*ct)->version(), "9.9.9");
  EXPECT_EQ((*ct)->table().abi_version, FACHADAPTER_CONNECTOR_ABI_VERSION);
  EXPECT_GE((*ct)->table().struct_size, sizeof(FaConnectorV1));
}

TEST(LoaderTest, RefusesAPluginBuiltForAnotherAbiNamingBothVersions) {
  std::string path = Plugin("test_abi_mismatch");
  auto ct = ConnectorType::LoadPlugin(path);
  ASSERT_FALSE(ct.ok());
  EXPECT_EQ(ct.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ct.status().reason(), "CONNECTOR_ABI_MISMATCH");
  EXPECT_NE(ct.status().message().find(path), std::string::npos) << ct.status().message();
  EXPECT_NE(ct.status().message().find("ABI version 999"), std::string::npos) << ct.status().message();
  EXPECT_NE(ct.status().message().find("ABI version " + std::to_string(FACHADAPTER_CONNECTOR_ABI_VERSION)),
            std::string::npos)
      << ct.status().message();
}

TEST(LoaderTest, RefusesAPluginWithoutEntryPoint) {
  auto ct = ConnectorType::LoadPlugin(Plugin("test_missing_entry"));
  ASSERT_FALSE(ct.ok());
  EXPECT_EQ(ct.status().reason(), "CONNECTOR_INVALID");
  EXPECT_NE(ct.status().message().find("fachadapter_connector_init"), std::string::npos)
      << ct.status().message();
}

TEST(LoaderTest, RefusesAShortFunctionTable) {
  auto ct = ConnectorType::LoadPlugin(Plugin("test_short_table"));
  ASSERT_FALSE(ct.ok());
  EXPECT_EQ(ct.status().reason(), "CONNECTOR_INVALID");
  EXPECT_NE(ct.status().message().find("24 bytes"), std::string::npos) << ct.status().message();
}

TEST(LoaderTest, RefusesAFileThatIsNotASharedLibrary) {
  testing::TempDir dir;
  testing::WriteFile(dir / "fachadapter_connector_junk.so", "not an ELF file");
  auto ct = ConnectorType::LoadPlugin((dir / "fachadapter_connector_junk.so").string());
  ASSERT_FALSE(ct.ok());
  EXPECT_EQ(ct.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(ct.status().message().find("cannot load connector plugin"), std::string::npos);
}

TEST(LoaderTest, FindConnectorSearchesThePathAndListsItWhenMissing) {
  auto found = FindConnector("test_good", {"/nonexistent", TEST_PLUGIN_DIR});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  auto missing = FindConnector("nosuch", {"/nonexistent", TEST_PLUGIN_DIR});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent"), std::string::npos);
  EXPECT_NE(missing.status().message().find("fachadapter_connector_nosuch.so"), std::string::npos);
  auto evil = FindConnector("../../etc/passwd", {TEST_PLUGIN_DIR});
  EXPECT_EQ(evil.status().code(), StatusCode::kInvalidArgument);
}

extern "C" int32_t fachadapter_connector_init_test_good(uint32_t, void*, size_t);

TEST(LoaderTest, StaticRegistrationIsFoundBeforePlugins) {
  ASSERT_TRUE(RegisterStaticConnector("static_good", &fachadapter_connector_init_test_good));
  EXPECT_FALSE(RegisterStaticConnector("static_good", &fachadapter_connector_init_test_good));
  auto ct = FindConnector("static_good", {});
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EXPECT_EQ((*ct)->name(), "test_good");
  EXPECT_EQ((*ct)->origin(), "static_good (static)");
}

TEST(LoaderTest, ExceptionsInAConnectorBecomeInternalErrors) {
  auto ct = ConnectorType::LoadPlugin(Plugin("test_good"));
  ASSERT_TRUE(ct.ok());
  const FaConnectorV1& t = (*ct)->table();
  FaConnectorInstance* inst = nullptr;
  FaBuffer err{};
  std::string open = connector::v1::OpenRequest().SerializeAsString();
  ASSERT_EQ(t.open(nullptr, reinterpret_cast<const uint8_t*>(open.data()), open.size(), &inst, &err), FA_OK);
  FaScanCursor* cursor = nullptr;
  std::string scan = connector::v1::ScanRequest().SerializeAsString();
  int32_t rc = t.scan_open(inst, nullptr, reinterpret_cast<const uint8_t*>(scan.data()), scan.size(), &cursor, &err);
  EXPECT_EQ(rc, static_cast<int32_t>(StatusCode::kInternal));
  connector::v1::Error e;
  ASSERT_TRUE(e.ParseFromArray(err.data, static_cast<int>(err.size)));
  EXPECT_NE(e.message().find("scan exploded"), std::string::npos);
  err.release(&err);
  // A garbage request is refused, not parsed into nonsense.
  FaBuffer out{};
  const uint8_t junk[] = {0xff, 0xff, 0xff};
  rc = t.call(inst, nullptr, FA_METHOD_DESCRIBE, junk, sizeof junk, &out);
  EXPECT_EQ(rc, static_cast<int32_t>(StatusCode::kInvalidArgument));
  if (out.release) out.release(&out);
  t.close(inst);
}

}  // namespace
}  // namespace fachadapter
