// One conformance suite for the ODBC connector, run against every back end it supports: a
// SQLite file (SQLite3 ODBC driver), a PostgreSQL server (psqlODBC) and a MariaDB server
// (MariaDB Connector/ODBC). The plugin is driven through its real C ABI.
//
// The servers are found through FACHADAPTER_TEST_PG_DSN and FACHADAPTER_TEST_MARIADB_DSN
// (ODBC connection strings of a database the user may create databases from; see
// scripts/test-servers.sh, which CI runs). Without them those back ends skip with a message.
// Each test works in a database of its own (created and dropped here), so that CTest may run
// the tests in parallel against one server.
#include <gtest/gtest.h>
#include <sql.h>
#include <sqlext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "fachadapter/connector/abi.h"
#include "fachadapter/filter_evaluator.h"
#include "fachadapter/values.h"
#include "heap_usage.h"
#include "plugin_client.h"
#include "raw_odbc.h"
#include "test_database.h"
#include "test_util.h"

namespace fachadapter::testing {
namespace {

// ---- Values and filters: test_values.h ----------------------------------------------------


// ---- Back ends (test_database.h) -------------------------------------------------------------

// The same logical schema in each back end's types. SQLite keeps only 15 significant digits
// in a column of NUMERIC affinity; a SQLite store that keeps exact amounts declares them with
// text affinity ("DECIMAL TEXT(30,10)" is a DECIMAL to the connector and text to SQLite).
struct Types {
  const char* serial_key;  // auto-generated integer primary key
  const char* exact;       // DECIMAL(30,10)
  const char* timestamp;
  const char* boolean;
  const char* dbl;
  const char* blob;
  const char* clob;
};

Types TypesOf(Backend b) {
  switch (b) {
    case Backend::kSqlite:
      return {"INTEGER PRIMARY KEY", "DECIMAL TEXT(30,10)", "TIMESTAMP", "BOOLEAN", "DOUBLE", "BLOB", "TEXT"};
    case Backend::kPostgres:
      return {"SERIAL PRIMARY KEY", "NUMERIC(30,10)", "TIMESTAMP(3)", "BOOLEAN", "DOUBLE PRECISION", "BYTEA",
              "TEXT"};
    case Backend::kMariaDb:
      // MariaDB's BOOLEAN is TINYINT(1), which ODBC reports as TINYINT (an int64 raw value);
      // BIT(1) is the type that ODBC reports as a boolean.
      return {"INTEGER AUTO_INCREMENT PRIMARY KEY", "DECIMAL(30,10)", "DATETIME(3)", "BIT(1)", "DOUBLE",
              "LONGBLOB", "LONGTEXT"};
  }
  return {};
}

std::vector<std::string> Schema(Backend b) {
  Types t = TypesOf(b);
  std::string blob1 = b == Backend::kPostgres ? "'\\x00ff10'::bytea" : "X'00FF10'";
  std::string t1 = b == Backend::kSqlite ? "1" : "TRUE";
  std::string f0 = b == Backend::kSqlite ? "0" : "FALSE";
  std::string time = b == Backend::kSqlite ? "TIME" : b == Backend::kPostgres ? "TIME(3)" : "TIME(3)";
  std::vector<std::string> s = {
      std::string("CREATE TABLE betrieb (id INTEGER PRIMARY KEY, name VARCHAR(60) NOT NULL, ort VARCHAR(40), ") +
          "umsatz DECIMAL(12,2), betrag " + t.exact + ", gruendung DATE, pruefung " + t.timestamp +
          ", oeffnet " + time + ", aktiv " + t.boolean + ", bewertung " + t.dbl + ", logo " + t.blob +
          ", notiz " + t.clob + ", kz CHAR(4))",
      "INSERT INTO betrieb VALUES (1, 'Bäckerei Schmidt', 'Berlin', 1234.50, "
      "'12345678901234567890.0123456789', '2019-04-01', '2024-02-29 13:45:10.123', '08:30:00', " + t1 +
          ", 4.5, " + blob1 + ", 'Notiz eins', 'AB')",
      "INSERT INTO betrieb VALUES (2, 'Metzgerei Müller', 'Hamburg', 99.99, '-0.0000000001', '2001-12-31', "
      "'2023-01-01 00:00:00', '06:00:00', " + f0 + ", NULL, NULL, NULL, 'ABCD')",
      "INSERT INTO betrieb VALUES (3, 'Café 100%_sicher', NULL, NULL, NULL, NULL, NULL, NULL, " + t1 +
          ", 3.25, NULL, NULL, NULL)",
      "INSERT INTO betrieb VALUES (4, 'O''Reilly & Söhne', 'Berlin', 0.10, NULL, '1999-01-15', NULL, "
      "'17:45:30.5', NULL, 2.0, NULL, NULL, NULL)",
      "INSERT INTO betrieb VALUES (5, 'Café 1000 sicher', 'München', 5000.00, NULL, '2010-06-30', "
      "'2020-05-05 05:05:05', '09:00:00', " + f0 + ", 1.0, NULL, NULL, NULL)",
      "INSERT INTO betrieb VALUES (6, 'back\\slash', 'Köln', 10, NULL, '2015-03-03', NULL, NULL, " + t1 +
          ", NULL, NULL, NULL, NULL)",
      "CREATE VIEW aktive_betriebe AS SELECT id, name FROM betrieb WHERE aktiv = " + t1,
      std::string("CREATE TABLE vorgang (nr ") + t.serial_key + ", titel VARCHAR(80) NOT NULL, betrag " +
          t.exact + ")",
      "CREATE TABLE kennzahl (jahr INTEGER NOT NULL, bezirk CHAR(4) NOT NULL, wert NUMERIC(20,2), "
      "PRIMARY KEY (bezirk, jahr))",
      "INSERT INTO kennzahl VALUES (2023, 'MITT', 10.5)",
      "INSERT INTO kennzahl VALUES (2024, 'MITT', 11.25)",
      "INSERT INTO kennzahl VALUES (2024, 'PANK', NULL)",
      "CREATE TABLE zahl (n INTEGER PRIMARY KEY, text VARCHAR(20) NOT NULL)",
  };
  // MariaDB: backslash is an escape in string literals unless NO_BACKSLASH_ESCAPES.
  if (b == Backend::kMariaDb) s[6] = std::regex_replace(s[6], std::regex("back\\\\slash"), "back\\\\slash");
  if (b == Backend::kPostgres) {
    s.push_back("CREATE TABLE zeitpunkt (id INTEGER PRIMARY KEY, mit_zone TIMESTAMP(3) WITH TIME ZONE)");
    s.push_back("INSERT INTO zeitpunkt VALUES (1, '2024-06-01 12:00:00.5+02')");
  }
  std::string zahl = "INSERT INTO zahl VALUES ";
  for (int i = 1; i <= 2500; ++i) {
    zahl += (i > 1 ? ",(" : "(") + std::to_string(i) + ", 'Zahl " + std::to_string(i) + "')";
  }
  s.push_back(zahl);
  return s;
}

std::string PluginPath() { return (PluginDir() / "fachadapter_connector_odbc.so").string(); }

class ConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  static void SetUpTestSuite() { plugin_ = new Plugin(PluginPath()); }
  static void TearDownTestSuite() {
    delete plugin_;
    plugin_ = nullptr;
  }

  void SetUp() override {
    db_ = std::make_unique<TestDatabase>(GetParam(), dir_.path(), "fa_t");
    if (!db_->unavailable().empty()) GTEST_SKIP() << db_->unavailable();
    connection_string_ = db_->connection_string();
    raw_ = std::make_unique<RawConnection>(connection_string_);
    for (const auto& sql : Schema(GetParam())) raw_->Exec(sql);
    Open();
  }

