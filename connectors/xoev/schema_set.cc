#include "schema_set.h"

#include <libxml/parserInternals.h>
#include <libxml/schemasInternals.h>
#include <libxml/uri.h>
#include <limits.h>
#include <stdlib.h>

#include <mutex>

namespace fachadapter::xoev {
namespace {

std::mutex& CompileMutex() {
  static std::mutex m;
  return m;
}

std::string DirName(const std::string& p) {
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

bool HasScheme(const std::string& s) {
  size_t i = 0;
  if (s.empty() || !isalpha(static_cast<unsigned char>(s[0]))) return false;
  while (i < s.size() && (isalnum(static_cast<unsigned char>(s[i])) || s[i] == '+' || s[i] == '-' ||
                          s[i] == '.')) {
    ++i;
  }
  return i > 1 && i < s.size() && s[i] == ':';  // "C:" style single letters are not schemes
}

bool Under(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
         path[root.size()] == '/';
}

// The loader policy while one schema set compiles.
class SchemaLoader : public LoaderPolicy {
 public:
  SchemaLoader(const SchemaSetConfig& cfg, const std::vector<xmlCatalogPtr>& catalogs)
      : cfg_(cfg), catalogs_(catalogs) {}

  xmlParserInputPtr Load(const char* url, const char* id, xmlParserCtxtPtr ctxt) override {
    std::string asked = url ? url : (id ? id : "");
    std::string target;
    for (xmlCatalogPtr cat : catalogs_) {
      xmlChar* r = xmlACatalogResolve(cat, reinterpret_cast<const xmlChar*>(id),
                                      reinterpret_cast<const xmlChar*>(url));
      if (r == nullptr && url != nullptr) {
        r = xmlACatalogResolveURI(cat, reinterpret_cast<const xmlChar*>(url));
      }
      if (r != nullptr) {
        target = reinterpret_cast<const char*>(r);
        xmlFree(r);
        break;
      }
    }
    if (target.empty()) target = asked;
    if (target.rfind("file://", 0) == 0) {
      char* un = xmlURIUnescapeString(target.c_str() + 7, 0, nullptr);
      target = un ? un : "";
      xmlFree(un);
    } else if (HasScheme(target)) {
      Refuse(asked, "it is not a local file and no catalog of the set maps it to one");
      return nullptr;
    }
    std::string canon = CanonicalPath(target);
    if (canon.empty()) {
      Refuse(asked, "file '" + target + "' does not exist");
      return nullptr;
    }
    bool allowed = false;
    for (const auto& root : cfg_.roots) allowed = allowed || Under(canon, root);
    for (const auto& c : cfg_.catalogs) allowed = allowed || canon == c;
    if (!allowed) {
      Refuse(asked, "'" + canon + "' is outside the schema set's folders");
      return nullptr;
    }
    loaded_.push_back(canon);
    return xmlNewInputFromFile(ctxt, canon.c_str());
  }

  void Refuse(const std::string& what, const std::string& why) {
    refused_.push_back("refused to load '" + what + "': " + why);
  }
  const std::vector<std::string>& refused() const { return refused_; }
  const std::vector<std::string>& loaded() const { return loaded_; }

 private:
  const SchemaSetConfig& cfg_;
  const std::vector<xmlCatalogPtr>& catalogs_;
  std::vector<std::string> refused_;
  std::vector<std::string> loaded_;
};

struct ErrorSink {
  std::vector<XmlDiagnostic>* out;
  size_t max;
  size_t dropped = 0;
};

void SinkHandler(void* ctx, xmlErrorPtr e) {
  auto* sink = static_cast<ErrorSink*>(ctx);
  if (sink == nullptr || e == nullptr) return;
  if (sink->out->size() >= sink->max) {
    ++sink->dropped;
    return;
  }
  sink->out->push_back(ToDiagnostic(e));
}

}  // namespace

std::string CanonicalPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return {};
  return buf;
}

Result<std::shared_ptr<const SchemaSet>> SchemaSet::Compile(const SchemaSetConfig& config) {
  InitLibxml();
  std::shared_ptr<SchemaSet> set(new SchemaSet());
  set->config_ = config;
  SchemaSetConfig& cfg = set->config_;
  auto fail = [&](const std::string& msg) -> Status {
    return FailedPrecondition("schema set '" + cfg.name + "': " + msg, "SCHEMA_COMPILE_FAILED");
  };
  cfg.entry = CanonicalPath(config.entry);
  if (cfg.entry.empty()) return fail("entry schema '" + config.entry + "' does not exist");
  if (cfg.roots.empty()) cfg.roots.push_back(DirName(cfg.entry));
  for (auto& r : cfg.roots) {
    std::string c = CanonicalPath(r);
    if (c.empty()) return fail("schema folder '" + r + "' does not exist");
    r = c;
  }
  bool entry_allowed = false;
  for (const auto& r : cfg.roots) entry_allowed = entry_allowed || Under(cfg.entry, r);
  if (!entry_allowed) return fail("entry schema '" + cfg.entry + "' is outside its schema folders");
  for (auto& c : cfg.catalogs) {
    std::string p = CanonicalPath(c);
    if (p.empty()) return fail("catalog '" + c + "' does not exist");
    c = p;
  }

  std::lock_guard<std::mutex> lock(CompileMutex());
  if (!EntityLoaderInstalled()) {
    return Internal("libxml2's external entity loader was replaced by another component");
  }
  std::vector<xmlCatalogPtr> catalogs;
  auto free_catalogs = [&] {
    for (auto* c : catalogs) xmlFreeCatalog(c);
  };
  std::vector<XmlDiagnostic> diags;
  ErrorSink sink{&diags, 200};
  ThreadErrorCollector collector(&diags, 200);
  for (const auto& c : cfg.catalogs) {
    xmlCatalogPtr cat = xmlLoadACatalog(c.c_str());
    if (cat == nullptr) {
      free_catalogs();
      return fail("cannot read XML catalog '" + c + "'");
    }
    catalogs.push_back(cat);
  }
  SchemaLoader loader(cfg, catalogs);
  xmlSchemaPtr schema = nullptr;
  {
    LoaderScope scope(&loader);
    // Catalogs are parsed lazily; resolve once so that a broken catalog is reported here, by
    // name, even when the set happens not to need it (it would otherwise be ignored silently).
    for (size_t i = 0; i < catalogs.size(); ++i) {
      size_t before = diags.size();
      xmlChar* r = xmlACatalogResolveURI(catalogs[i], BAD_CAST "urn:fachadapter:probe");
      if (r) xmlFree(r);
      if (diags.size() > before) {
        std::vector<XmlDiagnostic> problems(diags.begin() + static_cast<std::ptrdiff_t>(before), diags.end());
        free_catalogs();
        return fail("XML catalog '" + cfg.catalogs[i] + "' cannot be read:\n" + FormatDiagnostics(problems, 50));
      }
    }
    xmlSchemaParserCtxtPtr pctxt = xmlSchemaNewParserCtxt(cfg.entry.c_str());
    if (pctxt == nullptr) {
      free_catalogs();
      return fail("cannot create a schema parser");
    }
    xmlSchemaSetParserStructuredErrors(pctxt, &SinkHandler, &sink);
    schema = xmlSchemaParse(pctxt);
    xmlSchemaFreeParserCtxt(pctxt);
  }
  free_catalogs();
  if (schema == nullptr || !loader.refused().empty()) {
    if (schema) xmlSchemaFree(schema);
    std::string msg = "cannot compile '" + cfg.entry + "'";
    for (const auto& r : loader.refused()) msg += "\n" + r;
    std::string d = FormatDiagnostics(diags, 50);
    if (!d.empty()) msg += "\n" + d;
    return fail(msg);
  }
  set->schema_ = schema;
  set->loaded_ = loader.loaded();
  if (cfg.namespaces.empty() && schema->targetNamespace != nullptr) {
    cfg.namespaces.push_back(reinterpret_cast<const char*>(schema->targetNamespace));
  }
  return std::shared_ptr<const SchemaSet>(std::move(set));
}

SchemaSet::~SchemaSet() {
  if (schema_) xmlSchemaFree(schema_);
}

bool SchemaSet::Matches(std::string_view ns, std::string_view standard,
                        std::string_view version) const {
  bool ns_ok = false;
  for (const auto& n : config_.namespaces) ns_ok = ns_ok || n == ns;
  if (!ns_ok) return false;
  if (!config_.standard.empty() && !standard.empty() && standard != config_.standard) return false;
  if (!config_.version.empty() && !version.empty() && version != config_.version) return false;
  return true;
}

Result<bool> SchemaSet::Validate(xmlDoc* doc, std::vector<XmlDiagnostic>* errors,
                                 size_t max_errors, bool add_defaults) const {
  // Validation contexts are reused per thread (creating one per document costs more than
  // validating a small message); they hold no document state between calls. Each cache entry
  // keeps its set alive, so a context never outlives the schema it points to.
  struct Entry {
    std::shared_ptr<const SchemaSet> set;
    xmlSchemaValidCtxtPtr vctxt = nullptr;
  };
  struct Cache {
    std::vector<Entry> entries;
    ~Cache() {
      for (auto& e : entries) xmlSchemaFreeValidCtxt(e.vctxt);
    }
  };
  static thread_local Cache cache;
  xmlSchemaValidCtxtPtr vctxt = nullptr;
  for (auto& e : cache.entries) {
    if (e.set.get() == this) vctxt = e.vctxt;
  }
  if (vctxt == nullptr) {
    vctxt = xmlSchemaNewValidCtxt(schema_);
    if (vctxt == nullptr) return Internal("cannot create a schema validation context");
    if (cache.entries.size() >= 8) {
      xmlSchemaFreeValidCtxt(cache.entries.front().vctxt);
      cache.entries.erase(cache.entries.begin());
    }
    cache.entries.push_back(Entry{shared_from_this(), vctxt});
  }
  std::vector<XmlDiagnostic> local;
  ErrorSink sink{errors ? errors : &local, max_errors};
  xmlSchemaSetValidStructuredErrors(vctxt, &SinkHandler, &sink);
  xmlSchemaSetValidOptions(vctxt, add_defaults ? XML_SCHEMA_VAL_VC_I_CREATE : 0);
  DenyAllLoader deny;
  int rc;
  {
    LoaderScope scope(&deny);
    rc = xmlSchemaValidateDoc(vctxt, doc);
  }
  xmlSchemaSetValidStructuredErrors(vctxt, nullptr, nullptr);
  if (sink.dropped > 0) {
    XmlDiagnostic d;
    d.message = std::to_string(sink.dropped) + " further validation errors not listed";
    sink.out->push_back(std::move(d));
  }
  if (rc < 0) return Internal("libxml2 failed internally while validating");
  return rc == 0;
}

}  // namespace fachadapter::xoev
