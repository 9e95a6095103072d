#include "message_header.h"

#include <cstdio>
#include <cstring>

namespace fachadapter::xoev {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::optional<std::string> Text(const xmlNode* n) {
  if (n == nullptr) return std::nullopt;
  return NodeText(n);
}

std::optional<std::string> Attr(const xmlNode* n, const char* name) {
  if (n == nullptr) return std::nullopt;
  xmlChar* v = xmlGetNoNsProp(n, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return std::nullopt;
  std::string s(reinterpret_cast<char*>(v));
  xmlFree(v);
  return s;
}

// A path of local names below `n`.
xmlNode* Path(const xmlNode* n, std::initializer_list<std::string_view> names) {
  const xmlNode* cur = n;
  for (auto name : names) {
    cur = ChildByLocalName(cur, name);
    if (cur == nullptr) return nullptr;
  }
  return const_cast<xmlNode*>(cur);
}

// A code element (xoev-code:Code and its variants): attributes listURI/listVersionID and
// children code and name.
void ReadCode(const xmlNode* n, MessageHeader* h) {
  if (n == nullptr) return;
  h->type_code = Text(ChildByLocalName(n, "code"));
  h->type_name = Text(ChildByLocalName(n, "name"));
  h->type_list_uri = Attr(n, "listURI");
  h->type_list_version = Attr(n, "listVersionID");
}

// g2g / xdomea 4 party: verzeichnisdienst (a code), kennung, name; xdomea 4 uses
// NameInstitution/Name or Institution/Name.
Party ReadG2gParty(const xmlNode* n) {
  Party p;
  if (n == nullptr) return p;
  if (xmlNode* vd = ChildByLocalName(n, "verzeichnisdienst")) {
    p.directory_service = Text(ChildByLocalName(vd, "code"));
  }
  p.id = Text(ChildByLocalName(n, "kennung"));
  p.name = Text(ChildByLocalName(n, "name"));
  if (!p.name) p.name = Text(Path(n, {"NameInstitution", "Name"}));
  if (!p.name) p.name = Text(Path(n, {"Institution", "Name"}));
  return p;
}

// xdomea 3 Absender/Empfaenger: Behoerdenkennung/Behoerdenschluessel (code, with Praefix),
// Institution/Name, Organisationseinheit/Name.
Party ReadKopfParty(const xmlNode* n) {
  Party p;
  if (n == nullptr) return p;
  if (xmlNode* bk = ChildByLocalName(n, "Behoerdenkennung")) {
    auto key = Text(Path(bk, {"Behoerdenschluessel", "code"}));
    auto prefix = Text(Path(bk, {"Praefix", "code"}));
    if (key) p.id = prefix && !prefix->empty() ? *prefix + ":" + *key : *key;
    if (xmlNode* s = ChildByLocalName(bk, "Behoerdenschluessel")) {
      p.directory_service = Attr(s, "listURI");
      if (p.directory_service && p.directory_service->empty()) p.directory_service.reset();
    }
  }
  p.name = Text(Path(n, {"Institution", "Name"}));
  if (!p.name) p.name = Text(Path(n, {"Organisationseinheit", "Name"}));
  return p;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool ValidDate(int y, int m, int d) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  int max = kDays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
  return d <= max;
}

}  // namespace

std::string NodeText(const xmlNode* node) {
  xmlChar* c = xmlNodeGetContent(node);
  if (c == nullptr) return {};
  std::string_view v = TrimView(reinterpret_cast<const char*>(c));
  std::string s(v);
  xmlFree(c);
  return s;
}

xmlNode* ChildByLocalName(const xmlNode* parent, std::string_view local) {
  if (parent == nullptr) return nullptr;
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && local == reinterpret_cast<const char*>(c->name)) return c;
  }
  return nullptr;
}

