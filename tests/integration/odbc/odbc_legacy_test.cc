// Legacy single-byte character sets through the ODBC connector, end to end: a PostgreSQL
// database created with LATIN1 encoding (psqlODBC "PostgreSQL Unicode"), and MariaDB tables
// with latin1 / utf8mb3 columns (MariaDB Connector/ODBC), filled with umlauts and ß. Reads
// arrive as UTF-8, writes are stored in the legacy encoding, and a character the column cannot
// hold is INVALID_ARGUMENT/UNREPRESENTABLE_CHARACTER naming the field and the character, with
// nothing written, also where the server itself would store '?' (MariaDB without strict mode).
//
// Needs FACHADAPTER_TEST_PG_DSN / FACHADAPTER_TEST_MARIADB_DSN (scripts/test-servers.sh);
// skips without. Every test creates a database of its own and drops it.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "fachadapter/config.h"
#include "fachadapter/engine.h"
#include "plugin_client.h"
#include "raw_odbc.h"
#include "test_util.h"

namespace fachadapter::testing {
namespace {

constexpr int kInvalidArgument = 3;

std::string PluginPath() { return (PluginDir() / "fachadapter_connector_odbc.so").string(); }

// What every case does with the connector; the fixtures differ in the database they set up.
class LegacyCharsetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { plugin_ = new Plugin(PluginPath()); }
  static void TearDownTestSuite() {
    delete plugin_;
    plugin_ = nullptr;
  }

  // Connects to the server named by `var`, creates a database with `create_database`
  // (containing NAME), and returns false (after GTEST_SKIP) if there is no server.
  bool CreateDatabase(const char* var, const std::string& create_database) {
    const char* base = std::getenv(var);
    if (!base || !*base) return false;
    base_ = base;
    db_ = UniqueName("fa_legacy");
    server_ = std::make_unique<RawConnection>(base_);
    server_->Exec(std::regex_replace(create_database, std::regex("NAME"), db_));
    connection_string_ = WithKey(base_, "Database", db_);
    raw_ = std::make_unique<RawConnection>(connection_string_);
    return true;
  }

