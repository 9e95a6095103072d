// bench_odbc_pg: the ODBC connector against a real PostgreSQL (psqlODBC), each measure with its
// raw-ODBC baseline in the same run (issue 3, item 9; docs/performance.md).
//
// stream  A: Query of every row and column of a table of N rows (10 mixed columns) through the
//            real fachadapterd, started as a separate process, to a gRPC client in this
//            process. B: the same statement through the same driver and connection string in
//            this process, bound columns, SQL_ATTR_ROW_ARRAY_SIZE block fetch, psqlODBC
//            UseDeclareFetch so that it streams. Ratio A/B of rows/s; target >= 0.8.
// memory     Peak RSS (VmHWM) of the daemon while it streams a table of M rows (default 10M) to
//            the client; target < 100 MB. Its RSS is sampled along the way.
// get     A: C concurrent gRPC clients (own channel and connection each) doing Get by random
//            primary key through the daemon. B: C threads in this process, each with its own
//            ODBC connection, executing the prepared SELECT by key. Ratio A/B of requests/s;
//            target >= 0.5.
//
// The data lives in its own database (default fachadapter_bench) on the server the DSN names,
// in tables fa_bench_v1_<rows>, generated server-side with generate_series on first use and
// reused afterwards (a table is created and filled in one transaction, so one that exists is
// complete).
//
// Usage: bench_odbc_pg [options]   (--help lists them)
// Exit codes: 0 when every measure ran and returned what it should (whatever the ratios), 1 on
// a failure, 2 on a bad command line, 77 when no DSN is given (CTest counts that as skipped).

#include <sql.h>
#include <sqlext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <yaml-cpp/yaml.h>

#include "common/bench_util.h"
#include "fachadapter/v1/adapter.grpc.pb.h"

namespace {

namespace v1 = ::fachadapter::v1;
using namespace ::fachadapter::bench;  // NOLINT: the bench's own helpers

constexpr int kSkipped = 77;

/// "<what>: ratio 0.123, target >= 0.8: met".
std::string Verdict(const char* what, double ratio, double target) {
  char line[128];
  std::snprintf(line, sizeof line, "%s: ratio %.3f, target >= %.1f: %s", what, ratio, target,
                ratio >= target ? "met" : "NOT met");
  return line;
}

struct Options {
  std::string dsn;                           // default: $FACHADAPTER_TEST_PG_DSN
  std::string database = "fachadapter_bench";
  int64_t rows = 1000000;                    // table of the stream and get measures
  int64_t memory_rows = 10000000;            // table of the memory measure
  int repetitions = 3;                       // timed runs of each measure, after a warm-up
  int batch_size = 1000;                     // QueryRequest.batch_size
  int fetch_rows = 1000;                     // SQL_ATTR_ROW_ARRAY_SIZE and psqlODBC Fetch, both sides
  int clients = 32;                          // concurrent clients of the get measure
  double get_seconds = 5;                    // length of one timed get run
  std::set<std::string> only;                // measures to run; empty: all
  // ODBC attributes for the get baseline only. A program doing point selects leaves psqlODBC
  // in its default mode, one round trip per statement; the connector cannot (its connections
  // must stream), so the default compares against the database's real point-select rate.
  std::string raw_get_options = "UseDeclareFetch=0";
  std::string odbc_options;                  // ODBC attributes overriding the defaults, both sides
  std::vector<std::pair<std::string, std::string>> source_settings;  // --source-setting, in order
  fs::path daemon;                           // default: beside this program
  bool keep = false;
};

constexpr const char* kUsage =
    "usage: bench_odbc_pg [options]\n"
    "  --dsn S            ODBC connection string of the PostgreSQL server (psqlODBC)\n"
    "                     (default: $FACHADAPTER_TEST_PG_DSN; without either: skipped, exit 77)\n"
    "  --database NAME    database the bench creates and fills (default fachadapter_bench)\n"
    "  --rows N           rows of the stream and get table (default 1000000)\n"
    "  --memory-rows M    rows streamed for the daemon's peak memory (default 10000000)\n"
    "  --only LIST        comma-separated subset of stream,memory,get (default: all)\n"
    "  --repetitions R    timed runs of each measure after one warm-up (default 3)\n"
    "  --batch-size B     records per Query message (default 1000)\n"
    "  --fetch-rows F     rows per SQLFetch and per psqlODBC cursor FETCH, both sides (default 1000)\n"
    "  --clients C        concurrent clients of the get measure (default 32)\n"
    "  --get-seconds S    length of each timed get run (default 5)\n"
    "  --odbc-options S   ODBC attributes overriding the connection string of both sides, e.g.\n"
    "                     'UseDeclareFetch=0' to see point reads without psqlODBC's cursor mode\n"
    "                     (the daemon then reads whole results into memory)\n"
    "  --raw-get-options S  ODBC attributes overriding the connection string of the get\n"
    "                     baseline only (default 'UseDeclareFetch=0': psqlODBC's default, no\n"
    "                     cursor; 'UseDeclareFetch=1' gives it the daemon's options)\n"
    "  --source-setting K=V  an ODBC source setting for the daemon's config (YAML scalar), e.g.\n"
    "                     fetch_ahead=false to see streaming without fetching ahead; repeatable\n"
    "  --daemon PATH      fachadapterd to start (default: the one beside this program)\n"
    "  --keep             keep the work folder (config, daemon log)\n";

Options ParseOptions(int argc, char** argv) {
  Options o;
  if (const char* dsn = std::getenv("FACHADAPTER_TEST_PG_DSN")) o.dsn = dsn;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) throw UsageError(a + " needs a value");
      return argv[++i];
    };
    if (a == "--dsn") o.dsn = value();
    else if (a == "--database") o.database = value();
    else if (a == "--rows") o.rows = ParseCount(a, value(), 1, 1000000000);
    else if (a == "--memory-rows") o.memory_rows = ParseCount(a, value(), 1, 1000000000);
    else if (a == "--repetitions") o.repetitions = static_cast<int>(ParseCount(a, value(), 1, 100));
    else if (a == "--batch-size") o.batch_size = static_cast<int>(ParseCount(a, value(), 1, 10000));
    else if (a == "--fetch-rows") o.fetch_rows = static_cast<int>(ParseCount(a, value(), 1, 100000));
    else if (a == "--clients") o.clients = static_cast<int>(ParseCount(a, value(), 1, 1000));
    else if (a == "--get-seconds") o.get_seconds = static_cast<double>(ParseCount(a, value(), 1, 3600));
    else if (a == "--raw-get-options") o.raw_get_options = value();
    else if (a == "--odbc-options") o.odbc_options = value();
    else if (a == "--source-setting") {
      const std::string kv = value();
      const size_t eq = kv.find('=');
      if (eq == 0 || eq == std::string::npos) throw UsageError("--source-setting wants KEY=VALUE, not '" + kv + "'");
      o.source_settings.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    else if (a == "--daemon") o.daemon = value();
    else if (a == "--keep") o.keep = true;
    else if (a == "--only") {
      std::istringstream in(value());
      for (std::string m; std::getline(in, m, ',');) {
        if (m != "stream" && m != "memory" && m != "get") {
          throw UsageError("--only knows stream, memory, get; not '" + m + "'");
        }
        o.only.insert(m);
      }
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      throw UsageError("unknown option '" + a + "'");
    }
  }
  // A database name goes into SQL text and the connection string: keep it an identifier.
  const bool plain = !o.database.empty() && std::all_of(o.database.begin(), o.database.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
  if (!plain) throw UsageError("--database wants lower-case letters, digits and '_', not '" + o.database + "'");
  if (o.daemon.empty()) o.daemon = fs::read_symlink("/proc/self/exe").parent_path() / "fachadapterd";
  return o;
}

