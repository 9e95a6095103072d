// Fault test of the flat-file connector's writes: a "daemon" process inserting through the
// connector is killed with SIGKILL at random moments while a simulated legacy writer appends to
// and rewrites the same file under the same lock protocol.
//
// After every kill: the file parses completely; it holds every record whose insert was
// acknowledged (by the daemon or the legacy writer) exactly once; of the daemon's records it
// holds at most the one whose insert was interrupted (the state before or after that write);
// the next daemon process retries that insert with the same idempotency key and gets it
// exactly once. The number of kills is FLATFILE_FAULT_KILLS (default 300, 100 when CI=true),
// bounded by FLATFILE_FAULT_SECONDS (default 45 s) per test.
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "connector.h"
#include "fachadapter/values.h"
#include "test_util.h"

namespace fachadapter::flatfile {
namespace {

using fachadapter::testing::TempDir;

constexpr int kLegacyBase = 90000000;

int EnvInt(const char* name, int def) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : def;
}

std::string g_lock = "flock";  // the lock protocol of the current test (set before forking)

std::string Settings(const std::string& path, const std::string& mode) {
  return R"({"files": {"t": {"path": ")" + path + R"(", "format": "fixed", "encoding": "iso-8859-1",
      "key": ["ID"], "lock": ")" + g_lock + R"(", "lock_timeout_ms": 20000, "mode": ")" + mode + R"(",
      "fields": [{"name": "ID", "offset": 0, "length": 8, "type": "int64", "pad": "zero"},
                 {"name": "TXT", "offset": 8, "length": 22}]}}})";
}

std::unique_ptr<FlatFileConnector> OpenConnector(const std::string& path, const std::string& mode) {
  auto c = std::make_unique<FlatFileConnector>();
  cv1::OpenRequest r;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(Settings(path, mode), r.mutable_settings()).ok());
  Status s = c->Open(r);
  EXPECT_TRUE(s.ok()) << s.message();
  return c;
}

// The daemon: inserts ids from `first` on, each with idempotency key "k<id>"; reports every
// acknowledged id on `ack_fd`. Never returns.
[[noreturn]] void Daemon(const std::string& path, const std::string& mode, int first, int ack_fd) {
  auto c = OpenConnector(path, mode);
  sdk::CallContext ctx;
  for (int id = first;; ++id) {
    cv1::InsertRequest ins;
    ins.set_entity("t");
    auto* a = ins.add_values();
    a->set_field("ID");
    a->mutable_value()->set_int_value(id);
    auto* b = ins.add_values();
    b->set_field("TXT");
    b->mutable_value()->set_string_value("daemon " + std::to_string(id));
    ins.set_idempotency_key("k" + std::to_string(id));
    ins.set_request_hash("h" + std::to_string(id));
    cv1::InsertResponse resp;
    Status s = c->Insert(ins, &resp, ctx);
    if (!s.ok()) {
      std::fprintf(stderr, "daemon insert %d failed: %s\n", id, s.message().c_str());
      ::_exit(3);
    }
    int32_t v = id;
    if (::write(ack_fd, &v, sizeof v) != sizeof v) ::_exit(4);
  }
}