  void TearDown() override {
    inst_.reset();
    raw_.reset();
    db_.reset();
  }

  void Open(int batch_size = 1000) {
    auto r = TryOpen("{}", batch_size);
    ASSERT_TRUE(r.ok()) << r.error.message();
    inst_ = std::move(r.response);
  }

  // Opens an instance with the settings of `json` (a JSON object, as the core hands over the
  // YAML) besides the connection string and batch size.
  Reply<std::unique_ptr<Instance>> TryOpen(const std::string& json, int batch_size = 1000) {
    google::protobuf::Struct s;
    auto parsed = google::protobuf::util::JsonStringToMessage(json, &s);
    EXPECT_TRUE(parsed.ok()) << json;
    (*s.mutable_fields())["connection_string"].set_string_value(connection_string_);
    (*s.mutable_fields())["batch_size"].set_number_value(batch_size);
    return Instance::Open(*plugin_, s);
  }

  // Replaces the instance with one opened with the extra settings of `json`.
  void OpenWith(const std::string& json) {
    inst_.reset();
    auto r = TryOpen(json);
    ASSERT_TRUE(r.ok()) << r.error.message();
    inst_ = std::move(r.response);
  }

  Backend backend() const { return GetParam(); }

  Instance::ScanResult ScanAll(const std::string& entity, const v1::Filter* filter = nullptr) {
    cv1::ScanRequest req;
    req.set_entity(entity);
    if (filter) *req.mutable_filter() = *filter;
    return inst_->Scan(req);
  }

