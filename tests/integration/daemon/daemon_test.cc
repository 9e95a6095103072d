// Every RPC of fachadapter.v1.Adapter against the real daemon, over real gRPC on loopback,
// with the real ODBC connector plugin on a real SQLite database through unixODBC; and every
// kind of bad input, each with its code, reason, field, and proof that nothing changed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <set>

#include "daemon_harness.h"
#include "fachadapter/v1/error.pb.h"
#include "fachadapter/values.h"
#include "grpc_standard_subset.grpc.pb.h"
#include "reflection_subset.grpc.pb.h"
#include "test_util.h"

namespace fachadapter {
namespace {

using testing::Daemon;
using testing::TempDir;

constexpr int kRows = 250;

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << "\n" << sql;
}

// A legacy trade register table as a 1990s program left it.
void CreateLegacyDatabase(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  Exec(db, R"(CREATE TABLE GEW_BETRIEB (
      BETR_NR INTEGER PRIMARY KEY,
      BETR_NAME CHAR(40) NOT NULL,
      RF_CD INTEGER NOT NULL,
      ORT CHAR(30),
      GEW_BEG_DAT CHAR(8) NOT NULL,
      GEW_END_DAT CHAR(8),
      UMSATZ_TXT VARCHAR(20)))");
  Exec(db, "BEGIN");
  const char* orte[] = {"Berlin", "München", "Köln", "Leipzig"};
  for (int i = 1; i <= kRows; ++i) {
    char sql[512];
    std::snprintf(sql, sizeof sql,
                  "INSERT INTO GEW_BETRIEB VALUES (%d, '%-40s', %d, '%-30s', '2019%02d%02d', '%s', '%d.%03d,%02d')",
                  i, ("Betrieb " + std::to_string(1000 + i)).c_str(), i % 3 + 1, orte[i % 4], i % 12 + 1,
                  i % 28 + 1, i % 10 == 0 ? "20231231" : "00000000", i, i % 1000, i % 100);
    Exec(db, sql);
  }
  Exec(db, "COMMIT");
  sqlite3_close(db);
}

int64_t CountRows(const std::filesystem::path& path, const std::string& where = "1=1") {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, ("SELECT COUNT(*) FROM GEW_BETRIEB WHERE " + where).c_str(), -1, &st, nullptr);
  int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

std::string Config(const std::filesystem::path& db, const std::string& driver = "SQLite3") {
  return R"(server:
  listen: 127.0.0.1:0
  shutdown_grace_seconds: 5
limits:
  max_batch_records: 100
  default_batch_records: 40
sources:
  register:
    connector: odbc
    settings:
      connection_string: "Driver=)" + driver + ";Database=" + db.string() + R"("
entities:
  Betrieb:
    source: register
    table: GEW_BETRIEB
    description: Gewerbebetriebe
    fields:
      nummer: {column: BETR_NR, type: int64}
      name: {column: BETR_NAME, trim: right, personal_data: true}
      rechtsform: {column: RF_CD, type: string, codes: {"1": Einzelunternehmen, "2": GmbH, "3": GbR}}
      ort: {column: ORT, trim: right}
      beginn: {column: GEW_BEG_DAT, type: date, format: YYYYMMDD}
      ende: {column: GEW_END_DAT, type: date, format: YYYYMMDD, null_values: ["00000000"]}
      umsatz: {column: UMSATZ_TXT, type: decimal, decimal_separator: ",", grouping_separator: "."}
  Rohdaten:
    source: register
    table: GEW_BETRIEB
    operations: [get, query]
)";
}

v1::Value Int(int64_t i) {
  v1::Value v;
  v.set_int_value(i);
  return v;
}
v1::Value Str(const std::string& s) {
  v1::Value v;
  v.set_string_value(s);
  return v;
}
v1::Value Dec(const std::string& s) {
  v1::Value v;
  v.mutable_decimal_value()->set_value(s);
  return v;
}
v1::Value Date(int y, int m, int d) {
  v1::Value v;
  v.mutable_date_value()->set_year(y);
  v.mutable_date_value()->set_month(m);
  v.mutable_date_value()->set_day(d);
  return v;
}
v1::Filter Cond(const std::string& field, v1::Operator op, const v1::Value& v = {}) {
  v1::Filter f;
  f.mutable_field()->set_field(field);
  f.mutable_field()->set_op(op);
  if (!IsNull(v)) *f.mutable_field()->mutable_value() = v;
  return f;
}
v1::Filter And(std::initializer_list<v1::Filter> parts) {
  v1::Filter f;
  for (const auto& p : parts) *f.mutable_and_()->add_filters() = p;
  return f;
}