// Takes the legacy lock: flock or a classic POSIX fcntl lock on the data file (re-checking the
// inode, as the connector does, since writers replace the file by rename), or the lock file.
// Returns the fd of the data file (locked) or, for the lock file, an fd of the data file.
int LegacyLock(const std::string& path) {
  if (g_lock == "lockfile") {
    std::string lf = path + ".lock";
    while (true) {
      int l = ::open(lf.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (l >= 0) {
        std::string pid = std::to_string(::getpid()) + "\n";
        if (::write(l, pid.data(), pid.size()) < 0) ::_exit(10);
        ::close(l);
        return ::open(path.c_str(), O_RDWR);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  while (true) {
    int fd = ::open(path.c_str(), O_RDWR);
    if (fd < 0) return -1;
    if (g_lock == "flock") {
      ::flock(fd, LOCK_EX);
    } else {
      struct flock fl {};
      fl.l_type = F_WRLCK;
      fl.l_whence = SEEK_SET;
      while (::fcntl(fd, F_SETLKW, &fl) != 0) {
      }
    }
    struct stat a, b;
    if (::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_ino == b.st_ino) return fd;
    ::close(fd);
  }
}

void LegacyUnlock(const std::string& path, int fd) {
  if (g_lock == "lockfile") ::unlink((path + ".lock").c_str());
  ::close(fd);  // releases flock / fcntl locks
}

// The legacy program: appends its own records and rewrites the file (changing the text of a
// record) under the same lock; reports every finished append on `ack_fd`.
[[noreturn]] void Legacy(const std::string& path, int ack_fd, unsigned seed) {
  std::mt19937 rng(seed);
  for (int n = 0;; ++n) {
    int fd = LegacyLock(path);
    if (fd < 0) ::_exit(5);
    if (rng() % 3 != 0) {
      char rec[64];
      std::snprintf(rec, sizeof rec, "%08d%-22s\n", (kLegacyBase + n) % 100000000, "legacy append");
      if (::lseek(fd, 0, SEEK_END) < 0 || ::write(fd, rec, 31) != 31 || ::fsync(fd) != 0) ::_exit(6);
      LegacyUnlock(path, fd);
      int32_t v = kLegacyBase + n;
      if (::write(ack_fd, &v, sizeof v) != sizeof v) ::_exit(7);
    } else {
      // Rewrite: change one record's text, write a temporary file, rename it over the file.
      // Read through the locked descriptor: closing another descriptor of the file would drop
      // a classic POSIX (fcntl) lock.
      std::string data;
      {
        struct stat st;
        ::fstat(fd, &st);
        data.resize(static_cast<size_t>(st.st_size));
        if (::pread(fd, data.data(), data.size(), 0) != static_cast<ssize_t>(data.size())) ::_exit(11);
      }
      // Like a real program it finds records by their line ends and leaves alone a line it
      // cannot parse (a record torn by a crash).
      std::vector<size_t> starts;
      for (size_t at = 0; at < data.size();) {
        size_t nl = data.find('\n', at);
        if (nl == std::string::npos) break;
        if (nl - at == 30) starts.push_back(at);
        at = nl + 1;
      }
      if (!starts.empty()) {
        size_t at = starts[rng() % starts.size()];
        std::string txt = "legacy rewrite " + std::to_string(n);
        txt.resize(22, ' ');
        data.replace(at + 8, 22, txt);
      }
      std::string tmp = path + ".legacy-tmp";
      int t = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (t < 0 || ::write(t, data.data(), data.size()) != static_cast<ssize_t>(data.size()) || ::fsync(t) != 0) {
        ::_exit(8);
      }
      ::close(t);
      if (::rename(tmp.c_str(), path.c_str()) != 0) ::_exit(9);
      LegacyUnlock(path, fd);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
  }
}

void Drain(int fd, std::vector<int>* out) {
  int32_t v;
  while (::read(fd, &v, sizeof v) == sizeof v) out->push_back(v);
}

void RunFaultTest(const std::string& mode, const std::string& lock) {
  g_lock = lock;
  TempDir dir;
  std::string path = (dir / "data.txt").string();
  fachadapter::testing::WriteFile(path, "");
  // A few hundred kills by default; a modest number under CI (CI=true) to keep it fast.
  const char* ci = std::getenv("CI");
  int kills_wanted = EnvInt("FLATFILE_FAULT_KILLS", ci && std::string(ci) == "true" ? 100 : 300);
  int seconds = EnvInt("FLATFILE_FAULT_SECONDS", 45);
  int daemon_pipe[2], legacy_pipe[2];
  ASSERT_EQ(::pipe2(daemon_pipe, O_NONBLOCK), 0);
  ASSERT_EQ(::pipe2(legacy_pipe, O_NONBLOCK), 0);
  std::fflush(nullptr);
  pid_t legacy = ::fork();
  if (legacy == 0) Legacy(path, legacy_pipe[1], 12345);
  // Stops the legacy writer however this function returns (a failed ASSERT returns early).
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } reaper{legacy};
  std::mt19937 rng(42);
  std::vector<int> daemon_acks, legacy_acks;
  int next = 1;
  int kills = 0, interrupted_present = 0;
  auto start = std::chrono::steady_clock::now();
  auto reader = OpenConnector(path, "readonly");
  while (kills < kills_wanted &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(seconds)) {
    pid_t d = ::fork();
    if (d == 0) Daemon(path, mode, next, daemon_pipe[1]);
    std::this_thread::sleep_for(std::chrono::microseconds(1000 + rng() % 30000));
    ::kill(d, SIGKILL);
    int status = 0;
    ::waitpid(d, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the daemon exited by itself with " << WEXITSTATUS(status);
    ++kills;
    Drain(daemon_pipe[0], &daemon_acks);
    Drain(legacy_pipe[0], &legacy_acks);
    int last = daemon_acks.empty() ? 0 : daemon_acks.back();
    // The adapter comes back (opening recovers what the killed writer left, e.g. a torn append,
    // even if the legacy program appended after it). Then the file parses completely, holds every
    // acknowledged record once, and at most the one interrupted insert beyond them.
    OpenConnector(path, mode);
    cv1::ScanRequest q;
    q.set_entity("t");
    q.add_fields("ID");
    sdk::CallContext ctx;
    auto cur = reader->Scan(q, ctx);
    ASSERT_TRUE(cur.ok()) << cur.status().message();
    std::map<int64_t, int> count;
    while (true) {
      cv1::ScanBatch b;
      bool end = false;
      Status s = (*cur)->Next(&b, &end, ctx);
      ASSERT_TRUE(s.ok()) << "after kill " << kills << ": " << s.message();
      if (end) break;
      for (const auto& r : b.batch().records()) count[r.values(0).int_value()]++;
    }
    for (const auto& [id, n] : count) ASSERT_EQ(n, 1) << "record " << id << " is in the file " << n << " times";
    for (int id : daemon_acks) {
      ASSERT_EQ(count.count(id), 1u) << "acknowledged record " << id << " is missing after kill " << kills
                                     << "; file:\n" << fachadapter::testing::ReadFile(path);
    }
    // (Only legacy appends acknowledged before the scan started are checked.)
    for (int id : legacy_acks) ASSERT_EQ(count.count(id), 1u) << "legacy record " << id << " is missing";
    for (const auto& [id, n] : count) {
      if (id < kLegacyBase) {
        ASSERT_LE(id, last + 1) << "record " << id << " was never attempted";
      }
    }
    if (count.count(last + 1)) ++interrupted_present;
    next = last + 1;  // the next daemon retries the interrupted insert with the same key
  }
  ::kill(legacy, SIGKILL);
  ::waitpid(legacy, nullptr, 0);
  reaper.pid = 0;
  // One last clean daemon run finishes the interrupted insert exactly once.
  {
    auto c = OpenConnector(path, mode);
    sdk::CallContext ctx;
    cv1::InsertRequest ins;
    ins.set_entity("t");
    auto* a = ins.add_values();
    a->set_field("ID");
    a->mutable_value()->set_int_value(next);
    auto* b = ins.add_values();
    b->set_field("TXT");
    b->mutable_value()->set_string_value("daemon " + std::to_string(next));
    ins.set_idempotency_key("k" + std::to_string(next));
    ins.set_request_hash("h" + std::to_string(next));
    cv1::InsertResponse resp;
    Status s = c->Insert(ins, &resp, ctx);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  std::string data = fachadapter::testing::ReadFile(path);
  ASSERT_EQ(data.size() % 31, 0u);
  std::set<int> ids;
  for (size_t i = 0; i < data.size(); i += 31) ASSERT_TRUE(ids.insert(std::atoi(data.substr(i, 8).c_str())).second);
  for (int id = 1; id <= next; ++id) EXPECT_TRUE(ids.count(id)) << id;
  for (const auto& de : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(de.path().filename().string().find(".fa-tmp-"), std::string::npos) << "left over: " << de.path();
    EXPECT_EQ(de.path().filename().string().find(".stale."), std::string::npos) << "left over: " << de.path();
    std::string n = de.path().filename().string();
    EXPECT_FALSE(n.size() > 4 && n.compare(n.size() - 4, 4, ".new") == 0) << "left over: " << de.path();
  }
  std::printf("[ fault    ] mode %s, lock %s: %d kills in %.1f s, %zu acknowledged daemon inserts, %zu legacy "
              "appends, interrupted insert already present after %d kills\n",
              mode.c_str(), lock.c_str(), kills,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
              daemon_acks.size(), legacy_acks.size(), interrupted_present);
  // On a heavily loaded machine the time bound may stop the run early; it still has to have
  // done a meaningful number of kills.
  EXPECT_GE(kills, std::min(kills_wanted, 20));
  ::close(daemon_pipe[0]);
  ::close(daemon_pipe[1]);
  ::close(legacy_pipe[0]);
  ::close(legacy_pipe[1]);
}

TEST(FlatFileFault, SigkillDuringRewritingInsertsFlock) { RunFaultTest("readwrite", "flock"); }
TEST(FlatFileFault, SigkillDuringAppendsFlock) { RunFaultTest("append", "flock"); }
TEST(FlatFileFault, SigkillDuringRewritingInsertsFcntl) { RunFaultTest("readwrite", "fcntl"); }
TEST(FlatFileFault, SigkillDuringRewritingInsertsLockFile) { RunFaultTest("readwrite", "lockfile"); }

}  // namespace
}  // namespace fachadapter::flatfile
