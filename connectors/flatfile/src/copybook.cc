// COBOL copybook parser: entries -> item tree -> flat layout with byte offsets.
#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>

#include "layout.h"

namespace fachadapter::flatfile {

v1::FieldType FieldDef::type() const {
  switch (kind) {
    case FieldKind::kText: return v1::FIELD_TYPE_STRING;
    case FieldKind::kNativeBinary:
      if (scale == 0 && (is_signed || length < 8)) return v1::FIELD_TYPE_INT64;
      return v1::FIELD_TYPE_DECIMAL;
    default: return scale == 0 && digits <= 18 ? v1::FIELD_TYPE_INT64 : v1::FIELD_TYPE_DECIMAL;
  }
}

int RecordLayout::Find(std::string_view n) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (!fields[i].filler && fields[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

namespace {

std::string Upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

Status SyntaxError(int line, const std::string& what) {
  return InvalidArgument("copybook line " + std::to_string(line) + ": " + what, "COPYBOOK_SYNTAX");
}

struct Token {
  std::string text;  // "." for the end of an entry
  int line;
  bool literal = false;
};

Result<std::vector<Token>> Tokenize(std::string_view text, const CopybookOptions& opt) {
  std::vector<Token> tokens;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    // Expand tabs (stops of 8) so that column rules hold.
    std::string line;
    for (char c : raw) {
      if (c == '\t') line.append(8 - line.size() % 8, ' ');
      else if (c != '\r') line.push_back(c);
    }
    std::string code;
    if (opt.free_format) {
      size_t f = line.find_first_not_of(' ');
      if (f == std::string::npos || line[f] == '*') continue;
      code = line;
      size_t inline_comment = code.find("*>");
      if (inline_comment != std::string::npos) code.resize(inline_comment);
    } else {
      if (line.size() <= 6) continue;
      char ind = line[6];
      if (ind == '*' || ind == '/' || ind == 'D' || ind == 'd') continue;
      if (ind != ' ' && ind != '-') {
        return SyntaxError(line_no, std::string("unexpected indicator '") + ind +
                                        "' in column 7 (expected blank, '*', '/', 'D' or '-')");
      }
      code = line.substr(7, 65);
      size_t inline_comment = code.find("*>");
      if (inline_comment != std::string::npos) code.resize(inline_comment);
      if (ind == '-' && !tokens.empty()) {
        // Continuation of a literal or word: glue the first word to the previous token.
        size_t f = code.find_first_not_of(' ');
        if (f == std::string::npos) continue;
        if (code[f] == '\'' || code[f] == '"') ++f;
        size_t e = f;
        while (e < code.size() && code[e] != ' ') ++e;
        std::string piece = code.substr(f, e - f);
        bool period = !piece.empty() && piece.back() == '.';
        if (period) piece.pop_back();
        if (!piece.empty() && (piece.back() == '\'' || piece.back() == '"')) piece.pop_back();
        tokens.back().text += piece;
        if (period) tokens.push_back({".", line_no});
        code = code.substr(e);
      }
    }
    size_t i = 0;
    while (i < code.size()) {
      char c = code[i];
      if (c == ' ' || ((c == ',' || c == ';') && (i + 1 == code.size() || code[i + 1] == ' '))) {
        ++i;
        continue;
      }
      if (c == '\'' || c == '"') {
        size_t e = code.find(c, i + 1);
        if (e == std::string::npos) e = code.size();  // continued on the next line
        tokens.push_back({code.substr(i + 1, e - i - 1), line_no, true});
        i = e + 1;
        continue;
      }
      size_t e = i;
      while (e < code.size() && code[e] != ' ') {
        if (code[e] == '.' && (e + 1 == code.size() || code[e + 1] == ' ')) break;
        ++e;
      }
      if (e > i) tokens.push_back({code.substr(i, e - i), line_no});
      if (e < code.size() && code[e] == '.') {
        tokens.push_back({".", line_no});
        ++e;
      }
      i = e;
    }
  }
  return tokens;
}

struct Item {
  int level = 0;
  std::string name;  // original, upper case
  bool filler = false;
  std::string pic;
  std::string usage;  // "" = inherit / DISPLAY
  bool has_sign = false;
  SignPosition sign_pos = SignPosition::kTrailing;
  bool sign_separate = false;
  int occurs_min = 1, occurs_max = 1;
  bool occurs = false;
  std::string depending_on;
  std::string redefines;
  int line = 0;
  std::vector<std::unique_ptr<Item>> children;
  Item* parent = nullptr;
  // computed
  uint32_t size = 0;  // one element
};

bool IsNumber(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string NormalizeUsage(const std::string& u) {
  if (u == "COMP" || u == "COMPUTATIONAL" || u == "COMP-4" || u == "COMPUTATIONAL-4" ||
      u == "BINARY") {
    return "COMP";
  }
  if (u == "COMP-3" || u == "COMPUTATIONAL-3" || u == "PACKED-DECIMAL") return "COMP-3";
  if (u == "COMP-5" || u == "COMPUTATIONAL-5") return "COMP-5";
  if (u == "DISPLAY") return "DISPLAY";
  if (u == "COMP-1" || u == "COMPUTATIONAL-1" || u == "COMP-2" || u == "COMPUTATIONAL-2") {
    return "FLOAT";
  }
  return "";
}

// Parses one entry's tokens [b, e) into `it`.
Status ParseEntry(const std::vector<Token>& t, size_t b, size_t e, Item* it) {
  size_t i = b;
  it->line = t[b].line;
  it->level = std::stoi(t[i++].text);
  if (i < e && !t[i].literal) {
    std::string w = Upper(t[i].text);
    static const std::set<std::string> kKeywords = {
        "PIC", "PICTURE", "USAGE", "COMP", "COMP-3", "COMP-4", "COMP-5", "BINARY",
        "COMPUTATIONAL", "COMPUTATIONAL-3", "COMPUTATIONAL-4", "COMPUTATIONAL-5", "DISPLAY",
        "PACKED-DECIMAL", "REDEFINES", "OCCURS", "VALUE", "VALUES", "SIGN", "JUST", "JUSTIFIED",
        "SYNC", "SYNCHRONIZED", "BLANK", "COMP-1", "COMP-2"};
    if (!kKeywords.count(w)) {
      it->name = w;
      ++i;
    }
  }
  if (it->name.empty() || it->name == "FILLER") it->filler = true;
  while (i < e) {
    std::string w = Upper(t[i].text);
    int line = t[i].line;
    ++i;
    auto need = [&](const char* what) -> Result<std::string> {
      if (i >= e) return SyntaxError(line, std::string("expected ") + what + " after " + w);
      return Upper(t[i++].text);
    };
    if (w == "PIC" || w == "PICTURE") {
      if (i < e && Upper(t[i].text) == "IS") ++i;
      if (i >= e) return SyntaxError(line, "PIC without a picture string");
      it->pic = t[i++].text;
    } else if (w == "USAGE") {
      if (i < e && Upper(t[i].text) == "IS") ++i;
      FA_ASSIGN_OR_RETURN(std::string u, need("a usage"));
      it->usage = NormalizeUsage(u);
      if (it->usage.empty()) return SyntaxError(line, "unknown USAGE " + u);
    } else if (!NormalizeUsage(w).empty()) {
      it->usage = NormalizeUsage(w);
    } else if (w == "REDEFINES") {
      FA_ASSIGN_OR_RETURN(it->redefines, need("the name of the redefined item"));
    } else if (w == "OCCURS") {
      FA_ASSIGN_OR_RETURN(std::string n, need("a count"));
      if (!IsNumber(n)) return SyntaxError(line, "OCCURS needs a number, found '" + n + "'");
      it->occurs = true;
      it->occurs_min = it->occurs_max = std::stoi(n);
      if (i < e && Upper(t[i].text) == "TO") {
        ++i;
        FA_ASSIGN_OR_RETURN(std::string m, need("a maximum count"));
        if (!IsNumber(m)) return SyntaxError(line, "OCCURS ... TO needs a number, found '" + m + "'");
        it->occurs_max = std::stoi(m);
      }
      if (i < e && Upper(t[i].text) == "TIMES") ++i;
      if (i < e && Upper(t[i].text) == "DEPENDING") {
        ++i;
        if (i < e && Upper(t[i].text) == "ON") ++i;
        FA_ASSIGN_OR_RETURN(it->depending_on, need("the counter field"));
      }
      while (i < e) {  // ASCENDING/DESCENDING KEY IS x, INDEXED BY i...
        std::string k = Upper(t[i].text);
        if (k == "ASCENDING" || k == "DESCENDING") {
          ++i;
          if (i < e && Upper(t[i].text) == "KEY") ++i;
          if (i < e && Upper(t[i].text) == "IS") ++i;
          if (i < e) ++i;
        } else if (k == "INDEXED") {
          ++i;
          if (i < e && Upper(t[i].text) == "BY") ++i;
          while (i < e && NormalizeUsage(Upper(t[i].text)).empty() && Upper(t[i].text) != "PIC" &&
                 Upper(t[i].text) != "PICTURE" && Upper(t[i].text) != "VALUE") {
            ++i;
          }
        } else {
          break;
        }
      }
      if (it->occurs_max < 1 || it->occurs_max < it->occurs_min) {
        return SyntaxError(line, "invalid OCCURS count");
      }
    } else if (w == "SIGN" || w == "LEADING" || w == "TRAILING") {
      if (w == "SIGN") {
        if (i < e && Upper(t[i].text) == "IS") ++i;
        FA_ASSIGN_OR_RETURN(w, need("LEADING or TRAILING"));
      }
      if (w != "LEADING" && w != "TRAILING") return SyntaxError(line, "SIGN must be LEADING or TRAILING");
      it->has_sign = true;
      it->sign_pos = w == "LEADING" ? SignPosition::kLeading : SignPosition::kTrailing;
      if (i < e && Upper(t[i].text) == "SEPARATE") {
        ++i;
        it->sign_separate = true;
        if (i < e && Upper(t[i].text) == "CHARACTER") ++i;
      }
    } else if (w == "VALUE" || w == "VALUES") {
      if (i < e && (Upper(t[i].text) == "IS" || Upper(t[i].text) == "ARE")) ++i;
      // Skip the literal(s) to the end of the entry (VALUE ... THRU ... only in 88 levels).
      i = e;
    } else if (w == "JUST" || w == "JUSTIFIED") {
      if (i < e && Upper(t[i].text) == "RIGHT") ++i;
    } else if (w == "SYNC" || w == "SYNCHRONIZED") {
      if (i < e && (Upper(t[i].text) == "LEFT" || Upper(t[i].text) == "RIGHT")) ++i;
    } else if (w == "BLANK") {
      if (i < e && Upper(t[i].text) == "WHEN") ++i;
      if (i < e) ++i;  // ZERO / ZEROS / ZEROES
    } else if (w == "GLOBAL" || w == "EXTERNAL") {
    } else {
      return SyntaxError(line, "unexpected '" + t[i - 1].text + "'" +
                                   (it->name.empty() ? "" : " in the entry of " + it->name));
    }
  }
  if (it->usage == "FLOAT") {
    return SyntaxError(it->line, "COMP-1/COMP-2 floating point fields are not supported");
  }
  return Status::OK();
}

Status ComputeSize(Item* it, const std::string& usage_in, bool sign_in, SignPosition pos_in,
                   bool sep_in) {
  std::string usage = it->usage.empty() ? usage_in : it->usage;
  if (!it->has_sign && sign_in) {
    it->has_sign = true;
    it->sign_pos = pos_in;
    it->sign_separate = sep_in;
  }
  it->usage = usage;
  if (it->children.empty()) {
    if (it->pic.empty()) {
      return SyntaxError(it->line, "elementary item " + (it->name.empty() ? "FILLER" : it->name) +
                                       " has no PIC clause");
    }
    FieldDef f;
    Status s = ApplyPicture(it->pic, usage.empty() ? "DISPLAY" : usage, &f);
    if (!s.ok()) return SyntaxError(it->line, s.message());
    if (f.kind == FieldKind::kZoned && it->sign_separate && f.is_signed) f.length += 1;
    it->size = f.length;
    return Status::OK();
  }
  if (!it->pic.empty()) return SyntaxError(it->line, "group item " + it->name + " has a PIC clause");
  uint32_t off = 0, end = 0;
  std::map<std::string, std::pair<uint32_t, uint32_t>> starts;  // name -> (offset, size)
  for (auto& c : it->children) {
    FA_RETURN_IF_ERROR(ComputeSize(c.get(), usage, it->has_sign, it->sign_pos, it->sign_separate));
    uint32_t total = c->size * static_cast<uint32_t>(c->occurs_max);
    if (!c->redefines.empty()) {
      auto f = starts.find(c->redefines);
      if (f == starts.end()) {
        return SyntaxError(c->line, c->name + " REDEFINES " + c->redefines +
                                        ", which is not an earlier item of the same level");
      }
      end = std::max(end, f->second.first + total);
      starts[c->name] = {f->second.first, total};
      continue;
    }
    starts[c->name] = {off, total};
    off += total;
    end = std::max(end, off);
  }
  it->size = end;
  return Status::OK();
}

std::string Normalize(const std::string& n) {
  std::string r = n;
  std::replace(r.begin(), r.end(), '-', '_');
  return r;
}

struct Emitted {
  std::vector<std::string> qualifiers;  // enclosing group names, innermost first
  std::string suffix;                   // _i_j of enclosing OCCURS
};

Status Emit(const Item* it, uint32_t base, std::vector<std::string>& groups,
            std::vector<std::pair<const Item*, int>>& occ, RecordLayout* layout,
            std::vector<Emitted>* em, std::map<std::string, int>* counters,
            std::vector<std::pair<std::string, int>>* odo_pending) {
  for (int k = 0; k < it->occurs_max; ++k) {
    uint32_t at = base + static_cast<uint32_t>(k) * it->size;
    if (it->occurs) occ.push_back({it, k + 1});
    if (it->children.empty()) {
      FieldDef f;
      Status s = ApplyPicture(it->pic, it->usage.empty() ? "DISPLAY" : it->usage, &f);
      if (!s.ok()) return SyntaxError(it->line, s.message());
      f.offset = at;
      f.length = it->size;
      f.filler = it->filler;
      f.line = it->line;
      if (f.kind == FieldKind::kZoned && it->has_sign) {
        f.sign_pos = it->sign_pos;
        f.sign_separate = it->sign_separate;
      }
      f.native = "PIC " + it->pic;
      if (!it->usage.empty() && it->usage != "DISPLAY") f.native += " " + it->usage;
      Emitted e;
      for (auto g = groups.rbegin(); g != groups.rend(); ++g) e.qualifiers.push_back(*g);
      for (auto& o : occ) {
        e.suffix.append("_").append(std::to_string(o.second));  // not "_" + ...: GCC 12 -O3 -Wrestrict
        if (!o.first->depending_on.empty()) {
          odo_pending->push_back({o.first->depending_on, o.second});
          f.odo.push_back({-1, o.second});
        }
      }
      f.name = Normalize(it->name) + e.suffix;
      if (!it->filler && occ.empty()) (*counters)[it->name] = static_cast<int>(layout->fields.size());
      // Resolve the counters of this field's OCCURS DEPENDING ON (must precede it).
      size_t p = 0;
      for (auto& o : occ) {
        if (o.first->depending_on.empty()) continue;
        auto c = counters->find(o.first->depending_on);
        if (c == counters->end()) {
          return SyntaxError(o.first->line, "OCCURS DEPENDING ON " + o.first->depending_on +
                                                ": no such field before it");
        }
        f.odo[p++].first = c->second;
      }
      layout->fields.push_back(std::move(f));
      em->push_back(std::move(e));
    } else {
      if (!it->filler) groups.push_back(Normalize(it->name));
      uint32_t off = at;
      std::map<std::string, uint32_t> starts;
      for (auto& c : it->children) {
        uint32_t cat = off;
        if (!c->redefines.empty()) {
          cat = starts[c->redefines];
        } else {
          off += c->size * static_cast<uint32_t>(c->occurs_max);
        }
        starts[c->name] = cat;
        FA_RETURN_IF_ERROR(Emit(c.get(), cat, groups, occ, layout, em, counters, odo_pending));
      }
      if (!it->filler) groups.pop_back();
    }
    if (it->occurs) occ.pop_back();
  }
  return Status::OK();
}

Result<RecordLayout> BuildLayout(Item* root) {
  FA_RETURN_IF_ERROR(ComputeSize(root, "", false, SignPosition::kTrailing, false));
  RecordLayout layout;
  layout.name = Normalize(root->name);
  layout.length = root->size * static_cast<uint32_t>(root->occurs_max);
  std::vector<std::string> groups;
  std::vector<std::pair<const Item*, int>> occ;
  std::vector<Emitted> em;
  std::map<std::string, int> counters;
  std::vector<std::pair<std::string, int>> odo_pending;
  if (root->children.empty()) {
    FA_RETURN_IF_ERROR(Emit(root, 0, groups, occ, &layout, &em, &counters, &odo_pending));
  } else {
    uint32_t off = 0;
    std::map<std::string, uint32_t> starts;
    for (auto& c : root->children) {
      uint32_t cat = off;
      if (!c->redefines.empty()) cat = starts[c->redefines];
      else off += c->size * static_cast<uint32_t>(c->occurs_max);
      starts[c->name] = cat;
      FA_RETURN_IF_ERROR(Emit(c.get(), cat, groups, occ, &layout, &em, &counters, &odo_pending));
    }
  }
  // Make names unique: qualify colliding names with enclosing group names.
  for (int round = 0; round < 8; ++round) {
    std::map<std::string, std::vector<size_t>> seen;
    for (size_t i = 0; i < layout.fields.size(); ++i) {
      if (!layout.fields[i].filler) seen[layout.fields[i].name].push_back(i);
    }
    bool changed = false;
    for (auto& [n, idx] : seen) {
      if (idx.size() < 2) continue;
      for (size_t i : idx) {
        if (static_cast<size_t>(round) < em[i].qualifiers.size()) {
          layout.fields[i].name = em[i].qualifiers[round] + "_" + layout.fields[i].name;
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  std::set<std::string> names;
  for (auto& f : layout.fields) {
    if (!f.filler && !names.insert(f.name).second) {
      return SyntaxError(f.line, "field name " + f.name + " is not unique");
    }
  }
  return layout;
}

}  // namespace

Status ApplyPicture(std::string_view pic_in, std::string_view usage, FieldDef* f) {
  std::string pic = Upper(pic_in);
  int digits = 0, scale = 0, chars = 0;
  bool is_signed = false, alpha = false, edited = false, after_v = false;
  for (size_t i = 0; i < pic.size();) {
    char c = pic[i];
    int rep = 1;
    size_t next = i + 1;
    if (c == 'C' && pic.compare(i, 2, "CR") == 0) next = i + 2, rep = 1;
    else if (c == 'D' && pic.compare(i, 2, "DB") == 0) next = i + 2, rep = 1;
    if (next < pic.size() && pic[next] == '(') {
      size_t close = pic.find(')', next);
      if (close == std::string::npos) return InvalidArgument("unbalanced '(' in PIC " + pic);
      std::string n = pic.substr(next + 1, close - next - 1);
      if (!IsNumber(n) || n.size() > 6) return InvalidArgument("bad repeat count in PIC " + pic);
      rep = std::stoi(n);
      next = close + 1;
    }
    switch (c) {
      case 'X': case 'A': alpha = true; chars += rep; break;
      case '9':
        digits += rep;
        chars += rep;
        if (after_v) scale += rep;
        break;
      case 'S':
        if (i != 0) return InvalidArgument("S must come first in PIC " + pic);
        is_signed = true;
        break;
      case 'V':
        if (after_v) return InvalidArgument("more than one V in PIC " + pic);
        after_v = true;
        break;
      case 'P': return InvalidArgument("PIC P scaling is not supported (PIC " + pic + ")");
      case 'Z': case '*': case '+': case '-': case '$': case 'B': case '0': case '/': case ',':
      case '.': case 'C': case 'D': case 'E':
        edited = true;
        chars += (c == 'C' || c == 'D') ? 2 * rep : rep;
        break;
      default: return InvalidArgument(std::string("invalid character '") + c + "' in PIC " + pic);
    }
    i = next;
  }
  std::string u(usage);
  if (alpha || edited) {
    if (u != "DISPLAY") return InvalidArgument("USAGE " + u + " needs a numeric PIC, not " + pic);
    f->kind = FieldKind::kText;
    f->length = static_cast<uint32_t>(chars);
    return Status::OK();
  }
  if (digits == 0) return InvalidArgument("PIC " + pic + " has no digits");
  if (digits > 38) return InvalidArgument("PIC " + pic + " has more than 38 digits");
  f->digits = static_cast<uint8_t>(digits);
  f->scale = static_cast<int8_t>(scale);
  f->is_signed = is_signed;
  if (u == "DISPLAY") {
    f->kind = FieldKind::kZoned;
    f->length = static_cast<uint32_t>(digits);
  } else if (u == "COMP-3") {
    f->kind = FieldKind::kPacked;
    f->length = static_cast<uint32_t>(digits / 2 + 1);
  } else if (u == "COMP" || u == "COMP-5") {
    if (digits > 18) return InvalidArgument("binary PIC " + pic + " has more than 18 digits");
    f->kind = u == "COMP" ? FieldKind::kBinary : FieldKind::kNativeBinary;
    f->length = static_cast<uint32_t>(BinarySizeForDigits(digits));
  } else {
    return InvalidArgument("unsupported USAGE " + u);
  }
  return Status::OK();
}

Result<std::vector<RecordLayout>> ParseCopybook(std::string_view text,
                                                const CopybookOptions& options) {
  FA_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text, options));
  std::vector<std::unique_ptr<Item>> roots;
  std::vector<Item*> stack;
  size_t i = 0;
  bool skipping_88 = false;
  while (i < tokens.size()) {
    size_t e = i;
    while (e < tokens.size() && tokens[e].text != ".") ++e;
    if (e == tokens.size()) {
      return SyntaxError(tokens[i].line, "entry '" + tokens[i].text + " ...' does not end with a period");
    }
    if (e == i) {  // stray period
      ++i;
      continue;
    }
    const Token& lv = tokens[i];
    if (lv.literal || !IsNumber(lv.text) || lv.text.size() > 2) {
      if (skipping_88) {  // continuation of an 88's value list
        i = e + 1;
        continue;
      }
      return SyntaxError(lv.line, "expected a level number, found '" + lv.text + "'");
    }
    int level = std::stoi(lv.text);
    if (level == 88) {
      skipping_88 = true;
      i = e + 1;
      continue;
    }
    skipping_88 = false;
    if (level == 66) return SyntaxError(lv.line, "level 66 (RENAMES) is not supported");
    if (!(level >= 1 && level <= 49) && level != 77) {
      return SyntaxError(lv.line, "invalid level number " + lv.text);
    }
    auto item = std::make_unique<Item>();
    FA_RETURN_IF_ERROR(ParseEntry(tokens, i, e, item.get()));
    i = e + 1;
    if (level == 1 || level == 77 || stack.empty()) {
      if (!stack.empty() && level != 1 && level != 77 && level <= stack.front()->level) {
        // A new top level at a lower number than 01 (e.g. copybooks starting at 05).
      }
      stack.clear();
      if (!item->redefines.empty() && !roots.empty()) {
        item->redefines.clear();  // 01 REDEFINES: another record type anyway
      }
      stack.push_back(item.get());
      roots.push_back(std::move(item));
      continue;
    }
    while (!stack.empty() && stack.back()->level >= level) stack.pop_back();
    if (stack.empty()) {
      // Same level as the top: another record of the copybook.
      stack.push_back(item.get());
      roots.push_back(std::move(item));
      continue;
    }
    if (!stack.back()->pic.empty()) {
      return SyntaxError(item->line, "item " + item->name + " is subordinate to elementary item " +
                                         stack.back()->name);
    }
    item->parent = stack.back();
    Item* raw = item.get();
    stack.back()->children.push_back(std::move(item));
    stack.push_back(raw);
  }
  if (roots.empty()) return SyntaxError(1, "the copybook declares no record");
  std::vector<RecordLayout> layouts;
  for (auto& r : roots) {
    FA_ASSIGN_OR_RETURN(RecordLayout l, BuildLayout(r.get()));
    layouts.push_back(std::move(l));
  }
  return layouts;
}

}  // namespace fachadapter::flatfile
