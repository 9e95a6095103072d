// Hardened parsing of untrusted XML. Why each piece is there:
//  - the size limit is checked before libxml2 sees a byte, so memory stays bounded (the tree is
//    a small multiple of the input);
//  - UTF-8 is checked up front so the error names the byte offset, not a parser state;
//  - the DOCTYPE is refused from the SAX internalSubset callback, which libxml2 calls right after
//    the name and external id are read and before any markup declaration: no entity is ever
//    declared, so entity bombs (billion laughs, quadratic blowup) and XXE have nothing to work
//    with, whatever the rest of the document says;
//  - depth, text and attribute limits are enforced in the SAX callbacks, which stop the parser
//    at the first violation instead of building the tree first;
//  - XML_PARSE_NONET and the deny-all loader make sure nothing is fetched, even if some later
//    libxml2 path tried.
#include "xml_security.h"

#include <libxml/SAX2.h>
#include <libxml/dict.h>
#include <libxml/parserInternals.h>

#include <cstring>
#include <mutex>

namespace fachadapter::xoev {
namespace {

thread_local LoaderPolicy* t_policy = nullptr;
xmlExternalEntityLoader g_previous_loader = nullptr;

xmlParserInputPtr XoevEntityLoader(const char* url, const char* id, xmlParserCtxtPtr ctxt) {
  if (t_policy != nullptr) return t_policy->Load(url, id, ctxt);
  // Not inside the XÖV connector: behave as before we were installed.
  return g_previous_loader ? g_previous_loader(url, id, ctxt) : nullptr;
}

std::string Trim(std::string s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\n' || s[b] == '\r' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\n' || s[e - 1] == '\r' || s[e - 1] == '\t')) --e;
  s = s.substr(b, e - b);
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

// State of the parse running on this thread (one at a time per thread).
struct ParseState {
  const XmlLimits* limits = nullptr;
  std::vector<XmlDiagnostic>* diags = nullptr;
  size_t dropped = 0;
  xmlParserCtxtPtr ctxt = nullptr;
  std::string reason;   // our first limit violation
  std::string message;
  int depth = 0;
  size_t text_run = 0;
  bool saw_error = false;
};
thread_local ParseState* t_state = nullptr;

void AddDiag(ParseState* s, XmlDiagnostic d) {
  if (s->diags->size() < s->limits->max_errors) {
    s->diags->push_back(std::move(d));
  } else {
    ++s->dropped;
  }
}

int CurrentLine(xmlParserCtxtPtr ctxt) {
  return ctxt && ctxt->input ? ctxt->input->line : 0;
}

void Stop(ParseState* s, const char* reason, std::string message, std::string path) {
  if (s->reason.empty()) {
    s->reason = reason;
    s->message = message;
    XmlDiagnostic d;
    d.line = CurrentLine(s->ctxt);
    d.path = std::move(path);
    d.message = std::move(message);
    AddDiag(s, std::move(d));
  }
  xmlStopParser(s->ctxt);
}

std::string QName(const xmlChar* prefix, const xmlChar* local) {
  std::string n;
  if (prefix) {
    n = reinterpret_cast<const char*>(prefix);
    n += ':';
  }
  if (local) n += reinterpret_cast<const char*>(local);
  return n;
}

void OnStartElementNs(void* ctx, const xmlChar* localname, const xmlChar* prefix,
                      const xmlChar* uri, int nb_namespaces, const xmlChar** namespaces,
                      int nb_attributes, int nb_defaulted, const xmlChar** attributes) {
  ParseState* s = t_state;
  if (s != nullptr) {
    s->text_run = 0;
    if (++s->depth > s->limits->max_depth) {
      Stop(s, "XML_TOO_DEEP",
           "elements are nested deeper than the limit of " + std::to_string(s->limits->max_depth),
           ElementPath(s->ctxt->node) + "/" + QName(prefix, localname));
      return;
    }
    for (int i = 0; i < nb_attributes; ++i) {
      const xmlChar* value = attributes[i * 5 + 3];
      const xmlChar* end = attributes[i * 5 + 4];
      size_t len = static_cast<size_t>(end - value);
      if (len > s->limits->max_attribute_bytes) {
        Stop(s, "XML_ATTRIBUTE_TOO_LARGE",
             "attribute '" + QName(attributes[i * 5 + 1], attributes[i * 5]) + "' is " +
                 std::to_string(len) + " bytes, more than the limit of " +
                 std::to_string(s->limits->max_attribute_bytes),
             ElementPath(s->ctxt->node) + "/" + QName(prefix, localname));
        return;
      }
    }
  }
  xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                        nb_defaulted, attributes);
}

