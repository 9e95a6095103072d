// Keyset chunking of scans (connectors/odbc/chunked_scan.h): a scan run as a sequence of
// bounded statements delivers exactly what one statement delivers. Most cases run the same
// request on two instances of the plugin over one database, one with chunking off
// (scan_chunk_rows: 0) and one with tiny chunks (3 or 7 rows), and compare fields, records,
// etags and batch structure: ties in the order column broken by the key, NULLs ascending and
// descending, several order columns, every type as order column, filters, projections without
// the order columns, limits inside and at chunk ends, results of exactly whole chunks, empty
// results, a composite key, a named query. Others: rows inserted, changed and deleted between
// chunks, cancellation, entities that are not chunked, the check that every chunk moves on,
// the default per driver, the heap while 200,000 MariaDB rows stream, Next against NextEncoded
// byte for byte, and the setting's bad values. Counters show that several bounded statements ran.
//
// Chunking does not depend on the driver, so it is forced on SQLite (always) as well as on
// MariaDB, whose driver needs it, and PostgreSQL, when FACHADAPTER_TEST_MARIADB_DSN /
// FACHADAPTER_TEST_PG_DSN name a server (scripts/test-servers.sh); else those skip.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "odbc_connector.h"
#include "heap_usage.h"
#include "plugin_client.h"
#include "raw_odbc.h"
#include "test_database.h"
#include "test_util.h"

namespace fachadapter::testing {
namespace {

constexpr int kPersons = 50;
constexpr const char* kChunks = "odbc_scan_chunks";
constexpr const char* kRowsFetched = "odbc_rows_fetched";
constexpr const char* kLimitInSql = "odbc_scans_limited_in_sql";

std::string PluginPath() { return (PluginDir() / "fachadapter_connector_odbc.so").string(); }

bool SqliteDriverMissing() { return ReadFile("/etc/odbcinst.ini").find("[SQLite3]") == std::string::npos; }

// Rows with many ties: grp has four values, name nine (NULL in every sixth row, and "n3"
// beside "N3", equal under MariaDB's case-insensitive collation), score NULL in every fifth.
std::vector<std::string> Schema() {
  std::vector<std::string> s = {
      "CREATE TABLE person (id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, name VARCHAR(40), score DECIMAL(10,2), "
      "note VARCHAR(20))",
      "CREATE TABLE pos (a INTEGER NOT NULL, b VARCHAR(10) NOT NULL, v INTEGER, PRIMARY KEY (a, b))",
      "CREATE VIEW person_v AS SELECT id, name FROM person",
  };
  std::string insert = "INSERT INTO person VALUES ";
  for (int i = 1; i <= kPersons; ++i) {
    std::string name = i % 6 == 0 ? "NULL" : (i % 9 == 3 && i % 2 == 1) ? "'n3'" : "'N" + std::to_string(i % 9) + "'";
    std::string score = i % 5 == 0 ? "NULL" : std::to_string((i * 37) % 20) + ".50";
    insert += (i > 1 ? ", (" : "(") + std::to_string(i) + ", " + std::to_string(i % 4) + ", " + name + ", " +
              score + ", 'x" + std::to_string(i) + "')";
  }
  s.push_back(insert);
  insert = "INSERT INTO pos VALUES ";
  for (int i = 1; i <= 30; ++i) {
    insert += (i > 1 ? ", (" : "(") + std::to_string(i % 5) + ", 'b" + std::to_string(i) + "', " +
              (i % 4 == 0 ? std::string("NULL") : std::to_string(i % 3)) + ")";
  }
  s.push_back(insert);
  return s;
}

cv1::SortKey Key(const std::string& field, bool descending = false) {
  cv1::SortKey k;
  k.set_field(field);
  k.set_descending(descending);
  return k;
}

cv1::ScanRequest Request(const std::string& entity, std::vector<std::string> fields, std::vector<cv1::SortKey> order,
                         int64_t limit = 0) {
  cv1::ScanRequest r;
  r.set_entity(entity);
  for (const auto& f : fields) r.add_fields(f);
  for (const auto& k : order) *r.add_order() = k;
  r.set_limit(limit);
  return r;
}

// `r` with the key columns appended to its order where it does not name them: the order the
// chunked scan runs in, given to the unchunked reference so that its ties come out the same.
cv1::ScanRequest WithKeyOrder(cv1::ScanRequest r, const std::vector<std::string>& key) {
  for (const auto& k : key) {
    bool named = false;
    for (const auto& o : r.order()) named = named || o.field() == k;
    if (!named) *r.add_order() = Key(k);
  }
  return r;
}

class ChunkedScanTest : public ::testing::TestWithParam<Backend> {
 protected:
  static void SetUpTestSuite() { plugin_ = new Plugin(PluginPath()); }
  static void TearDownTestSuite() {
    delete plugin_;
    plugin_ = nullptr;
  }

