// The engine turns API requests on mapped entities into connector requests on raw entities and
// back. Its rules, in one place:
//  - Filters are validated and typed against the entity first (unknown field, wrong type and
//    malformed expressions never reach a back end).
//  - Top-level AND terms whose conversions keep their meaning on raw values are pushed down;
//    the rest is evaluated here on converted records (mapping_internal.h decides per field).
//  - Paging is keyset paging on raw sort keys with the raw key as tie-breaker, so tokens work
//    whatever the mapping and stay correct under concurrent inserts.
#include "fachadapter/engine.h"

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include "fachadapter/filter_evaluator.h"
#include "fachadapter/keyset.h"
#include "fachadapter/security/audit_log.h"
#include "fachadapter/values.h"
#include "encoded_batch.h"
#include "fachadapter/connector/wire.h"
#include "mapping_internal.h"
#include "page_token_internal.h"
#include "source_internal.h"

namespace fachadapter {

namespace cv1 = connector::v1;

namespace {

constexpr int kMaxFilterDepth = 64;
constexpr int kMaxFilterTerms = 1000;

Status MaskedField(const std::string& field, const char* use) {
  return Status(StatusCode::kPermissionDenied,
                "field '" + field + "' is shown to you masked; it cannot be used in " + use,
                "FIELD_MASKED", field);
}

Status OutsideRows(const std::string& entity, const char* what) {
  return Status(StatusCode::kPermissionDenied,
                std::string("the ") + what + " would put the " + entity +
                    " record outside the rows you may write",
                "ROW_NOT_PERMITTED", "values");
}

bool IsHidden(const Restrictions* r, const std::string& field) {
  return r && r->hidden_fields.count(field) > 0;
}
bool IsMasked(const Restrictions* r, const std::string& field) {
  return r && r->masked_fields.count(field) > 0;
}
bool HasRowRule(const Restrictions* r) {
  return r && r->rows.kind_case() != v1::Filter::KIND_NOT_SET;
}

// A masked value keeps only whether there is one.
void Mask(v1::Value* v) {
  if (IsNull(*v)) return;
  if (v->kind_case() == v1::Value::kStringValue) {
    v->set_string_value("***");
  } else {
    v->set_null_value(v1::NULL_VALUE);
  }
}

Status UnknownEntity(const std::string& name) {
  return NotFound("entity '" + name + "' does not exist; ListEntities shows the entities served",
                  "UNKNOWN_ENTITY", "entity");
}


std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream sos(&out);
  google::protobuf::io::CodedOutputStream cos(&sos);
  cos.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&cos);
  cos.Trim();
  return out;
}

}  // namespace

// One API entity over one raw entity.
struct EntityRuntime {
  EntityConfig cfg;
  const Source* source = nullptr;
  cv1::RawEntity raw;
  std::vector<FieldMapping> fields;        // API order
  std::map<std::string, int> by_name;      // API name -> index
  std::map<std::string, int> by_raw;       // raw name -> index
  std::vector<int> key;                    // indices of key fields
  v1::Capabilities caps;
  v1::EntitySchema schema;
  std::vector<std::string> api_names;      // all API field names, API order

  int Find(const std::string& name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? -1 : it->second;
  }
  // Connector errors name raw fields; clients know API fields.
  Status Translate(Status s) const {
    if (s.ok() || s.field().empty()) return s;
    auto it = by_raw.find(s.field());
    return it == by_raw.end() ? s : s.WithField(fields[it->second].name());
  }
};

struct Engine::Impl {
  Config config;
  PageTokenSealer tokens = PageTokenSealer::Random();
  std::vector<std::unique_ptr<Source>> sources;
  std::map<std::string, EntityRuntime> entities;

  const EntityRuntime* Entity(const std::string& name) const {
    auto it = entities.find(name);
    return it == entities.end() ? nullptr : &it->second;
  }

  Status CheckOperation(const EntityRuntime& e, bool allowed, const char* op) const {
    if (allowed) return Status::OK();
    return Status(StatusCode::kUnimplemented,
                  std::string("entity '") + e.cfg.name + "' does not support " + op +
                      " (see its capabilities in DescribeEntity)",
                  "OPERATION_NOT_SUPPORTED", "entity");
  }

  // Validates an API filter and coerces its values to the field types.
  // `r` = the caller's restrictions (nullptr for the policy's own and internal filters).
  Status Normalize(const EntityRuntime& e, const v1::Filter& in, v1::Filter* out, int depth,
                   int* terms, const Restrictions* r) const {
    if (depth > kMaxFilterDepth) {
      return InvalidArgument("filter is nested deeper than 64 levels", "INVALID_FILTER", "filter");
    }
    if (++*terms > kMaxFilterTerms) {
      return InvalidArgument("filter has more than 1000 terms", "INVALID_FILTER", "filter");
    }
    switch (in.kind_case()) {
      case v1::Filter::kField: {
        const auto& c = in.field();
        // A hidden field gets the very answer of a field that does not exist.
        int idx = IsHidden(r, c.field()) ? -1 : e.Find(c.field());
        if (idx < 0) {
          return InvalidArgument("unknown field '" + c.field() + "' in filter on entity '" +
                                     e.cfg.name + "'",
                                 "UNKNOWN_FIELD", c.field());
        }
        if (IsMasked(r, c.field())) return MaskedField(c.field(), "a filter");
        const FieldMapping& f = e.fields[idx];
        auto* oc = out->mutable_field();
        oc->set_field(c.field());
        oc->set_op(c.op());
        switch (c.op()) {
          case v1::OPERATOR_IS_NULL:
          case v1::OPERATOR_IS_NOT_NULL:
            return Status::OK();
          case v1::OPERATOR_IN:
            if (c.values().empty()) {
              return InvalidArgument("'in' on field '" + c.field() + "' needs at least one value",
                                     "INVALID_FILTER", c.field());
            }
            for (const auto& v : c.values()) {
              if (IsNull(v)) {
                return InvalidArgument("'in' on field '" + c.field() + "' cannot hold NULL; use is_null",
                                       "INVALID_FILTER", c.field());
              }
              FA_RETURN_IF_ERROR(CoerceToType(v, f.type(), c.field(), oc->add_values()));
            }
            return Status::OK();
          case v1::OPERATOR_PREFIX:
          case v1::OPERATOR_LIKE:
            if (f.type() != v1::FIELD_TYPE_STRING) {
              return InvalidArgument(std::string(c.op() == v1::OPERATOR_LIKE ? "'like'" : "'prefix'") +
                                         " needs a string field; '" + c.field() + "' is " +
                                         FieldTypeName(f.type()),
                                     "INVALID_FILTER", c.field());
            }
            [[fallthrough]];
          case v1::OPERATOR_EQ:
          case v1::OPERATOR_NE:
          case v1::OPERATOR_LT:
          case v1::OPERATOR_LE:
          case v1::OPERATOR_GT:
          case v1::OPERATOR_GE:
            if (IsNull(c.value())) {
              return InvalidArgument("comparison on field '" + c.field() +
                                         "' needs a value; to test for NULL use is_null",
                                     "INVALID_FILTER", c.field());
            }
            return CoerceToType(c.value(), f.type(), c.field(), oc->mutable_value());
          default:
            return InvalidArgument("filter on field '" + c.field() + "' has no valid operator",
                                   "INVALID_FILTER", c.field());
        }
      }
      case v1::Filter::kAnd:
      case v1::Filter::kOr: {
        const auto& list = in.kind_case() == v1::Filter::kAnd ? in.and_() : in.or_();
        if (list.filters().empty()) {
          return InvalidArgument("empty 'and'/'or' in filter", "INVALID_FILTER", "filter");
        }
        auto* ol = in.kind_case() == v1::Filter::kAnd ? out->mutable_and_() : out->mutable_or_();
        for (const auto& child : list.filters()) {
          FA_RETURN_IF_ERROR(Normalize(e, child, ol->add_filters(), depth + 1, terms, r));
        }
        return Status::OK();
      }
      case v1::Filter::kNot:
        return Normalize(e, in.not_(), out->mutable_not_(), depth + 1, terms, r);
      default:
        return InvalidArgument("empty filter expression", "INVALID_FILTER", "filter");
    }
  }

