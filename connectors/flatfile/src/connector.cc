// The flat-file connector: CSV, fixed-width text and mainframe records as raw entities.
//
// Reads: memory-mapped snapshots, filters evaluated on the fields they name before the rest of
// a record is decoded, a key index so that a Get does not scan, constant memory unless an
// order is requested. Writes: under the legacy program's lock, through a temporary file that
// is fsynced and renamed over the file (appends: one write and fsync), with an idempotency
// journal beside the file. See docs/flatfile.md.
#include "connector.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace fachadapter::flatfile {

namespace {

constexpr const char* kSkippedCounter = "flatfile_records_skipped";

std::string DirName(const std::string& p) {
  size_t s = p.rfind('/');
  if (s == std::string::npos) return "";
  return s == 0 ? "/" : p.substr(0, s);
}
std::string BaseName(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

// ---- base64 for the journal ----
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
std::string B64(std::string_view in) {
  std::string out;
  size_t i = 0;
  while (i + 2 < in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kB64[v >> 18], out += kB64[(v >> 12) & 63], out += kB64[(v >> 6) & 63], out += kB64[v & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kB64[v >> 18], out += kB64[(v >> 12) & 63], out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kB64[v >> 18], out += kB64[(v >> 12) & 63], out += kB64[(v >> 6) & 63], out += '=';
  }
  return out;
}
bool UnB64(std::string_view in, std::string* out) {
  out->clear();
  uint32_t v = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    if (!p || !c) return false;
    v = (v << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((v >> bits) & 0xFF));
    }
  }
  return true;
}

// Collects the field names a filter refers to.
void FilterFields(const v1::Filter& f, std::vector<std::string>* out) {
  switch (f.kind_case()) {
    case v1::Filter::kField:
      if (std::find(out->begin(), out->end(), f.field().field()) == out->end()) out->push_back(f.field().field());
      break;
    case v1::Filter::kAnd:
      for (const auto& c : f.and_().filters()) FilterFields(c, out);
      break;
    case v1::Filter::kOr:
      for (const auto& c : f.or_().filters()) FilterFields(c, out);
      break;
    case v1::Filter::kNot: FilterFields(f.not_(), out); break;
    default: break;
  }
}

// If the filter pins every key column with EQ (alone or in a top-level AND), returns the
// operands in key order.
bool KeyOperands(const v1::Filter& f, const EntityDef& e, std::vector<const v1::Value*>* ops) {
  if (e.key.empty()) return false;
  std::vector<const v1::FieldFilter*> conds;
  if (f.has_field()) conds.push_back(&f.field());
  else if (f.has_and_()) {
    for (const auto& c : f.and_().filters()) {
      if (c.has_field()) conds.push_back(&c.field());
    }
  }
  ops->assign(e.key.size(), nullptr);
  for (const auto* c : conds) {
    if (c->op() != v1::OPERATOR_EQ) continue;
    for (size_t k = 0; k < e.key.size(); ++k) {
      if (e.columns[static_cast<size_t>(e.key[k])].name == c->field()) (*ops)[k] = &c->value();
    }
  }
  for (const auto* v : *ops) {
    if (!v || IsNull(*v)) return false;
  }
  return true;
}

Status PositionError(const EntityDef& e, const Snapshot& s, const Row& row, const Status& st) {
  return Status(StatusCode::kDataLoss, Where(e, s, row) + ", " + st.message(), st.reason(), st.field());
}

}  // namespace

// ---- The key index ----

struct FlatFileConnector::EntityState {
  std::shared_ptr<EntityDef> def;
  std::mutex mu;  // guards the index
  std::shared_ptr<Snapshot> index_snap;
  std::vector<FileStamp> index_stamps;
  // Sorted by key hash; a lookup yields candidates that the scan verifies with the filter, so
  // hash collisions cost a decode, never a wrong answer. 32 bytes per record.
  struct Entry {
    uint64_t hash;
    uint64_t start;
    uint64_t number;
    uint32_t line;
    uint32_t file;
  };
  std::vector<Entry> index;
  bool index_ok = false;
};

namespace {

std::vector<FileStamp> CurrentStamps(const EntityDef& e, std::vector<std::string>* paths) {
  std::vector<FileStamp> out;
  auto files = ListFiles(e);
  if (!files.ok()) return out;
  *paths = *files;
  for (const auto& p : *paths) out.push_back(StampOf(p));
  return out;
}

std::vector<FileStamp> SnapStamps(const Snapshot& s) {
  std::vector<FileStamp> out;
  for (const auto& f : s.files) out.push_back(f.stamp());
  return out;
}

uint64_t KeyHash(std::string_view k) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : k) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

// Builds the key index over a snapshot. Rows that do not decode are left out.
void FlatFileConnector::BuildIndex(EntityState& st, std::shared_ptr<Snapshot> snap) {
  const EntityDef& e = *st.def;
  st.index.clear();
  RowReader reader(e, snap);
  Row row;
  std::vector<v1::Value> vals(e.key.size());
  std::vector<const v1::Value*> ptrs;
  for (auto& v : vals) ptrs.push_back(&v);
  while (true) {
    auto s = reader.Next(&row);
    if (s == RowReader::Step::kEnd) break;
    if (s == RowReader::Step::kError) continue;
    bool ok = true;
    for (size_t k = 0; k < e.key.size() && ok; ++k) ok = DecodeColumn(e, row, e.key[k], &vals[k]).ok();
    if (!ok) continue;
    st.index.push_back({KeyHash(KeyText(ptrs)), row.pos.start, row.pos.number,
                        static_cast<uint32_t>(row.pos.line), row.pos.file});
  }
  std::sort(st.index.begin(), st.index.end(), [](const EntityState::Entry& a, const EntityState::Entry& b) {
    return a.hash != b.hash ? a.hash < b.hash : (a.file != b.file ? a.file < b.file : a.start < b.start);
  });
  st.index.shrink_to_fit();
}