  void TearDown() override {
    inst_.reset();
    raw_.reset();
    if (server_) {
      try {
        server_->Exec("DROP DATABASE " + db_ + (postgres_ ? " WITH (FORCE)" : ""));
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    }
  }

  void Open(const std::string& connection_string) {
    google::protobuf::Struct s;
    (*s.mutable_fields())["connection_string"].set_string_value(connection_string);
    auto r = Instance::Open(*plugin_, s);
    ASSERT_TRUE(r.ok()) << r.error.message();
    inst_ = std::move(r.response);
  }

  // name of every row of `entity`, ordered by id.
  std::vector<std::string> Names(const std::string& entity, const v1::Filter* filter = nullptr) {
    cv1::ScanRequest req;
    req.set_entity(entity);
    req.add_fields("name");
    auto* o = req.add_order();
    o->set_field("id");
    if (filter) *req.mutable_filter() = *filter;
    auto r = inst_->Scan(req);
    EXPECT_TRUE(r.ok()) << r.error.message();
    std::vector<std::string> out;
    for (const auto& rec : r.records) out.push_back(rec.values(0).string_value());
    return out;
  }

  cv1::InsertRequest Insert(const std::string& entity, int64_t id,
                            std::vector<std::pair<std::string, std::string>> texts,
                            const std::string& idempotency_key = "") {
    cv1::InsertRequest req;
    req.set_entity(entity);
    *req.add_values() = FV("id", Int(id));
    for (auto& [field, text] : texts) *req.add_values() = FV(field, Str(text));
    if (!idempotency_key.empty()) {
      req.set_idempotency_key(idempotency_key);
      req.set_request_hash("hash-" + idempotency_key);
    }
    return req;
  }

  cv1::UpdateRequest Update(const std::string& entity, int64_t id, const std::string& field,
                            const std::string& text) {
    cv1::UpdateRequest req;
    req.set_entity(entity);
    *req.add_key() = FV("id", Int(id));
    *req.add_values() = FV(field, Str(text));
    return req;
  }

  // Expects `error` to be UNREPRESENTABLE_CHARACTER for `field` naming `character` and `code`.
  static void ExpectUnrepresentable(int32_t code, const cv1::Error& error, const std::string& field,
                                    const std::string& character, const std::string& code_point) {
    EXPECT_EQ(code, kInvalidArgument) << error.message();
    EXPECT_EQ(error.reason(), "UNREPRESENTABLE_CHARACTER") << error.message();
    EXPECT_EQ(error.field(), field) << error.message();
    EXPECT_NE(error.message().find(character), std::string::npos) << error.message();
    EXPECT_NE(error.message().find(code_point), std::string::npos) << error.message();
  }

  static Plugin* plugin_;
  bool postgres_ = false;
  std::string base_, db_, connection_string_;
  std::unique_ptr<RawConnection> server_;  // to the server's base database
  std::unique_ptr<RawConnection> raw_;     // to the test's database, through the same driver
  std::unique_ptr<Instance> inst_;
  TempDir dir_;
};

Plugin* LegacyCharsetTest::plugin_ = nullptr;

// ---- PostgreSQL, database encoding LATIN1 ----------------------------------------------------

class PostgresLatin1Test : public LegacyCharsetTest {
 protected:
  void SetUp() override {
    postgres_ = true;
    if (!CreateDatabase("FACHADAPTER_TEST_PG_DSN",
                        "CREATE DATABASE NAME ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
                        "TEMPLATE template0")) {
      GTEST_SKIP() << "FACHADAPTER_TEST_PG_DSN is not set: no PostgreSQL server "
                      "(scripts/test-servers.sh starts one)";
    }
    ASSERT_EQ(raw_->Text("SHOW server_encoding"), "LATIN1");
    // The raw connection is psqlODBC's Unicode driver too: client_encoding UTF8, the server
    // converts to LATIN1 on the way in.
    raw_->Exec("CREATE TABLE person (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, ort VARCHAR(40), "
               "notiz TEXT, kz CHAR(6))");
    raw_->Exec("INSERT INTO person VALUES (1, 'Jürgen Groß', 'Köln', 'Straße: Ägidienweg', 'ÄÖÜ')");
    raw_->Exec("INSERT INTO person VALUES (2, 'Müßig, Äffle & Söhne', 'Düsseldorf', NULL, NULL)");
    raw_->Exec("INSERT INTO person VALUES (3, 'Zoë Çelik ½ °C ©', 'Gießen', NULL, NULL)");
    Open(connection_string_);
  }

  // octet_length in the database's encoding: equal to the character count for LATIN1.
  int64_t StoredBytes(int64_t id, const std::string& column) {
    return raw_->Count("SELECT octet_length(" + column + ") FROM person WHERE id = " + std::to_string(id));
  }
};

TEST_F(PostgresLatin1Test, ReadsLatin1AsUtf8) {
  EXPECT_EQ(StoredBytes(1, "name"), 11) << "stored as LATIN1, one byte per character";
  EXPECT_EQ(Names("person"), (std::vector<std::string>{"Jürgen Groß", "Müßig, Äffle & Söhne", "Zoë Çelik ½ °C ©"}));
  cv1::ScanRequest all;
  all.set_entity("person");
  auto r = inst_->Scan(all);
  ASSERT_TRUE(r.ok()) << r.error.message();
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].values(2).string_value(), "Köln");
  EXPECT_EQ(r.records[0].values(3).string_value(), "Straße: Ägidienweg");
  EXPECT_EQ(r.records[0].values(4).string_value(), "ÄÖÜ   ") << "CHAR(6) keeps its padding";

