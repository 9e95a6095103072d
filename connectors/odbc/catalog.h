// Discovery of tables, views, columns and primary keys through the ODBC catalog functions
// (SQLTables, SQLColumns, SQLPrimaryKeys), the mapping of SQL types to Fachadapter field types,
// and the cache of what was found, with the entities the operator configured (views with
// keys, named queries: named_query.h).
//
// The catalog is the only source of identifiers that reach SQL text: every table and column
// name in a statement is looked up here first, so a name in a request can never inject SQL.
// The one piece of SQL text from elsewhere is a named query's, written by the operator.
#ifndef FACHADAPTER_CONNECTORS_ODBC_CATALOG_H_
#define FACHADAPTER_CONNECTORS_ODBC_CATALOG_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "connection_pool.h"
#include "dialect.h"
#include "fachadapter/connector/v1/connector.pb.h"
#include "fachadapter/status.h"
#include "odbc_settings.h"

namespace fachadapter::odbc {

/// Name of the table the connector owns for idempotency records; never offered as an entity.
inline constexpr std::string_view kIdempotencyTable = "fachadapter_idempotency";

/// Longest text column (in characters) read through bound buffers; longer or unknown-size
/// columns are read with SQLGetData.
inline constexpr int64_t kMaxBoundTextChars = 4000;
/// Longest binary column (in bytes) read through bound buffers.
inline constexpr int64_t kMaxBoundBinaryBytes = 8000;

/// One column as discovered.
struct Column {
  std::string name;              ///< Raw name.
  SQLSMALLINT sql_type = 0;      ///< ODBC DATA_TYPE.
  std::string type_name;         ///< DBMS TYPE_NAME, e.g. "DECIMAL(20,2)" or "varchar".
  std::string native_type;       ///< TYPE_NAME with length/precision, for RawField.
  v1::FieldType type = v1::FIELD_TYPE_STRING;  ///< Type values are delivered in.
  int64_t length = 0;            ///< Characters/bytes; 0 unknown.
  int32_t precision = 0;         ///< Numeric precision; 0 if not numeric.
  int32_t scale = 0;             ///< Numeric scale / fractional second digits.
  bool nullable = true;          ///< May be NULL.
  bool auto_generated = false;   ///< Filled by the DBMS (identity, rowid alias, serial).
  bool long_data = false;        ///< Read with SQLGetData instead of a bound buffer.
  /// For a named query's parameter that is not a result column: index into
  /// Table::parameters. Such a field is not in the SQL; every row carries the parameter's
  /// value. -1 for every real column.
  int parameter = -1;
};

/// A typed parameter of a named query, bound with SQLBindParameter for each ':name'.
struct QueryParam {
  std::string name;  ///< Also the name of the field a client constrains with '='.
  Column column;     ///< Type for binding and checking values (name = parameter name).
  int field = -1;    ///< Index of the field in Table::columns (a result column or a virtual one).
};

/// Fills type, native_type, length, precision, scale and long_data of `c` from its ODBC
/// DATA_TYPE, TYPE_NAME, COLUMN_SIZE and DECIMAL_DIGITS. A TYPE_NAME that names an exact
/// numeric (DECIMAL, NUMERIC, NUMBER) makes the column DECIMAL even if the driver reports a
/// floating or character DATA_TYPE for it (the SQLite driver does): it is read as text and
/// never through a double.
void MapColumnType(Column* c, SQLINTEGER column_size, SQLSMALLINT decimal_digits,
                   bool decimal_digits_null);

/// One table or view as discovered, or a configured named query. Immutable once cached,
/// except for the per-column "declared length not enforced" marks that scans set when a value
/// overflows its bound buffer (SQLite does not enforce VARCHAR(n)).
class Table {
 public:
  std::string name;                 ///< Raw entity name (table name, or "schema.table").
  std::string catalog;              ///< TABLE_CAT; may be empty.
  std::string schema;               ///< TABLE_SCHEM; may be empty.
  std::string table;                ///< TABLE_NAME.
  std::string sql_name;             ///< FROM text: quoted, qualified name; "(<sql>) q" for a query.
  connector::v1::RawEntityKind kind = connector::v1::RAW_ENTITY_KIND_TABLE;  ///< Table, view or query.
  std::vector<Column> columns;      ///< In ordinal order.
  std::vector<std::string> quoted;  ///< Quoted column names, parallel to `columns`.
  std::vector<int> primary_key;     ///< Column indexes in key order.
  /// Named query only: its parameters, and the parameter index of each '?' of `sql_name`
  /// in text order.
  std::vector<QueryParam> parameters;
  std::vector<int> placeholders;
  /// View only: the operator declared it writable (settings views.<name>.writable).
  bool view_writable = false;