void OnEndElementNs(void* ctx, const xmlChar* localname, const xmlChar* prefix,
                    const xmlChar* uri) {
  if (ParseState* s = t_state) {
    --s->depth;
    s->text_run = 0;
  }
  xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

bool CheckText(int len) {
  ParseState* s = t_state;
  if (s == nullptr) return true;
  s->text_run += static_cast<size_t>(len);
  if (s->text_run > s->limits->max_text_bytes) {
    Stop(s, "XML_TEXT_TOO_LARGE",
         "character data is longer than the limit of " +
             std::to_string(s->limits->max_text_bytes) + " bytes",
         ElementPath(s->ctxt->node));
    return false;
  }
  return true;
}

void OnCharacters(void* ctx, const xmlChar* ch, int len) {
  if (CheckText(len)) xmlSAX2Characters(ctx, ch, len);
}

void OnCdata(void* ctx, const xmlChar* ch, int len) {
  if (CheckText(len)) xmlSAX2CDataBlock(ctx, ch, len);
}

void OnInternalSubset(void* ctx, const xmlChar* name, const xmlChar* external_id,
                      const xmlChar* system_id) {
  if (ParseState* s = t_state) {
    std::string msg = "document has a DOCTYPE declaration (<!DOCTYPE ";
    msg += name ? reinterpret_cast<const char*>(name) : "";
    if (external_id) msg += std::string(" PUBLIC \"") + reinterpret_cast<const char*>(external_id) + "\"";
    if (system_id) msg += std::string(" \"") + reinterpret_cast<const char*>(system_id) + "\"";
    msg += " ...>); DTDs and entity declarations are not accepted in XÖV messages";
    Stop(s, "XML_DOCTYPE_FORBIDDEN", msg, "");
  }
}

void OnExternalSubset(void*, const xmlChar*, const xmlChar*, const xmlChar*) {
  // Never loads anything; only reachable after a DOCTYPE, which OnInternalSubset refused.
  if (ParseState* s = t_state) Stop(s, "XML_DOCTYPE_FORBIDDEN", "external DTD subset refused", "");
}

void OnEntityDecl(void*, const xmlChar* name, int, const xmlChar*, const xmlChar*, xmlChar*) {
  if (ParseState* s = t_state) {
    Stop(s, "XML_DOCTYPE_FORBIDDEN",
         std::string("entity declaration '") + reinterpret_cast<const char*>(name) + "' refused", "");
  }
}

void OnStructuredError(void*, xmlErrorPtr e) {
  ParseState* s = t_state;
  if (s == nullptr || e == nullptr) return;
  if (e->level >= XML_ERR_ERROR) s->saw_error = true;
  XmlDiagnostic d = ToDiagnostic(e);
  if (d.path.empty() && s->ctxt && s->ctxt->node) d.path = ElementPath(s->ctxt->node);
  AddDiag(s, std::move(d));
}

void InstallHandlers(xmlParserCtxtPtr ctxt) {
  xmlSAXHandler* sax = ctxt->sax;
  sax->startElementNs = &OnStartElementNs;
  sax->endElementNs = &OnEndElementNs;
  sax->characters = &OnCharacters;
  sax->cdataBlock = &OnCdata;
  sax->internalSubset = &OnInternalSubset;
  sax->externalSubset = &OnExternalSubset;
  sax->entityDecl = &OnEntityDecl;
  sax->serror = &OnStructuredError;
  sax->initialized = XML_SAX2_MAGIC;
}

// One parser context per thread, reused (a context carries a name dictionary that makes parsing
// faster); replaced when its dictionary grew large, so hostile input cannot grow it forever.
struct ThreadParser {
  xmlParserCtxtPtr ctxt = nullptr;
  ~ThreadParser() {
    if (ctxt) xmlFreeParserCtxt(ctxt);
  }
  xmlParserCtxtPtr Get() {
    if (ctxt && xmlDictSize(ctxt->dict) > 100000) {
      xmlFreeParserCtxt(ctxt);
      ctxt = nullptr;
    }
    if (!ctxt) {
      ctxt = xmlNewParserCtxt();
      if (ctxt) InstallHandlers(ctxt);
    }
    if (ctxt) ctxt->linenumbers = 1;
    return ctxt;
  }
};

// Returns the offset of the first byte that is not part of valid UTF-8, or npos.
size_t FindInvalidUtf8(std::string_view s) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    // Fast path: 8 ASCII bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;  // overlong, surrogate or out of range
    }
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace

