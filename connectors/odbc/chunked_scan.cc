#include "chunked_scan.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "fachadapter/connector/wire.h"
#include "fachadapter/keyset.h"
#include "fachadapter/values.h"
#include "scan_cursor.h"

namespace fachadapter::odbc {

namespace cv1 = ::fachadapter::connector::v1;

namespace {

bool ContainsNoCase(std::string_view text, std::string_view word) {
  auto it = std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != text.end();
}

// Why a keyset condition on column `idx` of `table` could disagree with the ORDER BY, so that
// a chunk would skip or repeat rows; empty if it cannot. The condition compares the column with
// the value the connector read, bound as a parameter: exact for integers, doubles, text, bytes,
// booleans, dates and timestamps (the tests prove each on every back end), not for these.
std::string KeysetUnsafe(const Table& table, int idx, const Dialect& dialect) {
  const Column& c = table.columns[idx];
  if (c.parameter >= 0) return "";  // the same value in every row
  if (c.type == v1::FIELD_TYPE_TIME) {
    return "a TIME value goes to the database as text, and that comparison is not proven exact on every database "
           "(SQLite keeps TIME as text as written)";
  }
  if (c.long_data || table.read_unbounded(idx)) {
    return "the column is read with SQLGetData (long text or bytes), and compared as such only unreliably";
  }
  if (c.type == v1::FIELD_TYPE_DECIMAL && ContainsNoCase(dialect.dbms_name(), "sqlite")) {
    return "SQLite compares a DECIMAL column by how each value is stored (text or number), not as read";
  }
  return "";
}

// ---- Reading the wire format of a ScanBatch (see fachadapter/connector/wire.h) ----

bool ReadVarint(std::string_view* in, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    r |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = r;
      return true;
    }
  }
  return false;
}

// One field of a message: its number, wire type, payload (length-delimited fields) and all
// of its bytes (tag included).
struct WireField {
  uint64_t number = 0;
  uint32_t type = 0;
  std::string_view payload;
  std::string_view whole;
};

// Reads the next field of `in`; false at the end or if the bytes are malformed (`*in` is then
// left non-empty).
bool NextField(std::string_view* in, WireField* f) {
  const char* start = in->data();
  uint64_t key = 0;
  if (in->empty() || !ReadVarint(in, &key)) return false;
  f->number = key >> 3;
  f->type = static_cast<uint32_t>(key & 7);
  f->payload = {};
  switch (f->type) {
    case 0: {
      uint64_t ignored = 0;
      if (!ReadVarint(in, &ignored)) return false;
      break;
    }
    case 1:
    case 5: {
      const size_t n = f->type == 1 ? 8 : 4;
      if (in->size() < n) return false;
      in->remove_prefix(n);
      break;
    }
    case 2: {
      uint64_t len = 0;
      if (!ReadVarint(in, &len) || len > in->size()) return false;
      f->payload = in->substr(0, static_cast<size_t>(len));
      in->remove_prefix(static_cast<size_t>(len));
      break;
    }
    default:
      return false;
  }
  f->whole = std::string_view(start, static_cast<size_t>(in->data() - start));
  return true;
}

Status MalformedBatch() { return Internal("a chunk's scan batch is malformed", "MALFORMED_BATCH"); }

// A scan run as a sequence of bounded statements in a total order, each starting after the
// last row the one before delivered (see chunked_scan.h).
class ChunkedScanCursor final : public sdk::ScanCursor {
 public:
  // `inner` is the request of every chunk without filter and limit; `sort_pos` the position of
  // each of `order`'s fields among its fields; `out_fields` how many of those the client asked
  // for (the rest were added for the sort values and are stripped), or 0 to keep all.
  ChunkedScanCursor(const OdbcSource& source, const sdk::Host& host, cv1::ScanRequest inner,
                    const cv1::ScanRequest& request, std::vector<cv1::SortKey> order,
                    std::vector<int> sort_pos, int out_fields, int64_t chunk_rows)
      : source_(source), host_(host), inner_request_(std::move(inner)), order_(std::move(order)),
        sort_pos_(std::move(sort_pos)), out_fields_(out_fields), chunk_rows_(chunk_rows),
        limit_(request.limit()), with_etag_(request.with_etag()) {
    if (request.has_filter() && request.filter().kind_case() != v1::Filter::KIND_NOT_SET) {
      filter_ = request.filter();
    }
    last_.resize(order_.size());
    chunk_limit_ = limit_ > 0 ? std::min(chunk_rows_, limit_) : chunk_rows_;
  }