// Returns the snapshot and candidate positions for a key (fresh index), or nullptr snapshot
// when the index is unusable.
std::shared_ptr<Snapshot> FlatFileConnector::LookupKey(EntityState& st, const std::string& key,
                                                      std::vector<RowPos>* out) {
  std::lock_guard<std::mutex> lock(st.mu);
  std::vector<std::string> paths;
  std::vector<FileStamp> now = CurrentStamps(*st.def, &paths);
  if (!st.index_ok || !st.index_snap || now != st.index_stamps || paths != st.index_snap->paths) {
    auto snap = TakeSnapshot(*st.def);
    if (!snap.ok()) return nullptr;
    BuildIndex(st, *snap);
    st.index_snap = *snap;
    st.index_stamps = SnapStamps(**snap);
    st.index_ok = true;
    ++index_builds_;
  }
  uint64_t h = KeyHash(key);
  auto it = std::lower_bound(st.index.begin(), st.index.end(), h,
                             [](const EntityState::Entry& a, uint64_t v) { return a.hash < v; });
  out->clear();
  for (; it != st.index.end() && it->hash == h; ++it) {
    RowPos p;
    p.file = it->file;
    p.start = it->start;
    p.number = it->number;
    p.line = it->line;
    out->push_back(p);
  }
  return st.index_snap;
}

// ---- Scan ----

class FlatFileConnector::Cursor : public sdk::ScanCursor {
 public:
  Cursor(FlatFileConnector* conn, std::shared_ptr<EntityDef> e, std::shared_ptr<Snapshot> snap,
         std::vector<int> proj, std::vector<int> filter_cols, FilterEvaluator filter,
         std::vector<std::pair<int, bool>> order, int64_t limit, int batch, bool etag,
         std::optional<std::vector<RowPos>> candidates)
      : conn_(conn), e_(std::move(e)), snap_(snap), reader_(*e_, snap), proj_(std::move(proj)),
        filter_cols_(std::move(filter_cols)), filter_(std::move(filter)), order_(std::move(order)),
        limit_(limit), batch_(batch > 0 ? batch : 1000), etag_(etag),
        candidates_(std::move(candidates)) {
    filter_rec_.mutable_values()->Reserve(static_cast<int>(filter_cols_.size()));
    for (size_t i = 0; i < filter_cols_.size(); ++i) filter_rec_.add_values();
  }
  ~Cursor() override {
    if (skipped_ > 0) {
      conn_->host().Log(FA_LOG_WARNING, "flatfile: a scan of " + e_->name + " skipped " +
                                            std::to_string(skipped_) + " bad record(s)");
    }
  }

  Status Next(cv1::ScanBatch* out, bool* end, sdk::CallContext& ctx) override {
    if (done_ && sent_first_) {
      *end = true;
      return Status::OK();
    }
    if (!sent_first_) {
      for (int c : proj_) out->add_fields(e_->columns[static_cast<size_t>(c)].name);
      sent_first_ = true;
    }
    if (!order_.empty() && !sorted_) FA_RETURN_IF_ERROR(Materialize(ctx));
    auto* batch = out->mutable_batch();
    if (!order_.empty()) {
      while (!done_ && batch->records_size() < batch_) {
        if (pos_ >= sorted_rows_.size()) {
          done_ = true;
          break;
        }
        *batch->add_records() = std::move(sorted_rows_[pos_++].second);
      }
      return Status::OK();
    }
    batch->mutable_records()->Reserve(batch_);
    while (!done_ && batch->records_size() < batch_) {
      if ((batch->records_size() & 1023) == 1023) FA_RETURN_IF_ERROR(ctx.CheckCancelled());
      v1::Record* rec = batch->add_records();
      bool got = false;
      Status s = Produce(rec, nullptr, &got);
      if (!s.ok()) return s;
      if (!got) {
        batch->mutable_records()->RemoveLast();
        done_ = true;
      }
    }
    return Status::OK();
  }

  // The same batches as Next, written in wire format as the records are read: no message per
  // value, nothing allocated once the buffers have grown to the batch size.
  Status NextEncoded(std::string* wire, bool* end, sdk::CallContext& ctx) override {
    if (!order_.empty()) return sdk::ScanCursor::NextEncoded(wire, end, ctx);  // sorted as messages
    if (done_ && sent_first_) {
      *end = true;
      return Status::OK();
    }
    if (!sent_first_) {
      for (int c : proj_) {
        const std::string& name = e_->columns[static_cast<size_t>(c)].name;
        wire->push_back(static_cast<char>(wire_tag::kScanBatchFields));
        AppendVarint(name.size(), wire);
        wire->append(name);
      }
      sent_first_ = true;
    }
    body_.Clear();
    int records = 0;
    while (!done_ && records < batch_) {
      if ((records & 1023) == 1023) FA_RETURN_IF_ERROR(ctx.CheckCancelled());
      bool got = false;
      FA_RETURN_IF_ERROR(ProduceEncoded(&got));
      if (!got) {
        done_ = true;
        break;
      }
      ++records;
    }
    wire->push_back(static_cast<char>(wire_tag::kScanBatchBatch));
    AppendVarint(body_.size(), wire);
    wire->append(body_.view());
    return Status::OK();
  }

