#include "writes.h"

#include <optional>
#include <vector>

#include "charset.h"
#include "fachadapter/values.h"
#include "parameters.h"
#include "row_reader.h"
#include "sql_builder.h"
#include "value_codec.h"

namespace fachadapter::odbc {

namespace cv1 = ::fachadapter::connector::v1;
using google::protobuf::RepeatedPtrField;

namespace {

// A row as stored: all columns in table order, with its etag.
struct StoredRow {
  v1::Record record;
};

Status Exec(Connection& conn, SQLHSTMT st, std::string& sql, std::string_view what,
            SQLLEN* affected = nullptr) {
  SQLRETURN rc = SQLExecDirect(st, reinterpret_cast<SQLCHAR*>(sql.data()), static_cast<SQLINTEGER>(sql.size()));
  if (rc == SQL_NO_DATA) {  // a searched UPDATE/DELETE that matched nothing
    if (affected) *affected = 0;
    return Status::OK();
  }
  FA_RETURN_IF_ERROR(conn.Note(Check(rc, SQL_HANDLE_STMT, st, what)));
  if (affected) {
    *affected = 0;
    FA_RETURN_IF_ERROR(Check(SQLRowCount(st, affected), SQL_HANDLE_STMT, st, what));
  }
  return Status::OK();
}

// Reads the row with the given key (all columns) inside the connection's transaction.
Result<std::optional<StoredRow>> ReadRow(Connection& conn, const Table& table,
                                         const RepeatedPtrField<cv1::FieldValue>& key) {
  RepeatedPtrField<std::string> all;  // empty: every column
  FA_ASSIGN_OR_RETURN(Projection p, MakeProjection(table, all, true));
  std::string sql = SelectClause(table, p) + " WHERE ";
  ParamSet params;
  FA_RETURN_IF_ERROR(AppendKeyPredicate(table, key, &sql, &params));
  FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
  FA_RETURN_IF_ERROR(params.Bind(st.get()));
  FA_RETURN_IF_ERROR(Exec(conn, st.get(), sql, "reading the record of '" + table.name + "'"));
  RowReader reader(table, p.select, 1);
  FA_RETURN_IF_ERROR(reader.Bind(st.get()));
  FA_ASSIGN_OR_RETURN(size_t n, reader.Fetch(st.get()));
  if (n == 0) return std::optional<StoredRow>();
  StoredRow row;
  std::vector<v1::Value> by_select(p.select.size());
  for (size_t s = 0; s < p.select.size(); ++s) {
    FA_RETURN_IF_ERROR(reader.Decode(st.get(), 0, s, &by_select[s]));
  }
  RowHasher h;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    const v1::Value& v = by_select[p.by_column[c]];
    h.Add(v);
    *row.record.add_values() = v;
  }
  row.record.set_etag(h.Hex());
  return std::optional<StoredRow>(std::move(row));
}

// The key of a stored row as FieldValues.
RepeatedPtrField<cv1::FieldValue> KeyOf(const Table& table, const v1::Record& record) {
  RepeatedPtrField<cv1::FieldValue> key;
  for (int idx : table.primary_key) {
    cv1::FieldValue* fv = key.Add();
    fv->set_field(table.columns[idx].name);
    *fv->mutable_value() = record.values(idx);
  }
  return key;
}

Status CheckWritable(const Table& table, std::string_view op) { return table.CheckWritable(op); }

// Resolves write values to column indexes: UNKNOWN_FIELD, repeated fields, NULL into a
// NOT NULL column are INVALID_ARGUMENT naming the field.
Result<std::vector<int>> ResolveValues(const Table& table, const RepeatedPtrField<cv1::FieldValue>& values) {
  std::vector<int> cols;
  std::vector<bool> seen(table.columns.size(), false);
  for (const cv1::FieldValue& fv : values) {
    int idx = table.Find(fv.field());
    if (idx < 0) return table.UnknownField(fv.field(), "the values");
    if (seen[idx]) {
      return InvalidArgument("field '" + fv.field() + "' is given twice", "DUPLICATE_FIELD", fv.field());
    }
    seen[idx] = true;
    if (IsNull(fv.value()) && !table.columns[idx].nullable) {
      return InvalidArgument("field '" + fv.field() + "' must not be NULL", "NULL_NOT_ALLOWED",
                             fv.field());
    }
    cols.push_back(idx);
  }
  return cols;
}

// Every text value written must fit the legacy character set of its column (charset.h):
// checked before anything reaches the database, because some servers store '?' instead.
Status CheckCharsets(const OdbcSource& source, Connection& conn, const Table& table,
                     const std::vector<int>& cols, const RepeatedPtrField<cv1::FieldValue>& values) {
  FA_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<const LegacyCharset*>> sets,
                      source.charsets.Get(conn, source.dialect, table));
  for (size_t i = 0; i < cols.size(); ++i) {
    const LegacyCharset* set = (*sets)[static_cast<size_t>(cols[i])];
    const v1::Value& v = values.Get(static_cast<int>(i)).value();
    if (set != nullptr && v.kind_case() == v1::Value::kStringValue) {
      FA_RETURN_IF_ERROR(set->Check(v.string_value(), table.columns[cols[i]].name));
    }
  }
  return Status::OK();
}