  // Maps a normalized API filter term to raw space; false if it must stay with the core.
  bool ToRaw(const EntityRuntime& e, const v1::Filter& in, v1::Filter* out, bool under_not) const {
    switch (in.kind_case()) {
      case v1::Filter::kField: {
        const auto& c = in.field();
        const FieldMapping& f = e.fields[e.Find(c.field())];
        if (!f.CanPushDown(c.op())) return false;
        if (under_not && !f.CanPushDown(v1::OPERATOR_NE)) return false;
        auto* oc = out->mutable_field();
        oc->set_field(f.raw_name());
        oc->set_op(c.op());
        if (c.has_value() && !f.ToRaw(c.value(), oc->mutable_value()).ok()) return false;
        for (const auto& v : c.values()) {
          if (!f.ToRaw(v, oc->add_values()).ok()) return false;
        }
        return true;
      }
      case v1::Filter::kAnd:
      case v1::Filter::kOr: {
        const auto& list = in.kind_case() == v1::Filter::kAnd ? in.and_() : in.or_();
        auto* ol = in.kind_case() == v1::Filter::kAnd ? out->mutable_and_() : out->mutable_or_();
        for (const auto& child : list.filters()) {
          if (!ToRaw(e, child, ol->add_filters(), under_not)) return false;
        }
        return true;
      }
      case v1::Filter::kNot: return ToRaw(e, in.not_(), out->mutable_not_(), true);
      default: return false;
    }
  }

  struct Plan {
    const EntityRuntime* e = nullptr;
    std::vector<int> projection;               // API field indices to return
    std::vector<cv1::SortKey> order;           // raw sort keys incl. key tie-breaker
    std::vector<v1::Filter> pushed;            // raw filter terms
    v1::Filter residual;                       // API filter terms (and), may be empty
    std::vector<int> needed;                   // API fields to convert per row
    std::vector<bool> masked;                  // per projection entry: return it masked
    uint64_t fingerprint = 0;
  };

  // Normalizes the policy's row filter of `r` (empty if there is none).
  Status RowFilter(const EntityRuntime& e, const Restrictions* r, v1::Filter* out) const {
    if (!HasRowRule(r)) return Status::OK();
    int terms = 0;
    Status s = Normalize(e, r->rows, out, 0, &terms, nullptr);
    if (!s.ok()) {
      // The claim does not fit the field: nobody with that claim may see any row.
      return Status(StatusCode::kPermissionDenied,
                    "your credentials do not fit the row rule of entity '" + e.cfg.name + "'",
                    "ROW_RULE_MISMATCH", "");
    }
    return Status::OK();
  }

  // Whether `api` (all entity fields) lies inside the caller's rows.
  Status CheckRows(const EntityRuntime& e, const Restrictions* r, const v1::Record& api,
                   const char* what) const {
    if (!HasRowRule(r)) return Status::OK();
    v1::Filter rows;
    FA_RETURN_IF_ERROR(RowFilter(e, r, &rows));
    FA_ASSIGN_OR_RETURN(FilterEvaluator ev, FilterEvaluator::Compile(rows, e.api_names));
    return ev.Matches(api) ? Status::OK() : OutsideRows(e.cfg.name, what);
  }

  // Drops hidden fields from a full API record and masks masked ones.
  static void RestrictRecord(const EntityRuntime& e, const Restrictions* r, v1::Record* rec,
                             google::protobuf::RepeatedPtrField<std::string>* names) {
    v1::Record out;
    out.set_etag(rec->etag());
    for (size_t i = 0; i < e.fields.size() && static_cast<int>(i) < rec->values_size(); ++i) {
      const std::string& name = e.fields[i].name();
      if (IsHidden(r, name)) continue;
      v1::Value* v = out.add_values();
      *v = std::move(*rec->mutable_values(static_cast<int>(i)));
      if (IsMasked(r, name)) Mask(v);
      names->Add()->assign(name);
    }
    *rec = std::move(out);
  }

