// bench_daemon_stream: how close does streaming through fachadapterd come to the back end's
// own speed?
//
// Measure A streams every record of the example's main entity (Gewerbebetrieb, all fields)
// through the real daemon, started as a separate process, to a gRPC client in this process.
// Measure B, the baseline, fetches the same columns of the same rows of the same SQLite file
// through the same ODBC driver in this process with bound-column block fetch (column-wise
// arrays, SQL_ATTR_ROW_ARRAY_SIZE), doing nothing with the values but counting them: the
// physical limit of that driver. Both run interleaved in one process run so they see the same
// machine, the same page cache and the same load. The ratio A/B is the figure of merit
// (issue 2, item 11: at least 0.5). See docs/performance.md.
//
// Usage: bench_daemon_stream [--rows N] [--repetitions R] [--batch-size B] [--fetch-rows F]
//                            [--daemon PATH] [--example-dir DIR] [--db PATH]
//                            [--odbc-options S] [--keep]      (--help explains them)
// Exit codes: 0 when both measures ran and returned every row (whatever the ratio), 1 on any
// failure (daemon did not start, wrong row count, ODBC error), 2 on a bad command line.

#include <sql.h>
#include <sqlext.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <yaml-cpp/yaml.h>

#include "common/bench_util.h"
#include "fachadapter/v1/adapter.grpc.pb.h"

namespace {

namespace v1 = ::fachadapter::v1;
using namespace ::fachadapter::bench;  // NOLINT: the benches' shared helpers

#ifndef FACHADAPTER_SOURCE_DIR
#define FACHADAPTER_SOURCE_DIR "."
#endif

struct Options {
  int64_t rows = 100000;    // GEW_BETRIEB rows to generate
  int repetitions = 5;      // timed runs of each measure, after one untimed warm-up each
  int batch_size = 1000;    // QueryRequest.batch_size
  int fetch_rows = 1000;    // SQL_ATTR_ROW_ARRAY_SIZE of the baseline
  fs::path daemon;          // fachadapterd; default: beside this program
  fs::path example_dir = fs::path(FACHADAPTER_SOURCE_DIR) / "examples" / "gewerberegister";
  fs::path db;              // existing database to use instead of generating one
  bool keep = false;        // keep the work folder (config, daemon log, database)
  std::string odbc_options; // attributes that override or extend the example's connection string
  std::string entity = "Gewerbebetrieb";
};

constexpr const char* kUsage =
    "usage: bench_daemon_stream [options]\n"
    "  --rows N          rows of GEW_BETRIEB to generate (default 100000)\n"
    "  --repetitions R   timed runs of each measure (default 5)\n"
    "  --batch-size B    records per Query message (default 1000)\n"
    "  --fetch-rows F    rows per SQLFetch of the raw ODBC baseline (default 1000)\n"
    "  --daemon PATH     fachadapterd to start (default: the one beside this program)\n"
    "  --example-dir DIR examples/gewerberegister (generate.py, fachadapter.yaml)\n"
    "  --db PATH         use this database instead of generating one (its row count is used)\n"
    "  --odbc-options S  ODBC attributes that override or extend the example's connection\n"
    "                    string for both measures, e.g. 'StepAPI=0' for the SQLite3 driver\n"
    "  --keep            keep the work folder (config, daemon log, database)\n";

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) throw UsageError(a + " needs a value");
      return argv[++i];
    };
    if (a == "--rows") o.rows = ParseCount(a, value(), 1, 100000000);
    else if (a == "--repetitions") o.repetitions = static_cast<int>(ParseCount(a, value(), 1, 100));
    else if (a == "--batch-size") o.batch_size = static_cast<int>(ParseCount(a, value(), 1, 100000));
    else if (a == "--fetch-rows") o.fetch_rows = static_cast<int>(ParseCount(a, value(), 1, 100000));
    else if (a == "--daemon") o.daemon = value();
    else if (a == "--example-dir") o.example_dir = value();
    else if (a == "--db") o.db = value();
    else if (a == "--odbc-options") o.odbc_options = value();
    else if (a == "--keep") o.keep = true;
    else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      throw UsageError("unknown option '" + a + "'");
    }
  }
  if (o.daemon.empty()) o.daemon = fs::read_symlink("/proc/self/exe").parent_path() / "fachadapterd";
  return o;
}

/// What the example's config says about the measured entity.
struct EntitySpec {
  std::string connection_string;     // of its source, pointed at the bench's database
  std::string table;                 // raw table
  std::vector<std::string> columns;  // raw columns of all fields, in field order
  std::vector<std::string> key;      // raw key columns, in key order
};