// Field of a table-level error: the key field(s) of a duplicate, for the client.
Status WithTableContext(Status s, const Table& table, std::string_view op) {
  if (s.ok()) return s;
  if (s.code() == StatusCode::kAlreadyExists) {
    std::string key;
    for (int idx : table.primary_key) key += (key.empty() ? "" : ", ") + table.columns[idx].name;
    return Status(s.code(),
                  "a record with the same key (" + key + ") or unique value already exists in '" +
                      table.name + "': " + s.message(),
                  s.reason(), table.primary_key.size() == 1 ? table.columns[table.primary_key[0]].name : "");
  }
  return s.WithContext(std::string(op) + " '" + table.name + "'");
}

// "AND <col> = ? ..." for every column of `row` that can be compared safely, so the UPDATE or
// DELETE only hits the row if nobody changed it since it was read.
Status AppendUnchangedGuard(const Table& table, const v1::Record& row, std::string* sql,
                            ParamSet* params) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const Column& c = table.columns[i];
    if (c.long_data || table.read_unbounded(i)) continue;  // LOBs do not compare with '='
    const v1::Value& v = row.values(static_cast<int>(i));
    if (IsNull(v)) {
      *sql += " AND " + table.quoted[i] + " IS NULL";
    } else {
      *sql += " AND " + table.quoted[i] + " = ?";
      FA_RETURN_IF_ERROR(params->Add(v, c, ParamUse::kCompare));
    }
  }
  return Status::OK();
}

Status EtagMismatch(const Table& table, bool concurrent) {
  return Status(StatusCode::kAborted,
                concurrent ? "the record of '" + table.name +
                                 "' was changed by someone else while this call ran; read it again"
                           : "the record of '" + table.name +
                                 "' has changed since it was read (stale etag); read it again",
                "ETAG_MISMATCH");
}

Status RecordNotFound(const Table& table) {
  return NotFound("no record with this key in '" + table.name + "'", "NOT_FOUND");
}

