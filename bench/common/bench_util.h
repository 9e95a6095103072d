// Helpers the benchmarks under bench/ share: the daemon as a child process, process CPU time
// and peak memory, raw ODBC with bound-column block fetch (the baseline of the ODBC benches),
// connection-string attributes, command-line counts, medians. Header-only: each bench is one
// program, and this keeps bench/ free of a library target.
#ifndef FACHADAPTER_BENCH_COMMON_BENCH_UTIL_H_
#define FACHADAPTER_BENCH_COMMON_BENCH_UTIL_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sql.h>
#include <sqlext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace fachadapter::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// A setup or measurement failure; a bench's main prints it and exits 1.
struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A bad command line; a bench's main prints it with its usage and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// `text` as a whole number in [min, max], or UsageError naming `flag`.
inline int64_t ParseCount(const std::string& flag, const char* text, int64_t min, int64_t max) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
    throw UsageError(flag + " wants a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                     ", not '" + text + "'");
  }
  return v;
}

/// The whole file, or "" if it cannot be read.
inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A fresh folder $TMPDIR/<prefix>.XXXXXX (or under /tmp), removed at the end unless kept.
class WorkDir {
 public:
  WorkDir(const std::string& prefix, bool keep) : keep_(keep) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + ".XXXXXX";
    if (!mkdtemp(tmpl.data())) throw BenchError("cannot create a folder like " + tmpl + ": " + std::strerror(errno));
    path_ = tmpl;
  }
  ~WorkDir() {
    std::error_code ec;
    if (!keep_) fs::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  bool keep_;
};

/// Runs argv to its end with stdout and stderr into `log`, killing it after `timeout`;
/// returns its exit status (128 + signal if it was killed).
inline int RunToEnd(const std::vector<std::string>& argv, const fs::path& log, std::chrono::seconds timeout) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw BenchError("cannot start " + argv[0] + ": " + std::strerror(rc));
  const auto until = Clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// CPU time (user + system) a process has used so far, from /proc/PID/stat.
inline double ProcessCpuSeconds(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  // Fields after the command name, which is in parentheses and may hold spaces.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// A "VmXXX:" line of /proc/PID/status in MB, 0 if unknown.
inline double ProcStatusMb(pid_t pid, const char* key) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/status"));
  const size_t n = std::strlen(key);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, n, key) == 0) return std::strtod(line.c_str() + n, nullptr) / 1024.0;
  }
  return 0;
}

/// The allocator a running process uses, from the libraries it has mapped: "tcmalloc",
/// "jemalloc" or "glibc malloc". Printed beside the daemon's figures, since it changes them.
inline std::string AllocatorOf(pid_t pid) {
  const std::string maps = ReadFile("/proc/" + std::to_string(pid) + "/maps");
  if (maps.find("libtcmalloc") != std::string::npos) return "tcmalloc";
  if (maps.find("libjemalloc") != std::string::npos) return "jemalloc";
  return "glibc malloc";
}

/// Peak resident memory of a process in MB (VmHWM), 0 if unknown.
inline double PeakRssMb(pid_t pid) { return ProcStatusMb(pid, "VmHWM:"); }

/// Current resident memory of a process in MB (VmRSS), 0 if unknown.
inline double RssMb(pid_t pid) { return ProcStatusMb(pid, "VmRSS:"); }

