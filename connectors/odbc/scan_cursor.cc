#include "scan_cursor.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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

// Fetches the next block on a thread of its own while the scan encodes the current one: a
// driver's SQLFetch (psqlODBC: the FETCH round trip plus converting every value) and the
// encoding then overlap instead of taking turns. The statement is used by one thread at a
// time: the scan touches it only between Wait and the next Start.
class FetchAhead {
 public:
  FetchAhead(RowReader& reader, SQLHSTMT stmt) : reader_(reader), stmt_(stmt), thread_([this] { Loop(); }) {}
  FetchAhead(const FetchAhead&) = delete;
  FetchAhead& operator=(const FetchAhead&) = delete;
  // Waits for a fetch still running (at most one block): the statement must be idle before
  // the scan closes or reuses it.
  ~FetchAhead() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Starts fetching into the buffers bound now. No fetch may be running.
  void Start() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      requested_ = true;
      result_.reset();
    }
    cv_.notify_all();
  }
  // The result of the fetch started last.
  Result<size_t> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return result_.has_value(); });
    Result<size_t> r = std::move(*result_);
    result_.reset();
    return r;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return requested_ || stop_; });
      if (!requested_) return;
      lock.unlock();
      Result<size_t> r = reader_.Fetch(stmt_);
      lock.lock();
      requested_ = false;
      result_.emplace(std::move(r));
      cv_.notify_all();
    }
  }

  RowReader& reader_;
  SQLHSTMT stmt_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
  bool stop_ = false;
  std::optional<Result<size_t>> result_;
  std::thread thread_;  // last: starts once the members above exist
};

