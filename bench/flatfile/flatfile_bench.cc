// Flat-file connector benchmark: scans a CSV, a fixed-width text and a COMP-3 (EBCDIC) file of
// FLATFILE_BENCH_MB megabytes each (default 1024) through the connector to typed values, and in
// the same run counts the newlines of the same bytes with memchr as the physical limit. Prints
// MB/s of both (per CPU second of the scanning thread: the machine may be shared) and their
// ratio, plus a Get by key on the CSV file through the key index. Each file is scanned the way
// the SDK's glue runs a connector (batches in wire format, as the host receives them) and, for
// comparison, into protobuf messages (arena or heap) without the wire format.
//
//   build/bin/flatfile_bench            # files are generated in $FLATFILE_BENCH_DIR or /tmp
//   FLATFILE_BENCH_MB=256 build/bin/flatfile_bench
//
// The files are generated at bench time and removed afterwards (FLATFILE_BENCH_KEEP=1 keeps
// them for the next run).
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "codecs.h"
#include "connector.h"

namespace ff = fachadapter::flatfile;
namespace cv1 = fachadapter::connector::v1;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// CPU time of this thread: the machine may be shared, so rates are per CPU second.
double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string Env(const char* n, const char* def) {
  const char* v = std::getenv(n);
  return v && *v ? v : def;
}

bool FileSizeAtLeast(const std::string& p, uint64_t size) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) >= size;
}

// Writes records produced by `gen(i, buf)` (returns bytes) until `size` bytes.
template <typename Gen>
uint64_t Generate(const std::string& path, uint64_t size, Gen gen, const std::string& header = "") {
  if (FileSizeAtLeast(path, size)) {
    struct stat st;
    ::stat(path.c_str(), &st);
    return static_cast<uint64_t>(st.st_size);
  }
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::vector<char> buf(1 << 20);
  std::setvbuf(f, nullptr, _IOFBF, 1 << 22);
  std::fwrite(header.data(), 1, header.size(), f);
  uint64_t written = header.size();
  char rec[512];
  for (uint64_t i = 1; written < size; ++i) {
    size_t n = gen(i, rec);
    std::fwrite(rec, 1, n, f);
    written += n;
  }
  std::fclose(f);
  return written;
}

size_t PutUint(uint64_t v, char* out, int width) {  // zero-padded when width > 0
  char tmp[24];
  int k = 0;
  do {
    tmp[k++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  size_t n = 0;
  for (int p = k; p < width; ++p) out[n++] = '0';
  while (k) out[n++] = tmp[--k];
  return n;
}

struct Result {
  double memchr_mbs, scan_mbs;
  uint64_t rows;
};

double MemchrRate(const std::string& path, uint64_t* lines) {
  int fd = ::open(path.c_str(), O_RDONLY);
  struct stat st;
  ::fstat(fd, &st);
  size_t n = static_cast<size_t>(st.st_size);
  void* p = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ::madvise(p, n, MADV_SEQUENTIAL);
  double t0 = CpuNow();
  const char* c = static_cast<const char*>(p);
  const char* end = c + n;
  uint64_t count = 0;
  while (c < end) {
    const void* nl = std::memchr(c, '\n', static_cast<size_t>(end - c));
    if (!nl) break;
    ++count;
    c = static_cast<const char*>(nl) + 1;
  }
  double t1 = CpuNow();
  ::munmap(p, n);
  *lines = count;
  return static_cast<double>(n) / 1e6 / (t1 - t0);
}

std::unique_ptr<ff::FlatFileConnector> Open(const std::string& json) {
  auto c = std::make_unique<ff::FlatFileConnector>();
  cv1::OpenRequest r;
  if (!google::protobuf::util::JsonStringToMessage(json, r.mutable_settings()).ok()) {
    std::fprintf(stderr, "bad settings\n");
    std::exit(1);
  }
  auto s = c->Open(r);
  if (!s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.message().c_str());
    std::exit(1);
  }
  return c;
}

// How a scan hands its batches over.
enum class Mode {
  kWire,        // NextEncoded as the connector implements it: what the SDK's glue calls per batch
  kSerialized,  // the SDK's default NextEncoded: batch built on an arena by Next, then serialized
  kArena,       // Next into a batch on an arena, not serialized (the figure of earlier runs)
  kHeap,        // Next into a batch on the heap, not serialized
};
const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kWire: return "wire (SDK path)";
    case Mode::kSerialized: return "arena+serialize";
    case Mode::kArena: return "arena, no wire";
    case Mode::kHeap: return "heap, no wire";
  }
  return "";
}