  // `filter`, `fields` and `order_by` come from the caller and are checked against its
  // restrictions `r`; `trusted` (a key lookup) and the row rule of `r` are AND-ed to the filter.
  Status MakePlan(const EntityRuntime& e, const v1::Filter& filter,
                  const google::protobuf::RepeatedPtrField<std::string>& fields,
                  const google::protobuf::RepeatedPtrField<v1::OrderBy>& order_by, Plan* plan,
                  const Restrictions* r = nullptr, const v1::Filter* trusted = nullptr) const {
    plan->e = &e;
    if (fields.empty()) {
      for (size_t i = 0; i < e.fields.size(); ++i) {
        if (!IsHidden(r, e.fields[i].name())) plan->projection.push_back(static_cast<int>(i));
      }
    } else {
      for (const auto& name : fields) {
        int idx = IsHidden(r, name) ? -1 : e.Find(name);
        if (idx < 0) {
          return InvalidArgument("unknown field '" + name + "' in projection of entity '" + e.cfg.name + "'",
                                 "UNKNOWN_FIELD", name);
        }
        plan->projection.push_back(idx);
      }
    }
    for (int idx : plan->projection) plan->masked.push_back(IsMasked(r, e.fields[idx].name()));
    std::string fp = e.cfg.name;
    std::set<int> sorted;
    for (const auto& o : order_by) {
      int idx = IsHidden(r, o.field()) ? -1 : e.Find(o.field());
      if (idx < 0) {
        return InvalidArgument("unknown field '" + o.field() + "' in order_by of entity '" + e.cfg.name + "'",
                               "UNKNOWN_FIELD", o.field());
      }
      if (IsMasked(r, o.field())) return MaskedField(o.field(), "order_by");
      if (!e.fields[idx].sortable()) {
        return InvalidArgument("field '" + o.field() + "' cannot be sorted on: its legacy format does not keep order",
                               "FIELD_NOT_SORTABLE", o.field());
      }
      if (!sorted.insert(idx).second) continue;
      cv1::SortKey k;
      k.set_field(e.fields[idx].raw_name());
      k.set_descending(o.descending());
      plan->order.push_back(k);
      fp += "|o" + o.field() + (o.descending() ? "-" : "+");
    }
    for (int k : e.key) {
      if (sorted.count(k)) continue;
      cv1::SortKey sk;
      sk.set_field(e.fields[k].raw_name());
      plan->order.push_back(sk);
    }
    // The caller's filter, then the trusted terms; all of them must hold.
    std::vector<v1::Filter> parts;
    if (filter.kind_case() != v1::Filter::KIND_NOT_SET) {
      int terms = 0;
      FA_RETURN_IF_ERROR(Normalize(e, filter, &parts.emplace_back(), 0, &terms, r));
    }
    if (trusted && trusted->kind_case() != v1::Filter::KIND_NOT_SET) {
      int terms = 0;
      FA_RETURN_IF_ERROR(Normalize(e, *trusted, &parts.emplace_back(), 0, &terms, nullptr));
    }
    if (HasRowRule(r)) FA_RETURN_IF_ERROR(RowFilter(e, r, &parts.emplace_back()));
    if (!parts.empty()) {
      v1::Filter norm = parts.size() == 1 ? parts[0] : AllOf(parts);
      std::vector<const v1::Filter*> conj;
      for (const auto& p : parts) {
        if (p.has_and_()) {
          for (const auto& c : p.and_().filters()) conj.push_back(&c);
        } else {
          conj.push_back(&p);
        }
      }
      for (const v1::Filter* c : conj) {
        v1::Filter raw;
        if (ToRaw(e, *c, &raw, false)) {
          plan->pushed.push_back(std::move(raw));
        } else {
          *plan->residual.mutable_and_()->add_filters() = *c;
        }
      }
      fp += "|f" + DeterministicBytes(norm);
    }
    plan->fingerprint = Fnv1a64(fp);
    std::set<int> needed(plan->projection.begin(), plan->projection.end());
    if (plan->residual.has_and_()) {
      std::vector<const v1::Filter*> stack{&plan->residual};
      while (!stack.empty()) {
        const v1::Filter* f = stack.back();
        stack.pop_back();
        if (f->has_field()) needed.insert(e.Find(f->field().field()));
        for (const auto& c : f->and_().filters()) stack.push_back(&c);
        for (const auto& c : f->or_().filters()) stack.push_back(&c);
        if (f->has_not_()) stack.push_back(&f->not_());
      }
    }
    plan->needed.assign(needed.begin(), needed.end());
    return Status::OK();
  }

  // Raw condition "after the position `last`" in the plan's order (keyset.h).
  Result<v1::Filter> KeysetFilter(const Plan& plan, const std::vector<v1::Value>& last) const {
    if (last.size() != plan.order.size()) {
      return InvalidArgument("page token does not fit this query", "INVALID_PAGE_TOKEN", "page_token");
    }
    std::optional<v1::Filter> after = AfterRowFilter(plan.order, last);
    if (!after) {  // position is past the end
      return FieldCondition(plan.order[0].field(), v1::OPERATOR_IS_NULL);  // with the rest: matches nothing
    }
    return *std::move(after);
  }