  // Filters with umlauts are converted the same way.
  v1::Filter eq;
  eq.mutable_field()->set_field("ort");
  eq.mutable_field()->set_op(v1::OPERATOR_EQ);
  *eq.mutable_field()->mutable_value() = Str("Gießen");
  EXPECT_EQ(Names("person", &eq), std::vector<std::string>{"Zoë Çelik ½ °C ©"});
  v1::Filter prefix;
  prefix.mutable_field()->set_field("name");
  prefix.mutable_field()->set_op(v1::OPERATOR_PREFIX);
  *prefix.mutable_field()->mutable_value() = Str("Müß");
  EXPECT_EQ(Names("person", &prefix), std::vector<std::string>{"Müßig, Äffle & Söhne"});
}

TEST_F(PostgresLatin1Test, WritesGoBackInLatin1) {
  auto ins = inst_->Insert(Insert("person", 10, {{"name", "Weiß, Ärmel"}, {"ort", "Fürth"}, {"notiz", "ß½"}}));
  ASSERT_TRUE(ins.ok()) << ins.error.message();
  EXPECT_EQ(ins.response.record().values(1).string_value(), "Weiß, Ärmel");
  EXPECT_EQ(StoredBytes(10, "name"), 11);
  EXPECT_EQ(raw_->Text("SELECT encode(convert_to(name, 'LATIN1'), 'hex') FROM person WHERE id = 10"),
            "576569df2c20c4726d656c");
  auto up = inst_->Update(Update("person", 10, "ort", "Öhringen"));
  ASSERT_TRUE(up.ok()) << up.error.message();
  EXPECT_EQ(up.response.record().values(2).string_value(), "Öhringen");
  EXPECT_EQ(StoredBytes(10, "ort"), 8);
  EXPECT_EQ(raw_->Text("SELECT ort FROM person WHERE id = 10"), "Öhringen");
}

TEST_F(PostgresLatin1Test, UnrepresentableCharacterIsRejectedAndNothingIsWritten) {
  // '€' is not in ISO-8859-1 (it is in LATIN9 and Windows-1252, not here).
  auto euro = inst_->Insert(Insert("person", 20, {{"name", "Preis"}, {"ort", "5 € pro Stück"}}));
  ASSERT_FALSE(euro.ok());
  ExpectUnrepresentable(euro.code, euro.error, "ort", "€", "U+20AC");
  EXPECT_NE(euro.error.message().find("LATIN1"), std::string::npos) << euro.error.message();

  auto polish = inst_->Insert(Insert("person", 21, {{"name", "Łukasz Wałęsa"}}, "key-21"));
  ASSERT_FALSE(polish.ok());
  ExpectUnrepresentable(polish.code, polish.error, "name", "Ł", "U+0141");

  auto emoji = inst_->Insert(Insert("person", 22, {{"name", "ok"}, {"notiz", "Danke 😀"}}));
  ASSERT_FALSE(emoji.ok());
  ExpectUnrepresentable(emoji.code, emoji.error, "notiz", "😀", "U+1F600");

  auto update = inst_->Update(Update("person", 1, "name", "Jürgen Groß — neu"));
  ASSERT_FALSE(update.ok());
  ExpectUnrepresentable(update.code, update.error, "name", "—", "U+2014");

  EXPECT_EQ(raw_->Count("SELECT count(*) FROM person"), 3);
  EXPECT_EQ(raw_->Text("SELECT name FROM person WHERE id = 1"), "Jürgen Groß");
  // The idempotency key of the refused create was not recorded: the same key can be used
  // for a corrected request.
  auto fixed = inst_->Insert(Insert("person", 21, {{"name", "Lukasz Walesa"}}, "key-21"));
  ASSERT_TRUE(fixed.ok()) << fixed.error.message();
  EXPECT_FALSE(fixed.response.replayed());
}

