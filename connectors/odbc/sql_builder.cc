#include "sql_builder.h"

#include <set>

#include "fachadapter/filter_evaluator.h"
#include "fachadapter/values.h"
#include "value_codec.h"

namespace fachadapter::odbc {

namespace cv1 = ::fachadapter::connector::v1;

Result<Projection> MakeProjection(const Table& table,
                                  const google::protobuf::RepeatedPtrField<std::string>& fields,
                                  bool all_columns) {
  const size_t n = table.columns.size();
  std::vector<int> wanted_fields;  // table index per output field
  std::vector<bool> selected(n, all_columns || fields.empty());
  if (fields.empty()) {
    for (size_t i = 0; i < n; ++i) wanted_fields.push_back(static_cast<int>(i));
  } else {
    for (const std::string& f : fields) {
      int idx = table.Find(f);
      if (idx < 0) return table.UnknownField(f, "the projection");
      wanted_fields.push_back(idx);
      selected[idx] = true;
    }
  }
  Projection p;
  p.by_column.assign(n, -1);
  auto in_sql = [&](size_t i) { return table.columns[i].parameter < 0; };
  bool any_in_sql = false;
  for (size_t i = 0; i < n; ++i) any_in_sql = any_in_sql || (selected[i] && in_sql(i));
  if (!any_in_sql) {
    for (size_t i = 0; i < n; ++i) {
      if (in_sql(i)) {
        selected[i] = true;
        break;
      }
    }
  }
  // Bound columns first, then long ones (read with SQLGetData), each group in table order;
  // then parameter fields, which are not in the SQL.
  for (int pass = 0; pass < 3; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      if (!selected[i]) continue;
      bool long_data = table.columns[i].long_data || table.read_unbounded(i);
      int group = !in_sql(i) ? 2 : long_data ? 1 : 0;
      if (group != pass) continue;
      p.by_column[i] = static_cast<int>(p.select.size());
      p.select.push_back(static_cast<int>(i));
    }
    if (pass == 1) p.sql_columns = p.select.size();
  }
  for (int idx : wanted_fields) p.output.push_back(p.by_column[idx]);
  return p;
}

std::string SelectClause(const Table& table, const Projection& p) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < p.sql_columns; ++i) {
    if (i) sql += ", ";
    sql += SelectExpression(table.columns[p.select[i]].type_name, table.quoted[p.select[i]]);
  }
  sql += " FROM ";
  sql += table.sql_name;
  return sql;
}

std::string TranslateLikePattern(const std::string& api) {
  std::string out;
  out.reserve(api.size() + 4);
  for (size_t i = 0; i < api.size(); ++i) {
    char c = api[i];
    if (c == '\\' && i + 1 < api.size()) {
      char next = api[++i];
      if (next == '%' || next == '_' || next == kLikeEscape) out += kLikeEscape;
      out += next;  // "\x" for another x is just x, as in LikeMatch
    } else if (c == kLikeEscape) {
      out += kLikeEscape;
      out += c;
    } else {
      out += c;  // '%', '_' and a trailing lone '\' as they are
    }
  }
  return out;
}

std::string PrefixPattern(const std::string& prefix) {
  std::string out;
  out.reserve(prefix.size() + 4);
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == kLikeEscape) out += kLikeEscape;
    out += c;
  }
  out += '%';
  return out;
}