 private:
  static void AppendVarint(uint64_t v, std::string* out) {
    while (v >= 0x80) {
      out->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out->push_back(static_cast<char>(v));
  }

  // Moves row_ to the next record that passes the filter; *got stays false at the end. Bad
  // records fail the scan or, with the skip policy, are counted and passed over.
  Status NextMatch(bool* got) {
    *got = false;
    Row& row = row_;  // reused: its field vectors keep their capacity
    while (true) {
      if (candidates_) {
        if (cand_i_ >= candidates_->size()) return Status::OK();
        Status s = reader_.SeekTo((*candidates_)[cand_i_++], &row);
        if (!s.ok()) {
          if (!e_->skip_bad) return s;
          Skip(s);
          continue;
        }
      } else {
        auto st = reader_.Next(&row);
        if (st == RowReader::Step::kEnd) return Status::OK();
        if (st == RowReader::Step::kError) {
          if (!e_->skip_bad) return reader_.error();
          Skip(reader_.error());
          continue;
        }
      }
      // Only the filter's own fields are decoded to test it.
      bool bad = false;
      for (size_t i = 0; i < filter_cols_.size(); ++i) {
        v1::Value* v = filter_rec_.mutable_values(static_cast<int>(i));
        if (DecodeColumnFast(*e_, row, filter_cols_[i], v)) continue;
        Status s = DecodeColumn(*e_, row, filter_cols_[i], v);
        if (!s.ok()) {
          Status ps = PositionError(*e_, reader_.snapshot(), row, s);
          if (!e_->skip_bad) return ps;
          Skip(ps);
          bad = true;
          break;
        }
      }
      if (bad || !filter_.Matches(filter_rec_)) continue;
      *got = true;
      return Status::OK();
    }
  }

  // Reads records until one matches; fills `rec` (projection) and `keys` (sort keys).
  Status Produce(v1::Record* rec, v1::Record* keys, bool* got) {
    *got = false;
    if (limit_ > 0 && emitted_ >= limit_ && order_.empty()) return Status::OK();
    const Row& row = row_;
    while (true) {
      bool match = false;
      FA_RETURN_IF_ERROR(NextMatch(&match));
      if (!match) return Status::OK();
      bool bad = false;
      rec->mutable_values()->Clear();
      rec->mutable_values()->Reserve(static_cast<int>(proj_.size()));
      for (int c : proj_) {
        v1::Value* v = rec->add_values();
        if (DecodeColumnFast(*e_, row, c, v)) continue;  // no Status on the hot path
        Status s = DecodeColumn(*e_, row, c, v);
        if (!s.ok()) {
          Status ps = PositionError(*e_, reader_.snapshot(), row, s);
          if (!e_->skip_bad) return ps;
          Skip(ps);
          bad = true;
          break;
        }
      }
      if (bad) continue;
      if (keys) {
        keys->mutable_values()->Clear();
        for (const auto& [c, desc] : order_) {
          Status s = DecodeColumn(*e_, row, c, keys->add_values());
          if (!s.ok()) return PositionError(*e_, reader_.snapshot(), row, s);
        }
      }
      if (etag_) rec->set_etag(HashHex(row.bytes));
      ++emitted_;
      *got = true;
      return Status::OK();
    }
  }

  // Like Produce without order, but appends the record in wire format to body_.
  Status ProduceEncoded(bool* got) {
    *got = false;
    if (limit_ > 0 && emitted_ >= limit_) return Status::OK();
    const Row& row = row_;
    while (true) {
      bool match = false;
      FA_RETURN_IF_ERROR(NextMatch(&match));
      if (!match) return Status::OK();
      // The record goes straight into the batch behind a one-byte length, moved up in the
      // rare case that it is 128 bytes or longer and its length needs more bytes.
      const size_t start = body_.size();
      body_.Byte(wire_tag::kBatchRecord);
      body_.Byte(0);
      const size_t values = body_.size();
      bool bad = false;
      for (int c : proj_) {
        if (EncodeColumnFast(*e_, row, c, &text_, &body_)) continue;
        // Everything else goes through the general decoder and a reused message.
        Status s = DecodeColumn(*e_, row, c, &value_);
        if (!s.ok()) {
          Status ps = PositionError(*e_, reader_.snapshot(), row, s);
          if (!e_->skip_bad) return ps;
          Skip(ps);
          bad = true;
          break;
        }
        PutValue(value_, &body_);
      }
      if (bad) {
        body_.Truncate(start);
        continue;
      }
      if (etag_) body_.Field(wire_tag::kRecordEtag, HashHex(row.bytes));
      const size_t len = body_.size() - values;
      if (len < 0x80) {
        body_.data()[values - 1] = static_cast<char>(len);
      } else {
        const size_t extra = VarintSize(len) - 1;
        body_.Room(extra);
        char* d = body_.data();
        std::memmove(d + values + extra, d + values, len);
        WireBuffer::PutVarint(len, d + values - 1);
        body_.Advance(extra);
      }
      ++emitted_;
      *got = true;
      return Status::OK();
    }
  }

  void Skip(const Status& s) {
    ++skipped_;
    conn_->host().CounterAdd(kSkippedCounter, 1);
    if (skipped_ <= 10) conn_->host().Log(FA_LOG_WARNING, "flatfile: skipping a bad record: " + s.message());
  }

  Status Materialize(sdk::CallContext& ctx) {
    while (true) {
      v1::Record keys, rec;
      bool got = false;
      FA_RETURN_IF_ERROR(Produce(&rec, &keys, &got));
      if (!got) break;
      sorted_rows_.emplace_back(std::move(keys), std::move(rec));
      if ((sorted_rows_.size() & 4095) == 0) FA_RETURN_IF_ERROR(ctx.CheckCancelled());
    }
    std::stable_sort(sorted_rows_.begin(), sorted_rows_.end(), [this](const auto& a, const auto& b) {
      for (size_t i = 0; i < order_.size(); ++i) {
        int c = SortCompare(a.first.values(static_cast<int>(i)), b.first.values(static_cast<int>(i)));
        if (c != 0) return order_[i].second ? c > 0 : c < 0;
      }
      return false;
    });
    if (limit_ > 0 && sorted_rows_.size() > static_cast<size_t>(limit_)) sorted_rows_.resize(static_cast<size_t>(limit_));
    sorted_ = true;
    return Status::OK();
  }

  FlatFileConnector* conn_;
  std::shared_ptr<EntityDef> e_;
  std::shared_ptr<Snapshot> snap_;
  RowReader reader_;
  std::vector<int> proj_;
  std::vector<int> filter_cols_;
  FilterEvaluator filter_;
  v1::Record filter_rec_;
  std::vector<std::pair<int, bool>> order_;
  int64_t limit_;
  int batch_;
  bool etag_;
  std::optional<std::vector<RowPos>> candidates_;
  Row row_;
  WireBuffer body_;        // NextEncoded: the batch's records
  std::string text_;       // NextEncoded: text converted from the file's code page
  v1::Value value_;        // NextEncoded: values the fast path does not handle
  size_t cand_i_ = 0;
  int64_t emitted_ = 0;
  int64_t skipped_ = 0;
  bool sent_first_ = false, done_ = false, sorted_ = false;
  std::vector<std::pair<v1::Record, v1::Record>> sorted_rows_;
  size_t pos_ = 0;
};

FlatFileConnector::FlatFileConnector() = default;
FlatFileConnector::~FlatFileConnector() = default;

Status FlatFileConnector::Open(const cv1::OpenRequest& req) {
  std::string base = DirName(req.config_file());
  auto ents = ParseSettings(req.settings(), base);
  if (!ents.ok()) return ents.status();
  for (auto& e : *ents) {
    auto st = std::make_unique<EntityState>();
    st->def = e;
    if (e->index_on_open && !e->key.empty()) {
      std::vector<RowPos> dummy;
      if (!LookupKey(*st, std::string("\x01"), &dummy)) {
        host().Log(FA_LOG_WARNING, "flatfile: cannot index " + e->name + " yet (file unreadable)");
      }
    }
    entities_[e->name] = std::move(st);
  }
  RecoverJournals();
  return Status::OK();
}

Result<FlatFileConnector::EntityState*> FlatFileConnector::Find(const std::string& name) {
  auto it = entities_.find(name);
  if (it == entities_.end()) {
    return NotFound("no file entity '" + name + "' in this source", "UNKNOWN_ENTITY");
  }
  return it->second.get();
}

Status FlatFileConnector::Describe(const cv1::DescribeRequest& req, cv1::DescribeResponse* resp,
                                   sdk::CallContext&) {
  std::vector<std::string> names(req.entities().begin(), req.entities().end());
  if (names.empty()) {
    for (const auto& [n, st] : entities_) names.push_back(n);
  }
  for (const auto& n : names) {
    FA_ASSIGN_OR_RETURN(EntityState * st, Find(n));
    const EntityDef& e = *st->def;
    auto* re = resp->add_entities();
    re->set_name(e.name);
    re->set_kind(cv1::RAW_ENTITY_KIND_FILE);
    for (const auto& c : e.columns) {
      auto* f = re->add_fields();
      f->set_name(c.name);
      f->set_type(c.type);
      f->set_native_type(c.native);
      f->set_nullable(true);
      f->set_length(c.length);
      f->set_precision(c.precision);
      f->set_scale(c.scale);
    }
    for (int k : e.key) re->add_primary_key(e.columns[static_cast<size_t>(k)].name);
    re->set_writable(e.mode != Mode::kReadOnly);
  }
  return Status::OK();
}

Result<std::unique_ptr<sdk::ScanCursor>> FlatFileConnector::Scan(const cv1::ScanRequest& req,
                                                                 sdk::CallContext&) {
  FA_ASSIGN_OR_RETURN(EntityState * st, Find(req.entity()));
  const EntityDef& e = *st->def;
  std::vector<int> proj;
  if (req.fields().empty()) {
    for (size_t i = 0; i < e.columns.size(); ++i) proj.push_back(static_cast<int>(i));
  } else {
    for (const auto& f : req.fields()) {
      int c = e.FindColumn(f);
      if (c < 0) return InvalidArgument("unknown field '" + f + "' in " + e.name, "UNKNOWN_FIELD", f);
      proj.push_back(c);
    }
  }
  std::vector<std::string> fnames;
  FilterFields(req.filter(), &fnames);
  std::vector<int> fcols;
  for (const auto& n : fnames) {
    int c = e.FindColumn(n);
    if (c < 0) return InvalidArgument("unknown field '" + n + "' in filter on " + e.name, "UNKNOWN_FIELD", n);
    fcols.push_back(c);
  }
  FA_ASSIGN_OR_RETURN(FilterEvaluator filter, FilterEvaluator::Compile(req.filter(), fnames));
  std::vector<std::pair<int, bool>> order;
  for (const auto& o : req.order()) {
    int c = e.FindColumn(o.field());
    if (c < 0) return InvalidArgument("unknown field '" + o.field() + "' in order", "UNKNOWN_FIELD", o.field());
    order.emplace_back(c, o.descending());
  }
  std::optional<std::vector<RowPos>> candidates;
  std::shared_ptr<Snapshot> snap;
  std::vector<const v1::Value*> ops;
  if (KeyOperands(req.filter(), e, &ops)) {
    std::vector<RowPos> pos;
    snap = LookupKey(*st, KeyText(ops), &pos);
    if (snap) candidates = std::move(pos);
  }
  if (!snap) {
    FA_ASSIGN_OR_RETURN(snap, TakeSnapshot(e));
  }
  return std::unique_ptr<sdk::ScanCursor>(new Cursor(this, st->def, snap, std::move(proj), std::move(fcols),
                                                     std::move(filter), std::move(order), req.limit(),
                                                     req.batch_size(), req.with_etag(), std::move(candidates)));
}

Status FlatFileConnector::Health(const cv1::HealthRequest&, cv1::HealthResponse* resp, sdk::CallContext&) {
  for (const auto& [n, st] : entities_) {
    const EntityDef& e = *st->def;
    std::string dir = e.folder ? e.path : DirName(e.path);
    struct stat s;
    if (!dir.empty() && ::stat(dir.c_str(), &s) != 0) {
      resp->set_serving(false);
      resp->set_detail("folder " + dir + " of " + e.name + " is not accessible");
      return Status::OK();
    }
  }
  resp->set_serving(true);
  return Status::OK();
}

// ---- Writes ----

namespace {

// Encodes one CSV value as text.
Result<std::string> CsvText(const Column& c, const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::kNullValue:
    case v1::Value::KIND_NOT_SET: return std::string();
    case v1::Value::kStringValue:
      if (c.type != v1::FIELD_TYPE_STRING) {
        Number n;
        if (!ParseDecimalText(v.string_value(), c.scale, &n, '.')) {
          return InvalidArgument("field " + c.name + ": '" + v.string_value() + "' is not a number",
                                 "TYPE_MISMATCH", c.name);
        }
      }
      return v.string_value();
    case v1::Value::kIntValue: return std::to_string(v.int_value());
    case v1::Value::kDecimalValue: {
      if (c.type == v1::FIELD_TYPE_INT64 || c.type == v1::FIELD_TYPE_DECIMAL) {
        Number n;
        if (!ParseDecimalText(v.decimal_value().value(), c.scale, &n)) {
          return InvalidArgument("field " + c.name + ": " + v.decimal_value().value() + " has more than " +
                                     std::to_string(c.scale) + " decimals",
                                 "TYPE_MISMATCH", c.name);
        }
        std::string t;
        n.AppendDecimal(&t);
        if (c.decimal_sep != '.') std::replace(t.begin(), t.end(), '.', c.decimal_sep);
        return t;
      }
      return v.decimal_value().value();
    }
    default:
      return InvalidArgument("field " + c.name + ": unsupported value type for a CSV file", "TYPE_MISMATCH", c.name);
  }
}

}  // namespace

