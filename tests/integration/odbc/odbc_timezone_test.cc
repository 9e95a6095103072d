// TIMESTAMP WITH TIME ZONE through the ODBC connector on PostgreSQL, with a session time zone
// that is not UTC (America/St_Johns: -02:30 in summer, -03:30 in winter). The connector
// delivers the instant (UTC, offset 0) whatever the session's zone, compares and writes
// instants, and leaves TIMESTAMP WITHOUT TIME ZONE as the wall-clock time it is.
//
// Needs FACHADAPTER_TEST_PG_DSN (scripts/test-servers.sh); skips without. The test creates a
// database of its own and drops it.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "plugin_client.h"
#include "raw_odbc.h"
#include "test_util.h"

namespace fachadapter::testing {
namespace {

// Seconds since the epoch of a UTC (or wall-clock) date and time.
int64_t Epoch(int y, int mo, int d, int h, int mi, int s) {
  int64_t yy = y - (mo <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + s;
}

v1::Value Instant(int64_t seconds, int32_t nanos, std::optional<int32_t> offset_minutes) {
  v1::Value v;
  v.mutable_timestamp_value()->set_seconds(seconds);
  v.mutable_timestamp_value()->set_nanos(nanos);
  if (offset_minutes) v.mutable_timestamp_value()->set_utc_offset_minutes(*offset_minutes);
  return v;
}

class TimeZoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("FACHADAPTER_TEST_PG_DSN");
    if (!base || !*base) {
      GTEST_SKIP() << "FACHADAPTER_TEST_PG_DSN is not set: no PostgreSQL server (scripts/test-servers.sh starts one)";
    }
    db_ = UniqueName("fa_tz");
    server_ = std::make_unique<RawConnection>(base);
    server_->Exec("CREATE DATABASE " + db_);
    server_->Exec("ALTER DATABASE " + db_ + " SET TimeZone = 'America/St_Johns'");
    std::string cs = WithKey(base, "Database", db_);
    raw_ = std::make_unique<RawConnection>(cs);
    ASSERT_EQ(raw_->Text("SHOW TimeZone"), "America/St_Johns");
    raw_->Exec("CREATE TABLE termin (id INTEGER PRIMARY KEY, beginn TIMESTAMP(3) WITH TIME ZONE, "
               "ortszeit TIMESTAMP(3))");
    raw_->Exec("INSERT INTO termin VALUES (1, '2024-06-01 12:00:00.5+02', '2024-06-01 12:00:00.5')");
    raw_->Exec("INSERT INTO termin VALUES (2, '2024-01-15 23:30:00+00', NULL)");
    plugin_ = std::make_unique<Plugin>((PluginDir() / "fachadapter_connector_odbc.so").string());
    google::protobuf::Struct s;
    (*s.mutable_fields())["connection_string"].set_string_value(cs);
    auto r = Instance::Open(*plugin_, s);
    ASSERT_TRUE(r.ok()) << r.error.message();
    inst_ = std::move(r.response);
  }
  void TearDown() override {
    inst_.reset();
    raw_.reset();
    if (server_) server_->Exec("DROP DATABASE " + db_ + " WITH (FORCE)");
  }

  std::vector<int64_t> Ids(const v1::Filter& filter) {
    cv1::ScanRequest req;
    req.set_entity("termin");
    req.add_fields("id");
    req.add_order()->set_field("id");
    *req.mutable_filter() = filter;
    auto r = inst_->Scan(req);
    EXPECT_TRUE(r.ok()) << r.error.message();
    std::vector<int64_t> ids;
    for (const auto& rec : r.records) ids.push_back(rec.values(0).int_value());
    return ids;
  }
  static v1::Filter Cond(v1::Operator op, v1::Value value) {
    v1::Filter f;
    f.mutable_field()->set_field("beginn");
    f.mutable_field()->set_op(op);
    *f.mutable_field()->mutable_value() = std::move(value);
    return f;
  }