  // Runs a plan batch by batch. Each connector batch is parsed on an arena that lives for that
  // batch only, and its matching records are converted straight into an arena-allocated
  // QueryResponse, projected and masked, so a record is materialized twice in the core (raw and
  // mapped) and nothing is freed piecemeal. `deliver` gets each non-empty response with the raw
  // sort values of its last record, and `cut` = true when the limit stopped the result there;
  // it returns false to stop.
  Status Run(const Plan& plan, const std::string& page_token, int64_t limit, int batch_size,
             bool with_etag, bool forward_encoded, const CallOptions& options,
             const std::function<bool(v1::QueryResponse*, int64_t records, const std::vector<v1::Value>&,
                                      bool cut)>& deliver) const {
    const EntityRuntime& e = *plan.e;
    cv1::ScanRequest req;
    req.set_entity(e.raw.name());
    std::vector<v1::Filter> pushed = plan.pushed;
    if (!page_token.empty()) {
      FA_ASSIGN_OR_RETURN(PageToken tok, tokens.Decode(page_token));
      if (tok.query_fingerprint != plan.fingerprint) {
        return InvalidArgument("page token belongs to another query (entity, filter and order must stay the same)",
                               "INVALID_PAGE_TOKEN", "page_token");
      }
      FA_ASSIGN_OR_RETURN(v1::Filter ks, KeysetFilter(plan, tok.last_sort_values));
      pushed.push_back(std::move(ks));
    }
    if (!pushed.empty()) *req.mutable_filter() = AllOf(std::move(pushed));

    // Layout of a converted record: the projection in order, then fields only the residual
    // filter needs (dropped again once it has matched).
    std::vector<int> layout(plan.projection.begin(), plan.projection.end());
    {
      std::set<int> in_projection(plan.projection.begin(), plan.projection.end());
      for (int i : plan.needed) {
        if (!in_projection.count(i)) layout.push_back(i);
      }
    }
    const int projected = static_cast<int>(plan.projection.size());
    std::vector<std::string> layout_names;
    for (int i : layout) layout_names.push_back(e.fields[i].name());

    // Raw fields to fetch: each converted field once, then sort keys.
    std::vector<std::string> raw_fields;
    std::map<std::string, int> raw_pos;
    auto want = [&](const std::string& raw) {
      if (raw_pos.emplace(raw, static_cast<int>(raw_fields.size())).second) raw_fields.push_back(raw);
    };
    for (int i : layout) want(e.fields[i].raw_name());
    for (const auto& k : plan.order) want(k.field());
    for (const auto& f : raw_fields) req.add_fields(f);
    for (const auto& k : plan.order) *req.add_order() = k;
    const bool exact = !plan.residual.has_and_();
    if (exact && limit > 0) req.set_limit(limit + 1);  // one more tells whether more follow
    req.set_batch_size(batch_size);
    req.set_with_etag(with_etag);

    FilterEvaluator residual;
    if (!exact) {
      FA_ASSIGN_OR_RETURN(residual, FilterEvaluator::Compile(plan.residual, layout_names));
    }
    std::vector<int> conv_pos;  // raw position per layout entry
    for (int i : layout) conv_pos.push_back(raw_pos[e.fields[i].raw_name()]);
    std::vector<int> sort_pos;
    for (const auto& k : plan.order) sort_pos.push_back(raw_pos[k.field()]);
    // A raw value read by one layout entry only, and not needed for the page token, can be
    // handed over instead of copied.
    std::vector<bool> movable(layout.size());
    for (size_t n = 0; n < layout.size(); ++n) {
      movable[n] = std::count(conv_pos.begin(), conv_pos.end(), conv_pos[n]) == 1 &&
                   std::find(sort_pos.begin(), sort_pos.end(), conv_pos[n]) == sort_pos.end();
    }

    // Forwarding (see encoded_batch.h): where every record goes out with the fields the
    // connector sent, in its order, a batch is not parsed into messages. Values that need no
    // conversion are copied as encoded (the whole batch at once when that is all of them),
    // trimmed text is cut out of the encoded bytes, and only the others are parsed one by one.
    enum class Way { kCopy, kTrim, kConvert };
    std::vector<Way> ways(layout.size(), Way::kConvert);
    bool forward = forward_encoded && exact && !with_etag && layout.size() == raw_fields.size();
    bool copy_all = forward;
    for (size_t n = 0; forward && n < layout.size(); ++n) {
      const FieldMapping& fm = e.fields[layout[n]];
      forward = conv_pos[n] == static_cast<int>(n);
      if (!plan.masked[n] && fm.identity()) ways[n] = Way::kCopy;
      if (!plan.masked[n] && fm.trim_only()) ways[n] = Way::kTrim;
      copy_all = copy_all && ways[n] == Way::kCopy;
    }
    v1::Value scratch_raw, scratch_api;
    std::string record_bytes;

    FA_ASSIGN_OR_RETURN(auto cursor, e.source->Scan(req, options));
    int64_t delivered = 0;
    std::vector<v1::Value> last(sort_pos.size());
    const bool pipelined = limit == 0 || limit > batch_size;
    google::protobuf::ArenaOptions arena_options;
    // A point read needs a few hundred bytes; a first block sized for a scan's batch would be
    // allocated, touched and given back to the system on every Get.
    arena_options.start_block_size = pipelined ? 64 * 1024 : 2 * 1024;
    arena_options.max_block_size = 1024 * 1024;
    google::protobuf::Arena arena(arena_options);
    // While one batch is parsed, mapped and sent on this thread, the next one is fetched and
    // encoded on another, so the back end's fetch overlaps everything else (at most two
    // batches in memory). Point reads (Get) skip that: their one batch is all there is.
    struct Fetched {
      Status status;
      bool end = false;
      Source::EncodedBatch batch;
    };
    auto fetch = [&cursor] {
      Fetched f;
      f.status = cursor->NextEncoded(&f.batch, &f.end);
      return f;
    };
    // The sort values of a forwarded batch's last record (its encoded content), for the tokens.
    auto take_last = [&](std::string_view rec) {
      auto* tail = google::protobuf::Arena::CreateMessage<v1::Record>(&arena);
      if (!tail->ParseFromArray(rec.data(), static_cast<int>(rec.size()))) return false;
      for (size_t k = 0; k < sort_pos.size(); ++k) last[k] = tail->values(sort_pos[k]);
      return true;
    };
    // Declared after the cursor, so that leaving early first waits for a fetch still running.
    std::future<Fetched> prefetch;
    while (true) {
      Fetched f = prefetch.valid() ? prefetch.get() : fetch();
      FA_RETURN_IF_ERROR(e.Translate(f.status));
      if (f.end) return Status::OK();
      if (pipelined) prefetch = std::async(std::launch::async, fetch);
      arena.Reset();
      auto* msg = google::protobuf::Arena::CreateMessage<v1::QueryResponse>(&arena);
      bool cut = false;
      int64_t count = 0;
      EncodedBatch encoded;
      EncodedBatchCheck check = EncodedBatchCheck::kNeedsParse;
      if (forward) {
        check = SplitScanBatch(f.batch.bytes(), static_cast<int>(raw_fields.size()), &encoded);
        if (check == EncodedBatchCheck::kMalformed) return cursor->Malformed();
        if (encoded.field_names > 0 && encoded.field_names != static_cast<int>(raw_fields.size())) {
          return Internal("connector returned other fields than requested");
        }
      }
      if (check == EncodedBatchCheck::kForwardable && !copy_all) {
        std::string* out = msg->GetReflection()
                               ->MutableUnknownFields(msg)
                               ->AddLengthDelimited(v1::QueryResponse::kBatchFieldNumber);
        out->reserve(encoded.records.size() + encoded.records.size() / 8);
        EncodedEntries records(encoded.records);
        std::string_view rec, last_rec;
        while (records.Next(&rec)) {
          if (limit > 0 && delivered == limit) {
            cut = true;
            break;
          }
          record_bytes.clear();
          EncodedEntries values(rec);
          std::string_view v, text;
          for (size_t n = 0; values.Next(&v); ++n) {
            if (ways[n] == Way::kCopy) {
              AppendDelimited(sdk::wire::tag::kRecordValue, v, &record_bytes);
            } else if (ways[n] == Way::kTrim && EncodedStringValue(v, &text)) {
              AppendStringValue(e.fields[layout[n]].TrimmedText(text), &record_bytes);
            } else {
              if (!scratch_raw.ParseFromArray(v.data(), static_cast<int>(v.size()))) return cursor->Malformed();
              scratch_api.Clear();
              const FieldMapping& fm = e.fields[layout[n]];
              Status st = fm.ToApi(scratch_raw, &scratch_api);
              if (!st.ok()) return st.WithContext("entity '" + e.cfg.name + "'");
              if (plan.masked[n]) Mask(&scratch_api);
              AppendMessage(sdk::wire::tag::kRecordValue, scratch_api, &record_bytes);
            }
          }
          AppendDelimited(sdk::wire::tag::kBatchRecord, record_bytes, out);
          last_rec = rec;
          ++count;
          ++delivered;
        }
        if (count > 0 && !take_last(last_rec)) return cursor->Malformed();
      } else if (check == EncodedBatchCheck::kForwardable) {
        std::string_view records = encoded.records;
        size_t last_at = encoded.last_record;
        count = encoded.record_count;
        if (limit > 0 && delivered + count > limit) {
          count = limit - delivered;
          cut = true;
          records = records.substr(0, EncodedRecordsPrefix(records, count));
          if (count > 0) last_at = EncodedRecordsPrefix(records, count - 1);
        }
        if (count > 0) {
          std::string_view last_rec;
          if (!EncodedEntries(records.substr(last_at)).Next(&last_rec) || !take_last(last_rec)) {
            return cursor->Malformed();
          }
          msg->GetReflection()
              ->MutableUnknownFields(msg)
              ->AddLengthDelimited(v1::QueryResponse::kBatchFieldNumber)
              ->assign(records.data(), records.size());
          delivered += count;
        } else {
          msg->mutable_batch();  // as the parsing path sends it: an empty batch
        }
      } else {
        auto* raw = google::protobuf::Arena::CreateMessage<cv1::ScanBatch>(&arena);
        FA_RETURN_IF_ERROR(cursor->ParseBatch(f.batch, raw));
        f.batch = Source::EncodedBatch();  // the connector's buffer is no longer needed
        if (raw->fields_size() > 0 && raw->fields_size() != static_cast<int>(raw_fields.size())) {
          return Internal("connector returned other fields than requested");
        }
        auto* records = msg->mutable_batch()->mutable_records();
        records->Reserve(raw->batch().records_size());
        for (auto& rec : *raw->mutable_batch()->mutable_records()) {
          if (rec.values_size() < static_cast<int>(raw_fields.size())) {
            return Internal("connector returned a record with too few values");
          }
          v1::Record* out = records->Add();
          auto* values = out->mutable_values();
          values->Reserve(static_cast<int>(layout.size()));
          for (size_t n = 0; n < layout.size(); ++n) {
            const FieldMapping& fm = e.fields[layout[n]];
            Status s = movable[n] ? fm.ToApiMove(rec.mutable_values(conv_pos[n]), values->Add())
                                  : fm.ToApi(rec.values(conv_pos[n]), values->Add());
            if (!s.ok()) return s.WithContext("entity '" + e.cfg.name + "'");
          }
          if (!exact && !residual.Matches(*out)) {
            records->RemoveLast();
            continue;
          }
          if (limit > 0 && delivered == limit) {
            records->RemoveLast();
            cut = true;
            break;
          }
          while (values->size() > projected) values->RemoveLast();
          for (int n = 0; n < projected; ++n) {
            if (plan.masked[n]) Mask(values->Mutable(n));
          }
          if (with_etag) out->set_etag(rec.etag());
          for (size_t k = 0; k < sort_pos.size(); ++k) last[k] = rec.values(sort_pos[k]);
          ++delivered;
        }
        count = records->size();
      }
      if ((count > 0 || cut) && !deliver(msg, count, last, cut)) return Status::OK();
      if (cut) return Status::OK();
      if (options.is_cancelled && options.is_cancelled()) {
        return Status(StatusCode::kCancelled, "the client cancelled the query", "CANCELLED");
      }
    }
  }

