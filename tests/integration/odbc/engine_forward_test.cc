// The engine forwards a connector's encoded records without parsing them into messages
// (Engine::QueryEncoded, what the gRPC service sends), converting value by value where a field
// needs it. Whatever it forwards or not, a client must receive exactly the messages of
// Engine::Query, which always parses and maps: this suite compares both, message by message,
// over a real SQLite database through the ODBC plugin, for raw, mapped and masked fields, limits
// and page tokens, and for a query that must not be forwarded (a filter left to the core).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fachadapter/config.h"
#include "fachadapter/engine.h"
#include "raw_odbc.h"
#include "test_util.h"

namespace fachadapter::testing {
namespace {

namespace v1 = fachadapter::v1;

struct Stream {
  std::vector<std::string> messages;  // serialized, as the gRPC service writes them
  int64_t records = 0;                // as the engine counted them
  int forwarded = 0;                  // messages that carried forwarded records
  Status status;
};

class EngineForwardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string cs = "Driver=SQLite3;StepAPI=1;Database=" + (dir_.path() / "t.db").string() + ";";
    RawConnection raw(cs);
    raw.Exec(
        "CREATE TABLE person (id INTEGER PRIMARY KEY, name VARCHAR(40), ort VARCHAR(30), "
        "score DOUBLE, born DATE, kz CHAR(4), geb CHAR(8), betrag VARCHAR(12), art CHAR(1))");
    raw.Begin();
    for (int i = 1; i <= 57; ++i) {
      std::string ort = i % 5 == 0 ? "NULL" : (i % 2 ? "'Köln'" : "'Münster-Hiltrup'");
      raw.Exec("INSERT INTO person VALUES (" + std::to_string(i) + ", 'Jürgen Groß " + std::to_string(i) +
               "', " + ort + ", " + std::to_string(i) + ".25, '19" + std::to_string(50 + i % 40) + "-0" +
               std::to_string(1 + i % 9) + "-1" + std::to_string(i % 10) + "', 'A" + std::to_string(i % 3) + "', '" +
               (i % 7 == 0 ? std::string("00000000") : "1970031" + std::to_string(i % 10)) + "', '" +
               std::to_string(i) + ".234,5" + std::to_string(i % 10) + "', '" + "IHK"[i % 3] + "')");
    }
    raw.Commit();
    const std::string yaml = R"(
sources:
  db:
    connector: odbc
    settings:
      connection_string: ")" + cs + R"("
entities:
  Raw:
    source: db
    table: person
  Mapped:
    source: db
    table: person
    fields:
      nummer: {column: id, type: int64}
      name: {column: name}
      kennzeichen: {column: kz, trim: right}
      ort: {column: ort, trim: both}
      geboren: {column: geb, type: date, format: YYYYMMDD, null_values: ["00000000"]}
      betrag: {column: betrag, type: decimal, decimal_separator: ",", grouping_separator: "."}
      art: {column: art, codes: {"I": Industrie, "H": Handwerk, "K": Handel}}
      score: {column: score}
)";
    auto config = ParseConfig(yaml, (dir_.path() / "fachadapter.yaml").string());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->connector_search_path.push_back(PluginDir().string());
    auto engine = Engine::Start(*config);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  Stream Encoded(const v1::QueryRequest& req, const CallOptions& options = {}) {
    Stream out;
    out.status = engine_->QueryEncoded(req, [&](v1::QueryResponse& msg, int64_t records) {
      out.messages.push_back(msg.SerializeAsString());
      out.records += records;
      if (msg.GetReflection()->GetUnknownFields(msg).field_count() > 0) ++out.forwarded;
      return true;
    }, options);
    return out;
  }

  Stream Parsed(const v1::QueryRequest& req, const CallOptions& options = {}) {
    Stream out;
    out.status = engine_->Query(req, [&](v1::QueryResponse& msg) {
      out.messages.push_back(msg.SerializeAsString());
      out.records += msg.batch().records_size();
      return true;
    }, options);
    return out;
  }

  // Both paths give the same bytes; returns the encoded stream.
  Stream Same(const v1::QueryRequest& req, const CallOptions& options = {}) {
    Stream parsed = Parsed(req, options);
    Stream encoded = Encoded(req, options);
    EXPECT_TRUE(parsed.status.ok()) << parsed.status.ToString();
    EXPECT_TRUE(encoded.status.ok()) << encoded.status.ToString();
    EXPECT_EQ(encoded.records, parsed.records);
    EXPECT_EQ(encoded.messages.size(), parsed.messages.size());
    for (size_t i = 0; i < std::min(encoded.messages.size(), parsed.messages.size()); ++i) {
      // The resume tokens are sealed with a random nonce: compare the messages without them,
      // and the tokens by what they continue with (below).
      v1::QueryResponse a, b;
      EXPECT_TRUE(a.ParseFromString(encoded.messages[i]));
      EXPECT_TRUE(b.ParseFromString(parsed.messages[i]));
      EXPECT_EQ(a.resume_token().empty(), b.resume_token().empty()) << "message " << i;
      EXPECT_EQ(a.next_page_token().empty(), b.next_page_token().empty()) << "message " << i;
      a.clear_resume_token();
      b.clear_resume_token();
      a.clear_next_page_token();
      b.clear_next_page_token();
      EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString()) << "message " << i;
    }
    return encoded;
  }

  static v1::QueryRequest Request(const std::string& entity, int batch_size, int64_t limit = 0) {
    v1::QueryRequest req;
    req.set_entity(entity);
    req.set_batch_size(batch_size);
    req.set_limit(limit);
    return req;
  }

  // Sets the request's filter to the one condition `field op value`.
  static void Where(v1::QueryRequest* req, const std::string& field, v1::Operator op, v1::Value value) {
    auto* c = req->mutable_filter()->mutable_field();
    c->set_field(field);
    c->set_op(op);
    *c->mutable_value() = std::move(value);
  }
  static v1::Value Text(const std::string& s) {
    v1::Value v;
    v.set_string_value(s);
    return v;
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineForwardTest, RawEntityIsForwardedWithTheSameBytes) {
  Stream s = Same(Request("Raw", 10));
  EXPECT_EQ(s.records, 57);
  EXPECT_EQ(s.forwarded, 6) << "every batch of the raw entity is forwarded";
}

