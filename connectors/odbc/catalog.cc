#include "catalog.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>

#include "named_query.h"

namespace fachadapter::odbc {

namespace cv1 = ::fachadapter::connector::v1;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads a character column of the current row; nullopt for NULL.
std::optional<std::string> GetText(SQLHSTMT st, SQLUSMALLINT col) {
  std::string out;
  char buf[512];
  for (;;) {
    SQLLEN ind = 0;
    SQLRETURN rc = SQLGetData(st, col, SQL_C_CHAR, buf, sizeof buf, &ind);
    if (rc == SQL_NO_DATA) break;
    if (!SQL_SUCCEEDED(rc)) return std::nullopt;
    if (ind == SQL_NULL_DATA) return std::nullopt;
    size_t got = (ind == SQL_NO_TOTAL || ind >= static_cast<SQLLEN>(sizeof buf)) ? sizeof buf - 1
                                                                                 : static_cast<size_t>(ind);
    out.append(buf, got);
    if (rc == SQL_SUCCESS) break;
  }
  return out;
}

// Reads an integer column of the current row; nullopt for NULL.
std::optional<SQLINTEGER> GetInt(SQLHSTMT st, SQLUSMALLINT col) {
  SQLINTEGER v = 0;
  SQLLEN ind = 0;
  if (!SQL_SUCCEEDED(SQLGetData(st, col, SQL_C_SLONG, &v, sizeof v, &ind)) || ind == SQL_NULL_DATA) {
    return std::nullopt;
  }
  return v;
}

// Argument of a catalog function: NULL for "any" when empty.
SQLCHAR* Arg(const std::string& s) {
  return s.empty() ? nullptr : reinterpret_cast<SQLCHAR*>(const_cast<char*>(s.c_str()));
}
SQLSMALLINT ArgLen(const std::string& s) { return s.empty() ? 0 : static_cast<SQLSMALLINT>(s.size()); }

// "(p)" or "(p,s)" at the end of a type name.
bool ParseTypeParams(std::string_view type_name, int* p, int* s) {
  size_t open = type_name.find('(');
  if (open == std::string_view::npos) return false;
  int a = 0, b = 0;
  int n = std::sscanf(std::string(type_name.substr(open)).c_str(), "(%d , %d)", &a, &b);
  if (n < 1) return false;
  *p = a;
  *s = n == 2 ? b : 0;
  return true;
}

// Replaces the KEY_SEQ of `key` with the dialect's own answer (drivers that get it wrong).
Status ReorderKey(Connection& conn, const Dialect& dialect, const std::string& table_name,
                  const Table& t, std::vector<std::pair<int, int>>* key) {
  FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
  std::string sql = dialect.key_order_query();
  SQLLEN ind = static_cast<SQLLEN>(table_name.size());
  FA_RETURN_IF_ERROR(st.Check(SQLBindParameter(st.get(), 1, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_VARCHAR,
                                               table_name.empty() ? 1 : table_name.size(), 0,
                                               const_cast<char*>(table_name.data()), ind, &ind),
                              "binding the table name"));
  FA_RETURN_IF_ERROR(conn.Note(st.Check(
      SQLExecDirect(st.get(), reinterpret_cast<SQLCHAR*>(sql.data()), static_cast<SQLINTEGER>(sql.size())),
      "reading the primary key order of '" + t.name + "'")));
  for (;;) {
    SQLRETURN rc = SQLFetch(st.get());
    if (rc == SQL_NO_DATA) break;
    FA_RETURN_IF_ERROR(st.Check(rc, "reading the primary key order of '" + t.name + "'"));
    int idx = t.Find(GetText(st.get(), 1).value_or(""));
    std::optional<SQLINTEGER> seq = GetInt(st.get(), 2);
    for (auto& [s, i] : *key) {
      if (i == idx && seq) s = *seq;
    }
  }
  return Status::OK();
}

}  // namespace

