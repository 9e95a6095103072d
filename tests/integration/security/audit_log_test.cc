// The audit log's chain and its verifier: a removed, an inserted and an altered record are
// found, by the library and by `fachadapter audit verify`.
#include <gtest/gtest.h>

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

TEST(AuditJsonTest, QuotingKeepsEveryLineValidJson) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(JsonQuote("Müller"), "\"Müller\"");
  EXPECT_EQ(JsonQuote(std::string("x\xff") + "y"), "\"x\\ufffdy\"");
}

}  // namespace
}  // namespace fachadapter::security
