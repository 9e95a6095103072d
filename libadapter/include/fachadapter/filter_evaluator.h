// Evaluates a structured filter (fachadapter.v1.Filter) against records in memory.
//
// Used by the core for the part of a filter that cannot be pushed down to a back end, and by
// connectors (through the SDK) that cannot push a filter into their back end at all. Field
// names are resolved once at compile time, so matching a record is allocation-free.
#ifndef FACHADAPTER_FILTER_EVALUATOR_H_
#define FACHADAPTER_FILTER_EVALUATOR_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fachadapter/status.h"
#include "fachadapter/values.h"

namespace fachadapter {

/// Matches a SQL LIKE pattern ('%' any run, '_' one UTF-8 character, '\' escapes) against
/// UTF-8 text. Iterative with backtracking to the last '%': O(n*m) worst case, no recursion.
inline bool LikeMatch(std::string_view text, std::string_view pattern) {
  auto char_len = [](std::string_view s, size_t i) -> size_t {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    return i + n <= s.size() ? n : 1;
  };
  size_t t = 0, p = 0, star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      if (pattern[p] == '_') {
        p += 1;
        t += char_len(text, t);
        continue;
      }
      size_t lit = p;
      if (pattern[p] == '\\' && p + 1 < pattern.size()) lit = p + 1;
      size_t n = char_len(pattern, lit);
      if (text.compare(t, n, pattern.substr(lit, n)) == 0) {
        p = lit + n;
        t += n;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    star_t += char_len(text, star_t);
    t = star_t;
    p = star_p;
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

/// Truth value of SQL's three-valued logic: a comparison with NULL is unknown, and so is
/// its negation, so that the core and a SQL back end agree on NOT and NE over NULLs.
enum class Truth { kFalse, kTrue, kUnknown };

/// Evaluates one field condition against a value.
inline Truth MatchCondition(const v1::Value& value, v1::Operator op, const v1::Value& operand,
                            const google::protobuf::RepeatedPtrField<v1::Value>& operands) {
  auto of = [](bool b) { return b ? Truth::kTrue : Truth::kFalse; };
  switch (op) {
    case v1::OPERATOR_IS_NULL: return of(IsNull(value));
    case v1::OPERATOR_IS_NOT_NULL: return of(!IsNull(value));
    default: break;
  }
  if (IsNull(value)) return Truth::kUnknown;
  switch (op) {
    case v1::OPERATOR_IN: {
      Truth t = Truth::kFalse;
      for (const auto& o : operands) {
        auto c = CompareValues(value, o);
        if (c && *c == 0) return Truth::kTrue;
        if (!c) t = Truth::kUnknown;
      }
      return t;
    }
    case v1::OPERATOR_PREFIX:
      if (!value.has_string_value() || !operand.has_string_value()) return Truth::kUnknown;
      return of(std::string_view(value.string_value()).substr(0, operand.string_value().size()) ==
                operand.string_value());
    case v1::OPERATOR_LIKE:
      if (!value.has_string_value() || !operand.has_string_value()) return Truth::kUnknown;
      return of(LikeMatch(value.string_value(), operand.string_value()));
    default: break;
  }
  auto c = CompareValues(value, operand);
  if (!c) return Truth::kUnknown;
  switch (op) {
    case v1::OPERATOR_EQ: return of(*c == 0);
    case v1::OPERATOR_NE: return of(*c != 0);
    case v1::OPERATOR_LT: return of(*c < 0);
    case v1::OPERATOR_LE: return of(*c <= 0);
    case v1::OPERATOR_GT: return of(*c > 0);
    case v1::OPERATOR_GE: return of(*c >= 0);
    default: return Truth::kUnknown;
  }
}

/// A filter compiled against a list of field names.
class FilterEvaluator {
 public:
  /// Compiles `filter` for records whose values are positional to `fields`. An empty filter
  /// (no kind set) matches everything. Fails with INVALID_ARGUMENT/UNKNOWN_FIELD for a field
  /// not in `fields`, INVALID_ARGUMENT/INVALID_FILTER for a malformed expression.
  static Result<FilterEvaluator> Compile(const v1::Filter& filter,
                                         const std::vector<std::string>& fields) {
    FilterEvaluator ev;
    if (filter.kind_case() == v1::Filter::KIND_NOT_SET) return ev;
    auto root = ev.Add(filter, fields, 0);
    if (!root.ok()) return root.status();
    ev.root_ = *root;
    return ev;
  }

  /// True if the filter matches the record (values positional to the compiled fields).
  bool Matches(const v1::Record& record) const {
    return root_ < 0 || Eval(root_, record) == Truth::kTrue;
  }
  /// True if this filter matches everything.
  bool empty() const { return root_ < 0; }

 private:
  static constexpr int kMaxDepth = 64;
  struct Node {
    enum Kind { kField, kAnd, kOr, kNot } kind;
    int field = -1;                   // kField: index into the record
    const v1::FieldFilter* cond = nullptr;  // kField: points into `owned_`
    std::vector<int> children;        // kAnd/kOr/kNot
  };

  Result<int> Add(const v1::Filter& f, const std::vector<std::string>& fields, int depth) {
    if (depth > kMaxDepth) {
      return InvalidArgument("filter is nested deeper than 64 levels", "INVALID_FILTER");
    }
    Node node{};
    switch (f.kind_case()) {
      case v1::Filter::kField: {
        const auto& c = f.field();
        int idx = -1;
        for (size_t i = 0; i < fields.size(); ++i) {
          if (fields[i] == c.field()) idx = static_cast<int>(i);
        }
        if (idx < 0) {
          return InvalidArgument("unknown field '" + c.field() + "' in filter", "UNKNOWN_FIELD",
                                 c.field());
        }
        if (c.op() == v1::OPERATOR_UNSPECIFIED || !v1::Operator_IsValid(c.op())) {
          return InvalidArgument("filter on '" + c.field() + "' has no valid operator",
                                 "INVALID_FILTER", c.field());
        }
        node.kind = Node::kField;
        node.field = idx;
        conds_.push_back(std::make_unique<v1::FieldFilter>(c));
        node.cond = conds_.back().get();
        break;
      }
      case v1::Filter::kAnd:
      case v1::Filter::kOr: {
        const auto& list = f.kind_case() == v1::Filter::kAnd ? f.and_() : f.or_();
        if (list.filters().empty()) {
          return InvalidArgument("empty and/or list in filter", "INVALID_FILTER");
        }
        node.kind = f.kind_case() == v1::Filter::kAnd ? Node::kAnd : Node::kOr;
        for (const auto& child : list.filters()) {
          auto c = Add(child, fields, depth + 1);
          if (!c.ok()) return c.status();
          node.children.push_back(*c);
        }
        break;
      }
      case v1::Filter::kNot: {
        node.kind = Node::kNot;
        auto c = Add(f.not_(), fields, depth + 1);
        if (!c.ok()) return c.status();
        node.children.push_back(*c);
        break;
      }
      default: return InvalidArgument("empty filter expression", "INVALID_FILTER");
    }
    nodes_.push_back(std::move(node));
    return static_cast<int>(nodes_.size() - 1);
  }

  Truth Eval(int i, const v1::Record& r) const {
    const Node& n = nodes_[i];
    switch (n.kind) {
      case Node::kField: {
        static const v1::Value kNull;
        const v1::Value& v = n.field < r.values_size() ? r.values(n.field) : kNull;
        return MatchCondition(v, n.cond->op(), n.cond->value(), n.cond->values());
      }
      case Node::kAnd: {
        Truth t = Truth::kTrue;
        for (int c : n.children) {
          Truth x = Eval(c, r);
          if (x == Truth::kFalse) return x;
          if (x == Truth::kUnknown) t = x;
        }
        return t;
      }
      case Node::kOr: {
        Truth t = Truth::kFalse;
        for (int c : n.children) {
          Truth x = Eval(c, r);
          if (x == Truth::kTrue) return x;
          if (x == Truth::kUnknown) t = x;
        }
        return t;
      }
      case Node::kNot: {
        Truth x = Eval(n.children[0], r);
        return x == Truth::kUnknown ? x : (x == Truth::kTrue ? Truth::kFalse : Truth::kTrue);
      }
    }
    return Truth::kUnknown;
  }

  std::vector<Node> nodes_;
  std::vector<std::unique_ptr<v1::FieldFilter>> conds_;
  int root_ = -1;
};

}  // namespace fachadapter

#endif  // FACHADAPTER_FILTER_EVALUATOR_H_
