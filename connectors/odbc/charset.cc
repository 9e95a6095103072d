#include "charset.h"

#include <iconv.h>

#include <cctype>
#include <cstdio>

#include "parameters.h"

namespace fachadapter::odbc {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return Lower(haystack).find(needle) != std::string::npos;
}

bool IsPostgres(const Dialect& d) { return Contains(d.dbms_name(), "postgres"); }
bool IsMySql(const Dialect& d) {
  return Contains(d.dbms_name(), "mysql") || Contains(d.dbms_name(), "mariadb");
}

enum class Kind {
  kUnicode,     // holds everything (or the DBMS does no conversion): no check
  kBmp,         // MySQL utf8mb3/ucs2: every code point up to U+FFFF
  kSingleByte,  // enumerated through iconv
};

struct Known {
  Kind kind;
  const char* iconv_name;  // for kSingleByte
};

// PostgreSQL server encodings (pg_encoding_to_char names). Multi-byte legacy encodings
// (EUC_*, MULE_INTERNAL) are left to the server's own conversion check.
Known PostgresCharset(std::string_view name) {
  static const std::map<std::string, const char*, std::less<>> kSingle = {
      {"latin1", "ISO-8859-1"},  {"latin2", "ISO-8859-2"},   {"latin3", "ISO-8859-3"},
      {"latin4", "ISO-8859-4"},  {"latin5", "ISO-8859-9"},   {"latin6", "ISO-8859-10"},
      {"latin7", "ISO-8859-13"}, {"latin8", "ISO-8859-14"},  {"latin9", "ISO-8859-15"},
      {"latin10", "ISO-8859-16"}, {"iso_8859_5", "ISO-8859-5"}, {"iso_8859_6", "ISO-8859-6"},
      {"iso_8859_7", "ISO-8859-7"}, {"iso_8859_8", "ISO-8859-8"}, {"win866", "CP866"},
      {"win874", "CP874"},       {"win1250", "CP1250"},      {"win1251", "CP1251"},
      {"win1252", "CP1252"},     {"win1253", "CP1253"},      {"win1254", "CP1254"},
      {"win1255", "CP1255"},     {"win1256", "CP1256"},      {"win1257", "CP1257"},
      {"win1258", "CP1258"},     {"koi8r", "KOI8-R"},        {"koi8u", "KOI8-U"},
  };
  auto it = kSingle.find(Lower(name));
  if (it != kSingle.end()) return {Kind::kSingleByte, it->second};
  return {Kind::kUnicode, nullptr};
}

// MySQL/MariaDB column character sets (information_schema.COLUMNS.CHARACTER_SET_NAME).
// "latin1" there is Windows-1252 with its five unassigned bytes mapped to the C1 controls;
// "utf8" is utf8mb3, which holds no character above U+FFFF (no emoji).
Known MySqlCharset(std::string_view name) {
  static const std::map<std::string, const char*, std::less<>> kSingle = {
      {"latin1", "CP1252"},      {"latin2", "ISO-8859-2"},  {"latin5", "ISO-8859-9"},
      {"latin7", "ISO-8859-13"}, {"greek", "ISO-8859-7"},   {"hebrew", "ISO-8859-8"},
      {"cp1250", "CP1250"},      {"cp1251", "CP1251"},      {"cp1256", "CP1256"},
      {"cp1257", "CP1257"},      {"cp850", "CP850"},        {"cp852", "CP852"},
      {"cp866", "CP866"},        {"koi8r", "KOI8-R"},       {"koi8u", "KOI8-U"},
      {"ascii", "ANSI_X3.4-1968"}, {"macroman", "MACINTOSH"}, {"armscii8", "ARMSCII-8"},
      {"tis620", "TIS-620"},     {"geostd8", "GEORGIAN-PS"},
  };
  std::string n = Lower(name);
  if (n == "utf8" || n == "utf8mb3" || n == "ucs2") return {Kind::kBmp, nullptr};
  auto it = kSingle.find(n);
  if (it != kSingle.end()) return {Kind::kSingleByte, it->second};
  return {Kind::kUnicode, nullptr};
}