void MapColumnType(Column* c, SQLINTEGER column_size, SQLSMALLINT decimal_digits,
                   bool decimal_digits_null) {
  std::string base = Lower(c->type_name.substr(0, c->type_name.find('(')));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  int64_t size = column_size > 0 ? column_size : 0;
  int dd = decimal_digits_null ? 0 : decimal_digits;
  bool has_params = c->type_name.find('(') != std::string::npos;

  auto exact_numeric_name = base == "decimal" || base == "numeric" || base == "number" ||
                            base == "dec" || base.rfind("decimal ", 0) == 0 ||
                            base.rfind("numeric ", 0) == 0;
  if (exact_numeric_name || c->sql_type == SQL_DECIMAL || c->sql_type == SQL_NUMERIC) {
    c->type = v1::FIELD_TYPE_DECIMAL;
    int p = 0, s = 0;
    if (ParseTypeParams(c->type_name, &p, &s)) {
      // The declared text is authoritative: some drivers derive COLUMN_SIZE from it wrongly.
      c->precision = p;
      c->scale = s;
    } else if (c->sql_type == SQL_DECIMAL || c->sql_type == SQL_NUMERIC) {
      c->precision = static_cast<int32_t>(size);
      c->scale = dd;
    }
    c->length = 0;
    c->native_type = has_params || c->precision == 0
                         ? c->type_name
                         : c->type_name + "(" + std::to_string(c->precision) + "," +
                               std::to_string(c->scale) + ")";
    c->long_data = false;
    return;
  }
  switch (c->sql_type) {
    case SQL_CHAR:
    case SQL_VARCHAR:
    case SQL_LONGVARCHAR:
    case SQL_WCHAR:
    case SQL_WVARCHAR:
    case SQL_WLONGVARCHAR:
    case SQL_GUID:
      c->type = v1::FIELD_TYPE_STRING;
      c->length = size;
      c->long_data = size <= 0 || size > kMaxBoundTextChars;
      break;
    case SQL_TINYINT:
    case SQL_SMALLINT:
    case SQL_INTEGER:
    case SQL_BIGINT:
      c->type = v1::FIELD_TYPE_INT64;
      c->precision = static_cast<int32_t>(size);
      break;
    case SQL_REAL:
    case SQL_FLOAT:
    case SQL_DOUBLE:
      c->type = v1::FIELD_TYPE_DOUBLE;
      c->precision = static_cast<int32_t>(size);
      break;
    case SQL_BIT:
      c->type = v1::FIELD_TYPE_BOOL;
      break;
    case SQL_TYPE_DATE:
    case SQL_DATE:
      c->type = v1::FIELD_TYPE_DATE;
      break;
    case SQL_TYPE_TIME:
    case SQL_TIME:
      c->type = v1::FIELD_TYPE_TIME;
      c->scale = dd;
      break;
    case SQL_TYPE_TIMESTAMP:
    case SQL_TIMESTAMP:
      c->type = v1::FIELD_TYPE_TIMESTAMP;
      c->scale = dd;
      break;
    case SQL_BINARY:
    case SQL_VARBINARY:
    case SQL_LONGVARBINARY:
      c->type = v1::FIELD_TYPE_BYTES;
      c->length = size;
      c->long_data = size <= 0 || size > kMaxBoundBinaryBytes || c->sql_type == SQL_LONGVARBINARY;
      break;
    default:
      // Types ODBC has no C mapping for here (intervals, XML, JSON, ...): delivered as text.
      c->type = v1::FIELD_TYPE_STRING;
      c->length = size;
      c->long_data = true;
      break;
  }
  if (has_params || c->type_name.empty()) {
    c->native_type = c->type_name;
  } else if ((c->type == v1::FIELD_TYPE_STRING || c->type == v1::FIELD_TYPE_BYTES) && c->length > 0 &&
             c->sql_type != SQL_LONGVARCHAR && c->sql_type != SQL_WLONGVARCHAR &&
             c->sql_type != SQL_LONGVARBINARY) {
    c->native_type = c->type_name + "(" + std::to_string(c->length) + ")";
  } else {
    c->native_type = c->type_name;
  }
}