struct FlatFileConnector::WriteTxn {
  FileLock lock;
  MappedFile current;
  std::unique_lock<std::mutex> path_lock;
  std::shared_ptr<Snapshot> snap;  // the current file as a snapshot
  std::vector<JournalEntry> journal;
};

Status FlatFileConnector::BeginWrite(const EntityDef& e, WriteTxn* t) {
  if (e.mode == Mode::kReadOnly) {
    return FailedPrecondition("entity " + e.name + " is read-only", "READ_ONLY");
  }
  {
    std::lock_guard<std::mutex> g(path_mu_);
    auto& m = path_locks_[e.path];
    if (!m) m = std::make_unique<std::mutex>();
    t->path_lock = std::unique_lock<std::mutex>(*m);
  }
  // Repairing a torn append renames a new file over the one we locked; the lock has to be
  // taken again on the new file before anything is written.
  for (int attempt = 0;; ++attempt) {
    FA_ASSIGN_OR_RETURN(t->lock, FileLock::Acquire(e.path, e.lock, /*exclusive=*/true));
    auto m = MappedFile::Open(e.path);
    if (m.ok()) t->current = std::move(m).value();
    else if (m.status().code() != StatusCode::kNotFound) return m.status();
    else t->current = MappedFile();
    t->snap = std::make_shared<Snapshot>();
    t->snap->paths.push_back(e.path);
    auto m2 = MappedFile::Open(e.path);
    t->snap->files.push_back(m2.ok() ? std::move(m2).value() : MappedFile());
    bool relock = false;
    FA_RETURN_IF_ERROR(LoadJournal(e, t, &relock));
    if (!relock) return Status::OK();
    t->lock.Release();
    if (attempt == 3) return Unavailable(e.path + " keeps changing while its journal is recovered");
  }
}