// Runs a guarded UPDATE/DELETE (`head` is "UPDATE t SET ... WHERE" or "DELETE FROM t WHERE",
// with `set_values` for its SET part) against the row `current` that was read in this
// transaction. With `guard`, only if every column still holds what was read.
Status GuardedChange(Connection& conn, const Table& table, const std::string& head,
                     const std::vector<std::pair<const v1::Value*, int>>& set_values,
                     const v1::Record& current, bool guard, std::string_view what) {
  RepeatedPtrField<cv1::FieldValue> key = KeyOf(table, current);
  for (int attempt = guard ? 0 : 1; attempt < 2; ++attempt) {
    std::string sql = head;
    ParamSet params;
    for (const auto& [value, col] : set_values) {
      FA_RETURN_IF_ERROR(params.Add(*value, table.columns[col], ParamUse::kWrite));
    }
    FA_RETURN_IF_ERROR(AppendKeyPredicate(table, key, &sql, &params));
    if (attempt == 0) FA_RETURN_IF_ERROR(AppendUnchangedGuard(table, current, &sql, &params));
    FA_ASSIGN_OR_RETURN(StmtHandle st, conn.NewStatement());
    FA_RETURN_IF_ERROR(params.Bind(st.get()));
    SQLLEN affected = 0;
    FA_RETURN_IF_ERROR(WithTableContext(Exec(conn, st.get(), sql, what, &affected), table, what));
    if (affected > 0) return Status::OK();
    if (attempt == 1) break;
    // Nothing matched: the row is gone or changed, or a value did not compare equal to
    // itself in the DBMS's representation (e.g. a timestamp stored as text in another
    // format). Reading it again inside the transaction tells which.
    FA_ASSIGN_OR_RETURN(std::optional<StoredRow> again, ReadRow(conn, table, key));
    if (!again) return RecordNotFound(table);
    if (again->record.etag() != current.etag()) return EtagMismatch(table, true);
    // Unchanged as far as the API can see: change it by key alone; the transaction still
    // holds what was read.
  }
  // Matched nothing by key alone: the row is gone.
  return RecordNotFound(table);
}

}  // namespace

