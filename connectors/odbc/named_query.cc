#include "named_query.h"

#include <algorithm>
#include <cctype>

#include "fachadapter/values.h"
#include "parameters.h"
#include "sql_builder.h"

namespace fachadapter::odbc {

namespace cv1 = ::fachadapter::connector::v1;

namespace {

bool NameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool NameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The column a parameter is bound as: its declared type, no length (values bring their own).
Column ParameterColumn(const QueryParameter& p) {
  Column c;
  c.name = p.name;
  c.type = p.type;
  c.nullable = false;
  c.native_type = std::string("parameter ") + FieldTypeName(p.type);
  switch (p.type) {
    case v1::FIELD_TYPE_BOOL: c.sql_type = SQL_BIT; break;
    case v1::FIELD_TYPE_INT64: c.sql_type = SQL_BIGINT; c.precision = 19; break;
    case v1::FIELD_TYPE_DOUBLE: c.sql_type = SQL_DOUBLE; c.precision = 15; break;
    case v1::FIELD_TYPE_DECIMAL: c.sql_type = SQL_DECIMAL; c.precision = 38; break;
    case v1::FIELD_TYPE_BYTES: c.sql_type = SQL_VARBINARY; break;
    case v1::FIELD_TYPE_DATE: c.sql_type = SQL_TYPE_DATE; break;
    case v1::FIELD_TYPE_TIME: c.sql_type = SQL_TYPE_TIME; break;
    case v1::FIELD_TYPE_TIMESTAMP: c.sql_type = SQL_TYPE_TIMESTAMP; break;
    default: c.sql_type = SQL_VARCHAR; break;
  }
  return c;
}

std::string Setting(const QuerySettings& q, const char* leaf) { return "queries." + q.name + "." + leaf; }

}  // namespace

Result<PlaceholderSql> ReplaceNamedParameters(const QuerySettings& query) {
  const std::string& in = query.sql;
  size_t end = in.size();
  while (end > 0 && (std::isspace(static_cast<unsigned char>(in[end - 1])) || in[end - 1] == ';')) --end;
  PlaceholderSql out;
  out.sql.reserve(end);
  std::vector<bool> used(query.parameters.size(), false);
  auto bad = [&](const std::string& what) {
    return InvalidArgument("setting '" + Setting(query, "sql") + "': " + what, "INVALID_SETTING",
                           Setting(query, "sql"));
  };
  size_t i = 0;
  while (i < end) {
    char c = in[i];
    // Literals and quoted identifiers are copied whole ('' and "" inside them just close and
    // reopen, which copies the same text).
    if (c == '\'' || c == '"' || c == '`') {
      size_t close = in.find(c, i + 1);
      if (close == std::string::npos || close >= end) return bad(std::string("unterminated ") + c + " quote");
      out.sql.append(in, i, close + 1 - i);
      i = close + 1;
      continue;
    }
    if (c == '-' && i + 1 < end && in[i + 1] == '-') {
      size_t nl = in.find('\n', i);
      size_t stop = nl == std::string::npos || nl > end ? end : nl;
      out.sql.append(in, i, stop - i);
      i = stop;
      continue;
    }
    if (c == '/' && i + 1 < end && in[i + 1] == '*') {
      size_t close = in.find("*/", i + 2);
      if (close == std::string::npos || close + 2 > end) return bad("unterminated /* comment");
      out.sql.append(in, i, close + 2 - i);
      i = close + 2;
      continue;
    }
    if (c == '?') return bad("'?' placeholders are not accepted; declare named parameters and write :name");
    if (c == ':' && i + 1 < end && in[i + 1] == ':') {  // PostgreSQL cast
      out.sql += "::";
      i += 2;
      continue;
    }
    if (c == ':' && i + 1 < end && NameStart(in[i + 1]) && (i == 0 || !NameChar(in[i - 1]))) {
      size_t j = i + 1;
      while (j < end && NameChar(in[j])) ++j;
      std::string name = in.substr(i + 1, j - i - 1);
      auto it = std::find_if(query.parameters.begin(), query.parameters.end(),
                             [&](const QueryParameter& p) { return p.name == name; });
      if (it == query.parameters.end()) {
        return bad("placeholder ':" + name + "' is not declared under " + Setting(query, "parameters"));
      }
      int idx = static_cast<int>(it - query.parameters.begin());
      if (!used[idx]) out.first_use.push_back(idx);
      used[idx] = true;
      out.placeholders.push_back(idx);
      out.sql += '?';
      i = j;
      continue;
    }
    out.sql += c;
    ++i;
  }
  for (size_t p = 0; p < used.size(); ++p) {
    if (!used[p]) {
      return InvalidArgument("setting '" + Setting(query, "parameters") + "." + query.parameters[p].name +
                                 "': the SQL has no placeholder :" + query.parameters[p].name,
                             "INVALID_SETTING", Setting(query, "parameters") + "." + query.parameters[p].name);
    }
  }
  return out;
}

Result<std::shared_ptr<Table>> PrepareNamedQuery(Connection& conn, const Dialect& dialect,
                                                 const QuerySettings& query) {
  FA_ASSIGN_OR_RETURN(PlaceholderSql ps, ReplaceNamedParameters(query));
  auto t = std::make_shared<Table>();
  t->name = query.name;
  t->table = query.name;
  t->kind = cv1::RAW_ENTITY_KIND_QUERY;
  // A newline before ')': the operator's SQL may end in a "--" comment.
  t->sql_name = "(" + ps.sql + "\n) q";
  t->placeholders = ps.placeholders;
  for (const QueryParameter& p : query.parameters) {
    QueryParam qp;
    qp.name = p.name;
    qp.column = ParameterColumn(p);
    t->parameters.push_back(std::move(qp));
  }

  // Executed, not only prepared, with NULL for every parameter and a condition that is never
  // true: some drivers (psqlODBC) parse only at execution, and this way a missing table or
  // column stops the source at Open, not at the first client call.
  const std::string what = "checking named query '" + query.name + "' (setting " + Setting(query, "sql") + ")";
  auto failed = [&](const Status& s) {
    return Status(s.code(), s.message(), s.reason(), Setting(query, "sql"));
  };
  FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
  ParamSet nulls;
  FA_RETURN_IF_ERROR(BindNullParameters(*t, &nulls));
  FA_RETURN_IF_ERROR(nulls.Bind(st.get()));
  std::string sql = "SELECT * FROM " + t->sql_name + " WHERE 1 = 0";
  Status s = conn.Note(st.Check(
      SQLExecDirect(st.get(), reinterpret_cast<SQLCHAR*>(sql.data()), static_cast<SQLINTEGER>(sql.size())), what));
  if (!s.ok()) return failed(s);
  SQLSMALLINT ncols = 0;
  s = st.Check(SQLNumResultCols(st.get(), &ncols), what);
  if (!s.ok()) return failed(s);
  if (ncols <= 0) {
    return InvalidArgument("setting '" + Setting(query, "sql") + "': named query '" + query.name +
                               "' returns no columns; it must be a SELECT",
                           "INVALID_SETTING", Setting(query, "sql"));
  }
  for (SQLSMALLINT i = 1; i <= ncols; ++i) {
    char name[512] = {0};
    SQLSMALLINT name_len = 0, type = 0, digits = 0, nullable = SQL_NULLABLE_UNKNOWN;
    SQLULEN size = 0;
    s = st.Check(SQLDescribeCol(st.get(), static_cast<SQLUSMALLINT>(i), reinterpret_cast<SQLCHAR*>(name),
                                sizeof name, &name_len, &type, &size, &digits, &nullable),
                 what);
    if (!s.ok()) return failed(s);
    Column c;
    c.name.assign(name, std::clamp<size_t>(static_cast<size_t>(std::max<SQLSMALLINT>(name_len, 0)), 0,
                                           sizeof name - 1));
    if (c.name.empty()) {
      return InvalidArgument("setting '" + Setting(query, "sql") + "': result column " + std::to_string(i) +
                                 " of named query '" + query.name + "' has no name; give it one with AS",
                             "INVALID_SETTING", Setting(query, "sql"));
    }
    if (t->Find(c.name) >= 0) {
      return InvalidArgument("setting '" + Setting(query, "sql") + "': named query '" + query.name +
                                 "' returns two columns named '" + c.name + "'; rename one with AS",
                             "INVALID_SETTING", Setting(query, "sql"));
    }
    char type_name[128] = {0};
    SQLSMALLINT type_len = 0;
    if (SQL_SUCCEEDED(SQLColAttribute(st.get(), static_cast<SQLUSMALLINT>(i), SQL_DESC_TYPE_NAME, type_name,
                                      sizeof type_name, &type_len, nullptr))) {
      c.type_name.assign(type_name, std::clamp<size_t>(static_cast<size_t>(std::max<SQLSMALLINT>(type_len, 0)),
                                                       0, sizeof type_name - 1));
    }
    SQLLEN autoinc = SQL_FALSE;
    if (SQL_SUCCEEDED(SQLColAttribute(st.get(), static_cast<SQLUSMALLINT>(i), SQL_DESC_AUTO_UNIQUE_VALUE, nullptr,
                                      0, nullptr, &autoinc))) {
      c.auto_generated = autoinc == SQL_TRUE;
    }
    c.sql_type = type;
    c.nullable = nullable != SQL_NO_NULLS;
    SQLINTEGER column_size = size > 0x7fffffff ? 0x7fffffff : static_cast<SQLINTEGER>(size);
    MapColumnType(&c, column_size, digits, false);
    t->columns.push_back(std::move(c));
  }
  // A parameter that is not also a result column becomes a field of its own, so that the
  // client's "parameter = value" names a field the entity has.
  for (int p : ps.first_use) {
    QueryParam& qp = t->parameters[p];
    int idx = t->Find(qp.name);
    if (idx < 0) {
      Column c = qp.column;
      c.parameter = p;
      idx = static_cast<int>(t->columns.size());
      t->columns.push_back(std::move(c));
    }
    qp.field = idx;
  }
  for (const Column& c : t->columns) {
    FA_ASSIGN_OR_RETURN(std::string q, dialect.Quote(c.name));
    t->quoted.push_back(std::move(q));
  }
  for (size_t k = 0; k < query.key.size(); ++k) {
    int idx = t->Find(query.key[k]);
    if (idx < 0 || t->columns[idx].parameter >= 0) {
      std::string cols;
      for (const Column& c : t->columns) {
        if (c.parameter < 0) cols += (cols.empty() ? "" : ", ") + c.name;
      }
      return InvalidArgument("setting '" + Setting(query, "key") + "[" + std::to_string(k) + "]': named query '" +
                                 query.name + "' has no result column '" + query.key[k] + "' (it has: " + cols + ")",
                             "INVALID_SETTING", Setting(query, "key"));
    }
    t->primary_key.push_back(idx);
  }
  return t;
}

}  // namespace fachadapter::odbc