  // Converts API key values to a raw filter term list.
  Status KeyFilter(const EntityRuntime& e, const v1::Key& key, v1::Filter* api_filter,
                   std::vector<cv1::FieldValue>* raw_key) const {
    if (e.key.empty()) {
      return FailedPrecondition("entity '" + e.cfg.name + "' has no key", "NO_KEY", "key");
    }
    if (key.values_size() != static_cast<int>(e.key.size())) {
      std::string names;
      for (int k : e.key) names += (names.empty() ? "" : ", ") + e.fields[k].name();
      return InvalidArgument("entity '" + e.cfg.name + "' has " + std::to_string(e.key.size()) +
                                 " key field(s) (" + names + "), the request gave " +
                                 std::to_string(key.values_size()) + " value(s)",
                             "INVALID_KEY", "key");
    }
    for (size_t i = 0; i < e.key.size(); ++i) {
      const FieldMapping& f = e.fields[e.key[i]];
      if (IsNull(key.values(static_cast<int>(i)))) {
        return InvalidArgument("key field '" + f.name() + "' cannot be NULL", "INVALID_KEY", f.name());
      }
      v1::Value typed;
      FA_RETURN_IF_ERROR(CoerceToType(key.values(static_cast<int>(i)), f.type(), f.name(), &typed));
      if (api_filter) {
        auto* c = api_filter->mutable_and_()->add_filters()->mutable_field();
        c->set_field(f.name());
        c->set_op(v1::OPERATOR_EQ);
        *c->mutable_value() = typed;
      }
      if (raw_key) {
        cv1::FieldValue fv;
        fv.set_field(f.raw_name());
        FA_RETURN_IF_ERROR(f.ToRaw(typed, fv.mutable_value()));
        raw_key->push_back(std::move(fv));
      }
    }
    return Status::OK();
  }

  // Converts client values to raw field values; `is_update` forbids key changes.
  // `r` = the caller's restrictions; `typed` (optional) receives the typed API values by index.
  Status ValuesToRaw(const EntityRuntime& e, const google::protobuf::Map<std::string, v1::Value>& values,
                     bool is_update, google::protobuf::RepeatedPtrField<cv1::FieldValue>* out,
                     const Restrictions* r = nullptr,
                     std::vector<std::pair<int, v1::Value>>* typed_out = nullptr) const {
    std::vector<std::string> names;
    for (const auto& [name, v] : values) names.push_back(name);
    std::sort(names.begin(), names.end());  // deterministic raw order (and request hash)
    std::set<int> given;
    for (const auto& name : names) {
      int idx = IsHidden(r, name) ? -1 : e.Find(name);
      if (idx < 0) {
        return InvalidArgument("unknown field '" + name + "' for entity '" + e.cfg.name + "'",
                               "UNKNOWN_FIELD", name);
      }
      if (IsMasked(r, name)) return MaskedField(name, "values");
      const FieldMapping& f = e.fields[idx];
      if (f.config().read_only) {
        return InvalidArgument("field '" + name + "' is read-only", "FIELD_READ_ONLY", name);
      }
      if (is_update && std::find(e.key.begin(), e.key.end(), idx) != e.key.end()) {
        return InvalidArgument("key field '" + name + "' cannot be changed by Update", "FIELD_READ_ONLY", name);
      }
      v1::Value typed;
      FA_RETURN_IF_ERROR(CoerceToType(values.at(name), f.type(), name, &typed));
      if (IsNull(typed) && !f.raw().nullable() && !f.has_null_markers()) {
        return InvalidArgument("field '" + name + "' cannot be NULL", "NULL_NOT_ALLOWED", name);
      }
      auto* fv = out->Add();
      fv->set_field(f.raw_name());
      FA_RETURN_IF_ERROR(f.ToRaw(typed, fv->mutable_value()));
      given.insert(idx);
      if (typed_out) typed_out->emplace_back(idx, std::move(typed));
    }
    if (!is_update) {
      // Legacy programs expect their "no value" marker, not NULL, in fields the client left out.
      for (size_t i = 0; i < e.fields.size(); ++i) {
        const FieldMapping& f = e.fields[i];
        if (given.count(static_cast<int>(i)) || f.config().read_only || !f.has_null_markers()) continue;
        auto* fv = out->Add();
        fv->set_field(f.raw_name());
        v1::Value null;
        null.set_null_value(v1::NULL_VALUE);
        FA_RETURN_IF_ERROR(f.ToRaw(null, fv->mutable_value()));
      }
    }
    return Status::OK();
  }

