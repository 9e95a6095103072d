// Real transaction conflicts against the ODBC connector: deadlocks and serialization failures
// produced by a second, raw ODBC connection of the test that holds row locks, not simulated.
//
// The tables carry a trigger of the kind legacy databases are full of: every change of a
// "antrag" row also bumps a shared counter row. The test's own connection ("holder") locks
// that counter in an open transaction, so the connector's single-row write waits inside its
// transaction; the test sees it waiting (pg_stat_activity, polled with a bound)
// and then either closes the cycle (deadlock) or commits under a REPEATABLE READ snapshot
// (serialization failure). A sequence bumped by the trigger counts the connector's attempts
// across rollbacks. Expected: writes surface as ABORTED/TRANSACTION_CONFLICT with nothing
// written; an insert with an idempotency key and a read are retried and succeed.
//
// PostgreSQL: a waiting backend checks for a deadlock once, deadlock_timeout after it started
// waiting, and the one that finds the cycle is rolled back. The connector's database gets
// 2 s (the test closes the cycle right after it sees the connector wait) and the holder 60 s,
// so the connector's backend is the victim.
//
// MariaDB is not covered here: the same scenario (InnoDB, the counter updated by a trigger)
// was not detected as a deadlock in about one run of five (both sessions then waited for
// innodb_lock_wait_timeout), and the connector's waiting transaction did not show in
// INNODB_TRX/INNODB_LOCK_WAITS, so the test had no reliable way to see it wait. The code path
// (SQLSTATE 40001, native 1213, to ABORTED/TRANSACTION_CONFLICT) is the same.
// Needs FACHADAPTER_TEST_PG_DSN; skips without. No timing assertions: every wait is a bounded
// poll or a blocking statement the conflict ends.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "plugin_client.h"
#include "raw_odbc.h"
#include "test_util.h"

namespace fachadapter::testing {
namespace {

constexpr int kAborted = 10;

class ConflictTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    plugin_ = new Plugin((PluginDir() / "fachadapter_connector_odbc.so").string());
  }
  static void TearDownTestSuite() {
    delete plugin_;
    plugin_ = nullptr;
  }

  // Creates the test's database on the server named by `var`; false if there is none.
  bool CreateDatabase(const char* var) {
    const char* base = std::getenv(var);
    if (!base || !*base) return false;
    db_ = UniqueName("fa_conflict");
    server_ = std::make_unique<RawConnection>(base);
    server_->Exec("CREATE DATABASE " + db_);
    connection_string_ = WithKey(base, "Database", db_);
    return true;
  }

