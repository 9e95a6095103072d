#include "message_assembly.h"

#include <libxml/hash.h>
#include <libxml/schemasInternals.h>

#include <algorithm>
#include <cstring>

namespace fachadapter::xoev {
namespace {

constexpr const char* kG2gPrefix = "http://xoev.de/schemata/basisnachricht/g2g/";
constexpr const char* kBehoerdePrefix = "http://xoev.de/schemata/basisnachricht/behoerde/";
// Fixed by Code.VerzeichnisdienstType in the XÖV base schema "behoerde".
constexpr const char* kDirectoryServiceListUri = "urn:xoev-de:kosit:codeliste:verzeichnisdienst";

bool StartsWith(const std::string& s, const char* prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Escapes a value for element text and for attribute values in double quotes.
std::string Escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// A header value: trimmed; control characters refused (they are not XML characters, or would
// change what the value reads as in a one-line header field).
Result<std::string> Value(const std::optional<std::string>& v, const char* field, bool required) {
  std::string t = v ? Trim(*v) : "";
  if (t.empty()) {
    if (required) {
      return InvalidArgument(std::string("field '") + field + "' is required to assemble a message "
                             "(or send a complete XÖV document in 'document')", "MISSING_FIELD", field);
    }
    return t;
  }
  for (unsigned char c : t) {
    if (c < 0x20 || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", c);
      return InvalidArgument(std::string("field '") + field + "' contains the control character " + hex,
                             "INVALID_VALUE", field);
    }
  }
  return t;
}

// An XML NCName in the restricted form XÖV uses for element names.
bool IsElementName(const std::string& s) {
  if (s.empty() || !(isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

// A leading XML declaration of the body is dropped: a client that serialised the body as a
// document of its own may send it with one. Anything else before the first element stays and
// is the parser's to judge (a DOCTYPE there is not well-formed inside an element).
std::string WithoutXmlDeclaration(const std::string& content) {
  size_t b = 0;
  if (content.compare(0, 3, "\xEF\xBB\xBF") == 0) b = 3;
  while (b < content.size() && (content[b] == ' ' || content[b] == '\t' || content[b] == '\r' || content[b] == '\n')) ++b;
  if (content.compare(b, 5, "<?xml") == 0 && b + 5 < content.size() &&
      (content[b + 5] == ' ' || content[b + 5] == '\t' || content[b + 5] == '\r' || content[b + 5] == '\n')) {
    size_t end = content.find("?>", b);
    if (end != std::string::npos) {
      // Keep the declaration's line breaks so that lines still count from the body's first line.
      std::string out(static_cast<size_t>(std::count(content.begin(), content.begin() + end, '\n')), '\n');
      return out + content.substr(end + 2);
    }
  }
  return content;
}

void AppendParty(std::string* out, const char* element, const std::string& dir_service,
                 const std::string& list_version, const std::string& id, const std::string& name) {
  *out += "    <g2g:";
  *out += element;
  *out += ">\n      <beh:verzeichnisdienst listURI=\"";
  *out += kDirectoryServiceListUri;
  *out += "\" listVersionID=\"" + Escape(list_version) + "\"><code>" + Escape(dir_service) +
          "</code></beh:verzeichnisdienst>\n";
  *out += "      <beh:kennung>" + Escape(id) + "</beh:kennung>\n";
  *out += "      <beh:name>" + Escape(name) + "</beh:name>\n";
  *out += "    </g2g:";
  *out += element;
  *out += ">\n";
}

}  // namespace

std::string AssemblyFields::Canonical() const {
  std::string s = "assembled-v1";
  auto add = [&](const char* k, const std::optional<std::string>& v) {
    s += '\0';
    s += k;
    s += v ? "=" + *v : std::string("#null");
  };
  add("schema_set", schema_set);
  add("root_element", root_element);
  add("message_type_code", type_code);
  add("message_type_name", type_name);
  add("message_type_list_uri", type_list_uri);
  add("message_type_list_version", type_list_version);
  add("author_directory_service", author.directory_service);
  add("author_id", author.id);
  add("author_name", author.name);
  add("reader_directory_service", reader.directory_service);
  add("reader_id", reader.id);
  add("reader_name", reader.name);
  add("standard", standard);
  add("version", version);
  add("product", product);
  add("product_vendor", product_vendor);
  add("product_version", product_version);
  add("content", content);
  return s;
}

std::optional<G2gNamespaces> FindG2gNamespaces(const SchemaSet& set) {
  xmlSchemaPtr schema = set.schema();
  if (schema == nullptr || schema->schemasImports == nullptr) return std::nullopt;
  // libxml2 keys the imported schemas by namespace (the main schema's own included).
  std::vector<std::string> namespaces;
  xmlHashScanFull(
      schema->schemasImports,
      [](void*, void* data, const xmlChar* name, const xmlChar*, const xmlChar*) {
        if (name) static_cast<std::vector<std::string>*>(data)->emplace_back(reinterpret_cast<const char*>(name));
      },
      &namespaces);
  G2gNamespaces found;
  int g2g = 0, beh = 0;
  for (const auto& ns : namespaces) {
    if (StartsWith(ns, kG2gPrefix)) found.g2g = ns, ++g2g;
    if (StartsWith(ns, kBehoerdePrefix)) found.behoerde = ns, ++beh;
  }
  if (g2g != 1 || beh != 1) return std::nullopt;
  return found;
}

std::vector<std::string> RootElementsForMessageType(const SchemaSet& set, const std::string& code) {
  std::vector<std::string> names;
  xmlSchemaPtr schema = set.schema();
  if (schema == nullptr || schema->elemDecl == nullptr || schema->targetNamespace == nullptr) return names;
  const auto& nss = set.config().namespaces;
  std::string target = reinterpret_cast<const char*>(schema->targetNamespace);
  if (std::find(nss.begin(), nss.end(), target) == nss.end()) return names;
  struct Scan {
    std::string suffix;
    std::vector<std::string>* out;
  } scan{"." + code, &names};
  xmlHashScanFull(
      schema->elemDecl,
      [](void*, void* data, const xmlChar* name, const xmlChar*, const xmlChar*) {
        auto* s = static_cast<Scan*>(data);
        if (name && EndsWith(reinterpret_cast<const char*>(name), s->suffix)) {
          s->out->emplace_back(reinterpret_cast<const char*>(name));
        }
      },
      &scan);
  std::sort(names.begin(), names.end());
  return names;
}

Result<AssembledDocument> AssembleMessage(const std::vector<std::shared_ptr<const SchemaSet>>& sets,
                                          const std::map<std::string, MessageHeaderDefaults>& defaults_by_set,
                                          const AssemblyFields& f) {
  // The schema set: named, or the only one whose header the connector can build.
  const SchemaSet* set = nullptr;
  std::optional<G2gNamespaces> ns;
  FA_ASSIGN_OR_RETURN(std::string set_name, Value(f.schema_set, "schema_set", false));
  if (!set_name.empty()) {
    for (const auto& s : sets) {
      if (s->config().name == set_name) set = s.get();
    }
    if (set == nullptr) {
      std::string known;
      for (const auto& s : sets) known += (known.empty() ? "" : ", ") + s->config().name;
      return InvalidArgument("field 'schema_set': no schema set '" + set_name + "' (configured: " + known + ")",
                             "UNKNOWN_SCHEMA_SET", "schema_set");
    }
    ns = FindG2gNamespaces(*set);
    if (!ns) {
      return FailedPrecondition("field 'schema_set': schema set '" + set_name + "' does not use the XÖV g2g message header "
                                "(nachrichtenkopf.g2g), the only one the connector can assemble: send a "
                                "complete XÖV document in field 'document'",
                                "HEADER_NOT_ASSEMBLABLE", "schema_set");
    }
  } else {
    std::vector<std::string> candidates;
    for (const auto& s : sets) {
      if (auto n = FindG2gNamespaces(*s)) {
        if (set == nullptr) set = s.get(), ns = n;
        candidates.push_back(s->config().name);
      }
    }
    if (candidates.empty()) {
      return FailedPrecondition("no schema set of this source uses the XÖV g2g message header "
                                "(nachrichtenkopf.g2g), the only one the connector can assemble: send a "
                                "complete XÖV document in field 'document'",
                                "HEADER_NOT_ASSEMBLABLE", "document");
    }
    if (candidates.size() > 1) {
      std::string list;
      for (const auto& c : candidates) list += (list.empty() ? "" : ", ") + c;
      return InvalidArgument("field 'schema_set' is required: several schema sets can assemble messages (" +
                                 list + ")", "MISSING_FIELD", "schema_set");
    }
  }
  const SchemaSetConfig& cfg = set->config();
  static const MessageHeaderDefaults kNone;
  auto found = defaults_by_set.find(cfg.name);
  const MessageHeaderDefaults& defaults = found == defaults_by_set.end() ? kNone : found->second;
  auto or_default = [](std::optional<std::string> v, const std::string& d) {
    return v && !Trim(*v).empty() ? v : d.empty() ? std::nullopt : std::optional<std::string>(d);
  };

  FA_ASSIGN_OR_RETURN(std::string code, Value(f.type_code, "message_type_code", true));
  FA_ASSIGN_OR_RETURN(std::string root, Value(f.root_element, "root_element", false));
  if (root.empty()) {
    std::vector<std::string> roots = RootElementsForMessageType(*set, code);
    if (roots.empty()) {
      return InvalidArgument("field 'message_type_code': schema set '" + cfg.name + "' has no message element for message type '" + code +
                                 "' (no global element named <...>." + code +
                                 "); name the root element in field 'root_element'",
                             "UNKNOWN_MESSAGE_TYPE", "message_type_code");
    }
    if (roots.size() > 1) {
      std::string list;
      for (const auto& r : roots) list += (list.empty() ? "" : ", ") + r;
      return InvalidArgument("field 'root_element' is required: message type '" + code + "' has several message elements in schema set '" +
                                 cfg.name + "' (" + list + "); name one in field 'root_element'",
                             "AMBIGUOUS_MESSAGE_TYPE", "root_element");
    }
    root = roots.front();
  } else {
    if (!IsElementName(root)) {
      return InvalidArgument("field 'root_element' must be an element's local name, not '" + root + "'",
                             "INVALID_VALUE", "root_element");
    }
    xmlSchemaPtr schema = set->schema();
    bool target_is_root_ns =
        schema->targetNamespace != nullptr &&
        std::find(cfg.namespaces.begin(), cfg.namespaces.end(),
                  reinterpret_cast<const char*>(schema->targetNamespace)) != cfg.namespaces.end();
    if (target_is_root_ns && schema->elemDecl != nullptr &&
        xmlHashLookup(schema->elemDecl, reinterpret_cast<const xmlChar*>(root.c_str())) == nullptr) {
      return InvalidArgument("field 'root_element': schema set '" + cfg.name + "' declares no message element '" + root + "'",
                             "UNKNOWN_ROOT_ELEMENT", "root_element");
    }
  }
  FA_ASSIGN_OR_RETURN(std::string type_name, Value(f.type_name, "message_type_name", false));
  FA_ASSIGN_OR_RETURN(std::string list_uri,
                      Value(or_default(f.type_list_uri, defaults.message_type_list_uri), "message_type_list_uri", false));
  FA_ASSIGN_OR_RETURN(std::string list_version, Value(or_default(f.type_list_version, defaults.message_type_list_version),
                                                      "message_type_list_version", false));
  struct P {
    std::string dir, id, name;
  } author, reader;
  FA_ASSIGN_OR_RETURN(author.dir, Value(f.author.directory_service, "author_directory_service", true));
  FA_ASSIGN_OR_RETURN(author.id, Value(f.author.id, "author_id", true));
  FA_ASSIGN_OR_RETURN(author.name, Value(f.author.name, "author_name", true));
  FA_ASSIGN_OR_RETURN(reader.dir, Value(f.reader.directory_service, "reader_directory_service", true));
  FA_ASSIGN_OR_RETURN(reader.id, Value(f.reader.id, "reader_id", true));
  FA_ASSIGN_OR_RETURN(reader.name, Value(f.reader.name, "reader_name", true));
  if (defaults.directory_service_list_version.empty()) {
    return FailedPrecondition("schema set '" + cfg.name + "' has no setting message_header."
                              "directory_service_list_version (the listVersionID of the verzeichnisdienst "
                              "code list, required by the g2g header): configure it to assemble messages",
                              "HEADER_NOT_ASSEMBLABLE", "author_directory_service");
  }
  // standard/version: the set's, when it fixes them (a different one would not match it).
  FA_ASSIGN_OR_RETURN(std::string standard, Value(or_default(f.standard, cfg.standard), "standard", true));
  FA_ASSIGN_OR_RETURN(std::string version, Value(or_default(f.version, cfg.version), "version", true));
  if (!cfg.standard.empty() && standard != cfg.standard) {
    return InvalidArgument("field 'standard' is '" + standard + "' but schema set '" + cfg.name + "' is for '" +
                               cfg.standard + "'", "INVALID_VALUE", "standard");
  }
  if (!cfg.version.empty() && version != cfg.version) {
    return InvalidArgument("field 'version' is '" + version + "' but schema set '" + cfg.name + "' is for version '" +
                               cfg.version + "'", "INVALID_VALUE", "version");
  }
  FA_ASSIGN_OR_RETURN(std::string product, Value(or_default(f.product, defaults.product), "product", true));
  FA_ASSIGN_OR_RETURN(std::string vendor,
                      Value(or_default(f.product_vendor, defaults.product_vendor), "product_vendor", true));
  FA_ASSIGN_OR_RETURN(std::string product_version,
                      Value(or_default(f.product_version, defaults.product_version), "product_version", false));
  if (!f.content || Trim(*f.content).empty()) {
    return InvalidArgument("field 'content' is required to assemble a message: the XML of the message body "
                           "(the elements after the header), or send a complete XÖV document in 'document'",
                           "MISSING_FIELD", "content");
  }

  std::string body = WithoutXmlDeclaration(*f.content);
  if (Trim(body).compare(0, 9, "<!DOCTYPE") == 0) {
    // Not well-formed inside an element anyway; named like the same refusal of a document.
    return InvalidArgument("field 'content' has a DOCTYPE declaration; DTDs and entity declarations are not "
                           "accepted in XÖV messages", "XML_DOCTYPE_FORBIDDEN", "content");
  }

  AssembledDocument out;
  out.set = set;
  out.root_element = root;
  std::string& t = out.text;
  t = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  t += "<msg:" + root + " xmlns:msg=\"" + Escape(cfg.namespaces.front()) + "\" xmlns:g2g=\"" + Escape(ns->g2g) +
       "\" xmlns:beh=\"" + Escape(ns->behoerde) + "\"\n";
  t += "    standard=\"" + Escape(standard) + "\" version=\"" + Escape(version) + "\" produkt=\"" +
       Escape(product) + "\" produkthersteller=\"" + Escape(vendor) + "\"";
  if (!product_version.empty()) t += " produktversion=\"" + Escape(product_version) + "\"";
  t += ">\n  <g2g:nachrichtenkopf.g2g>\n    <g2g:identifikation.nachricht>\n";
  t += "      <g2g:nachrichtenUUID></g2g:nachrichtenUUID>\n      <g2g:nachrichtentyp";
  if (!list_uri.empty()) t += " listURI=\"" + Escape(list_uri) + "\"";
  if (!list_version.empty()) t += " listVersionID=\"" + Escape(list_version) + "\"";
  t += "><code>" + Escape(code) + "</code>";
  if (!type_name.empty()) t += "<name>" + Escape(type_name) + "</name>";
  t += "</g2g:nachrichtentyp>\n      <g2g:erstellungszeitpunkt></g2g:erstellungszeitpunkt>\n";
  t += "    </g2g:identifikation.nachricht>\n";
  // Order fixed by Nachrichtenkopf.G2GType: identifikation.nachricht, leser, autor.
  AppendParty(&t, "leser", reader.dir, defaults.directory_service_list_version, reader.id, reader.name);
  AppendParty(&t, "autor", author.dir, defaults.directory_service_list_version, author.id, author.name);
  t += "  </g2g:nachrichtenkopf.g2g>\n";
  out.content_line_offset = static_cast<int>(std::count(t.begin(), t.end(), '\n'));
  t += body;
  t += "\n</msg:" + root + ">\n";
  return out;
}

}  // namespace fachadapter::xoev
