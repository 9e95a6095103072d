// Recovery of the ODBC connector when its database goes away and comes back: a PostgreSQL
// server of the test's own (initdb in a temporary directory, loopback, a free port) is stopped
// and started again under an open connector instance, driven through the plugin's C ABI.
//
// Needs FACHADAPTER_TEST_PG_BINDIR (PostgreSQL's bin directory; scripts/test-servers.sh prints
// it) and the psqlODBC driver registered as "PostgreSQL Unicode"; skips with a message without.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <vector>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "pg_server.h"
#include "plugin_client.h"
#include "test_util.h"

namespace fachadapter::testing {
namespace {

v1::Value Str(const std::string& s) { v1::Value v; v.set_string_value(s); return v; }

cv1::FieldValue FV(const std::string& field, v1::Value v) {
  cv1::FieldValue fv;
  fv.set_field(field);
  *fv.mutable_value() = v;
  return fv;
}

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string bindir;
    if (std::string why = PgServerUnavailable(&bindir); !why.empty()) GTEST_SKIP() << why;
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::all);
    server_ = std::make_unique<PgServer>(bindir, dir_.path());
    std::string error;
    ASSERT_TRUE(server_->Init(&error)) << error;
    plugin_ = std::make_unique<Plugin>((PluginDir() / "fachadapter_connector_odbc.so").string());
  }

  std::unique_ptr<Instance> Open() {
    google::protobuf::Struct s;
    (*s.mutable_fields())["connection_string"].set_string_value(server_->ConnectionString());
    (*s.mutable_fields())["pool_size"].set_number_value(2);
    auto r = Instance::Open(*plugin_, s);
    EXPECT_TRUE(r.ok()) << r.error.message();
    return std::move(r.response);
  }

  TempDir dir_;
  std::unique_ptr<PgServer> server_;
  std::unique_ptr<Plugin> plugin_;
};

cv1::InsertRequest Antrag(const std::string& titel, const std::string& key = "") {
  cv1::InsertRequest ins;
  ins.set_entity("antrag");
  *ins.add_values() = FV("titel", Str(titel));
  if (!key.empty()) {
    ins.set_idempotency_key(key);
    ins.set_request_hash("hash-" + key);
  }
  return ins;
}

// Waits (bounded) until the instance's health says `serving`.
bool HealthBecomes(Instance& inst, bool serving) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; i < 300 && std::chrono::steady_clock::now() < until; ++i) {
    auto h = inst.Health();
    if (h.ok() && h.response.serving() == serving) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST_F(RecoveryTest, ServesAgainAfterTheDatabaseRestartsWithoutReopening) {
  ASSERT_TRUE(server_->Sql("CREATE TABLE antrag (nr SERIAL PRIMARY KEY, titel VARCHAR(80) NOT NULL)"));
  auto inst = Open();
  ASSERT_TRUE(inst);
  ASSERT_TRUE(inst->Insert(Antrag("vorher")).ok());
  ASSERT_TRUE(inst->Insert(Antrag("vorher mit Schlüssel", "k-1")).ok());
  cv1::ScanRequest scan;
  scan.set_entity("antrag");
  ASSERT_EQ(inst->Scan(scan).records.size(), 2u);
  ASSERT_TRUE(inst->Health().response.serving());

  // Down: health says so, reads and writes are UNAVAILABLE (reads after their retries).
  ASSERT_TRUE(server_->Stop());
  EXPECT_TRUE(HealthBecomes(*inst, false));
  auto h = inst->Health();
  EXPECT_FALSE(h.response.detail().empty());
  auto down = inst->Scan(scan);
  EXPECT_EQ(down.code, 14) << down.error.message();  // UNAVAILABLE
  EXPECT_EQ(down.error.reason(), "BACKEND_UNAVAILABLE");
  auto write = inst->Insert(Antrag("waehrenddessen"));
  EXPECT_EQ(write.code, 14) << write.error.message();
  cv1::DescribeRequest describe;
  describe.add_entities("antrag");
  EXPECT_EQ(inst->Describe(describe).code, 14);

  // Back: the same instance serves again; its pooled connections were dead and are replaced.
  ASSERT_TRUE(server_->Start());
  EXPECT_TRUE(HealthBecomes(*inst, true));
  auto again = inst->Scan(scan);
  ASSERT_TRUE(again.ok()) << again.error.message();
  EXPECT_EQ(again.records.size(), 2u) << "the failed write left nothing behind";
  auto replay = inst->Insert(Antrag("vorher mit Schlüssel", "k-1"));
  ASSERT_TRUE(replay.ok()) << replay.error.message();
  EXPECT_TRUE(replay.response.replayed());
  ASSERT_TRUE(inst->Insert(Antrag("nachher", "k-2")).ok());
  EXPECT_EQ(inst->Scan(scan).records.size(), 3u);
}

// A connection that died while idle in the pool (the server restarted between two calls) is
// noticed before use or retried: a read right after the restart succeeds, without the caller
// seeing the dead connection.
TEST_F(RecoveryTest, ReadsRightAfterARestartAreRetriedOnAFreshConnection) {
  ASSERT_TRUE(server_->Sql("CREATE TABLE antrag (nr SERIAL PRIMARY KEY, titel VARCHAR(80) NOT NULL)"));
  auto inst = Open();
  ASSERT_TRUE(inst);
  ASSERT_TRUE(inst->Insert(Antrag("eins")).ok());
  cv1::ScanRequest scan;
  scan.set_entity("antrag");
  ASSERT_TRUE(inst->Scan(scan).ok());
  ASSERT_TRUE(server_->Stop());
  ASSERT_TRUE(server_->Start());
  auto r = inst->Scan(scan);
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.records.size(), 1u);
}

