// The ODBC connector's scan cursor writes its batches straight in protobuf wire format
// (NextEncoded, which the plugin's C ABI calls) from the bound column buffers. Every scan here
// runs twice, through Next (messages, serialized) and through NextEncoded, and the batches
// must be byte for byte the same: every value type with its edge cases (NULLs, negative and
// extreme integers, decimals exact to the last digit, dates and timestamps before 1970 and at
// the epoch, midnight, fractions, umlauts, empty and padded text, bytes), projections,
// limits, several batches, long columns read with SQLGetData. Against SQLite always, and
// PostgreSQL and MariaDB when FACHADAPTER_TEST_PG_DSN / FACHADAPTER_TEST_MARIADB_DSN are set
// (scripts/test-servers.sh).
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <sql.h>
#include <sqlext.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "odbc_connector.h"
#include "raw_odbc.h"
#include "test_database.h"
#include "test_util.h"

namespace fachadapter::odbc {
namespace {

namespace cv1 = ::fachadapter::connector::v1;
using fachadapter::testing::ReadFile;
using fachadapter::testing::RawConnection;
using fachadapter::testing::TempDir;
using fachadapter::testing::WithKey;

constexpr int kRows = 1200;

using fachadapter::testing::Backend;
using fachadapter::testing::TestDatabase;

// Text of row i's value for each column, as SQL literals in the back end's syntax; every
// seventh row is NULL wherever a column may be.
struct Literals {
  Backend b;
  std::string Bool(bool v) const { return b == Backend::kSqlite ? (v ? "1" : "0") : (v ? "TRUE" : "FALSE"); }
  std::string Blob(const std::string& hex) const {
    return b == Backend::kPostgres ? "decode('" + hex + "', 'hex')" : "X'" + hex + "'";
  }
};

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string Row(const Literals& l, int i) {
  static const char* kDecimals[] = {"12345678901234567890.0123456789", "-0.0000000001", "0", "-98765432109876543210.5",
                                    "0.1000000000", "1"};
  static const char* kDates[] = {"1900-01-01", "1969-12-31", "1970-01-01", "2024-02-29", "2099-12-31"};
  static const char* kTimes[] = {"00:00:00", "08:30:00", "17:45:30.5", "23:59:59.999", "12:00:01"};
  static const char* kStamps[] = {"1969-12-31 23:59:59.999", "1970-01-01 00:00:00", "2024-02-29 13:45:10.123",
                                  "1901-06-01 00:00:00.001", "2038-01-19 03:14:08"};
  static const char* kNames[] = {"Bäckerei Schmidt", "", "Café 100%_sicher", "O''Reilly & Söhne",
                                 "ÄÖÜäöüß€ — lange Bezeichnung einer Metzgerei in Mönchengladbach-Süd"};
  static const char* kCodes[] = {"AB", "", "ÄÖ", "ABCDEF"};
  static const char* kBlobs[] = {"00FF10", "", "DEADBEEF00000000CAFE", "7F"};
  const bool null = i % 7 == 0;
  auto or_null = [&](const std::string& v) { return null ? std::string("NULL") : v; };
  std::string n = i == 1 ? "-9223372036854775807" : i == 2 ? "9223372036854775807" : std::to_string((i - 600) * 1000003LL);
  std::string d = i == 3 ? "0" : i == 4 ? "-1.5e300" : std::to_string(i * 0.37 - 200.125);
  return "(" + std::to_string(i) + ", " + or_null(n) + ", " + or_null(d) + ", " + or_null(Quote(kDecimals[i % 6])) +
         ", " + or_null(std::to_string(i % 100) + "." + std::to_string(10 + i % 90)) + ", " +
         or_null(Quote(kDates[i % 5])) + ", " + or_null(Quote(kTimes[i % 5])) + ", " +
         or_null(Quote(kStamps[i % 5])) + ", " + or_null(l.Bool(i % 2 == 0)) + ", " +
         Quote(kNames[i % 5]) + ", " + or_null(Quote(kCodes[i % 4])) + ", " + or_null(l.Blob(kBlobs[i % 4])) +
         (l.b == Backend::kPostgres ? ", " + or_null(Quote(std::string(kStamps[i % 5]) + "+02")) : "") + ")";
}

std::vector<std::string> Schema(Backend b) {
  Literals l{b};
  const bool pg = b == Backend::kPostgres, sqlite = b == Backend::kSqlite;
  std::string exact = sqlite ? "DECIMAL TEXT(30,10)" : "DECIMAL(30,10)";
  std::string dbl = pg ? "DOUBLE PRECISION" : "DOUBLE";
  std::string time = sqlite ? "TIME" : "TIME(3)";
  std::string ts = sqlite ? "TIMESTAMP" : pg ? "TIMESTAMP(3)" : "DATETIME(3)";
  std::string boolean = b == Backend::kMariaDb ? "BIT(1)" : "BOOLEAN";
  std::string bytes = pg ? "BYTEA" : sqlite ? "BLOB" : "VARBINARY(16)";
  std::string clob = b == Backend::kMariaDb ? "LONGTEXT" : "TEXT";
  std::string lob = pg ? "BYTEA" : sqlite ? "BLOB" : "LONGBLOB";
  std::vector<std::string> s = {
      "CREATE TABLE wert (id INTEGER PRIMARY KEY, n BIGINT, d " + dbl + ", betrag " + exact +
          ", klein DECIMAL(12,2), tag DATE, zeit " + time + ", ts " + ts + ", ok " + boolean +
          ", name VARCHAR(100) NOT NULL, kz CHAR(6), roh " + bytes + (pg ? ", zone TIMESTAMP(3) WITH TIME ZONE" : "") +
          ")",
      "CREATE TABLE lang (id INTEGER PRIMARY KEY, notiz " + clob + ", daten " + lob + ", name VARCHAR(20))",
  };
  for (int from = 1; from <= kRows; from += 100) {
    std::string insert = "INSERT INTO wert VALUES ";
    for (int i = from; i < from + 100 && i <= kRows; ++i) insert += (i > from ? "," : "") + Row(l, i);
    s.push_back(insert);
  }
  std::string long_text(5000, 'x');
  for (int i = 1; i <= 40; ++i) {
    s.push_back("INSERT INTO lang VALUES (" + std::to_string(i) + ", " +
                (i % 5 == 0 ? "NULL" : Quote("Notiz " + std::to_string(i) + " äöü " + long_text.substr(0, i * 120))) +
                ", " + (i % 4 == 0 ? "NULL" : l.Blob(i % 2 ? "0001FF" : "")) + ", " +
                Quote(i % 3 ? "kurz" : "Straße") + ")");
  }
  return s;
}

class WireTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<TestDatabase>(GetParam(), dir_.path(), "fa_w");
    if (!db_->unavailable().empty()) GTEST_SKIP() << db_->unavailable();
    connection_string_ = db_->connection_string();
    {
      RawConnection raw(connection_string_);
      for (const std::string& sql : Schema(GetParam())) raw.Exec(sql);
    }
    cv1::OpenRequest open;
    // A named query: its parameter fields are values of the request, not columns.
    std::string json = R"({"batch_size": 500, "queries": {"ab_n": {
        "sql": "SELECT id, name, betrag, tag FROM wert WHERE n >= :ab", "parameters": {"ab": "int64"},
        "key": ["id"]}}})";
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, open.mutable_settings()).ok());
    (*open.mutable_settings()->mutable_fields())["connection_string"].set_string_value(connection_string_);
    open.set_source_name("wire");
    Status s = connector_.Open(open);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  // Runs `req` through Next and through NextEncoded and expects the same bytes per batch and
  // the same outcome; returns the batches as messages.
  std::vector<cv1::ScanBatch> Both(const cv1::ScanRequest& req) {
    sdk::CallContext ctx;
    std::vector<cv1::ScanBatch> batches;
    std::vector<std::string> serialized;
    Status next_status;
    auto cur = connector_.Scan(req, ctx);
    EXPECT_TRUE(cur.ok()) << cur.status().message();
    if (!cur.ok()) return batches;
    for (int i = 0; i < 100000; ++i) {
      cv1::ScanBatch b;
      bool end = false;
      next_status = (*cur)->Next(&b, &end, ctx);
      if (!next_status.ok() || end) break;
      serialized.push_back(b.SerializeAsString());
      batches.push_back(std::move(b));
    }
    (*cur).reset();  // gives the connection back to the pool
    auto wire_cur = connector_.Scan(req, ctx);
    EXPECT_TRUE(wire_cur.ok()) << wire_cur.status().message();
    if (!wire_cur.ok()) return batches;
    for (size_t i = 0; i < 100000; ++i) {
      std::string wire;
      bool end = false;
      Status s = (*wire_cur)->NextEncoded(&wire, &end, ctx);
      if (!s.ok() || end) {
        EXPECT_EQ(i, serialized.size()) << "the wire scan ended after " << i << " batches";
        EXPECT_EQ(s.code(), next_status.code()) << s.message();
        EXPECT_EQ(s.message(), next_status.message());
        break;
      }
      EXPECT_LT(i, serialized.size()) << "the wire scan has more batches";
      if (i >= serialized.size()) break;
      if (wire != serialized[i]) {
        cv1::ScanBatch parsed;
        bool ok = parsed.ParseFromString(wire);
        ADD_FAILURE() << "batch " << i << " differs in wire format (" << wire.size() << " vs "
                      << serialized[i].size() << " bytes); parses: " << ok << "\nwire:\n"
                      << parsed.DebugString().substr(0, 2000) << "\nmessages:\n"
                      << batches[i].DebugString().substr(0, 2000);
        break;
      }
    }
    return batches;
  }

  static size_t Records(const std::vector<cv1::ScanBatch>& batches) {
    size_t n = 0;
    for (const auto& b : batches) n += static_cast<size_t>(b.batch().records_size());
    return n;
  }

  static cv1::ScanRequest Request(const std::string& entity, std::vector<std::string> fields = {}) {
    cv1::ScanRequest r;
    r.set_entity(entity);
    for (const auto& f : fields) r.add_fields(f);
    return r;
  }

  TempDir dir_;
  std::unique_ptr<TestDatabase> db_;  // dropped after connector_ closed its connections
  std::string connection_string_;
  OdbcConnector connector_;
};