  // Reads the full record at `key` if it lies inside the caller's rows; outside them it is
  // NOT_FOUND exactly like a missing record, so rows of others cannot be probed by key.
  Status ReadPermitted(const EntityRuntime& e, const v1::Key& key, const Restrictions* r,
                       const CallOptions& options, v1::Record* out) const {
    v1::Filter filter;
    FA_RETURN_IF_ERROR(KeyFilter(e, key, &filter, nullptr));
    Restrictions rows_only;
    rows_only.rows = r->rows;
    Plan plan;
    FA_RETURN_IF_ERROR(MakePlan(e, v1::Filter(), {}, {}, &plan, &rows_only, &filter));
    bool found = false;
    // An empty projection is every field in entity order, which is what callers index by.
    FA_RETURN_IF_ERROR(Run(plan, "", 1, 1, true, false, options,
        [&](v1::QueryResponse* msg, int64_t, const std::vector<v1::Value>&, bool) {
          if (msg->batch().records_size() == 0) return false;
          *out = msg->batch().records(0);
          found = true;
          return false;
        }));
    if (!found) {
      std::string k;
      for (const auto& v : key.values()) k += (k.empty() ? "" : ", ") + ValueToString(v);
      return NotFound("no " + e.cfg.name + " with key (" + k + ")", "RECORD_NOT_FOUND", "key");
    }
    return Status::OK();
  }

  // Raw record (with raw field names) -> API record of all fields.
  Status RecordToApi(const EntityRuntime& e, const google::protobuf::RepeatedPtrField<std::string>& raw_fields,
                     const v1::Record& raw, v1::Record* out) const {
    std::map<std::string, int> pos;
    for (int i = 0; i < raw_fields.size(); ++i) pos[raw_fields[i]] = i;
    out->Clear();
    for (const auto& f : e.fields) {
      auto it = pos.find(f.raw_name());
      v1::Value* v = out->add_values();
      if (it == pos.end() || it->second >= raw.values_size()) {
        v->set_null_value(v1::NULL_VALUE);
        continue;
      }
      Status s = f.ToApi(raw.values(it->second), v);
      if (!s.ok()) return s.WithContext("entity '" + e.cfg.name + "'");
    }
    out->set_etag(raw.etag());
    return Status::OK();
  }