// Appends `cp` as UTF-8.
void AppendUtf8(char32_t cp, std::string* out) {
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

// Decodes one UTF-8 sequence at `s[*i]`, advancing `*i`; false if malformed (overlong,
// surrogate, past U+10FFFF, truncated).
bool NextCodePoint(std::string_view s, size_t* i, char32_t* cp) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  int extra;
  char32_t v;
  if (c < 0x80) {
    *cp = c;
    ++*i;
    return true;
  } else if (c >= 0xC2 && c <= 0xDF) {
    extra = 1;
    v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    extra = 2;
    v = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    extra = 3;
    v = c & 0x07;
  } else {
    return false;
  }
  if (*i + static_cast<size_t>(extra) >= s.size()) return false;  // truncated
  for (int k = 1; k <= extra; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc & 0xC0) != 0x80) return false;
    v = (v << 6) | (cc & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (v < kMin[extra] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
  *i += static_cast<size_t>(extra) + 1;
  *cp = v;
  return true;
}

}  // namespace

std::unique_ptr<LegacyCharset> LegacyCharset::For(std::string_view dbms, std::string_view name) {
  bool postgres = Contains(dbms, "postgres");
  bool mysql = Contains(dbms, "mysql") || Contains(dbms, "mariadb");
  if (!postgres && !mysql) return nullptr;
  Known k = postgres ? PostgresCharset(name) : MySqlCharset(name);
  if (k.kind == Kind::kUnicode) return nullptr;
  auto set = std::make_unique<LegacyCharset>();
  set->name_ = std::string(name);
  if (k.kind == Kind::kBmp) {
    set->bmp_.set();
    for (char32_t s = 0xD800; s <= 0xDFFF; ++s) set->bmp_.reset(s);
    return set;
  }
  // Enumerate the set: decode each of the 256 bytes on its own (single-byte sets only).
  iconv_t cd = iconv_open("UTF-32LE", k.iconv_name);
  if (cd == reinterpret_cast<iconv_t>(-1)) return nullptr;  // not in this libc: server checks
  for (int b = 0; b < 256; ++b) {
    char in = static_cast<char>(b);
    unsigned char out[8] = {0};
    char* inp = &in;
    size_t inleft = 1;
    char* outp = reinterpret_cast<char*>(out);
    size_t outleft = sizeof out;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset the state
    if (iconv(cd, &inp, &inleft, &outp, &outleft) == static_cast<size_t>(-1) || outleft != 4) continue;
    char32_t cp = static_cast<char32_t>(out[0]) | static_cast<char32_t>(out[1]) << 8 |
                  static_cast<char32_t>(out[2]) << 16 | static_cast<char32_t>(out[3]) << 24;
    if (cp < 0x10000) set->bmp_.set(cp);
  }
  iconv_close(cd);
  if (mysql && Lower(name) == "latin1") {
    for (char32_t c1 : {0x81, 0x8D, 0x8F, 0x90, 0x9D}) set->bmp_.set(c1);
  }
  return set;
}

Status LegacyCharset::Check(std::string_view utf8, std::string_view field) const {
  size_t i = 0;
  size_t position = 0;  // in characters, from 1
  while (i < utf8.size()) {
    // Fast path over ASCII, which every set here holds.
    if (static_cast<unsigned char>(utf8[i]) < 0x80 && bmp_[static_cast<unsigned char>(utf8[i])]) {
      ++i;
      ++position;
      continue;
    }
    char32_t cp = 0;
    if (!NextCodePoint(utf8, &i, &cp)) {
      return InvalidArgument("field '" + std::string(field) + "': the value is not valid UTF-8 (byte " +
                                 std::to_string(i + 1) + ")",
                             "INVALID_VALUE", std::string(field));
    }
    ++position;
    if (Holds(cp)) continue;
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(cp));
    std::string shown;
    if (cp >= 0xA0) {
      shown = "'";
      AppendUtf8(cp, &shown);
      shown += "' ";
    }
    return InvalidArgument("field '" + std::string(field) + "': the character " + shown + "(" + code +
                               ", character " + std::to_string(position) +
                               " of the value) cannot be stored in the legacy character set " + name_ +
                               " of this field; nothing was written",
                           "UNREPRESENTABLE_CHARACTER", std::string(field));
  }
  return Status::OK();
}