// Recovers what writers that died left behind (torn appends, unfinished inserts) at open
// rather than at the next write, so that readers see a whole file as soon as the adapter is back.
void FlatFileConnector::RecoverJournals() {
  for (auto& [name, st] : entities_) {
    const EntityDef& e = *st->def;
    if (e.mode == Mode::kReadOnly || ::access(e.journal.c_str(), F_OK) != 0) continue;
    WriteTxn t;
    Status s = BeginWrite(e, &t);
    if (!s.ok()) host().Log(FA_LOG_WARNING, "flatfile: cannot recover the journal of " + name + " yet: " + s.message());
  }
}

namespace {

// An append cut short by a crash (SIGKILL or power loss in the middle of write(2)) leaves a
// prefix of its bytes that ends on a page or sector boundary: the kernel copies a write page by
// page and gives up between pages. Returns the length of the longest such prefix of `bytes` at
// `off`, or 0.
size_t TornAppendPrefix(std::string_view data, uint64_t off, std::string_view bytes) {
  if (off >= data.size() || bytes.size() < 2) return 0;
  constexpr uint64_t kSector = 512;
  for (size_t k = std::min<uint64_t>(bytes.size() - 1, data.size() - off); k > 0; --k) {
    if ((off + k) % kSector == 0 && data.compare(off, k, bytes.substr(0, k)) == 0) return k;
  }
  return 0;
}

}  // namespace

bool FlatFileConnector::FileParses(const EntityDef& e, WriteTxn& t) {
  RowReader reader(e, t.snap);
  Row row;
  while (true) {
    auto s = reader.Next(&row);
    if (s == RowReader::Step::kEnd) return true;
    if (s == RowReader::Step::kError && !e.skip_bad) return false;
  }
}