/// The connection string both measures use: the example's, with `Database` pointing to `db`
/// and every attribute of `overrides` ("KEY=VALUE;...") replacing the one of the same name
/// (ODBC keywords ignore case) or added. Replacing rather than appending matters: drivers
/// take the first occurrence of a keyword.
std::string ConnectionString(const std::string& example, const std::string& overrides, const fs::path& db) {
  return MergeConnectionString(MergeConnectionString(example, "Database=" + fs::absolute(db).string()), overrides);
}

/// Rewrites the example's config to serve `db` on a free loopback port with large batches,
/// keeping its entity definitions as they are. Returns the measured entity's raw shape.
EntitySpec WriteConfig(const Options& o, const fs::path& db, const fs::path& out) {
  const fs::path example = o.example_dir / "fachadapter.yaml";
  YAML::Node cfg;
  try {
    cfg = YAML::LoadFile(example.string());
  } catch (const YAML::Exception& e) {
    throw BenchError("cannot read " + example.string() + ": " + e.what());
  }
  YAML::Node entity = cfg["entities"][o.entity];
  if (!entity || !entity["table"] || !entity["fields"] || !entity["source"]) {
    throw BenchError(example.string() + " has no entity " + o.entity + " with table, source and fields");
  }
  cfg["server"]["listen"] = "127.0.0.1:0";
  cfg["server"]["reflection"] = false;
  cfg["limits"]["max_batch_records"] = std::max(o.batch_size, 5000);
  cfg["limits"]["default_batch_records"] = 1000;
  const std::string source = entity["source"].as<std::string>();
  const YAML::Node example_cs = cfg["sources"][source]["settings"]["connection_string"];
  EntitySpec spec;
  spec.connection_string = ConnectionString(example_cs ? example_cs.as<std::string>() : "Driver=SQLite3",
                                            o.odbc_options, db);
  cfg["sources"][source]["settings"]["connection_string"] = spec.connection_string;

  spec.table = entity["table"].as<std::string>();
  // The three forms of docs/configuration.md: `name:`, `name: RAW`, `name: {column: RAW, ...}`.
  auto column_of = [](const std::string& field, const YAML::Node& def) {
    if (def.IsScalar()) return def.as<std::string>();
    if (def.IsMap() && def["column"]) return def["column"].as<std::string>();
    return field;
  };
  const YAML::Node fields = entity["fields"];
  for (const auto& f : fields) spec.columns.push_back(column_of(f.first.as<std::string>(), f.second));
  for (const auto& k : entity["key"]) {
    const std::string name = k.as<std::string>();
    spec.key.push_back(column_of(name, fields[name]));
  }
  if (spec.key.empty()) throw BenchError("entity " + o.entity + " in " + example.string() + " names no key");
  std::ofstream file(out);
  file << "# Written by bench_daemon_stream from " << example.string() << "\n" << cfg << "\n";
  if (!file) throw BenchError("cannot write " + out.string());
  return spec;
}

// ---- Measure A: Query through the daemon ----

struct Streamed {
  int64_t records = 0;
  int64_t messages = 0;
  int64_t wire_bytes = 0;  // serialized size of the responses; only when asked (it costs time)
  int fields = 0;
};

Streamed StreamQuery(v1::Adapter::Stub& stub, const std::string& entity, int batch_size, bool measure_bytes) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  v1::QueryRequest req;
  req.set_entity(entity);
  req.set_batch_size(batch_size);
  std::unique_ptr<grpc::ClientReader<v1::QueryResponse>> reader = stub.Query(&ctx, req);
  v1::QueryResponse resp;  // reused: its records keep their allocations from message to message
  Streamed out;
  while (reader->Read(&resp)) {
    if (out.messages == 0) out.fields = resp.fields_size();
    ++out.messages;
    out.records += resp.batch().records_size();
    if (measure_bytes) out.wire_bytes += static_cast<int64_t>(resp.ByteSizeLong());
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) {
    throw BenchError("Query " + entity + " failed: " + std::to_string(s.error_code()) + " " + s.error_message());
  }
  return out;
}

// ---- Reporting ----

struct Sample {
  double wall = 0;        // seconds
  double cpu_client = 0;  // seconds of this process
  double cpu_daemon = 0;  // seconds of the daemon process (measure A only)
};

struct Summary {
  double best_rate = 0, median_rate = 0, median_cpu_client = 0, median_cpu_daemon = 0;
};