TEST_P(WireTest, EveryTypeInSeveralBatchesIsTheSameOnTheWire) {
  auto batches = Both(Request("wert"));
  ASSERT_EQ(Records(batches), static_cast<size_t>(kRows));
  ASSERT_GE(batches.size(), 3u);  // batch_size 500
  // The values are what the table holds, so the comparison above covered every kind.
  const v1::Record& r1 = batches[0].batch().records(0);
  EXPECT_EQ(r1.values(1).int_value(), -9223372036854775807LL);
  EXPECT_EQ(r1.values(3).decimal_value().value(), "-0.0000000001");
  EXPECT_EQ(r1.values(9).string_value(), "");
  EXPECT_EQ(batches[0].batch().records(1).values(9).string_value(), "Café 100%_sicher");
  const v1::Record& r7 = batches[0].batch().records(6);
  EXPECT_EQ(r7.values(1).kind_case(), v1::Value::kNullValue);
  int kinds = 0;
  for (int k = v1::Value::kNullValue; k <= v1::Value::kTimestampValue; ++k) {
    bool seen = false;
    for (const auto& b : batches) {
      for (const auto& rec : b.batch().records()) {
        for (const auto& v : rec.values()) seen = seen || v.kind_case() == k;
      }
    }
    kinds += seen ? 1 : 0;
  }
  EXPECT_EQ(kinds, 10) << "every kind of value occurs";
}