void InitLibxml() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    g_previous_loader = xmlGetExternalEntityLoader();
    if (g_previous_loader == &XoevEntityLoader) g_previous_loader = nullptr;
    xmlSetExternalEntityLoader(&XoevEntityLoader);
  });
}

bool EntityLoaderInstalled() { return xmlGetExternalEntityLoader() == &XoevEntityLoader; }

LoaderScope::LoaderScope(LoaderPolicy* policy) : previous_(t_policy) { t_policy = policy; }
LoaderScope::~LoaderScope() { t_policy = previous_; }

xmlParserInputPtr DenyAllLoader::Load(const char* url, const char* id, xmlParserCtxtPtr) {
  std::string what = url ? url : (id ? id : "(unnamed)");
  refused_.push_back(what);
  if (ParseState* s = t_state) {
    Stop(s, "XML_EXTERNAL_LOAD_REFUSED",
         "refused to load external resource '" + what + "': documents may not reference external "
         "DTDs, entities or files",
         "");
  }
  return nullptr;
}

std::string ElementPath(const xmlNode* node) {
  std::vector<std::string> parts;
  for (const xmlNode* n = node; n != nullptr && n->type == XML_ELEMENT_NODE; n = n->parent) {
    std::string part = QName(n->ns ? n->ns->prefix : nullptr, n->name);
    int before = 0, total = 0;
    for (const xmlNode* sib = n->parent ? n->parent->children : nullptr; sib; sib = sib->next) {
      if (sib->type != XML_ELEMENT_NODE || !xmlStrEqual(sib->name, n->name) ||
          (sib->ns == nullptr) != (n->ns == nullptr) ||
          (sib->ns && n->ns && !xmlStrEqual(sib->ns->href, n->ns->href))) {
        continue;
      }
      ++total;
      if (sib == n) before = total;
    }
    if (total > 1) part += "[" + std::to_string(before) + "]";
    parts.push_back(std::move(part));
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    out += '/';
    out += *it;
  }
  return out;
}

XmlDiagnostic ToDiagnostic(const xmlError* e) {
  XmlDiagnostic d;
  d.line = e->line;
  d.message = Trim(e->message ? e->message : "unknown libxml2 error");
  d.warning = e->level == XML_ERR_WARNING;
  if (e->file) d.file = e->file;
  if (e->node != nullptr && (e->domain == XML_FROM_SCHEMASV || e->domain == XML_FROM_VALID ||
                             e->domain == XML_FROM_SCHEMASP)) {
    const xmlNode* n = static_cast<const xmlNode*>(e->node);
    if (n->type == XML_ATTRIBUTE_NODE) n = n->parent;
    if (n && n->type == XML_ELEMENT_NODE) {
      d.path = ElementPath(n);
      if (d.line == 0) d.line = static_cast<int>(xmlGetLineNo(n));
    }
  }
  return d;
}

std::string FormatDiagnostic(const XmlDiagnostic& d) {
  std::string s;
  if (!d.file.empty()) s += d.file + ":";
  if (d.line > 0) s += "line " + std::to_string(d.line) + ": ";
  if (!d.path.empty()) s += d.path + ": ";
  if (d.warning) s += "warning: ";
  s += d.message;
  return s;
}

std::string FormatDiagnostics(const std::vector<XmlDiagnostic>& ds, size_t max) {
  std::string s;
  size_t n = 0;
  for (const auto& d : ds) {
    if (n == max) break;
    if (!s.empty()) s += '\n';
    s += FormatDiagnostic(d);
    ++n;
  }
  if (ds.size() > n) s += "\n... and " + std::to_string(ds.size() - n) + " more";
  return s;
}

namespace {
void CollectorHandler(void* ctx, xmlErrorPtr e) {
  if (ctx && e) static_cast<ThreadErrorCollector*>(ctx)->Add(e);
}
}  // namespace

ThreadErrorCollector::ThreadErrorCollector(std::vector<XmlDiagnostic>* out, size_t max_errors)
    : out_(out), max_(max_errors), prev_ctx_(xmlStructuredErrorContext),
      prev_fn_(xmlStructuredError) {
  xmlSetStructuredErrorFunc(this, &CollectorHandler);
}