  std::vector<int64_t> Ids(const v1::Filter& filter) {
    cv1::ScanRequest req;
    req.set_entity("betrieb");
    *req.mutable_filter() = filter;
    req.add_fields("id");
    auto r = inst_->Scan(req);
    EXPECT_TRUE(r.ok()) << r.error.message();
    std::vector<int64_t> ids;
    for (const auto& rec : r.records) ids.push_back(rec.values(0).int_value());
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  std::vector<int64_t> IdsInMemory(const v1::Filter& filter) {
    auto all = ScanAll("betrieb");
    EXPECT_TRUE(all.ok()) << all.error.message();
    auto ev = FilterEvaluator::Compile(filter, all.fields);
    EXPECT_TRUE(ev.ok()) << ev.status().message();
    std::vector<int64_t> ids;
    for (const auto& rec : all.records) {
      if (ev->Matches(rec)) ids.push_back(rec.values(0).int_value());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  static Plugin* plugin_;
  TempDir dir_;
  std::unique_ptr<TestDatabase> db_;
  std::string connection_string_;
  std::unique_ptr<RawConnection> raw_;     // to the test's database
  std::unique_ptr<Instance> inst_;
};

Plugin* ConformanceTest::plugin_ = nullptr;

const cv1::RawField* FindField(const cv1::RawEntity& e, const std::string& name) {
  for (const auto& f : e.fields()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

int FieldIndex(const std::vector<std::string>& fields, const std::string& name) {
  auto it = std::find(fields.begin(), fields.end(), name);
  return it == fields.end() ? -1 : static_cast<int>(it - fields.begin());
}

// ---- Discovery -------------------------------------------------------------------------------

TEST_P(ConformanceTest, DescribeDiscoversTablesViewsTypesAndKeys) {
  auto r = inst_->Describe(cv1::DescribeRequest());
  ASSERT_TRUE(r.ok()) << r.error.message();
  std::map<std::string, cv1::RawEntity> by_name;
  for (const auto& e : r.response.entities()) by_name[e.name()] = e;
  ASSERT_TRUE(by_name.count("betrieb"));
  ASSERT_TRUE(by_name.count("aktive_betriebe"));
  ASSERT_TRUE(by_name.count("kennzahl"));
  ASSERT_TRUE(by_name.count("vorgang"));

  const cv1::RawEntity& b = by_name["betrieb"];
  EXPECT_EQ(b.kind(), cv1::RAW_ENTITY_KIND_TABLE);
  EXPECT_TRUE(b.writable());
  ASSERT_EQ(b.primary_key_size(), 1);
  EXPECT_EQ(b.primary_key(0), "id");
  ASSERT_EQ(b.fields_size(), 13);
  EXPECT_EQ(b.fields(0).name(), "id");
  struct Expect { const char* name; v1::FieldType type; };
  for (auto [name, type] : {Expect{"id", v1::FIELD_TYPE_INT64}, Expect{"name", v1::FIELD_TYPE_STRING},
                            Expect{"umsatz", v1::FIELD_TYPE_DECIMAL}, Expect{"betrag", v1::FIELD_TYPE_DECIMAL},
                            Expect{"gruendung", v1::FIELD_TYPE_DATE}, Expect{"pruefung", v1::FIELD_TYPE_TIMESTAMP},
                            Expect{"oeffnet", v1::FIELD_TYPE_TIME}, Expect{"aktiv", v1::FIELD_TYPE_BOOL},
                            Expect{"bewertung", v1::FIELD_TYPE_DOUBLE}, Expect{"logo", v1::FIELD_TYPE_BYTES},
                            Expect{"notiz", v1::FIELD_TYPE_STRING}, Expect{"kz", v1::FIELD_TYPE_STRING}}) {
    const cv1::RawField* f = FindField(b, name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(f->type(), type) << name << " " << f->native_type();
  }
  EXPECT_FALSE(FindField(b, "name")->nullable());
  EXPECT_EQ(FindField(b, "name")->length(), 60);
  EXPECT_TRUE(FindField(b, "ort")->nullable());
  EXPECT_EQ(FindField(b, "umsatz")->precision(), 12);
  EXPECT_EQ(FindField(b, "umsatz")->scale(), 2);
  EXPECT_EQ(FindField(b, "betrag")->precision(), 30);
  EXPECT_EQ(FindField(b, "betrag")->scale(), 10);
  EXPECT_EQ(FindField(b, "kz")->length(), 4);

  EXPECT_TRUE(FindField(by_name["vorgang"], "nr")->auto_generated());

  const cv1::RawEntity& v = by_name["aktive_betriebe"];
  EXPECT_EQ(v.kind(), cv1::RAW_ENTITY_KIND_VIEW);
  EXPECT_FALSE(v.writable());
  EXPECT_EQ(v.fields_size(), 2);

  const cv1::RawEntity& k = by_name["kennzahl"];
  ASSERT_EQ(k.primary_key_size(), 2);
  EXPECT_EQ(k.primary_key(0), "bezirk");  // key order, not column order
  EXPECT_EQ(k.primary_key(1), "jahr");
}

TEST_P(ConformanceTest, HealthIsServing) {
  auto h = inst_->Health();
  ASSERT_TRUE(h.ok()) << h.error.message();
  EXPECT_TRUE(h.response.serving()) << h.response.detail();
}

// ---- Types -----------------------------------------------------------------------------------

TEST_P(ConformanceTest, ScanDeliversTypedRawValuesExactly) {
  auto r = ScanAll("betrieb");
  ASSERT_TRUE(r.ok()) << r.error.message();
  ASSERT_EQ(r.records.size(), 6u);
  auto row = [&](int64_t id) {
    for (const auto& rec : r.records) {
      if (rec.values(0).int_value() == id) return rec;
    }
    ADD_FAILURE() << "no row " << id;
    return v1::Record();
  };
  auto col = [&](const std::string& f) { return FieldIndex(r.fields, f); };
  v1::Record one = row(1);
  EXPECT_EQ(one.values(col("name")).string_value(), "Bäckerei Schmidt");
  EXPECT_EQ(one.values(col("umsatz")).decimal_value().value(), "1234.50");
  EXPECT_EQ(one.values(col("betrag")).decimal_value().value(), "12345678901234567890.0123456789");
  EXPECT_EQ(ValueToString(one.values(col("gruendung"))), "2019-04-01");
  EXPECT_EQ(ValueToString(one.values(col("pruefung"))), "2024-02-29T13:45:10.123000000");
  EXPECT_EQ(ValueToString(one.values(col("oeffnet"))), "08:30:00");
  EXPECT_TRUE(one.values(col("aktiv")).bool_value());
  EXPECT_EQ(one.values(col("bewertung")).double_value(), 4.5);
  EXPECT_EQ(one.values(col("logo")).bytes_value(), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(one.values(col("notiz")).string_value(), "Notiz eins");
  // Padded CHAR: raw values arrive as the DBMS stores them (PostgreSQL and SQLite keep the
  // padding, MariaDB strips it); trimming is the mapping layer's job. Either way no more
  // than the declared length, and the unpadded text compares equal in a filter.
  std::string kz = one.values(col("kz")).string_value();
  EXPECT_TRUE(kz == "AB" || kz == "AB  ") << "'" << kz << "'";
  EXPECT_EQ(Ids(Cond("kz", v1::OPERATOR_EQ, Str("AB"))), (std::vector<int64_t>{1}));
  EXPECT_EQ(row(2).values(col("kz")).string_value(), "ABCD");

  v1::Record two = row(2);
  EXPECT_EQ(two.values(col("betrag")).decimal_value().value(), "-0.0000000001");
  EXPECT_FALSE(two.values(col("aktiv")).bool_value());
  EXPECT_TRUE(IsNull(two.values(col("bewertung"))));
  EXPECT_TRUE(IsNull(two.values(col("logo"))));
  EXPECT_TRUE(IsNull(two.values(col("notiz"))));
  EXPECT_EQ(ValueToString(two.values(col("pruefung"))), "2023-01-01T00:00:00");
  EXPECT_EQ(row(4).values(col("umsatz")).decimal_value().value(), "0.10");
  EXPECT_EQ(row(6).values(col("umsatz")).decimal_value().value(), "10.00");
  EXPECT_EQ(ValueToString(row(4).values(col("oeffnet"))), "17:45:30.500000000");
  EXPECT_TRUE(IsNull(row(3).values(col("ort"))));
  EXPECT_TRUE(IsNull(row(4).values(col("aktiv"))));
  EXPECT_EQ(row(4).values(col("name")).string_value(), "O'Reilly & Söhne");
  EXPECT_EQ(row(6).values(col("name")).string_value(), "back\\slash");
}

TEST_P(ConformanceTest, TimestampWithZoneIsTheSameInstant) {
  if (backend() != Backend::kPostgres) GTEST_SKIP() << "only PostgreSQL has TIMESTAMP WITH TIME ZONE";
  auto r = ScanAll("zeitpunkt");
  ASSERT_TRUE(r.ok()) << r.error.message();
  ASSERT_EQ(r.records.size(), 1u);
  const v1::Value& v = r.records[0].values(1);
  ASSERT_TRUE(v.has_timestamp_value()) << v.ShortDebugString();
  // 2024-06-01 12:00:00.5+02 is 10:00:00.5 UTC; `seconds` is the instant whatever the offset
  // says (value.proto), and the connector delivers it with offset 0.
  EXPECT_EQ(v.timestamp_value().seconds(), Ts(2024, 6, 1, 10, 0, 0).timestamp_value().seconds())
      << v.ShortDebugString();
  ASSERT_TRUE(v.timestamp_value().has_utc_offset_minutes()) << v.ShortDebugString();
  EXPECT_EQ(v.timestamp_value().utc_offset_minutes(), 0);
  EXPECT_EQ(v.timestamp_value().nanos(), 500000000);
}

// ---- Filters, order, limit -------------------------------------------------------------------

TEST_P(ConformanceTest, EveryOperatorMatchesTheInMemoryEvaluator) {
  const std::vector<v1::Filter> filters = {
      Cond("name", v1::OPERATOR_EQ, Str("Bäckerei Schmidt")),
      Cond("ort", v1::OPERATOR_NE, Str("Berlin")),
      Cond("umsatz", v1::OPERATOR_LT, Dec("100")),
      Cond("umsatz", v1::OPERATOR_LE, Dec("99.99")),
      Cond("umsatz", v1::OPERATOR_GT, Int(99)),
      Cond("umsatz", v1::OPERATOR_GE, Dbl(1234.5)),
      Cond("betrag", v1::OPERATOR_LT, Dec("0")),
      Cond("betrag", v1::OPERATOR_EQ, Dec("12345678901234567890.0123456789")),
      Cond("bewertung", v1::OPERATOR_EQ, Int(2)),
      In("id", {Int(1), Int(3), Null()}),
      In("ort", {Str("Köln"), Str("München")}),
      Cond("name", v1::OPERATOR_PREFIX, Str("Café 100")),
      Cond("name", v1::OPERATOR_PREFIX, Str("Café 100%")),
      Cond("name", v1::OPERATOR_PREFIX, Str("café")),
      Cond("name", v1::OPERATOR_LIKE, Str("%sicher")),
      Cond("name", v1::OPERATOR_LIKE, Str("Café 100\\%%")),
      Cond("name", v1::OPERATOR_LIKE, Str("Caf_ 1000%")),
      Cond("name", v1::OPERATOR_LIKE, Str("b%")),
      Cond("name", v1::OPERATOR_LIKE, Str("back\\\\slash")),
      Cond("name", v1::OPERATOR_LIKE, Str("%!%")),
      Cond("ort", v1::OPERATOR_IS_NULL),
      Cond("ort", v1::OPERATOR_IS_NOT_NULL),
      Cond("aktiv", v1::OPERATOR_EQ, Bool(true)),
      Cond("aktiv", v1::OPERATOR_NE, Bool(true)),
      Cond("gruendung", v1::OPERATOR_GE, DateV(2005, 1, 1)),
      Cond("pruefung", v1::OPERATOR_LT, Ts(2023, 6, 1, 0, 0, 0)),
      Cond("oeffnet", v1::OPERATOR_LT, TimeV(9, 0, 0)),
      Cond("ort", v1::OPERATOR_EQ, Null()),
      And({Cond("ort", v1::OPERATOR_EQ, Str("Berlin")), Cond("umsatz", v1::OPERATOR_GT, Int(1))}),
      Or({Cond("ort", v1::OPERATOR_EQ, Str("Hamburg")), Cond("aktiv", v1::OPERATOR_IS_NULL)}),
      Not(Cond("ort", v1::OPERATOR_EQ, Str("Berlin"))),
      Not(Or({And({Cond("aktiv", v1::OPERATOR_EQ, Bool(true)), Cond("ort", v1::OPERATOR_NE, Str("Köln"))}),
              Cond("umsatz", v1::OPERATOR_IS_NULL)})),
  };
  for (const v1::Filter& f : filters) {
    EXPECT_EQ(Ids(f), IdsInMemory(f)) << f.ShortDebugString();
  }
  EXPECT_EQ(Ids(Cond("ort", v1::OPERATOR_NE, Str("Berlin"))), (std::vector<int64_t>{2, 5, 6}));
  EXPECT_EQ(Ids(In("id", {Int(1), Int(3), Null()})), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(Ids(Cond("name", v1::OPERATOR_PREFIX, Str("Café 100"))), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(Ids(Cond("name", v1::OPERATOR_PREFIX, Str("Café 100%_"))), (std::vector<int64_t>{3}));
  EXPECT_EQ(Ids(Cond("name", v1::OPERATOR_LIKE, Str("Café 100\\%%"))), (std::vector<int64_t>{3}));
  EXPECT_EQ(Ids(Cond("name", v1::OPERATOR_LIKE, Str("back\\\\slash"))), (std::vector<int64_t>{6}));
  EXPECT_EQ(Ids(Cond("name", v1::OPERATOR_PREFIX, Str("café"))), (std::vector<int64_t>{}));
  EXPECT_EQ(Ids(Cond("betrag", v1::OPERATOR_LT, Dec("0"))), (std::vector<int64_t>{2}));
  EXPECT_EQ(Ids(Cond("ort", v1::OPERATOR_IS_NULL)), (std::vector<int64_t>{3}));
  EXPECT_EQ(Ids(Cond("ort", v1::OPERATOR_EQ, Null())), (std::vector<int64_t>{}));
}

TEST_P(ConformanceTest, OrderPutsNullsFirstAscendingAndLastDescending) {
  cv1::ScanRequest req;
  req.set_entity("betrieb");
  req.add_fields("id");
  auto* key = req.add_order();
  key->set_field("ort");
  auto* tie = req.add_order();
  tie->set_field("id");
  auto asc = inst_->Scan(req);
  ASSERT_TRUE(asc.ok()) << asc.error.message();
  std::vector<int64_t> ids;
  for (const auto& rec : asc.records) ids.push_back(rec.values(0).int_value());
  EXPECT_EQ(ids, (std::vector<int64_t>{3, 1, 4, 2, 6, 5})) << "NULL, Berlin, Berlin, Hamburg, Köln, München";

  key->set_descending(true);
  auto desc = inst_->Scan(req);
  ASSERT_TRUE(desc.ok()) << desc.error.message();
  ids.clear();
  for (const auto& rec : desc.records) ids.push_back(rec.values(0).int_value());
  EXPECT_EQ(ids, (std::vector<int64_t>{5, 6, 2, 1, 4, 3}));
}

TEST_P(ConformanceTest, LimitAndBlockFetchAcrossBatches) {
  Open(/*batch_size=*/100);
  cv1::ScanRequest req;
  req.set_entity("zahl");
  req.add_order()->set_field("n");
  req.set_limit(777);
  auto r = inst_->Scan(req);
  ASSERT_TRUE(r.ok()) << r.error.message();
  ASSERT_EQ(r.records.size(), 777u);
  EXPECT_GE(r.batches.size(), 8u);
  for (size_t i = 0; i < r.records.size(); ++i) {
    ASSERT_EQ(r.records[i].values(0).int_value(), static_cast<int64_t>(i + 1));
  }
  req.set_limit(0);
  auto all = inst_->Scan(req);
  ASSERT_TRUE(all.ok()) << all.error.message();
  EXPECT_EQ(all.records.size(), 2500u);
  EXPECT_EQ(all.records.back().values(1).string_value(), "Zahl 2500");
}

// Past its first full block, a scan fetches the next block into a second set of buffers on
// another thread while it encodes the current one. Every row of every block must come out
// intact and in order whatever the block size, a scan left in mid-result (a block on its way)
// must leave its connection and statement fit for the next scan, and a result of one block
// never starts the thread.
TEST_P(ConformanceTest, FetchAheadKeepsEveryBlockIntact) {
  Open(/*batch_size=*/100);
  const char* kAhead = "odbc_scans_fetching_ahead";
  auto scan = [&](int batch_size, int64_t limit = 0) {
    cv1::ScanRequest req;
    req.set_entity("zahl");
    req.add_order()->set_field("n");
    req.set_batch_size(batch_size);
    req.set_limit(limit);
    return req;
  };
  auto expect_rows = [](const Instance::ScanResult& r, size_t count, const std::string& what) {
    ASSERT_TRUE(r.ok()) << what << ": " << r.error.message();
    ASSERT_EQ(r.records.size(), count) << what;
    for (size_t i = 0; i < count; ++i) {
      const int64_t n = static_cast<int64_t>(i + 1);
      ASSERT_EQ(r.records[i].values(0).int_value(), n) << what << ", row " << i;
      ASSERT_EQ(r.records[i].values(1).string_value(), "Zahl " + std::to_string(n)) << what << ", row " << i;
    }
  };

  // One block (2500 rows fit one fetch of 5000): no thread.
  expect_rows(inst_->Scan(scan(5000)), 2500, "one block");
  EXPECT_EQ(inst_->counter(kAhead), 0);

  int64_t ahead = 0;
  for (int batch : {2, 7, 100, 999, 2500}) {
    expect_rows(inst_->Scan(scan(batch)), 2500, "blocks of " + std::to_string(batch));
    EXPECT_EQ(inst_->counter(kAhead), ++ahead) << "blocks of " << batch;
  }
  // Limits ending inside a block, at a block's end and after a full last block.
  expect_rows(inst_->Scan(scan(7, 250)), 250, "limit 250 in blocks of 7");
  expect_rows(inst_->Scan(scan(10, 250)), 250, "limit 250 in blocks of 10");
  expect_rows(inst_->Scan(scan(100, 2500)), 2500, "limit 2500 in blocks of 100");

  // Left after two batches, with the third block on its way, a few times over: each time the
  // pooled connection and its cached statement serve the next scan from the first row.
  for (int round = 0; round < 3; ++round) {
    auto part = inst_->Scan(scan(7), nullptr, /*max_batches=*/2);
    ASSERT_TRUE(part.ok()) << part.error.message();
    ASSERT_EQ(part.records.size(), 14u);
    expect_rows(inst_->Scan(scan(7)), 2500, "after a scan left in mid-result");
  }
  // Cancelled by the client in mid-result: CANCELLED, then the next scan is whole.
  TestCallContext ctx;
  auto cancelled = inst_->Scan(scan(7), &ctx, 100000, /*cancel_after_batches=*/3);
  EXPECT_EQ(cancelled.code, 1) << cancelled.error.message();  // CANCELLED
  expect_rows(inst_->Scan(scan(7)), 2500, "after a cancelled scan");

  // Turned off by the operator: block after block on the scan's own thread.
  OpenWith(R"({"fetch_ahead": false})");
  expect_rows(inst_->Scan(scan(7)), 2500, "blocks of 7 without fetching ahead");
  EXPECT_EQ(inst_->counter(kAhead), 0);
}

// A result far larger than the bound: a driver that reads the whole result into memory
// (psqlODBC without UseDeclareFetch, MariaDB without NO_CACHE, SQLite without StepAPI) makes
// the process grow by about its size; a streaming one by a few batches. MariaDB's driver
// (Connector/ODBC 3.1.15) cannot stream: there the scan runs in chunks by default (automatic
// chunk size, chunked_scan.h), each chunk a bounded statement.
TEST_P(ConformanceTest, LargeResultStreamsInConstantMemory) {
  constexpr int kRows = 200000;
  constexpr int kWidth = 300;  // characters of text per row: about 60 MB of text in all
  raw_->Exec("CREATE TABLE gross (n INTEGER PRIMARY KEY, text VARCHAR(400) NOT NULL)");
  switch (backend()) {
    case Backend::kSqlite:
      raw_->Exec("INSERT INTO gross WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " +
                 std::to_string(kRows) + ") SELECT x, hex(zeroblob(" + std::to_string(kWidth / 2) + ")) FROM c");
      break;
    case Backend::kPostgres:
      raw_->Exec("INSERT INTO gross SELECT g, repeat('0', " + std::to_string(kWidth) +
                 ") FROM generate_series(1, " + std::to_string(kRows) + ") g");
      break;
    case Backend::kMariaDb:
      raw_->Exec("INSERT INTO gross SELECT seq, REPEAT('0', " + std::to_string(kWidth) + ") FROM seq_1_to_" +
                 std::to_string(kRows));
      break;
  }
  ASSERT_EQ(raw_->Count("SELECT count(*) FROM gross"), kRows);
  Open(/*batch_size=*/1000);

  cv1::ScanRequest req;
  req.set_entity("gross");
  // With a bound parameter too, except on SQLite: its ODBC driver reads the whole result of a
  // statement with parameters, StepAPI=1 or not (see the connector's README).
  if (backend() != Backend::kSqlite) *req.mutable_filter() = Cond("n", v1::OPERATOR_GT, Int(0));
  int64_t base = HeapInUseKiB();
  ASSERT_GT(base, 0);
  int64_t peak = base, rows = 0, last = 0;
  bool ordered = true;
  cv1::Error error;
  int32_t code = inst_->ScanEach(
      req,
      [&](const cv1::ScanBatch& b) {
        for (const auto& rec : b.batch().records()) {
          ordered = ordered && rec.values(0).int_value() > 0 && rec.values(1).string_value().size() == kWidth;
          last = rec.values(0).int_value();
          ++rows;
        }
        peak = std::max(peak, HeapInUseKiB());
      },
      &error);
  ASSERT_EQ(code, 0) << error.message();
  EXPECT_EQ(rows, kRows);
  EXPECT_TRUE(ordered);
  EXPECT_GT(last, 0);
  // The whole result is about 60 MB of text (more as driver rows); streaming stays within a
  // few 1000-row batches (well under 1 MB each) plus allocator slack.
  EXPECT_LT(peak - base, 20 * 1024) << "grew by " << (peak - base) << " KiB while streaming " << kRows
                                     << " rows of " << kWidth << " characters; connector log: "
                                     << [&] {
                                          std::string all;
                                          for (const auto& line : inst_->log()) all += line + "\n";
                                          return all;
                                        }();
}

// ---- Writes ----------------------------------------------------------------------------------

TEST_P(ConformanceTest, InsertReturnsTheStoredRowWithExactValues) {
  cv1::InsertRequest ins;
  ins.set_entity("betrieb");
  *ins.add_values() = FV("id", Int(7));
  *ins.add_values() = FV("name", Str("Neu GmbH"));
  *ins.add_values() = FV("betrag", Dec("98765432109876543210.9876543210"));
  *ins.add_values() = FV("umsatz", Int(42));
  *ins.add_values() = FV("gruendung", DateV(2024, 2, 29));
  *ins.add_values() = FV("pruefung", Ts(2024, 3, 1, 23, 59, 58, 250000000));
  *ins.add_values() = FV("oeffnet", TimeV(7, 15, 0));
  *ins.add_values() = FV("aktiv", Bool(true));
  *ins.add_values() = FV("bewertung", Dbl(0.1));
  std::string blob(20000, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 7);
  *ins.add_values() = FV("logo", Bytes(blob));
  *ins.add_values() = FV("notiz", Str(std::string(10000, 'n') + "ß"));
  *ins.add_values() = FV("kz", Str("XY"));
  auto r = inst_->Insert(ins);
  ASSERT_TRUE(r.ok()) << r.error.message();
  const auto& rec = r.response.record();
  std::vector<std::string> fields(r.response.fields().begin(), r.response.fields().end());
  auto col = [&](const std::string& f) { return FieldIndex(fields, f); };
  EXPECT_EQ(rec.values(col("id")).int_value(), 7);
  EXPECT_FALSE(rec.etag().empty());
  EXPECT_EQ(rec.values(col("betrag")).decimal_value().value(), "98765432109876543210.9876543210");
  EXPECT_EQ(rec.values(col("umsatz")).decimal_value().value(), "42.00");
  EXPECT_EQ(ValueToString(rec.values(col("gruendung"))), "2024-02-29");
  EXPECT_EQ(ValueToString(rec.values(col("pruefung"))), "2024-03-01T23:59:58.250000000");
  EXPECT_EQ(ValueToString(rec.values(col("oeffnet"))), "07:15:00");
  EXPECT_TRUE(rec.values(col("aktiv")).bool_value());
  EXPECT_EQ(rec.values(col("bewertung")).double_value(), 0.1);
  EXPECT_EQ(rec.values(col("logo")).bytes_value(), blob);
  EXPECT_EQ(rec.values(col("notiz")).string_value(), std::string(10000, 'n') + "ß");

  cv1::ScanRequest req;
  req.set_entity("betrieb");
  req.set_with_etag(true);
  req.add_fields("name");
  *req.mutable_filter() = Cond("id", v1::OPERATOR_EQ, Int(7));
  auto s = inst_->Scan(req);
  ASSERT_TRUE(s.ok()) << s.error.message();
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_EQ(s.records[0].etag(), rec.etag());
}

TEST_P(ConformanceTest, InsertReadsTheGeneratedKey) {
  cv1::InsertRequest ins;
  ins.set_entity("vorgang");
  *ins.add_values() = FV("titel", Str("erster"));
  auto a = inst_->Insert(ins);
  ASSERT_TRUE(a.ok()) << a.error.message();
  ins.clear_values();
  *ins.add_values() = FV("titel", Str("zweiter"));
  *ins.add_values() = FV("betrag", Dec("0.5"));
  auto b = inst_->Insert(ins);
  ASSERT_TRUE(b.ok()) << b.error.message();
  int64_t first = a.response.record().values(0).int_value();
  int64_t second = b.response.record().values(0).int_value();
  EXPECT_GT(first, 0);
  EXPECT_EQ(second, first + 1);
  EXPECT_EQ(b.response.record().values(1).string_value(), "zweiter");
  EXPECT_EQ(b.response.record().values(2).decimal_value().value(), "0.5000000000");
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM vorgang"), 2);
}

TEST_P(ConformanceTest, IdempotentInsertReplaysOnceAndRejectsAnotherPayload) {
  cv1::InsertRequest ins;
  ins.set_entity("vorgang");
  ins.set_idempotency_key("antrag-2024-0001");
  ins.set_request_hash("hash-a");
  *ins.add_values() = FV("titel", Str("einmalig"));
  auto first = inst_->Insert(ins);
  ASSERT_TRUE(first.ok()) << first.error.message();
  EXPECT_FALSE(first.response.replayed());
  auto again = inst_->Insert(ins);
  ASSERT_TRUE(again.ok()) << again.error.message();
  EXPECT_TRUE(again.response.replayed());
  EXPECT_EQ(again.response.record().SerializeAsString(), first.response.record().SerializeAsString());
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM vorgang"), 1);

  ins.set_request_hash("hash-b");
  auto other = inst_->Insert(ins);
  EXPECT_EQ(other.code, 9) << other.error.message();  // FAILED_PRECONDITION
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM vorgang"), 1);

  // The idempotency table survives a new instance (it was created by the first).
  inst_.reset();
  Open();
  ins.set_request_hash("hash-a");
  auto after = inst_->Insert(ins);
  ASSERT_TRUE(after.ok()) << after.error.message();
  EXPECT_TRUE(after.response.replayed());
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM vorgang"), 1);
}

TEST_P(ConformanceTest, UpdateAndDeleteCheckTheEtag) {
  cv1::ScanRequest get;
  get.set_entity("betrieb");
  get.set_with_etag(true);
  *get.mutable_filter() = Cond("id", v1::OPERATOR_EQ, Int(1));
  auto before = inst_->Scan(get);
  ASSERT_TRUE(before.ok() && before.records.size() == 1) << before.error.message();
  std::string etag = before.records[0].etag();

  cv1::UpdateRequest up;
  up.set_entity("betrieb");
  *up.add_key() = FV("id", Int(1));
  *up.add_values() = FV("umsatz", Dec("2000.01"));
  *up.add_values() = FV("ort", Null());
  up.set_etag(etag);
  auto u = inst_->Update(up);
  ASSERT_TRUE(u.ok()) << u.error.message();
  EXPECT_NE(u.response.record().etag(), etag);

  auto stale = inst_->Update(up);
  EXPECT_EQ(stale.code, 10) << stale.error.message();  // ABORTED
  EXPECT_EQ(stale.error.reason(), "ETAG_MISMATCH");

  auto after = inst_->Scan(get);
  ASSERT_TRUE(after.ok() && after.records.size() == 1);
  auto col = [&](const std::string& f) { return FieldIndex(after.fields, f); };
  EXPECT_EQ(after.records[0].values(col("umsatz")).decimal_value().value(), "2000.01");
  EXPECT_TRUE(IsNull(after.records[0].values(col("ort"))));
  EXPECT_EQ(after.records[0].etag(), u.response.record().etag());

  cv1::DeleteRequest del;
  del.set_entity("betrieb");
  *del.add_key() = FV("id", Int(1));
  del.set_etag(etag);
  auto d = inst_->Delete(del);
  EXPECT_EQ(d.code, 10) << d.error.message();
  del.set_etag(u.response.record().etag());
  d = inst_->Delete(del);
  ASSERT_TRUE(d.ok()) << d.error.message();
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM betrieb"), 5);
  d = inst_->Delete(del);
  EXPECT_EQ(d.code, 5) << d.error.message();  // NOT_FOUND
}

// ---- Pushdown: what the database hands over ------------------------------------------------

// A selective filter and a limit must reach the database: the connector's own counter of
// rows fetched from the driver (the host metric odbc_rows_fetched) sees only the matching
// rows, and on PostgreSQL the table's statistics show the server read no more either.
TEST_P(ConformanceTest, SelectiveQueryFetchesOnlyTheMatchingRows) {
  raw_->Exec("CREATE TABLE gross (id INTEGER PRIMARY KEY, gemeinde CHAR(5) NOT NULL, wert INTEGER)");
  raw_->Exec("CREATE INDEX gross_gemeinde ON gross (gemeinde)");
  for (int block = 0; block < 20; ++block) {
    std::string sql = "INSERT INTO gross VALUES ";
    for (int i = 0; i < 1000; ++i) {
      int id = block * 1000 + i + 1;
      // Gemeinde G0007 holds ids 7, 10007 and 19007 only; the others share the rest.
      std::string g = (id == 7 || id == 10007 || id == 19007) ? "G0007" : "G" + std::to_string(1000 + id % 97);
      sql += (i ? ",(" : "(") + std::to_string(id) + ", '" + g + "', " + std::to_string(id % 13) + ")";
    }
    raw_->Exec(sql);
  }
  if (backend() == Backend::kPostgres) raw_->Exec("ANALYZE gross");
  ASSERT_EQ(raw_->Count("SELECT count(*) FROM gross"), 20000);

  // What PostgreSQL's scans of `gross` produced (rows read by sequential and index scans). A
  // backend reports its statistics when it ends at the latest: close the instance and wait
  // (bounded) until its connections are gone.
  auto pg_rows_read = [&]() -> int64_t {
    inst_.reset();
    for (int i = 0; i < 200; ++i) {
      if (raw_->Count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                      "pid <> pg_backend_pid()") == 0) {
        break;
      }
      usleep(50 * 1000);
    }
    return raw_->Count("SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) FROM pg_stat_user_tables "
                       "WHERE relname = 'gross'");
  };
  int64_t pg_before = backend() == Backend::kPostgres ? pg_rows_read() : 0;
  if (backend() == Backend::kPostgres) Open();

  cv1::ScanRequest req;
  req.set_entity("gross");
  *req.mutable_filter() = Cond("gemeinde", v1::OPERATOR_EQ, Str("G0007"));
  req.add_order()->set_field("id");
  auto r = inst_->Scan(req);
  ASSERT_TRUE(r.ok()) << r.error.message();
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[2].values(0).int_value(), 19007);
  EXPECT_EQ(inst_->counter("odbc_rows_fetched"), 3);

  cv1::ScanRequest limited;
  limited.set_entity("gross");
  limited.add_order()->set_field("id");
  limited.set_limit(5);
  auto l = inst_->Scan(limited);
  ASSERT_TRUE(l.ok()) << l.error.message();
  ASSERT_EQ(l.records.size(), 5u);
  EXPECT_EQ(l.records[4].values(0).int_value(), 5);
  EXPECT_EQ(inst_->counter("odbc_rows_fetched"), 3 + 5);

  // The limit went into the SQL, in the syntax the DBMS accepted when probed: SQLite has no
  // FETCH FIRST; MariaDB lists LIMIT in SQL_KEYWORDS; PostgreSQL takes the standard's. On
  // MariaDB the unbounded scan is a chunked one (scan_chunk_rows, on by default for its
  // driver), whose one statement carries LIMIT 50000 too.
  EXPECT_EQ(inst_->counter("odbc_scans_limited_in_sql"), backend() == Backend::kMariaDb ? 2 : 1);
  std::string clause = backend() == Backend::kPostgres ? "as 'FETCH FIRST n ROWS ONLY'" : "as 'LIMIT n'";
  bool logged = false;
  for (const std::string& line : inst_->log()) logged = logged || line.find(clause) != std::string::npos;
  EXPECT_TRUE(logged) << "the source did not log that limits go into the SQL " << clause;

  if (backend() == Backend::kPostgres) {
    // 3 rows through the index, 5 for the limit (a limit the server did not know would have
    // read a whole fetch block of 1000 rows through psqlODBC's cursor).
    int64_t read = pg_rows_read() - pg_before;
    EXPECT_GE(read, 8);
    EXPECT_LE(read, 12) << "rows read by PostgreSQL";
    std::printf("PostgreSQL read %lld rows of gross for the two scans\n", static_cast<long long>(read));
  }
}

// ---- Configured entities: views with keys, named queries -----------------------------------

constexpr const char* kNamedQuery = R"({
  "views": {"aktive_betriebe": {"key": ["id"]}},
  "queries": {
    "betriebe_im_ort": {
      "sql": "SELECT id, name, umsatz, gruendung FROM betrieb -- the rows of one place\n WHERE ort = :ort AND umsatz >= :mindest;",
      "parameters": {"ort": "string", "mindest": "decimal"},
      "key": ["id"]
    },
    "zahlen_bis": {
      "sql": "SELECT n, text FROM zahl WHERE n <= :bis AND text <> 'a:b'",
      "parameters": {"bis": "int64"},
      "key": ["n"]
    }
  }
})";

TEST_P(ConformanceTest, NamedQueryIsAReadOnlyEntityWithParameterFields) {
  OpenWith(kNamedQuery);
  auto d = inst_->Describe(cv1::DescribeRequest());
  ASSERT_TRUE(d.ok()) << d.error.message();
  std::map<std::string, cv1::RawEntity> by_name;
  for (const auto& e : d.response.entities()) by_name[e.name()] = e;
  ASSERT_TRUE(by_name.count("betriebe_im_ort"));
  const cv1::RawEntity& q = by_name["betriebe_im_ort"];
  EXPECT_EQ(q.kind(), cv1::RAW_ENTITY_KIND_QUERY);
  EXPECT_FALSE(q.writable());
  ASSERT_EQ(q.primary_key_size(), 1);
  EXPECT_EQ(q.primary_key(0), "id");
  std::vector<std::string> names;
  for (const auto& f : q.fields()) names.push_back(f.name());
  // Result columns, then the parameters in the order the SQL uses them.
  EXPECT_EQ(names, (std::vector<std::string>{"id", "name", "umsatz", "gruendung", "ort", "mindest"}));
  EXPECT_EQ(FindField(q, "id")->type(), v1::FIELD_TYPE_INT64);
  EXPECT_EQ(FindField(q, "umsatz")->type(), v1::FIELD_TYPE_DECIMAL);
  EXPECT_EQ(FindField(q, "gruendung")->type(), v1::FIELD_TYPE_DATE);
  EXPECT_EQ(FindField(q, "mindest")->type(), v1::FIELD_TYPE_DECIMAL);

  auto ids = [&](const v1::Filter& f, int64_t limit = 0, bool descending = false) {
    cv1::ScanRequest req;
    req.set_entity("betriebe_im_ort");
    *req.mutable_filter() = f;
    auto* o = req.add_order();
    o->set_field("umsatz");
    o->set_descending(descending);
    req.set_limit(limit);
    auto r = inst_->Scan(req);
    EXPECT_TRUE(r.ok()) << r.error.message();
    std::vector<int64_t> out;
    for (const auto& rec : r.records) {
      out.push_back(rec.values(0).int_value());
      EXPECT_EQ(rec.values(FieldIndex(r.fields, "ort")).string_value(), "Berlin");
    }
    return out;
  };
  v1::Filter ort = Cond("ort", v1::OPERATOR_EQ, Str("Berlin"));
  EXPECT_EQ(ids(And({ort, Cond("mindest", v1::OPERATOR_EQ, Dec("0"))})), (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(ids(And({Cond("mindest", v1::OPERATOR_EQ, Dec("1.00")), ort})), (std::vector<int64_t>{1}));
  // Further filters, order and limit apply to the query's result in the database.
  v1::Filter both = And({ort, Cond("mindest", v1::OPERATOR_EQ, Dec("0"))});
  EXPECT_EQ(ids(And({both, Cond("name", v1::OPERATOR_PREFIX, Str("O'"))})), (std::vector<int64_t>{4}));
  EXPECT_EQ(ids(both, 1, true), (std::vector<int64_t>{1}));
  EXPECT_EQ(ids(And({both, Cond("id", v1::OPERATOR_GT, Int(1))})), (std::vector<int64_t>{4}));
  // A condition on a parameter field is decided by the parameter's value.
  EXPECT_TRUE(ids(And({both, Cond("ort", v1::OPERATOR_NE, Str("Berlin"))})).empty());
  EXPECT_EQ(ids(And({both, Or({Cond("ort", v1::OPERATOR_PREFIX, Str("Ber")), Cond("id", v1::OPERATOR_EQ, Int(0))})})),
            (std::vector<int64_t>{4, 1}));

  // Only parameter fields asked for, and a parameter used twice in the SQL is bound twice.
  cv1::ScanRequest only;
  only.set_entity("betriebe_im_ort");
  *only.mutable_filter() = both;
  only.add_fields("ort");
  only.set_with_etag(true);
  auto o = inst_->Scan(only);
  ASSERT_TRUE(o.ok()) << o.error.message();
  ASSERT_EQ(o.records.size(), 2u);
  EXPECT_EQ(o.fields, (std::vector<std::string>{"ort"}));
  EXPECT_EQ(o.records[0].values(0).string_value(), "Berlin");
  EXPECT_EQ(o.records[0].etag().size(), 16u);

  cv1::ScanRequest zahlen;
  zahlen.set_entity("zahlen_bis");
  *zahlen.mutable_filter() = Cond("bis", v1::OPERATOR_EQ, Int(1500));
  zahlen.add_order()->set_field("n");
  auto z = inst_->Scan(zahlen);
  ASSERT_TRUE(z.ok()) << z.error.message();
  EXPECT_EQ(z.records.size(), 1500u);
  EXPECT_EQ(inst_->counter("odbc_rows_fetched"), 2 + 1 + 1 + 1 + 1 + 0 + 2 + 2 + 1500);
}

TEST_P(ConformanceTest, NamedQueryParametersAreCheckedAndWritesRefused) {
  OpenWith(kNamedQuery);
  cv1::ScanRequest req;
  req.set_entity("betriebe_im_ort");
  *req.mutable_filter() = Cond("ort", v1::OPERATOR_EQ, Str("Berlin"));
  auto missing = inst_->Scan(req);
  EXPECT_EQ(missing.code, 3) << missing.error.message();
  EXPECT_EQ(missing.error.reason(), "MISSING_PARAMETER");
  EXPECT_EQ(missing.error.field(), "mindest");

  // Under OR the parameter is not pinned to one value.
  *req.mutable_filter() = And({Cond("ort", v1::OPERATOR_EQ, Str("Berlin")),
                               Or({Cond("mindest", v1::OPERATOR_EQ, Dec("1")), Cond("mindest", v1::OPERATOR_EQ, Dec("2"))})});
  EXPECT_EQ(inst_->Scan(req).error.reason(), "MISSING_PARAMETER");

  *req.mutable_filter() = And({Cond("ort", v1::OPERATOR_EQ, Int(7)), Cond("mindest", v1::OPERATOR_EQ, Dec("1"))});
  auto wrong = inst_->Scan(req);
  EXPECT_EQ(wrong.code, 3) << wrong.error.message();
  EXPECT_EQ(wrong.error.field(), "ort");

  *req.mutable_filter() = And({Cond("ort", v1::OPERATOR_EQ, Null()), Cond("mindest", v1::OPERATOR_EQ, Dec("1"))});
  EXPECT_EQ(inst_->Scan(req).error.reason(), "INVALID_PARAMETER");

  // A value that looks like SQL is only ever a value.
  *req.mutable_filter() = And({Cond("ort", v1::OPERATOR_EQ, Str("x' OR '1'='1")), Cond("mindest", v1::OPERATOR_EQ, Dec("0"))});
  auto inj = inst_->Scan(req);
  ASSERT_TRUE(inj.ok()) << inj.error.message();
  EXPECT_TRUE(inj.records.empty());

  cv1::InsertRequest ins;
  ins.set_entity("betriebe_im_ort");
  *ins.add_values() = FV("id", Int(99));
  auto i = inst_->Insert(ins);
  EXPECT_EQ(i.code, 9) << i.error.message();
  EXPECT_EQ(i.error.reason(), "NOT_WRITABLE");
  EXPECT_NE(i.error.message().find("named query"), std::string::npos) << i.error.message();
  cv1::UpdateRequest up;
  up.set_entity("betriebe_im_ort");
  *up.add_key() = FV("id", Int(1));
  *up.add_values() = FV("name", Str("x"));
  EXPECT_EQ(inst_->Update(up).code, 9);
  cv1::DeleteRequest del;
  del.set_entity("betriebe_im_ort");
  *del.add_key() = FV("id", Int(1));
  EXPECT_EQ(inst_->Delete(del).code, 9);
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM betrieb"), 6);
}

TEST_P(ConformanceTest, BrokenConfiguredEntitiesStopTheSourceAtOpen) {
  struct Case {
    const char* json;
    const char* field;   // expected Error.field
    const char* needle;  // in the message
  };
  const Case cases[] = {
      {R"({"queries": {"kaputt": {"sql": "SELECT id FROM gibt_es_nicht WHERE id = :id", "parameters": {"id": "int64"}}}})",
       "queries.kaputt.sql", "kaputt"},
      {R"({"queries": {"q": {"sql": "SELECT id FROM betrieb WHERE ort = :ort"}}})", "queries.q.sql", ":ort"},
      {R"({"queries": {"q": {"sql": "SELECT id FROM betrieb", "parameters": {"ort": "string"}}}})",
       "queries.q.parameters.ort", "no placeholder"},
      {R"({"queries": {"q": {"sql": "SELECT id FROM betrieb WHERE id = ?"}}})", "queries.q.sql", "named parameters"},
      {R"({"queries": {"q": {"sql": "SELECT id FROM betrieb", "parameter": {}}}})", "queries.q.parameter", "unknown"},
      {R"({"queries": {"q": {"sql": "SELECT id FROM betrieb WHERE id = :id", "parameters": {"id": "integer"}}}})",
       "queries.q.parameters.id", "int64"},
      {R"({"queries": {"q": {"sql": "SELECT id, name FROM betrieb", "key": ["nr"]}}})", "queries.q.key", "nr"},
      {R"({"queries": {"betrieb": {"sql": "SELECT id FROM betrieb"}}})", "queries.betrieb", "table or view"},
      {R"({"views": {"aktive_betriebe": {"key": ["nr"]}}})", "views.aktive_betriebe.key", "nr"},
      {R"({"views": {"betrieb": {"key": ["id"]}}})", "views.betrieb", "not a view"},
      {R"({"views": {"gibt_es_nicht": {"key": ["id"]}}})", "views.gibt_es_nicht", "no view"},
      {R"({"views": {"aktive_betriebe": {"key": ["id"], "writeable": true}}})", "views.aktive_betriebe.writeable",
       "unknown"},
  };
  for (const Case& c : cases) {
    auto r = TryOpen(c.json);
    EXPECT_NE(r.code, 0) << c.json;
    EXPECT_EQ(r.error.field(), c.field) << c.json << ": " << r.error.message();
    EXPECT_NE(r.error.message().find(c.needle), std::string::npos) << c.json << ": " << r.error.message();
  }
  // The driver's own words reach the operator.
  auto r = TryOpen(cases[0].json);
  EXPECT_NE(r.error.message().find("gibt_es_nicht"), std::string::npos) << r.error.message();
}

TEST_P(ConformanceTest, ConfiguredViewKeyServesGetAndKeysetPaging) {
  OpenWith(kNamedQuery);
  cv1::DescribeRequest dr;
  dr.add_entities("aktive_betriebe");
  auto d = inst_->Describe(dr);
  ASSERT_TRUE(d.ok()) << d.error.message();
  const cv1::RawEntity& v = d.response.entities(0);
  EXPECT_EQ(v.kind(), cv1::RAW_ENTITY_KIND_VIEW);
  EXPECT_FALSE(v.writable());
  ASSERT_EQ(v.primary_key_size(), 1);
  EXPECT_EQ(v.primary_key(0), "id");

  cv1::ScanRequest page;
  page.set_entity("aktive_betriebe");
  page.add_order()->set_field("id");
  page.set_limit(2);
  auto p1 = inst_->Scan(page);
  ASSERT_TRUE(p1.ok()) << p1.error.message();
  ASSERT_EQ(p1.records.size(), 2u);
  EXPECT_EQ(p1.records[1].values(0).int_value(), 3);
  *page.mutable_filter() = Cond("id", v1::OPERATOR_GT, Int(3));
  auto p2 = inst_->Scan(page);
  ASSERT_TRUE(p2.ok()) << p2.error.message();
  ASSERT_EQ(p2.records.size(), 1u);
  EXPECT_EQ(p2.records[0].values(0).int_value(), 6);

  cv1::UpdateRequest up;
  up.set_entity("aktive_betriebe");
  *up.add_key() = FV("id", Int(1));
  *up.add_values() = FV("name", Str("Neu"));
  auto refused = inst_->Update(up);
  EXPECT_EQ(refused.code, 9) << refused.error.message();
  EXPECT_EQ(refused.error.reason(), "NOT_WRITABLE");

  // Declared writable, a view the DBMS can update through takes Update by its key (SQLite
  // views are never updatable without triggers).
  if (backend() == Backend::kSqlite) return;
  OpenWith(R"({"views": {"aktive_betriebe": {"key": ["id"], "writable": true}}})");
  auto u = inst_->Update(up);
  ASSERT_TRUE(u.ok()) << u.error.message();
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM betrieb WHERE name = 'Neu' AND id = 1"), 1);
}

// ---- Errors ----------------------------------------------------------------------------------

TEST_P(ConformanceTest, ErrorsHaveTheRightCodeAndChangeNothing) {
  cv1::ScanRequest scan;
  scan.set_entity("gibt_es_nicht");
  EXPECT_EQ(inst_->Scan(scan).code, 5);

  scan.set_entity("betrieb");
  scan.add_fields("erfunden");
  auto s = inst_->Scan(scan);
  EXPECT_EQ(s.code, 3);
  EXPECT_EQ(s.error.field(), "erfunden");

  cv1::InsertRequest dup;
  dup.set_entity("kennzahl");
  *dup.add_values() = FV("jahr", Int(2023));
  *dup.add_values() = FV("bezirk", Str("MITT"));
  auto d = inst_->Insert(dup);
  EXPECT_EQ(d.code, 6) << d.error.message();  // ALREADY_EXISTS
  EXPECT_EQ(d.error.reason(), "DUPLICATE_KEY");

  cv1::InsertRequest wrong;
  wrong.set_entity("betrieb");
  *wrong.add_values() = FV("id", Int(50));
  *wrong.add_values() = FV("name", Int(1));
  auto w = inst_->Insert(wrong);
  EXPECT_EQ(w.code, 3);
  EXPECT_EQ(w.error.field(), "name");

  cv1::InsertRequest too_long;
  too_long.set_entity("betrieb");
  *too_long.add_values() = FV("id", Int(51));
  *too_long.add_values() = FV("name", Str("x"));
  *too_long.add_values() = FV("umsatz", Dec("12345678901.5"));  // DECIMAL(12,2) holds 10 digits before '.'
  auto t = inst_->Insert(too_long);
  if (backend() != Backend::kSqlite) {  // SQLite does not enforce declared precision
    EXPECT_EQ(t.code, 3) << t.error.message();
  }

  cv1::InsertRequest view;
  view.set_entity("aktive_betriebe");
  *view.add_values() = FV("name", Str("x"));
  EXPECT_EQ(inst_->Insert(view).code, 9);
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM betrieb"), backend() == Backend::kSqlite && t.ok() ? 7 : 6);
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM kennzahl"), 3);
}


INSTANTIATE_TEST_SUITE_P(Backends, ConformanceTest, AllBackends(), BackendParamName);

}  // namespace
}  // namespace fachadapter::testing