// Journal line: "<state> <key b64> <hash b64> <ref> <response b64>\n"; state P (temp file
// <ref> renamed over the data file = committed), A (append at <ref> = "offset:length:etag"),
// D (done).
Status FlatFileConnector::LoadJournal(const EntityDef& e, WriteTxn* t, bool* relock) {
  t->journal.clear();
  std::ifstream in(e.journal, std::ios::binary);
  std::string line;
  std::string dir = DirName(e.path);
  std::string_view data = t->current.data();
  bool dirty = false;
  while (in && std::getline(in, line)) {
    std::istringstream ls(line);
    JournalEntry j;
    std::string k, h, r;
    if (!(ls >> j.state >> k >> h >> j.ref >> r)) continue;
    if (!UnB64(k, &j.key) || !UnB64(h, &j.hash) || !UnB64(r, &j.response)) continue;
    if (j.state == 'P') {
      // The temporary file still exists: it was never renamed, the insert did not happen. It
      // is deleted only after the journal no longer names it (below), so that a crash in
      // between cannot make a later reader take a missing file for a committed insert.
      std::string tmp = (dir.empty() ? "" : dir + "/") + j.ref;
      dirty = true;
      if (::access(tmp.c_str(), F_OK) == 0) continue;
      j.state = 'D';
    } else if (j.state == 'A') {
      // ref: "offset:length:hash[:key b64[:record bytes b64]]". An append is in the file if its
      // record is: by key where the entity has one (the legacy program may have changed other
      // fields since), else by its bytes.
      std::vector<std::string> parts;
      for (size_t from = 0;;) {
        size_t colon = j.ref.find(':', from);
        parts.push_back(j.ref.substr(from, colon == std::string::npos ? std::string::npos : colon - from));
        if (colon == std::string::npos) break;
        from = colon + 1;
      }
      if (parts.size() < 3) continue;
      uint64_t off = std::strtoull(parts[0].c_str(), nullptr, 10);
      uint64_t len = std::strtoull(parts[1].c_str(), nullptr, 10);
      std::string key, bytes;
      if (parts.size() > 3 && !UnB64(parts[3], &key)) continue;
      if (parts.size() > 4 && !UnB64(parts[4], &bytes)) continue;
      // A torn piece at the very end is one whatever the key says (its first bytes may hold the
      // whole key); one in the middle (the legacy program appended after it) only when the file
      // does not parse as it is.
      size_t torn = TornAppendPrefix(data, off, bytes);
      bool done = false, parses = true;
      if (torn == 0 || off + torn != data.size()) {
        if (!key.empty() && !e.key.empty()) {
          Row found;
          bool exists = false;
          Status s = FindByKey(e, *t, key, &found, &exists);
          parses = s.ok();
          done = s.ok() && exists;
        } else {
          done = off + len <= data.size() && HashHex(data.substr(off, len)) == parts[2];
          if (!done && torn) parses = FileParses(e, *t);
        }
      }
      if (torn && !done && (off + torn == data.size() || !parses)) {
        // Never acknowledged: cut it out under the lock, with a new file so that readers
        // mapping the old one are not cut short. The entry stays; the next pass drops it.
        host().Log(FA_LOG_WARNING, "flatfile: " + e.path + ": removing " + std::to_string(torn) +
                                       " bytes of an append interrupted at byte " + std::to_string(off));
        FA_RETURN_IF_ERROR(ReplaceFileAtomically(e.path, {data.substr(0, off), data.substr(off + torn)}));
        *relock = true;
        return Status::OK();
      }
      dirty = true;
      if (!done) continue;
      j.state = 'D';
      if (j.key.empty()) continue;  // nothing to replay without an idempotency key
    }
    t->journal.push_back(std::move(j));
  }
  if (dirty) FA_RETURN_IF_ERROR(SaveJournal(e, t));
  // Temporary files of writers that died are garbage now (we hold the lock, and the journal
  // names none of them).
  std::string prefix = BaseName(TempPrefix(e.path));
  std::string jprefix = BaseName(TempPrefix(e.journal));
  if (DIR* d = ::opendir(dir.empty() ? "." : dir.c_str())) {
    while (struct dirent* de = ::readdir(d)) {
      if (std::strncmp(de->d_name, prefix.c_str(), prefix.size()) == 0 ||
          std::strncmp(de->d_name, jprefix.c_str(), jprefix.size()) == 0) {
        ::unlink(((dir.empty() ? "" : dir + "/") + de->d_name).c_str());
      }
    }
    ::closedir(d);
  }
  return Status::OK();
}

Status FlatFileConnector::SaveJournal(const EntityDef& e, WriteTxn* t) {
  constexpr size_t kKeep = 100000;
  size_t from = t->journal.size() > kKeep ? t->journal.size() - kKeep : 0;
  std::string text;
  for (size_t i = from; i < t->journal.size(); ++i) {
    const auto& j = t->journal[i];
    text += j.state;
    auto field = [](const std::string& v) { return v.empty() ? std::string("=") : B64(v); };
    text += ' ' + field(j.key) + ' ' + field(j.hash) + ' ' + j.ref + ' ' + field(j.response) + '\n';
  }
  return ReplaceFileAtomically(e.journal, {text});
}

// Frames record data for the file: RDW/header, line ending.
std::string FlatFileConnector::Frame(const EntityDef& e, const std::string& data, std::string_view old_header,
                                     std::string_view file) {
  std::string out;
  if (e.format == Format::kCsv || e.framing.kind == Framing::Kind::kLines) {
    std::string le = e.line_ending;
    if (e.detect_line_ending && !file.empty()) le = DetectLineEnding(file);
    return data + le;
  }
  if (e.framing.kind == Framing::Kind::kHeader) {
    std::string h(e.framing.header_size, '\0');
    if (old_header.size() == h.size()) h = std::string(old_header);
    uint64_t len = static_cast<uint64_t>(static_cast<int64_t>(data.size()) - e.framing.length_adjust);
    for (uint32_t i = 0; i < e.framing.length_bytes; ++i) {
      uint32_t at = e.framing.big_endian ? e.framing.length_offset + e.framing.length_bytes - 1 - i
                                         : e.framing.length_offset + i;
      h[at] = static_cast<char>((len >> (8 * i)) & 0xFF);
    }
    if (e.framing.valid_offset >= 0) h[static_cast<size_t>(e.framing.valid_offset)] = static_cast<char>(e.framing.valid_value);
    out = h + data;
    return out;
  }
  return data;
}

// Builds a Row for new record data (to decode the response and compute the etag).
namespace {
// The CSV fields of `row` may point into the reader's buffer (unescaped quoted fields), so the
// reader lives as long as the row.
struct OwnedRow {
  std::string text;
  std::optional<CsvReader> reader;
  Row row;
};
Status MakeRow(const EntityDef& e, const std::string& data, OwnedRow* r) {
  r->text = data;
  r->row.bytes = r->text;
  if (e.format == Format::kCsv) {
    r->reader.emplace(r->text, e.csv);
    if (r->reader->Next(&r->row.csv) != CsvReader::Step::kRow) return Internal("cannot re-read the new CSV row");
  }
  return Status::OK();
}
}  // namespace

Status FlatFileConnector::RecordResponse(const EntityDef& e, const std::string& data,
                                         google::protobuf::RepeatedPtrField<std::string>* fields,
                                         v1::Record* rec) {
  OwnedRow r;
  FA_RETURN_IF_ERROR(MakeRow(e, data, &r));
  for (size_t c = 0; c < e.columns.size(); ++c) {
    fields->Add(std::string(e.columns[c].name));
    FA_RETURN_IF_ERROR(DecodeColumn(e, r.row, static_cast<int>(c), rec->add_values()));
  }
  rec->set_etag(HashHex(r.row.bytes));
  return Status::OK();
}