  // Starts the next chunk (the first: "no row delivered yet"). A transient failure is retried
  // with `retry`: no row of the chunk went out yet.
  Status StartChunk(sdk::CallContext& ctx, bool retry) {
    cv1::ScanRequest req = inner_request_;
    req.set_limit(chunk_limit_);
    std::vector<v1::Filter> parts;
    if (filter_) parts.push_back(*filter_);
    if (after_) parts.push_back(*after_);
    if (!parts.empty()) *req.mutable_filter() = AllOf(std::move(parts));
    auto start = [&] { return StartScan(source_, req, ctx, host_); };
    Result<std::unique_ptr<sdk::ScanCursor>> cursor = retry ? WithRetries(ctx, start) : start();
    if (!cursor.ok()) return cursor.status();
    inner_ = std::move(cursor).value();
    chunk_delivered_ = 0;
    check_first_ = after_.has_value();
    host_.CounterAdd(kScanChunksCounter, 1);
    return Status::OK();
  }

  Status Next(cv1::ScanBatch* out, bool* end, sdk::CallContext& ctx) override {
    for (;;) {
      out->Clear();
      FA_RETURN_IF_ERROR(Advance(ctx));
      if (done_) break;
      bool inner_end = false;
      FA_RETURN_IF_ERROR(inner_->Next(out, &inner_end, ctx));
      if (inner_end) {
        out->Clear();
        EndChunk();
        continue;
      }
      auto* records = out->mutable_batch()->mutable_records();
      const int n = records->size();
      if (n > 0) {
        FA_RETURN_IF_ERROR(CheckProgress(records->Get(0)));
        const v1::Record& tail = records->Get(n - 1);
        for (size_t k = 0; k < sort_pos_.size(); ++k) {
          if (sort_pos_[k] >= tail.values_size()) return MalformedBatch();
          last_[k] = tail.values(sort_pos_[k]);
        }
      }
      if (out_fields_ > 0) {
        for (v1::Record& r : *records) {
          if (r.values_size() > out_fields_) {
            r.mutable_values()->DeleteSubrange(out_fields_, r.values_size() - out_fields_);
          }
        }
        if (out->fields_size() > out_fields_) {
          out->mutable_fields()->DeleteSubrange(out_fields_, out->fields_size() - out_fields_);
        }
      }
      if (!first_) out->clear_fields();
      if (Counted(n)) continue;
      first_ = false;
      *end = false;
      return Status::OK();
    }
    out->Clear();
    *end = true;
    return Status::OK();
  }