  void SetUp() override {
    db_ = std::make_unique<TestDatabase>(GetParam(), dir_.path(), "fa_c");
    if (!db_->unavailable().empty()) GTEST_SKIP() << db_->unavailable();
    connection_string_ = db_->connection_string();
    raw_ = std::make_unique<RawConnection>(connection_string_);
    for (const std::string& sql : Schema()) raw_->Exec(sql);
    plain_ = OpenOrFail(R"({"scan_chunk_rows": 0})");
    chunked_ = OpenOrFail(R"({"scan_chunk_rows": 7, "pool_size": 1})");
  }

  void TearDown() override {
    plain_.reset();
    chunked_.reset();
    raw_.reset();
    db_.reset();
  }

  // Opens an instance with the settings of `json` (batch_size 5 unless given), a named query
  // `q` with a parameter and a key, and the connection string.
  Reply<std::unique_ptr<Instance>> TryOpen(const std::string& json) {
    google::protobuf::Struct s;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
    (*s.mutable_fields())["connection_string"].set_string_value(connection_string_);
    if (!s.fields().contains("batch_size")) (*s.mutable_fields())["batch_size"].set_number_value(5);
    google::protobuf::Struct queries;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(
                    R"({"q": {"sql": "SELECT id, grp, name FROM person WHERE grp >= :g",
                              "parameters": {"g": "int64"}, "key": ["id"]},
                        "q_nokey": {"sql": "SELECT id, name FROM person"}})",
                    &queries)
                    .ok());
    *(*s.mutable_fields())["queries"].mutable_struct_value() = queries;
    return Instance::Open(*plugin_, s);
  }

  std::unique_ptr<Instance> OpenOrFail(const std::string& json) {
    auto r = TryOpen(json);
    EXPECT_TRUE(r.ok()) << json << ": " << r.error.message();
    return std::move(r.response);
  }

  // Runs `request` on `chunked` (chunks of `chunk_rows`) and, in its total order (`key`
  // appended), unchunked; expects the same fields and records (etags included) in the same
  // order, with the fields named in the first batch only and no batch larger than `max_batch`
  // or empty after the first. Returns the chunked result. A request whose limit fits one chunk
  // runs unchunked on `chunked` too, in the order it gives: it gets the total order as well,
  // so that its ties come out as the reference's.
  Instance::ScanResult ExpectSame(Instance& chunked, const cv1::ScanRequest& request, size_t max_batch,
                                  const std::vector<std::string>& key = {"id"}, int64_t chunk_rows = 7) {
    const cv1::ScanRequest reference = WithKeyOrder(request, key);
    auto want = plain_->Scan(reference);
    const bool one_chunk = request.limit() > 0 && request.limit() <= chunk_rows;
    auto got = chunked.Scan(one_chunk ? reference : request);
    const std::string what = request.ShortDebugString();
    EXPECT_TRUE(want.ok()) << what << ": " << want.error.message();
    EXPECT_TRUE(got.ok()) << what << ": " << got.error.message();
    if (!want.ok() || !got.ok()) return got;
    EXPECT_EQ(got.fields, want.fields) << what;
    EXPECT_EQ(got.records.size(), want.records.size()) << what;
    for (size_t i = 0; i < got.records.size() && i < want.records.size(); ++i) {
      if (got.records[i].SerializeAsString() != want.records[i].SerializeAsString()) {
        ADD_FAILURE() << what << ": record " << i << " is " << got.records[i].ShortDebugString() << ", expected "
                      << want.records[i].ShortDebugString();
        break;
      }
    }
    EXPECT_FALSE(got.batches.empty()) << what << ": the first batch must name the fields";
    for (size_t b = 0; b < got.batches.size(); ++b) {
      const auto& batch = got.batches[b];
      if (b > 0) {
        EXPECT_EQ(batch.fields_size(), 0) << what << ": batch " << b << " names fields again";
        EXPECT_GT(batch.batch().records_size(), 0) << what << ": batch " << b << " is empty";
      }
      EXPECT_LE(static_cast<size_t>(batch.batch().records_size()), max_batch) << what << ": batch " << b;
    }
    return got;
  }

  static std::vector<int64_t> Column(const Instance::ScanResult& r, int pos) {
    std::vector<int64_t> out;
    for (const auto& rec : r.records) out.push_back(rec.values(pos).int_value());
    return out;
  }

  static Plugin* plugin_;
  TempDir dir_;
  std::unique_ptr<TestDatabase> db_;
  std::string connection_string_;
  std::unique_ptr<RawConnection> raw_;
  std::unique_ptr<Instance> plain_;    // scan_chunk_rows: 0
  std::unique_ptr<Instance> chunked_;  // scan_chunk_rows: 7, pool_size: 1
};