Status InsertRow(const OdbcSource& source, IdempotencyStore& store, const cv1::InsertRequest& request,
                 cv1::InsertResponse* response, sdk::CallContext& ctx) {
  if (request.idempotency_key().size() > kMaxIdempotencyKeyLength) {
    return InvalidArgument("idempotency key is longer than 255 characters", "INVALID_IDEMPOTENCY_KEY");
  }
  FA_ASSIGN_OR_RETURN(PooledConnection conn, source.Acquire(ctx));
  FA_ASSIGN_OR_RETURN(std::shared_ptr<const Table> tp, source.catalog->Get(*conn, request.entity()));
  const Table& table = *tp;
  FA_RETURN_IF_ERROR(CheckWritable(table, "insert records"));
  FA_ASSIGN_OR_RETURN(std::vector<int> cols, ResolveValues(table, request.values()));

  std::string sql = "INSERT INTO " + table.sql_name;
  ParamSet params;
  if (cols.empty()) {
    sql += " DEFAULT VALUES";
  } else {
    std::string names, marks;
    for (size_t i = 0; i < cols.size(); ++i) {
      names += (i ? ", " : "") + table.quoted[cols[i]];
      marks += i ? ", ?" : "?";
      FA_RETURN_IF_ERROR(params.Add(request.values(static_cast<int>(i)).value(), table.columns[cols[i]],
                                    ParamUse::kWrite));
    }
    sql += " (" + names + ") VALUES (" + marks + ")";
  }
  FA_RETURN_IF_ERROR(CheckCharsets(source, *conn, table, cols, request.values()));

  // The key of the new row: given, or generated by the DBMS (one auto-generated column).
  RepeatedPtrField<cv1::FieldValue> key;
  int generated = -1;
  for (int idx : table.primary_key) {
    int given = -1;
    for (size_t i = 0; i < cols.size(); ++i) {
      if (cols[i] == idx) given = static_cast<int>(i);
    }
    if (given >= 0 && !IsNull(request.values(given).value())) {
      *key.Add() = request.values(given);
      continue;
    }
    const Column& c = table.columns[idx];
    if (!c.auto_generated || table.primary_key.size() != 1 || c.type != v1::FIELD_TYPE_INT64) {
      return InvalidArgument("key field '" + c.name + "' of '" + table.name + "' is required",
                             "MISSING_FIELD", c.name);
    }
    if (source.dialect.last_insert_id_query().empty()) {
      return FailedPrecondition("key field '" + c.name + "' is generated by the database, but the "
                                "connector does not know how to read a generated key from " +
                                    source.dialect.dbms_name() + "; give the key explicitly",
                                "GENERATED_KEY_UNSUPPORTED", c.name);
    }
    generated = idx;
  }

  const bool idempotent = !request.idempotency_key().empty();
  if (idempotent) FA_RETURN_IF_ERROR(store.EnsureTable(*conn));

  auto replay = [&](const IdempotencyStore::Entry& e) -> Status {
    if (e.request_hash != request.request_hash() || e.entity != request.entity()) {
      return FailedPrecondition("idempotency key '" + request.idempotency_key() +
                                    "' was already used for a different request",
                                "IDEMPOTENCY_KEY_REUSED");
    }
    if (!response->ParseFromString(e.response)) {
      return Status(StatusCode::kDataLoss, "the stored response of this idempotency key is corrupt",
                    "IDEMPOTENCY_RECORD_CORRUPT");
    }
    response->set_replayed(true);
    return Status::OK();
  };

  FA_RETURN_IF_ERROR(conn->Begin());
  if (idempotent) {
    FA_ASSIGN_OR_RETURN(std::optional<IdempotencyStore::Entry> found,
                        store.Find(*conn, request.idempotency_key()));
    if (found) {
      conn->Rollback();  // nothing was written
      return replay(*found);
    }
  }
  FA_RETURN_IF_ERROR(ctx.CheckCancelled());  // last point where giving up changes nothing
  {
    FA_ASSIGN_OR_RETURN(StmtHandle st, conn->NewStatement());
    FA_RETURN_IF_ERROR(params.Bind(st.get()));
    FA_RETURN_IF_ERROR(WithTableContext(Exec(*conn, st.get(), sql, "insert into"), table, "insert into"));
  }
  if (generated >= 0) {
    FA_ASSIGN_OR_RETURN(StmtHandle st, conn->NewStatement());
    std::string q = source.dialect.last_insert_id_query();
    FA_RETURN_IF_ERROR(Exec(*conn, st.get(), q, "reading the generated key"));
    SQLBIGINT id = 0;
    SQLLEN ind = 0;
    FA_RETURN_IF_ERROR(conn->Note(Check(SQLFetch(st.get()), SQL_HANDLE_STMT, st.get(), "reading the generated key")));
    FA_RETURN_IF_ERROR(Check(SQLGetData(st.get(), 1, SQL_C_SBIGINT, &id, sizeof id, &ind), SQL_HANDLE_STMT,
                             st.get(), "reading the generated key"));
    cv1::FieldValue* fv = key.Add();
    fv->set_field(table.columns[generated].name);
    fv->mutable_value()->set_int_value(id);
  }
  FA_ASSIGN_OR_RETURN(std::optional<StoredRow> row, ReadRow(*conn, table, key));
  if (!row) {
    return Internal("the inserted record of '" + table.name + "' could not be read back by its key");
  }
  for (const Column& c : table.columns) response->add_fields(c.name);
  *response->mutable_record() = std::move(row->record);
  response->set_replayed(false);

  if (idempotent) {
    std::string serialized;
    response->SerializeToString(&serialized);
    Status s = store.Record(*conn, request.idempotency_key(), request.entity(), request.request_hash(),
                            serialized);
    if (s.code() == StatusCode::kAlreadyExists) {
      // A concurrent call with the same key committed first: undo this row, answer as a repeat.
      conn->Rollback();
      FA_ASSIGN_OR_RETURN(std::optional<IdempotencyStore::Entry> found,
                          store.Find(*conn, request.idempotency_key()));
      if (!found) return s;
      response->Clear();
      return replay(*found);
    }
    FA_RETURN_IF_ERROR(s);
  }
  return WithTableContext(conn->Commit(), table, "insert into");
}