  // The inner cursor's wire bytes, passed on as they are where nothing needs to change (all
  // batches but the first of each chunk, without added sort fields); else the chunk's repeated
  // field names and the added sort fields are taken out.
  Status NextEncoded(std::string* wire, bool* end, sdk::CallContext& ctx) override {
    namespace w = sdk::wire;
    // Etags hash decoded values: the inner cursors build messages then anyway.
    if (with_etag_) return sdk::ScanCursor::NextEncoded(wire, end, ctx);
    for (;;) {
      FA_RETURN_IF_ERROR(Advance(ctx));
      if (done_) break;
      buffer_.clear();
      bool inner_end = false;
      FA_RETURN_IF_ERROR(inner_->NextEncoded(&buffer_, &inner_end, ctx));
      if (inner_end) {
        EndChunk();
        continue;
      }
      // The batch: field names, then its records (one RecordBatch entry; more would merge).
      std::string_view in = buffer_;
      WireField f;
      names_.clear();
      batches_.clear();
      while (NextField(&in, &f)) {
        if (f.type != 2) return MalformedBatch();
        if (f.number == 1) names_.push_back(f.whole);
        if (f.number == 2) batches_.push_back(f.payload);
      }
      if (!in.empty()) return MalformedBatch();
      const bool strip = out_fields_ > 0;
      if (strip) body_.Clear();
      int n = 0;
      std::string_view last;
      for (std::string_view records : batches_) {
        WireField rec;
        while (NextField(&records, &rec)) {
          if (rec.number != 1 || rec.type != 2) return MalformedBatch();
          if (n == 0 && check_first_) {
            if (!tail_.ParseFromArray(rec.payload.data(), static_cast<int>(rec.payload.size()))) {
              return MalformedBatch();
            }
            FA_RETURN_IF_ERROR(CheckProgress(tail_));
          }
          last = rec.payload;
          ++n;
          if (strip) FA_RETURN_IF_ERROR(AppendStripped(rec.payload));
        }
        if (!records.empty()) return MalformedBatch();
      }
      if (n > 0) FA_RETURN_IF_ERROR(TakeSortValues(last));
      const bool repeated_names = !first_ && !names_.empty();
      if (Counted(n)) continue;
      if (!strip && !repeated_names) {
        wire->swap(buffer_);  // as the chunk's statement wrote it
      } else {
        if (first_) {
          const size_t keep = strip ? static_cast<size_t>(out_fields_) : names_.size();
          for (size_t i = 0; i < names_.size() && i < keep; ++i) wire->append(names_[i]);
        }
        wire->push_back(static_cast<char>(w::tag::kScanBatchBatch));
        if (strip) {
          w::AppendVarint(body_.size(), wire);
          wire->append(body_.view());
        } else {
          size_t size = 0;
          for (std::string_view b : batches_) size += b.size();
          w::AppendVarint(size, wire);
          for (std::string_view b : batches_) wire->append(b);
        }
      }
      first_ = false;
      *end = false;
      return Status::OK();
    }
    *end = true;
    return Status::OK();
  }

 private:
  // Before reading on: checks cancellation and starts the next chunk if none is running.
  Status Advance(sdk::CallContext& ctx) {
    if (done_) return Status::OK();
    FA_RETURN_IF_ERROR(ctx.CheckCancelled());
    if (inner_) return Status::OK();
    if (!after_) {
      done_ = true;  // unreachable: EndChunk ends the scan where nothing follows
      return Status::OK();
    }
    return StartChunk(ctx, true);
  }

  // Counts `n` records of a batch just read; true if the batch is to be skipped (empty, and
  // not the first, which names the fields). Ends the chunk once it delivered its limit.
  bool Counted(int n) {
    chunk_delivered_ += n;
    delivered_ += n;
    if (chunk_delivered_ >= chunk_limit_) EndChunk();
    return n == 0 && !first_;
  }

  // Closes the chunk's statement (giving its connection back) and decides what follows: the
  // end, where the chunk found fewer rows than it asked for or the request's limit is reached;
  // else the next chunk, after the last row delivered.
  void EndChunk() {
    if (!inner_) return;
    inner_.reset();
    after_.reset();
    if (chunk_delivered_ < chunk_limit_ || (limit_ > 0 && delivered_ >= limit_)) {
      done_ = true;
      return;
    }
    if (limit_ > 0) chunk_limit_ = std::min(chunk_rows_, limit_ - delivered_);
    after_ = AfterRowFilter(order_, last_);
    if (!after_) done_ = true;
  }