bool Wants(const Options& o, const char* measure) { return o.only.empty() || o.only.count(measure) > 0; }

// ---- The data ----

/// The ten columns, in table order: what a register of businesses might hold.
constexpr const char* kColumns[] = {"id",      "name",   "city",       "street", "amount",
                                    "opened",  "changed_at", "active", "employees", "score"};

std::string TableName(int64_t rows) { return "fa_bench_v1_" + std::to_string(rows); }

/// Creates `database` on the server unless it exists. A concurrent creator may win the race;
/// its database is as good as ours.
void EnsureDatabase(const std::string& dsn, const std::string& database) {
  RawOdbc admin(dsn);
  if (admin.QueryInt("SELECT count(*) FROM pg_database WHERE datname = '" + database + "'") > 0) return;
  try {
    admin.Execute("CREATE DATABASE " + database);
  } catch (const BenchError&) {
    if (admin.QueryInt("SELECT count(*) FROM pg_database WHERE datname = '" + database + "'") == 0) throw;
  }
}

/// Creates and fills table fa_bench_v1_<rows> unless it exists; returns the seconds it took
/// (0 when reused). Mixed types with some NULLs and non-ASCII text; every value is derived from
/// the key, so a reload gives the same table.
double EnsureTable(RawOdbc& db, int64_t rows) {
  const std::string table = TableName(rows);
  const std::string exists = "SELECT count(*) FROM pg_class WHERE relname = '" + table + "' AND relkind = 'r'";
  // One loader at a time (a ctest smoke may run beside a manual run).
  db.QueryInt("SELECT 1 FROM (SELECT pg_advisory_lock(4242001)) l");
  struct Unlock {
    RawOdbc& db;
    ~Unlock() {
      try {
        db.QueryInt("SELECT 1 FROM (SELECT pg_advisory_unlock(4242001)) l");
      } catch (const BenchError&) {
        // The session ends with the connection, and its lock with it.
      }
    }
  } unlock{db};
  if (db.QueryInt(exists) > 0) return 0;

  const auto t0 = Clock::now();
  OdbcCheck(SQLSetConnectAttr(db.dbc(), SQL_ATTR_AUTOCOMMIT, reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_OFF), 0),
            SQL_HANDLE_DBC, db.dbc(), "starting a transaction");
  try {
    db.Execute("CREATE TABLE " + table +
               " (id bigint NOT NULL, name varchar(40) NOT NULL, city varchar(30), street varchar(60), "
               "amount numeric(12,2) NOT NULL, opened date NOT NULL, changed_at timestamp, active boolean NOT NULL, "
               "employees integer, score double precision)");
    db.Execute("INSERT INTO " + table +
               " SELECT g, 'Betrieb ' || g,"
               " CASE WHEN g % 17 = 0 THEN NULL ELSE (ARRAY['Berlin', 'Hamburg', 'München', 'Köln',"
               " 'Frankfurt am Main', 'Düsseldorf', 'Görlitz'])[1 + g % 7] END,"
               " 'Hauptstraße ' || (1 + g % 250),"
               " ((g * 7919) % 10000000000) / 100.0,"
               " date '1990-01-01' + (g % 12000)::int,"
               " CASE WHEN g % 23 = 0 THEN NULL ELSE timestamp '2020-01-01 00:00:00' + g * interval '37 seconds' END,"
               " g % 3 <> 0,"
               " CASE WHEN g % 11 = 0 THEN NULL ELSE (g % 500)::int END,"
               " (g % 10007) / 7.0"
               " FROM generate_series(1::bigint, " + std::to_string(rows) + "::bigint) g");
    db.Execute("ALTER TABLE " + table + " ADD PRIMARY KEY (id)");
    OdbcCheck(SQLEndTran(SQL_HANDLE_DBC, db.dbc(), SQL_COMMIT), SQL_HANDLE_DBC, db.dbc(), "committing the load");
  } catch (...) {
    SQLEndTran(SQL_HANDLE_DBC, db.dbc(), SQL_ROLLBACK);
    SQLSetConnectAttr(db.dbc(), SQL_ATTR_AUTOCOMMIT, reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_ON), 0);
    throw;
  }
  OdbcCheck(SQLSetConnectAttr(db.dbc(), SQL_ATTR_AUTOCOMMIT, reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_ON), 0),
            SQL_HANDLE_DBC, db.dbc(), "ending the transaction");
  // Visibility map, hint bits and statistics now, not during the first timed read.
  db.Execute("VACUUM ANALYZE " + table);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// The statement the connector runs for a Query of all fields with no filter: every column,