namespace {

constexpr int kMaxFilterDepth = 64;

Status AppendFilterAt(const Table& table, const v1::Filter& f, int depth, std::string* sql,
                      ParamSet* params, const std::vector<v1::Value>& args) {
  if (depth > kMaxFilterDepth) {
    return InvalidArgument("filter is nested deeper than 64 levels", "INVALID_FILTER");
  }
  switch (f.kind_case()) {
    case v1::Filter::kField: {
      const v1::FieldFilter& c = f.field();
      int idx = table.Find(c.field());
      if (idx < 0) return table.UnknownField(c.field(), "the filter");
      const Column& col = table.columns[idx];
      if (col.parameter >= 0) {
        // The field's value is the parameter's in every row: decide the condition here.
        if (static_cast<size_t>(col.parameter) >= args.size()) {
          return Internal("parameter field '" + col.name + "' has no value");
        }
        switch (MatchCondition(args[col.parameter], c.op(), c.value(), c.values())) {
          case Truth::kTrue: *sql += "(1 = 1)"; break;
          case Truth::kFalse: *sql += "(1 = 0)"; break;
          case Truth::kUnknown: *sql += "(CAST(NULL AS INTEGER) = 1)"; break;
        }
        return Status::OK();
      }
      const std::string& q = table.quoted[idx];
      const char* op = nullptr;
      switch (c.op()) {
        case v1::OPERATOR_EQ: op = " = "; break;
        case v1::OPERATOR_NE: op = " <> "; break;
        case v1::OPERATOR_LT: op = " < "; break;
        case v1::OPERATOR_LE: op = " <= "; break;
        case v1::OPERATOR_GT: op = " > "; break;
        case v1::OPERATOR_GE: op = " >= "; break;
        case v1::OPERATOR_IS_NULL:
          *sql += "(" + q + " IS NULL)";
          return Status::OK();
        case v1::OPERATOR_IS_NOT_NULL:
          *sql += "(" + q + " IS NOT NULL)";
          return Status::OK();
        case v1::OPERATOR_IN: {
          if (c.values().empty()) {
            return InvalidArgument("IN filter on '" + c.field() + "' has no values",
                                   "INVALID_FILTER", c.field());
          }
          *sql += "(" + q + " IN (";
          for (int i = 0; i < c.values_size(); ++i) {
            *sql += i ? ", ?" : "?";
            FA_RETURN_IF_ERROR(params->Add(c.values(i), col, ParamUse::kCompare));
          }
          *sql += "))";
          return Status::OK();
        }
        case v1::OPERATOR_PREFIX:
        case v1::OPERATOR_LIKE: {
          if (col.type != v1::FIELD_TYPE_STRING || !c.value().has_string_value()) {
            return InvalidArgument(std::string(c.op() == v1::OPERATOR_LIKE ? "LIKE" : "PREFIX") +
                                       " needs a string field and a string value; field '" +
                                       c.field() + "' is " + FieldTypeName(col.type),
                                   "TYPE_MISMATCH", c.field());
          }
          params->AddText(c.op() == v1::OPERATOR_LIKE ? TranslateLikePattern(c.value().string_value())
                                                      : PrefixPattern(c.value().string_value()));
          *sql += "(" + q + " LIKE ? ESCAPE '" + std::string(1, kLikeEscape) + "')";
          return Status::OK();
        }
        default:
          return InvalidArgument("filter on '" + c.field() + "' has no valid operator",
                                 "INVALID_FILTER", c.field());
      }
      *sql += "(" + q + op + "?)";
      return params->Add(c.value(), col, ParamUse::kCompare);
    }
    case v1::Filter::kAnd:
    case v1::Filter::kOr: {
      const v1::FilterList& list = f.kind_case() == v1::Filter::kAnd ? f.and_() : f.or_();
      if (list.filters().empty()) return InvalidArgument("empty and/or list in filter", "INVALID_FILTER");
      const char* glue = f.kind_case() == v1::Filter::kAnd ? " AND " : " OR ";
      *sql += "(";
      for (int i = 0; i < list.filters_size(); ++i) {
        if (i) *sql += glue;
        FA_RETURN_IF_ERROR(AppendFilterAt(table, list.filters(i), depth + 1, sql, params, args));
      }
      *sql += ")";
      return Status::OK();
    }
    case v1::Filter::kNot:
      *sql += "(NOT ";
      FA_RETURN_IF_ERROR(AppendFilterAt(table, f.not_(), depth + 1, sql, params, args));
      *sql += ")";
      return Status::OK();
    default:
      return InvalidArgument("empty filter expression", "INVALID_FILTER");
  }
}

// Collects the top-level AND terms of `f` (nested ANDs flattened).
void Conjuncts(const v1::Filter& f, int depth, std::vector<const v1::Filter*>* out) {
  if (f.kind_case() == v1::Filter::kAnd && depth < kMaxFilterDepth) {
    for (const v1::Filter& c : f.and_().filters()) Conjuncts(c, depth + 1, out);
  } else {
    out->push_back(&f);
  }
}

}  // namespace

Status AppendFilter(const Table& table, const v1::Filter& filter, std::string* sql,
                    ParamSet* params, const std::vector<v1::Value>& args) {
  return AppendFilterAt(table, filter, 0, sql, params, args);
}