class OdbcScanCursor final : public sdk::ScanCursor {
 public:
  // `stmt` is either `owned` or, with a non-empty `cache_key`, a statement of the
  // connection's cache, which the cursor gives back in a reusable state when it ends.
  OdbcScanCursor(const sdk::Host& host, PooledConnection conn, std::shared_ptr<const Table> table,
                 Projection projection, StmtHandle owned, SQLHSTMT stmt, std::string cache_key,
                 ParamSet params, std::vector<v1::Value> args, const cv1::ScanRequest& request,
                 size_t batch_rows, int64_t drain_max, bool fetch_ahead)
      : host_(host), conn_(std::move(conn)), table_(std::move(table)), projection_(std::move(projection)),
        owned_(std::move(owned)), stmt_(stmt), cache_key_(std::move(cache_key)), drain_max_(drain_max),
        params_(std::move(params)), args_(std::move(args)),
        reader_(*table_,
                std::vector<int>(projection_.select.begin(),
                                 projection_.select.begin() + static_cast<std::ptrdiff_t>(projection_.sql_columns)),
                batch_rows),
        fetch_ahead_(fetch_ahead),
        batch_rows_(batch_rows),
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
    piece_start_.resize(projection_.select.size() + 1);
    in_select_order_ = projection_.output.size() == projection_.sql_columns &&
                       projection_.select.size() == projection_.sql_columns;
    for (size_t o = 0; in_select_order_ && o < projection_.output.size(); ++o) {
      in_select_order_ = projection_.output[o] == static_cast<int>(o);
    }
  }

  ~OdbcScanCursor() override {
    if (pending_) {
      // The scan ended (early) with a block on its way: it is fetched all the same, and
      // counted, before the statement is closed.
      pending_ = false;
      Result<size_t> n = ahead_->Wait();
      if (!n.ok()) {
        failed_ = true;
        (void)conn_->Note(n.status());  // marks a lost connection
      } else {
        fetched_ += static_cast<int64_t>(*n);
        if (*n == 0) at_end_ = true;
      }
    }
    ahead_.reset();
    if (!cache_key_.empty()) {
      // A statement is reused only once its result was read to the end: the SQLite driver
      // (StepAPI=1) executes a statement closed in mid-result again without rows. A bounded
      // result has at most a block left (often only the end to see); an unbounded one closed
      // early is not read on: its statement is freed instead.
      if (!failed_ && !at_end_ && limit_ > 0 && limit_ - fetched_ <= drain_max_) Drain();
      // The cached statement goes back closed and without this scan's buffers bound. One
      // that failed, was left in mid-result, or whose cursor would not close, is freed: its
      // state is unknown. A connection that could not close a cursor is not reused either.
      bool closed = SQL_SUCCEEDED(SQLFreeStmt(stmt_, SQL_CLOSE));
      SQLFreeStmt(stmt_, SQL_UNBIND);
      SQLFreeStmt(stmt_, SQL_RESET_PARAMS);
      SQLSetStmtAttr(stmt_, SQL_ATTR_ROWS_FETCHED_PTR, nullptr, 0);
      if (!closed) conn_->MarkBroken();
      if (!closed || failed_ || !at_end_) conn_->statements().Erase(cache_key_);
    }
    host_.CounterAdd(kRowsFetchedCounter, fetched_);
  }

  Status BindColumns() {
    Status s = reader_.Bind(stmt_);
    if (!s.ok()) failed_ = true;
    return s;
  }

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
      FA_RETURN_IF_ERROR(FetchIfNeeded());
      if (done_) break;
      FA_RETURN_IF_ERROR(DecodeRow(batch->add_records()));
      Delivered();
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

  // The same batches as Next, written in wire format straight from the bound buffers: no
  // message per value. A scan with etags goes through messages, since the etag hashes the
  // decoded values.
  Status NextEncoded(std::string* wire, bool* end, sdk::CallContext& ctx) override {
    namespace w = sdk::wire;
    if (with_etag_) return sdk::ScanCursor::NextEncoded(wire, end, ctx);
    if (done_ && !first_) {
      *end = true;
      return Status::OK();
    }
    FA_RETURN_IF_ERROR(ctx.CheckCancelled());
    body_.Clear();
    size_t records = 0;
    while (!done_ && records < batch_rows_) {
      FA_RETURN_IF_ERROR(FetchIfNeeded());
      if (done_) break;
      FA_RETURN_IF_ERROR(EncodeRow());
      ++records;
      Delivered();
    }
    if (!first_ && records == 0) {
      *end = true;
      return Status::OK();
    }
    if (first_) {
      for (const std::string& f : fields_) {
        wire->push_back(static_cast<char>(w::tag::kScanBatchFields));
        w::AppendVarint(f.size(), wire);
        wire->append(f);
      }
    }
    wire->push_back(static_cast<char>(w::tag::kScanBatchBatch));
    w::AppendVarint(body_.size(), wire);
    wire->append(body_.view());
    first_ = false;
    *end = false;
    return Status::OK();
  }

 private:
  // Fetches the next block when the current one is used up; sets done_ at the end.
  Status FetchIfNeeded() {
    if (row_ < rows_in_block_) return Status::OK();
    Result<size_t> n = size_t{0};
    if (pending_) {
      pending_ = false;
      n = ahead_->Wait();
    } else {
      n = reader_.Fetch(stmt_);
    }
    if (!n.ok()) {
      failed_ = true;
      return conn_->Note(n.status().WithContext("scan of '" + table_->name + "'"));
    }
    reader_.ReadSet(fill_set_);
    rows_in_block_ = *n;
    row_ = 0;
    fetched_ += static_cast<int64_t>(*n);
    if (rows_in_block_ == 0) {
      done_ = at_end_ = true;
      return Status::OK();
    }
    return FetchAheadIfUseful();
  }

  // Starts fetching the block after the current one into the other buffer set, where the
  // result seems to go on: the block just read was full and the limit is not reached. A
  // result of one block (the most common small one) never starts the thread.
  Status FetchAheadIfUseful() {
    if (!fetch_ahead_ || !reader_.can_double_buffer() || rows_in_block_ < reader_.rows_per_fetch()) {
      return Status::OK();
    }
    if (limit_ > 0 && fetched_ >= limit_) return Status::OK();
    Status s = reader_.BindSet(stmt_, 1 - fill_set_);
    if (!s.ok()) {
      failed_ = true;
      return conn_->Note(s.WithContext("scan of '" + table_->name + "'"));
    }
    fill_set_ = 1 - fill_set_;
    if (!ahead_) {
      ahead_ = std::make_unique<FetchAhead>(reader_, stmt_);
      host_.CounterAdd(kFetchAheadScansCounter, 1);
    }
    ahead_->Start();
    pending_ = true;
    return Status::OK();
  }

  // Fetches the rest of a bounded result (rows past the limit the DBMS was asked for cannot
  // come; at most `drain_max_` others) so that the statement is at its end.
  void Drain() {
    for (int64_t i = 0; i <= drain_max_ && !at_end_; ++i) {
      Result<size_t> n = reader_.Fetch(stmt_);
      if (!n.ok()) {
        failed_ = true;
        (void)conn_->Note(n.status());  // marks a lost connection; the scan itself succeeded
        return;
      }
      fetched_ += static_cast<int64_t>(*n);
      if (*n == 0) at_end_ = true;
    }
  }

  // Counts the row just decoded or encoded.
  void Delivered() {
    ++row_;
    ++delivered_;
    if (limit_ > 0 && delivered_ >= limit_) done_ = true;
  }

  // Appends the current row to body_ as a RecordBatch.records entry (no etag).
  Status EncodeRow() {
    namespace w = sdk::wire;
    const size_t values = w::BeginRecord(&body_);
    if (in_select_order_) {
      for (size_t s = 0; s < projection_.sql_columns; ++s) {
        FA_RETURN_IF_ERROR(reader_.Encode(stmt_, row_, s, &body_));
      }
    } else {
      // Each selected value once, in select order (long columns must be read so), then
      // copied into the record in output order.
      const size_t nsel = projection_.select.size();
      pieces_.Clear();
      for (size_t s = 0; s < nsel; ++s) {
        piece_start_[s] = pieces_.size();
        if (s < projection_.sql_columns) {
          FA_RETURN_IF_ERROR(reader_.Encode(stmt_, row_, s, &pieces_));
        } else {
          w::PutValue(args_[table_->columns[projection_.select[s]].parameter], &pieces_);
        }
      }
      piece_start_[nsel] = pieces_.size();
      const std::string_view all = pieces_.view();
      for (int s : projection_.output) {
        body_.Bytes(all.substr(piece_start_[s], piece_start_[s + 1] - piece_start_[s]));
      }
    }
    w::EndRecord(values, &body_);
    return Status::OK();
  }

  Status DecodeRow(v1::Record* rec) {
    const size_t nout = projection_.output.size();
    rec->mutable_values()->Reserve(static_cast<int>(nout));
    for (size_t o = 0; o < nout; ++o) rec->add_values();
    for (size_t s = 0; s < projection_.select.size(); ++s) {
      v1::Value* v = first_output_[s] >= 0 ? rec->mutable_values(first_output_[s]) : &scratch_[s];
      if (s < projection_.sql_columns) {
        FA_RETURN_IF_ERROR(reader_.Decode(stmt_, row_, s, v));
      } else {
        *v = args_[table_->columns[projection_.select[s]].parameter];
      }
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

  const sdk::Host& host_;
  PooledConnection conn_;
  std::shared_ptr<const Table> table_;
  Projection projection_;
  StmtHandle owned_;        // the statement if it is not a cached one
  SQLHSTMT stmt_;           // the statement: owned_, or one of conn_'s cache
  std::string cache_key_;   // the statement's key in conn_'s cache; empty if owned
  bool failed_ = false;     // the statement failed: not to be reused
  bool at_end_ = false;     // the driver reported the end of the result
  int64_t drain_max_;       // most rows Drain reads to reach the end
  ParamSet params_;  // bound to stmt_: must live as long as it
  std::vector<v1::Value> args_;  // a named query's parameter values
  RowReader reader_;
  std::unique_ptr<FetchAhead> ahead_;  // started by the first full block of a longer result
  bool pending_ = false;  // ahead_ is fetching a block not yet waited for
  int fill_set_ = 0;      // the buffer set the statement fills (the last fetch filled)
  bool fetch_ahead_;      // the source's setting
  size_t batch_rows_;
  int64_t limit_;
  bool with_etag_;
  std::vector<std::string> fields_;
  std::vector<int> first_output_;
  std::vector<v1::Value> scratch_;
  std::vector<v1::Value*> slots_;
  bool in_select_order_ = false;  // the record is the SQL columns in select order
  sdk::wire::WireBuffer body_;    // NextEncoded: the batch's records
  sdk::wire::WireBuffer pieces_;  // NextEncoded: one row's values in select order
  std::vector<size_t> piece_start_;  // NextEncoded: where each select position's value starts
  size_t rows_in_block_ = 0;
  size_t row_ = 0;
  int64_t delivered_ = 0;
  int64_t fetched_ = 0;  // rows the driver returned, including any past the limit
  bool first_ = true;
  bool done_ = false;
};

enum class ProbeResult { kAccepted, kRejected, kUnknown };

// Whether "SELECT <first column> FROM <entity> WHERE 1 = 0<suffix>" runs: how optional syntax
// is tested without reading a row. A failure that says nothing about the syntax (the
// connection or the server went away, a timeout) is kUnknown, so that it is not remembered
// as the DBMS's answer.
ProbeResult Probe(Connection& conn, const Table& table, const std::string& suffix) {
  std::string sql = "SELECT " + table.quoted[0] + " FROM " + table.sql_name + " WHERE 1 = 0" + suffix;
  Result<StmtHandle> st = conn.NewStatement();
  if (!st.ok()) return ProbeResult::kUnknown;
  ParamSet params;
  if (!BindNullParameters(table, &params).ok() || !params.Bind(st->get()).ok()) return ProbeResult::kUnknown;
  SQLRETURN rc = SQLExecDirect(st->get(), reinterpret_cast<SQLCHAR*>(sql.data()),
                               static_cast<SQLINTEGER>(sql.size()));
  if (SQL_SUCCEEDED(rc) || rc == SQL_NO_DATA) return ProbeResult::kAccepted;
  for (const DiagRecord& d : ReadDiagnostics(SQL_HANDLE_STMT, st->get())) {
    if (d.sqlstate.rfind("08", 0) == 0 || d.sqlstate.rfind("HYT", 0) == 0) return ProbeResult::kUnknown;
  }
  SQLUINTEGER dead = SQL_CD_FALSE;
  if (SQL_SUCCEEDED(SQLGetConnectAttr(conn.dbc(), SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr)) &&
      dead == SQL_CD_TRUE) {
    return ProbeResult::kUnknown;
  }
  return ProbeResult::kRejected;
}

// Executes `sql` with `params` on the statement cached under `key` on `conn`, preparing it
// first if it is not cached. A cached statement that fails is freed; if it had been prepared
// before (the database may have changed under it, e.g. a column type) and the connection is
// fine, it is prepared and executed once more. Returns the executed statement, owned by the
// cache; SQL_NULL_HSTMT if the driver would not prepare the text (the caller then executes it
// directly, where a real error shows again).
Result<SQLHSTMT> ExecuteCached(Connection& conn, const std::string& key, const std::string& sql,
                               const ParamSet& params, const std::string& what, const sdk::Host& host) {
  StatementCache& cache = conn.statements();
  SQLHSTMT stmt = cache.Find(key);
  const bool reused = stmt != SQL_NULL_HSTMT;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (stmt == SQL_NULL_HSTMT) {
      FA_ASSIGN_OR_RETURN(StmtHandle fresh, conn.NewStatement());
      SQLSetStmtAttr(fresh.get(), SQL_ATTR_CURSOR_TYPE, reinterpret_cast<SQLPOINTER>(SQL_CURSOR_FORWARD_ONLY), 0);
      Status prepared = conn.Note(fresh.Check(
          SQLPrepare(fresh.get(), reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql.data())),
                     static_cast<SQLINTEGER>(sql.size())),
          "preparing the " + what));
      if (!prepared.ok()) {
        if (prepared.code() == StatusCode::kUnavailable) return prepared;
        return SQLHSTMT{SQL_NULL_HSTMT};
      }
      host.CounterAdd(kStatementsPreparedCounter, 1);
      stmt = cache.Insert(key, std::move(fresh));
    } else {
      host.CounterAdd(kStatementsReusedCounter, 1);
    }
    Status s = params.Bind(stmt);
    if (s.ok()) {
      SQLRETURN rc = SQLExecute(stmt);
      if (rc == SQL_NO_DATA) return stmt;
      s = conn.Note(Check(rc, SQL_HANDLE_STMT, stmt, what));
    }
    if (s.ok()) return stmt;
    cache.Erase(key);
    stmt = SQL_NULL_HSTMT;
    if (attempt > 0 || !reused || conn.broken()) return s;
  }
  return Internal("unreachable");
}

}  // namespace

