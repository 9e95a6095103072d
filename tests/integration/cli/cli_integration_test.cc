// The `fachadapter` CLI end to end: the real fachadapterd serving a SQLite database through
// the ODBC connector, on a free loopback port, and the real CLI binary run as a process for
// every command. Every wait is bounded.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

extern char** environ;

namespace fachadapter::cli {
namespace {

using fachadapter::testing::ReadFile;
using fachadapter::testing::TempDir;
using fachadapter::testing::WriteFile;
using std::chrono::steady_clock;

constexpr auto kProcessTimeout = std::chrono::seconds(60);

// Starts `argv` with stdout and stderr going to files; returns the pid (or -1).
pid_t Spawn(const std::vector<std::string>& argv, const std::filesystem::path& out,
            const std::filesystem::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Waits for `pid` up to `timeout`; kills it after that. Returns the wait status, if any.
std::optional<int> WaitFor(pid_t pid, std::chrono::seconds timeout) {
  auto until = steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return std::nullopt;
    if (steady_clock::now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

struct CliResult {
  int code = -1;  // exit code; -1 if it did not exit normally in time
  std::string out, err;
};

std::ostream& operator<<(std::ostream& os, const CliResult& r) {
  return os << "exit " << r.code << "\n--- stdout:\n" << r.out << "--- stderr:\n" << r.err;
}

// Creates the legacy-style database: blank-padded names, dates as CHAR(8), amounts with a
// decimal comma, and names that need quoting in every output format.
void CreateDatabase(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  // One transaction: one sync to disk instead of one per row.
  std::string sql =
      "BEGIN;"
      "CREATE TABLE BETRIEB ("
      "  NR INTEGER NOT NULL PRIMARY KEY,"
      "  NAME CHAR(40) NOT NULL,"
      "  ORT VARCHAR(40),"
      "  BEGINN CHAR(8) NOT NULL DEFAULT '00000000',"
      "  UMSATZ VARCHAR(20));"
      "INSERT INTO BETRIEB VALUES (1, 'Müller; \"Söhne\"                        ', 'Köln',"
      "  '20190401', '1234,50');"
      "INSERT INTO BETRIEB VALUES (2, 'Weißgerber GmbH                         ', 'Zürich',"
      "  '00000000', '0,10');"
      "INSERT INTO BETRIEB VALUES (3, 'Bäckerei Schmidt                        ', NULL,"
      "  '20200229', '12345678901234567890,12');";
  // Plenty more rows, so that limits, page tokens and streaming have something to do.
  for (int i = 4; i <= 250; ++i) {
    sql += "INSERT INTO BETRIEB VALUES (" + std::to_string(i) + ", 'Betrieb " +
           std::to_string(i) + "', '" + (i % 2 ? "Bonn" : "Berlin") + "', '2021" +
           (i % 12 < 9 ? "0" : "") + std::to_string(i % 12 + 1) + "15', '" +
           std::to_string(i * 10) + ",00');";
  }
  sql += "COMMIT;";
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_close(db);
}

class CliEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    CreateDatabase(dir_ / "test.db");
    WriteFile(dir_ / "fachadapter.yaml", R"(
server:
  listen: 127.0.0.1:0
  shutdown_grace_seconds: 5
sources:
  db:
    connector: odbc
    settings:
      connection_string: "Driver=SQLite3;Database=${CONFIG_DIR}/test.db"
entities:
  Betrieb:
    source: db
    table: BETRIEB
    description: Betriebe für den CLI-Test
    key: [nr]
    fields:
      nr:
        column: NR
        type: int64
        read_only: true
      name:
        column: NAME
        type: string
        trim: right
        personal_data: true
        description: Name des Betriebs
      ort:
        column: ORT
        type: string
      beginn:
        column: BEGINN
        type: date
        format: YYYYMMDD
        null_values: ["00000000"]
      umsatz:
        column: UMSATZ
        type: decimal
        decimal_separator: ","
)");
    daemon_log_ = dir_ / "fachadapterd.log";
    daemon_ = Spawn({FACHADAPTERD_PATH, "--config", (dir_ / "fachadapter.yaml").string()},
                    dir_ / "fachadapterd.out", daemon_log_);
    ASSERT_GT(daemon_, 0) << "cannot start " FACHADAPTERD_PATH;
    // The daemon names its port once it serves: "... on 127.0.0.1:PORT".
    static const std::regex kServing(R"(serving \d+ entities on (127\.0\.0\.1:\d+))");
    auto until = steady_clock::now() + std::chrono::seconds(30);
    std::smatch m;
    while (steady_clock::now() < until) {
      std::string log = ReadFile(daemon_log_);
      if (std::regex_search(log, m, kServing)) {
        target_ = m[1];
        return;
      }
      int status;
      if (waitpid(daemon_, &status, WNOHANG) == daemon_) {
        daemon_ = -1;
        FAIL() << "fachadapterd exited at start:\n" << log;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "fachadapterd did not start serving within 30 s:\n" << ReadFile(daemon_log_);
  }

  void TearDown() override {
    if (daemon_ <= 0) return;
    kill(daemon_, SIGTERM);
    std::optional<int> status = WaitFor(daemon_, std::chrono::seconds(30));
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "fachadapterd did not stop cleanly:\n" << ReadFile(daemon_log_);
  }

  // Runs the CLI against the daemon with `args` (global options may be among them).
  CliResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {FACHADAPTER_CLI_PATH, "--target", target_});
    auto out = dir_ / "cli.out", err = dir_ / "cli.err";
    CliResult r;
    pid_t pid = Spawn(args, out, err);
    EXPECT_GT(pid, 0);
    if (pid <= 0) return r;
    std::optional<int> status = WaitFor(pid, kProcessTimeout);
    if (status && WIFEXITED(*status)) r.code = WEXITSTATUS(*status);
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    return r;
  }

  static size_t Lines(const std::string& s) {
    size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
  }

  TempDir dir_;
  std::filesystem::path daemon_log_;
  pid_t daemon_ = -1;
  std::string target_;
};

TEST_F(CliEndToEnd, EntitiesAndDescribe) {
  CliResult r = Cli({"entities"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("Betrieb"), std::string::npos) << r;
  EXPECT_NE(r.out.find("Betriebe für den CLI-Test"), std::string::npos) << r;
  EXPECT_NE(r.out.find("get,query,create,update,delete"), std::string::npos) << r;

  r = Cli({"--format", "json", "entities"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out,
            "{\"name\":\"Betrieb\",\"source\":\"db\",\"capabilities\":"
            "\"get,query,create,update,delete\",\"description\":\"Betriebe für den CLI-Test\"}\n")
      << r;
  r = Cli({"entities", "--format=csv"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out,
            "name,source,capabilities,description\r\n"
            "Betrieb,db,\"get,query,create,update,delete\",Betriebe für den CLI-Test\r\n")
      << r;

  r = Cli({"describe", "Betrieb"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("key           nr"), std::string::npos) << r;
  EXPECT_NE(r.out.find("personal_data"), std::string::npos) << r;
  EXPECT_NE(r.out.find("Name des Betriebs"), std::string::npos) << r;

  r = Cli({"--format", "json", "describe", "Betrieb"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("\"personal_data\":true"), std::string::npos) << r;

  r = Cli({"--format", "csv", "describe", "Betrieb"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out.rfind("field,type,key,nullable,personal_data,read_only,sortable,filterable,"
                        "description,allowed_values\r\nnr,int64,true,",
                        0),
            0u)
      << r;
  EXPECT_NE(r.out.find("\r\nname,string,false,"), std::string::npos) << r;

  r = Cli({"describe", "Betriebe"});
  EXPECT_EQ(r.code, 3) << r;
  EXPECT_EQ(r.err.rfind("fachadapter: ", 0), 0u) << r;
  EXPECT_NE(r.err.find("(NOT_FOUND, reason "), std::string::npos) << r;
  EXPECT_EQ(r.out, "");
}

TEST_F(CliEndToEnd, GetPrintsTheRecordAndItsEtag) {
  CliResult r = Cli({"get", "Betrieb", "1"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("name    Müller; \"Söhne\"\n"), std::string::npos) << r;
  EXPECT_NE(r.out.find("beginn  2019-04-01\n"), std::string::npos) << r;
  EXPECT_NE(r.out.find("umsatz  1234.50\n"), std::string::npos) << r;
  EXPECT_NE(r.out.find("\netag    "), std::string::npos) << r;

  r = Cli({"--format", "json", "get", "Betrieb", "3"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out.rfind("{\"record\":{\"nr\":3,\"name\":\"Bäckerei Schmidt\",\"ort\":null,"
                        "\"beginn\":\"2020-02-29\",\"umsatz\":\"12345678901234567890.12\"},"
                        "\"etag\":\"",
                        0),
            0u)
      << r;

  r = Cli({"--format", "csv", "get", "Betrieb", "2", "--fields", "name,beginn"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "name,beginn\r\nWeißgerber GmbH,\r\n") << r;
  EXPECT_EQ(r.err.rfind("etag: ", 0), 0u) << r;
}

TEST_F(CliEndToEnd, GetErrors) {
  CliResult r = Cli({"get", "Betrieb", "99999"});
  EXPECT_EQ(r.code, 3) << r;
  EXPECT_NE(r.err.find("(NOT_FOUND"), std::string::npos) << r;

  r = Cli({"get", "Betrieb", "abc"});
  EXPECT_EQ(r.code, 4) << r;
  EXPECT_EQ(r.err,
            "fachadapter: key field 'nr' (int64): 'abc' is not an int64 (expected a whole "
            "number such as 42)\n");

  r = Cli({"get", "Betrieb", "1", "2"});
  EXPECT_EQ(r.code, 2) << r;

  r = Cli({"get", "Betrieb", "1", "--fields", "name,gibtsnicht"});
  EXPECT_EQ(r.code, 4) << r;
  EXPECT_NE(r.err.find("field gibtsnicht"), std::string::npos) << r;
}

TEST_F(CliEndToEnd, QueryFormats) {
  CliResult r = Cli({"--format", "csv", "query", "Betrieb", "--filter", "nr <= 3",
                     "--order-by", "nr"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out,
            "nr,name,ort,beginn,umsatz\r\n"
            "1,\"Müller; \"\"Söhne\"\"\",Köln,2019-04-01,1234.50\r\n"
            "2,Weißgerber GmbH,Zürich,,0.10\r\n"
            "3,Bäckerei Schmidt,,2020-02-29,12345678901234567890.12\r\n")
      << r;
  EXPECT_EQ(r.err, "");

  r = Cli({"query", "Betrieb", "--filter", "nr in (1, 2, 3)", "--order-by", "-nr",
           "--format", "json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out,
            "{\"nr\":3,\"name\":\"Bäckerei Schmidt\",\"ort\":null,\"beginn\":\"2020-02-29\","
            "\"umsatz\":\"12345678901234567890.12\"}\n"
            "{\"nr\":2,\"name\":\"Weißgerber GmbH\",\"ort\":\"Zürich\",\"beginn\":null,"
            "\"umsatz\":\"0.10\"}\n"
            "{\"nr\":1,\"name\":\"Müller; \\\"Söhne\\\"\",\"ort\":\"Köln\",\"beginn\":"
            "\"2019-04-01\",\"umsatz\":\"1234.50\"}\n")
      << r;

  r = Cli({"query", "Betrieb", "--filter", "ort = 'Nirgendwo'", "--fields", "nr,ort"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "nr  ort\n--  ---\n(no records)\n") << r;
  r = Cli({"--format", "csv", "query", "Betrieb", "--filter", "ort = 'Nirgendwo'", "--fields",
           "nr,ort"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "nr,ort\r\n") << r;

  // The table aligns by characters, not bytes: "Müller" is as wide as "Muller".
  r = Cli({"query", "Betrieb", "--filter", "nr <= 3", "--fields", "name,nr", "--order-by", "nr"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out,
            "name              nr\n"
            "----------------  --\n"
            "Müller; \"Söhne\"    1\n"
            "Weißgerber GmbH    2\n"
            "Bäckerei Schmidt   3\n")
      << r;
}

TEST_F(CliEndToEnd, QueryFiltersAreTypedByTheSchema) {
  CliResult r = Cli({"--format", "csv", "query", "Betrieb", "--fields", "nr", "--filter",
                     "name like 'M%' or (beginn >= '2020-01-01' and beginn < 2021-01-01) "
                     "or umsatz = 0.1",
                     "--order-by", "nr"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "nr\r\n1\r\n2\r\n3\r\n") << r;

  r = Cli({"--format", "csv", "query", "Betrieb", "--fields", "nr", "--filter",
           "ort is null or ort prefix 'Zü'", "--order-by", "nr"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "nr\r\n2\r\n3\r\n") << r;

  r = Cli({"--format", "csv", "query", "Betrieb", "--fields", "nr", "--filter",
           "not ort = 'Bonn' and nr > \"240\"", "--order-by", "nr"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "nr\r\n242\r\n244\r\n246\r\n248\r\n250\r\n") << r;

  r = Cli({"query", "Betrieb", "--filter", "nr = 'abc'"});
  EXPECT_EQ(r.code, 4) << r;
  EXPECT_NE(r.err.find("field 'nr' (int64): 'abc' is not an int64"), std::string::npos) << r;
  EXPECT_NE(r.err.find("at column 6\n  nr = 'abc'\n       ^\n"), std::string::npos) << r;

  r = Cli({"query", "Betrieb", "--filter", "ort = 'Köln' and"});
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_NE(r.err.find("at column 17"), std::string::npos) << r;
  EXPECT_EQ(r.out, "");

  r = Cli({"query", "Betrieb", "--filter", "strasse = 'x'"});
  EXPECT_EQ(r.code, 4) << r;
  EXPECT_NE(r.err.find("unknown field 'strasse'"), std::string::npos) << r;
}

TEST_F(CliEndToEnd, LimitAndPageTokensCoverEverything) {
  CliResult all = Cli({"--format", "csv", "query", "Betrieb", "--fields", "nr", "--order-by",
                       "-nr", "--batch-size", "7"});
  ASSERT_EQ(all.code, 0) << all;
  ASSERT_EQ(Lines(all.out), 251u) << all;  // header + 250

  std::string pages = "nr\r\n";
  std::string token;
  int calls = 0;
  for (; calls < 10; ++calls) {
    std::vector<std::string> args = {"--format", "csv", "query", "Betrieb", "--fields", "nr",
                                     "--order-by", "-nr", "--limit", "100"};
    if (!token.empty()) args.insert(args.end(), {"--page-token", token});
    CliResult r = Cli(args);
    ASSERT_EQ(r.code, 0) << r;
    ASSERT_EQ(r.out.rfind("nr\r\n", 0), 0u) << r;
    pages += r.out.substr(4);
    std::smatch m;
    static const std::regex kToken("^next_page_token: (\\S+)\n$");
    if (!std::regex_match(r.err, m, kToken)) {
      EXPECT_EQ(r.err, "") << r;
      break;
    }
    token = m[1];
  }
  EXPECT_EQ(calls, 2);  // 100 + 100 + 50
  EXPECT_EQ(pages, all.out);

  CliResult bad = Cli({"query", "Betrieb", "--page-token", "bm9wZQ"});
  EXPECT_EQ(bad.code, 4) << bad;
  EXPECT_NE(bad.err.find("INVALID_ARGUMENT"), std::string::npos) << bad;
}

TEST_F(CliEndToEnd, LargeTableStreamsInBlocks) {
  CliResult r = Cli({"query", "Betrieb", "--fields", "nr,name"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(Lines(r.out), 252u) << r;  // header, rule, 250 records
}

TEST_F(CliEndToEnd, CreateUpdateDelete) {
  CliResult r = Cli({"--format", "json", "create", "Betrieb", "name=Neue Bäckerei", "ort=Bonn",
                     "beginn=2024-05-02", "umsatz=99.90", "--idempotency-key", "key-1"});
  ASSERT_EQ(r.code, 0) << r;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(^\{"record":\{"nr":(\d+),)"))) << r;
  std::string nr = m[1];
  EXPECT_NE(r.out.find("\"name\":\"Neue Bäckerei\",\"ort\":\"Bonn\",\"beginn\":\"2024-05-02\","
                       "\"umsatz\":\"99.90\"}"),
            std::string::npos)
      << r;
  EXPECT_NE(r.out.find("\"replayed\":false"), std::string::npos) << r;

  // The same key and values: the first result again, no second record.
  CliResult again = Cli({"--format", "json", "create", "Betrieb", "name=Neue Bäckerei",
                         "ort=Bonn", "beginn=2024-05-02", "umsatz=99.90", "--idempotency-key",
                         "key-1"});
  ASSERT_EQ(again.code, 0) << again;
  EXPECT_NE(again.out.find("{\"record\":{\"nr\":" + nr + ","), std::string::npos) << again;
  EXPECT_NE(again.out.find("\"replayed\":true"), std::string::npos) << again;
  // The same key with other values.
  CliResult reused = Cli({"create", "Betrieb", "name=Andere", "--idempotency-key", "key-1"});
  EXPECT_EQ(reused.code, 4) << reused;
  EXPECT_NE(reused.err.find("reason IDEMPOTENCY_KEY_REUSED"), std::string::npos) << reused;

  // Update with the etag from get; then the old etag is stale.
  r = Cli({"--format", "json", "get", "Betrieb", nr});
  ASSERT_EQ(r.code, 0) << r;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"re("etag":"([^"]+)")re"))) << r;
  std::string etag = m[1];
  r = Cli({"update", "Betrieb", nr, "ort=Köln", "beginn:=null", "--etag", etag});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("ort     Köln\n"), std::string::npos) << r;
  EXPECT_NE(r.out.find("beginn  NULL\n"), std::string::npos) << r;
  r = Cli({"update", "Betrieb", nr, "ort=Bonn", "--etag", etag});
  EXPECT_EQ(r.code, 4) << r;
  EXPECT_NE(r.err.find("(ABORTED, reason ETAG_MISMATCH"), std::string::npos) << r;
  r = Cli({"update", "Betrieb", nr, "umsatz=1,5"});
  EXPECT_EQ(r.code, 4) << r;
  EXPECT_NE(r.err.find("field 'umsatz' (decimal): '1,5' is not a decimal"), std::string::npos)
      << r;
  r = Cli({"update", "Betrieb", nr});
  EXPECT_EQ(r.code, 2) << r;

  r = Cli({"delete", "Betrieb", nr, "--etag", etag});
  EXPECT_EQ(r.code, 4) << r;
  r = Cli({"delete", "Betrieb", nr});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "deleted\n");
  r = Cli({"get", "Betrieb", nr});
  EXPECT_EQ(r.code, 3) << r;
  r = Cli({"delete", "Betrieb", nr});
  EXPECT_EQ(r.code, 3) << r;
}

TEST_F(CliEndToEnd, UnreachableAfterTheDaemonStops) {
  kill(daemon_, SIGTERM);
  std::optional<int> status = WaitFor(daemon_, std::chrono::seconds(30));
  ASSERT_TRUE(status && WIFEXITED(*status)) << ReadFile(daemon_log_);
  daemon_ = -1;
  CliResult r = Cli({"--timeout", "10", "entities"});
  EXPECT_EQ(r.code, 5) << r;
  EXPECT_EQ(r.err.rfind("fachadapter: cannot reach fachadapterd at " + target_ + ": ", 0), 0u)
      << r;
}

}  // namespace
}  // namespace fachadapter::cli
