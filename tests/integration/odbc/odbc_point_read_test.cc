// Point reads on PostgreSQL through psqlODBC: a scan with a small limit (what the core's Get
// sends) runs on a short connection, opened without the driver's streaming mode, with a
// statement prepared once on the server and executed again with new parameters; it keeps
// working while streaming scans hold connections, after the server restarts, and after the
// table changed under a prepared statement.
//
// The server is one of the test's own (pg_server.h), logging every statement with its protocol
// step (log_min_duration_statement=0: "parse", "bind", "execute" of the extended protocol,
// "statement" of a simple query), so the test sees what reached the database.
//
// Needs FACHADAPTER_TEST_PG_BINDIR (scripts/test-servers.sh prints it) and psqlODBC registered
// as "PostgreSQL Unicode"; skips with a message without.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pg_server.h"
#include "plugin_client.h"
#include "test_util.h"

namespace fachadapter::testing {
namespace {

constexpr int kRows = 3000;

class PointReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string bindir;
    if (std::string why = PgServerUnavailable(&bindir); !why.empty()) GTEST_SKIP() << why;
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::all);
    server_ = std::make_unique<PgServer>(bindir, dir_.path(), "-c log_min_duration_statement=0");
    std::string error;
    ASSERT_TRUE(server_->Init(&error)) << error;
    ASSERT_TRUE(server_->Sql("CREATE TABLE antrag (nr INTEGER PRIMARY KEY, titel VARCHAR(80) NOT NULL); "
                             "INSERT INTO antrag SELECT g, 'Antrag ' || g FROM generate_series(1, " +
                             std::to_string(kRows) + ") g"));
    plugin_ = std::make_unique<Plugin>((PluginDir() / "fachadapter_connector_odbc.so").string());
    google::protobuf::Struct s;
    (*s.mutable_fields())["connection_string"].set_string_value(server_->ConnectionString());
    (*s.mutable_fields())["pool_size"].set_number_value(2);
    auto r = Instance::Open(*plugin_, s);
    ASSERT_TRUE(r.ok()) << r.error.message();
    inst_ = std::move(r.response);
  }

  // A point read as the core's Get sends it: the key as an equality filter, limit 2 (one more
  // than wanted, to see whether the key is unique), one record per batch. Checks the record.
  void Get(int nr, const std::string& titel_prefix = "Antrag ") {
    cv1::ScanRequest req;
    req.set_entity("antrag");
    req.set_limit(2);
    req.set_batch_size(1);
    req.set_with_etag(true);
    auto* f = req.mutable_filter()->mutable_field();
    f->set_field("nr");
    f->set_op(v1::OPERATOR_EQ);
    f->mutable_value()->set_int_value(nr);
    auto r = inst_->Scan(req);
    ASSERT_TRUE(r.ok()) << "nr " << nr << ": " << r.error.message();
    ASSERT_EQ(r.records.size(), 1u) << "nr " << nr;
    EXPECT_EQ(r.records[0].values(0).int_value(), nr);
    EXPECT_EQ(r.records[0].values(1).string_value(), titel_prefix + std::to_string(nr));
    EXPECT_FALSE(r.records[0].etag().empty());
  }

  // Log lines of the server about the point read's SELECT (its text ends in the limit clause
  // for 2 rows: "FETCH FIRST 2 ROWS ONLY" on PostgreSQL) in protocol step `step` ("parse",
  // "execute", "statement"), from line `from` on.
  std::vector<std::string> PointReadLines(const std::string& step, size_t from = 0) const {
    std::vector<std::string> out;
    std::istringstream log(ReadFile(server_->ServerLog()));
    std::string line;
    for (size_t n = 0; std::getline(log, line); ++n) {
      if (n < from) continue;
      if (line.find("\"antrag\"") == std::string::npos) continue;
      if (line.find("FETCH FIRST 2 ROWS ONLY") == std::string::npos && line.find("LIMIT 2") == std::string::npos) continue;
      if (line.find("  " + step + " ") != std::string::npos) out.push_back(line);
    }
    return out;
  }
  size_t LogLines() const {
    std::string text = ReadFile(server_->ServerLog());
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }
  static size_t Containing(const std::vector<std::string>& lines, const std::string& part) {
    size_t n = 0;
    for (const std::string& l : lines) {
      std::string lower = l;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.find(part) != std::string::npos) ++n;
    }
    return n;
  }

  TempDir dir_;
  std::unique_ptr<PgServer> server_;
  std::unique_ptr<Plugin> plugin_;
  std::unique_ptr<Instance> inst_;
};