// Encodes values into record data. `base` is the old record data (update) or empty (insert).
Result<std::string> FlatFileConnector::EncodeRecord(const EntityDef& e, const Row* old,
                                                    const google::protobuf::RepeatedPtrField<cv1::FieldValue>& values) {
  for (const auto& fv : values) {
    if (e.FindColumn(fv.field()) < 0) {
      return InvalidArgument("unknown field '" + fv.field() + "' in " + e.name, "UNKNOWN_FIELD", fv.field());
    }
  }
  if (e.format == Format::kCsv) {
    std::vector<std::string> texts(e.columns.size());
    if (old) {
      // Parse the old row again from its bytes (which live in the mapped file).
      CsvReader again(old->bytes, e.csv);
      CsvRow orow;
      if (again.Next(&orow) != CsvReader::Step::kRow || orow.fields.size() != e.columns.size()) {
        return Internal("cannot re-read the record to update");
      }
      for (size_t c = 0; c < e.columns.size(); ++c) {
        std::string_view f = orow.fields[static_cast<size_t>(e.columns[c].src)];
        texts[c].clear();
        size_t bad = 0;
        if (!e.cs->Decode(f, &texts[c], &bad)) texts[c] = std::string(f);  // keep as is
      }
    }
    for (const auto& fv : values) {
      int c = e.FindColumn(fv.field());
      FA_ASSIGN_OR_RETURN(texts[static_cast<size_t>(c)], CsvText(e.columns[static_cast<size_t>(c)], fv.value()));
    }
    std::string row;
    for (size_t c = 0; c < texts.size(); ++c) {
      if (c) row += e.csv.delimiter;
      std::string enc;
      Status s = e.cs->EncodeStatus(texts[c], &enc);
      if (!s.ok()) return InvalidArgument("field " + e.columns[c].name + ": " + s.message(), s.reason(), e.columns[c].name);
      AppendCsvField(enc, e.csv, &row);
    }
    return row;
  }
  RecordCodec codec(e.layout, e.cs, e.trim);
  std::string rec = old ? std::string(old->bytes) : codec.Blank();
  if (!old && e.my_segment >= 0) {
    const std::string& d = e.segments[static_cast<size_t>(e.my_segment)].bytes;
    std::memcpy(rec.data() + e.disc_offset, d.data(), d.size());
  }
  for (const auto& fv : values) {
    int c = e.FindColumn(fv.field());
    FA_RETURN_IF_ERROR(codec.Encode(fv.value(), e.columns[static_cast<size_t>(c)].src, &rec));
  }
  if (e.framing.kind == Framing::Kind::kLines && rec.find('\n') != std::string::npos) {
    return InvalidArgument("a value contains a line break, which a line-framed file cannot hold", "INVALID_VALUE");
  }
  return rec;
}

// Finds the record with key text `key` in the transaction's snapshot.
Status FlatFileConnector::FindByKey(const EntityDef& e, WriteTxn& t, const std::string& key, Row* found,
                                    bool* exists) {
  *exists = false;
  RowReader reader(e, t.snap);
  Row row;
  std::vector<v1::Value> vals(e.key.size());
  std::vector<const v1::Value*> ptrs;
  for (auto& v : vals) ptrs.push_back(&v);
  while (true) {
    auto s = reader.Next(&row);
    if (s == RowReader::Step::kEnd) return Status::OK();
    if (s == RowReader::Step::kError) {
      if (e.skip_bad) continue;
      return reader.error();
    }
    bool ok = true;
    for (size_t k = 0; k < e.key.size() && ok; ++k) ok = DecodeColumn(e, row, e.key[k], &vals[k]).ok();
    if (ok && KeyText(ptrs) == key) {
      if (*exists) {
        return FailedPrecondition(e.name + ": the key matches more than one record", "DUPLICATE_KEY");
      }
      *exists = true;
      *found = row;
    }
  }
}

Result<std::string> FlatFileConnector::KeyFromValues(const EntityDef& e,
                                                     const google::protobuf::RepeatedPtrField<cv1::FieldValue>& kv) {
  if (e.key.empty()) return FailedPrecondition(e.name + " has no key configured (setting key)", "NO_KEY");
  std::vector<const v1::Value*> ptrs(e.key.size(), nullptr);
  for (const auto& fv : kv) {
    bool hit = false;
    for (size_t k = 0; k < e.key.size(); ++k) {
      if (e.columns[static_cast<size_t>(e.key[k])].name == fv.field()) ptrs[k] = &fv.value(), hit = true;
    }
    if (!hit) return InvalidArgument("'" + fv.field() + "' is not a key field of " + e.name, "UNKNOWN_FIELD", fv.field());
  }
  for (size_t k = 0; k < e.key.size(); ++k) {
    if (!ptrs[k]) {
      const std::string& n = e.columns[static_cast<size_t>(e.key[k])].name;
      return InvalidArgument("key field " + n + " is missing", "MISSING_KEY", n);
    }
  }
  return KeyText(ptrs);
}