Summary Summarize(const std::vector<Sample>& samples, int64_t rows) {
  std::vector<double> rates, client, daemon;
  for (const Sample& s : samples) {
    rates.push_back(static_cast<double>(rows) / s.wall);
    client.push_back(s.cpu_client);
    daemon.push_back(s.cpu_daemon);
  }
  return {*std::max_element(rates.begin(), rates.end()), Median(rates), Median(client), Median(daemon)};
}

int Run(const Options& o) {
  const auto started = Clock::now();
  WorkDir work("bench_daemon_stream", o.keep);
  std::printf("bench_daemon_stream: work folder %s%s\n", work.path().c_str(), o.keep ? " (kept)" : "");
  const unsigned cpus = std::thread::hardware_concurrency();
  const double load_before = std::strtod(ReadFile("/proc/loadavg").c_str(), nullptr);
  std::printf("machine: %u CPUs (%s), load average before: %s", cpus,
              CpuModel().c_str(), ReadFile("/proc/loadavg").c_str());

  fs::path db = o.db;
  if (db.empty()) {
    db = work.path() / "gewerbe.db";
    const fs::path log = work.path() / "generate.log";
    const auto t0 = Clock::now();
    int rc = RunToEnd({"/usr/bin/python3", (o.example_dir / "generate.py").string(), "--betriebe", std::to_string(o.rows),
                       "--output", db.string(), "-q"},
                      log, std::chrono::seconds(300));
    if (rc != 0) throw BenchError("generate.py exited with " + std::to_string(rc) + ":\n" + ReadFile(log));
    std::printf("generated %s with %" PRId64 " rows of the main table in %.1f s\n", db.c_str(), o.rows,
                std::chrono::duration<double>(Clock::now() - t0).count());
  } else if (!fs::exists(db)) {
    throw BenchError("no database at " + db.string());
  }

  const fs::path config = work.path() / "fachadapter.yaml";
  const EntitySpec spec = WriteConfig(o, db, config);
  const std::string& connection_string = spec.connection_string;

  // The statement the ODBC connector runs for a Query of all fields with no filter and no
  // order: every mapped column, ordered by the key (the core always appends the key as the
  // tie-breaker, so a stream can resume).
  std::string sql = "SELECT ";
  for (size_t i = 0; i < spec.columns.size(); ++i) sql += (i ? ", \"" : "\"") + spec.columns[i] + "\"";
  sql += " FROM \"" + spec.table + "\"";
  for (size_t i = 0; i < spec.key.size(); ++i) sql += (i ? ", \"" : " ORDER BY \"") + spec.key[i] + "\" ASC";

  RawOdbc raw(connection_string);
  const SQLULEN fetch_rows = static_cast<SQLULEN>(o.fetch_rows);
  const int64_t rows = raw.QueryInt("SELECT COUNT(*) FROM \"" + spec.table + "\"");
  if (rows <= 0) throw BenchError("table " + spec.table + " of " + db.string() + " is empty");

  DaemonProcess daemon(o.daemon, config, work.path() / "fachadapterd.log");
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(daemon.address(), grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Adapter::NewStub(channel);
  std::printf("daemon %s (pid %d, %s) on %s; entity %s = table %s, %zu fields, %" PRId64 " rows\n",
              o.daemon.c_str(), static_cast<int>(daemon.pid()), AllocatorOf(daemon.pid()).c_str(),
              daemon.address().c_str(), o.entity.c_str(),
              spec.table.c_str(), spec.columns.size(), rows);
  std::printf("connection string (both): %s\n", connection_string.c_str());
  std::printf("baseline SQL: %s\n", sql.c_str());
  std::printf("batch_size %d records per Query message; SQL_ATTR_ROW_ARRAY_SIZE %d\n\n", o.batch_size, o.fetch_rows);

  // One untimed warm-up of each: page cache, connection pool, the daemon's catalog and the
  // channel are set up before anything is timed. It also checks the results.
  Streamed first = StreamQuery(*stub, o.entity, o.batch_size, true);
  if (first.records != rows || first.fields != static_cast<int>(spec.columns.size())) {
    throw BenchError("the daemon returned " + std::to_string(first.records) + " records of " +
                     std::to_string(first.fields) + " fields, expected " + std::to_string(rows) + " of " +
                     std::to_string(spec.columns.size()));
  }
  RawOdbc::Fetched raw_first = raw.Fetch(sql, fetch_rows, BindStyle::kIntegersAndText);
  if (raw_first.rows != rows) {
    throw BenchError("raw ODBC fetched " + std::to_string(raw_first.rows) + " rows, expected " + std::to_string(rows));
  }

  // Interleaved, so that load from other processes on the machine hits both alike.
  std::vector<Sample> a, b;
  std::printf("%-4s %-24s %10s %12s %14s %14s\n", "run", "measure", "wall s", "rows/s", "CPU bench s", "CPU daemon s");
  for (int r = 1; r <= o.repetitions; ++r) {
    Sample s;
    double c0 = SelfCpuSeconds(), d0 = ProcessCpuSeconds(daemon.pid());
    auto t0 = Clock::now();
    Streamed got = StreamQuery(*stub, o.entity, o.batch_size, false);
    s.wall = std::chrono::duration<double>(Clock::now() - t0).count();
    s.cpu_client = SelfCpuSeconds() - c0;
    s.cpu_daemon = ProcessCpuSeconds(daemon.pid()) - d0;
    if (got.records != rows) throw BenchError("the daemon returned " + std::to_string(got.records) + " records");
    a.push_back(s);
    std::printf("%-4d %-24s %10.3f %12.0f %14.3f %14.3f\n", r, "A daemon -> gRPC client", s.wall,
                static_cast<double>(rows) / s.wall, s.cpu_client, s.cpu_daemon);

    Sample t;
    c0 = SelfCpuSeconds();
    t0 = Clock::now();
    RawOdbc::Fetched f = raw.Fetch(sql, fetch_rows, BindStyle::kIntegersAndText);
    t.wall = std::chrono::duration<double>(Clock::now() - t0).count();
    t.cpu_client = SelfCpuSeconds() - c0;
    if (f.rows != rows) throw BenchError("raw ODBC fetched " + std::to_string(f.rows) + " rows");
    b.push_back(t);
    std::printf("%-4d %-24s %10.3f %12.0f %14.3f %14s\n", r, "B raw ODBC block fetch", t.wall,
                static_cast<double>(rows) / t.wall, t.cpu_client, "-");
    std::fflush(stdout);
  }

  const Summary sa = Summarize(a, rows), sb = Summarize(b, rows);
  const double cpu_a = sa.median_cpu_client + sa.median_cpu_daemon;
  std::printf("\n%-26s %12s %14s %14s %14s\n", "", "best rows/s", "median rows/s", "median CPU s", "CPU us/row");
  std::printf("%-26s %12.0f %14.0f %14.3f %14.2f\n", "A through fachadapterd", sa.best_rate, sa.median_rate, cpu_a,
              cpu_a * 1e6 / static_cast<double>(rows));
  std::printf("%-26s %12.0f %14.0f %14.3f %14.2f\n", "B raw ODBC, one process", sb.best_rate, sb.median_rate,
              sb.median_cpu_client, sb.median_cpu_client * 1e6 / static_cast<double>(rows));
  std::printf("  A's median CPU: daemon %.3f s, gRPC client %.3f s\n", sa.median_cpu_daemon, sa.median_cpu_client);
  std::printf("  A's stream: %" PRId64 " messages, %.1f MB on the wire (%.0f bytes/record); B fetched %.1f MB of values\n",
              first.messages, static_cast<double>(first.wire_bytes) / 1e6,
              static_cast<double>(first.wire_bytes) / static_cast<double>(rows),
              static_cast<double>(raw_first.value_bytes) / 1e6);
  const double ratio_best = sa.best_rate / sb.best_rate, ratio_median = sa.median_rate / sb.median_rate;
  std::printf("  peak memory: daemon %.0f MB, this process (gRPC client and raw ODBC) %.0f MB\n",
              PeakRssMb(daemon.pid()), PeakRssMb(getpid()));
  std::printf("\nratio A/B (daemon/raw): best %.3f, median %.3f\n", ratio_best, ratio_median);
  // CPU time per row says how much work each path does, whatever else runs on the machine;
  // it is not the rate: A may spread its work over several cores (daemon threads, client).
  std::printf("CPU-time ratio B/A: %.3f with the client's CPU, %.3f daemon only\n",
              sb.median_cpu_client / cpu_a, sb.median_cpu_client / sa.median_cpu_daemon);
  std::printf("target >= 0.5 (median wall ratio): %s\n", ratio_median >= 0.5 ? "met" : "NOT met");
  // On a busy machine A, with several busy threads in two processes, gets a larger share of
  // the contended CPUs than B's one thread, which flatters the wall ratio.
  if (load_before > 0.5 * cpus) {
    std::printf("warning: the machine was busy (load average %.1f on %u CPUs): the wall ratio favours A; "
                "compare the CPU-time ratios, or rerun on an idle machine\n",
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
  Options o;
  try {
    o = ParseOptions(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "bench_daemon_stream: %s\n%s", e.what(), kUsage);
    return 2;
  }
  try {
    return Run(o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "bench_daemon_stream: error: %s\n", e.what());
    return 1;
  }
}