Plugin* ChunkedScanTest::plugin_ = nullptr;

TEST_P(ChunkedScanTest, OrdersFiltersProjectionsAndLimitsGiveTheUnchunkedResult) {
  const std::vector<std::vector<cv1::SortKey>> orders = {
      {},
      {Key("grp")},
      {Key("grp", true)},
      {Key("name")},
      {Key("name", true)},
      {Key("score"), Key("name", true)},
      {Key("grp", true), Key("score")},
      {Key("score", true)},
      {Key("id", true)},
      {Key("name"), Key("id", true)},
  };
  const std::vector<std::vector<std::string>> projections = {{}, {"note"}, {"name", "id", "name"}};
  const std::vector<int64_t> limits = {0, 6, 13, 14, 21, 49, 50, 60};
  v1::Filter filter = Or({Cond("grp", v1::OPERATOR_NE, Int(2)), Cond("name", v1::OPERATOR_IS_NULL)});
  int scans = 0;
  for (const auto& order : orders) {
    for (const auto& fields : projections) {
      for (int64_t limit : limits) {
        for (bool filtered : {false, true}) {
          cv1::ScanRequest req = Request("person", fields, order, limit);
          if (filtered) *req.mutable_filter() = filter;
          req.set_batch_size(limit % 2 ? 4 : 0);    // 0: the source's 5
          req.set_with_etag(limit == 13);
          ExpectSame(*chunked_, req, limit % 2 ? 4 : 5);
          ++scans;
          if (::testing::Test::HasFailure()) return;
        }
      }
    }
  }
  EXPECT_EQ(scans, 480);
}

TEST_P(ChunkedScanTest, ChunksOfThreeRows) {
  auto three = OpenOrFail(R"({"scan_chunk_rows": 3, "batch_size": 2})");
  for (const auto& order : std::vector<std::vector<cv1::SortKey>>{{Key("score", true)}, {Key("name"), Key("grp")}}) {
    for (int64_t limit : {0, 2, 3, 4, 9, 10}) {
      ExpectSame(*three, Request("person", {"note", "score"}, order, limit), 2, {"id"}, 3);
      ExpectSame(*three, Request("pos", {"v"}, {Key("v", true)}, limit), 2, {"a", "b"}, 3);
    }
  }
}

