// Schema sets: the real XÖV sets compile unmodified and validate their samples; imports by URL
// resolve through catalogs and nothing else is loaded.
#include "schema_set.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "test_util.h"

namespace fachadapter::xoev {
namespace {

using testing::ReadFile;
using testing::SharedDataDir;
using testing::SourceDir;
using testing::TempDir;
using testing::WriteFile;

SchemaSetConfig XBeteiligung() {
  SchemaSetConfig c;
  c.name = "xbeteiligung-1.2";
  c.entry = (SharedDataDir() / "xoev/xbeteiligung-1.2/xsd/xbeteiligung.xsd").string();
  c.catalogs = {(SourceDir() / "connectors/xoev/catalogs/xbeteiligung-1.2.xml").string()};
  return c;
}

SchemaSetConfig Xdomea3() {
  SchemaSetConfig c;
  c.name = "xdomea-3.0.0";
  c.entry = (SharedDataDir() / "xoev/xdomea-3.0.0/xsd/xdomea_3.0.0/xdomea.xsd").string();
  c.roots = {(SharedDataDir() / "xoev/xdomea-3.0.0/xsd").string()};
  c.catalogs = {(SourceDir() / "connectors/xoev/catalogs/xdomea-3.0.0.xml").string()};
  return c;
}

std::string RootNs(xmlDoc* doc) {
  xmlNode* r = xmlDocGetRootElement(doc);
  return r && r->ns ? reinterpret_cast<const char*>(r->ns->href) : "";
}

TEST(SchemaSetTest, RealSetsCompileAndEverySampleValidates) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto xb = SchemaSet::Compile(XBeteiligung());
  ASSERT_TRUE(xb.ok()) << xb.status().message();
  auto xd = SchemaSet::Compile(Xdomea3());
  ASSERT_TRUE(xd.ok()) << xd.status().message();
  EXPECT_GT((*xb)->loaded_files().size(), 10u);
  EXPECT_EQ((*xb)->config().namespaces, std::vector<std::string>{"https://www.xleitstelle.de/xbeteiligung/12"});
  EXPECT_EQ((*xd)->config().namespaces, std::vector<std::string>{"urn:xoev-de:xdomea:schema:3.0.0"});

  int validated = 0, unknown = 0;
  for (const char* set : {"xbeteiligung-1.2", "xdomea-3.0.0"}) {
    for (const auto& f : std::filesystem::directory_iterator(SharedDataDir() / "xoev" / set / "samples")) {
      std::string bytes = ReadFile(f.path());
      auto doc = ParseUntrusted(bytes, {});
      ASSERT_TRUE(doc.ok()) << f.path() << ": " << doc.status().message();
      std::string ns = RootNs(doc->get());
      const SchemaSet* match = nullptr;
      for (const auto* s : {xb->get(), xd->get()}) {
        if (s->Matches(ns, "", "")) match = s;
      }
      if (f.path().filename().string().find("no-xsd-here") != std::string::npos) {
        EXPECT_EQ(match, nullptr) << "xdomea 4.0.0 has no schema here";
        ++unknown;
        continue;
      }
      ASSERT_NE(match, nullptr) << f.path();
      std::vector<XmlDiagnostic> errors;
      auto valid = match->Validate(doc->get(), &errors);
      ASSERT_TRUE(valid.ok());
      EXPECT_TRUE(*valid) << f.path() << "\n" << FormatDiagnostics(errors);
      ++validated;
    }
  }
  EXPECT_EQ(validated, 4);
  EXPECT_EQ(unknown, 1);
}

TEST(SchemaSetTest, InvalidMessageGivesEveryErrorWithLineAndPath) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto xb = SchemaSet::Compile(XBeteiligung());
  ASSERT_TRUE(xb.ok()) << xb.status().message();
  std::string bytes =
      ReadFile(SharedDataDir() / "xoev/xbeteiligung-1.2/samples/xbeteiligung-test-kommunal.Initiieren.0401.xml");
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t p = bytes.find(from);
    ASSERT_NE(p, std::string::npos) << from;
    bytes.replace(p, from.size(), to);
  };
  replace("60f6667b-fa45-4bd7-b717-f4d6c65e5edb", "not-a-uuid");
  replace("<ns5:planname>TestAdrian33</ns5:planname>", "<ns5:unbekannt>x</ns5:unbekannt>");
  auto doc = ParseUntrusted(bytes, {});
  ASSERT_TRUE(doc.ok());
  std::vector<XmlDiagnostic> errors;
  auto valid = (*xb)->Validate(doc->get(), &errors);
  ASSERT_TRUE(valid.ok());
  EXPECT_FALSE(*valid);
  ASSERT_GE(errors.size(), 2u) << FormatDiagnostics(errors);
  EXPECT_EQ(errors[0].line, 14);
  EXPECT_EQ(errors[0].path,
            "/ns5:kommunal.Initiieren.0401/ns2:nachrichtenkopf.g2g/ns2:identifikation.nachricht/"
            "ns2:nachrichtenUUID");
  EXPECT_NE(errors[0].message.find("not-a-uuid"), std::string::npos) << errors[0].message;
  bool unknown_element = false;
  for (const auto& e : errors) {
    unknown_element = unknown_element || e.message.find("unbekannt") != std::string::npos;
  }
  EXPECT_TRUE(unknown_element) << FormatDiagnostics(errors);
}