TEST_P(WireTest, SmallBatchesProjectionsAndLimits) {
  cv1::ScanRequest small = Request("wert");
  small.set_batch_size(7);
  EXPECT_EQ(Records(Both(small)), static_cast<size_t>(kRows));

  auto reordered = Both(Request("wert", {"name", "id", "roh", "betrag", "tag", "ts", "kz"}));
  ASSERT_EQ(Records(reordered), static_cast<size_t>(kRows));
  EXPECT_EQ(reordered[0].fields(1), "id");

  cv1::ScanRequest limited = Request("wert", {"d", "zeit", "ok"});
  limited.set_limit(1);
  EXPECT_EQ(Records(Both(limited)), 1u);
  limited.set_limit(1199);
  limited.set_batch_size(100);
  EXPECT_EQ(Records(Both(limited)), 1199u);
}

TEST_P(WireTest, FilteredOrderedEmptyAndEtagScans) {
  cv1::ScanRequest req = Request("wert", {"id", "klein", "betrag", "zeit"});
  auto* f = req.mutable_filter()->mutable_field();
  f->set_field("id");
  f->set_op(v1::OPERATOR_GT);
  f->mutable_value()->set_int_value(600);
  auto* o = req.add_order();
  o->set_field("klein");
  o->set_descending(true);
  req.add_order()->set_field("id");  // klein repeats: the two scans must see one order
  EXPECT_EQ(Records(Both(req)), static_cast<size_t>(kRows - 600));

  f->mutable_value()->set_int_value(kRows);  // nothing: one batch that only names the fields
  auto empty = Both(req);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].fields_size(), 4);

  cv1::ScanRequest etag = Request("wert", {"name"});
  etag.set_with_etag(true);
  auto with_etag = Both(etag);
  ASSERT_EQ(Records(with_etag), static_cast<size_t>(kRows));
  EXPECT_EQ(with_etag[0].batch().records(0).etag().size(), 16u);
}