// The "after the last row" condition compares each type as the ORDER BY sorts it: timestamps
// with fractions, doubles, dates, times, booleans, padded CHAR, exact decimals (SQLite: text
// affinity), each with ties and NULLs, in both directions.
TEST_P(ChunkedScanTest, EveryTypeAsOrderColumn) {
  const Backend b = GetParam();
  const bool sqlite = b == Backend::kSqlite, pg = b == Backend::kPostgres;
  const std::string ts = sqlite ? "TIMESTAMP" : pg ? "TIMESTAMP(3)" : "DATETIME(3)";
  const std::string boolean = b == Backend::kMariaDb ? "BIT(1)" : "BOOLEAN";
  raw_->Exec("CREATE TABLE typed (id INTEGER PRIMARY KEY, ts " + ts + ", d " + (pg ? "DOUBLE PRECISION" : "DOUBLE") +
             ", tag DATE, zeit " + (sqlite ? "TIME" : "TIME(3)") + ", ok " + boolean + ", kz CHAR(4), betrag " +
             (sqlite ? "DECIMAL TEXT(30,10)" : "DECIMAL(30,10)") + (pg ? ", zone TIMESTAMP(3) WITH TIME ZONE" : "") +
             ")");
  static const char* kStamps[] = {"2024-02-29 13:45:10.123", "1969-12-31 23:59:59.999", "2024-02-29 13:45:10.124"};
  static const char* kTimes[] = {"08:30:00", "17:45:30.5", "00:00:00"};
  static const char* kDecimals[] = {"12345678901234567890.0123456789", "-0.0000000001", "2", "10"};
  std::string insert = "INSERT INTO typed VALUES ";
  for (int i = 1; i <= 40; ++i) {
    auto or_null = [&](int every, const std::string& v) { return i % every == 0 ? std::string("NULL") : v; };
    std::string okv = sqlite ? std::to_string(i % 2) : (i % 2 ? "TRUE" : "FALSE");
    insert += std::string(i > 1 ? ", (" : "(") + std::to_string(i) + ", " + or_null(5, "'" + std::string(kStamps[i % 3]) + "'") +
              ", " + or_null(6, std::to_string(i % 4) + ".25") + ", " + or_null(7, "'20" + std::to_string(10 + i % 3) + "-01-01'") +
              ", " + or_null(4, "'" + std::string(kTimes[i % 3]) + "'") + ", " + or_null(9, okv) + ", " +
              or_null(3, i % 2 ? "'AB'" : "'ABC'") + ", " + or_null(8, "'" + std::string(kDecimals[i % 4]) + "'") +
              (pg ? ", " + or_null(5, "'" + std::string(kStamps[i % 3]) + "+02'") : "") + ")";
  }
  raw_->Exec(insert);
  auto three = OpenOrFail(R"({"scan_chunk_rows": 3, "batch_size": 4})");
  std::vector<std::string> columns = {"ts", "d", "tag", "zeit", "ok", "kz", "betrag"};
  if (pg) columns.push_back("zone");
  for (const std::string& c : columns) {
    // Not chunked: TIME (compared as text, not proven exact everywhere),
    // and DECIMAL on SQLite (compared by storage class, here text, unlike the value read).
    const bool chunkable = c != "zeit" && !(sqlite && c == "betrag");
    for (bool descending : {false, true}) {
      const int64_t before = three->counter(kChunks);
      cv1::ScanRequest req = Request("typed", {"id", c}, {Key(c, descending)});
      // Unchunked, the ties come in the order the request gives.
      if (!chunkable) req = WithKeyOrder(req, {"id"});
      auto r = ExpectSame(*three, req, 4, {"id"}, 3);
      EXPECT_EQ(r.records.size(), 40u) << c;
      EXPECT_EQ(three->counter(kChunks) - before, chunkable ? 14 : 0) << c;
    }
    int warnings = 0;
    for (const std::string& line : three->log()) {
      warnings += line.find("ordered by '" + c + "'") != std::string::npos;
    }
    EXPECT_EQ(warnings, chunkable ? 0 : 1) << c;
  }
  auto r = ExpectSame(*three, Request("typed", {"id"}, {Key("ok", true), Key("ts"), Key("kz", true)}, 25), 4, {"id"}, 3);
  EXPECT_EQ(r.records.size(), 25u);
}

// Where the database compares a value otherwise than it orders it, a chunk could begin again
// at rows already delivered. SQLite keeps a DATE as the text it was given: '2024-3-1' sorts
// after '2024-10-01', and the connector reads it as 2024-03-01, whose text '2024-03-01' sorts
// before it; so "after 2024-03-01" would match both rows again, chunk after chunk (2, 1, 2, 1,
// ... before the check existed). The second chunk begins at a date before the first one's
// last: the scan fails with FAILED_PRECONDITION instead.
TEST_P(ChunkedScanTest, ChunkThatDoesNotMoveOnFailsTheScan) {
  if (GetParam() != Backend::kSqlite) GTEST_SKIP() << "needs SQLite's dates stored as any text";
  raw_->Exec("CREATE TABLE mixed (id INTEGER PRIMARY KEY, tag DATE)");
  raw_->Exec("INSERT INTO mixed VALUES (1, '2024-3-1'), (2, '2024-10-01')");
  auto one = OpenOrFail(R"({"scan_chunk_rows": 1})");
  auto r = one->Scan(Request("mixed", {"id"}, {Key("tag")}));
  EXPECT_EQ(r.code, 9) << r.error.message();
  EXPECT_EQ(r.error.reason(), "CHUNK_ORDER_MISMATCH");
  EXPECT_EQ(r.error.field(), "tag");
  EXPECT_NE(r.error.message().find("scan_chunk_rows: 0"), std::string::npos) << r.error.message();
  EXPECT_EQ(Column(r, 0), (std::vector<int64_t>{2})) << "the rows before the failure, none twice";
  auto plain = plain_->Scan(Request("mixed", {"id"}, {Key("tag")}));
  EXPECT_EQ(Column(plain, 0), (std::vector<int64_t>{2, 1}));
}