// Two tiny schemas: base.xsd in one folder, entry.xsd in another importing base by URL.
struct UrlImportFixture {
  TempDir dir;
  std::string base_dir, entry_dir, catalog;
  explicit UrlImportFixture(const std::string& import_url) {
    base_dir = (dir / "base").string();
    entry_dir = (dir / "entry").string();
    std::filesystem::create_directories(base_dir);
    std::filesystem::create_directories(entry_dir);
    WriteFile(base_dir + "/base.xsd",
              "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"urn:t:base\">"
              "<xs:simpleType name=\"Kennung\"><xs:restriction base=\"xs:string\">"
              "<xs:pattern value=\"[A-Z]{3}\"/></xs:restriction></xs:simpleType></xs:schema>");
    WriteFile(entry_dir + "/entry.xsd",
              "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:b=\"urn:t:base\" "
              "targetNamespace=\"urn:t:msg\" elementFormDefault=\"qualified\">"
              "<xs:import namespace=\"urn:t:base\" schemaLocation=\"" + import_url + "\"/>"
              "<xs:element name=\"msg\"><xs:complexType><xs:sequence>"
              "<xs:element name=\"kennung\" type=\"b:Kennung\"/></xs:sequence></xs:complexType>"
              "</xs:element></xs:schema>");
    catalog = (dir / "catalog.xml").string();
    WriteFile(catalog,
              "<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">"
              "<rewriteSystem systemIdStartString=\"http://schemas.example.invalid/base/\" "
              "rewritePrefix=\"base/\"/></catalog>");
  }
  SchemaSetConfig Config(bool with_catalog) const {
    SchemaSetConfig c;
    c.name = "t";
    c.entry = entry_dir + "/entry.xsd";
    c.roots = {base_dir, entry_dir};
    if (with_catalog) c.catalogs = {catalog};
    return c;
  }
};

TEST(SchemaSetTest, ImportByUrlResolvesThroughCatalog) {
  UrlImportFixture f("http://schemas.example.invalid/base/base.xsd");
  auto set = SchemaSet::Compile(f.Config(true));
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ((*set)->loaded_files().back(), CanonicalPath(f.base_dir + "/base.xsd"));
  auto good = ParseUntrusted("<msg xmlns=\"urn:t:msg\"><kennung>ABC</kennung></msg>", {});
  auto bad = ParseUntrusted("<msg xmlns=\"urn:t:msg\"><kennung>abc</kennung></msg>", {});
  ASSERT_TRUE(good.ok() && bad.ok());
  EXPECT_TRUE(*(*set)->Validate(good->get(), nullptr));
  std::vector<XmlDiagnostic> errors;
  EXPECT_FALSE(*(*set)->Validate(bad->get(), &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "/msg/kennung");
}

TEST(SchemaSetTest, UnmappedUrlIsRefusedWithoutNetwork) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/base.xsd";
  UrlImportFixture f(url);
  auto set = SchemaSet::Compile(f.Config(true));
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().reason(), "SCHEMA_COMPILE_FAILED");
  EXPECT_NE(set.status().message().find("refused to load '" + url + "'"), std::string::npos)
      << set.status().message();
  EXPECT_LT(::accept(fd, nullptr, nullptr), 0) << "schema compilation connected to the network";
  ::close(fd);
}

TEST(SchemaSetTest, FilesOutsideTheRootsAreRefused) {
  UrlImportFixture f("../base/base.xsd");
  SchemaSetConfig c = f.Config(false);
  c.roots = {f.entry_dir};  // base/ not allowed
  auto set = SchemaSet::Compile(c);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("outside the schema set's folders"), std::string::npos)
      << set.status().message();
  c.roots = {f.entry_dir, f.base_dir};
  EXPECT_TRUE(SchemaSet::Compile(c).ok());
}