std::string Trailer(const grpc::ClientContext& ctx, const std::string& key) {
  auto md = ctx.GetServerTrailingMetadata();
  auto it = md.find(key);
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

class DaemonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    CreateLegacyDatabase(db());
    testing::WriteFile(*dir_ / "fachadapter.yaml", Config(db()));
    daemon_ = new Daemon(*dir_ / "fachadapter.yaml", *dir_ / "daemon.log");
  }
  static void TearDownTestSuite() {
    if (daemon_) {
      int rc = daemon_->Stop();
      EXPECT_EQ(rc, 0) << daemon_->log();
    }
    delete daemon_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_TRUE(daemon_->up()) << "fachadapterd did not start:\n" << daemon_->log();
    stub_ = daemon_->Stub();
  }
  static std::filesystem::path db() { return *dir_ / "gewerbe.db"; }

  // Runs a query to its end; returns records (values as text, fields joined by '|').
  grpc::Status RunQuery(const v1::QueryRequest& req, std::vector<std::string>* rows,
                        std::string* next_token = nullptr, int* messages = nullptr,
                        std::vector<std::string>* fields = nullptr) {
    grpc::ClientContext ctx;
    auto reader = stub_->Query(&ctx, req);
    v1::QueryResponse msg;
    int n = 0;
    while (reader->Read(&msg)) {
      ++n;
      if (fields && msg.fields_size() > 0) fields->assign(msg.fields().begin(), msg.fields().end());
      for (const auto& r : msg.batch().records()) {
        std::string line;
        for (const auto& v : r.values()) line += (line.empty() ? "" : "|") + ValueToString(v);
        rows->push_back(line);
      }
      if (next_token && !msg.next_page_token().empty()) *next_token = msg.next_page_token();
    }
    if (messages) *messages = n;
    return reader->Finish();
  }

  static TempDir* dir_;
  static Daemon* daemon_;
  std::unique_ptr<v1::Adapter::Stub> stub_;
};
TempDir* DaemonTest::dir_ = nullptr;
Daemon* DaemonTest::daemon_ = nullptr;

TEST_F(DaemonTest, ListAndDescribeEntities) {
  grpc::ClientContext ctx;
  v1::ListEntitiesResponse list;
  ASSERT_TRUE(stub_->ListEntities(&ctx, {}, &list).ok());
  ASSERT_EQ(list.entities_size(), 2);
  EXPECT_EQ(list.entities(0).name(), "Betrieb");
  EXPECT_EQ(list.entities(1).name(), "Rohdaten");

  grpc::ClientContext ctx2;
  v1::DescribeEntityRequest req;
  req.set_entity("Betrieb");
  v1::EntitySchema s;
  ASSERT_TRUE(stub_->DescribeEntity(&ctx2, req, &s).ok());
  EXPECT_EQ(s.source(), "register");
  ASSERT_EQ(s.key_fields_size(), 1);
  EXPECT_EQ(s.key_fields(0), "nummer");
  std::map<std::string, v1::FieldSchema> f;
  for (const auto& x : s.fields()) f[x.name()] = x;
  EXPECT_EQ(f["beginn"].type(), v1::FIELD_TYPE_DATE);
  EXPECT_EQ(f["umsatz"].type(), v1::FIELD_TYPE_DECIMAL);
  EXPECT_TRUE(f["name"].personal_data());
  EXPECT_TRUE(f["nummer"].key());
  EXPECT_TRUE(f["beginn"].sortable());
  EXPECT_FALSE(f["rechtsform"].sortable());
  EXPECT_EQ(f["rechtsform"].allowed_values_size(), 3);
  EXPECT_TRUE(s.capabilities().create());
  EXPECT_TRUE(s.capabilities().delete_());

  grpc::ClientContext ctx3;
  req.set_entity("Rohdaten");
  ASSERT_TRUE(stub_->DescribeEntity(&ctx3, req, &s).ok());
  EXPECT_FALSE(s.capabilities().create());
  EXPECT_TRUE(s.capabilities().query());
}

