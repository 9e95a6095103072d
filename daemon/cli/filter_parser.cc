#include "filter_parser.h"

#include <utility>
#include <vector>

#include "fachadapter/values.h"
#include "value_text.h"

namespace fachadapter::cli {
namespace {

enum class TokenKind { kEnd, kIdent, kString, kBare, kLParen, kRParen, kComma, kOperator };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // identifier, unescaped string, bare literal, or operator spelling
  size_t offset = 0;
  v1::Operator op = v1::OPERATOR_UNSPECIFIED;  // for kOperator
};

bool IsIdentStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// Characters a bare literal (number, date, time, timestamp) may contain.
bool IsBareChar(char c) {
  return IsIdentChar(c) || c == '.' || c == ':' || c == '+' || c == '-';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The whole parse in one object: the lexer fills `tokens_`, the recursive-descent parser
// walks them. The first error wins; every function returns false once it is set.
class Parser {
 public:
  Parser(std::string_view text, FilterError* error) : text_(text), error_(error) {}

  bool Lex() {
    size_t i = 0;
    while (true) {
      while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' ||
                                  text_[i] == '\r')) {
        ++i;
      }
      Token t;
      t.offset = i;
      if (i == text_.size()) {
        tokens_.push_back(std::move(t));
        return true;
      }
      char c = text_[i];
      if (IsIdentStart(c)) {
        size_t start = i;
        while (i < text_.size() && IsIdentChar(text_[i])) ++i;
        t.kind = TokenKind::kIdent;
        t.text = std::string(text_.substr(start, i - start));
      } else if (c == '\'' || c == '"') {
        if (!LexString(&i, &t)) return false;
      } else if (IsDigit(c) || ((c == '-' || c == '+' || c == '.') && i + 1 < text_.size() &&
                                IsDigit(text_[i + 1]))) {
        size_t start = i;
        ++i;
        while (i < text_.size() && IsBareChar(text_[i])) ++i;
        t.kind = TokenKind::kBare;
        t.text = std::string(text_.substr(start, i - start));
        if (!LooksLikeNumber(t.text) && !LooksLikeTemporal(t.text)) {
          return Fail(FilterError::Kind::kSyntax, start,
                      "'" + t.text +
                          "' is not a number, date, time or timestamp; quote text, as in '" +
                          t.text + "'");
        }
      } else if (c == '(' || c == ')' || c == ',') {
        t.kind = c == '(' ? TokenKind::kLParen : c == ')' ? TokenKind::kRParen : TokenKind::kComma;
        t.text = std::string(1, c);
        ++i;
      } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        t.kind = TokenKind::kOperator;
        std::string_view two = text_.substr(i, 2);
        if (two == "==") {
          t.op = v1::OPERATOR_EQ;
        } else if (two == "!=" || two == "<>") {
          t.op = v1::OPERATOR_NE;
        } else if (two == "<=") {
          t.op = v1::OPERATOR_LE;
        } else if (two == ">=") {
          t.op = v1::OPERATOR_GE;
        }
        if (t.op != v1::OPERATOR_UNSPECIFIED) {
          t.text = std::string(two);
          i += 2;
        } else if (c == '!') {
          return Fail(FilterError::Kind::kSyntax, i, "'!' must be followed by '=' (use 'not' to negate)");
        } else {
          t.op = c == '=' ? v1::OPERATOR_EQ : c == '<' ? v1::OPERATOR_LT : v1::OPERATOR_GT;
          t.text = std::string(1, c);
          ++i;
        }
      } else {
        size_t n = 1;
        unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x80) n = (u >> 5) == 6 ? 2 : (u >> 4) == 14 ? 3 : (u >> 3) == 30 ? 4 : 1;
        return Fail(FilterError::Kind::kSyntax, i,
                    "unexpected character '" + std::string(text_.substr(i, n)) + "'");
      }
      tokens_.push_back(std::move(t));
    }
  }

  bool ParseWhole(const v1::EntitySchema& schema, v1::Filter* out) {
    schema_ = &schema;
    if (!ParseOr(0, out)) return false;
    if (Peek().kind != TokenKind::kEnd) {
      const Token& t = Peek();
      if (t.kind == TokenKind::kRParen) {
        return Fail(FilterError::Kind::kSyntax, t.offset, "')' without a matching '('");
      }
      return Fail(FilterError::Kind::kSyntax, t.offset,
                  "expected 'and', 'or' or the end of the filter, found " + Describe(t));
    }
    return true;
  }

  bool ParseSingleLiteral(const v1::FieldSchema& field, v1::Value* out) {
    const Token& t = Peek();
    if (t.kind == TokenKind::kIdent && Lower(t.text) == "null") {
      if (!field.nullable()) {
        // The server has the final word; saying it here spares a round trip.
        return Fail(FilterError::Kind::kSchema, t.offset,
                    "field '" + field.name() + "' is not nullable", field.name());
      }
      out->set_null_value(v1::NULL_VALUE);
      Next();
    } else if (!ParseLiteral(field, out)) {
      return false;
    }
    if (Peek().kind != TokenKind::kEnd) {
      return Fail(FilterError::Kind::kSyntax, Peek().offset,
                  "expected one value, found more: " + Describe(Peek()));
    }
    return true;
  }

 private:
  bool LexString(size_t* pos, Token* t) {
    char quote = text_[*pos];
    size_t start = *pos;
    size_t i = *pos + 1;
    std::string value;
    while (true) {
      if (i >= text_.size()) {
        return Fail(FilterError::Kind::kSyntax, start,
                    std::string("unterminated string: missing closing ") + quote);
      }
      char c = text_[i];
      if (c == quote) {
        ++i;
        break;
      }
      if (c != '\\') {
        value += c;
        ++i;
        continue;
      }
      if (i + 1 >= text_.size()) {
        return Fail(FilterError::Kind::kSyntax, i, "backslash at the end of the filter");
      }
      char e = text_[i + 1];
      switch (e) {
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case 'n': value += '\n'; break;
        case 'r': value += '\r'; break;
        case 't': value += '\t'; break;
        case '%':
        case '_':
          // LIKE escapes: pass through so the pattern matches '%' or '_' literally.
          value += '\\';
          value += e;
          break;
        case 'u': {
          uint32_t cp = 0;
          for (size_t k = 0; k < 4; ++k) {
            char h = i + 2 + k < text_.size() ? text_[i + 2 + k] : '\0';
            int d = (h >= '0' && h <= '9')   ? h - '0'
                    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                             : -1;
            if (d < 0) {
              return Fail(FilterError::Kind::kSyntax, i,
                          "\\u must be followed by four hex digits");
            }
            cp = cp * 16 + static_cast<uint32_t>(d);
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) {
            return Fail(FilterError::Kind::kSyntax, i,
                        "\\u escape names a UTF-16 surrogate, not a character");
          }
          if (cp == 0) {
            return Fail(FilterError::Kind::kSyntax, i, "\\u0000 is not allowed in a string");
          }
          AppendUtf8(cp, &value);
          i += 4;
          break;
        }
        default:
          return Fail(FilterError::Kind::kSyntax, i,
                      std::string("unknown escape '\\") + e +
                          "' (known: \\\\ \\' \\\" \\n \\r \\t \\uXXXX \\% \\_)");
      }
      i += 2;
    }
    t->kind = TokenKind::kString;
    t->text = std::move(value);
    *pos = i;
    return true;
  }

  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool PeekKeyword(std::string_view kw, size_t ahead = 0) const {
    size_t p = pos_ + ahead;
    return p < tokens_.size() && tokens_[p].kind == TokenKind::kIdent &&
           Lower(tokens_[p].text) == kw;
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEnd: return "the end of the filter";
      case TokenKind::kString: return "the string '" + t.text + "'";
      default: return "'" + t.text + "'";
    }
  }

  bool Fail(FilterError::Kind kind, size_t offset, std::string message, std::string field = {}) {
    error_->kind = kind;
    error_->message = std::move(message);
    error_->field = std::move(field);
    error_->offset = offset;
    error_->column = CodePointCount(text_.substr(0, offset)) + 1;
    return false;
  }

  bool Deeper(int depth, const Token& at) {
    if (depth >= kMaxFilterDepth) {
      return Fail(FilterError::Kind::kSyntax, at.offset,
                  "filter is nested too deeply (more than " + std::to_string(kMaxFilterDepth) +
                      " levels of parentheses and 'not')");
    }
    return true;
  }

  // Parses `operand { keyword operand }` into one flat list (a or b or c: one FilterList).
  template <typename Operand>
  bool ParseChain(std::string_view keyword, int depth, v1::Filter* out, Operand operand,
                  v1::FilterList* (v1::Filter::*list)()) {
    v1::Filter first;
    if (!(this->*operand)(depth, &first)) return false;
    if (!PeekKeyword(keyword)) {
      *out = std::move(first);
      return true;
    }
    v1::FilterList* items = (out->*list)();
    *items->add_filters() = std::move(first);
    while (PeekKeyword(keyword)) {
      Next();
      if (!(this->*operand)(depth, items->add_filters())) return false;
    }
    return true;
  }

  bool ParseOr(int depth, v1::Filter* out) {
    return ParseChain("or", depth, out, &Parser::ParseAnd, &v1::Filter::mutable_or_);
  }

  bool ParseAnd(int depth, v1::Filter* out) {
    return ParseChain("and", depth, out, &Parser::ParseUnary, &v1::Filter::mutable_and_);
  }

  bool ParseUnary(int depth, v1::Filter* out) {
    const Token& t = Peek();
    if (PeekKeyword("not")) {
      if (!Deeper(depth, t)) return false;
      Next();
      return ParseUnary(depth + 1, out->mutable_not_());
    }
    if (t.kind == TokenKind::kLParen) {
      if (!Deeper(depth, t)) return false;
      Next();
      if (!ParseOr(depth + 1, out)) return false;
      if (Peek().kind != TokenKind::kRParen) {
        return Fail(FilterError::Kind::kSyntax, Peek().offset,
                    "expected ')' to close the '(' at column " +
                        std::to_string(CodePointCount(text_.substr(0, t.offset)) + 1) +
                        ", found " + Describe(Peek()));
      }
      Next();
      return true;
    }
    return ParseCondition(out);
  }

  const v1::FieldSchema* FindField(const std::string& name) const {
    for (const auto& f : schema_->fields()) {
      if (f.name() == name) return &f;
    }
    return nullptr;
  }

  bool ParseCondition(v1::Filter* out) {
    const Token& name = Peek();
    if (name.kind != TokenKind::kIdent) {
      if (name.kind == TokenKind::kEnd && pos_ == 0) {
        return Fail(FilterError::Kind::kSyntax, name.offset, "the filter is empty");
      }
      return Fail(FilterError::Kind::kSyntax, name.offset,
                  "expected a field name, 'not' or '(', found " + Describe(name));
    }
    const v1::FieldSchema* field = FindField(name.text);
    if (!field) {
      std::string msg = "unknown field '" + name.text + "' in entity " + schema_->name();
      std::string known;
      for (const auto& f : schema_->fields()) {
        if (!f.filterable()) continue;
        if (!known.empty()) known += ", ";
        known += f.name();
      }
      if (!known.empty() && known.size() < 300) msg += " (filterable fields: " + known + ")";
      return Fail(FilterError::Kind::kSchema, name.offset, std::move(msg), name.text);
    }
    if (!field->filterable()) {
      return Fail(FilterError::Kind::kSchema, name.offset,
                  "field '" + field->name() + "' of entity " + schema_->name() +
                      " cannot be used in a filter",
                  field->name());
    }
    Next();
    v1::FieldFilter* cond = out->mutable_field();
    cond->set_field(field->name());

    const Token& op = Peek();
    if (op.kind == TokenKind::kOperator) {
      Next();
      cond->set_op(op.op);
      return ParseLiteral(*field, cond->mutable_value());
    }
    if (PeekKeyword("is")) {
      Next();
      bool negated = false;
      if (PeekKeyword("not")) {
        Next();
        negated = true;
      }
      if (!PeekKeyword("null")) {
        return Fail(FilterError::Kind::kSyntax, Peek().offset,
                    std::string("expected 'null' after '") + (negated ? "is not" : "is") +
                        "', found " + Describe(Peek()));
      }
      Next();
      cond->set_op(negated ? v1::OPERATOR_IS_NOT_NULL : v1::OPERATOR_IS_NULL);
      return true;
    }
    bool negated = false;
    if (PeekKeyword("not") && (PeekKeyword("in", 1) || PeekKeyword("like", 1) ||
                               PeekKeyword("prefix", 1) || PeekKeyword("startswith", 1))) {
      Next();
      negated = true;
    }
    if (negated) {
      // `x not in (...)` is `not (x in (...))`: rebuild the condition under a NOT.
      v1::FieldFilter moved = std::move(*cond);
      out->Clear();
      cond = out->mutable_not_()->mutable_field();
      *cond = std::move(moved);
    }
    if (PeekKeyword("in")) {
      Next();
      cond->set_op(v1::OPERATOR_IN);
      if (Peek().kind != TokenKind::kLParen) {
        return Fail(FilterError::Kind::kSyntax, Peek().offset,
                    "expected '(' after 'in', found " + Describe(Peek()));
      }
      Next();
      while (true) {
        if (!ParseLiteral(*field, cond->add_values())) return false;
        if (Peek().kind == TokenKind::kComma) {
          Next();
          continue;
        }
        if (Peek().kind == TokenKind::kRParen) {
          Next();
          return true;
        }
        return Fail(FilterError::Kind::kSyntax, Peek().offset,
                    "expected ',' or ')' in the 'in' list, found " + Describe(Peek()));
      }
    }
    if (PeekKeyword("like") || PeekKeyword("prefix") || PeekKeyword("startswith")) {
      const Token& kw = Next();
      bool like = Lower(kw.text) == "like";
      if (field->type() != v1::FIELD_TYPE_STRING) {
        return Fail(FilterError::Kind::kSchema, kw.offset,
                    "'" + Lower(kw.text) + "' works on string fields only; field '" +
                        field->name() + "' is " + FieldTypeName(field->type()),
                    field->name());
      }
      cond->set_op(like ? v1::OPERATOR_LIKE : v1::OPERATOR_PREFIX);
      return ParseLiteral(*field, cond->mutable_value());
    }
    return Fail(FilterError::Kind::kSyntax, op.offset,
                "expected an operator after field '" + field->name() +
                    "' (=, !=, <, <=, >, >=, in, like, prefix, is null), found " + Describe(op));
  }

  // A literal converted to the type of `field`.
  bool ParseLiteral(const v1::FieldSchema& field, v1::Value* out) {
    const Token& t = Peek();
    auto mismatch = [&](const Status& s) {
      return Fail(FilterError::Kind::kSchema, t.offset,
                  "field '" + field.name() + "' (" + FieldTypeName(field.type()) +
                      "): " + s.message(),
                  field.name());
    };
    switch (t.kind) {
      case TokenKind::kString:
      case TokenKind::kBare: {
        // A bare number or date compared with a string field means its text as written.
        if (field.type() == v1::FIELD_TYPE_STRING) {
          out->set_string_value(t.text);
        } else {
          Result<v1::Value> v = ParseValueText(field.type(), t.text);
          if (!v.ok()) return mismatch(v.status());
          *out = std::move(v).value();
        }
        Next();
        return true;
      }
      case TokenKind::kIdent: {
        std::string kw = Lower(t.text);
        if (kw == "true" || kw == "false") {
          if (field.type() == v1::FIELD_TYPE_BOOL) {
            out->set_bool_value(kw == "true");
          } else if (field.type() == v1::FIELD_TYPE_STRING) {
            out->set_string_value(kw);
          } else {
            return mismatch(InvalidArgument("'" + t.text + "' is not " +
                                            FieldTypeName(field.type())));
          }
          Next();
          return true;
        }
        if (kw == "null") {
          return Fail(FilterError::Kind::kSyntax, t.offset,
                      "a comparison with null is never true; write '" + field.name() +
                          " is null' or '" + field.name() + " is not null'");
        }
        return Fail(FilterError::Kind::kSyntax, t.offset,
                    "expected a value, found '" + t.text + "'; quote text, as in '" + t.text +
                        "'");
      }
      default:
        return Fail(FilterError::Kind::kSyntax, t.offset,
                    "expected a value for field '" + field.name() + "', found " + Describe(t));
    }
  }

  std::string_view text_;
  FilterError* error_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  const v1::EntitySchema* schema_ = nullptr;
};

}  // namespace