bool NullsClauseSupported(const OdbcSource& source, Connection& conn, const Table& table) {
  int known = source.dialect.nulls_clause();
  if (known >= 0) return known == 1;
  ProbeResult r = Probe(conn, table, " ORDER BY " + table.quoted[0] + " ASC NULLS FIRST");
  if (r != ProbeResult::kUnknown) source.dialect.set_nulls_clause(r == ProbeResult::kAccepted);
  return r == ProbeResult::kAccepted;
}

LimitSyntax LimitClauseSupported(const OdbcSource& source, Connection& conn, const Table& table) {
  int known = source.dialect.limit_syntax();
  if (known >= 0) return static_cast<LimitSyntax>(known);
  for (LimitSyntax candidate : source.dialect.limit_candidates()) {
    std::string clause;
    Dialect::AppendLimit(candidate, 1, &clause);
    switch (Probe(conn, table, clause)) {
      case ProbeResult::kAccepted:
        source.dialect.set_limit_syntax(candidate);
        return candidate;
      case ProbeResult::kRejected:
        break;
      case ProbeResult::kUnknown:
        return LimitSyntax::kNone;  // this scan without; a later one asks again
    }
  }
  source.dialect.set_limit_syntax(LimitSyntax::kNone);
  return LimitSyntax::kNone;
}

