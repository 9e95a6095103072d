// The audit log's chain and its verifier: a removed, an inserted and an altered record are
// found, by the library and by `fachadapter audit verify`.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "daemon_harness.h"
#include "fachadapter/security/audit_log.h"
#include "test_util.h"

namespace fachadapter::security {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

std::vector<std::string> Lines(const std::filesystem::path& p) {
  std::vector<std::string> out;
  std::istringstream in(ReadFile(p));
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

void WriteLines(const std::filesystem::path& p, const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  WriteFile(p, s);
}

AuditRecord Rec(int i) {
  AuditRecord r;
  r.request_id = "req-" + std::to_string(i);
  r.principal = "anna";
  r.auth = "jwt";
  r.operation = "get";
  r.entity = "Betrieb";
  r.keys_json = "[\"" + std::to_string(i) + "\"]";
  r.records = 1;
  r.personal_fields = {"name"};
  r.outcome = "OK";
  return r;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "audit.log";
    auto log = AuditLog::Open(path_.string());
    ASSERT_TRUE(log.ok()) << log.status().message();
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE((*log)->Append(Rec(i)).ok());
    log->reset();
    // Reopened, the chain continues where it ended.
    log = AuditLog::Open(path_.string());
    ASSERT_TRUE(log.ok()) << log.status().message();
    for (int i = 4; i <= 5; ++i) ASSERT_TRUE((*log)->Append(Rec(i)).ok());
    lines_ = Lines(path_);
    ASSERT_EQ(lines_.size(), 5u);
  }

  // Runs the CLI on `file`; returns its exit code, output in `out`.
  int Cli(const std::filesystem::path& file, std::string* out) {
    auto r = testing::RunProgram({(testing::BinaryDir() / "bin" / "fachadapter").string(), "audit", "verify",
                                  file.string()},
                                 dir_ / "cli.out");
    *out = r.output;
    return r.exit_code;
  }

  TempDir dir_;
  std::filesystem::path path_;
  std::vector<std::string> lines_;
};

TEST_F(AuditLogTest, IntactChainVerifies) {
  auto v = VerifyAuditLog(path_.string());
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 5);
  EXPECT_EQ(v.last_hash, Sha256Hex(lines_.back()));
  EXPECT_NE(lines_[0].find("\"seq\":1,"), std::string::npos);
  EXPECT_NE(lines_[0].find("\"prev\":\"" + std::string(64, '0') + "\""), std::string::npos);
  std::string out;
  EXPECT_EQ(Cli(path_, &out), 0) << out;
  EXPECT_NE(out.find("OK, 5 records"), std::string::npos) << out;
}

TEST_F(AuditLogTest, DeletedRecordIsDetected) {
  auto lines = lines_;
  lines.erase(lines.begin() + 2);  // record 3
  WriteLines(path_, lines);
  auto v = VerifyAuditLog(path_.string());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_line, 3);
  std::string out;
  EXPECT_EQ(Cli(path_, &out), 1) << out;
  EXPECT_NE(out.find("audit.log:3:"), std::string::npos) << out;
}

TEST_F(AuditLogTest, DeletedFirstRecordIsDetected) {
  WriteLines(path_, {lines_.begin() + 1, lines_.end()});
  auto v = VerifyAuditLog(path_.string());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_line, 1);
}

TEST_F(AuditLogTest, InsertedRecordIsDetected) {
  // A forger copies a real record and links it correctly to its predecessor.
  auto lines = lines_;
  std::string forged = lines[1];
  size_t p = forged.find("\"prev\":\"");
  forged = forged.substr(0, p) + "\"prev\":\"" + Sha256Hex(lines[1]) + "\"}";
  size_t s = forged.find("\"seq\":2");
  forged.replace(s, 7, "\"seq\":3");
  lines.insert(lines.begin() + 2, forged);
  WriteLines(path_, lines);
  auto v = VerifyAuditLog(path_.string());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_line, 4) << v.problem;  // the original third record no longer links
  std::string out;
  EXPECT_EQ(Cli(path_, &out), 1) << out;
  EXPECT_NE(out.find("audit.log:4:"), std::string::npos) << out;
}

TEST_F(AuditLogTest, AlteredRecordIsDetected) {
  auto lines = lines_;
  size_t p = lines[1].find("\"principal\":\"anna\"");
  lines[1].replace(p, 18, "\"principal\":\"otto\"");
  WriteLines(path_, lines);
  auto v = VerifyAuditLog(path_.string());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_line, 3);
  EXPECT_NE(v.problem.find("line 2 was altered"), std::string::npos) << v.problem;
  std::string out;
  EXPECT_EQ(Cli(path_, &out), 1) << out;
}