// A TIME with fractional seconds as a filter value: bound as text (ODBC's SQL_TIME_STRUCT has
// no fraction), which MariaDB's driver refused as SQL_TYPE_TIME ("Datetime field overflow").
TEST_P(WireTest, TimeWithFractionalSecondsFilters) {
  auto count = [&](v1::Operator op, int32_t h, int32_t m, int32_t sec, int32_t nanos) {
    cv1::ScanRequest req = Request("wert", {"id", "zeit"});
    auto* f = req.mutable_filter()->mutable_field();
    f->set_field("zeit");
    f->set_op(op);
    v1::TimeOfDay* t = f->mutable_value()->mutable_time_value();
    t->set_hours(h);
    t->set_minutes(m);
    t->set_seconds(sec);
    t->set_nanos(nanos);
    return Records(Both(req));
  };
  // Rows i with i % 5 == 2 hold 17:45:30.5, i % 5 == 3 23:59:59.999; every seventh is NULL.
  EXPECT_EQ(count(v1::OPERATOR_EQ, 17, 45, 30, 500000000), 205u);
  EXPECT_EQ(count(v1::OPERATOR_GT, 23, 59, 59, 998000000), 206u);
  EXPECT_EQ(count(v1::OPERATOR_EQ, 17, 45, 30, 0), 0u);
}

TEST_P(WireTest, LongColumnsReadPieceByPiece) {
  cv1::ScanRequest by_id = Request("lang");
  by_id.add_order()->set_field("id");
  auto all = Both(by_id);
  ASSERT_EQ(Records(all), 40u);
  EXPECT_EQ(all[0].batch().records(38).values(1).string_value().size(), std::string("Notiz 39 äöü ").size() + 4680);
  EXPECT_EQ(Records(Both(Request("lang", {"name", "daten", "id"}))), 40u);
}

TEST_P(WireTest, NamedQueryWithParameterFields) {
  for (std::vector<std::string> fields : {std::vector<std::string>{}, {"ab", "id"}, {"ab"}, {"tag", "ab", "name"}}) {
    cv1::ScanRequest req = Request("ab_n", fields);
    auto* f = req.mutable_filter()->mutable_field();
    f->set_field("ab");
    f->set_op(v1::OPERATOR_EQ);
    f->mutable_value()->set_int_value(0);
    req.add_order()->set_field("id");
    auto batches = Both(req);
    ASSERT_FALSE(batches.empty());
    EXPECT_GT(Records(batches), 400u);
    const v1::Record& r = batches[0].batch().records(0);
    int ab = fields.empty() ? 4 : static_cast<int>(std::find(fields.begin(), fields.end(), "ab") - fields.begin());
    EXPECT_EQ(r.values(ab).int_value(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, WireTest, testing::AllBackends(), testing::BackendParamName);

}  // namespace
}  // namespace fachadapter::odbc