TEST_F(DaemonTest, GetConvertsLegacyValues) {
  grpc::ClientContext ctx;
  v1::GetRequest req;
  req.set_entity("Betrieb");
  *req.mutable_key()->add_values() = Int(10);
  v1::GetResponse resp;
  grpc::Status st = stub_->Get(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  std::map<std::string, std::string> rec;
  for (int i = 0; i < resp.fields_size(); ++i) rec[resp.fields(i)] = ValueToString(resp.record().values(i));
  EXPECT_EQ(rec["name"], "Betrieb 1010");         // blank padding trimmed
  EXPECT_EQ(rec["rechtsform"], "GmbH");           // 10 % 3 + 1 = 2
  EXPECT_EQ(rec["ort"], "Köln");
  EXPECT_EQ(rec["beginn"], "2019-11-11");
  EXPECT_EQ(rec["ende"], "2023-12-31");
  EXPECT_EQ(rec["umsatz"], "10010.10");           // '10.010,10' exact
  EXPECT_FALSE(resp.record().etag().empty());

  grpc::ClientContext ctx2;
  *req.mutable_key()->mutable_values(0) = Int(11);
  req.add_fields("ende");
  ASSERT_TRUE(stub_->Get(&ctx2, req, &resp).ok());
  ASSERT_EQ(resp.fields_size(), 1);
  EXPECT_TRUE(IsNull(resp.record().values(0)));   // '00000000' means no end date
}

TEST_F(DaemonTest, QueryStreamsBatchesWithFiltersOrderAndProjection) {
  v1::QueryRequest req;
  req.set_entity("Betrieb");
  req.add_fields("nummer");
  req.add_fields("ort");
  req.add_fields("beginn");
  // ort = 'Berlin' (trimmed field: evaluated by the core) and beginn >= 2019-06-01 (pushed down)
  *req.mutable_filter() = And({Cond("ort", v1::OPERATOR_EQ, Str("Berlin")),
                               Cond("beginn", v1::OPERATOR_GE, Date(2019, 6, 1))});
  auto* o = req.add_order_by();
  o->set_field("beginn");
  o->set_descending(true);
  std::vector<std::string> rows, fields;
  int messages = 0;
  ASSERT_TRUE(RunQuery(req, &rows, nullptr, &messages, &fields).ok());
  EXPECT_EQ(fields, (std::vector<std::string>{"nummer", "ort", "beginn"}));
  int expected = 0;
  for (int i = 1; i <= kRows; ++i) expected += (i % 4 == 0 && i % 12 + 1 >= 6);
  ASSERT_EQ(static_cast<int>(rows.size()), expected);
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_GE(rows[i - 1].substr(rows[i - 1].rfind('|')), rows[i].substr(rows[i].rfind('|')));
    EXPECT_NE(rows[i].find("|Berlin|"), std::string::npos);
  }

  // Many records per message: 250 rows in batches of 40.
  v1::QueryRequest all;
  all.set_entity("Rohdaten");
  rows.clear();
  ASSERT_TRUE(RunQuery(all, &rows, nullptr, &messages).ok());
  EXPECT_EQ(static_cast<int>(rows.size()), kRows);
  EXPECT_EQ(messages, (kRows + 39) / 40);

  // Every operator on the way.
  struct Case {
    v1::Filter f;
    int count;
  };
  v1::Filter in = Cond("rechtsform", v1::OPERATOR_IN);
  *in.mutable_field()->add_values() = Str("GmbH");
  *in.mutable_field()->add_values() = Str("GbR");
  v1::Filter neg;
  *neg.mutable_not_() = Cond("nummer", v1::OPERATOR_LE, Int(200));
  v1::Filter either;
  *either.mutable_or_()->add_filters() = Cond("nummer", v1::OPERATOR_LT, Int(3));
  *either.mutable_or_()->add_filters() = Cond("nummer", v1::OPERATOR_GT, Int(248));
  std::vector<Case> cases = {
      {Cond("ende", v1::OPERATOR_IS_NULL), kRows - kRows / 10},
      {Cond("ende", v1::OPERATOR_IS_NOT_NULL), kRows / 10},
      {Cond("name", v1::OPERATOR_PREFIX, Str("Betrieb 11")), 100},
      {Cond("name", v1::OPERATOR_LIKE, Str("%10_")), 10},
      {Cond("nummer", v1::OPERATOR_NE, Int(1)), kRows - 1},
      {in, 167},
      {neg, 50},
      {either, 4},
      {Cond("umsatz", v1::OPERATOR_GT, Dec("200000")), 51},
  };
  for (const auto& c : cases) {
    v1::QueryRequest q;
    q.set_entity("Betrieb");
    *q.mutable_filter() = c.f;
    rows.clear();
    grpc::Status st = RunQuery(q, &rows);
    ASSERT_TRUE(st.ok()) << st.error_message() << " for " << c.f.ShortDebugString();
    EXPECT_EQ(static_cast<int>(rows.size()), c.count) << c.f.ShortDebugString();
  }
}

