// Legacy character sets of text columns, and the check that a value can be stored in one.
//
// The drivers deliver text as UTF-8 (psqlODBC's Unicode driver sets client_encoding UTF8 and
// the server converts; MariaDB Connector/ODBC uses a utf8mb4 connection), so reading a LATIN1
// database needs nothing from the connector. Writing does: a character the column's character
// set cannot hold is rejected by PostgreSQL (22P05) and by MariaDB in strict mode (1366), but
// MariaDB without STRICT_TRANS_TABLES (common in old installations) stores '?' instead and
// reports success. So the connector learns each text column's character set once and checks
// every written value against it before anything reaches the database: INVALID_ARGUMENT with
// reason UNREPRESENTABLE_CHARACTER naming the field and the character, whatever the driver or
// the server mode. The DBMS-specific questions (which character set a column has) are keyed
// by SQL_DBMS_NAME here, in one place.
#ifndef FACHADAPTER_CONNECTORS_ODBC_CHARSET_H_
#define FACHADAPTER_CONNECTORS_ODBC_CHARSET_H_

#include <bitset>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "catalog.h"
#include "connection_pool.h"
#include "dialect.h"
#include "fachadapter/status.h"

namespace fachadapter::odbc {

/// A character set narrower than Unicode, as the set of code points it can hold.
class LegacyCharset {
 public:
  /// The character set `name` as `dbms` (SQL_DBMS_NAME) calls it, e.g. "LATIN1" (PostgreSQL
  /// server encoding) or "latin1" (MariaDB column character set, really Windows-1252).
  /// nullptr for Unicode, for PostgreSQL's SQL_ASCII (no conversion at all), and for sets
  /// this code cannot enumerate (multi-byte legacy sets: the server's own check applies).
  static std::unique_ptr<LegacyCharset> For(std::string_view dbms, std::string_view name);

  /// The name as the DBMS reports it.
  const std::string& name() const { return name_; }
  /// True if the set holds code point `cp`.
  bool Holds(char32_t cp) const { return cp < 0x10000 ? bmp_[cp] : astral_; }

  /// OK if every character of `utf8` can be stored; otherwise INVALID_ARGUMENT with reason
  /// UNREPRESENTABLE_CHARACTER (or INVALID_VALUE for text that is not UTF-8) naming `field`
  /// and the first character that cannot, with its code point and position.
  Status Check(std::string_view utf8, std::string_view field) const;

 private:
  std::string name_;
  std::bitset<0x10000> bmp_;
  bool astral_ = false;  // every code point above U+FFFF (utf8mb4, never a legacy set)
};

/// The legacy character set of every column of the tables of one source, learned on first
/// use and cached (like the catalog, never refreshed). Thread-safe.
class ColumnCharsets {
 public:
  /// Per column of `table` (parallel to `table.columns`): its legacy character set, or
  /// nullptr where any Unicode text can be stored (or nothing is known). An error only if
  /// the DBMS does not answer; a DBMS this code does not know gives all nullptr.
  Result<std::shared_ptr<const std::vector<const LegacyCharset*>>> Get(Connection& conn,
                                                                       const Dialect& dialect,
                                                                       const Table& table) const;

 private:
  // The database-wide character set (PostgreSQL), read once.
  Result<const LegacyCharset*> DatabaseCharset(Connection& conn, const Dialect& dialect) const;
  const LegacyCharset* Intern(const Dialect& dialect, const std::string& name) const;

  mutable std::mutex mu_;
  mutable bool database_known_ = false;
  mutable const LegacyCharset* database_ = nullptr;
  mutable std::map<std::string, std::unique_ptr<LegacyCharset>, std::less<>> sets_;  // by name
  mutable std::map<std::string, std::shared_ptr<const std::vector<const LegacyCharset*>>, std::less<>>
      tables_;  // by Table::name
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_CHARSET_H_
