// AfterRowFilter (keyset.h): for every row of a result in the API's order (NULLs first
// ascending, last descending), the condition built from its sort values matches exactly the
// rows after it, evaluated with the core's FilterEvaluator. Orders with ties broken by a key,
// NULLs in ascending and descending keys, and positions past the end.
#include "fachadapter/keyset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fachadapter/filter_evaluator.h"

namespace fachadapter {
namespace {

namespace cv1 = ::fachadapter::connector::v1;

v1::Value Int(int64_t i) {
  v1::Value v;
  v.set_int_value(i);
  return v;
}

v1::Value Null() {
  v1::Value v;
  v.set_null_value(v1::NULL_VALUE);
  return v;
}

cv1::SortKey Key(const std::string& field, bool descending) {
  cv1::SortKey k;
  k.set_field(field);
  k.set_descending(descending);
  return k;
}

// Rows (grp, id): grp repeats and is NULL in some rows; id is the unique key.
std::vector<v1::Record> Rows() {
  std::vector<v1::Record> rows;
  for (int64_t id = 1; id <= 24; ++id) {
    v1::Record r;
    *r.add_values() = id % 5 == 0 ? Null() : Int(id % 4);
    *r.add_values() = Int(id);
    rows.push_back(std::move(r));
  }
  return rows;
}

// Sorts `rows` in `order` (field index per key) the way the API orders: NULLs first
// ascending, last descending.
void SortLikeTheApi(std::vector<v1::Record>* rows, const std::vector<cv1::SortKey>& order,
                    const std::vector<int>& index) {
  std::stable_sort(rows->begin(), rows->end(), [&](const v1::Record& a, const v1::Record& b) {
    for (size_t k = 0; k < order.size(); ++k) {
      const v1::Value& x = a.values(index[k]);
      const v1::Value& y = b.values(index[k]);
      if (IsNull(x) != IsNull(y)) return order[k].descending() ? IsNull(y) : IsNull(x);
      if (IsNull(x)) continue;
      if (x.int_value() != y.int_value()) {
        return order[k].descending() ? x.int_value() > y.int_value() : x.int_value() < y.int_value();
      }
    }
    return false;
  });
}

void ExpectExactlyTheRowsAfter(const std::vector<cv1::SortKey>& order, const std::string& what) {
  const std::vector<std::string> fields = {"grp", "id"};
  std::vector<int> index;
  for (const auto& k : order) index.push_back(k.field() == "grp" ? 0 : 1);
  std::vector<v1::Record> rows = Rows();
  SortLikeTheApi(&rows, order, index);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<v1::Value> last;
    for (int f : index) last.push_back(rows[i].values(f));
    std::optional<v1::Filter> after = AfterRowFilter(order, last);
    std::vector<int64_t> matched, expected;
    for (size_t j = i + 1; j < rows.size(); ++j) expected.push_back(rows[j].values(1).int_value());
    if (after) {
      auto ev = FilterEvaluator::Compile(*after, fields);
      ASSERT_TRUE(ev.ok()) << ev.status().message();
      for (const v1::Record& r : rows) {
        if (ev->Matches(r)) matched.push_back(r.values(1).int_value());
      }
    }
    // In the order of the rows, so the comparison also shows where a row would repeat.
    std::vector<int64_t> in_order;
    for (const v1::Record& r : rows) {
      if (std::find(matched.begin(), matched.end(), r.values(1).int_value()) != matched.end()) {
        in_order.push_back(r.values(1).int_value());
      }
    }
    EXPECT_EQ(in_order, expected) << what << ", after row " << i << " (id " << rows[i].values(1).int_value() << ")";
  }
}

TEST(KeysetTest, MatchesExactlyTheRowsAfterEachPosition) {
  ExpectExactlyTheRowsAfter({Key("id", false)}, "id ascending");
  ExpectExactlyTheRowsAfter({Key("id", true)}, "id descending");
  ExpectExactlyTheRowsAfter({Key("grp", false), Key("id", false)}, "grp (NULLs first), id");
  ExpectExactlyTheRowsAfter({Key("grp", true), Key("id", false)}, "grp descending (NULLs last), id");
  ExpectExactlyTheRowsAfter({Key("grp", true), Key("id", true)}, "grp descending, id descending");
}

TEST(KeysetTest, NothingComesAfterANullThatSortsLast) {
  EXPECT_FALSE(AfterRowFilter(std::vector<cv1::SortKey>{Key("grp", true)}, {Null()}).has_value());
  // Ascending, NULLs come first: every non-NULL value follows.
  std::optional<v1::Filter> f = AfterRowFilter(std::vector<cv1::SortKey>{Key("grp", false)}, {Null()});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->field().op(), v1::OPERATOR_IS_NOT_NULL);
}

}  // namespace
}  // namespace fachadapter