TEST_P(ChunkedScanTest, CompositeKeyNamedQueryAndEtags) {
  for (const auto& order : std::vector<std::vector<cv1::SortKey>>{{}, {Key("v")}, {Key("v", true)}, {Key("b", true)},
                                                                  {Key("a", true), Key("v")}}) {
    for (int64_t limit : {0, 8, 29}) {
      cv1::ScanRequest req = Request("pos", {"v"}, order, limit);
      ExpectSame(*chunked_, req, 5, {"a", "b"});
      req.set_with_etag(true);
      req.clear_fields();
      ExpectSame(*chunked_, req, 5, {"a", "b"});
    }
  }
  // A named query with a parameter: its parameter field is constant, the key is declared.
  cv1::ScanRequest q = Request("q", {"name", "g"}, {Key("name", true)});
  *q.mutable_filter() = Cond("g", v1::OPERATOR_EQ, Int(1));
  auto r = ExpectSame(*chunked_, q, 5);
  EXPECT_EQ(r.records.size(), static_cast<size_t>(kPersons * 3 / 4 + 1));  // grp 1, 2 and 3
  q.set_limit(17);
  ExpectSame(*chunked_, q, 5);
}

TEST_P(ChunkedScanTest, SeveralBoundedStatementsRunAndTheCountersAddUp) {
  const int64_t chunks = chunked_->counter(kChunks), limited = chunked_->counter(kLimitInSql);
  const int64_t fetched = chunked_->counter(kRowsFetched), plain_fetched = plain_->counter(kRowsFetched);
  auto r = ExpectSame(*chunked_, Request("person", {"id"}, {}), 5);
  ASSERT_EQ(r.records.size(), static_cast<size_t>(kPersons));
  // 7 chunks of 7 rows and one of the remaining row: fewer than asked for, so the end.
  EXPECT_EQ(chunked_->counter(kChunks) - chunks, 8);
  EXPECT_EQ(chunked_->counter(kLimitInSql) - limited, 8) << "every chunk's statement carries its limit";
  EXPECT_EQ(chunked_->counter(kRowsFetched) - fetched, kPersons);
  EXPECT_EQ(plain_->counter(kRowsFetched) - plain_fetched, kPersons);
  EXPECT_EQ(plain_->counter(kChunks), 0);
  // A limit of at most one chunk is one statement, as without chunking.
  const int64_t before = chunked_->counter(kChunks);
  ExpectSame(*chunked_, Request("person", {"id"}, {Key("grp")}, 7), 5);
  EXPECT_EQ(chunked_->counter(kChunks) - before, 0);
}

TEST_P(ChunkedScanTest, ResultsOfExactlyWholeChunksAndEmptyResults) {
  struct Case {
    v1::Filter filter;
    int64_t limit;
    size_t rows;
    int64_t statements;
  };
  const std::vector<Case> cases = {
      {Cond("id", v1::OPERATOR_LE, Int(7)), 0, 7, 2},    // one whole chunk; the next finds nothing
      {Cond("id", v1::OPERATOR_LE, Int(14)), 0, 14, 3},  // two whole chunks
      {Cond("id", v1::OPERATOR_LE, Int(15)), 0, 15, 3},
      {Cond("id", v1::OPERATOR_GT, Int(0)), 14, 14, 2},  // the limit ends the scan at a chunk's end
      {Cond("id", v1::OPERATOR_GT, Int(0)), 15, 15, 3},  // the last chunk asks for one row
      {Cond("id", v1::OPERATOR_LT, Int(0)), 0, 0, 1},    // empty
  };
  for (const Case& c : cases) {
    cv1::ScanRequest req = Request("person", {"name", "grp"}, {Key("grp", true)}, c.limit);
    *req.mutable_filter() = c.filter;
    const int64_t before = chunked_->counter(kChunks);
    auto r = ExpectSame(*chunked_, req, 5);
    EXPECT_EQ(r.records.size(), c.rows) << req.ShortDebugString();
    EXPECT_EQ(chunked_->counter(kChunks) - before, c.statements) << req.ShortDebugString();
    ASSERT_FALSE(r.batches.empty());
    EXPECT_EQ(r.fields, (std::vector<std::string>{"name", "grp"})) << "the first batch names the fields";
  }
}

