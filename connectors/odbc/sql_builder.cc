#include "sql_builder.h"

#include <set>

#include "fachadapter/values.h"

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
  // Bound columns first, then long ones (read with SQLGetData), each group in table order.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      if (!selected[i]) continue;
      bool long_data = table.columns[i].long_data || table.read_unbounded(i);
      if (long_data != (pass == 1)) continue;
      p.by_column[i] = static_cast<int>(p.select.size());
      p.select.push_back(static_cast<int>(i));
    }
  }
  for (int idx : wanted_fields) p.output.push_back(p.by_column[idx]);
  return p;
}

std::string SelectClause(const Table& table, const Projection& p) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < p.select.size(); ++i) {
    if (i) sql += ", ";
    sql += table.quoted[p.select[i]];
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
                      ParamSet* params) {
  if (depth > kMaxFilterDepth) {
    return InvalidArgument("filter is nested deeper than 64 levels", "INVALID_FILTER");
  }
  switch (f.kind_case()) {
    case v1::Filter::kField: {
      const v1::FieldFilter& c = f.field();
      int idx = table.Find(c.field());
      if (idx < 0) return table.UnknownField(c.field(), "the filter");
      const Column& col = table.columns[idx];
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
        FA_RETURN_IF_ERROR(AppendFilterAt(table, list.filters(i), depth + 1, sql, params));
      }
      *sql += ")";
      return Status::OK();
    }
    case v1::Filter::kNot:
      *sql += "(NOT ";
      FA_RETURN_IF_ERROR(AppendFilterAt(table, f.not_(), depth + 1, sql, params));
      *sql += ")";
      return Status::OK();
    default:
      return InvalidArgument("empty filter expression", "INVALID_FILTER");
  }
}

}  // namespace

Status AppendFilter(const Table& table, const v1::Filter& filter, std::string* sql,
                    ParamSet* params) {
  return AppendFilterAt(table, filter, 0, sql, params);
}

Status AppendOrder(const Table& table, const Dialect& dialect, bool nulls_clause,
                   const google::protobuf::RepeatedPtrField<cv1::SortKey>& order,
                   std::string* sql) {
  if (order.empty()) return Status::OK();
  *sql += " ORDER BY ";
  for (int i = 0; i < order.size(); ++i) {
    const cv1::SortKey& k = order[i];
    int idx = table.Find(k.field());
    if (idx < 0) return table.UnknownField(k.field(), "the order");
    const std::string& q = table.quoted[idx];
    if (i) *sql += ", ";
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