// The fault test: clients keep creating (each create with its own idempotency key, repeated
// by the client until acknowledged, as a real client does after UNAVAILABLE) and reading while
// the server is killed and started again. Afterwards every create was acknowledged and is
// stored exactly once. Bounded: 4 clients x 80 creates, at most 90 s.
TEST_F(RecoveryTest, ConcurrentCreatesSurviveARestartExactlyOnce) {
  ASSERT_TRUE(server_->Sql("CREATE TABLE antrag (nr SERIAL PRIMARY KEY, titel VARCHAR(80) NOT NULL)"));
  google::protobuf::Struct settings;
  (*settings.mutable_fields())["connection_string"].set_string_value(server_->ConnectionString());
  (*settings.mutable_fields())["pool_size"].set_number_value(4);
  auto opened = Instance::Open(*plugin_, settings);
  ASSERT_TRUE(opened.ok()) << opened.error.message();
  Instance& inst = *opened.response;

  constexpr int kClients = 4, kCreates = 80;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  std::atomic<int> acknowledged{0}, failures{0}, replays{0};
  std::vector<std::vector<int64_t>> keys_of(kClients);  // generated key per acknowledged create
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kCreates; ++i) {
        std::string key = "c" + std::to_string(c) + "-" + std::to_string(i);
        for (;;) {
          if (std::chrono::steady_clock::now() > give_up) return;
          auto r = inst.Insert(Antrag(key, key));
          if (r.ok()) {
            keys_of[c].push_back(r.response.record().values(0).int_value());
            if (r.response.replayed()) ++replays;
            ++acknowledged;
            break;
          }
          ++failures;
          EXPECT_TRUE(r.code == 14 || r.code == 10) << r.code << " " << r.error.message();
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (i % 10 == 0) {
          cv1::ScanRequest scan;
          scan.set_entity("antrag");
          scan.set_limit(5);
          inst.Scan(scan);  // may fail while the server is down; must not crash or hang
        }
      }
    });
  }
  // Kill the server once the clients are under way, start it again a moment later.
  for (int i = 0; i < 600 && acknowledged.load() < 20; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int at_stop = acknowledged.load();
  ASSERT_TRUE(server_->Stop());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(server_->Start());
  for (auto& t : clients) t.join();
  EXPECT_LT(at_stop, kClients * kCreates) << "the server must go down while clients create";

  EXPECT_EQ(acknowledged.load(), kClients * kCreates) << "every create is acknowledged in the end";
  cv1::ScanRequest all;
  all.set_entity("antrag");
  auto rows = inst.Scan(all);
  ASSERT_TRUE(rows.ok()) << rows.error.message();
  std::map<std::string, int> per_key;
  for (const auto& rec : rows.records) ++per_key[rec.values(1).string_value()];
  EXPECT_EQ(rows.records.size(), static_cast<size_t>(acknowledged.load()));
  for (const auto& [key, n] : per_key) EXPECT_EQ(n, 1) << key << " stored " << n << " times";
  for (int c = 0; c < kClients; ++c) {
    for (int i = 0; i < static_cast<int>(keys_of[c].size()); ++i) {
      EXPECT_EQ(per_key.count("c" + std::to_string(c) + "-" + std::to_string(i)), 1u);
    }
  }
  std::cout << "[ restart  ] " << acknowledged.load() << " creates acknowledged (" << at_stop
            << " before the server went down), " << failures.load()
            << " attempts failed while the server was down, " << replays.load()
            << " answered from the idempotency record\n";
}

