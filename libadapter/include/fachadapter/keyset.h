// Keyset conditions: "comes after the row whose sort values are these", in the API's order
// (NULLs first ascending, last descending), as a raw filter a connector can push down. The
// core continues a query from a page token with it; a connector that reads a result in
// pieces (the ODBC connector's chunked scans) continues each piece with it. Header-only, so
// that connector plugins, which do not link the core, share the one definition.
#ifndef FACHADAPTER_KEYSET_H_
#define FACHADAPTER_KEYSET_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fachadapter/connector/v1/connector.pb.h"
#include "fachadapter/v1/value.pb.h"
#include "fachadapter/values.h"

namespace fachadapter {

/// The raw condition on field `field` with operator `op` and, unless null, operand `value`.
inline v1::Filter FieldCondition(const std::string& field, v1::Operator op, const v1::Value* value = nullptr) {
  v1::Filter f;
  auto* c = f.mutable_field();
  c->set_field(field);
  c->set_op(op);
  if (value) *c->mutable_value() = *value;
  return f;
}

/// The conjunction of `parts`; a single part as it is.
inline v1::Filter AllOf(std::vector<v1::Filter> parts) {
  if (parts.size() == 1) return std::move(parts[0]);
  v1::Filter f;
  for (auto& p : parts) *f.mutable_and_()->add_filters() = std::move(p);
  return f;
}

/// The condition "comes after the row whose values of the sort keys `order` (a sequence of
/// connector::v1::SortKey) are `last`": (k1 after) OR (k1 same AND k2 after) OR ...; "same"
/// for NULL is IS NULL, "after" follows the API's NULL order (first ascending, last
/// descending). Exact only where `order` is total (ends in a key). Uses the first
/// min(order, last) keys. nullopt if no row can come after it (every key descending and NULL
/// there: NULLs come last).
template <typename SortKeys>
std::optional<v1::Filter> AfterRowFilter(const SortKeys& order, const std::vector<v1::Value>& last) {
  v1::Filter any;
  for (size_t i = 0; i < static_cast<size_t>(order.size()) && i < last.size(); ++i) {
    const std::string& k = order[i].field();
    std::vector<v1::Filter> parts;
    for (size_t j = 0; j < i; ++j) {
      const std::string& kj = order[j].field();
      parts.push_back(IsNull(last[j]) ? FieldCondition(kj, v1::OPERATOR_IS_NULL)
                                      : FieldCondition(kj, v1::OPERATOR_EQ, &last[j]));
    }
    if (!order[i].descending()) {
      parts.push_back(IsNull(last[i]) ? FieldCondition(k, v1::OPERATOR_IS_NOT_NULL)
                                      : FieldCondition(k, v1::OPERATOR_GT, &last[i]));
    } else {
      if (IsNull(last[i])) continue;  // NULLs come last descending: nothing after them here
      v1::Filter after;
      *after.mutable_or_()->add_filters() = FieldCondition(k, v1::OPERATOR_LT, &last[i]);
      *after.mutable_or_()->add_filters() = FieldCondition(k, v1::OPERATOR_IS_NULL);
      parts.push_back(std::move(after));
    }
    *any.mutable_or_()->add_filters() = AllOf(std::move(parts));
  }
  if (!any.has_or_()) return std::nullopt;
  if (any.or_().filters_size() == 1) return v1::Filter(any.or_().filters(0));
  return any;
}

}  // namespace fachadapter

#endif  // FACHADAPTER_KEYSET_H_
