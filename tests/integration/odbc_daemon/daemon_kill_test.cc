// fachadapterd itself killed with SIGKILL while clients create and read records through it
// against a real PostgreSQL (psqlODBC): every create a client saw acknowledged is stored once,
// and a client that repeats its unanswered create with the same idempotency key after the
// restart ends up with exactly one row, never two; reads in between see no duplicate. Needs FACHADAPTER_TEST_PG_DSN (skips without).
// Bounded: a fixed number of kill rounds, each a short burst of load.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon_harness.h"
#include "raw_odbc.h"
#include "test_util.h"

namespace fachadapter::testing {
namespace {

constexpr int kClients = 4;
constexpr int kRounds = 6;

std::string Config(const std::string& connection_string) {
  return "server:\n  listen: 127.0.0.1:0\n  shutdown_grace_seconds: 2\nlimits:\n  rate_limit_per_second: 0\n"
         "sources:\n  pg:\n    connector: odbc\n    settings:\n      connection_string: \"" +
         connection_string +
         "\"\n      pool_size: 4\n"
         "entities:\n  Antrag:\n    source: pg\n    table: antrag\n    fields:\n"
         "      nr: {column: nr, read_only: true}\n      titel: {column: titel}\n";
}

// One client: creates "c<id>-0", "c<id>-1", ... in order; a create not answered (the daemon
// died under it) stays pending and is repeated, with the same key, until it is answered.
struct Client {
  int id = 0;
  int next = 0;             // index of the pending (or next) create
  std::set<std::string> acknowledged;
  int replayed = 0;
  int failed_attempts = 0;

  std::string Key() const { return "c" + std::to_string(id) + "-" + std::to_string(next); }