TEST_F(DaemonTest, PageTokensResumeWithoutGapsOrDuplicates) {
  v1::QueryRequest req;
  req.set_entity("Betrieb");
  req.add_fields("nummer");
  *req.mutable_filter() = Cond("ort", v1::OPERATOR_NE, Str("Köln"));  // residual filter
  auto* o = req.add_order_by();
  o->set_field("beginn");
  req.set_limit(37);
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    req.set_page_token(token);
    token.clear();
    std::vector<std::string> rows;
    grpc::Status st = RunQuery(req, &rows, &token);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_LE(rows.size(), 37u);
    for (const auto& r : rows) EXPECT_TRUE(seen.insert(r).second) << "duplicate " << r;
    ASSERT_LT(++pages, 20);
  } while (!token.empty());
  EXPECT_EQ(static_cast<int>(seen.size()), kRows - kRows / 4 - (kRows % 4 >= 2 ? 1 : 0));
}

TEST_F(DaemonTest, CreateUpdateDeleteWithIdempotencyAndEtags) {
  const int64_t before = CountRows(db());
  v1::CreateRequest create;
  create.set_entity("Betrieb");
  auto& v = *create.mutable_values();
  v["nummer"] = Int(9001);
  v["name"] = Str("Bäckerei Müller");
  v["rechtsform"] = Str("Einzelunternehmen");
  v["ort"] = Str("Gießen");
  v["beginn"] = Date(2024, 2, 29);
  v["umsatz"] = Dec("1234567.5");
  create.set_idempotency_key("create-9001");
  v1::CreateResponse first, again;
  {
    grpc::ClientContext ctx;
    grpc::Status st = stub_->Create(&ctx, create, &first);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  EXPECT_FALSE(first.replayed());
  EXPECT_FALSE(first.record().etag().empty());
  EXPECT_EQ(CountRows(db()), before + 1);
  EXPECT_EQ(CountRows(db(), "BETR_NR = 9001 AND GEW_BEG_DAT = '20240229' AND GEW_END_DAT = '00000000' "
                            "AND UMSATZ_TXT = '1.234.567,5' AND RF_CD = 1"), 1);
  {  // same key, same payload: the first answer again, no second row
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->Create(&ctx, create, &again).ok());
    EXPECT_TRUE(again.replayed());
    EXPECT_EQ(again.record().SerializeAsString(), first.record().SerializeAsString());
    EXPECT_EQ(CountRows(db()), before + 1);
  }
  {  // same key, other payload
    v1::CreateRequest other = create;
    (*other.mutable_values())["name"] = Str("Someone else");
    grpc::ClientContext ctx;
    v1::CreateResponse r;
    grpc::Status st = stub_->Create(&ctx, other, &r);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
    EXPECT_EQ(Trailer(ctx, "fachadapter-reason"), "IDEMPOTENCY_KEY_REUSED");
    EXPECT_EQ(CountRows(db()), before + 1);
    EXPECT_EQ(CountRows(db(), "BETR_NAME LIKE 'Someone%'"), 0);
  }
  {  // duplicate primary key without idempotency key
    v1::CreateRequest dup = create;
    dup.clear_idempotency_key();
    grpc::ClientContext ctx;
    v1::CreateResponse r;
    EXPECT_EQ(stub_->Create(&ctx, dup, &r).error_code(), grpc::StatusCode::ALREADY_EXISTS);
    EXPECT_EQ(CountRows(db()), before + 1);
  }
  const std::string etag = first.record().etag();
  v1::UpdateRequest upd;
  upd.set_entity("Betrieb");
  *upd.mutable_key()->add_values() = Int(9001);
  (*upd.mutable_values())["ort"] = Str("Marburg");
  upd.set_etag(etag);
  v1::UpdateResponse updated;
  {
    grpc::ClientContext ctx;
    grpc::Status st = stub_->Update(&ctx, upd, &updated);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_NE(updated.record().etag(), etag);
    EXPECT_EQ(CountRows(db(), "BETR_NR = 9001 AND TRIM(ORT) = 'Marburg'"), 1);
  }
  {  // the old etag is stale now
    (*upd.mutable_values())["ort"] = Str("Kassel");
    grpc::ClientContext ctx;
    v1::UpdateResponse r;
    grpc::Status st = stub_->Update(&ctx, upd, &r);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::ABORTED) << st.error_message();
    EXPECT_EQ(Trailer(ctx, "fachadapter-reason"), "ETAG_MISMATCH");
    EXPECT_EQ(CountRows(db(), "BETR_NR = 9001 AND TRIM(ORT) = 'Marburg'"), 1);
  }
  v1::DeleteRequest del;
  del.set_entity("Betrieb");
  *del.mutable_key()->add_values() = Int(9001);
  del.set_etag(etag);
  {
    grpc::ClientContext ctx;
    v1::DeleteResponse r;
    EXPECT_EQ(stub_->Delete(&ctx, del, &r).error_code(), grpc::StatusCode::ABORTED);
    EXPECT_EQ(CountRows(db()), before + 1);
  }
  del.set_etag(updated.record().etag());
  {
    grpc::ClientContext ctx;
    v1::DeleteResponse r;
    grpc::Status st = stub_->Delete(&ctx, del, &r);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(CountRows(db()), before);
  }
  {
    grpc::ClientContext ctx;
    v1::GetRequest get;
    get.set_entity("Betrieb");
    *get.mutable_key()->add_values() = Int(9001);
    v1::GetResponse r;
    EXPECT_EQ(stub_->Get(&ctx, get, &r).error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

// Each bad request: its code, reason and field, a message naming the problem, and no change.
TEST_F(DaemonTest, BadInputGetsClearErrorsAndChangesNothing) {
  const int64_t before = CountRows(db());
  struct Expect {
    grpc::StatusCode code;
    std::string reason, field, words;
  };
  auto check = [&](grpc::ClientContext& ctx, const grpc::Status& st, const Expect& e) {
    EXPECT_EQ(st.error_code(), e.code) << st.error_message();
    EXPECT_EQ(Trailer(ctx, "fachadapter-reason"), e.reason) << st.error_message();
    EXPECT_EQ(Trailer(ctx, "fachadapter-field"), e.field) << st.error_message();
    EXPECT_NE(st.error_message().find(e.words), std::string::npos) << st.error_message();
    // The rich status carries the same as google.rpc.ErrorInfo.
    v1::RpcStatus rich;
    ASSERT_TRUE(rich.ParseFromString(st.error_details()));
    ASSERT_EQ(rich.details_size(), 1);
    EXPECT_EQ(rich.details(0).type_url(), "type.googleapis.com/google.rpc.ErrorInfo");
    v1::ErrorInfo info;
    ASSERT_TRUE(info.ParseFromString(rich.details(0).value()));
    EXPECT_EQ(info.reason(), e.reason);
    EXPECT_EQ(info.domain(), "fachadapter.de");
  };
  {
    grpc::ClientContext ctx;
    v1::DescribeEntityRequest r;
    r.set_entity("Gewerbe");
    v1::EntitySchema s;
    check(ctx, stub_->DescribeEntity(&ctx, r, &s),
          {grpc::StatusCode::NOT_FOUND, "UNKNOWN_ENTITY", "entity", "'Gewerbe' does not exist"});
  }
  auto query = [&](const v1::QueryRequest& q, const Expect& e) {
    grpc::ClientContext ctx;
    auto reader = stub_->Query(&ctx, q);
    v1::QueryResponse m;
    while (reader->Read(&m)) {
    }
    check(ctx, reader->Finish(), e);
  };
  v1::QueryRequest q;
  q.set_entity("Betrieb");
  *q.mutable_filter() = Cond("plz", v1::OPERATOR_EQ, Str("10115"));
  query(q, {grpc::StatusCode::INVALID_ARGUMENT, "UNKNOWN_FIELD", "plz", "unknown field 'plz'"});
  q.clear_filter();
  q.add_fields("telefon");
  query(q, {grpc::StatusCode::INVALID_ARGUMENT, "UNKNOWN_FIELD", "telefon", "unknown field 'telefon'"});
  q.clear_fields();
  *q.mutable_filter() = Cond("nummer", v1::OPERATOR_EQ, Str("zehn"));
  query(q, {grpc::StatusCode::INVALID_ARGUMENT, "TYPE_MISMATCH", "nummer", "'zehn'"});
  *q.mutable_filter() = Cond("beginn", v1::OPERATOR_LIKE, Str("2019%"));
  query(q, {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FILTER", "beginn", "needs a string field"});
  q.clear_filter();
  q.add_order_by()->set_field("rechtsform");
  query(q, {grpc::StatusCode::INVALID_ARGUMENT, "FIELD_NOT_SORTABLE", "rechtsform", "cannot be sorted"});
  q.clear_order_by();
  q.set_page_token("this-is-not-a-token");
  query(q, {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_TOKEN", "page_token", "malformed page token"});
  {  // a real token used for another query
    v1::QueryRequest first;
    first.set_entity("Betrieb");
    first.set_limit(5);
    std::vector<std::string> rows;
    std::string token;
    ASSERT_TRUE(RunQuery(first, &rows, &token).ok());
    ASSERT_FALSE(token.empty());
    v1::QueryRequest other = first;
    *other.mutable_filter() = Cond("nummer", v1::OPERATOR_GT, Int(3));
    other.set_page_token(token);
    query(other, {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_TOKEN", "page_token", "another query"});
  }
  {
    grpc::ClientContext ctx;
    v1::GetRequest g;
    g.set_entity("Betrieb");
    *g.mutable_key()->add_values() = Int(424242);
    v1::GetResponse r;
    check(ctx, stub_->Get(&ctx, g, &r), {grpc::StatusCode::NOT_FOUND, "RECORD_NOT_FOUND", "key", "424242"});
  }
  {
    grpc::ClientContext ctx;
    v1::CreateRequest c;
    c.set_entity("Betrieb");
    (*c.mutable_values())["nummer"] = Int(9100);
    (*c.mutable_values())["beginn"] = Str("01.02.2024");
    v1::CreateResponse r;
    check(ctx, stub_->Create(&ctx, c, &r),
          {grpc::StatusCode::INVALID_ARGUMENT, "TYPE_MISMATCH", "beginn", "is date, got string"});
  }
  {
    grpc::ClientContext ctx;
    v1::CreateRequest c;
    c.set_entity("Betrieb");
    (*c.mutable_values())["nummer"] = Int(9101);
    (*c.mutable_values())["rechtsform"] = Str("AG");
    v1::CreateResponse r;
    check(ctx, stub_->Create(&ctx, c, &r),
          {grpc::StatusCode::INVALID_ARGUMENT, "CONVERSION_FAILED", "rechtsform", "not one of the allowed values"});
  }
  {
    grpc::ClientContext ctx;
    v1::CreateRequest c;
    c.set_entity("Rohdaten");
    v1::CreateResponse r;
    check(ctx, stub_->Create(&ctx, c, &r),
          {grpc::StatusCode::UNIMPLEMENTED, "OPERATION_NOT_SUPPORTED", "entity", "does not support create"});
  }
  EXPECT_EQ(CountRows(db()), before);
}

TEST_F(DaemonTest, HealthAndReflection) {
  auto health = grpc::health::v1::Health::NewStub(daemon_->Channel());
  for (const std::string service : {"", "fachadapter.v1.Adapter", "fachadapter.source.register"}) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::Status st = health->Check(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << service << ": " << st.error_message();
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
  auto refl = grpc::reflection::v1alpha::ServerReflection::NewStub(daemon_->Channel());
  grpc::ClientContext ctx;
  auto stream = refl->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("*");
  ASSERT_TRUE(stream->Write(req));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  std::set<std::string> services;
  while (stream->Read(&resp)) {
    for (const auto& s : resp.list_services_response().service()) services.insert(s.name());
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_TRUE(services.count("fachadapter.v1.Adapter"));
  EXPECT_TRUE(services.count("grpc.health.v1.Health"));
}

// Start-up failures: one clear message with file and line, and a non-zero exit.
TEST(DaemonStartTest, BrokenConfigMissingDriverAndCheckConfig) {
  TempDir dir;
  CreateLegacyDatabase(dir / "gewerbe.db");
  const std::string bin = Daemon::Binary();

  testing::WriteFile(dir / "good.yaml", Config(dir / "gewerbe.db"));
  auto ok = testing::RunProgram({bin, "--config", (dir / "good.yaml").string(), "--check-config"}, dir / "1.log");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("OK (1 sources, 2 entities)"), std::string::npos) << ok.output;

  std::string broken = Config(dir / "gewerbe.db");
  broken.replace(broken.find("format: YYYYMMDD}"), 17, "fromat: YYYYMMDD}");
  testing::WriteFile(dir / "broken.yaml", broken);
  auto bad = testing::RunProgram({bin, "--config", (dir / "broken.yaml").string(), "--check-config"}, dir / "2.log");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find((dir / "broken.yaml").string() + ":22:"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("unknown key 'fromat'"), std::string::npos) << bad.output;
  auto bad_start = testing::RunProgram({bin, "--config", (dir / "broken.yaml").string()}, dir / "3.log");
  EXPECT_EQ(bad_start.exit_code, 2) << bad_start.output;

  std::string wrong_column = Config(dir / "gewerbe.db");
  wrong_column.replace(wrong_column.find("column: ORT,"), 12, "column: PLZ,");
  testing::WriteFile(dir / "column.yaml", wrong_column);
  auto col = testing::RunProgram({bin, "--config", (dir / "column.yaml").string()}, dir / "4.log");
  EXPECT_EQ(col.exit_code, 2) << col.output;
  EXPECT_NE(col.output.find("has no column 'PLZ'"), std::string::npos) << col.output;
  EXPECT_NE(col.output.find("column.yaml:21:"), std::string::npos) << col.output;

  testing::WriteFile(dir / "nodriver.yaml", Config(dir / "gewerbe.db", "NoSuchOdbcDriver"));
  auto nd = testing::RunProgram({bin, "--config", (dir / "nodriver.yaml").string()}, dir / "5.log");
  EXPECT_EQ(nd.exit_code, 1) << nd.output;
  EXPECT_NE(nd.output.find("nodriver.yaml:8:"), std::string::npos) << nd.output;
  EXPECT_NE(nd.output.find("NoSuchOdbcDriver"), std::string::npos) << nd.output;

  auto missing = testing::RunProgram({bin, "--config", (dir / "absent.yaml").string()}, dir / "6.log");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("does not exist"), std::string::npos) << missing.output;
}

// A page token is sealed under the daemon's key: a daemon accepts it after a restart only when
// its key is configured (else each process has its own key and an old token is a clear
// INVALID_ARGUMENT). That it shows no sort value is tested in page_token_test.cc.
TEST(DaemonStartTest, PageTokensAreSealedAndSurviveARestartOnlyWithAConfiguredKey) {
  TempDir dir;
  CreateLegacyDatabase(dir / "gewerbe.db");
  std::string plain = Config(dir / "gewerbe.db");
  testing::WriteFile(dir / "token.key", "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n");
  std::string keyed = plain;
  keyed.replace(keyed.find("  shutdown_grace_seconds"), 0, "  page_token_key_file: token.key\n");
  testing::WriteFile(dir / "plain.yaml", plain);
  testing::WriteFile(dir / "keyed.yaml", keyed);
  v1::QueryRequest req;
  req.set_entity("Betrieb");
  req.add_fields("nummer");
  req.add_order_by()->set_field("nummer");
  req.set_limit(5);
  // First page from one daemon process; the token and the second page it leads to.
  auto first_page = [&](const std::filesystem::path& cfg, std::string* token) {
    Daemon d(cfg, dir / "d.log");
    ASSERT_TRUE(d.up()) << d.log();
    auto stub = d.Stub();
    grpc::ClientContext ctx;
    auto reader = stub->Query(&ctx, req);
    v1::QueryResponse msg;
    while (reader->Read(&msg)) {
      if (!msg.next_page_token().empty()) *token = msg.next_page_token();
    }
    grpc::Status st = reader->Finish();
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(d.Stop(), 0) << d.log();
  };
  auto second_page = [&](const std::filesystem::path& cfg, const std::string& token, grpc::Status* st,
                         int* rows) {
    Daemon d(cfg, dir / "d.log");
    ASSERT_TRUE(d.up()) << d.log();
    auto stub = d.Stub();
    v1::QueryRequest next = req;
    next.set_page_token(token);
    grpc::ClientContext ctx;
    auto reader = stub->Query(&ctx, next);
    v1::QueryResponse msg;
    *rows = 0;
    while (reader->Read(&msg)) *rows += msg.batch().records_size();
    *st = reader->Finish();
    EXPECT_EQ(d.Stop(), 0) << d.log();
  };
  for (const char* cfg : {"keyed.yaml", "plain.yaml"}) {
    SCOPED_TRACE(cfg);
    std::string token;
    first_page(dir / cfg, &token);
    ASSERT_FALSE(token.empty());
    grpc::Status st;
    int rows = 0;
    second_page(dir / cfg, token, &st, &rows);
    if (std::string(cfg) == "keyed.yaml") {
      EXPECT_TRUE(st.ok()) << st.error_message();
      EXPECT_EQ(rows, 5);
    } else {
      EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_NE(st.error_message().find("another key"), std::string::npos) << st.error_message();
    }
  }
}

// A broken key file stops the daemon at start with the file and line.
TEST(DaemonStartTest, BrokenPageTokenKeyFileIsAConfigError) {
  TempDir dir;
  CreateLegacyDatabase(dir / "gewerbe.db");
  std::string cfg = Config(dir / "gewerbe.db");
  cfg.replace(cfg.find("  shutdown_grace_seconds"), 0, "  page_token_key_file: token.key\n");
  testing::WriteFile(dir / "cfg.yaml", cfg);
  testing::WriteFile(dir / "token.key", "secret");
  auto r = testing::RunProgram({Daemon::Binary(), "--config", (dir / "cfg.yaml").string(), "--check-config"},
                               dir / "check.log");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("cfg.yaml:3:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("server.page_token_key_file"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("secret"), std::string::npos) << "the key file's content stays out of messages";
}

// SIGTERM right after start-up, before any call: library threads of gRPC exist then whose
// signal masks the daemon does not control; the stop must still be graceful.
TEST(DaemonStartTest, SigtermOnAnIdleDaemonExitsCleanly) {
  TempDir dir;
  CreateLegacyDatabase(dir / "gewerbe.db");
  testing::WriteFile(dir / "cfg.yaml", Config(dir / "gewerbe.db"));
  for (int i = 0; i < 3; ++i) {
    Daemon d(dir / "cfg.yaml", dir / "d.log");
    ASSERT_TRUE(d.up()) << d.log();
    EXPECT_EQ(d.Stop(), 0) << d.log();
    EXPECT_NE(d.log().find("fachadapterd: stopped"), std::string::npos) << d.log();
  }
}

TEST(DaemonStartTest, SigtermWithCallInFlightExitsCleanly) {
  TempDir dir;
  CreateLegacyDatabase(dir / "gewerbe.db");
  testing::WriteFile(dir / "cfg.yaml", Config(dir / "gewerbe.db"));
  Daemon d(dir / "cfg.yaml", dir / "d.log");
  ASSERT_TRUE(d.up()) << d.log();
  auto stub = d.Stub();
  // Open a stream and read only its first message, so the call is in flight at SIGTERM.
  grpc::ClientContext ctx;
  v1::QueryRequest q;
  q.set_entity("Rohdaten");
  q.set_batch_size(1);
  auto reader = stub->Query(&ctx, q);
  v1::QueryResponse m;
  ASSERT_TRUE(reader->Read(&m));
  std::thread drain([&] {
    while (reader->Read(&m)) {
    }
  });
  EXPECT_EQ(d.Stop(), 0) << d.log();
  drain.join();
  EXPECT_NE(d.log().find("SIGTERM received"), std::string::npos) << d.log();
}

}  // namespace
}  // namespace fachadapter