  void TearDown() override {
    inst_.reset();
    holder_.reset();
    monitor_.reset();
    raw_.reset();
    if (server_) {
      try {
        server_->Exec("DROP DATABASE " + db_ + " WITH (FORCE)");
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    }
  }

  void Open() {
    google::protobuf::Struct s;
    (*s.mutable_fields())["connection_string"].set_string_value(connection_string_);
    (*s.mutable_fields())["pool_size"].set_number_value(2);
    auto r = Instance::Open(*plugin_, s);
    ASSERT_TRUE(r.ok()) << r.error.message();
    inst_ = std::move(r.response);
  }

  // Waits (at most 30 s) until some session of the test's database waits for a lock.
  bool SomeoneWaits() {
    std::string sql =
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (int i = 0; i < 3000 && std::chrono::steady_clock::now() < until; ++i) {
      if (monitor_->Count(sql) > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  static cv1::InsertRequest NewAntrag(int64_t id, const std::string& titel, const std::string& key = "") {
    cv1::InsertRequest req;
    req.set_entity("antrag");
    *req.add_values() = FV("id", Int(id));
    *req.add_values() = FV("titel", Str(titel));
    if (!key.empty()) {
      req.set_idempotency_key(key);
      req.set_request_hash("hash-" + key);
    }
    return req;
  }
  static cv1::UpdateRequest Retitle(int64_t id, const std::string& titel) {
    cv1::UpdateRequest req;
    req.set_entity("antrag");
    *req.add_key() = FV("id", Int(id));
    *req.add_values() = FV("titel", Str(titel));
    return req;
  }
  static void ExpectConflict(int32_t code, const cv1::Error& error, const std::string& sqlstate) {
    EXPECT_EQ(code, kAborted) << error.message();
    EXPECT_EQ(error.reason(), "TRANSACTION_CONFLICT") << error.message();
    EXPECT_NE(error.message().find(sqlstate), std::string::npos) << error.message();
  }

  static Plugin* plugin_;
  std::string db_, connection_string_;
  std::unique_ptr<RawConnection> server_;   // the server's base database
  std::unique_ptr<RawConnection> raw_;      // set-up and checks
  std::unique_ptr<RawConnection> holder_;   // holds the locks the connector runs into
  std::unique_ptr<RawConnection> monitor_;  // watches for waiting sessions
  std::unique_ptr<Instance> inst_;
};

Plugin* ConflictTest::plugin_ = nullptr;

// ---- PostgreSQL ------------------------------------------------------------------------------

class PostgresConflictTest : public ConflictTest {
 protected:
  void SetUp() override {
    if (!CreateDatabase("FACHADAPTER_TEST_PG_DSN")) {
      GTEST_SKIP() << "FACHADAPTER_TEST_PG_DSN is not set: no PostgreSQL server (scripts/test-servers.sh starts one)";
    }
    // The connector's sessions detect deadlocks first (and so are the victims).
    server_->Exec("ALTER DATABASE " + db_ + " SET deadlock_timeout = '2s'");
    raw_ = std::make_unique<RawConnection>(connection_string_);
    raw_->Exec("CREATE TABLE antrag (id INTEGER PRIMARY KEY, titel VARCHAR(80) NOT NULL)");
    raw_->Exec("CREATE TABLE zaehler (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
    raw_->Exec("INSERT INTO zaehler VALUES (1, 0)");
    raw_->Exec("CREATE SEQUENCE versuche");
    raw_->Exec(
        "CREATE FUNCTION zaehle() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "PERFORM nextval('versuche'); UPDATE zaehler SET n = n + 1 WHERE id = 1; RETURN NULL; END $$");
    raw_->Exec("CREATE TRIGGER antrag_zaehlt AFTER INSERT OR UPDATE OR DELETE ON antrag FOR EACH ROW "
               "EXECUTE FUNCTION zaehle()");
    raw_->Exec("INSERT INTO antrag VALUES (1, 'alt')");
    raw_->Exec("UPDATE zaehler SET n = 0");
    raw_->Exec("SELECT setval('versuche', 1, false)");  // the next nextval is 1: attempts from here
    holder_ = std::make_unique<RawConnection>(connection_string_);
    holder_->Exec("SET deadlock_timeout = '60s'");
    monitor_ = std::make_unique<RawConnection>(connection_string_);
  }

  // Transactions of the connector's new sessions run in REPEATABLE READ (as some legacy
  // databases are configured), where a write to a row changed since the snapshot fails.
  void RepeatableRead() {
    server_->Exec("ALTER DATABASE " + db_ + " SET default_transaction_isolation = 'repeatable read'");
  }
  // Trigger runs so far (of the connector and the holder), including rolled-back ones.
  int64_t Attempts() { return raw_->Count("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM versuche"); }
};

TEST_F(PostgresConflictTest, UpdateDeadlockIsAbortedAndChangesNothing) {
  Open();
  holder_->Begin();
  holder_->Exec("UPDATE zaehler SET n = n + 100 WHERE id = 1");
  auto update = std::async(std::launch::async, [&] { return inst_->Update(Retitle(1, "vom Connector")); });
  ASSERT_TRUE(SomeoneWaits()) << "the connector's update should wait for the counter row";
  // Closes the cycle: the holder now waits for the row the connector's update holds. The
  // connector's backend detects the deadlock and is rolled back; then this returns.
  holder_->Exec("UPDATE antrag SET titel = 'vom Halter' WHERE id = 1");
  auto r = update.get();
  ExpectConflict(r.code, r.error, "40P01");
  holder_->Commit();
  EXPECT_EQ(raw_->Text("SELECT titel FROM antrag WHERE id = 1"), "vom Halter");
  EXPECT_EQ(raw_->Count("SELECT n FROM zaehler WHERE id = 1"), 101) << "the connector's trigger run was undone";
  EXPECT_EQ(Attempts(), 2) << "one attempt of the connector (not retried), one of the holder";
}

TEST_F(PostgresConflictTest, UpdateSerializationFailureIsAbortedAndChangesNothing) {
  RepeatableRead();
  Open();
  holder_->Begin();
  holder_->Exec("UPDATE zaehler SET n = n + 100 WHERE id = 1");
  auto update = std::async(std::launch::async, [&] { return inst_->Update(Retitle(1, "vom Connector")); });
  ASSERT_TRUE(SomeoneWaits());
  holder_->Commit();  // the counter row changed after the connector's snapshot
  auto r = update.get();
  ExpectConflict(r.code, r.error, "40001");
  EXPECT_EQ(raw_->Text("SELECT titel FROM antrag WHERE id = 1"), "alt");
  EXPECT_EQ(raw_->Count("SELECT n FROM zaehler WHERE id = 1"), 100);
  EXPECT_EQ(Attempts(), 1) << "a write without idempotency key is not repeated";
}

TEST_F(PostgresConflictTest, DeleteSerializationFailureIsAbortedAndChangesNothing) {
  RepeatableRead();
  Open();
  holder_->Begin();
  holder_->Exec("UPDATE zaehler SET n = n + 100 WHERE id = 1");
  auto del = std::async(std::launch::async, [&] {
    cv1::DeleteRequest req;
    req.set_entity("antrag");
    *req.add_key() = FV("id", Int(1));
    return inst_->Delete(req);
  });
  ASSERT_TRUE(SomeoneWaits());
  holder_->Commit();
  auto r = del.get();
  ExpectConflict(r.code, r.error, "40001");
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM antrag"), 1);
}

TEST_F(PostgresConflictTest, InsertWithoutKeyDeadlockIsAbortedAndChangesNothing) {
  Open();
  holder_->Begin();
  holder_->Exec("UPDATE zaehler SET n = n + 100 WHERE id = 1");
  auto insert = std::async(std::launch::async, [&] { return inst_->Insert(NewAntrag(5, "vom Connector")); });
  ASSERT_TRUE(SomeoneWaits());
  // The holder inserts the same key: it waits for the connector's uncommitted row.
  holder_->Exec("INSERT INTO antrag VALUES (5, 'vom Halter')");
  auto r = insert.get();
  ExpectConflict(r.code, r.error, "40P01");
  holder_->Commit();
  EXPECT_EQ(raw_->Text("SELECT titel FROM antrag WHERE id = 5"), "vom Halter");
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM antrag"), 2);
}

// With an idempotency key a repeat is safe (the key's record commits with the row): the
// connector retries the deadlocked insert and succeeds, storing it once.
TEST_F(PostgresConflictTest, InsertWithKeyIsRetriedAfterADeadlock) {
  Open();
  holder_->Begin();
  holder_->Exec("UPDATE zaehler SET n = n + 100 WHERE id = 1");
  auto insert = std::async(std::launch::async, [&] { return inst_->Insert(NewAntrag(5, "vom Connector", "k-5")); });
  ASSERT_TRUE(SomeoneWaits());
  holder_->Exec("INSERT INTO antrag VALUES (5, 'vom Halter')");  // returns once the connector lost
  holder_->Rollback();  // lets the connector's retry through
  auto r = insert.get();
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_FALSE(r.response.replayed());
  EXPECT_EQ(raw_->Text("SELECT titel FROM antrag WHERE id = 5"), "vom Connector");
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM antrag"), 2);
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM fachadapter_idempotency"), 1);
  EXPECT_EQ(raw_->Count("SELECT n FROM zaehler WHERE id = 1"), 1);
  EXPECT_EQ(Attempts(), 3) << "the connector's lost attempt, the holder's insert, the connector's retry";
  // A repeat of the call answers from the record.
  auto again = inst_->Insert(NewAntrag(5, "vom Connector", "k-5"));
  ASSERT_TRUE(again.ok()) << again.error.message();
  EXPECT_TRUE(again.response.replayed());
}

TEST_F(PostgresConflictTest, InsertWithKeyIsRetriedAfterASerializationFailure) {
  RepeatableRead();
  Open();
  holder_->Begin();
  holder_->Exec("UPDATE zaehler SET n = n + 100 WHERE id = 1");
  auto insert = std::async(std::launch::async, [&] { return inst_->Insert(NewAntrag(6, "vom Connector", "k-6")); });
  ASSERT_TRUE(SomeoneWaits());
  holder_->Commit();
  auto r = insert.get();
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM antrag WHERE id = 6"), 1);
  EXPECT_EQ(raw_->Count("SELECT n FROM zaehler WHERE id = 1"), 101);
  EXPECT_EQ(Attempts(), 2) << "one failed attempt, one retry";
}

// A read that is a deadlock victim (here: a view whose function takes two advisory locks, as
// legacy "locking" views do) is retried before any row went out.
TEST_F(PostgresConflictTest, ReadDeadlockIsRetried) {
  raw_->Exec(
      "CREATE FUNCTION sperre() RETURNS integer LANGUAGE plpgsql VOLATILE AS $$ BEGIN "
      "PERFORM nextval('versuche'); PERFORM pg_advisory_xact_lock(1); PERFORM pg_advisory_xact_lock(2); "
      "RETURN 1; END $$");
  raw_->Exec("CREATE VIEW antrag_gesperrt AS SELECT a.id, a.titel FROM antrag a CROSS JOIN sperre() s");
  Open();
  cv1::DescribeRequest describe;
  describe.add_entities("antrag_gesperrt");
  ASSERT_TRUE(inst_->Describe(describe).ok());
  holder_->Begin();
  holder_->Exec("SELECT pg_advisory_xact_lock(2)");
  auto scan = std::async(std::launch::async, [&] {
    cv1::ScanRequest req;
    req.set_entity("antrag_gesperrt");
    return inst_->Scan(req);
  });
  ASSERT_TRUE(SomeoneWaits()) << "the scan should wait for advisory lock 2";
  holder_->Exec("SELECT pg_advisory_xact_lock(1)");  // the cycle; returns once the scan lost
  holder_->Rollback();
  auto r = scan.get();
  ASSERT_TRUE(r.ok()) << r.error.message();
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].values(1).string_value(), "alt");
  EXPECT_EQ(Attempts(), 2) << "the lost attempt and the retry";
}

}  // namespace
}  // namespace fachadapter::testing