/// Resets a process's VmHWM to its current RSS (Linux clear_refs 5), so that the next peak
/// belongs to what follows; false if the kernel refused.
inline bool ResetPeakRss(pid_t pid) {
  std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

/// CPU time of this whole process (all threads, gRPC's included).
inline double SelfCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// The CPU model as /proc/cpuinfo names it.
inline std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

/// Median of the values (mean of the middle two for an even count); 0 for none.
inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// fachadapterd as a child process, on the free loopback port its config asks for
/// (`127.0.0.1:0`); SIGKILL at destruction unless stopped.
class DaemonProcess {
 public:
  DaemonProcess(const fs::path& binary, const fs::path& config, const fs::path& log) : log_(log) {
    if (access(binary.c_str(), X_OK) != 0) {
      throw BenchError("no daemon at " + binary.string() + " (build the fachadapterd target, or pass --daemon)");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::string bin = binary.string(), flag = "--config", cfg = config.string();
    char* args[] = {bin.data(), flag.data(), cfg.data(), nullptr};
    int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw BenchError("cannot start " + bin + ": " + std::strerror(rc));
    static const std::regex kServing(R"(serving \d+ entities on 127\.0\.0\.1:(\d+))");
    const auto until = Clock::now() + std::chrono::seconds(60);
    for (;;) {
      std::smatch m;
      std::string out = ReadFile(log_);
      if (std::regex_search(out, m, kServing)) {
        port_ = std::stoi(m[1]);
        return;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw BenchError("fachadapterd exited at start-up; its log:\n" + out);
      }
      if (Clock::now() > until) {
        Kill();  // a throwing constructor runs no destructor
        throw BenchError("fachadapterd did not report its port within 60 s; its log:\n" + out);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~DaemonProcess() { Kill(); }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return ReadFile(log_); }

  /// SIGTERM, then waits up to 30 s; returns the exit status (-1: had to be killed).
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    const auto until = Clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > until) {
        Kill();
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

/// `base` ("KEY=VALUE;...") with every attribute of `overrides` replacing the one of the same
/// name (ODBC keywords ignore case) or appended. Replacing rather than appending matters:
/// drivers take the first occurrence of a keyword. Values in braces may hold ';'.
inline std::string MergeConnectionString(const std::string& base, const std::string& overrides) {
  std::vector<std::pair<std::string, std::string>> attrs;
  auto same_key = [](const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  };
  auto set = [&](const std::string& item) {
    size_t eq = item.find('=');
    if (item.empty() || eq == std::string::npos) return;
    std::string key = item.substr(0, eq);
    auto it = std::find_if(attrs.begin(), attrs.end(), [&](const auto& kv) { return same_key(kv.first, key); });
    if (it == attrs.end()) {
      attrs.emplace_back(key, item.substr(eq + 1));
    } else {
      it->second = item.substr(eq + 1);
    }
  };
  auto set_all = [&set](const std::string& list) {
    std::string item;
    int braces = 0;
    for (char c : list) {
      if (c == '{') ++braces;
      if (c == '}' && braces > 0) --braces;
      if (c == ';' && braces == 0) {
        set(item);
        item.clear();
      } else {
        item += c;
      }
    }
    set(item);
  };
  set_all(base);
  set_all(overrides);
  std::string cs;
  for (const auto& [k, v] : attrs) cs += (cs.empty() ? "" : ";") + k + "=" + v;
  return cs;
}

/// The value of attribute `key` of a connection string (case-insensitive), "" if absent.
inline std::string ConnectionAttribute(const std::string& cs, const std::string& key) {
  std::string probe = MergeConnectionString(cs, "");
  std::istringstream in(probe);
  for (std::string item; std::getline(in, item, ';');) {
    size_t eq = item.find('=');
    if (eq != key.size()) continue;
    bool same = std::equal(key.begin(), key.end(), item.begin(), [](char x, char y) {
      return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
    if (same) return item.substr(eq + 1);
  }
  return "";
}

// ---- Raw ODBC: the baseline ----

/// Every diagnostic record of a handle, "STATE: text; ...".
inline std::string OdbcDiagnostics(SQLSMALLINT type, SQLHANDLE handle) {
  std::string out;
  SQLCHAR state[6], text[512];
  SQLINTEGER native = 0;
  SQLSMALLINT len = 0;
  for (SQLSMALLINT i = 1; SQLGetDiagRec(type, handle, i, state, &native, text, sizeof text, &len) == SQL_SUCCESS; ++i) {
    out += std::string(out.empty() ? "" : "; ") + reinterpret_cast<char*>(state) + ": " +
           reinterpret_cast<char*>(text);
  }
  return out;
}

/// Throws BenchError with the handle's diagnostics unless `rc` succeeded.
inline void OdbcCheck(SQLRETURN rc, SQLSMALLINT type, SQLHANDLE handle, const std::string& what) {
  if (!SQL_SUCCEEDED(rc)) throw BenchError("ODBC " + what + " failed: " + OdbcDiagnostics(type, handle));
}

/// A statement handle, freed at scope end.
class OdbcStatement {
 public:
  explicit OdbcStatement(SQLHDBC dbc) {
    OdbcCheck(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt_), SQL_HANDLE_DBC, dbc, "allocating a statement");
  }
  ~OdbcStatement() {
    if (stmt_) SQLFreeHandle(SQL_HANDLE_STMT, stmt_);
  }
  OdbcStatement(const OdbcStatement&) = delete;
  OdbcStatement& operator=(const OdbcStatement&) = delete;
  SQLHSTMT get() const { return stmt_; }
  /// Throws with this statement's diagnostics unless `rc` succeeded.
  void Check(SQLRETURN rc, const std::string& what) const { OdbcCheck(rc, SQL_HANDLE_STMT, stmt_, what); }

 private:
  SQLHSTMT stmt_ = SQL_NULL_HSTMT;
};

/// How the baseline binds columns.
enum class BindStyle {
  /// Integers as SQL_C_SBIGINT, everything else as text.
  kIntegersAndText,
  /// Each column in the C type the ODBC connector binds it as: integers and booleans as
  /// SQL_C_SBIGINT, floating point as SQL_C_DOUBLE, DATE and TIMESTAMP as structs, decimals,
  /// times and text as text.
  kLikeTheConnector,
};

/// One connection through the driver manager; Fetch() runs one statement to its end.
class RawOdbc {
 public:
  explicit RawOdbc(const std::string& connection_string) {
    OdbcCheck(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env_), SQL_HANDLE_ENV, env_,
              "allocating the environment");
    OdbcCheck(SQLSetEnvAttr(env_, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0),
              SQL_HANDLE_ENV, env_, "setting ODBC 3");
    OdbcCheck(SQLAllocHandle(SQL_HANDLE_DBC, env_, &dbc_), SQL_HANDLE_ENV, env_, "allocating a connection");
    std::string cs = connection_string;
    SQLRETURN rc = SQLDriverConnect(dbc_, nullptr, reinterpret_cast<SQLCHAR*>(cs.data()), SQL_NTS, nullptr, 0,
                                    nullptr, SQL_DRIVER_NOPROMPT);
    if (!SQL_SUCCEEDED(rc)) {
      std::string diag = OdbcDiagnostics(SQL_HANDLE_DBC, dbc_);
      Free();  // a throwing constructor runs no destructor
      throw BenchError("ODBC connecting failed: " + diag);
    }
  }
  ~RawOdbc() { Free(); }
  RawOdbc(const RawOdbc&) = delete;
  RawOdbc& operator=(const RawOdbc&) = delete;

  SQLHDBC dbc() const { return dbc_; }

  struct Fetched {
    int64_t rows = 0;
    int64_t value_bytes = 0;  // sum of the fetched lengths, so the values are really looked at
  };

  /// Executes `sql`, binds every column column-wise with `fetch_rows` rows per SQLFetch
  /// (SQL_ATTR_ROW_ARRAY_SIZE) and fetches it to its end, doing nothing with the values but
  /// summing their lengths.
  Fetched Fetch(const std::string& sql, SQLULEN fetch_rows, BindStyle style) {
    OdbcStatement stmt(dbc_);
    // Forward-only is ODBC's default; said explicitly, as the connector does.
    SQLSetStmtAttr(stmt.get(), SQL_ATTR_CURSOR_TYPE, reinterpret_cast<SQLPOINTER>(SQL_CURSOR_FORWARD_ONLY), 0);
    std::string text = sql;
    stmt.Check(SQLExecDirect(stmt.get(), reinterpret_cast<SQLCHAR*>(text.data()), static_cast<SQLINTEGER>(text.size())),
               "executing the query");
    std::vector<Column> cols = BindAll(stmt, fetch_rows, style);
    SQLULEN fetched = 0;
    stmt.Check(SQLSetStmtAttr(stmt.get(), SQL_ATTR_ROWS_FETCHED_PTR, &fetched, 0), "setting the rows-fetched pointer");
    Fetched out;
    for (;;) {
      SQLRETURN rc = SQLFetch(stmt.get());
      if (rc == SQL_NO_DATA) break;
      stmt.Check(rc, "fetching");
      for (const Column& c : cols) {
        for (SQLULEN r = 0; r < fetched; ++r) {
          if (c.ind[r] > 0) out.value_bytes += c.ind[r];
        }
      }
      out.rows += static_cast<int64_t>(fetched);
    }
    return out;
  }

  /// Executes a statement that returns no rows (DDL, INSERT ... SELECT).
  void Execute(const std::string& sql) {
    OdbcStatement stmt(dbc_);
    std::string text = sql;
    SQLRETURN rc = SQLExecDirect(stmt.get(), reinterpret_cast<SQLCHAR*>(text.data()), SQL_NTS);
    if (rc != SQL_NO_DATA) stmt.Check(rc, "executing " + sql.substr(0, 80));
  }

  /// One scalar integer (a count).
  int64_t QueryInt(const std::string& sql) {
    OdbcStatement stmt(dbc_);
    std::string text = sql;
    stmt.Check(SQLExecDirect(stmt.get(), reinterpret_cast<SQLCHAR*>(text.data()), SQL_NTS), sql);
    stmt.Check(SQLFetch(stmt.get()), "fetching the answer of " + sql);
    SQLBIGINT v = 0;
    SQLLEN ind = 0;
    stmt.Check(SQLGetData(stmt.get(), 1, SQL_C_SBIGINT, &v, 0, &ind), "reading the answer of " + sql);
    return ind == SQL_NULL_DATA ? 0 : v;
  }

  /// One scalar as text ("" for NULL), at most 64 KiB.
  std::string QueryText(const std::string& sql) {
    OdbcStatement stmt(dbc_);
    std::string text = sql;
    stmt.Check(SQLExecDirect(stmt.get(), reinterpret_cast<SQLCHAR*>(text.data()), SQL_NTS), sql);
    stmt.Check(SQLFetch(stmt.get()), "fetching the answer of " + sql);
    std::string v(65536, '\0');
    SQLLEN ind = 0;
    stmt.Check(SQLGetData(stmt.get(), 1, SQL_C_CHAR, v.data(), static_cast<SQLLEN>(v.size()), &ind),
               "reading the answer of " + sql);
    v.resize(ind == SQL_NULL_DATA || ind < 0 ? 0 : std::min(static_cast<size_t>(ind), v.size() - 1));
    return v;
  }

  /// A bound result column: a column-wise array of `rows` values and their indicators.
  struct Column {
    SQLSMALLINT c_type = SQL_C_CHAR;
    SQLLEN width = 0;
    std::vector<char> data;
    std::vector<SQLLEN> ind;
  };

  /// Describes and binds every result column of an executed or prepared statement with room
  /// for `rows` rows per SQLFetch, and sets that row array size.
  static std::vector<Column> BindAll(const OdbcStatement& stmt, SQLULEN rows, BindStyle style) {
    SQLSMALLINT ncols = 0;
    stmt.Check(SQLNumResultCols(stmt.get(), &ncols), "counting the result columns");
    std::vector<Column> cols(static_cast<size_t>(ncols));
    for (SQLSMALLINT i = 0; i < ncols; ++i) {
      SQLCHAR name[256];
      SQLSMALLINT name_len = 0, sql_type = 0, digits = 0, nullable = 0;
      SQLULEN size = 0;
      stmt.Check(SQLDescribeCol(stmt.get(), static_cast<SQLUSMALLINT>(i + 1), name, sizeof name, &name_len, &sql_type,
                                &size, &digits, &nullable),
                 "describing a column");
      Column& c = cols[static_cast<size_t>(i)];
      const bool integer = sql_type == SQL_INTEGER || sql_type == SQL_SMALLINT || sql_type == SQL_BIGINT ||
                           sql_type == SQL_TINYINT || (style == BindStyle::kLikeTheConnector && sql_type == SQL_BIT);
      // Text with room for the declared length in UTF-8 (4 bytes a character) and the NUL.
      c.c_type = SQL_C_CHAR;
      c.width = static_cast<SQLLEN>(std::clamp<SQLULEN>(size, 1, 8000) * 4 + 1);
      if (integer) {
        c.c_type = SQL_C_SBIGINT;
        c.width = sizeof(SQLBIGINT);
      } else if (style == BindStyle::kLikeTheConnector) {
        switch (sql_type) {
          case SQL_REAL:
          case SQL_FLOAT:
          case SQL_DOUBLE: c.c_type = SQL_C_DOUBLE; c.width = sizeof(double); break;
          case SQL_TYPE_DATE: c.c_type = SQL_C_TYPE_DATE; c.width = sizeof(SQL_DATE_STRUCT); break;
          case SQL_TYPE_TIMESTAMP: c.c_type = SQL_C_TYPE_TIMESTAMP; c.width = sizeof(SQL_TIMESTAMP_STRUCT); break;
          case SQL_DECIMAL:
          case SQL_NUMERIC: c.width = std::max<SQLLEN>(static_cast<SQLLEN>(size) + 3, 64); break;
          default: break;
        }
      }
      c.data.resize(static_cast<size_t>(c.width) * rows);
      c.ind.resize(rows);
    }
    stmt.Check(SQLSetStmtAttr(stmt.get(), SQL_ATTR_ROW_BIND_TYPE, reinterpret_cast<SQLPOINTER>(SQL_BIND_BY_COLUMN), 0),
               "setting column-wise binding");
    stmt.Check(SQLSetStmtAttr(stmt.get(), SQL_ATTR_ROW_ARRAY_SIZE, reinterpret_cast<SQLPOINTER>(rows), 0),
               "setting the row array size");
    SQLULEN array_size = 0;
    SQLGetStmtAttr(stmt.get(), SQL_ATTR_ROW_ARRAY_SIZE, &array_size, 0, nullptr);
    if (array_size != rows) {
      throw BenchError("the driver took a row array size of " + std::to_string(array_size) + ", not " +
                       std::to_string(rows));
    }
    for (size_t i = 0; i < cols.size(); ++i) {
      stmt.Check(SQLBindCol(stmt.get(), static_cast<SQLUSMALLINT>(i + 1), cols[i].c_type, cols[i].data.data(),
                            cols[i].width, cols[i].ind.data()),
                 "binding a column");
    }
    return cols;
  }

 private:
  void Free() {
    if (dbc_) {
      SQLDisconnect(dbc_);
      SQLFreeHandle(SQL_HANDLE_DBC, dbc_);
      dbc_ = SQL_NULL_HDBC;
    }
    if (env_) {
      SQLFreeHandle(SQL_HANDLE_ENV, env_);
      env_ = SQL_NULL_HENV;
    }
  }

  SQLHENV env_ = SQL_NULL_HENV;
  SQLHDBC dbc_ = SQL_NULL_HDBC;
};

}  // namespace fachadapter::bench

#endif  // FACHADAPTER_BENCH_COMMON_BENCH_UTIL_H_
