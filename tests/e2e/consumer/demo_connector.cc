// A third-party connector, built with fachadapter_add_connector() from the installed CMake
// package against the installed SDK headers only: a read-only in-memory table
//   GRUSS (ID INT64 primary key, TEXT CHAR(12) blank-padded)
// with `rows` rows (setting, 1..1000, default 3). It applies the whole ScanRequest (filter,
// order, projection, limit, batches) as the connector contract asks.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fachadapter/connector/sdk.h"

namespace {

namespace cv1 = fachadapter::connector::v1;
namespace v1 = fachadapter::v1;
using fachadapter::Result;
using fachadapter::Status;

constexpr char kTable[] = "GRUSS";
constexpr int kTextLength = 12;
const std::vector<std::string>& AllFields() {
  static const std::vector<std::string> fields = {"ID", "TEXT"};
  return fields;
}

// Hands out prepared rows in batches.
class RowCursor : public fachadapter::sdk::ScanCursor {
 public:
  RowCursor(std::vector<std::string> fields, std::vector<v1::Record> rows, size_t batch_size)
      : fields_(std::move(fields)), rows_(std::move(rows)), batch_size_(batch_size) {}

  Status Next(cv1::ScanBatch* out, bool* end, fachadapter::sdk::CallContext& ctx) override {
    FA_RETURN_IF_ERROR(ctx.CheckCancelled());
    if (next_ == rows_.size()) {
      *end = true;
      return Status::OK();
    }
    if (next_ == 0) {
      for (const auto& f : fields_) out->add_fields(f);
    }
    const size_t stop = std::min(rows_.size(), next_ + batch_size_);
    for (; next_ < stop; ++next_) *out->mutable_batch()->add_records() = std::move(rows_[next_]);
    return Status::OK();
  }

 private:
  std::vector<std::string> fields_;
  std::vector<v1::Record> rows_;
  size_t batch_size_;
  size_t next_ = 0;
};

class DemoConnector : public fachadapter::sdk::Connector {
 public:
  Status Open(const cv1::OpenRequest& request) override {
    for (const auto& [key, value] : request.settings().fields()) {
      if (key != "rows") {
        return fachadapter::InvalidArgument(
            "source '" + request.source_name() + "': unknown setting '" + key + "'",
            "INVALID_SETTING", key);
      }
      const double n = value.number_value();
      if (value.kind_case() != google::protobuf::Value::kNumberValue || n != std::floor(n) ||
          n < 1 || n > 1000) {
        return fachadapter::InvalidArgument(
            "source '" + request.source_name() + "': setting 'rows' must be a whole number "
            "from 1 to 1000",
            "INVALID_SETTING", key);
      }
      rows_ = static_cast<int>(n);
    }
    return Status::OK();
  }

  Status Describe(const cv1::DescribeRequest& request, cv1::DescribeResponse* response,
                  fachadapter::sdk::CallContext&) override {
    if (!request.entities().empty() &&
        std::find(request.entities().begin(), request.entities().end(), kTable) ==
            request.entities().end()) {
      return Status::OK();
    }
    cv1::RawEntity* e = response->add_entities();
    e->set_name(kTable);
    e->set_kind(cv1::RAW_ENTITY_KIND_TABLE);
    e->add_primary_key("ID");
    cv1::RawField* id = e->add_fields();
    id->set_name("ID");
    id->set_type(v1::FIELD_TYPE_INT64);
    id->set_native_type("INTEGER");
    cv1::RawField* text = e->add_fields();
    text->set_name("TEXT");
    text->set_type(v1::FIELD_TYPE_STRING);
    text->set_native_type("CHAR(12)");
    text->set_length(kTextLength);
    return Status::OK();
  }

  Result<std::unique_ptr<fachadapter::sdk::ScanCursor>> Scan(
      const cv1::ScanRequest& request, fachadapter::sdk::CallContext&) override {
    if (request.entity() != kTable) {
      return fachadapter::NotFound("no raw entity '" + request.entity() + "'", "UNKNOWN_ENTITY");
    }
    const std::vector<std::string>& all = AllFields();
    FA_ASSIGN_OR_RETURN(auto positions, FieldPositions(request));
    FA_ASSIGN_OR_RETURN(fachadapter::FilterEvaluator filter,
                        fachadapter::FilterEvaluator::Compile(request.filter(), all));
    std::vector<std::pair<int, bool>> order;  // position, descending
    for (const cv1::SortKey& k : request.order()) {
      auto it = std::find(all.begin(), all.end(), k.field());
      if (it == all.end()) return UnknownField(k.field());
      order.emplace_back(static_cast<int>(it - all.begin()), k.descending());
    }

    std::vector<v1::Record> rows;
    for (int i = 1; i <= rows_; ++i) {
      v1::Record r;
      r.add_values()->set_int_value(i);
      std::string text = "Gruss " + std::to_string(i);
      text.resize(kTextLength, ' ');
      r.add_values()->set_string_value(std::move(text));
      if (filter.Matches(r)) rows.push_back(std::move(r));
    }
    std::stable_sort(rows.begin(), rows.end(), [&](const v1::Record& a, const v1::Record& b) {
      for (const auto& [pos, descending] : order) {
        const int c = fachadapter::SortCompare(a.values(pos), b.values(pos));
        if (c != 0) return descending ? c > 0 : c < 0;
      }
      return false;
    });
    if (request.limit() > 0 && rows.size() > static_cast<size_t>(request.limit())) {
      rows.resize(static_cast<size_t>(request.limit()));
    }

    std::vector<v1::Record> out;
    out.reserve(rows.size());
    for (const v1::Record& r : rows) {
      v1::Record projected;
      for (int pos : positions) *projected.add_values() = r.values(pos);
      // The table never changes, so the row's key is a stable version.
      if (request.with_etag()) projected.set_etag("v1-" + std::to_string(r.values(0).int_value()));
      out.push_back(std::move(projected));
    }
    std::vector<std::string> names;
    for (int pos : positions) names.push_back(all[static_cast<size_t>(pos)]);
    const size_t batch = request.batch_size() > 0 ? static_cast<size_t>(request.batch_size()) : 100;
    std::unique_ptr<fachadapter::sdk::ScanCursor> cursor =
        std::make_unique<RowCursor>(std::move(names), std::move(out), batch);
    return cursor;
  }

 private:
  static Status UnknownField(const std::string& name) {
    return fachadapter::InvalidArgument(
        "raw entity '" + std::string(kTable) + "' has no field '" + name + "'", "UNKNOWN_FIELD",
        name);
  }

  // Positions in AllFields() of the requested fields (all when none are named).
  static Result<std::vector<int>> FieldPositions(const cv1::ScanRequest& request) {
    const std::vector<std::string>& all = AllFields();
    std::vector<int> positions;
    if (request.fields().empty()) {
      for (size_t i = 0; i < all.size(); ++i) positions.push_back(static_cast<int>(i));
      return positions;
    }
    for (const std::string& f : request.fields()) {
      auto it = std::find(all.begin(), all.end(), f);
      if (it == all.end()) return UnknownField(f);
      positions.push_back(static_cast<int>(it - all.begin()));
    }
    return positions;
  }

  int rows_ = 3;
};

}  // namespace

FACHADAPTER_CONNECTOR(consumer_demo, "consumer_demo", "1.0.0", DemoConnector)
