// File helpers behind the outbound write protocol: SHA-256 (receipts, request hashes, derived
// UUIDs) against the FIPS 180-2 test vectors, UUIDs, atomic writes that never replace a message,
// and whole-file reads that fail instead of returning a short document.
#include "file_util.h"

#include <filesystem>
#include <string>

#include "test_util.h"

namespace fachadapter::xoev {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

TEST(FileUtilTest, Sha256OfTheStandardTestVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the length no longer fits the first block, so the padding needs a second one.
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(FileUtilTest, UuidsHaveTheVersion4LayoutAndSeedsAreStable) {
  auto check = [](const std::string& u) {
    ASSERT_EQ(u.size(), 36u) << u;
    EXPECT_EQ(u[8], '-');
    EXPECT_EQ(u[13], '-');
    EXPECT_EQ(u[14], '4') << u;
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;
  };
  check(RandomUuid());
  check(UuidFromSeed("beteiligung/key-1"));
  EXPECT_NE(RandomUuid(), RandomUuid());
  EXPECT_EQ(UuidFromSeed("beteiligung/key-1"), UuidFromSeed("beteiligung/key-1"));
  EXPECT_NE(UuidFromSeed("beteiligung/key-1"), UuidFromSeed("beteiligung/key-2"));
}

TEST(FileUtilTest, AtomicWriteNeverReplacesWithoutBeingAskedAndLeavesNoTempFile) {
  TempDir dir;
  const std::string d = dir.path().string();
  ASSERT_TRUE(WriteFileAtomically(d, "m.xml", "<a/>", false).ok());
  EXPECT_EQ(ReadFile(dir / "m.xml"), "<a/>");
  Status again = WriteFileAtomically(d, "m.xml", "<b/>", false);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.reason(), "ALREADY_EXISTS");
  EXPECT_EQ(ReadFile(dir / "m.xml"), "<a/>") << "an existing message was changed";
  ASSERT_TRUE(WriteFileAtomically(d, "m.xml", "<c/>", true).ok());
  EXPECT_EQ(ReadFile(dir / "m.xml"), "<c/>");
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "m.xml") << "left behind: " << e.path();
  }
  EXPECT_EQ(files, 1u);
  Status missing = WriteFileAtomically(d + "/no-such-folder", "m.xml", "<a/>", false);
  EXPECT_EQ(missing.code(), StatusCode::kUnavailable);
  EXPECT_EQ(missing.reason(), "WRITE_FAILED");
}

TEST(FileUtilTest, ReadWholeFileLimitsAndErrors) {
  TempDir dir;
  WriteFile(dir / "m.xml", std::string(100, 'x'));
  auto ok = ReadWholeFile((dir / "m.xml").string(), 100);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 100u);
  auto big = ReadWholeFile((dir / "m.xml").string(), 99);
  EXPECT_EQ(big.status().reason(), "XML_TOO_LARGE");
  EXPECT_EQ(ReadWholeFile((dir / "gone.xml").string(), 100).status().code(), StatusCode::kNotFound);
  std::filesystem::create_symlink(dir / "m.xml", dir / "link.xml");
  EXPECT_FALSE(ReadWholeFile((dir / "link.xml").string(), 100).ok()) << "a symlink was followed";
  // A read that fails (here: a folder, read() gives EISDIR) is an error, never an empty or
  // truncated document that would then be analysed as if it were the message.
  std::filesystem::create_directory(dir / "folder.xml");
  auto folder = ReadWholeFile((dir / "folder.xml").string(), 1 << 20);
  ASSERT_FALSE(folder.ok());
  EXPECT_EQ(folder.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace fachadapter::xoev