// Bounded to pool_size 2: one connection streams a whole table (an open server-side cursor)
// while 20 point reads run on the other, opened without the cursor mode; their statement is
// parsed by the server once and executed 20 times under its name, never declared as a cursor.
TEST_F(PointReadTest, PointReadsRunPreparedOnAShortConnectionWhileAStreamHoldsTheOther) {
  Get(1);  // the first limited scan learns the limit syntax on a streaming connection
  const size_t from = LogLines();
  cv1::ScanRequest all;
  all.set_entity("antrag");
  all.set_batch_size(100);
  auto stream = inst_->StartScan(all);
  ASSERT_TRUE(stream->ok());

  const int64_t prepared = inst_->counter("odbc_statements_prepared");
  for (int nr = 1; nr <= 20; ++nr) Get(nr * 97);
  EXPECT_EQ(inst_->counter("odbc_scans_on_short_connections"), 20);
  EXPECT_EQ(inst_->counter("odbc_statements_prepared") - prepared, 1) << "prepared once on the short connection";
  EXPECT_EQ(inst_->counter("odbc_statements_reused"), 19);

  std::vector<std::string> parses = PointReadLines("parse", from);
  std::vector<std::string> executes = PointReadLines("execute", from);
  EXPECT_EQ(parses.size(), 1u) << "the server parses the point read once";
  EXPECT_EQ(executes.size(), 20u);
  EXPECT_EQ(Containing(executes, "<unnamed>"), 0u) << "executed as a named prepared statement";
  EXPECT_EQ(Containing(PointReadLines("statement", from), "declare"), 0u) << "no cursor for a point read";
  EXPECT_EQ(Containing(executes, "declare"), 0u) << "no cursor for a point read";

  // The streaming connection still streams: the whole table arrives.
  stream.reset();
  auto everything = inst_->Scan(all);
  ASSERT_TRUE(everything.ok()) << everything.error.message();
  EXPECT_EQ(everything.records.size(), static_cast<size_t>(kRows));
}

// Both of the pool's connections busy with streams: a point read waits for one, bounded by
// pool_size, and gets it when a stream ends (the pool closes the idle streaming connection to
// open a short one in its place).
TEST_F(PointReadTest, PoolSizeBoundsBothKindsTogether) {
  Get(1);
  cv1::ScanRequest all;
  all.set_entity("antrag");
  all.set_batch_size(100);
  auto first = inst_->StartScan(all);
  auto second = inst_->StartScan(all);
  ASSERT_TRUE(first->ok());
  ASSERT_TRUE(second->ok());
  cv1::ScanRequest get;
  get.set_entity("antrag");
  get.set_limit(2);
  TestCallContext ctx;
  ctx.set_deadline_unix_nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  (std::chrono::system_clock::now() + std::chrono::milliseconds(300)).time_since_epoch())
                                  .count());
  auto refused = inst_->Scan(get, &ctx);
  EXPECT_EQ(refused.code, 14) << "no third connection: pool_size is 2";
  EXPECT_EQ(refused.error.reason(), "POOL_EXHAUSTED");
  second.reset();
  const int64_t short_before = inst_->counter("odbc_scans_on_short_connections");
  Get(42);
  EXPECT_EQ(inst_->counter("odbc_scans_on_short_connections") - short_before, 1);
  auto h = inst_->Health();
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h.response.serving()) << h.response.detail();
}

// The server restarts: the prepared statements died with their connections. The next point
// reads get fresh connections (validated or retried), prepare again and are served.
TEST_F(PointReadTest, PreparedPointReadsRecoverAfterTheServerRestarts) {
  for (int nr = 1; nr <= 5; ++nr) Get(nr);
  const int64_t prepared = inst_->counter("odbc_statements_prepared");
  ASSERT_TRUE(server_->Stop());
  ASSERT_TRUE(server_->Start());
  const size_t from = LogLines();
  for (int nr = 6; nr <= 10; ++nr) Get(nr);
  EXPECT_GE(inst_->counter("odbc_statements_prepared") - prepared, 1) << "prepared again on a new connection";
  EXPECT_GE(PointReadLines("parse", from).size(), 1u);
  EXPECT_EQ(PointReadLines("execute", from).size(), 5u);
  EXPECT_LE(PointReadLines("parse", from).size(), 2u) << "once per connection, not per read";
  auto h = inst_->Health();
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h.response.serving()) << h.response.detail();
}

// A column's type changes under a prepared statement (PostgreSQL then refuses to execute it:
// "cached plan must not change result type"): the connector drops the statement, prepares it
// again and the read is served; later reads reuse the new statement.
TEST_F(PointReadTest, AStatementTheTableChangedUnderIsPreparedAgain) {
  for (int nr = 1; nr <= 3; ++nr) Get(nr);
  const int64_t prepared = inst_->counter("odbc_statements_prepared");
  ASSERT_TRUE(server_->Sql("ALTER TABLE antrag ALTER COLUMN titel TYPE VARCHAR(120)"));
  ASSERT_TRUE(server_->Sql("ALTER TABLE antrag ALTER COLUMN titel TYPE TEXT"));
  Get(4);
  EXPECT_EQ(inst_->counter("odbc_statements_prepared") - prepared, 1);
  const int64_t reused = inst_->counter("odbc_statements_reused");
  Get(5);
  EXPECT_EQ(inst_->counter("odbc_statements_reused") - reused, 1);
  EXPECT_EQ(inst_->counter("odbc_statements_prepared") - prepared, 1);
}

}  // namespace
}  // namespace fachadapter::testing
