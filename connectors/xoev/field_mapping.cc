#include "field_mapping.h"

#include <libxml/xpathInternals.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "fachadapter/values.h"
#include "xml_security.h"

namespace fachadapter::xoev {
namespace {

std::string TrimCopy(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// xs:decimal lexical form -> canonical decimal text of the API.
bool ToCanonicalDecimal(const std::string& s, std::string* out) {
  size_t i = 0;
  std::string r;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    if (s[i] == '-') r += '-';
    ++i;
  }
  std::string ip, fp;
  while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ip += s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) fp += s[i++];
  }
  if (i != s.size() || (ip.empty() && fp.empty())) return false;
  size_t nz = ip.find_first_not_of('0');
  ip = nz == std::string::npos ? "0" : ip.substr(nz);
  r += ip;
  if (!fp.empty()) r += "." + fp;
  if (r == "-0" || r.rfind("-0.", 0) == 0) {
    bool all_zero = fp.find_first_not_of('0') == std::string::npos;
    if (all_zero) r.erase(0, 1);
  }
  *out = r;
  return true;
}

}  // namespace

bool ConvertText(const std::string& raw, v1::FieldType type, v1::Value* out) {
  std::string text = type == v1::FIELD_TYPE_STRING ? raw : TrimCopy(raw);
  switch (type) {
    case v1::FIELD_TYPE_STRING: out->set_string_value(text); return true;
    case v1::FIELD_TYPE_BYTES: out->set_bytes_value(text); return true;
    case v1::FIELD_TYPE_BOOL:
      if (text == "true" || text == "1") {
        out->set_bool_value(true);
      } else if (text == "false" || text == "0") {
        out->set_bool_value(false);
      } else {
        return false;
      }
      return true;
    case v1::FIELD_TYPE_INT64: {
      if (text.empty()) return false;
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (errno != 0 || end != text.c_str() + text.size()) return false;
      out->set_int_value(v);
      return true;
    }
    case v1::FIELD_TYPE_DOUBLE: {
      if (text.empty()) return false;
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (end != text.c_str() + text.size() || std::isnan(v)) return false;
      out->set_double_value(v);
      return true;
    }
    case v1::FIELD_TYPE_DECIMAL: {
      std::string d;
      if (!ToCanonicalDecimal(text, &d)) return false;
      out->mutable_decimal_value()->set_value(d);
      return true;
    }
    case v1::FIELD_TYPE_DATE: return ParseXsDate(text, out->mutable_date_value());
    case v1::FIELD_TYPE_TIMESTAMP: return ParseXsDateTime(text, out->mutable_timestamp_value());
    case v1::FIELD_TYPE_TIME: {
      int h, m, s;
      if (text.size() < 8 || std::sscanf(text.c_str(), "%2d:%2d:%2d", &h, &m, &s) != 3 || h > 23 ||
          m > 59 || s > 59) {
        return false;
      }
      auto* t = out->mutable_time_value();
      t->set_hours(h);
      t->set_minutes(m);
      t->set_seconds(s);
      return true;
    }
    default: return false;
  }
}

Result<std::unique_ptr<FieldMapper>> FieldMapper::Create(
    const std::map<std::string, std::string>& namespaces, const std::vector<MappingRuleConfig>& rules) {
  InitLibxml();
  std::unique_ptr<FieldMapper> m(new FieldMapper());
  m->namespaces_ = namespaces;
  // A document to try every expression on once, so that unknown prefixes and functions are
  // configuration errors at start rather than NULLs at query time.
  XmlDocPtr probe(xmlReadMemory("<probe/>", 8, nullptr, nullptr, XML_PARSE_NONET));
  xmlXPathContextPtr pctx = xmlXPathNewContext(probe.get());
  for (const auto& [prefix, uri] : namespaces) {
    xmlXPathRegisterNs(pctx, reinterpret_cast<const xmlChar*>(prefix.c_str()),
                       reinterpret_cast<const xmlChar*>(uri.c_str()));
  }
  Status status;
  for (const auto& rc : rules) {
    Rule rule;
    rule.cfg = rc;
    for (const auto& f : rc.fields) {
      if (f.type == v1::FIELD_TYPE_UNSPECIFIED) {
        status = InvalidArgument("mapping field '" + f.name + "' has no valid type", "INVALID_MAPPING", f.name);
        break;
      }
      size_t idx = m->fields_.size();
      for (size_t i = 0; i < m->fields_.size(); ++i) {
        if (m->fields_[i].first == f.name) idx = i;
      }
      if (idx == m->fields_.size()) {
        m->fields_.emplace_back(f.name, f.type);
      } else if (m->fields_[idx].second != f.type) {
        status = InvalidArgument("mapping field '" + f.name + "' is declared with two types",
                                 "INVALID_MAPPING", f.name);
        break;
      }
      std::vector<XmlDiagnostic> diags;
      xmlXPathCompExprPtr expr;
      {
        ThreadErrorCollector collect(&diags, 10);
        expr = xmlXPathCompile(reinterpret_cast<const xmlChar*>(f.xpath.c_str()));
        if (expr != nullptr) {
          xmlXPathObjectPtr r = xmlXPathCompiledEval(expr, pctx);
          if (r == nullptr) {
            xmlXPathFreeCompExpr(expr);
            expr = nullptr;
          }
          xmlXPathFreeObject(r);
        }
      }
      if (expr == nullptr) {
        std::string why = diags.empty() ? "invalid expression" : diags.front().message;
        status = InvalidArgument("mapping field '" + f.name + "': XPath '" + f.xpath + "': " + why,
                                 "INVALID_MAPPING", f.name);
        break;
      }
      rule.fields.push_back(Compiled{idx, f.name, f.type, expr});
    }
    m->rules_.push_back(std::move(rule));
    if (!status.ok()) break;
  }
  xmlXPathFreeContext(pctx);
  if (!status.ok()) return status;
  return m;
}