Status FlatFileConnector::Insert(const cv1::InsertRequest& req, cv1::InsertResponse* resp, sdk::CallContext&) {
  FA_ASSIGN_OR_RETURN(EntityState * st, Find(req.entity()));
  const EntityDef& e = *st->def;
  if (e.mode == Mode::kReadOnly) return FailedPrecondition("entity " + e.name + " is read-only", "READ_ONLY");
  FA_ASSIGN_OR_RETURN(std::string data, EncodeRecord(e, nullptr, req.values()));
  WriteTxn t;
  FA_RETURN_IF_ERROR(BeginWrite(e, &t));
  if (!req.idempotency_key().empty()) {
    for (const auto& j : t.journal) {
      if (j.key != req.idempotency_key()) continue;
      if (j.hash != req.request_hash()) {
        return FailedPrecondition("idempotency key '" + req.idempotency_key() + "' was used for another request",
                                  "IDEMPOTENCY_KEY_REUSED");
      }
      if (!resp->ParseFromString(j.response)) return Internal("unreadable idempotency journal entry");
      resp->set_replayed(true);
      return Status::OK();
    }
  }
  // Decode the new record once: checks it and gives the response.
  FA_RETURN_IF_ERROR(RecordResponse(e, data, resp->mutable_fields(), resp->mutable_record()));
  if (!e.key.empty()) {
    std::vector<const v1::Value*> ptrs;
    for (int k : e.key) ptrs.push_back(&resp->record().values(k));
    Row found;
    bool exists = false;
    FA_RETURN_IF_ERROR(FindByKey(e, t, KeyText(ptrs), &found, &exists));
    if (exists) {
      return Status(StatusCode::kAlreadyExists, e.name + ": a record with this key exists (" +
                                                    Where(e, *t.snap, found) + ")",
                    "ALREADY_EXISTS");
    }
  }
  std::string_view cur = t.current.data();
  std::string sep;
  if ((e.format == Format::kCsv || e.framing.kind == Framing::Kind::kLines) && !cur.empty() && cur.back() != '\n') {
    sep = e.detect_line_ending ? DetectLineEnding(cur) : e.line_ending;
  }
  std::string framed = Frame(e, data, {}, cur);
  if (e.format == Format::kCsv && cur.empty() && e.csv.header) {
    // A new CSV file starts with its header.
    std::string header;
    for (size_t c = 0; c < e.columns.size(); ++c) {
      if (c) header += e.csv.delimiter;
      std::string enc;
      FA_RETURN_IF_ERROR(e.cs->EncodeStatus(e.columns[c].name, &enc));
      AppendCsvField(enc, e.csv, &header);
    }
    framed = header + e.line_ending + framed;
  }
  std::string response;
  resp->SerializeToString(&response);
  if (e.mode == Mode::kAppend) {
    // Journalled with or without an idempotency key: after a crash the entry is what tells a
    // torn piece of this record from data (see TornAppendPrefix).
    std::string key_text;
    if (!req.idempotency_key().empty() && !e.key.empty()) {
      std::vector<const v1::Value*> ptrs;
      for (int k : e.key) ptrs.push_back(&resp->record().values(k));
      key_text = KeyText(ptrs);
    }
    std::string bytes = sep + framed;
    JournalEntry j{'A', req.idempotency_key(), req.request_hash(),
                   std::to_string(cur.size()) + ":" + std::to_string(bytes.size()) + ":" + HashHex(bytes) + ":" +
                       B64(key_text) + ":" + B64(bytes),
                   req.idempotency_key().empty() ? std::string() : response};
    t.journal.push_back(j);
    FA_RETURN_IF_ERROR(SaveJournal(e, &t));
    return AppendDurably(e.path, bytes);
  }
  FA_ASSIGN_OR_RETURN(std::string tmp, WriteTempFile(e.path, {cur, sep, framed}));
  if (!req.idempotency_key().empty()) {
    t.journal.push_back(JournalEntry{'P', req.idempotency_key(), req.request_hash(), BaseName(tmp), response});
    Status s = SaveJournal(e, &t);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
  }
  return CommitTempFile(tmp, e.path);
}

// Update and Delete alike: refuse append-only files, take the write lock, find the record by
// key and check the client's etag against it.
Status FlatFileConnector::LockExistingRecord(const EntityDef& e,
                                             const google::protobuf::RepeatedPtrField<cv1::FieldValue>& key_values,
                                             const std::string& etag, WriteTxn* t, Row* row,
                                             std::string* key) {
  if (e.mode == Mode::kAppend) return FailedPrecondition(e.name + " is append-only", "APPEND_ONLY");
  FA_ASSIGN_OR_RETURN(*key, KeyFromValues(e, key_values));
  FA_RETURN_IF_ERROR(BeginWrite(e, t));
  bool exists = false;
  FA_RETURN_IF_ERROR(FindByKey(e, *t, *key, row, &exists));
  if (!exists) return NotFound(e.name + ": no record with this key", "NOT_FOUND");
  if (!etag.empty() && etag != HashHex(row->bytes)) {
    return Status(StatusCode::kAborted, e.name + ": the record changed since it was read (etag mismatch)",
                  "ETAG_MISMATCH");
  }
  return Status::OK();
}

Status FlatFileConnector::Update(const cv1::UpdateRequest& req, cv1::UpdateResponse* resp, sdk::CallContext&) {
  FA_ASSIGN_OR_RETURN(EntityState * st, Find(req.entity()));
  const EntityDef& e = *st->def;
  WriteTxn t;
  Row row;
  std::string key;
  FA_RETURN_IF_ERROR(LockExistingRecord(e, req.key(), req.etag(), &t, &row, &key));
  FA_ASSIGN_OR_RETURN(std::string data, EncodeRecord(e, &row, req.values()));
  FA_RETURN_IF_ERROR(RecordResponse(e, data, resp->mutable_fields(), resp->mutable_record()));
  // A changed key must stay unique.
  std::vector<const v1::Value*> ptrs;
  for (int k : e.key) ptrs.push_back(&resp->record().values(k));
  std::string new_key = KeyText(ptrs);
  if (new_key != key) {
    Row other;
    bool taken = false;
    FA_RETURN_IF_ERROR(FindByKey(e, t, new_key, &other, &taken));
    if (taken) return Status(StatusCode::kAlreadyExists, e.name + ": the new key is taken", "ALREADY_EXISTS");
  }
  std::string_view cur = t.current.data();
  std::string framed;
  if (e.format == Format::kCsv || e.framing.kind == Framing::Kind::kLines) {
    // Keep this record's own line ending (or none at the end of the file).
    std::string_view ending = cur.substr(row.pos.start + row.bytes.size(), row.end - row.pos.start - row.bytes.size());
    framed = data + std::string(ending);
  } else if (e.framing.kind == Framing::Kind::kHeader) {
    framed = Frame(e, data, cur.substr(row.pos.start, e.framing.header_size), cur);
  } else {
    framed = data;
  }
  return ReplaceFileAtomically(e.path, {cur.substr(0, row.pos.start), framed, cur.substr(row.end)});
}

Status FlatFileConnector::Delete(const cv1::DeleteRequest& req, cv1::DeleteResponse*, sdk::CallContext&) {
  FA_ASSIGN_OR_RETURN(EntityState * st, Find(req.entity()));
  const EntityDef& e = *st->def;
  WriteTxn t;
  Row row;
  std::string key;
  FA_RETURN_IF_ERROR(LockExistingRecord(e, req.key(), req.etag(), &t, &row, &key));
  std::string_view cur = t.current.data();
  return ReplaceFileAtomically(e.path, {cur.substr(0, row.pos.start), cur.substr(row.end)});
}

}  // namespace fachadapter::flatfile

FACHADAPTER_CONNECTOR(flatfile, "flatfile", "0.1.0", ::fachadapter::flatfile::FlatFileConnector)