/// ordered by the key (the core always appends the key as the tie-breaker).
std::string StreamSql(int64_t rows) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < std::size(kColumns); ++i) sql += std::string(i ? ", \"" : "\"") + kColumns[i] + "\"";
  return sql + " FROM \"" + TableName(rows) + "\" ORDER BY \"id\" ASC";
}

// ---- The daemon ----

std::string EntityName(int64_t rows) { return "Rows" + std::to_string(rows); }

/// A config serving each table as an entity of its raw shape (no mapping), on a free loopback
/// port, without the per-caller limits that would throttle a benchmark client.
void WriteConfig(const Options& o, const std::string& connection_string, const std::set<int64_t>& tables,
                 const fs::path& out) {
  YAML::Node cfg;
  cfg["server"]["listen"] = "127.0.0.1:0";
  cfg["limits"]["max_batch_records"] = 10000;
  cfg["limits"]["default_batch_records"] = 1000;
  cfg["limits"]["rate_limit_per_second"] = 0;
  cfg["limits"]["max_concurrent_calls_per_principal"] = 100000;
  YAML::Node source = cfg["sources"]["pg"];
  source["connector"] = "odbc";
  source["settings"]["connection_string"] = connection_string;
  source["settings"]["batch_size"] = o.fetch_rows;
  // As many connections as the baseline has.
  source["settings"]["pool_size"] = std::max(4, o.clients);
  for (const auto& [key, value] : o.source_settings) source["settings"][key] = YAML::Load(value);
  for (int64_t rows : tables) {
    YAML::Node e = cfg["entities"][EntityName(rows)];
    e["source"] = "pg";
    e["table"] = TableName(rows);
  }
  std::ofstream file(out);
  file << "# Written by bench_odbc_pg\n" << cfg << "\n";
  if (!file) throw BenchError("cannot write " + out.string());
}

std::unique_ptr<v1::Adapter::Stub> Connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  // Each client its own TCP connection, as separate client processes would have.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::Adapter::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

// ---- stream ----

