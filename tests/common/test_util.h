// Shared helpers for Fachadapter tests: paths to the source tree, the build tree and the
// real-world test data, and temporary directories that clean up after themselves.
#ifndef FACHADAPTER_TESTS_COMMON_TEST_UTIL_H_
#define FACHADAPTER_TESTS_COMMON_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <stdexcept>
#include <system_error>

namespace fachadapter::testing {

/// ../shared/data beside the checkout (or $FACHADAPTER_SHARED_DATA); empty if absent.
inline std::filesystem::path SharedDataDir() {
  const char* env = std::getenv("FACHADAPTER_SHARED_DATA");
  std::filesystem::path p = env && *env ? env : FACHADAPTER_SHARED_DATA;
  std::error_code ec;
  return std::filesystem::is_directory(p, ec) ? p : std::filesystem::path();
}

/// Skips the current test with a clear message when ../shared/data is absent.
#define FACHADAPTER_REQUIRE_SHARED_DATA()                                                 \
  do {                                                                                    \
    if (::fachadapter::testing::SharedDataDir().empty()) {                                \
      GTEST_SKIP() << "real-world test data not found at " FACHADAPTER_SHARED_DATA        \
                      " (set FACHADAPTER_SHARED_DATA to the shared/data folder)";         \
    }                                                                                     \
  } while (false)

/// The source tree.
inline std::filesystem::path SourceDir() { return FACHADAPTER_SOURCE_DIR; }
/// The build tree.
inline std::filesystem::path BinaryDir() { return FACHADAPTER_BINARY_DIR; }
/// Where the built connector plugins are.
inline std::filesystem::path PluginDir() { return FACHADAPTER_PLUGIN_DIR; }

/// A fresh temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fachadapter-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// The directory.
  const std::filesystem::path& path() const { return path_; }
  /// A path inside it.
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Writes `content` to `path`.
inline void WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

/// Reads all of `path`.
inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace fachadapter::testing

#endif  // FACHADAPTER_TESTS_COMMON_TEST_UTIL_H_