  /// Index of the column named `field`, or -1.
  int Find(std::string_view field) const;
  /// INVALID_ARGUMENT/UNKNOWN_FIELD naming `field` and the entity.
  Status UnknownField(std::string_view field, std::string_view where) const;
  /// True if rows can be inserted, updated and deleted: a table with a primary key, or a
  /// view the operator declared writable with a key.
  bool writable() const {
    return !primary_key.empty() && (kind == connector::v1::RAW_ENTITY_KIND_TABLE ||
                                     (kind == connector::v1::RAW_ENTITY_KIND_VIEW && view_writable));
  }
  /// OK if writable(), else FAILED_PRECONDITION/NOT_WRITABLE saying why `op` ("insert into",
  /// "update", ...) is not possible.
  Status CheckWritable(std::string_view op) const;
  /// The RawEntity message for Describe.
  void ToRawEntity(connector::v1::RawEntity* out) const;

  /// True once a value of column `i` did not fit its declared length: read it with SQLGetData.
  bool read_unbounded(size_t i) const { return unbounded_[i].load(std::memory_order_relaxed); }
  /// Marks column `i` as not length-enforced.
  void mark_unbounded(size_t i) const { unbounded_[i].store(true, std::memory_order_relaxed); }
  /// Sizes the marks; call once after filling `columns`.
  void InitMarks() { unbounded_ = std::make_unique<std::atomic<bool>[]>(columns.size()); }

 private:
  std::unique_ptr<std::atomic<bool>[]> unbounded_;
};

/// The catalog cache of one source. Thread-safe.
class Catalog {
 public:
  /// `dialect` must outlive the catalog. `schema` limits discovery to one schema (may be
  /// empty). `views` declares keys (and writability) of views.
  Catalog(const Dialect* dialect, std::string schema, std::vector<ViewSettings> views = {})
      : dialect_(dialect), schema_(std::move(schema)), views_(std::move(views)) {}

  /// Checks the configured entities against the database, so that a mistake stops the
  /// source at Open: every configured view exists, is a view and has the key columns; every
  /// named query prepares (its result columns are read with SQLDescribeCol) and is named
  /// unlike any table or view. Errors name the setting and carry the driver's message.
  Status LoadConfigured(Connection& conn, const std::vector<QuerySettings>& queries);

  /// Raw names of all tables, views and named queries, sorted. Reads the list once, then
  /// serves the cache.
  Result<std::vector<std::string>> ListNames(Connection& conn);
  /// The table, view or named query `name`, discovered on first use: NOT_FOUND/UNKNOWN_ENTITY
  /// if there is none.
  Result<std::shared_ptr<const Table>> Get(Connection& conn, std::string_view name);

 private:
  struct TableRef {
    std::string catalog, schema, table;
    connector::v1::RawEntityKind kind;
  };
  Status LoadNamesLocked(Connection& conn);
  Result<std::shared_ptr<const Table>> Load(Connection& conn, const std::string& name,
                                           const TableRef& ref);

  // Applies views_ to a discovered view (key, writability).
  Status ApplyViewSettings(Table* t) const;

  const Dialect* dialect_;
  std::string schema_;
  std::vector<ViewSettings> views_;
  std::mutex mu_;
  std::vector<std::string> query_names_;  // named queries; their Table lives in tables_
  bool listed_ = false;
  std::map<std::string, TableRef, std::less<>> names_;
  std::map<std::string, std::shared_ptr<const Table>, std::less<>> tables_;
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_CATALOG_H_