TEST_P(ChunkedScanTest, RowsChangedDuringTheScanAreSeenOnceAheadAndNeverBehind) {
  // Batches of one chunk each, so that no statement is open when the test writes between
  // batches (SQLite's writer would wait for the reader otherwise).
  cv1::ScanRequest req = Request("person", {"id", "note"}, {});
  req.set_batch_size(7);
  std::vector<int64_t> ids;
  std::map<int64_t, std::string> notes;
  int batches = 0;
  cv1::Error error;
  int32_t code = chunked_->ScanEach(
      req,
      [&](const cv1::ScanBatch& b) {
        for (const auto& rec : b.batch().records()) {
          ids.push_back(rec.values(0).int_value());
          notes[rec.values(0).int_value()] = rec.values(1).string_value();
        }
        if (++batches == 2) {  // ids 1..14 went out
          raw_->Exec("INSERT INTO person VALUES (-5, 1, 'hinten', NULL, 'neu')");
          raw_->Exec("INSERT INTO person VALUES (1000, 1, 'vorn', NULL, 'neu')");
          raw_->Exec("UPDATE person SET note = 'geaendert' WHERE id IN (3, 40)");
          raw_->Exec("DELETE FROM person WHERE id = 45");
        }
      },
      &error, 100);
  ASSERT_EQ(code, 0) << error.message();
  std::vector<int64_t> expected;
  for (int i = 1; i <= kPersons; ++i) {
    if (i != 45) expected.push_back(i);
  }
  expected.push_back(1000);
  EXPECT_EQ(ids, expected) << "each row once, in key order; the row behind the read position not at all";
  EXPECT_EQ(notes[3], "x3") << "a row delivered before the change keeps what was delivered";
  EXPECT_EQ(notes[40], "geaendert") << "a row ahead is read as it is when its chunk runs";
}

TEST_P(ChunkedScanTest, CancellationStopsBetweenAndWithinChunks) {
  for (size_t after : {1, 2, 3}) {
    TestCallContext ctx;
    auto r = chunked_->Scan(Request("person", {"id"}, {Key("name")}), &ctx, 100, after);
    EXPECT_EQ(r.code, 1) << "CANCELLED after " << after << " batches: " << r.error.message();
    EXPECT_EQ(r.batches.size(), after);
  }
  // The connection went back to the pool (pool_size 1): the next scan runs.
  ExpectSame(*chunked_, Request("person", {"id"}, {Key("name")}), 5);
}

TEST_P(ChunkedScanTest, EntitiesWithoutKeyRunAsOneStatementWithOneWarning) {
  const int64_t before = chunked_->counter(kChunks);
  for (int i = 0; i < 2; ++i) {
    auto view = chunked_->Scan(Request("person_v", {"id", "name"}, {Key("id")}));
    ASSERT_TRUE(view.ok()) << view.error.message();
    EXPECT_EQ(view.records.size(), static_cast<size_t>(kPersons));
    auto query = chunked_->Scan(Request("q_nokey", {"id"}, {Key("id", true)}));
    ASSERT_TRUE(query.ok()) << query.error.message();
    ASSERT_EQ(query.records.size(), static_cast<size_t>(kPersons));
    EXPECT_EQ(query.records[0].values(0).int_value(), kPersons);
  }
  EXPECT_EQ(chunked_->counter(kChunks) - before, 0);
  int view_warnings = 0, query_warnings = 0;
  for (const std::string& line : chunked_->log()) {
    if (line.find("no key") == std::string::npos) continue;
    view_warnings += line.find("'person_v'") != std::string::npos;
    query_warnings += line.find("'q_nokey'") != std::string::npos;
  }
  EXPECT_EQ(view_warnings, 1);
  EXPECT_EQ(query_warnings, 1);
  // Unknown fields are reported as without chunking.
  auto bad = chunked_->Scan(Request("person", {"id"}, {Key("nope")}));
  EXPECT_EQ(bad.code, 3);
  EXPECT_EQ(bad.error.reason(), "UNKNOWN_FIELD");
  bad = chunked_->Scan(Request("person", {"nope"}, {Key("grp")}));
  EXPECT_EQ(bad.code, 3);
  EXPECT_EQ(bad.error.field(), "nope");
}

