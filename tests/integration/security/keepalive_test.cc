// Keepalive enforcement (issue 6, limits): a client that pings more often than
// limits.keepalive_min_ping_interval_seconds allows is told to back off with a GOAWAY
// (ENHANCE_YOUR_CALM, "too_many_pings") and its connection is closed; a client that does not
// ping keeps its connection. Real fachadapterd, real gRPC channels over loopback.
#include <grpc/support/log.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <cstring>

#include "daemon_harness.h"
#include "test_util.h"

namespace fachadapter {
namespace {

using testing::Daemon;
using testing::TempDir;
using testing::WriteFile;

// gRPC reports a GOAWAY for too many pings only in its log; the test watches the log of its
// own process (the client side) and passes every line on to stderr as gRPC would.
std::atomic<int> g_too_many_pings{0};

void WatchGrpcLog(gpr_log_func_args* args) {
  if (std::strstr(args->message, "ENHANCE_YOUR_CALM") && std::strstr(args->message, "too_many_pings")) {
    ++g_too_many_pings;
  }
  std::fprintf(stderr, "%s:%d: %s\n", args->file, args->line, args->message);
}

TEST(KeepaliveTest, ClientPingingTooOftenIsSentAway) {
  TempDir dir;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "t.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE T (ID INTEGER PRIMARY KEY)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  WriteFile(dir / "fachadapter.yaml", R"(server:
  listen: 127.0.0.1:0
  shutdown_grace_seconds: 1
connectors:
  search_path: [)" + testing::PluginDir().string() + R"(]
limits:
  keepalive_min_ping_interval_seconds: 30
sources:
  db: {connector: odbc, settings: {connection_string: "Driver=SQLite3;Database=)" + (dir / "t.db").string() + R"("}}
entities:
  T: {source: db, table: T}
)");
  Daemon d(dir / "fachadapter.yaml", dir / "daemon.log");
  ASSERT_TRUE(d.up()) << d.log();
  gpr_set_log_function(WatchGrpcLog);

  // Pings every 100 ms, also without calls, with no client-side throttle.
  grpc::ChannelArguments eager;
  eager.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 100);
  eager.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  eager.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  eager.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  eager.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS, 100);
  auto pinger = grpc::CreateCustomChannel(d.address(), grpc::InsecureChannelCredentials(), eager);
  auto quiet = d.Channel();

  for (const auto& channel : {pinger, quiet}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::ListEntitiesResponse resp;
    ASSERT_TRUE(v1::Adapter::NewStub(channel)->ListEntities(&ctx, v1::ListEntitiesRequest(), &resp).ok());
    ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  }

  // The server counts pings closer than 30 s as strikes and sends the GOAWAY after the third
  // (a few hundred milliseconds at this rate); the wait is bounded at 30 s.
  const auto until = std::chrono::system_clock::now() + std::chrono::seconds(30);
  bool left_ready = false;
  while (!left_ready && std::chrono::system_clock::now() < until) {
    if (pinger->GetState(false) != GRPC_CHANNEL_READY) {
      left_ready = true;
    } else {
      pinger->WaitForStateChange(GRPC_CHANNEL_READY, until);
    }
  }
  EXPECT_TRUE(left_ready) << "the daemon did not close the connection of a client pinging every 100 ms";
  EXPECT_GE(g_too_many_pings.load(), 1) << "no GOAWAY ENHANCE_YOUR_CALM / too_many_pings seen by the client";
  // The client that does not ping keeps its connection.
  EXPECT_EQ(quiet->GetState(false), GRPC_CHANNEL_READY);

  // Sent away is not banned: the next call connects again.
  grpc::ClientContext again;
  again.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::ListEntitiesResponse resp;
  EXPECT_TRUE(v1::Adapter::NewStub(pinger)->ListEntities(&again, v1::ListEntitiesRequest(), &resp).ok());
  EXPECT_EQ(d.Stop(), 0);
}

}  // namespace
}  // namespace fachadapter