  std::string db_;
  std::unique_ptr<RawConnection> server_, raw_;
  std::unique_ptr<Plugin> plugin_;
  std::unique_ptr<Instance> inst_;
};

TEST_F(TimeZoneTest, ReadsTheInstantWhateverTheSessionZone) {
  cv1::ScanRequest req;
  req.set_entity("termin");
  req.add_order()->set_field("id");
  auto r = inst_->Scan(req);
  ASSERT_TRUE(r.ok()) << r.error.message();
  ASSERT_EQ(r.records.size(), 2u);
  const v1::Timestamp& summer = r.records[0].values(1).timestamp_value();
  EXPECT_EQ(summer.seconds(), Epoch(2024, 6, 1, 10, 0, 0)) << summer.ShortDebugString();
  EXPECT_EQ(summer.nanos(), 500000000);
  ASSERT_TRUE(summer.has_utc_offset_minutes());
  EXPECT_EQ(summer.utc_offset_minutes(), 0);
  const v1::Timestamp& winter = r.records[1].values(1).timestamp_value();
  EXPECT_EQ(winter.seconds(), Epoch(2024, 1, 15, 23, 30, 0)) << winter.ShortDebugString();
  // Without zone: the wall-clock time as stored, no offset.
  const v1::Timestamp& local = r.records[0].values(2).timestamp_value();
  EXPECT_EQ(local.seconds(), Epoch(2024, 6, 1, 12, 0, 0));
  EXPECT_FALSE(local.has_utc_offset_minutes());
  // The raw session really is not in UTC: it shows the summer instant at 07:30 local time.
  EXPECT_EQ(raw_->Text("SELECT to_char(beginn, 'HH24:MI') FROM termin WHERE id = 1"), "07:30");
}

TEST_F(TimeZoneTest, FiltersCompareInstants) {
  // The same instant, given in UTC, with +02:00, and as a value without offset (taken as UTC).
  EXPECT_EQ(Ids(Cond(v1::OPERATOR_EQ, Instant(Epoch(2024, 6, 1, 10, 0, 0), 500000000, 0))), std::vector<int64_t>{1});
  EXPECT_EQ(Ids(Cond(v1::OPERATOR_EQ, Instant(Epoch(2024, 6, 1, 10, 0, 0), 500000000, 120))), std::vector<int64_t>{1});
  EXPECT_EQ(Ids(Cond(v1::OPERATOR_EQ, Instant(Epoch(2024, 6, 1, 10, 0, 0), 500000000, std::nullopt))),
            std::vector<int64_t>{1});
  EXPECT_EQ(Ids(Cond(v1::OPERATOR_LT, Instant(Epoch(2024, 1, 15, 23, 30, 1), 0, 0))), std::vector<int64_t>{2});
  EXPECT_EQ(Ids(Cond(v1::OPERATOR_GE, Instant(Epoch(2024, 1, 15, 23, 30, 0), 0, -210))), (std::vector<int64_t>{1, 2}));
}

TEST_F(TimeZoneTest, WritesTheInstant) {
  cv1::InsertRequest ins;
  ins.set_entity("termin");
  *ins.add_values() = FV("id", Int(3));
  // 2024-03-31 01:30 UTC, recorded in Berlin (+02:00 after the switch that night).
  *ins.add_values() = FV("beginn", Instant(Epoch(2024, 3, 31, 1, 30, 0), 250000000, 120));
  auto r = inst_->Insert(ins);
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(raw_->Text("SELECT to_char(beginn AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') FROM termin WHERE id = 3"),
            "2024-03-31 01:30:00.250");
  const v1::Timestamp& back = r.response.record().values(1).timestamp_value();
  EXPECT_EQ(back.seconds(), Epoch(2024, 3, 31, 1, 30, 0));
  EXPECT_EQ(back.nanos(), 250000000);

  // An update with the etag: the guard compares the zoned column with what was read.
  cv1::UpdateRequest up;
  up.set_entity("termin");
  *up.add_key() = FV("id", Int(1));
  up.set_etag(r.response.record().etag());  // wrong row's etag: must be refused
  *up.add_values() = FV("beginn", Instant(Epoch(2025, 1, 1, 0, 0, 0), 0, 0));
  EXPECT_EQ(inst_->Update(up).code, 10);
  cv1::ScanRequest get;
  get.set_entity("termin");
  auto* f = get.mutable_filter()->mutable_field();
  f->set_field("id");
  f->set_op(v1::OPERATOR_EQ);
  *f->mutable_value() = Int(1);
  auto row = inst_->Scan(get);
  ASSERT_TRUE(row.ok() && row.records.size() == 1u) << row.error.message();
  up.set_etag(row.records[0].etag());
  auto updated = inst_->Update(up);
  ASSERT_TRUE(updated.ok()) << updated.error.message();
  EXPECT_EQ(updated.response.record().values(1).timestamp_value().seconds(), Epoch(2025, 1, 1, 0, 0, 0));
  EXPECT_EQ(raw_->Text("SELECT to_char(beginn, 'YYYY-MM-DD HH24:MI') FROM termin WHERE id = 1"), "2024-12-31 20:30")
      << "St. John's local time of the instant";
}

}  // namespace
}  // namespace fachadapter::testing