Result<std::vector<v1::Value>> QueryArguments(const Table& table, const v1::Filter* filter) {
  std::vector<v1::Value> args(table.parameters.size());
  std::vector<bool> found(table.parameters.size(), false);
  std::vector<const v1::Filter*> terms;
  if (filter && filter->kind_case() != v1::Filter::KIND_NOT_SET) Conjuncts(*filter, 0, &terms);
  for (const v1::Filter* t : terms) {
    if (t->kind_case() != v1::Filter::kField) continue;
    const v1::FieldFilter& c = t->field();
    bool eq = c.op() == v1::OPERATOR_EQ || (c.op() == v1::OPERATOR_IN && c.values_size() == 1);
    if (!eq) continue;
    for (size_t p = 0; p < table.parameters.size(); ++p) {
      if (found[p] || table.parameters[p].name != c.field()) continue;
      const v1::Value& v = c.op() == v1::OPERATOR_EQ ? c.value() : c.values(0);
      if (IsNull(v)) {
        return InvalidArgument("parameter '" + c.field() + "' of named query '" + table.name + "' is NULL",
                               "INVALID_PARAMETER", c.field());
      }
      args[p] = v;
      found[p] = true;
    }
  }
  for (size_t p = 0; p < table.parameters.size(); ++p) {
    if (!found[p]) {
      const std::string& name = table.parameters[p].name;
      return InvalidArgument("named query '" + table.name + "' needs its parameter '" + name +
                                 "': filter on the field with '" + name + " = <" +
                                 FieldTypeName(table.parameters[p].column.type) +
                                 ">' as a term of the filter's top-level AND",
                             "MISSING_PARAMETER", name);
    }
  }
  return args;
}

Status BindQueryParameters(const Table& table, const std::vector<v1::Value>& args, ParamSet* params) {
  for (int p : table.placeholders) {
    FA_RETURN_IF_ERROR(params->Add(args[p], table.parameters[p].column, ParamUse::kWrite));
  }
  return Status::OK();
}

Status BindNullParameters(const Table& table, ParamSet* params) {
  v1::Value null;
  null.set_null_value(v1::NULL_VALUE);
  for (int p : table.placeholders) {
    FA_RETURN_IF_ERROR(params->Add(null, table.parameters[p].column, ParamUse::kWrite));
  }
  return Status::OK();
}

Status AppendOrder(const Table& table, const Dialect& dialect, bool nulls_clause,
                   const google::protobuf::RepeatedPtrField<cv1::SortKey>& order,
                   std::string* sql) {
  bool first = true;
  for (int i = 0; i < order.size(); ++i) {
    const cv1::SortKey& k = order[i];
    int idx = table.Find(k.field());
    if (idx < 0) return table.UnknownField(k.field(), "the order");
    if (table.columns[idx].parameter >= 0) continue;  // the same value in every row
    const std::string& q = table.quoted[idx];
    *sql += first ? " ORDER BY " : ", ";
    first = false;
    bool native = k.descending() ? dialect.NullsLastWhenDescending()
                                 : dialect.NullsFirstWhenAscending();
    if (native || !table.columns[idx].nullable) {
      *sql += q + (k.descending() ? " DESC" : " ASC");
    } else if (nulls_clause) {
      *sql += q + (k.descending() ? " DESC NULLS LAST" : " ASC NULLS FIRST");
    } else {
      // Portable emulation: sort on "is it NULL" first.
      *sql += "CASE WHEN " + q + " IS NULL THEN " + (k.descending() ? "1" : "0") + " ELSE " +
              (k.descending() ? "0" : "1") + " END, " + q + (k.descending() ? " DESC" : " ASC");
    }
  }
  return Status::OK();
}

Status AppendKeyPredicate(const Table& table,
                          const google::protobuf::RepeatedPtrField<cv1::FieldValue>& key,
                          std::string* sql, ParamSet* params) {
  if (table.primary_key.empty()) {
    return FailedPrecondition("entity '" + table.name + "' has no primary key", "NO_PRIMARY_KEY");
  }
  std::vector<const v1::Value*> values(table.primary_key.size(), nullptr);
  for (const cv1::FieldValue& fv : key) {
    int idx = table.Find(fv.field());
    if (idx < 0) return table.UnknownField(fv.field(), "the key");
    size_t pos = 0;
    while (pos < table.primary_key.size() && table.primary_key[pos] != idx) ++pos;
    if (pos == table.primary_key.size()) {
      return InvalidArgument("field '" + fv.field() + "' is not part of the primary key of '" +
                                 table.name + "'",
                             "NOT_A_KEY_FIELD", fv.field());
    }
    if (values[pos]) {
      return InvalidArgument("key field '" + fv.field() + "' is given twice", "INVALID_KEY",
                             fv.field());
    }
    if (IsNull(fv.value())) {
      return InvalidArgument("key field '" + fv.field() + "' is NULL", "INVALID_KEY", fv.field());
    }
    values[pos] = &fv.value();
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const Column& c = table.columns[table.primary_key[i]];
    if (!values[i]) {
      return InvalidArgument("key field '" + c.name + "' is missing", "INVALID_KEY", c.name);
    }
    if (i) *sql += " AND ";
    *sql += table.quoted[table.primary_key[i]] + " = ?";
    FA_RETURN_IF_ERROR(params->Add(*values[i], c, ParamUse::kCompare));
  }
  return Status::OK();
}

}  // namespace fachadapter::odbc