// The same through the core's mapping layer (the engine, as the daemon runs it): API names,
// the connector's error reported for the API field.
TEST_F(PostgresLatin1Test, ThroughTheCoreMappingLayer) {
  std::string yaml = R"(
sources:
  alt:
    connector: odbc
    settings:
      connection_string: ")" + connection_string_ + R"("
entities:
  Person:
    source: alt
    table: person
    fields:
      nummer: {column: id, type: int64}
      name: {column: name}
      wohnort: {column: ort}
      kennzeichen: {column: kz, trim: right}
)";
  auto config = ParseConfig(yaml, (dir_.path() / "fachadapter.yaml").string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  config->connector_search_path.push_back(PluginDir().string());
  auto engine = Engine::Start(*config);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();

  v1::GetRequest get;
  get.set_entity("Person");
  *get.mutable_key()->add_values() = Int(1);
  v1::GetResponse got;
  Status s = (*engine)->Get(get, &got, CallOptions{});
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::map<std::string, v1::Value> by_name;
  for (int i = 0; i < got.fields_size(); ++i) by_name[got.fields(i)] = got.record().values(i);
  EXPECT_EQ(by_name["name"].string_value(), "Jürgen Groß");
  EXPECT_EQ(by_name["wohnort"].string_value(), "Köln");
  EXPECT_EQ(by_name["kennzeichen"].string_value(), "ÄÖÜ");

  v1::CreateRequest create;
  create.set_entity("Person");
  (*create.mutable_values())["nummer"] = Int(40);
  (*create.mutable_values())["name"] = Str("Ärger");
  (*create.mutable_values())["wohnort"] = Str("5 € Straße");
  create.set_idempotency_key("core-40");
  v1::CreateResponse created;
  s = (*engine)->Create(create, &created, CallOptions{});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.reason(), "UNREPRESENTABLE_CHARACTER") << s.ToString();
  EXPECT_EQ(s.field(), "wohnort") << s.ToString();
  EXPECT_NE(s.message().find("U+20AC"), std::string::npos) << s.ToString();
  EXPECT_EQ(raw_->Count("SELECT count(*) FROM person"), 3);

  (*create.mutable_values())["wohnort"] = Str("Weiß Straße");
  create.set_idempotency_key("core-41");
  s = (*engine)->Create(create, &created, CallOptions{});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(StoredBytes(40, "ort"), 11);
}

// A value the connector does not check (a filter value) reaches the server, whose conversion
// error (SQLSTATE 22P05) is reported as what it is.
TEST_F(PostgresLatin1Test, ServerConversionErrorIsUnrepresentableCharacter) {
  cv1::ScanRequest req;
  req.set_entity("person");
  auto* f = req.mutable_filter()->mutable_field();
  f->set_field("ort");
  f->set_op(v1::OPERATOR_EQ);
  *f->mutable_value() = Str("5 €");
  auto r = inst_->Scan(req);
  EXPECT_EQ(r.code, kInvalidArgument) << r.error.message();
  EXPECT_EQ(r.error.reason(), "UNREPRESENTABLE_CHARACTER") << r.error.message();
  EXPECT_NE(r.error.message().find("22P05"), std::string::npos) << r.error.message();
}

// ---- MariaDB, latin1 and utf8mb3 columns in a utf8mb4 database -------------------------------

class MariaDbLatin1Test : public LegacyCharsetTest {
 protected:
  void SetUp() override {
    if (!CreateDatabase("FACHADAPTER_TEST_MARIADB_DSN",
                        "CREATE DATABASE NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")) {
      GTEST_SKIP() << "FACHADAPTER_TEST_MARIADB_DSN is not set: no MariaDB server "
                      "(scripts/test-servers.sh starts one)";
    }
    raw_->Exec("CREATE TABLE person (id INTEGER PRIMARY KEY, name VARCHAR(40) CHARACTER SET latin1 NOT NULL, "
               "kurz VARCHAR(40) CHARACTER SET utf8mb3, frei VARCHAR(40), notiz TEXT CHARACTER SET latin1)");
    raw_->Exec("INSERT INTO person VALUES (1, 'Jürgen Groß', 'Köln', 'Köln 😀', 'Straße')");
    raw_->Exec("INSERT INTO person VALUES (2, 'Müßig, Äffle & Söhne', NULL, NULL, NULL)");
  }
  std::string Hex(int64_t id, const std::string& column) {
    return raw_->Text("SELECT HEX(" + column + ") FROM person WHERE id = " + std::to_string(id));
  }
};