  // Creates until the daemon stops answering (or `stop`); false on an unexpected answer.
  bool Run(const std::string& address, const std::atomic<bool>& stop, std::string* error, bool until_one = false) {
    auto stub = v1::Adapter::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    while (!stop) {
      v1::CreateRequest req;
      req.set_entity("Antrag");
      (*req.mutable_values())["titel"].set_string_value(Key());
      req.set_idempotency_key(Key());
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      v1::CreateResponse resp;
      grpc::Status st = stub->Create(&ctx, req, &resp);
      if (st.error_code() == grpc::StatusCode::UNAVAILABLE || st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
          st.error_code() == grpc::StatusCode::CANCELLED) {
        ++failed_attempts;
        return true;  // the daemon is gone; the create stays pending
      }
      if (!st.ok()) {
        *error = Key() + ": " + std::to_string(st.error_code()) + " " + st.error_message();
        return false;
      }
      if (resp.replayed()) ++replayed;
      acknowledged.insert(Key());
      ++next;
      if (until_one) return true;
    }
    return true;
  }
};

// A reader: queries the newest records until the daemon stops answering; false on an
// unexpected answer or a duplicate in a result.
bool Read(const std::string& address, const std::atomic<bool>& stop, int* reads, std::string* error) {
  auto stub = v1::Adapter::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  while (!stop) {
    v1::QueryRequest q;
    q.set_entity("Antrag");
    auto* o = q.add_order_by();
    o->set_field("nr");
    o->set_descending(true);
    q.set_limit(200);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto reader = stub->Query(&ctx, q);
    v1::QueryResponse msg;
    std::set<std::string> titles;
    while (reader->Read(&msg)) {
      for (const auto& r : msg.batch().records()) {
        if (!titles.insert(r.values(1).string_value()).second) {
          *error = "duplicate in a read: " + r.values(1).string_value();
          return false;
        }
      }
    }
    grpc::Status st = reader->Finish();
    if (st.error_code() == grpc::StatusCode::UNAVAILABLE || st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
        st.error_code() == grpc::StatusCode::CANCELLED) {
      return true;
    }
    if (!st.ok()) {
      *error = "read: " + std::to_string(st.error_code()) + " " + st.error_message();
      return false;
    }
    ++*reads;
  }
  return true;
}

TEST(OdbcDaemonKill, CreatesThroughAKilledDaemonAreStoredExactlyOnce) {
  const char* base = std::getenv("FACHADAPTER_TEST_PG_DSN");
  if (!base || !*base) GTEST_SKIP() << "FACHADAPTER_TEST_PG_DSN is not set: no PostgreSQL server (scripts/test-servers.sh starts one)";
  std::string db = UniqueName("fa_daemon_kill");
  RawConnection server(base);
  server.Exec("CREATE DATABASE " + db);
  struct Drop {
    RawConnection& s;
    std::string db;
    ~Drop() {
      try {
        s.Exec("DROP DATABASE " + db + " WITH (FORCE)");
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    }
  } drop{server, db};
  std::string cs = WithKey(base, "Database", db);
  {
    RawConnection raw(cs);
    raw.Exec("CREATE TABLE antrag (nr SERIAL PRIMARY KEY, titel VARCHAR(80) NOT NULL)");
  }
  TempDir dir;
  WriteFile(dir / "fachadapter.yaml", Config(cs));

  std::vector<Client> clients(kClients);
  for (int i = 0; i < kClients; ++i) clients[static_cast<size_t>(i)].id = i;
  std::mt19937 rng(7);
  int reads = 0;
  for (int round = 0; round < kRounds; ++round) {
    Daemon d(dir / "fachadapter.yaml", dir / ("daemon" + std::to_string(round) + ".log"));
    ASSERT_TRUE(d.up()) << d.log();
    std::atomic<bool> stop{false};
    std::vector<std::string> errors(kClients);
    std::vector<char> ok(kClients, 1);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
      threads.emplace_back([&, i] {
        auto& c = clients[static_cast<size_t>(i)];
        ok[static_cast<size_t>(i)] = c.Run(d.address(), stop, &errors[static_cast<size_t>(i)]);
      });
    }
    bool read_ok = true;
    std::string read_error;
    threads.emplace_back([&] { read_ok = Read(d.address(), stop, &reads, &read_error); });
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 350));
    ASSERT_TRUE(d.Signal(SIGKILL));
    for (auto& t : threads) t.join();
    for (int i = 0; i < kClients; ++i) ASSERT_TRUE(ok[static_cast<size_t>(i)]) << errors[static_cast<size_t>(i)];
    ASSERT_TRUE(read_ok) << read_error;
  }
  // The last daemon: every client repeats its pending create once more, then it stops cleanly.
  {
    Daemon d(dir / "fachadapter.yaml", dir / "daemon-last.log");
    ASSERT_TRUE(d.up()) << d.log();
    std::atomic<bool> stop{false};
    for (auto& c : clients) {
      std::string error;
      int before = c.next;
      ASSERT_TRUE(c.Run(d.address(), stop, &error, /*until_one=*/true)) << error;
      ASSERT_EQ(c.next, before + 1) << "client " << c.id << ": the pending create was not answered";
    }
    EXPECT_EQ(d.Stop(), 0) << d.log();
  }

  RawConnection raw(cs);
  size_t acknowledged = 0;
  int replayed = 0;
  for (const auto& c : clients) {
    acknowledged += c.acknowledged.size();
    replayed += c.replayed;
    for (const auto& key : c.acknowledged) {
      EXPECT_EQ(raw.Text("SELECT count(*) FROM antrag WHERE titel = '" + key + "'"), "1") << key;
    }
  }
  EXPECT_EQ(raw.Text("SELECT count(*) FROM antrag"), std::to_string(acknowledged)) << "a row nobody acknowledged";
  EXPECT_EQ(raw.Text("SELECT count(DISTINCT titel) FROM antrag"), std::to_string(acknowledged));
  std::printf("[ kill     ] %d daemons killed with SIGKILL under %d creating clients and a reader: %zu creates "
              "acknowledged, %d of them answered from the idempotency record after a restart; %d reads\n",
              kRounds, kClients, acknowledged, replayed, reads);
  EXPECT_GT(reads, 0);
  EXPECT_GT(acknowledged, static_cast<size_t>(kClients * kRounds)) << "too little load to mean anything";
}

}  // namespace
}  // namespace fachadapter::testing
