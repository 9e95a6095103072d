// The command line: options, arguments typed against the schema, and the exit codes of
// runs that fail before or at the connection.
#include "cli.h"
#include "command_line.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "errors.h"
#include "test_schema.h"

namespace fachadapter::cli {
namespace {

using testing::TestSchema;

Invocation Parsed(const std::vector<std::string>& args, const char* env = nullptr) {
  Invocation inv;
  std::string error;
  EXPECT_TRUE(ParseCommandLine(args, env, &inv, &error)) << error;
  return inv;
}

std::string UsageError(const std::vector<std::string>& args) {
  Invocation inv;
  std::string error;
  EXPECT_FALSE(ParseCommandLine(args, nullptr, &inv, &error));
  return error;
}

TEST(CommandLine, Defaults) {
  Invocation inv = Parsed({"entities"});
  EXPECT_EQ(inv.command, "entities");
  EXPECT_EQ(inv.global.target, "127.0.0.1:50051");
  EXPECT_EQ(inv.global.format, OutputFormat::kTable);
  EXPECT_EQ(inv.global.timeout_seconds, 30);
  EXPECT_EQ(Parsed({"entities"}, "db.example:7000").global.target, "db.example:7000");
  EXPECT_EQ(Parsed({"--target", "h:1", "entities"}, "db.example:7000").global.target, "h:1");
}

TEST(CommandLine, GlobalOptionsBeforeAndAfterTheCommand) {
  Invocation inv = Parsed({"--target=h:9", "--format", "csv", "query", "Gewerbebetrieb",
                           "--limit", "5", "--timeout=2.5", "--filter=ort = 'a=b'"});
  EXPECT_EQ(inv.global.target, "h:9");
  EXPECT_EQ(inv.global.format, OutputFormat::kCsv);
  EXPECT_EQ(inv.global.timeout_seconds, 2.5);
  EXPECT_EQ(inv.command, "query");
  EXPECT_EQ(inv.positionals, std::vector<std::string>{"Gewerbebetrieb"});
  EXPECT_EQ(inv.options.at("limit"), "5");
  EXPECT_EQ(inv.options.at("filter"), "ort = 'a=b'");
}

TEST(CommandLine, NegativeNumbersAndDoubleDash) {
  Invocation inv = Parsed({"get", "Konto", "-5"});
  EXPECT_EQ(inv.positionals, (std::vector<std::string>{"Konto", "-5"}));
  inv = Parsed({"get", "Konto", "--", "--odd-key", "--help"});
  EXPECT_EQ(inv.positionals, (std::vector<std::string>{"Konto", "--odd-key", "--help"}));
  EXPECT_FALSE(inv.help);
}

TEST(CommandLine, HelpAndVersion) {
  EXPECT_TRUE(Parsed({"--help"}).help);
  EXPECT_TRUE(Parsed({"-h"}).help);
  Invocation inv = Parsed({"help", "query"});
  EXPECT_TRUE(inv.help);
  EXPECT_EQ(inv.command, "query");
  inv = Parsed({"query", "--help"});
  EXPECT_TRUE(inv.help);
  EXPECT_TRUE(Parsed({"--version"}).version);
}

TEST(CommandLine, UsageErrors) {
  EXPECT_NE(UsageError({"frobnicate"}).find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(UsageError({"help", "frobnicate"}).find("unknown command"), std::string::npos);
  EXPECT_NE(UsageError({"--bogus", "entities"}).find("unknown option --bogus"), std::string::npos);
  EXPECT_NE(UsageError({"get", "E", "1", "--limit", "3"}).find("not valid for 'get'"),
            std::string::npos);
  EXPECT_NE(UsageError({"--limit", "3", "query", "E"}).find("belongs after a command"),
            std::string::npos);
  EXPECT_NE(UsageError({"query", "E", "--filter"}).find("needs a value"), std::string::npos);
  EXPECT_NE(UsageError({"--format", "xml", "entities"}).find("table, json or csv"),
            std::string::npos);
  EXPECT_NE(UsageError({"--timeout", "-1", "entities"}).find("--timeout"), std::string::npos);
  EXPECT_NE(UsageError({"--timeout", "soon", "entities"}).find("--timeout"), std::string::npos);
  EXPECT_NE(UsageError({"--target=", "entities"}).find("--target"), std::string::npos);
  EXPECT_NE(UsageError({"query", "E", "--limit=1", "--limit=2"}).find("given twice"),
            std::string::npos);
  EXPECT_NE(UsageError({"--help=yes"}).find("takes no value"), std::string::npos);
}

TEST(CommandLine, FieldListsAndOrder) {
  std::vector<std::string> fields;
  std::string error;
  ASSERT_TRUE(ParseFieldList("a, b ,c", &fields, &error));
  EXPECT_EQ(fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(ParseFieldList("a,,b", &fields, &error));
  EXPECT_FALSE(ParseFieldList("", &fields, &error));

  google::protobuf::RepeatedPtrField<v1::OrderBy> order;
  ASSERT_TRUE(ParseOrderBy("ort,-beginn,+name", &order, &error)) << error;
  ASSERT_EQ(order.size(), 3);
  EXPECT_EQ(order[0].field(), "ort");
  EXPECT_FALSE(order[0].descending());
  EXPECT_EQ(order[1].field(), "beginn");
  EXPECT_TRUE(order[1].descending());
  EXPECT_EQ(order[2].field(), "name");
  EXPECT_FALSE(order[2].descending());
  order.Clear();
  EXPECT_FALSE(ParseOrderBy("a,-", &order, &error));
  EXPECT_NE(error.find("names no field"), std::string::npos) << error;
}

TEST(CommandLine, QueryOptions) {
  v1::QueryRequest req;
  std::string error;
  ASSERT_TRUE(ParseQueryOptions({{"fields", "nr,name"}, {"order-by", "-nr"}, {"limit", "100"},
                                 {"page-token", "tok"}, {"batch-size", "7"}, {"filter", "x"}},
                                &req, &error))
      << error;
  EXPECT_EQ(req.fields_size(), 2);
  EXPECT_EQ(req.order_by(0).field(), "nr");
  EXPECT_TRUE(req.order_by(0).descending());
  EXPECT_EQ(req.limit(), 100);
  EXPECT_EQ(req.page_token(), "tok");
  EXPECT_EQ(req.batch_size(), 7);
  EXPECT_FALSE(req.has_filter());  // needs the schema: ParseFilter

  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"limit", "-1"}, {"limit", "1.5"}, {"limit", "lots"}, {"limit", ""},
           {"batch-size", "2147483648"}, {"batch-size", "-3"}, {"fields", "a,"}}) {
    v1::QueryRequest r;
    EXPECT_FALSE(ParseQueryOptions({{name, value}}, &r, &error)) << name << "=" << value;
    EXPECT_NE(error.find(name == "fields" ? "empty field name" : "--" + name), std::string::npos)
        << error;
  }
}

TEST(CommandLine, HelpTexts) {
  EXPECT_EQ(HelpText(""), UsageText());
  EXPECT_EQ(HelpText("nope"), UsageText());
  EXPECT_EQ(HelpText("update").rfind("Usage: fachadapter [options] update ENTITY KEY...", 0), 0u);
  for (const char* c : {"entities", "describe", "get", "query", "create", "update", "delete"}) {
    EXPECT_NE(UsageText().find(std::string("  ") + c + " "), std::string::npos) << c;
  }
}

TEST(CommandLine, Assignments) {
  v1::EntitySchema s = TestSchema();
  std::string field, error;
  v1::Value v;
  bool usage = false;
  ASSERT_TRUE(ParseAssignment("name=Müller = Meier", s, &field, &v, &error, &usage)) << error;
  EXPECT_EQ(field, "name");
  EXPECT_EQ(v.string_value(), "Müller = Meier");
  ASSERT_TRUE(ParseAssignment("umsatz=1234.50", s, &field, &v, &error, &usage)) << error;
  EXPECT_EQ(v.decimal_value().value(), "1234.50");
  ASSERT_TRUE(ParseAssignment("name=", s, &field, &v, &error, &usage)) << error;
  EXPECT_EQ(v.string_value(), "");
  ASSERT_TRUE(ParseAssignment("name:=null", s, &field, &v, &error, &usage)) << error;
  EXPECT_TRUE(v.has_null_value());
  ASSERT_TRUE(ParseAssignment("name:='null'", s, &field, &v, &error, &usage)) << error;
  EXPECT_EQ(v.string_value(), "null");
  ASSERT_TRUE(ParseAssignment("beginn:='2019-04-01'", s, &field, &v, &error, &usage)) << error;
  EXPECT_EQ(v.date_value().year(), 2019);

  EXPECT_FALSE(ParseAssignment("betriebsnummer=abc", s, &field, &v, &error, &usage));
  EXPECT_FALSE(usage);
  EXPECT_EQ(error,
            "field 'betriebsnummer' (int64): 'abc' is not an int64 (expected a whole number such "
            "as 42)");
  EXPECT_FALSE(ParseAssignment("strasse=x", s, &field, &v, &error, &usage));
  EXPECT_FALSE(usage);
  EXPECT_EQ(error, "unknown field 'strasse' in entity Gewerbebetrieb");
  EXPECT_FALSE(ParseAssignment("name", s, &field, &v, &error, &usage));
  EXPECT_TRUE(usage);
  EXPECT_FALSE(ParseAssignment("=x", s, &field, &v, &error, &usage));
  EXPECT_TRUE(usage);
  EXPECT_FALSE(ParseAssignment("name:='unterminated", s, &field, &v, &error, &usage));
  EXPECT_TRUE(usage);
  EXPECT_NE(error.find("^"), std::string::npos) << error;
}

TEST(CommandLine, Keys) {
  v1::EntitySchema s = TestSchema();
  v1::Key key;
  std::string error;
  ASSERT_TRUE(ParseKey({"1001"}, s, &key, &error)) << error;
  ASSERT_EQ(key.values_size(), 1);
  EXPECT_EQ(key.values(0).int_value(), 1001);
  EXPECT_FALSE(ParseKey({"x"}, s, &key, &error));
  EXPECT_EQ(error,
            "key field 'betriebsnummer' (int64): 'x' is not an int64 (expected a whole number "
            "such as 42)");
  EXPECT_FALSE(ParseKey({"1", "2"}, s, &key, &error));
  EXPECT_EQ(error,
            "entity Gewerbebetrieb has 1 key field(s) (betriebsnummer), but 2 key value(s) were "
            "given");
}

struct CliRun {
  int code;
  std::string out, err;
};

CliRun RunArgs(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = RunCli(args, nullptr, out, err);
  return {code, out.str(), err.str()};
}

TEST(RunCli, HelpVersionAndUsage) {
  CliRun r = RunArgs({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Exit codes:"), std::string::npos);
  EXPECT_NE(r.out.find("  3  not found"), std::string::npos);
  r = RunArgs({"query", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--page-token T"), std::string::npos);
  r = RunArgs({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("fachadapter ", 0), 0u);
  r = RunArgs({});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("Usage:"), std::string::npos);
  r = RunArgs({"frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err.rfind("fachadapter: unknown command 'frobnicate'", 0), 0u) << r.err;
}

// A loopback port with nothing listening: bound once to learn a free number, then closed.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(RunCli, ArgumentErrorsNeedNoServer) {
  // Checked before any connection: exit 2 even though nothing listens.
  std::string target = "127.0.0.1:" + std::to_string(ClosedPort());
  CliRun r = RunArgs({"--target", target, "query", "E", "--limit", "many"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--limit"), std::string::npos) << r.err;
  r = RunArgs({"--target", target, "query", "E", "--order-by", ","});
  EXPECT_EQ(r.code, kExitUsage);
  r = RunArgs({"--target", target, "describe"});
  EXPECT_EQ(r.code, kExitUsage);
  r = RunArgs({"--target", target, "entities", "extra"});
  EXPECT_EQ(r.code, kExitUsage);
}

TEST(RunCli, UnreachableServer) {
  std::string target = "127.0.0.1:" + std::to_string(ClosedPort());
  CliRun r = RunArgs({"--target", target, "--timeout", "10", "entities"});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_EQ(r.err.rfind("fachadapter: cannot reach fachadapterd at " + target + ": ", 0), 0u)
      << r.err;
  EXPECT_NE(r.err.find("(UNAVAILABLE)"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  r = RunArgs({"--target", target, "--timeout", "10", "query", "Gewerbebetrieb", "--filter",
               "ort = 'x'"});
  EXPECT_EQ(r.code, kExitUnavailable);
  // No limit, or one too far away to matter, is no deadline at all.
  EXPECT_EQ(RunArgs({"--target", target, "--timeout", "0", "entities"}).code, kExitUnavailable);
  EXPECT_EQ(RunArgs({"--target", target, "--timeout", "1e300", "entities"}).code,
            kExitUnavailable);
}

}  // namespace
}  // namespace fachadapter::cli