Status UpdateRow(const OdbcSource& source, const cv1::UpdateRequest& request,
                 cv1::UpdateResponse* response, sdk::CallContext& ctx) {
  FA_ASSIGN_OR_RETURN(PooledConnection conn, source.Acquire(ctx));
  FA_ASSIGN_OR_RETURN(std::shared_ptr<const Table> tp, source.catalog->Get(*conn, request.entity()));
  const Table& table = *tp;
  FA_RETURN_IF_ERROR(CheckWritable(table, "update records"));
  FA_ASSIGN_OR_RETURN(std::vector<int> cols, ResolveValues(table, request.values()));
  if (cols.empty()) return InvalidArgument("an update needs at least one value to set", "NO_VALUES");
  std::vector<std::pair<const v1::Value*, int>> set_values;
  std::string head = "UPDATE " + table.sql_name + " SET ";
  for (size_t i = 0; i < cols.size(); ++i) {
    for (int k : table.primary_key) {
      if (k == cols[i]) {
        return InvalidArgument("key field '" + table.columns[k].name + "' cannot be changed",
                               "KEY_NOT_UPDATABLE", table.columns[k].name);
      }
    }
    head += (i ? ", " : "") + table.quoted[cols[i]] + " = ?";
    set_values.emplace_back(&request.values(static_cast<int>(i)).value(), cols[i]);
  }
  head += " WHERE ";
  {
    // Check the values and the key before touching the database.
    ParamSet check;
    for (const auto& [v, c] : set_values) FA_RETURN_IF_ERROR(check.Add(*v, table.columns[c], ParamUse::kWrite));
    std::string ignored;
    FA_RETURN_IF_ERROR(AppendKeyPredicate(table, request.key(), &ignored, &check));
  }
  FA_RETURN_IF_ERROR(CheckCharsets(source, *conn, table, cols, request.values()));

  FA_RETURN_IF_ERROR(conn->Begin());
  FA_ASSIGN_OR_RETURN(std::optional<StoredRow> current, ReadRow(*conn, table, request.key()));
  if (!current) return RecordNotFound(table);
  if (!request.etag().empty() && request.etag() != current->record.etag()) {
    return EtagMismatch(table, false);
  }
  FA_RETURN_IF_ERROR(ctx.CheckCancelled());
  FA_RETURN_IF_ERROR(GuardedChange(*conn, table, head, set_values, current->record,
                                   !request.etag().empty(), "update"));
  FA_ASSIGN_OR_RETURN(std::optional<StoredRow> after, ReadRow(*conn, table, request.key()));
  if (!after) return Internal("the updated record of '" + table.name + "' could not be read back");
  FA_RETURN_IF_ERROR(WithTableContext(conn->Commit(), table, "update"));
  for (const Column& c : table.columns) response->add_fields(c.name);
  *response->mutable_record() = std::move(after->record);
  return Status::OK();
}

Status DeleteRow(const OdbcSource& source, const cv1::DeleteRequest& request, sdk::CallContext& ctx) {
  FA_ASSIGN_OR_RETURN(PooledConnection conn, source.Acquire(ctx));
  FA_ASSIGN_OR_RETURN(std::shared_ptr<const Table> tp, source.catalog->Get(*conn, request.entity()));
  const Table& table = *tp;
  FA_RETURN_IF_ERROR(CheckWritable(table, "delete records"));
  {
    ParamSet check;
    std::string ignored;
    FA_RETURN_IF_ERROR(AppendKeyPredicate(table, request.key(), &ignored, &check));
  }
  FA_RETURN_IF_ERROR(conn->Begin());
  FA_ASSIGN_OR_RETURN(std::optional<StoredRow> current, ReadRow(*conn, table, request.key()));
  if (!current) return RecordNotFound(table);
  if (!request.etag().empty() && request.etag() != current->record.etag()) {
    return EtagMismatch(table, false);
  }
  FA_RETURN_IF_ERROR(ctx.CheckCancelled());
  std::string head = "DELETE FROM " + table.sql_name + " WHERE ";
  FA_RETURN_IF_ERROR(GuardedChange(*conn, table, head, {}, current->record, !request.etag().empty(),
                                   "delete from"));
  return WithTableContext(conn->Commit(), table, "delete from");
}

}  // namespace fachadapter::odbc