TEST_F(AuditLogTest, CutOffTailIsDetectedAgainstAKeptHash) {
  const std::string kept = Sha256Hex(lines_.back());
  WriteLines(path_, {lines_.begin(), lines_.end() - 1});
  EXPECT_TRUE(VerifyAuditLog(path_.string()).ok);  // the chain alone cannot tell
  auto v = VerifyAuditLog(path_.string(), kept);
  EXPECT_FALSE(v.ok);
}

TEST_F(AuditLogTest, TornLastLineStopsTheDaemonFromAppending) {
  WriteFile(path_, ReadFile(path_) + "{\"seq\":6,\"ti");
  auto log = AuditLog::Open(path_.string());
  EXPECT_FALSE(log.ok());
  EXPECT_EQ(log.status().reason(), "AUDIT_LOG_DAMAGED");
}

// Files of one rotated chain, oldest first (ordered by the seq of their first line).
std::vector<std::string> ChainFiles(const std::filesystem::path& dir) {
  std::vector<std::pair<long long, std::string>> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("audit.log", 0) != 0) continue;
    std::string first = Lines(e.path()).front();
    files.emplace_back(std::stoll(first.substr(7)), e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (auto& f : files) out.push_back(f.second);
  return out;
}

TEST(AuditRotationTest, RotatedFilesContinueTheChain) {
  TempDir dir;
  const auto path = dir / "audit.log";
  AuditLogOptions options;
  options.rotate_bytes = 700;  // about two records per file
  {
    auto log = AuditLog::Open(path.string(), options);
    ASSERT_TRUE(log.ok()) << log.status().message();
    for (int i = 1; i <= 9; ++i) ASSERT_TRUE((*log)->Append(Rec(i)).ok());
  }
  auto files = ChainFiles(dir.path());
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.back(), path.string());
  for (size_t i = 0; i + 1 < files.size(); ++i) {
    auto perms = std::filesystem::status(files[i]).permissions();
    EXPECT_EQ(perms & std::filesystem::perms::owner_write, std::filesystem::perms::none) << files[i];
  }
  for (size_t i = 1; i < files.size(); ++i) {
    EXPECT_NE(Lines(files[i]).front().find("\"operation\":\"rotate\""), std::string::npos);
  }
  auto all = VerifyAuditLogs(files);
  EXPECT_TRUE(all.ok) << all.file << ":" << all.bad_line << ": " << all.problem;
  EXPECT_FALSE(all.continues_rotated);
  EXPECT_EQ(all.records, 9 + static_cast<int64_t>(files.size()) - 1);

  // The current file alone: intact, but says it continues an older file.
  auto current = VerifyAuditLog(path.string());
  EXPECT_TRUE(current.ok) << current.problem;
  EXPECT_TRUE(current.continues_rotated);

  // A missing file in the middle is found.
  std::vector<std::string> gap = files;
  gap.erase(gap.begin() + 1);
  auto broken = VerifyAuditLogs(gap);
  EXPECT_FALSE(broken.ok);
  EXPECT_EQ(broken.file, gap[1]);
  EXPECT_EQ(broken.bad_line, 1);

  // The CLI checks the chain across files too.
  std::vector<std::string> argv{(testing::BinaryDir() / "bin" / "fachadapter").string(), "audit", "verify"};
  argv.insert(argv.end(), files.begin(), files.end());
  auto r = testing::RunProgram(argv, dir / "cli.out");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(AuditRotationTest, RetentionRemovesOnlyOldRotatedFiles) {
  TempDir dir;
  const auto old_file = dir / "audit.log.20200101T000000Z";
  const auto fresh_file = dir / "audit.log.20991231T000000Z";
  const auto other = dir / "audit.log.bak";
  for (const auto& f : {old_file, fresh_file, other}) WriteFile(f, "x\n");
  const auto long_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * 400);
  std::filesystem::last_write_time(old_file, long_ago);
  std::filesystem::last_write_time(other, long_ago);
  AuditLogOptions options;
  options.retention_days = 30;
  auto log = AuditLog::Open((dir / "audit.log").string(), options);
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_FALSE(std::filesystem::exists(old_file));
  EXPECT_TRUE(std::filesystem::exists(fresh_file));
  EXPECT_TRUE(std::filesystem::exists(other));
}

TEST(AuditJsonTest, QuotingKeepsEveryLineValidJson) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(JsonQuote("Müller"), "\"Müller\"");
  EXPECT_EQ(JsonQuote(std::string("x\xff") + "y"), "\"x\\ufffdy\"");
}

}  // namespace
}  // namespace fachadapter::security