struct Scan {
  uint64_t rows = 0, checksum = 0, wire_bytes = 0;
  double cpu = 0;  // CPU seconds of this thread in the scan (for kWire/kSerialized: in the
                   // calls that produce the bytes; checking them afterwards is not counted)
};

// Adds one batch's rows and the sum of the first values (int64) to `out`.
void Tally(const cv1::ScanBatch& b, Scan* out) {
  for (const auto& r : b.batch().records()) {
    ++out->rows;
    out->checksum += static_cast<uint64_t>(r.values(0).int_value());
  }
}

// Scans the whole entity to typed values.
Scan ScanAll(ff::FlatFileConnector& c, const std::string& entity, Mode mode) {
  cv1::ScanRequest q;
  q.set_entity(entity);
  q.set_batch_size(4096);
  fachadapter::sdk::CallContext ctx;
  Scan out;
  double t0 = CpuNow();
  auto cur = c.Scan(q, ctx);
  if (!cur.ok()) {
    std::fprintf(stderr, "scan: %s\n", cur.status().message().c_str());
    std::exit(1);
  }
  fachadapter::sdk::ScanCursor& cursor = **cur;
  cv1::ScanBatch parsed;
  while (true) {
    bool end = false;
    fachadapter::Status s;
    if (mode == Mode::kWire || mode == Mode::kSerialized) {
      std::string wire;  // a new buffer per batch, as the SDK's glue hands each one to the host
      s = mode == Mode::kWire ? cursor.NextEncoded(&wire, &end, ctx)
                              : cursor.fachadapter::sdk::ScanCursor::NextEncoded(&wire, &end, ctx);
      out.cpu += CpuNow() - t0;
      if (s.ok() && !end) {
        out.wire_bytes += wire.size();
        if (!parsed.ParseFromString(wire)) {
          std::fprintf(stderr, "scan: the batch does not parse as a ScanBatch\n");
          std::exit(1);
        }
        Tally(parsed, &out);
      }
      t0 = CpuNow();
    } else {
      google::protobuf::Arena ar;
      cv1::ScanBatch heap;
      cv1::ScanBatch& b = mode == Mode::kArena ? *google::protobuf::Arena::CreateMessage<cv1::ScanBatch>(&ar) : heap;
      s = cursor.Next(&b, &end, ctx);
      if (s.ok() && !end) Tally(b, &out);
    }
    if (!s.ok()) {
      std::fprintf(stderr, "scan: %s\n", s.message().c_str());
      std::exit(1);
    }
    if (end) break;
  }
  if (mode != Mode::kWire && mode != Mode::kSerialized) out.cpu = CpuNow() - t0;
  return out;
}

// Scans in each mode; all must deliver the same rows. FLATFILE_BENCH_MODES picks some
// ("wire,serialized,arena,heap"; default all).
void Measure(const char* what, ff::FlatFileConnector& c, const std::string& entity, uint64_t bytes,
             double memchr_mbs) {
  std::string only = ",";
  only.append(Env("FLATFILE_BENCH_MODES", "wire,serialized,arena,heap")).append(",");
  const std::pair<Mode, const char*> modes[] = {
      {Mode::kWire, "wire"}, {Mode::kSerialized, "serialized"}, {Mode::kArena, "arena"}, {Mode::kHeap, "heap"}};
  bool first = true;
  Scan ref;
  for (const auto& [mode, key] : modes) {
    std::string needle = ",";  // built step by step: GCC 12 -O3 warns (-Wrestrict) on "," + string
    needle.append(key).append(",");
    if (only.find(needle) == std::string::npos) continue;
    auto w0 = Clock::now();
    Scan r = ScanAll(c, entity, mode);
    double wall = Seconds(w0, Clock::now());
    if (first) {
      ref = r;
      first = false;
    } else if (r.rows != ref.rows || r.checksum != ref.checksum) {
      std::fprintf(stderr, "%s: %s delivered %llu rows (checksum %llu), the first mode %llu (%llu)\n", what,
                   ModeName(mode), static_cast<unsigned long long>(r.rows), static_cast<unsigned long long>(r.checksum),
                   static_cast<unsigned long long>(ref.rows), static_cast<unsigned long long>(ref.checksum));
      std::exit(1);
    }
    double mbs = static_cast<double>(bytes) / 1e6 / r.cpu;
    std::printf("%-30s %-16s %6.0f MB %10llu rows  scan %7.1f MB/s (cpu %5.2f s, wall %5.2f s)  "
                "memchr %7.1f MB/s  ratio 1/%.1f\n",
                what, ModeName(mode), static_cast<double>(bytes) / 1e6, static_cast<unsigned long long>(r.rows), mbs,
                r.cpu, wall, memchr_mbs, memchr_mbs / mbs);
  }
}

}  // namespace