FieldMapper::~FieldMapper() {
  for (auto& r : rules_) {
    for (auto& f : r.fields) xmlXPathFreeCompExpr(f.expr);
  }
}

void FieldMapper::Evaluate(xmlDoc* doc, const MessageHeader& header, const std::string& schema_set,
                           std::vector<v1::Value>* values, std::string* errors) const {
  values->assign(fields_.size(), v1::Value());
  for (auto& v : *values) v.set_null_value(v1::NULL_VALUE);
  if (rules_.empty() || doc == nullptr) return;
  xmlXPathContextPtr ctx = nullptr;
  auto contains = [](const std::vector<std::string>& list, const std::string& v) {
    for (const auto& x : list) {
      if (x == v) return true;
    }
    return false;
  };
  for (const auto& rule : rules_) {
    const auto& c = rule.cfg;
    if (!c.message_types.empty() && !contains(c.message_types, header.type_code.value_or(""))) continue;
    if (!c.root_elements.empty() && !contains(c.root_elements, header.root_element)) continue;
    if (!c.schema_set.empty() && c.schema_set != schema_set) continue;
    if (ctx == nullptr) {
      ctx = xmlXPathNewContext(doc);
      for (const auto& [prefix, uri] : namespaces_) {
        xmlXPathRegisterNs(ctx, reinterpret_cast<const xmlChar*>(prefix.c_str()),
                           reinterpret_cast<const xmlChar*>(uri.c_str()));
      }
    }
    for (const auto& f : rule.fields) {
      ctx->node = xmlDocGetRootElement(doc);
      std::vector<XmlDiagnostic> diags;
      xmlXPathObjectPtr r;
      {
        ThreadErrorCollector collect(&diags, 5);
        r = xmlXPathCompiledEval(f.expr, ctx);
      }
      if (r == nullptr) {
        if (!errors->empty()) *errors += '\n';
        *errors += f.name + ": XPath failed" + (diags.empty() ? "" : ": " + diags[0].message);
        continue;
      }
      std::optional<std::string> text;
      switch (r->type) {
        case XPATH_NODESET:
          if (r->nodesetval && r->nodesetval->nodeNr > 0) {
            xmlChar* s = xmlXPathCastNodeToString(r->nodesetval->nodeTab[0]);
            text = reinterpret_cast<const char*>(s);
            xmlFree(s);
          }
          break;
        case XPATH_STRING:
          if (r->stringval && *r->stringval) text = reinterpret_cast<const char*>(r->stringval);
          break;
        case XPATH_NUMBER:
          if (!std::isnan(r->floatval)) {
            xmlChar* s = xmlXPathCastNumberToString(r->floatval);
            text = reinterpret_cast<const char*>(s);
            xmlFree(s);
          }
          break;
        case XPATH_BOOLEAN: text = r->boolval ? "true" : "false"; break;
        default: break;
      }
      xmlXPathFreeObject(r);
      if (!text) continue;
      v1::Value v;
      if (ConvertText(*text, f.type, &v)) {
        (*values)[f.field_index] = std::move(v);
      } else {
        if (!errors->empty()) *errors += '\n';
        std::string shown = text->size() > 80 ? text->substr(0, 80) + "..." : *text;
        *errors += f.name + ": '" + shown + "' is not a valid " + FieldTypeName(f.type);
      }
    }
  }
  if (ctx) xmlXPathFreeContext(ctx);
}

}  // namespace fachadapter::xoev