TEST_P(ChunkedScanTest, ChunkingIsOnByDefaultOnlyWhereTheDriverDoesNotStream) {
  auto automatic = OpenOrFail("{}");
  bool chunked_by_default = false;
  for (const std::string& line : automatic->log()) {
    chunked_by_default = chunked_by_default || line.find("statements of at most 50000 rows each") != std::string::npos;
  }
  EXPECT_EQ(chunked_by_default, GetParam() == Backend::kMariaDb);
  bool warned_off = false;
  for (const std::string& line : plain_->log()) {
    warned_off = warned_off || line.find("scan_chunk_rows is 0") != std::string::npos;
  }
  EXPECT_EQ(warned_off, GetParam() == Backend::kMariaDb) << "turning chunking off on MariaDB is warned about";
  // Small results are one chunk either way.
  const int64_t before = automatic->counter(kChunks);
  ExpectSame(*automatic, Request("person", {"id"}, {}), 5);
  EXPECT_EQ(automatic->counter(kChunks) - before, GetParam() == Backend::kMariaDb ? 1 : 0);
}

// MariaDB Connector/ODBC 3.1.15 holds a statement's whole result in memory: chunked, the
// process holds one chunk. 200,000 rows of 300 characters (about 60 MB of text) in chunks of
// 10,000 rows (about 3 MB) must grow the heap by less than 20 MB; unchunked it grows by about
// the whole result (printed, not asserted: it is the driver's behaviour, not the connector's).
TEST_P(ChunkedScanTest, LargeMariaDbResultStaysInBoundedMemory) {
  if (GetParam() != Backend::kMariaDb) {
    GTEST_SKIP() << "only MariaDB's driver reads whole results; the others stream (conformance suite, "
                    "LargeResultStreamsInConstantMemory)";
  }
  constexpr int kRows = 200000;
  constexpr int kWidth = 300;
  raw_->Exec("CREATE TABLE gross (n INTEGER PRIMARY KEY, text VARCHAR(400) NOT NULL)");
  raw_->Exec("INSERT INTO gross SELECT seq, REPEAT('0', " + std::to_string(kWidth) + ") FROM seq_1_to_" +
             std::to_string(kRows));
  auto growth = [&](Instance& inst, int64_t* rows, bool* ordered) {
    cv1::ScanRequest req = Request("gross", {}, {});
    *req.mutable_filter() = Cond("n", v1::OPERATOR_GT, Int(0));
    const int64_t base = HeapInUseKiB();
    int64_t peak = base, last = 0;
    cv1::Error error;
    int32_t code = inst.ScanEach(
        req,
        [&](const cv1::ScanBatch& b) {
          for (const auto& rec : b.batch().records()) {
            *ordered = *ordered && rec.values(0).int_value() == last + 1 &&
                       rec.values(1).string_value().size() == static_cast<size_t>(kWidth);
            last = rec.values(0).int_value();
            ++*rows;
          }
          peak = std::max(peak, HeapInUseKiB());
        },
        &error);
    EXPECT_EQ(code, 0) << error.message();
    return peak - base;
  };
  auto chunked = OpenOrFail(R"({"scan_chunk_rows": 10000, "batch_size": 1000})");
  int64_t rows = 0;
  bool ordered = true;
  const int64_t chunked_kib = growth(*chunked, &rows, &ordered);
  EXPECT_EQ(rows, kRows);
  EXPECT_TRUE(ordered) << "every row once, in key order";
  EXPECT_EQ(chunked->counter(kChunks), kRows / 10000 + 1);
  EXPECT_LT(chunked_kib, 20 * 1024) << "grew by " << chunked_kib << " KiB in chunks of 10,000 rows";
  rows = 0;
  const int64_t whole_kib = growth(*plain_, &rows, &ordered);
  EXPECT_EQ(rows, kRows);
  std::printf("heap growth streaming %d rows from MariaDB: %lld KiB in chunks of 10000 rows, %lld KiB unchunked\n",
              kRows, static_cast<long long>(chunked_kib), static_cast<long long>(whole_kib));
}