Result<std::unique_ptr<sdk::ScanCursor>> StartScan(const OdbcSource& source,
                                                   const cv1::ScanRequest& request,
                                                   sdk::CallContext& ctx, const sdk::Host& host) {
  if (request.limit() < 0) {
    return InvalidArgument("limit must not be negative", "INVALID_LIMIT");
  }
  // A scan whose limit fits one fetch block never needs the driver's streaming mode: at most
  // that many rows are in memory either way. Such scans (the core's Get among them) run on a
  // short connection, once the DBMS is known to take the limit into the SQL text (where it
  // cannot, the limit is SQL_ATTR_MAX_ROWS, which a driver may ignore).
  const bool bounded = request.limit() > 0 && request.limit() <= source.settings.batch_size &&
                       source.dialect.limit_syntax() > static_cast<int>(LimitSyntax::kNone);
  FA_ASSIGN_OR_RETURN(PooledConnection conn,
                      source.Acquire(ctx, bounded ? ConnectionKind::kShort : ConnectionKind::kStreaming));
  FA_ASSIGN_OR_RETURN(std::shared_ptr<const Table> table, source.catalog->Get(*conn, request.entity()));
  FA_ASSIGN_OR_RETURN(Projection projection,
                      MakeProjection(*table, request.fields(), request.with_etag()));

  FA_ASSIGN_OR_RETURN(std::vector<v1::Value> args,
                      QueryArguments(*table, request.has_filter() ? &request.filter() : nullptr));
  std::string sql = SelectClause(*table, projection);
  ParamSet params;
  // A named query's placeholders come first in the text (its SQL is the FROM).
  FA_RETURN_IF_ERROR(BindQueryParameters(*table, args, &params));
  if (request.has_filter() && request.filter().kind_case() != v1::Filter::KIND_NOT_SET) {
    sql += " WHERE ";
    FA_RETURN_IF_ERROR(AppendFilter(*table, request.filter(), &sql, &params, args));
  }
  bool nulls_clause = false;
  if (!request.order().empty() && !(source.dialect.NullsFirstWhenAscending() &&
                                    source.dialect.NullsLastWhenDescending())) {
    nulls_clause = NullsClauseSupported(source, *conn, *table);
  }
  FA_RETURN_IF_ERROR(AppendOrder(*table, source.dialect, nulls_clause, request.order(), &sql));
  LimitSyntax limit_syntax = LimitSyntax::kNone;
  if (request.limit() > 0) {
    // In the SQL, so the DBMS stops producing rows (and plans for few). The cursor stops at
    // the limit too.
    bool unknown = source.dialect.limit_syntax() < 0;
    limit_syntax = LimitClauseSupported(source, *conn, *table);
    if (unknown && source.dialect.limit_syntax() >= 0) {
      const char* how = "the database accepts neither LIMIT nor FETCH FIRST: limits are set as SQL_ATTR_MAX_ROWS";
      if (limit_syntax == LimitSyntax::kLimit) how = "limits go into the SQL as 'LIMIT n'";
      if (limit_syntax == LimitSyntax::kFetchFirst) how = "limits go into the SQL as 'FETCH FIRST n ROWS ONLY'";
      host.Log(FA_LOG_INFO, how);
    }
    if (limit_syntax != LimitSyntax::kNone) {
      Dialect::AppendLimit(limit_syntax, request.limit(), &sql);
      host.CounterAdd(kLimitInSqlCounter, 1);
    }
  }

  size_t batch_rows = static_cast<size_t>(
      request.batch_size() > 0 ? std::min(request.batch_size(), kMaxBatchRows) : source.settings.batch_size);
  if (request.limit() > 0 && static_cast<uint64_t>(request.limit()) < batch_rows) {
    batch_rows = static_cast<size_t>(request.limit());
  }

  const std::string what = "scan of '" + table->name + "'";
  StmtHandle owned;
  SQLHSTMT stmt = SQL_NULL_HSTMT;
  std::string key;
  // A limit the SQL cannot carry is a statement attribute, which some drivers apply only when
  // they prepare: such a scan gets a statement of its own.
  const bool max_rows = request.limit() > 0 && limit_syntax == LimitSyntax::kNone;
  if (!max_rows && conn->statements().capacity() > 0) {
    key = sql;
    key += '\0';
    params.AppendSignature(&key);
    FA_ASSIGN_OR_RETURN(stmt, ExecuteCached(*conn, key, sql, params, what, host));
  }
  if (stmt == SQL_NULL_HSTMT) {
    key.clear();
    FA_ASSIGN_OR_RETURN(owned, conn->NewStatement());
    stmt = owned.get();
    // Forward-only is ODBC's default; said explicitly because drivers stream only such cursors.
    SQLSetStmtAttr(stmt, SQL_ATTR_CURSOR_TYPE, reinterpret_cast<SQLPOINTER>(SQL_CURSOR_FORWARD_ONLY), 0);
    if (max_rows) {
      // The ODBC way to say it, where the SQL cannot: SQLite's driver stops stepping there,
      // MariaDB Connector/ODBC 3.1 appends " LIMIT n" to the text itself (so never together
      // with a clause of ours: two LIMITs are a syntax error), psqlODBC ignores it when it
      // fetches through a cursor (UseDeclareFetch).
      SQLSetStmtAttr(stmt, SQL_ATTR_MAX_ROWS,
                     reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(request.limit())), 0);
    }
    FA_RETURN_IF_ERROR(params.Bind(stmt));
    SQLRETURN rc = SQLExecDirect(stmt, reinterpret_cast<SQLCHAR*>(sql.data()), static_cast<SQLINTEGER>(sql.size()));
    if (rc != SQL_NO_DATA) FA_RETURN_IF_ERROR(conn->Note(owned.Check(rc, what)));
  }
  if (conn->kind() == ConnectionKind::kShort) host.CounterAdd(kShortConnectionScansCounter, 1);
  auto cursor = std::make_unique<OdbcScanCursor>(host, std::move(conn), table, std::move(projection),
                                                 std::move(owned), stmt, std::move(key), std::move(params),
                                                 std::move(args), request, batch_rows,
                                                 source.settings.batch_size, source.settings.fetch_ahead);
  FA_RETURN_IF_ERROR(cursor->BindColumns());
  return std::unique_ptr<sdk::ScanCursor>(std::move(cursor));
}

}  // namespace fachadapter::odbc