  // The first row of a chunk after the first must come after the row the chunk before ended
  // with. Where the database compares a sort value otherwise than its ORDER BY sorts it (see
  // KeysetUnsafe; SQLite, say, keeps dates as whatever text they were written as), a chunk
  // may begin again at rows already delivered, and reading on would repeat them for ever: the
  // scan fails instead. Checked with the API's order of the values read (NULLs first
  // ascending), except between two different non-NULL texts or byte strings, which the
  // database's collation orders, not the connector.
  Status CheckProgress(const v1::Record& first) {
    if (!check_first_) return Status::OK();
    check_first_ = false;
    for (size_t k = 0; k < sort_pos_.size(); ++k) {
      if (sort_pos_[k] >= first.values_size()) return MalformedBatch();
      const v1::Value& before = last_[k];
      const v1::Value& now = first.values(sort_pos_[k]);
      if (before.SerializeAsString() == now.SerializeAsString()) continue;
      const auto kind = now.kind_case();
      if (!IsNull(before) && !IsNull(now) && kind == before.kind_case() &&
          (kind == v1::Value::kStringValue || kind == v1::Value::kBytesValue)) {
        return Status::OK();
      }
      int c = SortCompare(before, now);
      if (order_[k].descending()) c = -c;
      if (c < 0) return Status::OK();
      if (c > 0) return OutOfOrder(order_[k].field());
    }
    return OutOfOrder(order_.back().field());
  }

  Status OutOfOrder(const std::string& field) const {
    return FailedPrecondition("scan of '" + inner_request_.entity() +
                                  "' in chunks: a chunk began at a row that does not come after the last row of the "
                                  "chunk before (sort field '" + field +
                                  "'), so the database compares its values otherwise than it sorts them; order by "
                                  "other fields or set scan_chunk_rows: 0 for this source",
                              "CHUNK_ORDER_MISMATCH", field);
  }

  // Reads the sort values of a record (its wire bytes).
  Status TakeSortValues(std::string_view record) {
    tail_.Clear();
    if (!tail_.ParseFromArray(record.data(), static_cast<int>(record.size()))) return MalformedBatch();
    for (size_t k = 0; k < sort_pos_.size(); ++k) {
      if (sort_pos_[k] >= tail_.values_size()) return MalformedBatch();
      last_[k].Swap(tail_.mutable_values(sort_pos_[k]));
    }
    return Status::OK();
  }

  // Appends a record to body_ without the values past out_fields_ (the etag, if any, stays).
  Status AppendStripped(std::string_view record) {
    namespace w = sdk::wire;
    const size_t values = w::BeginRecord(&body_);
    int index = 0;
    WireField f;
    while (NextField(&record, &f)) {
      if (f.number == 1 && index++ >= out_fields_) continue;
      body_.Bytes(f.whole);
    }
    if (!record.empty()) return MalformedBatch();
    w::EndRecord(values, &body_);
    return Status::OK();
  }

  const OdbcSource& source_;
  const sdk::Host& host_;
  cv1::ScanRequest inner_request_;   // every chunk's request but for filter and limit
  std::optional<v1::Filter> filter_;  // the request's filter
  std::vector<cv1::SortKey> order_;  // total: ends with the key
  std::vector<int> sort_pos_;        // position of each order field among the inner fields
  int out_fields_;                   // fields the client gets; 0: all of the inner ones
  int64_t chunk_rows_;
  int64_t limit_;                    // the request's; 0: none
  bool with_etag_;
  std::unique_ptr<sdk::ScanCursor> inner_;  // the running chunk's cursor
  std::optional<v1::Filter> after_;  // where the next chunk starts; unset: nothing follows
  std::vector<v1::Value> last_;      // sort values of the last row delivered
  int64_t chunk_limit_ = 0;          // rows the running chunk asked for
  int64_t chunk_delivered_ = 0;      // rows it delivered
  bool check_first_ = false;         // its first row is still to be checked (CheckProgress)
  int64_t delivered_ = 0;            // rows all chunks delivered
  bool first_ = true;                // no batch went out yet
  bool done_ = false;
  std::string buffer_;               // NextEncoded: the inner cursor's batch
  std::vector<std::string_view> names_, batches_;  // NextEncoded: its parts
  sdk::wire::WireBuffer body_;       // NextEncoded: records without the added fields
  v1::Record tail_;                  // NextEncoded: the batch's last record, parsed
};

}  // namespace

