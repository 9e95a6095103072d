#include "dialect.h"

#include <algorithm>
#include <cctype>

#include "odbc_handles.h"

namespace fachadapter::odbc {

namespace {

std::string GetInfoString(SQLHDBC dbc, SQLUSMALLINT info) {
  // Long answers (SQL_KEYWORDS runs to kilobytes) are read again with the length reported.
  std::string buf(512, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    SQLSMALLINT len = 0;
    if (!SQL_SUCCEEDED(SQLGetInfo(dbc, info, buf.data(), static_cast<SQLSMALLINT>(buf.size()), &len)) ||
        len < 0) {
      return {};
    }
    if (static_cast<size_t>(len) < buf.size()) {
      buf.resize(static_cast<size_t>(len));
      return buf;
    }
    buf.assign(static_cast<size_t>(len) + 1, '\0');
  }
  return {};
}

bool Contains(std::string_view haystack, std::string_view needle) {
  std::string h(haystack);
  for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h.find(needle) != std::string::npos;
}

// TYPE_NAME of the first row SQLGetTypeInfo returns for `sql_type`, or empty.
std::string TypeName(SQLHDBC dbc, SQLSMALLINT sql_type) {
  StmtHandle st;
  if (!st.Allocate(dbc).ok()) return {};
  if (!SQL_SUCCEEDED(SQLGetTypeInfo(st.get(), sql_type))) return {};
  std::string name;
  if (SQL_SUCCEEDED(SQLFetch(st.get()))) {
    char buf[128] = {0};
    SQLLEN ind = 0;
    if (SQL_SUCCEEDED(SQLGetData(st.get(), 1, SQL_C_CHAR, buf, sizeof buf, &ind)) && ind > 0) {
      name.assign(buf, std::min<size_t>(static_cast<size_t>(ind), sizeof buf - 1));
    }
  }
  SQLCloseCursor(st.get());
  return name;
}

}  // namespace

Dialect& Dialect::operator=(const Dialect& o) {
  if (this == &o) return *this;
  dbms_name_ = o.dbms_name_;
  dbms_version_ = o.dbms_version_;
  driver_name_ = o.driver_name_;
  quote_ = o.quote_;
  search_escape_ = o.search_escape_;
  null_collation_ = o.null_collation_;
  transactions_ = o.transactions_;
  last_insert_id_query_ = o.last_insert_id_query_;
  integer_primary_key_is_rowid_ = o.integer_primary_key_is_rowid_;
  key_order_query_ = o.key_order_query_;
  session_setup_ = o.session_setup_;
  driver_options_ = o.driver_options_;
  streaming_options_ = o.streaming_options_;
  validation_query_ = o.validation_query_;
  varchar_type_ = o.varchar_type_;
  long_text_type_ = o.long_text_type_;
  limit_candidates_ = o.limit_candidates_;
  nulls_clause_.store(o.nulls_clause_.load());
  limit_syntax_.store(o.limit_syntax_.load());
  return *this;
}

Result<Dialect> Dialect::Read(SQLHDBC dbc, int fetch_rows) {
  Dialect d;
  d.dbms_name_ = GetInfoString(dbc, SQL_DBMS_NAME);
  d.dbms_version_ = GetInfoString(dbc, SQL_DBMS_VER);
  d.driver_name_ = GetInfoString(dbc, SQL_DRIVER_NAME);
  std::string q = GetInfoString(dbc, SQL_IDENTIFIER_QUOTE_CHAR);
  d.quote_ = (q == " ") ? std::string() : q;  // " " means: quoting not supported
  d.search_escape_ = GetInfoString(dbc, SQL_SEARCH_PATTERN_ESCAPE);

  SQLUSMALLINT u16 = 0;
  SQLSMALLINT len = 0;
  if (SQL_SUCCEEDED(SQLGetInfo(dbc, SQL_NULL_COLLATION, &u16, sizeof u16, &len))) {
    d.null_collation_ = u16;
  }
  if (SQL_SUCCEEDED(SQLGetInfo(dbc, SQL_TXN_CAPABLE, &u16, sizeof u16, &len))) {
    d.transactions_ = u16 != SQL_TC_NONE;
  }

  // SQL_KEYWORDS lists the DBMS's keywords that ODBC does not reserve itself; LIMIT among
  // them says the DBMS has a LIMIT clause. Otherwise the standard's FETCH FIRST is tried
  // first. The probe (scan_cursor.cc) decides; the list only orders the attempts.
  std::string keywords = GetInfoString(dbc, SQL_KEYWORDS);
  bool limit_keyword = false;
  for (size_t i = 0; i <= keywords.size();) {
    size_t comma = keywords.find(',', i);
    if (comma == std::string::npos) comma = keywords.size();
    std::string word = keywords.substr(i, comma - i);
    word.erase(0, word.find_first_not_of(' '));
    while (!word.empty() && word.back() == ' ') word.pop_back();
    if (Contains(word, "limit") && word.size() == 5) limit_keyword = true;
    i = comma + 1;
  }
  if (limit_keyword) d.limit_candidates_ = {LimitSyntax::kLimit, LimitSyntax::kFetchFirst};

  // ODBC has no standard way to read a generated key, nor to say which session settings make
  // LIKE case-sensitive; these few answers are keyed by product name.
  const std::string& n = d.dbms_name_;
  if (Contains(n, "sqlite")) {
    d.last_insert_id_query_ = "SELECT last_insert_rowid()";
    d.integer_primary_key_is_rowid_ = true;
    // The SQLite ODBC driver numbers KEY_SEQ in column order, not key order.
    d.key_order_query_ = "SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0";
    d.session_setup_.push_back("PRAGMA case_sensitive_like = ON");
  } else if (Contains(n, "postgres")) {
    d.last_insert_id_query_ = "SELECT lastval()";
  } else if (Contains(n, "mysql") || Contains(n, "mariadb")) {
    d.last_insert_id_query_ = "SELECT LAST_INSERT_ID()";
    // MariaDB Connector/ODBC 3.1 numbers KEY_SEQ in column order, not key order.
    d.key_order_query_ =
        "SELECT COLUMN_NAME, SEQ_IN_INDEX FROM information_schema.STATISTICS WHERE "
        "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY'";
  } else if (Contains(n, "sql server")) {
    d.last_insert_id_query_ = "SELECT @@IDENTITY";
  }

  if (Contains(n, "sqlite") || Contains(n, "postgres") || Contains(n, "mysql") || Contains(n, "mariadb") ||
      Contains(n, "sql server")) {
    d.validation_query_ = "SELECT 1";
  }

  // Driver options by driver (not DBMS): what the driver library does with results.
  const std::string& drv = d.driver_name_;
  if (Contains(drv, "psqlodbc")) {
    // psqlODBC reads a whole result into memory unless it fetches through a server-side
    // cursor (UseDeclareFetch) in blocks of Fetch rows; and it reports BOOLEAN as text
    // unless BoolsAsChar=0. The cursor mode applies to every SELECT of the connection (no
    // per-statement switch), so it is a streaming option only.
    d.streaming_options_ = {{"UseDeclareFetch", "1", "0"}, {"Fetch", std::to_string(fetch_rows), ""}};
    d.driver_options_ = {{"BoolsAsChar", "0"}};
  }
  // MariaDB Connector/ODBC 3.1.15 (Debian 12) stores whole results; neither its NO_CACHE
  // option flag (OPTIONS=1048576), FORWARDONLY=1 nor SQLPrepare made it stream in our tests,
  // so no options are added for it yet.

  std::string varchar = TypeName(dbc, SQL_VARCHAR);
  if (!varchar.empty()) d.varchar_type_ = varchar;
  d.long_text_type_ = TypeName(dbc, SQL_LONGVARCHAR);
  return d;
}

Result<std::string> Dialect::Quote(std::string_view id) const {
  if (quote_.empty()) {
    bool plain = !id.empty() && (std::isalpha(static_cast<unsigned char>(id[0])) || id[0] == '_');
    for (char c : id) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!plain) {
      return InvalidArgument("identifier '" + std::string(id) +
                                 "' needs quoting, but the ODBC driver supports none",
                             "UNSUPPORTED_IDENTIFIER");
    }
    return std::string(id);
  }
  std::string out = quote_;
  size_t i = 0;
  while (i < id.size()) {
    if (id.compare(i, quote_.size(), quote_) == 0) {
      out += quote_;
      out += quote_;
      i += quote_.size();
    } else {
      out += id[i++];
    }
  }
  out += quote_;
  return out;
}