size_t CodePointCount(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool ParseFilter(std::string_view text, const v1::EntitySchema& schema, v1::Filter* out,
                 FilterError* error) {
  if (text.size() > kMaxFilterLength) {
    *error = FilterError{FilterError::Kind::kSyntax,
                         "filter is too long (" + std::to_string(text.size()) +
                             " bytes; at most " + std::to_string(kMaxFilterLength) + ")",
                         {}, 0, 1};
    return false;
  }
  Parser parser(text, error);
  v1::Filter filter;
  if (!parser.Lex() || !parser.ParseWhole(schema, &filter)) return false;
  *out = std::move(filter);
  return true;
}

bool ParseFieldLiteral(std::string_view text, const v1::FieldSchema& field, v1::Value* out,
                       FilterError* error) {
  if (text.size() > kMaxFilterLength) {
    *error = FilterError{FilterError::Kind::kSyntax, "value is too long", field.name(), 0, 1};
    return false;
  }
  Parser parser(text, error);
  v1::Value value;
  if (!parser.Lex() || !parser.ParseSingleLiteral(field, &value)) return false;
  *out = std::move(value);
  return true;
}

std::string FormatFilterError(std::string_view text, const FilterError& error) {
  std::string out = error.message;
  out += " at column " + std::to_string(error.column) + "\n  ";
  for (char c : text) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  out += "\n  ";
  out.append(error.column - 1, ' ');
  out += '^';
  return out;
}

}  // namespace fachadapter::cli