MessageHeader ExtractHeader(xmlDoc* doc) {
  MessageHeader h;
  xmlNode* root = xmlDocGetRootElement(doc);
  if (root == nullptr) return h;
  h.root_element = reinterpret_cast<const char*>(root->name);
  if (root->ns && root->ns->href) h.root_namespace = reinterpret_cast<const char*>(root->ns->href);
  h.standard = Attr(root, "standard");
  h.version = Attr(root, "version");
  h.product = Attr(root, "produkt");
  h.product_vendor = Attr(root, "produkthersteller");
  h.product_version = Attr(root, "produktversion");

  xmlNode* kopf = nullptr;
  for (const char* style : {"nachrichtenkopf.g2g", "nachrichtenkopf", "Kopf"}) {
    if ((kopf = ChildByLocalName(root, style)) != nullptr) {
      h.header_style = std::strcmp(style, "nachrichtenkopf.g2g") == 0 ? "g2g"
                       : std::strcmp(style, "Kopf") == 0             ? "kopf"
                                                                      : "nachrichtenkopf";
      break;
    }
  }
  if (kopf == nullptr) return h;
  if (h.header_style == "kopf") {
    h.process_id = Text(ChildByLocalName(kopf, "ProzessID"));
    ReadCode(ChildByLocalName(kopf, "Nachrichtentyp"), &h);
    h.created_node = ChildByLocalName(kopf, "Erstellungszeitpunkt");
    h.created = Text(h.created_node);
    h.author = ReadKopfParty(ChildByLocalName(kopf, "Absender"));
    h.reader = ReadKopfParty(ChildByLocalName(kopf, "Empfaenger"));
    return h;
  }
  xmlNode* ident = ChildByLocalName(kopf, "identifikation.nachricht");
  h.uuid_node = ChildByLocalName(ident, "nachrichtenUUID");
  h.message_uuid = Text(h.uuid_node);
  ReadCode(ChildByLocalName(ident, "nachrichtentyp"), &h);
  h.created_node = ChildByLocalName(ident, "erstellungszeitpunkt");
  h.created = Text(h.created_node);
  h.author = ReadG2gParty(ChildByLocalName(kopf, "autor"));
  h.reader = ReadG2gParty(ChildByLocalName(kopf, "leser"));
  h.process_id = Text(ChildByLocalName(kopf, "ProzessID"));
  return h;
}

bool ParseXsDateTime(std::string_view text, v1::Timestamp* out) {
  std::string_view s = TrimView(text);
  int y, mo, d, h, mi, se;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      !Digits(s, 0, 4, &y) || !Digits(s, 5, 2, &mo) || !Digits(s, 8, 2, &d) ||
      !Digits(s, 11, 2, &h) || !Digits(s, 14, 2, &mi) || !Digits(s, 17, 2, &se)) {
    return false;
  }
  if (!ValidDate(y, mo, d) || h > 24 || mi > 59 || se > 59 || (h == 24 && (mi || se))) return false;
  size_t i = 19;
  int nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int scale = 100000000;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return false;
  }
  std::optional<int> offset;
  if (i < s.size()) {
    if (s[i] == 'Z' && i + 1 == s.size()) {
      offset = 0;
    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == s.size() && s[i + 3] == ':') {
      int oh, om;
      if (!Digits(s, i + 1, 2, &oh) || !Digits(s, i + 4, 2, &om) || oh > 14 || om > 59) return false;
      offset = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
      return false;
    }
  }
  int64_t secs = DaysFromCivil(y, mo, d) * 86400 + int64_t{h} * 3600 + mi * 60 + se;
  if (offset) secs -= int64_t{*offset} * 60;
  out->set_seconds(secs);
  out->set_nanos(nanos);
  if (offset) {
    out->set_utc_offset_minutes(*offset);
  } else {
    out->clear_utc_offset_minutes();
  }
  return true;
}

bool ParseXsDate(std::string_view text, v1::Date* out) {
  std::string_view s = TrimView(text);
  int y, m, d;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) || !Digits(s, 5, 2, &m) ||
      !Digits(s, 8, 2, &d) || !ValidDate(y, m, d)) {
    return false;
  }
  std::string_view zone = s.substr(10);
  if (!(zone.empty() || zone == "Z" ||
        (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':'))) {
    return false;
  }
  out->set_year(y);
  out->set_month(m);
  out->set_day(d);
  return true;
}

std::string FormatXsDateTime(const v1::Timestamp& ts) {
  int offset = ts.has_utc_offset_minutes() ? ts.utc_offset_minutes() : 0;
  int64_t local = ts.seconds() + int64_t{offset} * 60;
  int64_t days = local / 86400, secs = local % 86400;
  if (secs < 0) secs += 86400, --days;
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03d",
                        static_cast<long long>(y), static_cast<long long>(m),
                        static_cast<long long>(d), static_cast<long long>(secs / 3600),
                        static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                        ts.nanos() / 1000000);
  if (!ts.has_utc_offset_minutes() || offset == 0) {
    std::snprintf(buf + n, sizeof buf - n, "Z");
  } else {
    int a = offset < 0 ? -offset : offset;
    std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 60, a % 60);
  }
  return buf;
}

}  // namespace fachadapter::xoev