struct Streamed {
  int64_t records = 0;
  int64_t messages = 0;
  int64_t wire_bytes = 0;  // serialized size of the responses; only when asked (it costs time)
  int fields = 0;
};

/// Streams the entity to its end. `every` > 0 calls `progress(records)` about every that many
/// records.
Streamed StreamQuery(v1::Adapter::Stub& stub, const std::string& entity, int batch_size, bool measure_bytes,
                     int64_t every = 0, const std::function<void(int64_t)>& progress = {}) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(2));
  v1::QueryRequest req;
  req.set_entity(entity);
  req.set_batch_size(batch_size);
  std::unique_ptr<grpc::ClientReader<v1::QueryResponse>> reader = stub.Query(&ctx, req);
  v1::QueryResponse resp;  // reused: its records keep their allocations from message to message
  Streamed out;
  int64_t next = every;
  while (reader->Read(&resp)) {
    if (out.messages == 0) out.fields = resp.fields_size();
    ++out.messages;
    out.records += resp.batch().records_size();
    if (measure_bytes) out.wire_bytes += static_cast<int64_t>(resp.ByteSizeLong());
    if (every > 0 && out.records >= next) {
      progress(out.records);
      next += every;
    }
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) {
    throw BenchError("Query " + entity + " failed: " + std::to_string(s.error_code()) + " " + s.error_message());
  }
  return out;
}

/// CPU time of the PostgreSQL backends serving the bench database, when the server runs on
/// this machine: both paths ask the same server for the same rows, and its share of the work
/// is large enough that leaving it out would misstate the ratio of the work done.
class ServerCpu {
 public:
  ServerCpu(RawOdbc& db, const std::string& dsn, const std::string& database) : db_(db), database_(database) {
    const std::string server = ConnectionAttribute(dsn, "Server");
    local_ = server == "127.0.0.1" || server == "localhost" || server == "::1" || server.empty();
    local_ = local_ && Pids().size() > 0;
  }
  bool available() const { return local_; }
  /// Seconds used so far by the backends connected to the database now (0 if unavailable).
  double Seconds() {
    if (!local_) return 0;
    double sum = 0;
    for (pid_t pid : Pids()) sum += ProcessCpuSeconds(pid);
    return sum;
  }

 private:
  std::vector<pid_t> Pids() {
    std::vector<pid_t> out;
    std::istringstream in(db_.QueryText("SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE datname = '" +
                                        database_ + "'"));
    for (std::string p; std::getline(in, p, ',');) {
      const pid_t pid = static_cast<pid_t>(std::strtol(p.c_str(), nullptr, 10));
      // The same number on this machine must really be a PostgreSQL backend.
      if (pid > 0 && ReadFile("/proc/" + p + "/comm").rfind("postgres", 0) == 0) out.push_back(pid);
    }
    return out;
  }

  RawOdbc& db_;
  std::string database_;
  bool local_ = false;
};

struct Sample {
  double wall = 0;        // seconds
  double cpu_client = 0;  // seconds of this process
  double cpu_daemon = 0;  // seconds of the daemon (measure A only)
  double cpu_server = 0;  // seconds of the PostgreSQL backends (0 if not measured)
  double count = 0;       // rows or requests
  double rate() const { return count / wall; }
};

struct Summary {
  double best = 0, median = 0;        // rates
  double cpu_client = 0, cpu_daemon = 0;  // median seconds
  double us_client = 0, us_daemon = 0;    // median CPU microseconds per row or request
  double us_server = 0;
};

Summary Summarize(const std::vector<Sample>& samples) {
  std::vector<double> rates, client, daemon, us_client, us_daemon, us_server;
  for (const Sample& s : samples) {
    rates.push_back(s.rate());
    client.push_back(s.cpu_client);
    daemon.push_back(s.cpu_daemon);
    us_client.push_back(s.cpu_client * 1e6 / s.count);
    us_daemon.push_back(s.cpu_daemon * 1e6 / s.count);
    us_server.push_back(s.cpu_server * 1e6 / s.count);
  }
  return {*std::max_element(rates.begin(), rates.end()), Median(rates), Median(client), Median(daemon),
          Median(us_client), Median(us_daemon), Median(us_server)};
}