TEST_F(EngineForwardTest, ProjectionOrderAndPushedFilterAreForwarded) {
  v1::QueryRequest req = Request("Raw", 4);
  req.add_fields("ort");
  req.add_fields("id");
  req.add_fields("name");
  auto* o = req.add_order_by();
  o->set_field("id");
  o->set_descending(true);
  Where(&req, "ort", v1::OPERATOR_EQ, Text("Köln"));
  Stream s = Same(req);
  EXPECT_GT(s.records, 10);
  EXPECT_GT(s.forwarded, 0);
}

TEST_F(EngineForwardTest, LimitCutsInsideABatchAndThePageTokenContinues) {
  for (int64_t limit : {1, 7, 8, 9, 56, 57, 58}) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    Stream first = Same(Request("Raw", 4, limit));
    EXPECT_EQ(first.records, std::min<int64_t>(limit, 57));
    v1::QueryResponse lastmsg;
    ASSERT_TRUE(lastmsg.ParseFromString(first.messages.back()));
    EXPECT_EQ(lastmsg.next_page_token().empty(), limit >= 57);
    if (lastmsg.next_page_token().empty()) continue;
    // The rest of the result, from the forwarded stream's page token.
    v1::QueryRequest rest = Request("Raw", 4);
    rest.set_page_token(lastmsg.next_page_token());
    Stream more = Same(rest);
    EXPECT_EQ(first.records + more.records, 57);
    v1::QueryResponse next;
    ASSERT_TRUE(next.ParseFromString(more.messages.front()));
    ASSERT_GT(next.batch().records_size(), 0);
    EXPECT_EQ(next.batch().records(0).values(0).int_value(), limit + 1);
  }
}

TEST_F(EngineForwardTest, MappedAndMaskedFieldsAreConvertedFromTheEncodedBatch) {
  Stream mapped = Same(Request("Mapped", 10));
  EXPECT_EQ(mapped.records, 57);
  EXPECT_EQ(mapped.forwarded, 6) << "trims, dates, decimals and codes are converted value by value";
  v1::QueryResponse first;
  ASSERT_TRUE(first.ParseFromString(mapped.messages[0]));
  ASSERT_EQ(first.fields_size(), 8);
  EXPECT_EQ(first.fields(3), "ort");
  const v1::Record& r7 = first.batch().records(6);  // nummer 7: the null marker, Köln
  EXPECT_EQ(r7.values(3).string_value(), "Köln");
  EXPECT_EQ(r7.values(4).kind_case(), v1::Value::kNullValue);
  EXPECT_EQ(r7.values(5).decimal_value().value(), "7234.57");
  EXPECT_EQ(r7.values(6).string_value(), "Handwerk");

  // Mapped, with a page token and a limit that cuts inside a batch.
  v1::QueryRequest limited = Request("Mapped", 4, 10);
  Stream page = Same(limited);
  EXPECT_EQ(page.records, 10);

  // A caller who may see fields only masked.
  Restrictions restrictions;
  restrictions.masked_fields = {"name", "score"};
  CallOptions options;
  options.restrictions = &restrictions;
  Stream masked = Same(Request("Raw", 10), options);
  EXPECT_EQ(masked.records, 57);
  EXPECT_EQ(masked.forwarded, 6);
  Stream masked_mapped = Same(Request("Mapped", 10), options);
  EXPECT_EQ(masked_mapped.forwarded, 6);
}

TEST_F(EngineForwardTest, AFilterLeftToTheCoreIsNotForwarded) {
  // A prefix on a trimmed field is not pushed down: the core evaluates it on API values.
  v1::QueryRequest residual = Request("Mapped", 10);
  Where(&residual, "kennzeichen", v1::OPERATOR_PREFIX, Text("A1"));
  Stream r = Same(residual);
  EXPECT_EQ(r.records, 19);
  EXPECT_EQ(r.forwarded, 0);
}

TEST_F(EngineForwardTest, AValueThatDoesNotConvertFailsAsOnThePath) {
  RawConnection raw("Driver=SQLite3;StepAPI=1;Database=" + (dir_.path() / "t.db").string() + ";");
  raw.Exec("UPDATE person SET art = 'X' WHERE id = 33");
  Stream parsed = Parsed(Request("Mapped", 10));
  Stream encoded = Encoded(Request("Mapped", 10));
  EXPECT_EQ(encoded.status.code(), StatusCode::kDataLoss) << encoded.status.ToString();
  EXPECT_EQ(encoded.status.ToString(), parsed.status.ToString());
  EXPECT_EQ(encoded.records, 30) << "the batches before the bad record";
}

TEST_F(EngineForwardTest, EmptyResultStillNamesTheFields) {
  v1::QueryRequest req = Request("Raw", 10);
  v1::Value big;
  big.set_int_value(1000);
  Where(&req, "id", v1::OPERATOR_GT, big);
  Stream s = Same(req);
  EXPECT_EQ(s.records, 0);
  ASSERT_EQ(s.messages.size(), 1u);
  v1::QueryResponse msg;
  ASSERT_TRUE(msg.ParseFromString(s.messages[0]));
  EXPECT_EQ(msg.fields_size(), 9);
}

}  // namespace
}  // namespace fachadapter::testing