bool DriverMaterializesResults(const Dialect& dialect) {
  const std::string& driver = dialect.driver_name();
  if (ContainsNoCase(driver, "maodbc") || ContainsNoCase(driver, "myodbc")) return true;
  // A driver of another name (a renamed copy, a wrapper) in front of MariaDB or MySQL: the
  // server's protocol gives the client the whole result unless it asks row by row, which the
  // drivers of Debian 12 do not.
  const std::string& dbms = dialect.dbms_name();
  return ContainsNoCase(dbms, "mariadb") || ContainsNoCase(dbms, "mysql");
}

int64_t AutomaticChunkRows(const Table& table) {
  int64_t row_bytes = 0;
  for (const Column& c : table.columns) {
    const int64_t width = c.long_data ? 4096 : (c.length > 0 ? std::min<int64_t>(c.length, 1 << 20) : 8);
    row_bytes += width + 16;
  }
  return std::clamp<int64_t>(kChunkTargetBytes / std::max<int64_t>(row_bytes, 1), 1000, kDefaultScanChunkRows);
}

int64_t ScanChunkRows(const OdbcSettings& settings, const Dialect& dialect) {
  if (settings.scan_chunk_rows >= 0) return settings.scan_chunk_rows;
  return DriverMaterializesResults(dialect) ? kDefaultScanChunkRows : 0;
}

std::vector<cv1::SortKey> TotalOrder(const Table& table,
                                     const google::protobuf::RepeatedPtrField<cv1::SortKey>& order) {
  if (table.primary_key.empty()) return {};
  std::vector<cv1::SortKey> out(order.begin(), order.end());
  std::vector<bool> named(table.columns.size(), false);
  for (const cv1::SortKey& k : order) {
    int idx = table.Find(k.field());
    if (idx >= 0) named[idx] = true;
  }
  for (int idx : table.primary_key) {
    if (named[idx]) continue;
    cv1::SortKey k;
    k.set_field(table.columns[idx].name);
    out.push_back(std::move(k));
  }
  return out;
}

void ChunkedScans::LogPolicy(const OdbcSource& source, const sdk::Host& host) const {
  const int64_t rows = ScanChunkRows(source.settings, source.dialect);
  const bool materializes = DriverMaterializesResults(source.dialect);
  const std::string driver = "the ODBC driver " + source.dialect.driver_name();
  if (rows > 0) {
    host.Log(FA_LOG_INFO,
             "scans that may return more than " + std::to_string(rows) + " rows run as statements of " +
                 (source.settings.scan_chunk_rows >= 0
                      ? std::to_string(rows) + " rows each"
                      : "at most " + std::to_string(rows) + " rows each (fewer for wide rows: about " +
                            std::to_string(kChunkTargetBytes >> 20) + " MB of declared row width)") +
                 ", every one continuing after the last row of the one before" +
                 (source.settings.scan_chunk_rows >= 0
                      ? std::string(" (setting scan_chunk_rows)")
                      : " (setting scan_chunk_rows absent; " + driver + " reads whole results into memory)"));
  } else if (materializes) {
    host.Log(FA_LOG_WARNING, "scan_chunk_rows is 0: " + driver +
                                 " reads the whole result of every scan into memory, however large");
  }
}

void ChunkedScans::WarnUnchunked(const std::string& entity, const std::string& reason, const OdbcSource& source,
                                 const sdk::Host& host) {
  {
    std::lock_guard lock(mu_);
    if (!warned_.insert(entity + '\0' + reason).second) return;
  }
  std::string memory = DriverMaterializesResults(source.dialect)
                           ? "; the ODBC driver " + source.dialect.driver_name() +
                                 " reads the whole result of such a scan into memory"
                           : "";
  host.Log(FA_LOG_WARNING, "scans of '" + entity + "' run as one statement, not in chunks (scan_chunk_rows), since " +
                               reason + memory);
}