/// Runs `a` and `b` interleaved R times after one untimed warm-up each, prints every run and
/// returns the median ratio A/B of the rates.
template <typename A, typename B>
double Interleaved(const Options& o, pid_t daemon, ServerCpu& server, const char* unit, const char* name_a,
                   const char* name_b, A a, B b) {
  a();
  b();
  std::vector<Sample> sa, sb;
  std::printf("%-4s %-28s %10s %14s %14s %14s %14s\n", "run", "measure", "wall s", unit, "CPU bench s",
              "CPU daemon s", "CPU server s");
  for (int r = 1; r <= o.repetitions; ++r) {
    Sample s;
    double g0 = server.Seconds(), c0 = SelfCpuSeconds(), d0 = ProcessCpuSeconds(daemon);
    auto t0 = Clock::now();
    s.count = a();
    s.wall = std::chrono::duration<double>(Clock::now() - t0).count();
    s.cpu_client = SelfCpuSeconds() - c0;
    s.cpu_daemon = ProcessCpuSeconds(daemon) - d0;
    s.cpu_server = server.Seconds() - g0;
    sa.push_back(s);
    std::printf("%-4d %-28s %10.3f %14.0f %14.3f %14.3f %14.3f\n", r, name_a, s.wall, s.rate(), s.cpu_client,
                s.cpu_daemon, s.cpu_server);

    Sample t;
    g0 = server.Seconds();
    c0 = SelfCpuSeconds();
    t0 = Clock::now();
    t.count = b();
    t.wall = std::chrono::duration<double>(Clock::now() - t0).count();
    t.cpu_client = SelfCpuSeconds() - c0;
    t.cpu_server = server.Seconds() - g0;
    sb.push_back(t);
    std::printf("%-4d %-28s %10.3f %14.0f %14.3f %14s %14.3f\n", r, name_b, t.wall, t.rate(), t.cpu_client, "-",
                t.cpu_server);
    std::fflush(stdout);
  }
  const Summary x = Summarize(sa), y = Summarize(sb);
  std::printf("\n%-30s %12s %14s %20s\n", "", "best", "median", "CPU us each (+server)");
  std::printf("%-30s %12.0f %14.0f %10.2f (%7.2f)\n", name_a, x.best, x.median, x.us_client + x.us_daemon,
              x.us_client + x.us_daemon + x.us_server);
  std::printf("%-30s %12.0f %14.0f %10.2f (%7.2f)\n", name_b, y.best, y.median, y.us_client,
              y.us_client + y.us_server);
  std::printf("  CPU us each: A daemon %.2f + gRPC client(s) %.2f + server %.2f; B bench %.2f + server %.2f\n",
              x.us_daemon, x.us_client, x.us_server, y.us_client, y.us_server);
  const double ratio = x.median / y.median;
  std::printf("ratio A/B: best %.3f, median %.3f\n", x.best / y.best, ratio);
  // CPU per row or request says how much work each path does, whatever else runs on the
  // machine; it is not the rate: A spreads its work over two processes and many threads.
  std::printf("CPU-time ratio B/A per unit: %.3f with the client's CPU, %.3f daemon only",
              y.us_client / (x.us_client + x.us_daemon), y.us_client / x.us_daemon);
  if (server.available()) {
    std::printf(", %.3f all processes (client, daemon, server)",
                (y.us_client + y.us_server) / (x.us_client + x.us_daemon + x.us_server));
  }
  std::printf("\n");
  return ratio;
}

// ---- get ----

/// Keys drawn uniformly from [1, rows], the same sequence for thread t in A and in B.
class KeyStream {
 public:
  KeyStream(int64_t rows, int thread) : gen_(0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(thread)), dist_(1, rows) {}
  int64_t Next() { return dist_(gen_); }

 private:
  std::mt19937_64 gen_;
  std::uniform_int_distribution<int64_t> dist_;
};

/// Runs `threads` workers until `seconds` have passed; each calls `one(key)` in a loop and
/// counts. Returns the requests done. A worker's first failure stops the run with its message.
template <typename MakeWorker>
int64_t RunConcurrently(int threads, double seconds, int64_t rows, MakeWorker make_worker) {
  std::atomic<int64_t> done{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::string failure;
  std::vector<std::thread> pool;
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        auto one = make_worker(t);
        KeyStream keys(rows, t);
        int64_t n = 0;
        while (!stop.load(std::memory_order_relaxed) && Clock::now() < until) {
          one(keys.Next());
          ++n;
        }
        done += n;
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (failure.empty()) failure = e.what();
        stop = true;
      }
    });
  }
  for (auto& th : pool) th.join();
  if (!failure.empty()) throw BenchError(failure);
  return done.load();
}

