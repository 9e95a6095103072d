// Benchmark of the XÖV connector against raw libxml2, same run, same compiled schemas.
//
//  raw:       xmlReadMemory(NONET) + xmlSchemaValidateDoc with a reused validation context
//  connector: MessageAnalyzer::Analyze — hardened parse (UTF-8 check, limits, DOCTYPE refusal),
//             header extraction, schema-set matching, validation, record values
//  scan:      a cold Scan of the `inbound` entity through the connector's C function table over
//             a folder holding the same documents as files (adds file I/O and protobuf batches)
//
// Prints messages/s of each and the ratios connector/raw and scan/raw (target >= 0.8).
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fachadapter/connector/abi.h"
#include "fachadapter/connector/v1/connector.pb.h"
#include "message_store.h"
#include "schema_set.h"

extern "C" int32_t fachadapter_connector_init_xoev(uint32_t, void*, size_t);

namespace fs = std::filesystem;
using fachadapter::xoev::MessageAnalyzer;
using fachadapter::xoev::SchemaSet;
using fachadapter::xoev::SchemaSetConfig;
using Clock = std::chrono::steady_clock;

namespace {

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t n_docs = 10000;
  int runs = 5;
  fs::path data = XOEV_BENCH_SHARED_DATA;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--docs" && i + 1 < argc) n_docs = std::strtoul(argv[++i], nullptr, 10);
    if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    if (a == "--data" && i + 1 < argc) data = argv[++i];
  }
  if (!fs::is_directory(data / "xoev")) {
    std::fprintf(stderr, "xoev_bench: test data not found at %s (use --data DIR)\n", data.c_str());
    return 2;
  }
  fs::path src = XOEV_BENCH_SOURCE_DIR;
  SchemaSetConfig xb{"xbeteiligung-1.2", (data / "xoev/xbeteiligung-1.2/xsd/xbeteiligung.xsd").string(),
                     {(src / "connectors/xoev/catalogs/xbeteiligung-1.2.xml").string()}, {}, {}, "", ""};
  SchemaSetConfig xd{"xdomea-3.0.0", (data / "xoev/xdomea-3.0.0/xsd/xdomea_3.0.0/xdomea.xsd").string(),
                     {(src / "connectors/xoev/catalogs/xdomea-3.0.0.xml").string()},
                     {(data / "xoev/xdomea-3.0.0/xsd").string()}, {}, "", ""};
  MessageAnalyzer analyzer;
  for (auto* c : {&xb, &xd}) {
    auto s = SchemaSet::Compile(*c);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().message().c_str());
      return 1;
    }
    analyzer.schema_sets.push_back(*s);
  }
  analyzer.mapper = fachadapter::xoev::FieldMapper::Create({}, {}).value();

  // The samples that have a schema here, each with the set that validates it.
  struct Sample {
    std::string name, bytes;
    xmlSchemaValidCtxtPtr raw_vctxt;
  };
  std::vector<Sample> samples;
  std::vector<xmlSchemaValidCtxtPtr> vctxts;
  for (size_t i = 0; i < analyzer.schema_sets.size(); ++i) {
    vctxts.push_back(xmlSchemaNewValidCtxt(analyzer.schema_sets[i]->schema()));
  }
  for (const char* set : {"xbeteiligung-1.2", "xdomea-3.0.0"}) {
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(data / "xoev" / set / "samples")) files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (f.filename().string().find("no-xsd-here") != std::string::npos) continue;
      samples.push_back({f.filename().string(), Read(f), vctxts[std::string(set) == "xdomea-3.0.0"]});
    }
  }
  std::vector<const Sample*> docs;
  size_t total_bytes = 0;
  for (size_t i = 0; i < n_docs; ++i) {
    docs.push_back(&samples[i % samples.size()]);
    total_bytes += docs.back()->bytes.size();
  }
  std::printf("xoev_bench: %zu documents (%zu samples repeated, %.1f MiB), %d runs, median\n", docs.size(),
              samples.size(), total_bytes / 1048576.0, runs);

  auto raw_once = [&] {
    size_t ok = 0;
    for (const Sample* s : docs) {
      xmlDocPtr d = xmlReadMemory(s->bytes.data(), static_cast<int>(s->bytes.size()), nullptr, nullptr,
                                  XML_PARSE_NONET);
      if (d && xmlSchemaValidateDoc(s->raw_vctxt, d) == 0) ++ok;
      xmlFreeDoc(d);
    }
    return ok;
  };
  auto connector_once = [&] {
    size_t ok = 0;
    for (const Sample* s : docs) ok += analyzer.Analyze(s->bytes)->validation_status == "valid";
    return ok;
  };

  // The folder for the scan through the function table.
  fs::path dir = fs::temp_directory_path() / ("xoev-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir / "in");
  for (size_t i = 0; i < docs.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "%06zu.xml", i);
    std::ofstream(dir / "in" / name, std::ios::binary) << docs[i]->bytes;
  }
  FaConnectorV1 t{};
  fachadapter_connector_init_xoev(FACHADAPTER_CONNECTOR_ABI_VERSION, &t, sizeof t);
  // Opens a fresh instance (compiles the schema sets: start-up cost, not timed), so that the
  // timed scan is cold: every file read, parsed and validated.
  auto open_instance = [&](bool* failed) -> FaConnectorInstance* {
    fachadapter::connector::v1::OpenRequest open;
    open.set_source_name("bench");
    auto& f = *open.mutable_settings()->mutable_fields();
    f["inbound_dir"].set_string_value((dir / "in").string());
    auto* sets = f["schema_sets"].mutable_list_value();
    for (auto* c : {&xb, &xd}) {
      auto& m = *sets->add_values()->mutable_struct_value()->mutable_fields();
      m["name"].set_string_value(c->name);
      m["entry"].set_string_value(c->entry);
      m["catalogs"].set_string_value(c->catalogs[0]);
      if (!c->roots.empty()) m["roots"].set_string_value(c->roots[0]);
    }
    std::string ob = open.SerializeAsString();
    FaConnectorInstance* inst = nullptr;
    FaBuffer err{};
    if (t.open(nullptr, reinterpret_cast<const uint8_t*>(ob.data()), ob.size(), &inst, &err) != FA_OK) {
      *failed = true;
    }
    return inst;
  };
  auto scan_once = [&](FaConnectorInstance* inst, bool* failed) {
    FaBuffer err{};
    if (inst == nullptr) return size_t{0};
    fachadapter::connector::v1::ScanRequest req;
    req.set_entity("inbound");
    req.add_fields("file_name");
    req.add_fields("message_uuid");
    req.add_fields("validation_status");
    req.set_batch_size(1000);
    std::string rb = req.SerializeAsString();
    FaScanCursor* cur = nullptr;
    size_t ok = 0;
    if (t.scan_open(inst, nullptr, reinterpret_cast<const uint8_t*>(rb.data()), rb.size(), &cur, &err) == FA_OK) {
      for (;;) {
        FaBuffer b{};
        int32_t end = 0;
        if (t.scan_next(cur, nullptr, &b, &end) != FA_OK || end) break;
        fachadapter::connector::v1::ScanBatch batch;
        batch.ParseFromArray(b.data, static_cast<int>(b.size));
        b.release(&b);
        for (const auto& r : batch.batch().records()) ok += r.values(2).string_value() == "valid";
      }
      t.scan_close(cur);
    } else {
      *failed = true;
    }
    return ok;
  };

  // Warm-up (page cache, allocator, thread-local contexts).
  raw_once();
  connector_once();
  std::vector<double> raw_s, conn_s, scan_s;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    size_t a = raw_once();
    auto t1 = Clock::now();
    size_t b = connector_once();
    auto t1b = Clock::now();
    bool failed = false;
    FaConnectorInstance* inst = open_instance(&failed);
    auto t2 = Clock::now();
    size_t c = scan_once(inst, &failed);
    auto t3 = Clock::now();
    if (inst) t.close(inst);
    if (a != docs.size() || b != docs.size() || c != docs.size() || failed) {
      std::fprintf(stderr, "xoev_bench: not every document validated (raw %zu, connector %zu, scan %zu)\n", a, b, c);
      fs::remove_all(dir);
      return 1;
    }
    raw_s.push_back(Seconds(t1 - t0));
    conn_s.push_back(Seconds(t1b - t1));
    scan_s.push_back(Seconds(t3 - t2));
  }
  fs::remove_all(dir);
  double raw = docs.size() / Median(raw_s), conn = docs.size() / Median(conn_s), scan = docs.size() / Median(scan_s);
  std::printf("raw libxml2 parse+validate      %10.0f msgs/s\n", raw);
  std::printf("connector Analyze (in process)  %10.0f msgs/s   ratio %.2f\n", conn, conn / raw);
  std::printf("connector cold Scan (C ABI)     %10.0f msgs/s   ratio %.2f\n", scan, scan / raw);
  std::printf("target: ratio >= 0.80\n");
  for (auto* v : vctxts) xmlSchemaFreeValidCtxt(v);
  return 0;
}