TEST(SchemaSetTest, MissingEntryAndBrokenCatalog) {
  SchemaSetConfig c;
  c.name = "x";
  c.entry = "/nonexistent/entry.xsd";
  auto set = SchemaSet::Compile(c);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().reason(), "SCHEMA_COMPILE_FAILED");
  EXPECT_NE(set.status().message().find("does not exist"), std::string::npos);

  UrlImportFixture f("http://schemas.example.invalid/base/base.xsd");
  SchemaSetConfig missing = f.Config(false);
  missing.catalogs = {(f.dir / "no-such-catalog.xml").string()};
  set = SchemaSet::Compile(missing);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("catalog '" + missing.catalogs[0] + "' does not exist"), std::string::npos)
      << set.status().message();

  // A catalog that is not well-formed is an error naming it, even for a set whose imports are
  // relative and never ask the catalog anything.
  UrlImportFixture relative("../base/base.xsd");
  WriteFile(relative.dir / "broken-catalog.xml",
            "<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\"><rewriteSystem");
  SchemaSetConfig broken = relative.Config(false);
  ASSERT_TRUE(SchemaSet::Compile(broken).ok());
  broken.catalogs = {(relative.dir / "broken-catalog.xml").string()};
  set = SchemaSet::Compile(broken);
  ASSERT_FALSE(set.ok()) << "a broken catalog passed silently";
  EXPECT_EQ(set.status().reason(), "SCHEMA_COMPILE_FAILED");
  EXPECT_NE(set.status().message().find("XML catalog '" + CanonicalPath(broken.catalogs[0]) + "' cannot be read"),
            std::string::npos)
      << set.status().message();
}

TEST(SchemaSetTest, CompiledOnceValidatedFromManyThreads) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  auto xb = SchemaSet::Compile(XBeteiligung());
  ASSERT_TRUE(xb.ok());
  std::vector<std::string> samples;
  for (const auto& f : std::filesystem::directory_iterator(SharedDataDir() / "xoev/xbeteiligung-1.2/samples")) {
    samples.push_back(ReadFile(f.path()));
  }
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto doc = ParseUntrusted(samples[i % samples.size()], {});
        std::vector<XmlDiagnostic> e;
        if (doc.ok() && *(*xb)->Validate(doc->get(), &e)) {
          ++ok;
        } else {
          ++bad;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace fachadapter::xoev

namespace fachadapter::xoev {
namespace {

// The catalogs in connectors/xoev/catalogs map the published URLs to ../shared/data.
TEST(SchemaSetTest, RepositoryCatalogsResolvePublishedUrlsToSharedData) {
  FACHADAPTER_REQUIRE_SHARED_DATA();
  if (CanonicalPath((SourceDir() / "../shared/data").string()) != CanonicalPath(SharedDataDir().string())) {
    GTEST_SKIP() << "the repository's catalogs point to ../shared/data beside the checkout, and the "
                    "test data is elsewhere";
  }
  struct Case {
    const char* catalog;
    const char* ns;
    const char* url;
    std::string root;
    std::string expect;
  };
  Case cases[] = {
      {"xbeteiligung-1.2.xml", "http://xoev.de/schemata/code/1_0", "http://xoev.de/schemata/code/1_0/xoev-code.xsd",
       (SharedDataDir() / "xoev/xbeteiligung-1.2/xsd").string(),
       (SharedDataDir() / "xoev/xbeteiligung-1.2/xsd/xoev-code.xsd").string()},
      {"xbeteiligung-1.2.xml", "http://xoev.de/schemata/basisnachricht/g2g/1_1",
       "http://xoev.de/schemata/basisnachricht/g2g/1_1/xoev-basisnachricht-g2g_1.1.xsd",
       (SharedDataDir() / "xoev/xbeteiligung-1.2/xsd").string(),
       (SharedDataDir() / "xoev/xbeteiligung-1.2/xsd/xoev-basisnachricht-g2g_1.1.xsd").string()},
      {"xdomea-3.0.0.xml", "urn:xoev-de:xdomea:schema:3.0.0", "http://xdomea.de/schemata/300/xdomea.xsd",
       (SharedDataDir() / "xoev/xdomea-3.0.0/xsd").string(),
       (SharedDataDir() / "xoev/xdomea-3.0.0/xsd/xdomea_3.0.0/xdomea.xsd").string()},
  };
  for (const auto& c : cases) {
    TempDir dir;
    WriteFile(dir / "entry.xsd",
              std::string("<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"urn:t\">"
                          "<xs:import namespace=\"") + c.ns + "\" schemaLocation=\"" + c.url + "\"/></xs:schema>");
    SchemaSetConfig cfg;
    cfg.name = c.catalog;
    cfg.entry = (dir / "entry.xsd").string();
    cfg.roots = {dir.path().string(), c.root};
    cfg.catalogs = {(SourceDir() / "connectors/xoev/catalogs" / c.catalog).string()};
    auto set = SchemaSet::Compile(cfg);
    ASSERT_TRUE(set.ok()) << c.url << ": " << set.status().message();
    const auto& files = (*set)->loaded_files();
    EXPECT_NE(std::find(files.begin(), files.end(), CanonicalPath(c.expect)), files.end()) << c.url;
  }
}

}  // namespace
}  // namespace fachadapter::xoev
