#include "scan_cursor.h"

#include <algorithm>
#include <vector>

#include "parameters.h"
#include "row_reader.h"
#include "sql_builder.h"
#include "value_codec.h"

namespace fachadapter::odbc {

namespace cv1 = ::fachadapter::connector::v1;

namespace {

// Upper bound of rows per batch whatever a request asks for: keeps the bound buffers and one
// ScanBatch message within reasonable memory.
constexpr int32_t kMaxBatchRows = 10000;

class OdbcScanCursor final : public sdk::ScanCursor {
 public:
  OdbcScanCursor(PooledConnection conn, std::shared_ptr<const Table> table, Projection projection,
                 StmtHandle stmt, ParamSet params, const cv1::ScanRequest& request, size_t batch_rows)
      : conn_(std::move(conn)), table_(std::move(table)), projection_(std::move(projection)),
        stmt_(std::move(stmt)), params_(std::move(params)),
        reader_(*table_, projection_.select, batch_rows), batch_rows_(batch_rows),
        limit_(request.limit()), with_etag_(request.with_etag()) {
    fields_.assign(request.fields().begin(), request.fields().end());
    if (fields_.empty()) {
      for (const Column& c : table_->columns) fields_.push_back(c.name);
    }
    // First output position per select position (-1: selected only for the etag), so each
    // column is decoded once, straight into the record.
    first_output_.assign(projection_.select.size(), -1);
    for (size_t o = 0; o < projection_.output.size(); ++o) {
      int s = projection_.output[o];
      if (first_output_[s] < 0) first_output_[s] = static_cast<int>(o);
    }
    scratch_.resize(projection_.select.size());
    slots_.resize(projection_.select.size());
  }

  Status BindColumns() { return reader_.Bind(stmt_.get()); }

  Status Next(cv1::ScanBatch* out, bool* end, sdk::CallContext& ctx) override {
    if (done_ && !first_) {
      *end = true;
      return Status::OK();
    }
    FA_RETURN_IF_ERROR(ctx.CheckCancelled());
    if (first_) {
      for (const std::string& f : fields_) out->add_fields(f);
    }
    v1::RecordBatch* batch = out->mutable_batch();
    // Sized once: growing the repeated fields step by step is a large share of the
    // allocator's work per row.
    batch->mutable_records()->Reserve(static_cast<int>(batch_rows_));
    while (!done_ && static_cast<size_t>(batch->records_size()) < batch_rows_) {
      if (row_ >= rows_in_block_) {
        Result<size_t> n = reader_.Fetch(stmt_.get());
        if (!n.ok()) return conn_->Note(n.status().WithContext("scan of '" + table_->name + "'"));
        rows_in_block_ = *n;
        row_ = 0;
        if (rows_in_block_ == 0) {
          done_ = true;
          break;
        }
      }
      FA_RETURN_IF_ERROR(DecodeRow(batch->add_records()));
      ++row_;
      ++delivered_;
      if (limit_ > 0 && delivered_ >= limit_) done_ = true;
    }
    if (!first_ && batch->records_size() == 0) {
      out->Clear();
      *end = true;
      return Status::OK();
    }
    first_ = false;  // the first batch always goes out, if empty, to name the fields
    *end = false;
    return Status::OK();
  }

 private:
  Status DecodeRow(v1::Record* rec) {
    const size_t nout = projection_.output.size();
    rec->mutable_values()->Reserve(static_cast<int>(nout));
    for (size_t o = 0; o < nout; ++o) rec->add_values();
    for (size_t s = 0; s < projection_.select.size(); ++s) {
      v1::Value* v = first_output_[s] >= 0 ? rec->mutable_values(first_output_[s]) : &scratch_[s];
      FA_RETURN_IF_ERROR(reader_.Decode(stmt_.get(), row_, s, v));
      slots_[s] = v;
    }
    for (size_t o = 0; o < nout; ++o) {
      int s = projection_.output[o];
      if (first_output_[s] != static_cast<int>(o)) *rec->mutable_values(static_cast<int>(o)) = *slots_[s];
    }
    if (with_etag_) {
      RowHasher h;
      for (int s : projection_.by_column) h.Add(*slots_[s]);
      rec->set_etag(h.Hex());
    }
    return Status::OK();
  }