int Table::Find(std::string_view field) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == field) return static_cast<int>(i);
  }
  return -1;
}

Status Table::UnknownField(std::string_view field, std::string_view where) const {
  return InvalidArgument("unknown field '" + std::string(field) + "' in " + std::string(where) +
                             " of entity '" + name + "'",
                         "UNKNOWN_FIELD", std::string(field));
}

Status Table::CheckWritable(std::string_view op) const {
  if (writable()) return Status::OK();
  std::string what(op);
  switch (kind) {
    case cv1::RAW_ENTITY_KIND_QUERY:
      return FailedPrecondition("'" + name + "' is a configured named query; queries are read-only, so it cannot " +
                                    what,
                                "NOT_WRITABLE");
    case cv1::RAW_ENTITY_KIND_VIEW:
      return FailedPrecondition("'" + name + "' is a view; it cannot " + what +
                                    " (declare it under the source's settings views." + name +
                                    " with a key and writable: true if the database can change rows through it)",
                                "NOT_WRITABLE");
    default:
      return FailedPrecondition("table '" + name +
                                    "' has no primary key, so its records cannot be addressed to " + what,
                                "NOT_WRITABLE");
  }
}

void Table::ToRawEntity(cv1::RawEntity* out) const {
  out->set_name(name);
  out->set_kind(kind);
  out->set_writable(writable());
  for (const Column& c : columns) {
    cv1::RawField* f = out->add_fields();
    f->set_name(c.name);
    f->set_type(c.type);
    f->set_native_type(c.native_type);
    f->set_nullable(c.nullable);
    f->set_length(c.length);
    f->set_precision(c.precision);
    f->set_scale(c.scale);
    f->set_auto_generated(c.auto_generated);
  }
  for (int k : primary_key) out->add_primary_key(columns[k].name);
}

Status Catalog::LoadNamesLocked(Connection& conn) {
  FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
  std::string schema_pattern = schema_.empty() ? std::string() : dialect_->CatalogPattern(schema_);
  static const std::string kTypes = "TABLE,VIEW";
  FA_RETURN_IF_ERROR(conn.Note(st.Check(
      SQLTables(st.get(), nullptr, 0, Arg(schema_pattern), ArgLen(schema_pattern), nullptr, 0,
                Arg(kTypes), ArgLen(kTypes)),
      "listing tables (SQLTables)")));
  // Drivers that map databases to catalogs (MariaDB) list every database's tables; the
  // source is the database it connected to.
  std::string current_catalog;
  {
    char buf[256] = {0};
    SQLSMALLINT len = 0;
    if (SQL_SUCCEEDED(SQLGetInfo(conn.dbc(), SQL_DATABASE_NAME, buf, sizeof buf, &len)) && len > 0) {
      current_catalog.assign(buf, std::min<size_t>(static_cast<size_t>(len), sizeof buf - 1));
    }
  }
  std::vector<TableRef> found;
  for (;;) {
    SQLRETURN rc = SQLFetch(st.get());
    if (rc == SQL_NO_DATA) break;
    FA_RETURN_IF_ERROR(conn.Note(st.Check(rc, "listing tables (SQLTables)")));
    TableRef ref;
    ref.catalog = GetText(st.get(), 1).value_or("");
    ref.schema = GetText(st.get(), 2).value_or("");
    ref.table = GetText(st.get(), 3).value_or("");
    std::string type = Lower(GetText(st.get(), 4).value_or(""));
    ref.kind = type == "view" ? cv1::RAW_ENTITY_KIND_VIEW : cv1::RAW_ENTITY_KIND_TABLE;
    if (ref.table.empty() || ref.table == kIdempotencyTable) continue;
    if (!schema_.empty() && ref.schema != schema_) continue;  // pattern may match more
    if (!current_catalog.empty() && !ref.catalog.empty() && ref.catalog != current_catalog) continue;
    found.push_back(std::move(ref));
  }
  std::map<std::string, int> count;
  for (const TableRef& r : found) ++count[r.table];
  names_.clear();
  for (TableRef& r : found) {
    std::string name = (count[r.table] > 1 && !r.schema.empty()) ? r.schema + "." + r.table : r.table;
    names_.emplace(std::move(name), std::move(r));
  }
  listed_ = true;
  return Status::OK();
}