Result<std::unique_ptr<sdk::ScanCursor>> ChunkedScans::Start(const OdbcSource& source,
                                                             const cv1::ScanRequest& request,
                                                             sdk::CallContext& ctx, const sdk::Host& host) {
  const int64_t chunk_rows = ScanChunkRows(source.settings, source.dialect);
  if (chunk_rows <= 0 || request.limit() < 0 || (request.limit() > 0 && request.limit() <= chunk_rows)) {
    return StartScan(source, request, ctx, host);
  }
  if (source.dialect.limit_syntax() == static_cast<int>(LimitSyntax::kNone)) {
    // A chunk's limit would be SQL_ATTR_MAX_ROWS, which a driver may ignore: each chunk would
    // then hold the rest of the result instead of one chunk.
    WarnUnchunked(request.entity(), "the database accepts no limit clause (LIMIT n or FETCH FIRST n ROWS ONLY)",
                  source, host);
    return StartScan(source, request, ctx, host);
  }
  std::shared_ptr<const Table> table;
  {
    // Mostly from the cache; the connection goes back before the first chunk takes one.
    FA_ASSIGN_OR_RETURN(PooledConnection conn, source.Acquire(ctx, ConnectionKind::kStreaming));
    FA_ASSIGN_OR_RETURN(table, source.catalog->Get(*conn, request.entity()));
  }
  if (table->primary_key.empty()) {
    WarnUnchunked(table->name,
                  "the entity has no key (declare one under views.<name>.key or queries.<name>.key)", source,
                  host);
    return StartScan(source, request, ctx, host);
  }
  std::vector<cv1::SortKey> order = TotalOrder(*table, request.order());
  for (const cv1::SortKey& k : order) {
    const int idx = table->Find(k.field());
    std::string why = idx >= 0 ? KeysetUnsafe(*table, idx, source.dialect) : "";
    if (!why.empty()) {
      WarnUnchunked(table->name, "it is ordered by '" + k.field() + "': " + why, source, host);
      return StartScan(source, request, ctx, host);
    }
  }
  cv1::ScanRequest inner;
  inner.set_entity(request.entity());
  *inner.mutable_fields() = request.fields();
  for (const cv1::SortKey& k : order) *inner.add_order() = k;
  inner.set_batch_size(request.batch_size());
  inner.set_with_etag(request.with_etag());
  // Where each sort value is in a record: among all columns (no fields asked for) or the
  // fields asked for, else in a field added behind them and stripped again.
  std::vector<int> sort_pos;
  for (const cv1::SortKey& k : order) {
    const int idx = table->Find(k.field());
    if (idx < 0) return StartScan(source, request, ctx, host);  // which reports the field
    int pos = -1;
    if (request.fields().empty()) {
      pos = idx;
    } else {
      for (int i = 0; i < inner.fields_size() && pos < 0; ++i) {
        if (table->Find(inner.fields(i)) == idx) pos = i;
      }
      if (pos < 0) {
        pos = inner.fields_size();
        inner.add_fields(table->columns[idx].name);
      }
    }
    sort_pos.push_back(pos);
  }
  const int out_fields = inner.fields_size() > request.fields_size() ? request.fields_size() : 0;
  const int64_t rows = source.settings.scan_chunk_rows < 0 ? AutomaticChunkRows(*table) : chunk_rows;
  auto cursor = std::make_unique<ChunkedScanCursor>(source, host, std::move(inner), request, std::move(order),
                                                    std::move(sort_pos), out_fields, rows);
  // Not retried here: the caller retries starting the scan as a whole.
  FA_RETURN_IF_ERROR(cursor->StartChunk(ctx, false));
  return std::unique_ptr<sdk::ScanCursor>(std::move(cursor));
}

}  // namespace fachadapter::odbc