  Status BuildEntity(const EntityConfig& cfg, const Source* src, const cv1::RawEntity& raw,
                     EntityRuntime* e) const {
    const std::string where = config.Where(cfg.location) + ": entity '" + cfg.name + "'";
    e->cfg = cfg;
    e->source = src;
    e->raw = raw;
    std::map<std::string, const cv1::RawField*> raw_by_name;
    std::string columns;
    for (const auto& f : raw.fields()) {
      raw_by_name[f.name()] = &f;
      columns += (columns.empty() ? "" : ", ") + f.name();
    }
    std::vector<FieldConfig> fields = cfg.fields;
    if (cfg.all_fields) {
      for (const auto& f : raw.fields()) {
        FieldConfig fc;
        fc.name = f.name();
        fc.column = f.name();
        fc.read_only = f.auto_generated();
        fields.push_back(fc);
      }
    }
    for (const auto& fc : fields) {
      auto it = raw_by_name.find(fc.column);
      if (it == raw_by_name.end()) {
        return InvalidArgument(config.Where(fc.location) + ": field '" + fc.name + "' of entity '" +
                                   cfg.name + "': table " + raw.name() + " has no column '" + fc.column +
                                   "' (it has: " + columns + ")",
                               "INVALID_CONFIG");
      }
      auto m = FieldMapping::Create(fc, *it->second);
      if (!m.ok()) return InvalidArgument(config.Where(fc.location) + ": " + m.status().message(), "INVALID_CONFIG");
      e->by_name[fc.name] = static_cast<int>(e->fields.size());
      e->by_raw[fc.column] = static_cast<int>(e->fields.size());
      e->api_names.push_back(fc.name);
      e->fields.push_back(std::move(m).value());
    }
    if (!cfg.key.empty()) {
      for (const auto& k : cfg.key) e->key.push_back(e->Find(k));
    } else {
      for (const auto& pk : raw.primary_key()) {
        auto it = e->by_raw.find(pk);
        if (it == e->by_raw.end()) {
          return InvalidArgument(where + ": its primary key column " + pk +
                                     " is not among the exposed fields; expose it or set 'key'",
                                 "INVALID_CONFIG");
        }
        e->key.push_back(it->second);
      }
    }
    for (int k : e->key) {
      if (!e->fields[k].CanPushDown(v1::OPERATOR_EQ)) {
        return InvalidArgument(where + ": key field '" + e->fields[k].name() +
                                   "' has a conversion that cannot be looked up in the back end (e.g. trim); use an unconverted key",
                               "INVALID_CONFIG");
      }
    }
    const bool has_key = !e->key.empty();
    std::set<std::string> ops(cfg.operations.begin(), cfg.operations.end());
    auto allowed = [&](const char* op, bool possible, const char* why) -> Status {
      if (ops.count(op) && !possible) {
        return InvalidArgument(where + ": operation '" + op + "' is not possible: " + why, "INVALID_CONFIG");
      }
      return Status::OK();
    };
    auto set = [&](const char* op, bool possible) {
      return (cfg.operations.empty() || ops.count(op)) && possible;
    };
    FA_RETURN_IF_ERROR(allowed("get", has_key, "the entity has no key"));
    FA_RETURN_IF_ERROR(allowed("create", raw.writable(), "the raw entity is read-only"));
    FA_RETURN_IF_ERROR(allowed("update", raw.writable() && has_key, "the raw entity is read-only or has no key"));
    FA_RETURN_IF_ERROR(allowed("delete", raw.writable() && has_key, "the raw entity is read-only or has no key"));
    e->caps.set_get(set("get", has_key));
    e->caps.set_query(set("query", true));
    e->caps.set_create(set("create", raw.writable()));
    e->caps.set_update(set("update", raw.writable() && has_key));
    e->caps.set_delete_(set("delete", raw.writable() && has_key));

    auto& s = e->schema;
    s.set_name(cfg.name);
    s.set_description(cfg.description);
    s.set_source(src->name());
    *s.mutable_capabilities() = e->caps;
    for (size_t i = 0; i < e->fields.size(); ++i) {
      const FieldMapping& f = e->fields[i];
      auto* fs = s.add_fields();
      fs->set_name(f.name());
      fs->set_type(f.type());
      fs->set_nullable(f.raw().nullable() || f.has_null_markers());
      bool is_key = std::find(e->key.begin(), e->key.end(), static_cast<int>(i)) != e->key.end();
      fs->set_key(is_key);
      fs->set_personal_data(f.config().personal_data);
      fs->set_read_only(f.config().read_only || f.raw().auto_generated());
      fs->set_description(f.config().description);
      fs->set_filterable(true);
      fs->set_sortable(f.sortable());
      for (const auto& [r, a] : f.config().codes) fs->add_allowed_values(a);
    }
    for (int k : e->key) s.add_key_fields(e->fields[k].name());
    return Status::OK();
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

const Config& Engine::config() const { return impl_->config; }

Result<std::unique_ptr<Engine>> Engine::Start(const Config& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  if (!config.server.page_token_key.empty()) {
    FA_ASSIGN_OR_RETURN(impl->tokens, PageTokenSealer::FromKey(config.server.page_token_key));
  }
  std::map<std::string, const Source*> by_name;
  for (const auto& sc : config.sources) {
    auto src = Source::Open(sc, config);
    if (!src.ok()) {
      Status s = src.status();
      return Status(s.code() == StatusCode::kInvalidArgument ? s.code() : StatusCode::kFailedPrecondition,
                    config.Where(sc.location) + ": source '" + sc.name + "' (connector " + sc.connector +
                        "): " + s.message(),
                    s.reason());
    }
    by_name[sc.name] = src->get();
    impl->sources.push_back(std::move(src).value());
  }
  // One Describe per source, for the tables its entities use.
  std::map<std::string, std::vector<std::string>> tables;
  for (const auto& ec : config.entities) tables[ec.source].push_back(ec.table);
  std::map<std::pair<std::string, std::string>, cv1::RawEntity> raw;
  for (const auto& [source, names] : tables) {
    const Source* src = by_name.at(source);
    cv1::DescribeRequest req;
    cv1::DescribeResponse resp;
    Status s = src->Call(FA_METHOD_DESCRIBE, req, &resp, CallOptions{});
    if (!s.ok()) {
      const SourceConfig* sc = nullptr;
      for (const auto& c : config.sources) if (c.name == source) sc = &c;
      return Status(StatusCode::kFailedPrecondition,
                    config.Where(sc->location) + ": source '" + source + "': cannot read its catalog: " + s.message(),
                    s.reason());
    }
    for (const auto& r : resp.entities()) raw[{source, r.name()}] = r;
  }
  for (const auto& ec : config.entities) {
    auto it = raw.find({ec.source, ec.table});
    if (it == raw.end()) {
      std::string have;
      for (const auto& [k, r] : raw) {
        if (k.first == ec.source) have += (have.empty() ? "" : ", ") + k.second;
      }
      return InvalidArgument(config.Where(ec.location) + ": entity '" + ec.name + "': source '" + ec.source +
                                 "' has no table or view '" + ec.table + "' (it has: " + have + ")",
                             "INVALID_CONFIG");
    }
    EntityRuntime e;
    FA_RETURN_IF_ERROR(impl->BuildEntity(ec, by_name.at(ec.source), it->second, &e));
    impl->entities.emplace(ec.name, std::move(e));
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Status Engine::ListEntities(v1::ListEntitiesResponse* out) const {
  for (const auto& [name, e] : impl_->entities) *out->add_entities() = e.schema;
  return Status::OK();
}

Status Engine::DescribeEntity(const v1::DescribeEntityRequest& request, v1::EntitySchema* out) const {
  const EntityRuntime* e = impl_->Entity(request.entity());
  if (!e) return UnknownEntity(request.entity());
  *out = e->schema;
  return Status::OK();
}

Status Engine::Get(const v1::GetRequest& request, v1::GetResponse* out, const CallOptions& options) const {
  const EntityRuntime* e = impl_->Entity(request.entity());
  if (!e) return UnknownEntity(request.entity());
  FA_RETURN_IF_ERROR(impl_->CheckOperation(*e, e->caps.get(), "get"));
  v1::Filter filter;
  FA_RETURN_IF_ERROR(impl_->KeyFilter(*e, request.key(), &filter, nullptr));
  Impl::Plan plan;
  FA_RETURN_IF_ERROR(impl_->MakePlan(*e, v1::Filter(), request.fields(), {}, &plan,
                                     options.restrictions, &filter));
  bool found = false;
  FA_RETURN_IF_ERROR(impl_->Run(plan, "", 1, 1, true, false, options,
      [&](v1::QueryResponse* msg, int64_t, const std::vector<v1::Value>&, bool) {
        if (msg->batch().records_size() == 0) return false;
        *out->mutable_record() = msg->batch().records(0);
        found = true;
        return false;
      }));
  if (!found) {
    std::string key;
    for (const auto& v : request.key().values()) key += (key.empty() ? "" : ", ") + ValueToString(v);
    return NotFound("no " + e->cfg.name + " with key (" + key + ")", "RECORD_NOT_FOUND", "key");
  }
  for (int i : plan.projection) out->add_fields(e->fields[i].name());
  return Status::OK();
}

Status Engine::Query(const v1::QueryRequest& request, const std::function<bool(v1::QueryResponse&)>& emit,
                     const CallOptions& options) const {
  return QueryWith(request, [&](v1::QueryResponse& msg, int64_t) { return emit(msg); }, options, false);
}

Status Engine::QueryEncoded(const v1::QueryRequest& request,
                            const std::function<bool(v1::QueryResponse&, int64_t records)>& emit,
                            const CallOptions& options) const {
  return QueryWith(request, emit, options, true);
}

Status Engine::QueryWith(const v1::QueryRequest& request,
                         const std::function<bool(v1::QueryResponse&, int64_t records)>& emit,
                         const CallOptions& options, bool forward_encoded) const {
  const EntityRuntime* e = impl_->Entity(request.entity());
  if (!e) return UnknownEntity(request.entity());
  FA_RETURN_IF_ERROR(impl_->CheckOperation(*e, e->caps.query(), "query"));
  if (request.limit() < 0) return InvalidArgument("limit must not be negative", "INVALID_LIMIT", "limit");
  if (request.batch_size() < 0) return InvalidArgument("batch_size must not be negative", "INVALID_BATCH_SIZE", "batch_size");
  const auto& limits = impl_->config.limits;
  int batch = request.batch_size() == 0 ? limits.default_batch_records
                                        : std::min(request.batch_size(), limits.max_batch_records);
  Impl::Plan plan;
  FA_RETURN_IF_ERROR(impl_->MakePlan(*e, request.filter(), request.fields(), request.order_by(), &plan,
                                     options.restrictions));

  bool first = true, gone = false;
  Status s = impl_->Run(plan, request.page_token(), request.limit(), batch, false, forward_encoded, options,
      [&](v1::QueryResponse* msg, int64_t records, const std::vector<v1::Value>& last, bool cut) {
        if (first) {
          for (int i : plan.projection) msg->add_fields(e->fields[i].name());
          first = false;
        }
        if (!last.empty()) {
          std::string token = impl_->tokens.Encode({plan.fingerprint, last});
          if (cut) msg->set_next_page_token(token);
          msg->set_resume_token(std::move(token));
        }
        if (!emit(*msg, records)) gone = true;
        return !gone;
      });
  FA_RETURN_IF_ERROR(s);
  if (gone) return Status(StatusCode::kCancelled, "the client went away", "CANCELLED");
  if (first) {  // no records at all: one message still names the fields
    v1::QueryResponse msg;
    for (int i : plan.projection) msg.add_fields(e->fields[i].name());
    if (!emit(msg, 0)) return Status(StatusCode::kCancelled, "the client went away", "CANCELLED");
  }
  return Status::OK();
}

Status Engine::Create(const v1::CreateRequest& request, v1::CreateResponse* out,
                      const CallOptions& options) const {
  const EntityRuntime* e = impl_->Entity(request.entity());
  if (!e) return UnknownEntity(request.entity());
  FA_RETURN_IF_ERROR(impl_->CheckOperation(*e, e->caps.create(), "create"));
  if (request.idempotency_key().size() > 200) {
    return InvalidArgument("idempotency_key is longer than 200 characters", "INVALID_IDEMPOTENCY_KEY",
                           "idempotency_key");
  }
  cv1::InsertRequest req;
  req.set_entity(e->raw.name());
  const Restrictions* r = options.restrictions;
  std::vector<std::pair<int, v1::Value>> typed;
  FA_RETURN_IF_ERROR(impl_->ValuesToRaw(*e, request.values(), false, req.mutable_values(), r, &typed));
  if (HasRowRule(r)) {
    v1::Record api;
    for (size_t i = 0; i < e->fields.size(); ++i) api.add_values()->set_null_value(v1::NULL_VALUE);
    for (auto& [i, v] : typed) *api.mutable_values(i) = std::move(v);
    FA_RETURN_IF_ERROR(impl_->CheckRows(*e, r, api, "values"));
  }
  if (!request.idempotency_key().empty()) {
    req.set_idempotency_key(request.idempotency_key());
    std::string canon = e->cfg.name;
    for (const auto& fv : req.values()) canon += '\0' + fv.field() + '\0' + DeterministicBytes(fv.value());
    req.set_request_hash(security::Sha256Hex(canon));
  }
  cv1::InsertResponse resp;
  FA_RETURN_IF_ERROR(e->Translate(e->source->Call(FA_METHOD_INSERT, req, &resp, options)));
  FA_RETURN_IF_ERROR(impl_->RecordToApi(*e, resp.fields(), resp.record(), out->mutable_record()));
  if (r) {
    Impl::RestrictRecord(*e, r, out->mutable_record(), out->mutable_fields());
  } else {
    for (const auto& f : e->fields) out->add_fields(f.name());
  }
  out->set_replayed(resp.replayed());
  return Status::OK();
}

Status Engine::Update(const v1::UpdateRequest& request, v1::UpdateResponse* out,
                      const CallOptions& options) const {
  const EntityRuntime* e = impl_->Entity(request.entity());
  if (!e) return UnknownEntity(request.entity());
  FA_RETURN_IF_ERROR(impl_->CheckOperation(*e, e->caps.update(), "update"));
  cv1::UpdateRequest req;
  req.set_entity(e->raw.name());
  std::vector<cv1::FieldValue> key;
  FA_RETURN_IF_ERROR(impl_->KeyFilter(*e, request.key(), nullptr, &key));
  for (auto& k : key) *req.add_key() = std::move(k);
  if (request.values().empty()) {
    return InvalidArgument("update gives no values to change", "NO_VALUES", "values");
  }
  const Restrictions* r = options.restrictions;
  std::vector<std::pair<int, v1::Value>> typed;
  FA_RETURN_IF_ERROR(impl_->ValuesToRaw(*e, request.values(), true, req.mutable_values(), r, &typed));
  req.set_etag(request.etag());
  if (HasRowRule(r)) {
    v1::Record current;
    FA_RETURN_IF_ERROR(impl_->ReadPermitted(*e, request.key(), r, options, &current));
    for (auto& [i, v] : typed) *current.mutable_values(i) = std::move(v);
    FA_RETURN_IF_ERROR(impl_->CheckRows(*e, r, current, "update"));
    // The check holds for the version just read; only that version may be changed.
    if (req.etag().empty()) req.set_etag(current.etag());
  }
  cv1::UpdateResponse resp;
  FA_RETURN_IF_ERROR(e->Translate(e->source->Call(FA_METHOD_UPDATE, req, &resp, options)));
  FA_RETURN_IF_ERROR(impl_->RecordToApi(*e, resp.fields(), resp.record(), out->mutable_record()));
  if (r) {
    Impl::RestrictRecord(*e, r, out->mutable_record(), out->mutable_fields());
  } else {
    for (const auto& f : e->fields) out->add_fields(f.name());
  }
  return Status::OK();
}

Status Engine::Delete(const v1::DeleteRequest& request, v1::DeleteResponse* out,
                      const CallOptions& options) const {
  const EntityRuntime* e = impl_->Entity(request.entity());
  if (!e) return UnknownEntity(request.entity());
  FA_RETURN_IF_ERROR(impl_->CheckOperation(*e, e->caps.delete_(), "delete"));
  cv1::DeleteRequest req;
  req.set_entity(e->raw.name());
  std::vector<cv1::FieldValue> key;
  FA_RETURN_IF_ERROR(impl_->KeyFilter(*e, request.key(), nullptr, &key));
  for (auto& k : key) *req.add_key() = std::move(k);
  req.set_etag(request.etag());
  if (HasRowRule(options.restrictions)) {
    v1::Record current;
    FA_RETURN_IF_ERROR(impl_->ReadPermitted(*e, request.key(), options.restrictions, options, &current));
    if (req.etag().empty()) req.set_etag(current.etag());
  }
  cv1::DeleteResponse resp;
  return e->Translate(e->source->Call(FA_METHOD_DELETE, req, &resp, options));
}

std::vector<SourceHealth> Engine::CheckHealth() const {
  std::vector<SourceHealth> out;
  for (const auto& src : impl_->sources) {
    cv1::HealthRequest req;
    cv1::HealthResponse resp;
    CallOptions o;
    o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
    Status s = src->Call(FA_METHOD_HEALTH, req, &resp, o);
    if (!s.ok()) {
      out.push_back({src->name(), false, s.message()});
    } else {
      out.push_back({src->name(), resp.serving(), resp.detail()});
    }
  }
  return out;
}

}  // namespace fachadapter