// The chunked cursor's NextEncoded (which the plugin's C ABI calls) writes byte for byte the
// serialized batches of its Next, also where it strips the order fields it added.
TEST_P(ChunkedScanTest, NextAndNextEncodedGiveTheSameBytes) {
  odbc::OdbcConnector connector;
  cv1::OpenRequest open;
  open.set_source_name("chunks");
  auto& settings = *open.mutable_settings()->mutable_fields();
  settings["connection_string"].set_string_value(connection_string_);
  settings["scan_chunk_rows"].set_number_value(3);
  settings["batch_size"].set_number_value(4);
  Status opened = connector.Open(open);
  ASSERT_TRUE(opened.ok()) << opened.message();
  std::vector<cv1::ScanRequest> requests = {
      Request("person", {"note"}, {Key("score", true), Key("name")}),
      Request("person", {}, {Key("grp")}, 11),
      Request("person", {"name", "grp"}, {Key("grp")}, 12),
      Request("pos", {"v", "v"}, {Key("b", true)}),
  };
  requests.back().set_batch_size(2);
  for (const cv1::ScanRequest& req : requests) {
    sdk::CallContext ctx;
    std::vector<std::string> serialized;
    auto cur = connector.Scan(req, ctx);
    ASSERT_TRUE(cur.ok()) << cur.status().message();
    for (int i = 0; i < 1000; ++i) {
      cv1::ScanBatch b;
      bool end = false;
      Status s = (*cur)->Next(&b, &end, ctx);
      ASSERT_TRUE(s.ok()) << s.message();
      if (end) break;
      serialized.push_back(b.SerializeAsString());
    }
    (*cur).reset();
    auto wire = connector.Scan(req, ctx);
    ASSERT_TRUE(wire.ok()) << wire.status().message();
    size_t i = 0;
    for (; i < 1000; ++i) {
      std::string bytes;
      bool end = false;
      Status s = (*wire)->NextEncoded(&bytes, &end, ctx);
      ASSERT_TRUE(s.ok()) << s.message();
      if (end) break;
      ASSERT_LT(i, serialized.size()) << req.ShortDebugString();
      if (bytes != serialized[i]) {
        cv1::ScanBatch a, b;
        a.ParseFromString(bytes);
        b.ParseFromString(serialized[i]);
        FAIL() << req.ShortDebugString() << ": batch " << i << " differs:\n" << a.ShortDebugString() << "\n"
               << b.ShortDebugString();
      }
    }
    EXPECT_EQ(i, serialized.size()) << req.ShortDebugString();
    EXPECT_GT(serialized.size(), 2u) << req.ShortDebugString();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ChunkedScanTest, AllBackends(), BackendParamName);

// The setting is checked at Open: anything but an integer from 0 to 100000000 is
// INVALID_ARGUMENT naming it.
TEST(ChunkedScanSettingsTest, BadValuesAreRejectedNamingTheSetting) {
  if (SqliteDriverMissing()) GTEST_SKIP() << "the SQLite3 ODBC driver is not registered in /etc/odbcinst.ini";
  TempDir dir;
  Plugin plugin(PluginPath());
  auto open = [&](const std::string& value_json) {
    google::protobuf::Struct s;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(R"({"scan_chunk_rows": )" + value_json + "}", &s).ok());
    (*s.mutable_fields())["connection_string"].set_string_value("Driver=SQLite3;Database=" +
                                                                (dir / "t.db").string() + ";");
    return Instance::Open(plugin, s);
  };
  for (const char* bad : {"-1", "2.5", "100000001", "\"viele\"", "\"7 rows\"", "true", "[7]", "{}"}) {
    auto r = open(bad);
    EXPECT_EQ(r.code, 3) << bad;
    EXPECT_EQ(r.error.reason(), "INVALID_SETTING") << bad;
    EXPECT_EQ(r.error.field(), "scan_chunk_rows") << bad;
    EXPECT_NE(r.error.message().find("scan_chunk_rows"), std::string::npos) << r.error.message();
  }
  for (const char* good : {"0", "1", "\"250\"", "100000000"}) {
    auto r = open(good);
    EXPECT_TRUE(r.ok()) << good << ": " << r.error.message();
  }
}

}  // namespace
}  // namespace fachadapter::testing