/// One thread's raw ODBC point select: its own connection, the statement prepared once, the
/// key a bound parameter, the row into bound columns.
class RawPointSelect {
 public:
  RawPointSelect(const std::string& connection_string, int64_t rows)
      : conn_(connection_string), stmt_(conn_.dbc()) {
    std::string sql = StreamSql(rows);
    sql = sql.substr(0, sql.find(" ORDER BY")) + " WHERE \"id\" = ?";
    stmt_.Check(SQLPrepare(stmt_.get(), reinterpret_cast<SQLCHAR*>(sql.data()), SQL_NTS), "preparing " + sql);
    stmt_.Check(SQLBindParameter(stmt_.get(), 1, SQL_PARAM_INPUT, SQL_C_SBIGINT, SQL_BIGINT, 0, 0, &key_, 0, nullptr),
                "binding the key");
    // Describing a prepared statement makes psqlODBC ask the server; done once, here.
    cols_ = RawOdbc::BindAll(stmt_, 1, BindStyle::kLikeTheConnector);
  }
  void operator()(int64_t key) {
    key_ = key;
    stmt_.Check(SQLExecute(stmt_.get()), "executing the point select");
    SQLRETURN rc = SQLFetch(stmt_.get());
    stmt_.Check(rc, "fetching the row of key " + std::to_string(key));
    const int64_t got = *reinterpret_cast<const SQLBIGINT*>(cols_[0].data.data());
    if (got != key) throw BenchError("raw ODBC returned key " + std::to_string(got) + " for " + std::to_string(key));
    stmt_.Check(SQLFreeStmt(stmt_.get(), SQL_CLOSE), "closing the cursor");
  }

 private:
  RawOdbc conn_;
  OdbcStatement stmt_;
  SQLBIGINT key_ = 0;
  std::vector<RawOdbc::Column> cols_;
};

// ---- memory ----

struct MemoryResult {
  Streamed streamed;
  double seconds = 0;
  double peak_mb = 0;
  double start_rss_mb = 0;
  double peak_before_mb = 0;                    // VmHWM since the daemon started, before the reset
  std::vector<std::pair<int64_t, double>> rss;  // (records so far, daemon RSS MB)
  bool reset = false;                           // VmHWM was reset before the stream
};