int main() {
  const uint64_t mb = std::strtoull(Env("FLATFILE_BENCH_MB", "1024").c_str(), nullptr, 10);
  const uint64_t size = mb * 1000 * 1000;
  const std::string dir = Env("FLATFILE_BENCH_DIR", "/tmp");
  const bool keep = Env("FLATFILE_BENCH_KEEP", "0") == "1";
  const std::string csv = dir + "/flatfile_bench.csv", fixed = dir + "/flatfile_bench.txt",
                    comp3 = dir + "/flatfile_bench.dat", cpy = dir + "/flatfile_bench.cpy";
  std::printf("flat-file connector benchmark: %llu MB per file in %s, one core\n",
              static_cast<unsigned long long>(mb), dir.c_str());

  // ---- CSV: id;name;city;amount with decimal comma, ~45 bytes a row ----
  auto t0 = Clock::now();
  uint64_t csv_bytes = Generate(csv, size, [](uint64_t i, char* o) {
    size_t n = PutUint(i, o, 0);
    std::memcpy(o + n, ";Kunde ", 7);
    n += 7;
    n += PutUint(i * 7 % 100000, o + n, 0);
    static const char* kCities[] = {";K\xC3\xB6ln;", ";Bonn;", ";D\xC3\xBCsseldorf;", ";Aachen;"};
    const char* c = kCities[i % 4];
    size_t cl = std::strlen(c);
    std::memcpy(o + n, c, cl);
    n += cl;
    n += PutUint(i % 1000000, o + n, 0);
    o[n++] = ',';
    n += PutUint(i % 100, o + n, 2);
    o[n++] = '\n';
    return n;
  }, "ID;NAME;ORT;BETRAG\n");
  // ---- Fixed-width text: 80-byte lines ----
  uint64_t fixed_bytes = Generate(fixed, size, [](uint64_t i, char* o) {
    std::memset(o, ' ', 79);
    PutUint(i, o, 10);
    char name[32];
    int nl = std::snprintf(name, sizeof name, "Kunde %llu", static_cast<unsigned long long>(i * 7 % 100000));
    std::memcpy(o + 10, name, static_cast<size_t>(nl));
    std::memcpy(o + 40, "Koeln", 5);
    char amt[32];
    int al = std::snprintf(amt, sizeof amt, "%llu,%02llu", static_cast<unsigned long long>(i % 1000000),
                           static_cast<unsigned long long>(i % 100));
    std::memcpy(o + 75 - al, amt, static_cast<size_t>(al));
    PutUint(i % 10000, o + 75, 4);
    o[79] = '\n';
    return size_t{80};
  });
  // ---- COMP-3 mainframe records (EBCDIC), 48 bytes ----
  const ff::Charset* eb = ff::Charset::ByName("cp037");
  uint64_t comp3_bytes = Generate(comp3, size, [eb](uint64_t i, char* o) {
    ff::Number n;
    std::string t = std::to_string(i);
    ff::ParseDecimalText(t, 0, &n);
    ff::EncodePacked(n, 6, false, reinterpret_cast<uint8_t*>(o));  // ID 9(11) COMP-3
    std::string name = "KUNDE " + std::to_string(i * 7 % 100000);
    name.resize(30, ' ');
    std::string enc;
    uint32_t bad;
    eb->Encode(name, &enc, &bad);
    std::memcpy(o + 6, enc.data(), 30);
    std::string a = std::to_string(i % 100000000) + "." + std::to_string(i % 10) + "5";
    ff::ParseDecimalText((i % 3 ? "" : "-") + a, 2, &n);
    ff::EncodePacked(n, 7, true, reinterpret_cast<uint8_t*>(o + 36));  // S9(11)V99 COMP-3
    ff::ParseDecimalText(std::to_string(i % 9999), 0, &n);
    ff::EncodeBinary(n, 2, true, reinterpret_cast<uint8_t*>(o + 43));  // S9(4) COMP
    ff::ParseDecimalText(std::to_string(i % 1000), 0, &n);
    ff::EncodeZoned(n, 3, *eb, true, ff::SignPosition::kTrailing, false, reinterpret_cast<uint8_t*>(o + 45));
    return size_t{48};
  });
  {
    FILE* f = std::fopen(cpy.c_str(), "w");
    std::fputs("       01  KUNDE.\n"
               "           05  KD-NR       PIC 9(11) COMP-3.\n"
               "           05  KD-NAME     PIC X(30).\n"
               "           05  KD-SALDO    PIC S9(11)V99 COMP-3.\n"
               "           05  KD-ANZAHL   PIC S9(4) COMP.\n"
               "           05  KD-STUFE    PIC S9(3).\n", f);
    std::fclose(f);
  }
  std::printf("generated in %.1f s\n", Seconds(t0, Clock::now()));

  uint64_t lines = 0;
  const std::string only = Env("FLATFILE_BENCH_ONLY", "");
  // CSV
  if (only.empty() || only == "csv") {
    double m = MemchrRate(csv, &lines);
    auto o0 = Clock::now();
    auto c = Open(R"({"files": {"csv": {"path": ")" + csv + R"(", "delimiter": ";", "key": ["ID"],
        "types": {"ID": "int64", "BETRAG": {"type": "decimal", "scale": 2, "decimal_separator": ","}}}}})");
    auto o1 = Clock::now();
    Measure("CSV -> int64/string/decimal", *c, "csv", csv_bytes, m);
    uint64_t rows = lines - 1;
    std::printf("  key index built on open over %llu rows in %.2f s (wall)\n", static_cast<unsigned long long>(rows),
                Seconds(o0, o1));
    // Get by key: through the index, no scan.
    int64_t builds = c->index_builds();
    cv1::ScanRequest q;
    q.set_entity("csv");
    auto* f = q.mutable_filter()->mutable_field();
    f->set_field("ID");
    f->set_op(fachadapter::v1::OPERATOR_EQ);
    f->mutable_value()->set_int_value(static_cast<int64_t>(rows / 2));
    fachadapter::sdk::CallContext ctx;
    auto g0 = Clock::now();
    int found = 0;
    const int kGets = 1000;
    for (int i = 0; i < kGets; ++i) {
      f->mutable_value()->set_int_value(static_cast<int64_t>((rows / kGets) * i + 1));
      auto cur = c->Scan(q, ctx);
      while (true) {
        cv1::ScanBatch b;
        bool end = false;
        if (!(*cur)->Next(&b, &end, ctx).ok() || end) break;
        found += b.batch().records_size();
      }
    }
    auto g1 = Clock::now();
    std::printf("  Get by key: %d of %d found, %.1f us per Get, index rebuilds during Gets: %lld\n", found, kGets,
                Seconds(g0, g1) / kGets * 1e6, static_cast<long long>(c->index_builds() - builds));
  }
  // Fixed-width
  if (only.empty() || only == "fixed") {
    double m = MemchrRate(fixed, &lines);
    auto c = Open(R"({"files": {"fixed": {"path": ")" + fixed + R"J(", "format": "fixed", "index_on_open": false,
        "fields": [{"name": "NR", "offset": 0, "length": 10, "type": "int64"},
                   {"name": "NAME", "offset": 10, "length": 30},
                   {"name": "ORT", "offset": 40, "length": 20},
                   {"name": "BETRAG", "offset": 60, "length": 15, "type": "decimal", "scale": 2, "decimal_separator": ","},
                   {"name": "STUFE", "offset": 75, "length": 4, "pic": "9(4)"}]}}})J");
    Measure("fixed-width text -> typed", *c, "fixed", fixed_bytes, m);
  }
  // COMP-3
  if (only.empty() || only == "comp3") {
    double m = MemchrRate(comp3, &lines);
    auto c = Open(R"({"files": {"comp3": {"path": ")" + comp3 + R"(", "format": "cobol", "copybook": ")" + cpy +
                  R"(", "encoding": "cp037"}}})");
    Measure("COMP-3/EBCDIC records -> typed", *c, "comp3", comp3_bytes, m);
  }
  if (!keep) {
    ::unlink(csv.c_str());
    ::unlink(fixed.c_str());
    ::unlink(comp3.c_str());
    ::unlink(cpy.c_str());
  }
  return 0;
}