// A process that dies with SIGKILL in the middle of creating (as the daemon would) loses no
// acknowledged create and leaves no duplicate: a new process repeating every create with the
// same keys gets the stored rows back.
TEST_F(RecoveryTest, CreatesSurviveAKilledProcessExactlyOnce) {
  ASSERT_TRUE(server_->Sql("CREATE TABLE antrag (nr SERIAL PRIMARY KEY, titel VARCHAR(80) NOT NULL)"));
  constexpr int kCreates = 400;
  std::filesystem::path acks = dir_.path() / "acks";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The "daemon": creates with keys k-0, k-1, ... and records each acknowledgement.
    google::protobuf::Struct settings;
    (*settings.mutable_fields())["connection_string"].set_string_value(server_->ConnectionString());
    auto opened = Instance::Open(*plugin_, settings);
    if (!opened.ok()) _exit(3);
    FILE* out = std::fopen(acks.c_str(), "w");
    for (int i = 0; i < kCreates; ++i) {
      std::string key = "k-" + std::to_string(i);
      if (!opened.response->Insert(Antrag(key, key)).ok()) _exit(4);
      std::fprintf(out, "%s\n", key.c_str());
      std::fflush(out);
    }
    _exit(0);
  }
  // Kill it once it acknowledged some creates (bounded wait).
  auto lines = [&] {
    std::string text = std::filesystem::exists(acks) ? ReadFile(acks) : "";
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  };
  for (int i = 0; i < 600 && lines() < 50; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  int acknowledged = lines();
  ASSERT_GE(acknowledged, 1) << "the child acknowledged nothing (status " << status << ")";
  if (WIFEXITED(status)) GTEST_SKIP() << "the child finished all creates before it was killed";

  // The "restarted daemon" and a client that repeats every create it did not see answered.
  auto inst = Open();
  ASSERT_TRUE(inst);
  int replayed = 0;
  for (int i = 0; i < kCreates; ++i) {
    std::string key = "k-" + std::to_string(i);
    auto r = inst->Insert(Antrag(key, key));
    ASSERT_TRUE(r.ok()) << key << ": " << r.error.message();
    if (r.response.replayed()) ++replayed;
    if (i < acknowledged) {
      EXPECT_TRUE(r.response.replayed()) << key << " was acknowledged before the kill";
    }
  }
  EXPECT_GE(replayed, acknowledged);
  cv1::ScanRequest all;
  all.set_entity("antrag");
  auto rows = inst->Scan(all);
  ASSERT_TRUE(rows.ok()) << rows.error.message();
  EXPECT_EQ(rows.records.size(), static_cast<size_t>(kCreates));
  std::map<std::string, int> per_key;
  for (const auto& rec : rows.records) ++per_key[rec.values(1).string_value()];
  EXPECT_EQ(per_key.size(), static_cast<size_t>(kCreates)) << "no key stored twice";
}

}  // namespace
}  // namespace fachadapter::testing