Result<std::vector<std::string>> Catalog::ListNames(Connection& conn) {
  std::lock_guard lock(mu_);
  if (!listed_) FA_RETURN_IF_ERROR(LoadNamesLocked(conn));
  std::vector<std::string> out;
  out.reserve(names_.size() + query_names_.size());
  for (const auto& [name, ref] : names_) out.push_back(name);
  out.insert(out.end(), query_names_.begin(), query_names_.end());
  std::sort(out.begin(), out.end());
  return out;
}

Status Catalog::LoadConfigured(Connection& conn, const std::vector<QuerySettings>& queries) {
  {
    std::lock_guard lock(mu_);
    FA_RETURN_IF_ERROR(LoadNamesLocked(conn));
  }
  for (const ViewSettings& v : views_) {
    bool known;
    {
      std::lock_guard lock(mu_);
      known = names_.count(v.name) > 0;
    }
    if (!known) {
      return InvalidArgument("setting 'views." + v.name + "': the database has no view '" + v.name + "'",
                             "INVALID_SETTING", "views." + v.name);
    }
    FA_RETURN_IF_ERROR(Get(conn, v.name).status());
  }
  for (const QuerySettings& q : queries) {
    {
      std::lock_guard lock(mu_);
      if (names_.count(q.name)) {
        return InvalidArgument("setting 'queries." + q.name + "': the database has a table or view of that name; "
                               "name the query differently",
                               "INVALID_SETTING", "queries." + q.name);
      }
    }
    FA_ASSIGN_OR_RETURN(std::shared_ptr<Table> t, PrepareNamedQuery(conn, *dialect_, q));
    t->InitMarks();
    std::lock_guard lock(mu_);
    tables_[q.name] = std::move(t);
    query_names_.push_back(q.name);
  }
  return Status::OK();
}

Status Catalog::ApplyViewSettings(Table* t) const {
  for (const ViewSettings& v : views_) {
    if (v.name != t->name) continue;
    std::string path = "views." + v.name;
    if (t->kind != cv1::RAW_ENTITY_KIND_VIEW) {
      return InvalidArgument("setting '" + path + "': '" + v.name +
                                 "' is a table, not a view (its key comes from the database)",
                             "INVALID_SETTING", path);
    }
    t->primary_key.clear();
    for (size_t i = 0; i < v.key.size(); ++i) {
      int idx = t->Find(v.key[i]);
      if (idx < 0) {
        std::string cols;
        for (const Column& c : t->columns) cols += (cols.empty() ? "" : ", ") + c.name;
        return InvalidArgument("setting '" + path + ".key[" + std::to_string(i) + "]': view '" + v.name +
                                   "' has no column '" + v.key[i] + "' (it has: " + cols + ")",
                               "INVALID_SETTING", path + ".key");
      }
      t->primary_key.push_back(idx);
    }
    t->view_writable = v.writable;
  }
  return Status::OK();
}

