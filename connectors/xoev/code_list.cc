#include "code_list.h"

#include <dirent.h>

#include <algorithm>

#include "file_util.h"
#include "message_header.h"
#include "schema_set.h"

namespace fachadapter::xoev {
namespace {

std::string AttrOf(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetNoNsProp(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return {};
  std::string s(reinterpret_cast<char*>(v));
  xmlFree(v);
  return s;
}

bool Is(const xmlNode* n, const char* local) {
  return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, reinterpret_cast<const xmlChar*>(local));
}

}  // namespace

Status CodeListRegistry::LoadFile(const std::string& path, const XmlLimits& limits) {
  // Code lists come from the configuration (trusted paths): symlinks are fine here.
  std::string real = CanonicalPath(path);
  auto bytes = ReadWholeFile(real.empty() ? path : real, limits.max_document_bytes);
  if (!bytes.ok()) return bytes.status().WithContext("code list");
  auto doc = ParseUntrusted(*bytes, limits);
  if (!doc.ok()) return InvalidArgument("code list '" + path + "': " + doc.status().message(), "INVALID_CODE_LIST");
  xmlNode* root = xmlDocGetRootElement(doc->get());
  auto bad = [&](const std::string& why) {
    return InvalidArgument("code list '" + path + "' " + why, "INVALID_CODE_LIST");
  };
  if (!Is(root, "CodeList")) return bad("is not a genericode CodeList");
  CodeList list;
  xmlNode* ident = ChildByLocalName(root, "Identification");
  if (!ident) return bad("has no Identification");
  if (xmlNode* n = ChildByLocalName(ident, "ShortName")) list.short_name = NodeText(n);
  if (xmlNode* n = ChildByLocalName(ident, "Version")) list.version = NodeText(n);
  if (xmlNode* n = ChildByLocalName(ident, "CanonicalUri")) list.list_uri = NodeText(n);
  if (list.list_uri.empty()) return bad("has no Identification/CanonicalUri");
  std::vector<std::string> columns;
  xmlNode* cs = ChildByLocalName(root, "ColumnSet");
  if (!cs) return bad("has no ColumnSet");
  for (xmlNode* c = cs->children; c; c = c->next) {
    if (Is(c, "Column")) columns.push_back(AttrOf(c, "Id"));
    if (Is(c, "Key") && list.key_column.empty()) {
      if (xmlNode* ref = ChildByLocalName(c, "ColumnRef")) list.key_column = AttrOf(ref, "Ref");
    }
  }
  if (columns.empty()) return bad("has no columns");
  if (list.key_column.empty()) list.key_column = columns[0];
  for (const auto& c : columns) {
    if (c != list.key_column) {
      list.name_column = c;
      break;
    }
  }
  xmlNode* rows = ChildByLocalName(root, "SimpleCodeList");
  if (!rows) return bad("has no SimpleCodeList");
  for (xmlNode* r = rows->children; r; r = r->next) {
    if (!Is(r, "Row")) continue;
    std::string code, name;
    size_t pos = 0;
    for (xmlNode* v = r->children; v; v = v->next) {
      if (!Is(v, "Value")) continue;
      std::string col = AttrOf(v, "ColumnRef");
      if (col.empty() && pos < columns.size()) col = columns[pos];
      ++pos;
      xmlNode* sv = ChildByLocalName(v, "SimpleValue");
      std::string text = sv ? NodeText(sv) : "";
      if (col == list.key_column) code = text;
      if (col == list.name_column) name = text;
    }
    if (!code.empty()) list.names[code] = name;
  }
  Add(std::move(list));
  return Status::OK();
}

Status CodeListRegistry::LoadFolder(const std::string& dir, const XmlLimits& limits) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return InvalidArgument("code list folder '" + dir + "' cannot be read", "INVALID_CODE_LIST");
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    auto ends = [&](const std::string& s) {
      return n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
    };
    if (n[0] != '.' && (ends(".xml") || ends(".gc"))) names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) FA_RETURN_IF_ERROR(LoadFile(dir + "/" + n, limits));
  return Status::OK();
}

void CodeListRegistry::Add(CodeList list) {
  auto key = std::make_pair(list.list_uri, list.version);
  lists_[key] = std::move(list);
}

const CodeList* CodeListRegistry::Find(const std::string& uri, const std::string& version) const {
  auto it = lists_.find({uri, version});
  return it == lists_.end() ? nullptr : &it->second;
}

std::optional<std::string> CodeListRegistry::Resolve(const std::string& uri, const std::string& version,
                                                     const std::string& code) const {
  const CodeList* l = Find(uri, version);
  if (!l) return std::nullopt;
  auto it = l->names.find(code);
  if (it == l->names.end()) return std::nullopt;
  return it->second;
}

std::vector<CodeProblem> CodeListRegistry::Check(xmlDoc* doc, size_t* checked) const {
  std::vector<CodeProblem> problems;
  size_t count = 0;
  if (lists_.empty()) {
    if (checked) *checked = 0;
    return problems;
  }
  // Iterative walk: the document's depth is bounded by the parser, but no recursion anyway.
  xmlNode* n = xmlDocGetRootElement(doc);
  while (n) {
    if (n->type == XML_ELEMENT_NODE) {
      xmlAttr* uri_attr = xmlHasProp(n, BAD_CAST "listURI");
      if (uri_attr) {
        xmlNode* code_node = ChildByLocalName(n, "code");
        std::string uri = AttrOf(n, "listURI");
        std::string version = AttrOf(n, "listVersionID");
        const CodeList* l = code_node ? Find(uri, version) : nullptr;
        if (l) {
          ++count;
          std::string code = NodeText(code_node);
          if (l->names.find(code) == l->names.end()) {
            problems.push_back(CodeProblem{static_cast<int>(xmlGetLineNo(code_node)),
                                           ElementPath(code_node),
                                           "code '" + code + "' is not in code list " + uri +
                                               " version " + version});
          }
        }
      }
    }
    if (n->children && n->type == XML_ELEMENT_NODE) {
      n = n->children;
      continue;
    }
    while (n && !n->next) {
      n = n->parent;
      if (n && n->type == XML_DOCUMENT_NODE) n = nullptr;
    }
    if (n) n = n->next;
  }
  if (checked) *checked = count;
  return problems;
}

}  // namespace fachadapter::xoev