void Dialect::AppendLimit(LimitSyntax syntax, int64_t rows, std::string* sql) {
  switch (syntax) {
    case LimitSyntax::kLimit:
      *sql += " LIMIT " + std::to_string(rows);
      break;
    case LimitSyntax::kFetchFirst:
      *sql += " FETCH FIRST " + std::to_string(rows) + " ROWS ONLY";
      break;
    case LimitSyntax::kNone:
      break;
  }
}

std::string Dialect::WithDriverOptions(const std::string& connection_string, bool streaming) const {
  // The "key=value" pairs as written (braced values may hold ';'), with their lower-case keys.
  struct Pair {
    std::string key;
    std::string text;
  };
  std::vector<Pair> pairs;
  size_t i = 0;
  while (i < connection_string.size()) {
    size_t eq = connection_string.find('=', i);
    if (eq == std::string::npos) {
      pairs.push_back({"", connection_string.substr(i)});  // no '=': kept as it is
      break;
    }
    std::string key = connection_string.substr(i, eq - i);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    key.erase(0, key.find_first_not_of(' '));
    while (!key.empty() && key.back() == ' ') key.pop_back();
    size_t j = eq + 1;
    if (j < connection_string.size() && connection_string[j] == '{') {
      size_t close = connection_string.find('}', j);
      j = close == std::string::npos ? connection_string.size() : close + 1;
    }
    size_t semi = connection_string.find(';', j);
    size_t stop = semi == std::string::npos ? connection_string.size() : semi;
    pairs.push_back({key, connection_string.substr(i, stop - i)});
    i = semi == std::string::npos ? connection_string.size() : semi + 1;
  }
  auto lower = [](std::string k) {
    for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return k;
  };
  auto has = [&](const std::string& key) {
    std::string k = lower(key);
    return std::any_of(pairs.begin(), pairs.end(), [&](const Pair& p) { return p.key == k; });
  };
  // Short connections turn streaming off whoever asked for it (the operator's string or a DSN
  // in odbc.ini): their statements never need it and pay for it on every statement.
  if (!streaming) {
    for (const StreamingOption& o : streaming_options_) {
      if (o.short_value.empty()) continue;
      std::string k = lower(o.key);
      bool set = false;
      for (Pair& p : pairs) {
        if (p.key != k) continue;
        if (!set) p.text = o.key + "=" + o.short_value;  // in place, once
        else p.text.clear();
        set = true;
      }
      if (!set) pairs.push_back({k, o.key + "=" + o.short_value});
    }
  }
  std::string out;
  for (const Pair& p : pairs) {
    if (p.text.empty()) continue;
    out += p.text;
    out += ';';
  }
  auto append = [&](const std::string& key, const std::string& value) {
    if (has(key)) return;
    out += key + "=" + value + ";";
  };
  if (streaming) {
    for (const StreamingOption& o : streaming_options_) append(o.key, o.streaming_value);
  }
  for (const auto& [key, value] : driver_options_) append(key, value);
  return out;
}

std::string Dialect::CatalogPattern(std::string_view name) const {
  if (search_escape_.empty()) return std::string(name);
  std::string out;
  for (char c : name) {
    if (c == '%' || c == '_' || search_escape_.find(c) != std::string::npos) out += search_escape_;
    out += c;
  }
  return out;
}

}  // namespace fachadapter::odbc