  PooledConnection conn_;
  std::shared_ptr<const Table> table_;
  Projection projection_;
  StmtHandle stmt_;
  ParamSet params_;  // bound to stmt_: must live as long as it
  RowReader reader_;
  size_t batch_rows_;
  int64_t limit_;
  bool with_etag_;
  std::vector<std::string> fields_;
  std::vector<int> first_output_;
  std::vector<v1::Value> scratch_;
  std::vector<v1::Value*> slots_;
  size_t rows_in_block_ = 0;
  size_t row_ = 0;
  int64_t delivered_ = 0;
  bool first_ = true;
  bool done_ = false;
};

}  // namespace

bool NullsClauseSupported(const OdbcSource& source, Connection& conn, const Table& table) {
  int known = source.dialect.nulls_clause();
  if (known >= 0) return known == 1;
  const std::string& col = table.quoted[0];
  std::string sql = "SELECT " + col + " FROM " + table.sql_name + " WHERE 1 = 0 ORDER BY " + col +
                    " ASC NULLS FIRST";
  Result<StmtHandle> st = conn.NewStatement();
  bool ok = st.ok() && SQL_SUCCEEDED(SQLExecDirect(st->get(), reinterpret_cast<SQLCHAR*>(sql.data()),
                                                   static_cast<SQLINTEGER>(sql.size())));
  source.dialect.set_nulls_clause(ok);
  return ok;
}

Result<std::unique_ptr<sdk::ScanCursor>> StartScan(const OdbcSource& source,
                                                   const cv1::ScanRequest& request,
                                                   sdk::CallContext& ctx) {
  if (request.limit() < 0) {
    return InvalidArgument("limit must not be negative", "INVALID_LIMIT");
  }
  FA_ASSIGN_OR_RETURN(PooledConnection conn, source.Acquire(ctx));
  FA_ASSIGN_OR_RETURN(std::shared_ptr<const Table> table, source.catalog->Get(*conn, request.entity()));
  FA_ASSIGN_OR_RETURN(Projection projection,
                      MakeProjection(*table, request.fields(), request.with_etag()));

  std::string sql = SelectClause(*table, projection);
  ParamSet params;
  if (request.has_filter() && request.filter().kind_case() != v1::Filter::KIND_NOT_SET) {
    sql += " WHERE ";
    FA_RETURN_IF_ERROR(AppendFilter(*table, request.filter(), &sql, &params));
  }
  bool nulls_clause = false;
  if (!request.order().empty() && !(source.dialect.NullsFirstWhenAscending() &&
                                    source.dialect.NullsLastWhenDescending())) {
    nulls_clause = NullsClauseSupported(source, *conn, *table);
  }
  FA_RETURN_IF_ERROR(AppendOrder(*table, source.dialect, nulls_clause, request.order(), &sql));

  size_t batch_rows = static_cast<size_t>(
      request.batch_size() > 0 ? std::min(request.batch_size(), kMaxBatchRows) : source.settings.batch_size);
  if (request.limit() > 0 && static_cast<uint64_t>(request.limit()) < batch_rows) {
    batch_rows = static_cast<size_t>(request.limit());
  }

  FA_ASSIGN_OR_RETURN(StmtHandle stmt, conn->NewStatement());
  // Forward-only is ODBC's default; said explicitly because drivers stream only such cursors.
  SQLSetStmtAttr(stmt.get(), SQL_ATTR_CURSOR_TYPE, reinterpret_cast<SQLPOINTER>(SQL_CURSOR_FORWARD_ONLY), 0);
  if (request.limit() > 0) {
    // A hint: the driver may pass it to the DBMS. The cursor stops at the limit either way.
    SQLSetStmtAttr(stmt.get(), SQL_ATTR_MAX_ROWS,
                   reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(request.limit())), 0);
  }
  FA_RETURN_IF_ERROR(params.Bind(stmt.get()));
  SQLRETURN rc = SQLExecDirect(stmt.get(), reinterpret_cast<SQLCHAR*>(sql.data()),
                               static_cast<SQLINTEGER>(sql.size()));
  if (rc != SQL_NO_DATA) {
    FA_RETURN_IF_ERROR(conn->Note(stmt.Check(rc, "scan of '" + table->name + "'")));
  }
  auto cursor = std::make_unique<OdbcScanCursor>(std::move(conn), table, std::move(projection),
                                                 std::move(stmt), std::move(params), request,
                                                 batch_rows);
  FA_RETURN_IF_ERROR(cursor->BindColumns());
  return std::unique_ptr<sdk::ScanCursor>(std::move(cursor));
}

}  // namespace fachadapter::odbc
