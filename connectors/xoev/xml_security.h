// Hardened XML parsing for untrusted XÖV messages, and the process-wide libxml2 set-up the
// XÖV connector relies on.
//
// Every document that reaches the connector (inbound files, Create requests) is hostile until
// parsed by ParseUntrusted: no network, no DTD (a DOCTYPE is rejected outright, so no entity is
// ever declared, loaded or expanded), bounded size, nesting depth, text and attribute length,
// UTF-8 only. Errors are collected per call with line, element path and libxml2's message.
//
// libxml2's external entity loader is process-global. InitLibxml() installs ours once; it
// applies the policy of the current thread's LoaderScope (deny everything while parsing a
// message; catalog-resolved local files below the schema roots while compiling a schema set)
// and hands loads of threads without a scope to the loader that was installed before, so other
// libxml2 users in the same process keep their behaviour.
#ifndef FACHADAPTER_CONNECTORS_XOEV_XML_SECURITY_H_
#define FACHADAPTER_CONNECTORS_XOEV_XML_SECURITY_H_

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fachadapter/status.h"

namespace fachadapter::xoev {

/// Limits applied to every untrusted document.
struct XmlLimits {
  size_t max_document_bytes = 16u << 20;   ///< Whole document (default 16 MiB).
  int max_depth = 256;                     ///< Element nesting (1..256; libxml2's hard cap is 256).
  size_t max_text_bytes = 8u << 20;        ///< One run of character data (default 8 MiB).
  size_t max_attribute_bytes = 1u << 20;   ///< One attribute value (default 1 MiB).
  size_t max_errors = 100;                 ///< Diagnostics kept per document; more are counted.
};

/// One error or warning from parsing, schema compilation or validation.
struct XmlDiagnostic {
  int line = 0;          ///< 1-based line in the document, 0 if unknown.
  std::string path;      ///< Element path, e.g. /ns2:root/ns2:kopf/ns2:uuid; may be empty.
  std::string message;   ///< libxml2's (or the connector's) message, one line.
  std::string file;      ///< File the error is in (schema compilation), may be empty.
  bool warning = false;  ///< A warning, not an error.
};

/// "line 12: /a/b: message" (parts that are unknown are left out).
std::string FormatDiagnostic(const XmlDiagnostic& d);
/// One diagnostic per line; at most `max` and then "... and N more".
std::string FormatDiagnostics(const std::vector<XmlDiagnostic>& ds, size_t max = 1000);

/// Frees a libxml2 document.
struct XmlDocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
/// An owned libxml2 document.
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;

/// Initialises libxml2 for multi-threaded use and installs the connector's entity loader.
/// Idempotent and thread-safe; every other function here calls it.
void InitLibxml();

/// Element path of a node: /prefix:local/prefix:local[2] (position only among same-named
/// siblings when there are several).
std::string ElementPath(const xmlNode* node);

/// A policy for external loads (DTDs, entities, schema imports/includes) on this thread.
class LoaderPolicy {
 public:
  virtual ~LoaderPolicy() = default;
  /// Opens `url` (public id `id`) or refuses by returning null (and recording why).
  virtual xmlParserInputPtr Load(const char* url, const char* id, xmlParserCtxtPtr ctxt) = 0;
};

/// Makes `policy` the current thread's loader policy for the scope's lifetime.
class LoaderScope {
 public:
  explicit LoaderScope(LoaderPolicy* policy);
  ~LoaderScope();
  LoaderScope(const LoaderScope&) = delete;
  LoaderScope& operator=(const LoaderScope&) = delete;

 private:
  LoaderPolicy* previous_;
};

/// A policy that refuses every external load and records each refusal.
class DenyAllLoader : public LoaderPolicy {
 public:
  xmlParserInputPtr Load(const char* url, const char* id, xmlParserCtxtPtr ctxt) override;
  /// URLs (or public ids) that were refused.
  const std::vector<std::string>& refused() const { return refused_; }

 private:
  std::vector<std::string> refused_;
};

/// True if our entity loader is the one libxml2 calls (nobody replaced it).
bool EntityLoaderInstalled();

/// Collects libxml2 structured errors of the current thread for the scope's lifetime
/// (xmlSetStructuredErrorFunc is per thread in libxml2 2.9), restoring the previous handler.
class ThreadErrorCollector {
 public:
  explicit ThreadErrorCollector(std::vector<XmlDiagnostic>* out, size_t max_errors = 100);
  ~ThreadErrorCollector();
  ThreadErrorCollector(const ThreadErrorCollector&) = delete;
  ThreadErrorCollector& operator=(const ThreadErrorCollector&) = delete;
  /// Errors seen beyond max_errors.
  size_t dropped() const { return dropped_; }
  /// Adds one libxml2 error.
  void Add(const xmlError* e);

 private:
  std::vector<XmlDiagnostic>* out_;
  size_t max_;
  size_t dropped_ = 0;
  void* prev_ctx_;
  xmlStructuredErrorFunc prev_fn_;
};

/// Converts a libxml2 error into a diagnostic (message trimmed, path from the error's node).
XmlDiagnostic ToDiagnostic(const xmlError* e);

/// Parses an untrusted document. On failure returns INVALID_ARGUMENT with a machine-readable
/// reason (XML_TOO_LARGE, XML_DOCTYPE_FORBIDDEN, XML_TOO_DEEP, XML_TEXT_TOO_LARGE,
/// XML_ATTRIBUTE_TOO_LARGE, XML_NOT_UTF8, XML_MALFORMED, XML_EXTERNAL_LOAD_REFUSED) and a message
/// naming the first problem; every diagnostic is appended to `diagnostics` (if not null).
/// With `mutable_tree` the tree is built without XML_PARSE_COMPACT, so that it may be changed
/// (filling in a message UUID); otherwise it must be treated as read-only.
Result<XmlDocPtr> ParseUntrusted(std::string_view bytes, const XmlLimits& limits,
                                 std::vector<XmlDiagnostic>* diagnostics = nullptr,
                                 bool mutable_tree = false);

/// The libxml2 parser options used for untrusted documents (for tests and the benchmark).
int UntrustedParseOptions();

}  // namespace fachadapter::xoev

#endif  // FACHADAPTER_CONNECTORS_XOEV_XML_SECURITY_H_