ThreadErrorCollector::~ThreadErrorCollector() { xmlSetStructuredErrorFunc(prev_ctx_, prev_fn_); }

void ThreadErrorCollector::Add(const xmlError* e) {
  if (out_->size() >= max_) {
    ++dropped_;
    return;
  }
  out_->push_back(ToDiagnostic(e));
}

int UntrustedParseOptions() {
  // Deliberately absent: XML_PARSE_NOENT, XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR,
  // XML_PARSE_DTDVALID, XML_PARSE_XINCLUDE, XML_PARSE_HUGE, XML_PARSE_RECOVER.
  return XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC | XML_PARSE_BIG_LINES |
         XML_PARSE_COMPACT;
}

Result<XmlDocPtr> ParseUntrusted(std::string_view bytes, const XmlLimits& limits,
                                 std::vector<XmlDiagnostic>* diagnostics, bool mutable_tree) {
  InitLibxml();
  std::vector<XmlDiagnostic> local;
  std::vector<XmlDiagnostic>* diags = diagnostics ? diagnostics : &local;
  auto fail = [&](std::string reason, std::string message, int line = 0) -> Status {
    XmlDiagnostic d;
    d.line = line;
    d.message = message;
    diags->push_back(std::move(d));
    return InvalidArgument(std::move(message), std::move(reason));
  };
  if (bytes.size() > limits.max_document_bytes || bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return fail("XML_TOO_LARGE", "document is " + std::to_string(bytes.size()) +
                                     " bytes, more than the limit of " +
                                     std::to_string(limits.max_document_bytes) + " bytes");
  }
  if (bytes.empty()) return fail("XML_MALFORMED", "document is empty");
  if (size_t bad = FindInvalidUtf8(bytes); bad != std::string_view::npos) {
    int line = 1;
    for (size_t i = 0; i < bad; ++i) line += bytes[i] == '\n';
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(bytes[bad]));
    return fail("XML_NOT_UTF8", "document is not valid UTF-8: byte " + std::string(hex) +
                                    " at offset " + std::to_string(bad) + " (XÖV messages are UTF-8)",
                line);
  }
  if (!EntityLoaderInstalled()) {
    return Internal("libxml2's external entity loader was replaced by another component; "
                    "refusing to parse untrusted XML");
  }
  static thread_local ThreadParser parser;
  xmlParserCtxtPtr ctxt = parser.Get();
  if (ctxt == nullptr) {
    return Status(StatusCode::kResourceExhausted, "cannot allocate an XML parser", "OUT_OF_MEMORY");
  }

  ParseState state;
  state.limits = &limits;
  state.diags = diags;
  state.ctxt = ctxt;
  DenyAllLoader deny;
  xmlDocPtr raw;
  {
    LoaderScope scope(&deny);
    t_state = &state;
    raw = xmlCtxtReadMemory(ctxt, bytes.data(), static_cast<int>(bytes.size()), nullptr, "UTF-8",
                            UntrustedParseOptions() & ~(mutable_tree ? XML_PARSE_COMPACT : 0));
    t_state = nullptr;
  }
  XmlDocPtr doc(raw);
  bool well_formed = ctxt->wellFormed != 0;
  if (ctxt->myDoc != nullptr && ctxt->myDoc != raw) {
    xmlFreeDoc(ctxt->myDoc);
    ctxt->myDoc = nullptr;
  }
  if (state.dropped > 0) {
    XmlDiagnostic d;
    d.message = std::to_string(state.dropped) + " further errors not listed";
    diags->push_back(std::move(d));
  }
  if (!state.reason.empty()) return InvalidArgument(state.message, state.reason);
  if (!deny.refused().empty()) {
    return InvalidArgument("refused to load external resource '" + deny.refused().front() + "'",
                           "XML_EXTERNAL_LOAD_REFUSED");
  }
  if (!doc || !well_formed || state.saw_error) {
    std::string first;
    for (const auto& d : *diags) {
      if (!d.warning) {
        first = FormatDiagnostic(d);
        break;
      }
    }
    if (first.empty()) first = "unknown parse error";
    return InvalidArgument("document is not well-formed XML: " + first, "XML_MALFORMED");
  }
  if (xmlDocGetRootElement(doc.get()) == nullptr) {
    return fail("XML_MALFORMED", "document has no root element");
  }
  return doc;
}

}  // namespace fachadapter::xoev