const LegacyCharset* ColumnCharsets::Intern(const Dialect& dialect, const std::string& name) const {
  auto it = sets_.find(name);
  if (it == sets_.end()) it = sets_.emplace(name, LegacyCharset::For(dialect.dbms_name(), name)).first;
  return it->second.get();
}

Result<const LegacyCharset*> ColumnCharsets::DatabaseCharset(Connection& conn, const Dialect& dialect) const {
  if (database_known_) return database_;
  FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
  std::string sql = "SELECT current_setting('server_encoding')";
  const std::string what = "reading the database's character set";
  FA_RETURN_IF_ERROR(conn.Note(
      st.Check(SQLExecDirect(st.get(), reinterpret_cast<SQLCHAR*>(sql.data()), SQL_NTS), what)));
  std::string name;
  SQLRETURN rc = SQLFetch(st.get());
  if (rc != SQL_NO_DATA) {
    FA_RETURN_IF_ERROR(conn.Note(st.Check(rc, what)));
    char buf[64] = {0};
    SQLLEN ind = 0;
    FA_RETURN_IF_ERROR(st.Check(SQLGetData(st.get(), 1, SQL_C_CHAR, buf, sizeof buf, &ind), what));
    if (ind > 0) name.assign(buf, std::min<size_t>(static_cast<size_t>(ind), sizeof buf - 1));
  }
  database_ = name.empty() ? nullptr : Intern(dialect, name);
  database_known_ = true;
  return database_;
}

Result<std::shared_ptr<const std::vector<const LegacyCharset*>>> ColumnCharsets::Get(
    Connection& conn, const Dialect& dialect, const Table& table) const {
  std::lock_guard lock(mu_);
  auto it = tables_.find(table.name);
  if (it != tables_.end()) return it->second;
  auto sets = std::make_shared<std::vector<const LegacyCharset*>>(table.columns.size(), nullptr);
  if (IsPostgres(dialect)) {
    // One encoding for the whole database; every text column stores in it.
    FA_ASSIGN_OR_RETURN(const LegacyCharset* db, DatabaseCharset(conn, dialect));
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (table.columns[i].type == v1::FIELD_TYPE_STRING) (*sets)[i] = db;
    }
  } else if (IsMySql(dialect)) {
    // A character set per column. The driver reports the database as TABLE_CAT.
    FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
    std::string sql =
        "SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
        "COALESCE(NULLIF(?, ''), DATABASE()) AND TABLE_NAME = ? AND CHARACTER_SET_NAME IS NOT NULL";
    const std::string what = "reading the character sets of '" + table.name + "'";
    ParamSet params;
    params.AddText(table.catalog.empty() ? table.schema : table.catalog);
    params.AddText(table.table);
    FA_RETURN_IF_ERROR(params.Bind(st.get()));
    FA_RETURN_IF_ERROR(conn.Note(
        st.Check(SQLExecDirect(st.get(), reinterpret_cast<SQLCHAR*>(sql.data()), SQL_NTS), what)));
    for (;;) {
      SQLRETURN rc = SQLFetch(st.get());
      if (rc == SQL_NO_DATA) break;
      FA_RETURN_IF_ERROR(conn.Note(st.Check(rc, what)));
      char column[256] = {0}, charset[64] = {0};
      SQLLEN ci = 0, si = 0;
      FA_RETURN_IF_ERROR(st.Check(SQLGetData(st.get(), 1, SQL_C_CHAR, column, sizeof column, &ci), what));
      FA_RETURN_IF_ERROR(st.Check(SQLGetData(st.get(), 2, SQL_C_CHAR, charset, sizeof charset, &si), what));
      if (ci <= 0 || si <= 0) continue;
      int idx = table.Find(std::string_view(column, std::min<size_t>(static_cast<size_t>(ci), sizeof column - 1)));
      if (idx < 0 || table.columns[idx].type != v1::FIELD_TYPE_STRING) continue;
      (*sets)[idx] = Intern(dialect, std::string(charset, std::min<size_t>(static_cast<size_t>(si), sizeof charset - 1)));
    }
  }
  tables_.emplace(table.name, sets);
  return std::shared_ptr<const std::vector<const LegacyCharset*>>(std::move(sets));
}

}  // namespace fachadapter::odbc