TEST_F(MariaDbLatin1Test, ReadsAndWritesLatin1ColumnsAsUtf8) {
  Open(connection_string_);
  EXPECT_EQ(Hex(1, "name"), "4AFC7267656E2047726FDF") << "stored as latin1";
  EXPECT_EQ(Names("person"), (std::vector<std::string>{"Jürgen Groß", "Müßig, Äffle & Söhne"}));
  // MariaDB's latin1 is Windows-1252: '€' (0x80) and '„' fit.
  auto ins = inst_->Insert(Insert("person", 10, {{"name", "Weiß „5 €“"}, {"kurz", "Grüße"}, {"frei", "👍"}}));
  ASSERT_TRUE(ins.ok()) << ins.error.message();
  EXPECT_EQ(ins.response.record().values(1).string_value(), "Weiß „5 €“");
  EXPECT_EQ(Hex(10, "name"), "576569DF208435208093");
  EXPECT_EQ(ins.response.record().values(3).string_value(), "👍");
}

// Strict mode (the server's default): the server would refuse too, but the connector's own
// check names the field and the character.
TEST_F(MariaDbLatin1Test, UnrepresentableCharacterIsRejected) {
  Open(connection_string_);
  auto polish = inst_->Insert(Insert("person", 20, {{"name", "Łódź"}}));
  ASSERT_FALSE(polish.ok());
  ExpectUnrepresentable(polish.code, polish.error, "name", "Ł", "U+0141");
  auto emoji = inst_->Insert(Insert("person", 21, {{"name", "ok"}, {"kurz", "Danke 😀"}}));
  ASSERT_FALSE(emoji.ok());
  ExpectUnrepresentable(emoji.code, emoji.error, "kurz", "😀", "U+1F600");
  auto update = inst_->Update(Update("person", 2, "notiz", "Ωmega"));
  ASSERT_FALSE(update.ok());
  ExpectUnrepresentable(update.code, update.error, "notiz", "Ω", "U+03A9");
  EXPECT_EQ(raw_->Count("SELECT COUNT(*) FROM person"), 2);
  EXPECT_EQ(raw_->Text("SELECT notiz FROM person WHERE id = 2", "NULL"), "NULL");
}

// Without strict mode MariaDB stores '?' for a character a latin1 column cannot hold and
// reports success (warning 1366 only); the connector refuses before the server sees it.
TEST_F(MariaDbLatin1Test, NonStrictServerWouldStoreQuestionMarksTheConnectorRefuses) {
  std::string lax = WithKey(connection_string_, "InitStmt", "SET SESSION sql_mode=''");
  {
    RawConnection legacy(lax);
    legacy.Exec("INSERT INTO person (id, name) VALUES (30, 'Łódź')");
    EXPECT_EQ(legacy.Text("SELECT name FROM person WHERE id = 30"), "?ód?") << "the server's substitution";
    legacy.Exec("DELETE FROM person WHERE id = 30");
  }
  Open(lax);
  auto r = inst_->Insert(Insert("person", 31, {{"name", "Łódź"}}));
  ASSERT_FALSE(r.ok());
  ExpectUnrepresentable(r.code, r.error, "name", "Ł", "U+0141");
  EXPECT_EQ(raw_->Count("SELECT COUNT(*) FROM person"), 2);
  auto ok = inst_->Insert(Insert("person", 32, {{"name", "Lodz"}}));
  EXPECT_TRUE(ok.ok()) << ok.error.message();
}

}  // namespace
}  // namespace fachadapter::testing