int Run(const Options& o) {
  const auto started = Clock::now();
  if (o.dsn.empty()) {
    std::printf("bench_odbc_pg: skipped: no PostgreSQL DSN (set FACHADAPTER_TEST_PG_DSN, e.g. with "
                "eval \"$(scripts/test-servers.sh start)\", or pass --dsn)\n");
    return kSkipped;
  }
  WorkDir work("bench_odbc_pg", o.keep);
  const unsigned cpus = std::thread::hardware_concurrency();
  const double load_before = std::strtod(ReadFile("/proc/loadavg").c_str(), nullptr);
  std::printf("bench_odbc_pg: work folder %s%s\n", work.path().c_str(), o.keep ? " (kept)" : "");
  std::printf("machine: %u CPUs (%s), load average before: %s", cpus, CpuModel().c_str(),
              ReadFile("/proc/loadavg").c_str());

  // Both sides use this very string: the psqlODBC options the connector would add by itself
  // (a server-side cursor fetched in blocks, BOOLEAN as a boolean) are spelled out, so that the
  // baseline streams the same way.
  const std::string cs = MergeConnectionString(
      MergeConnectionString(o.dsn, "Database=" + o.database + ";UseDeclareFetch=1;Fetch=" +
                                       std::to_string(o.fetch_rows) + ";BoolsAsChar=0"),
      o.odbc_options);
  EnsureDatabase(o.dsn, o.database);
  RawOdbc raw(cs);
  std::set<int64_t> tables;
  if (Wants(o, "stream") || Wants(o, "get")) tables.insert(o.rows);
  if (Wants(o, "memory")) tables.insert(o.memory_rows);
  for (int64_t rows : tables) {
    double secs = EnsureTable(raw, rows);
    const int64_t max_id = raw.QueryInt("SELECT max(id) FROM " + TableName(rows));
    if (max_id != rows) throw BenchError(TableName(rows) + " ends at id " + std::to_string(max_id));
    if (secs > 0) {
      std::printf("loaded %s (%" PRId64 " rows) in %.1f s\n", TableName(rows).c_str(), rows, secs);
    } else {
      std::printf("reusing %s (%" PRId64 " rows)\n", TableName(rows).c_str(), rows);
    }
  }
  std::printf("server: %s\n", raw.QueryText("SELECT version()").c_str());
  ServerCpu server_cpu(raw, o.dsn, o.database);
  std::printf("server CPU: %s\n", server_cpu.available()
                                      ? "measured (backends of the bench database, from /proc)"
                                      : "not measured (the server is not a local PostgreSQL process)");
  std::printf("connection string (both sides): %s\n", cs.c_str());

  const fs::path config = work.path() / "fachadapter.yaml";
  WriteConfig(o, cs, tables, config);
  DaemonProcess daemon(o.daemon, config, work.path() / "fachadapterd.log");
  std::printf("daemon %s (pid %d, %s) on %s\n", o.daemon.c_str(), static_cast<int>(daemon.pid()),
              AllocatorOf(daemon.pid()).c_str(), daemon.address().c_str());
  for (const auto& [key, value] : o.source_settings) std::printf("source setting %s: %s\n", key.c_str(), value.c_str());
  std::printf("\n");
  auto stub = Connect(daemon.address());
  std::vector<std::string> verdicts;

  if (Wants(o, "stream")) {
    const std::string entity = EntityName(o.rows), sql = StreamSql(o.rows);
    std::printf("== stream: %" PRId64 " rows x %zu columns\n", o.rows, std::size(kColumns));
    std::printf("baseline SQL: %s\n", sql.c_str());
    std::printf("batch_size %d records per Query message; SQL_ATTR_ROW_ARRAY_SIZE and Fetch %d\n", o.batch_size,
                o.fetch_rows);
    // Untimed checks of what both return (the warm-up inside Interleaved repeats them).
    Streamed first = StreamQuery(*stub, entity, o.batch_size, true);
    if (first.records != o.rows || first.fields != static_cast<int>(std::size(kColumns))) {
      throw BenchError("the daemon returned " + std::to_string(first.records) + " records of " +
                       std::to_string(first.fields) + " fields, expected " + std::to_string(o.rows) + " of " +
                       std::to_string(std::size(kColumns)));
    }
    RawOdbc::Fetched raw_first = raw.Fetch(sql, static_cast<SQLULEN>(o.fetch_rows), BindStyle::kLikeTheConnector);
    std::printf("A's stream: %" PRId64 " messages, %.1f MB on the wire (%.0f bytes/record); B fetched %.1f MB of "
                "values\n\n",
                first.messages, static_cast<double>(first.wire_bytes) / 1e6,
                static_cast<double>(first.wire_bytes) / static_cast<double>(o.rows),
                static_cast<double>(raw_first.value_bytes) / 1e6);
    double ratio = Interleaved(
        o, daemon.pid(), server_cpu, "rows/s", "A daemon -> gRPC client", "B raw ODBC block fetch",
        [&] {
          Streamed got = StreamQuery(*stub, entity, o.batch_size, false);
          if (got.records != o.rows) {
            throw BenchError("the daemon returned " + std::to_string(got.records) + " records");
          }
          return static_cast<double>(got.records);
        },
        [&] {
          RawOdbc::Fetched f = raw.Fetch(sql, static_cast<SQLULEN>(o.fetch_rows), BindStyle::kLikeTheConnector);
          if (f.rows != o.rows) throw BenchError("raw ODBC fetched " + std::to_string(f.rows) + " rows");
          return static_cast<double>(f.rows);
        });
    verdicts.push_back(Verdict("stream", ratio, 0.8));
    std::printf("\n");
  }

  if (Wants(o, "get")) {
    const std::string entity = EntityName(o.rows);
    const std::string raw_cs = MergeConnectionString(cs, o.raw_get_options);
    std::printf("== get: %d concurrent clients, random keys of %" PRId64 " rows, %.0f s per run\n", o.clients, o.rows,
                o.get_seconds);
    std::printf("A: %d gRPC channels (one TCP connection each), Get %s; daemon pool_size %d\n", o.clients,
                entity.c_str(), std::max(4, o.clients));
    std::printf("B: %d threads, one ODBC connection each, prepared SELECT ... WHERE \"id\" = ?\n", o.clients);
    std::printf("B's connection string: %s\n", raw_cs.c_str());
    std::vector<std::unique_ptr<v1::Adapter::Stub>> stubs;
    for (int i = 0; i < o.clients; ++i) stubs.push_back(Connect(daemon.address()));
    // Connections are opened once, outside the timed runs, as a pool would hold them.
    std::vector<std::unique_ptr<RawPointSelect>> selects(static_cast<size_t>(o.clients));
    {
      std::vector<std::thread> openers;
      std::mutex mu;
      std::string failure;
      for (int t = 0; t < o.clients; ++t) {
        openers.emplace_back([&, t] {
          try {
            selects[static_cast<size_t>(t)] = std::make_unique<RawPointSelect>(raw_cs, o.rows);
          } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(mu);
            failure = e.what();
          }
        });
      }
      for (auto& th : openers) th.join();
      if (!failure.empty()) throw BenchError(failure);
    }
    auto via_daemon = [&] {
      return static_cast<double>(RunConcurrently(o.clients, o.get_seconds, o.rows, [&](int t) {
        v1::Adapter::Stub* s = stubs[static_cast<size_t>(t)].get();
        return [s, &entity](int64_t key) {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
          v1::GetRequest req;
          req.set_entity(entity);
          req.mutable_key()->add_values()->set_int_value(key);
          v1::GetResponse resp;
          grpc::Status st = s->Get(&ctx, req, &resp);
          if (!st.ok()) throw BenchError("Get " + std::to_string(key) + " failed: " + st.error_message());
          if (resp.record().values_size() != static_cast<int>(std::size(kColumns)) ||
              resp.record().values(0).int_value() != key) {
            throw BenchError("Get " + std::to_string(key) + " returned another record");
          }
        };
      }));
    };
    auto raw_odbc = [&] {
      return static_cast<double>(RunConcurrently(o.clients, o.get_seconds, o.rows, [&](int t) {
        RawPointSelect* sel = selects[static_cast<size_t>(t)].get();
        return [sel](int64_t key) { (*sel)(key); };
      }));
    };
    double ratio = Interleaved(o, daemon.pid(), server_cpu, "requests/s", "A Get through the daemon",
                               "B raw ODBC point select", via_daemon, raw_odbc);
    verdicts.push_back(Verdict("get", ratio, 0.5));

    // A reference, not a measure: the same clients calling DescribeEntity, which touches no
    // database. What a call costs in gRPC and the service alone; the rest of a Get's cost is
    // its data path (engine, connector, driver).
    const double c0 = SelfCpuSeconds(), d0 = ProcessCpuSeconds(daemon.pid());
    const auto t0 = Clock::now();
    const double calls = static_cast<double>(RunConcurrently(o.clients, o.get_seconds, o.rows, [&](int t) {
      v1::Adapter::Stub* s = stubs[static_cast<size_t>(t)].get();
      return [s, &entity](int64_t) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::DescribeEntityRequest req;
        req.set_entity(entity);
        v1::EntitySchema resp;
        grpc::Status st = s->DescribeEntity(&ctx, req, &resp);
        if (!st.ok()) throw BenchError("DescribeEntity failed: " + st.error_message());
      };
    }));
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("reference, DescribeEntity (no database) from the same clients: %.0f requests/s; CPU us each: "
                "daemon %.2f, gRPC client(s) %.2f\n",
                calls / wall, (ProcessCpuSeconds(daemon.pid()) - d0) * 1e6 / calls,
                (SelfCpuSeconds() - c0) * 1e6 / calls);
    std::printf("\n");
  }

  if (Wants(o, "memory")) {
    const std::string entity = EntityName(o.memory_rows);
    std::printf("== memory: the daemon streams %" PRId64 " rows x %zu columns to the client\n", o.memory_rows,
                std::size(kColumns));
    MemoryResult m;
    m.start_rss_mb = RssMb(daemon.pid());
    m.peak_before_mb = PeakRssMb(daemon.pid());
    m.reset = ResetPeakRss(daemon.pid());
    const auto t0 = Clock::now();
    const int64_t every = std::max<int64_t>(1, o.memory_rows / 10);
    m.streamed = StreamQuery(*stub, entity, o.batch_size, false, every,
                             [&](int64_t records) { m.rss.emplace_back(records, RssMb(daemon.pid())); });
    m.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    m.peak_mb = PeakRssMb(daemon.pid());
    if (m.streamed.records != o.memory_rows) {
      throw BenchError("the daemon returned " + std::to_string(m.streamed.records) + " records, expected " +
                       std::to_string(o.memory_rows));
    }
    std::printf("streamed %" PRId64 " records in %.1f s (%.0f rows/s)\n", m.streamed.records, m.seconds,
                static_cast<double>(m.streamed.records) / m.seconds);
    std::printf("daemon RSS before: %.0f MB (peak so far %.0f MB); along the stream (records: MB):", m.start_rss_mb,
                m.peak_before_mb);
    for (const auto& [records, mb] : m.rss) std::printf(" %" PRId64 ":%.0f", records, mb);
    std::printf("\ndaemon peak RSS (VmHWM%s): %.0f MB\n", m.reset ? ", reset before the stream" : " since start",
                m.peak_mb);
    verdicts.push_back("memory: peak " + std::to_string(static_cast<int>(m.peak_mb + 0.5)) + " MB for " +
                       std::to_string(o.memory_rows) + " rows, target < 100 MB: " +
                       (m.peak_mb < 100 ? "met" : "NOT met"));
    std::printf("\n");
  }

  std::printf("peak memory: daemon %.0f MB (VmHWM%s), this process %.0f MB\n", PeakRssMb(daemon.pid()),
              Wants(o, "memory") ? " since the memory measure's reset" : "", PeakRssMb(getpid()));
  for (const std::string& v : verdicts) std::printf("%s\n", v.c_str());
  if (load_before > 0.5 * cpus) {
    std::printf("warning: the machine was busy (load average %.1f on %u CPUs): the wall ratios favour A, which "
                "runs more threads; compare the CPU-time ratios, or rerun on an idle machine\n",
                load_before, cpus);
  }
  int stop = daemon.Stop();
  if (stop != 0) {
    std::printf("warning: fachadapterd exited with %d after SIGTERM; its log:\n%s\n", stop, daemon.log().c_str());
  }
  std::printf("load average after: %stotal time %.1f s\n", ReadFile("/proc/loadavg").c_str(),
              std::chrono::duration<double>(Clock::now() - started).count());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(ParseOptions(argc, argv));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "bench_odbc_pg: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "bench_odbc_pg: error: %s\n", e.what());
    return 1;
  }
}