Result<std::shared_ptr<const Table>> Catalog::Get(Connection& conn, std::string_view name) {
  TableRef ref;
  {
    std::lock_guard lock(mu_);
    if (auto it = tables_.find(name); it != tables_.end()) return it->second;
    if (!listed_ || names_.find(name) == names_.end()) {
      // Not known yet: the table may have been created since the list was read.
      FA_RETURN_IF_ERROR(LoadNamesLocked(conn));
    }
    auto it = names_.find(name);
    if (it == names_.end()) {
      return NotFound("no table or view '" + std::string(name) + "' in the database",
                      "UNKNOWN_ENTITY");
    }
    ref = it->second;
  }
  // Discovery runs without the lock: it talks to the database. Two threads may discover the
  // same table at once; the first result is kept.
  FA_ASSIGN_OR_RETURN(std::shared_ptr<const Table> table, Load(conn, std::string(name), ref));
  std::lock_guard lock(mu_);
  auto [it, inserted] = tables_.emplace(std::string(name), std::move(table));
  return it->second;
}

Result<std::shared_ptr<const Table>> Catalog::Load(Connection& conn, const std::string& name,
                                                  const TableRef& ref) {
  auto t = std::make_shared<Table>();
  t->name = name;
  t->catalog = ref.catalog;
  t->schema = ref.schema;
  t->table = ref.table;
  t->kind = ref.kind;
  if (!ref.schema.empty()) {
    FA_ASSIGN_OR_RETURN(std::string qs, dialect_->Quote(ref.schema));
    t->sql_name = qs + ".";
  }
  FA_ASSIGN_OR_RETURN(std::string qt, dialect_->Quote(ref.table));
  t->sql_name += qt;

  // Columns.
  {
    FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
    std::string schema_pattern = dialect_->CatalogPattern(ref.schema);
    std::string table_pattern = dialect_->CatalogPattern(ref.table);
    FA_RETURN_IF_ERROR(conn.Note(st.Check(
        SQLColumns(st.get(), Arg(ref.catalog), ArgLen(ref.catalog), Arg(schema_pattern),
                   ArgLen(schema_pattern), Arg(table_pattern), ArgLen(table_pattern), nullptr, 0),
        "reading the columns of '" + name + "' (SQLColumns)")));
    // IS_AUTOINCREMENT (ODBC 3.8 drivers and some older ones) is optional: find it by name.
    SQLSMALLINT ncols = 0;
    SQLNumResultCols(st.get(), &ncols);
    SQLUSMALLINT autoinc_col = 0;
    for (SQLSMALLINT i = 19; i <= ncols; ++i) {
      char colname[64] = {0};
      SQLSMALLINT len = 0, dt = 0, dd = 0, nul = 0;
      SQLULEN sz = 0;
      if (SQL_SUCCEEDED(SQLDescribeCol(st.get(), i, reinterpret_cast<SQLCHAR*>(colname),
                                       sizeof colname, &len, &dt, &sz, &dd, &nul)) &&
          Lower(colname) == "is_autoincrement") {
        autoinc_col = static_cast<SQLUSMALLINT>(i);
      }
    }
    for (;;) {
      SQLRETURN rc = SQLFetch(st.get());
      if (rc == SQL_NO_DATA) break;
      FA_RETURN_IF_ERROR(conn.Note(st.Check(rc, "reading the columns of '" + name + "'")));
      if (GetText(st.get(), 3).value_or("") != ref.table) continue;  // pattern matched more
      if (GetText(st.get(), 2).value_or("") != ref.schema) continue;
      Column c;
      c.name = GetText(st.get(), 4).value_or("");
      c.sql_type = static_cast<SQLSMALLINT>(GetInt(st.get(), 5).value_or(SQL_VARCHAR));
      c.type_name = GetText(st.get(), 6).value_or("");
      SQLINTEGER size = GetInt(st.get(), 7).value_or(0);
      std::optional<SQLINTEGER> digits = GetInt(st.get(), 9);
      c.nullable = GetInt(st.get(), 11).value_or(SQL_NULLABLE_UNKNOWN) != SQL_NO_NULLS;
      std::string def = Lower(GetText(st.get(), 13).value_or(""));
      if (def.find("nextval(") != std::string::npos) c.auto_generated = true;  // serial
      if (autoinc_col && Lower(GetText(st.get(), autoinc_col).value_or("")) == "yes") {
        c.auto_generated = true;
      }
      MapColumnType(&c, size, static_cast<SQLSMALLINT>(digits.value_or(0)), !digits.has_value());
      t->columns.push_back(std::move(c));
    }
  }
  if (t->columns.empty()) {
    return NotFound("table or view '" + name + "' has no readable columns", "UNKNOWN_ENTITY");
  }
  for (const Column& c : t->columns) {
    FA_ASSIGN_OR_RETURN(std::string q, dialect_->Quote(c.name));
    t->quoted.push_back(std::move(q));
  }

  // Primary key: from the database for tables; from the settings for views.
  FA_RETURN_IF_ERROR(ApplyViewSettings(t.get()));
  if (t->kind == cv1::RAW_ENTITY_KIND_TABLE) {
    FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
    FA_RETURN_IF_ERROR(conn.Note(st.Check(
        SQLPrimaryKeys(st.get(), Arg(ref.catalog), ArgLen(ref.catalog), Arg(ref.schema),
                       ArgLen(ref.schema), Arg(ref.table), ArgLen(ref.table)),
        "reading the primary key of '" + name + "' (SQLPrimaryKeys)")));
    std::vector<std::pair<int, int>> key;  // (KEY_SEQ, column index)
    for (;;) {
      SQLRETURN rc = SQLFetch(st.get());
      if (rc == SQL_NO_DATA) break;
      FA_RETURN_IF_ERROR(conn.Note(st.Check(rc, "reading the primary key of '" + name + "'")));
      int idx = t->Find(GetText(st.get(), 4).value_or(""));
      if (idx >= 0) key.emplace_back(GetInt(st.get(), 5).value_or(0), idx);
    }
    if (key.size() > 1 && !dialect_->key_order_query().empty()) {
      FA_RETURN_IF_ERROR(ReorderKey(conn, *dialect_, ref.table, *t, &key));
    }
    std::sort(key.begin(), key.end());
    for (const auto& [seq, idx] : key) t->primary_key.push_back(idx);
  }

  // Generated columns the catalog functions do not mark: ask the driver about a result set
  // (SQL_DESC_AUTO_UNIQUE_VALUE), and apply SQLite's rule that a single INTEGER PRIMARY KEY
  // column is the rowid.
  {
    FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
    std::string sql = "SELECT ";
    for (size_t i = 0; i < t->quoted.size(); ++i) sql += (i ? ", " : "") + t->quoted[i];
    sql += " FROM " + t->sql_name + " WHERE 1 = 0";
    SQLRETURN rc = SQLExecDirect(st.get(), reinterpret_cast<SQLCHAR*>(sql.data()),
                                 static_cast<SQLINTEGER>(sql.size()));
    FA_RETURN_IF_ERROR(conn.Note(st.Check(rc, "reading '" + name + "'")));
    for (size_t i = 0; i < t->columns.size(); ++i) {
      SQLLEN autoinc = SQL_FALSE;
      if (SQL_SUCCEEDED(SQLColAttribute(st.get(), static_cast<SQLUSMALLINT>(i + 1),
                                        SQL_DESC_AUTO_UNIQUE_VALUE, nullptr, 0, nullptr, &autoinc)) &&
          autoinc == SQL_TRUE) {
        t->columns[i].auto_generated = true;
      }
    }
  }
  if (dialect_->integer_primary_key_is_rowid() && t->primary_key.size() == 1) {
    Column& c = t->columns[t->primary_key[0]];
    if (Lower(c.type_name) == "integer") c.auto_generated = true;
  }
  t->InitMarks();
  return std::shared_ptr<const Table>(std::move(t));
}

}  // namespace fachadapter::odbc
