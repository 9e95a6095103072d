// SplitScanBatch decides whether the engine may forward a connector's encoded batch to clients
// unparsed: what it accepts must be exactly what protobuf parses to the same records, and what
// a client could not parse must never be accepted.
#include "encoded_batch.h"

#include <gtest/gtest.h>

#include <string>

#include "fachadapter/connector/v1/connector.pb.h"

namespace fachadapter {
namespace {

namespace cv1 = fachadapter::connector::v1;

cv1::ScanBatch Batch(int records, bool names = true) {
  cv1::ScanBatch b;
  if (names) {
    b.add_fields("id");
    b.add_fields("name");
    b.add_fields("amount");
  }
  for (int i = 0; i < records; ++i) {
    auto* r = b.mutable_batch()->add_records();
    r->add_values()->set_int_value(i);
    r->add_values()->set_string_value(i % 2 ? "Jürgen Groß" : "Ana");
    if (i % 3 == 0) {
      r->add_values()->set_null_value(v1::NULL_VALUE);
    } else {
      r->add_values()->mutable_decimal_value()->set_value("12.50");
    }
  }
  return b;
}

TEST(EncodedBatch, WellFormedBatchIsForwardableWithItsRecords) {
  cv1::ScanBatch b = Batch(5);
  const std::string bytes = b.SerializeAsString();
  EncodedBatch e;
  ASSERT_EQ(SplitScanBatch(bytes, 3, &e), EncodedBatchCheck::kForwardable);
  EXPECT_EQ(e.field_names, 3);
  EXPECT_EQ(e.record_count, 5);
  EXPECT_EQ(std::string(e.records), b.batch().SerializeAsString());
  // The last record, and every prefix of whole records, parse as the same records.
  v1::RecordBatch last;
  ASSERT_TRUE(last.ParseFromString(std::string(e.records.substr(e.last_record))));
  ASSERT_EQ(last.records_size(), 1);
  EXPECT_EQ(last.records(0).values(0).int_value(), 4);
  for (int n = 0; n <= 6; ++n) {
    v1::RecordBatch prefix;
    ASSERT_TRUE(prefix.ParseFromString(std::string(e.records.substr(0, EncodedRecordsPrefix(e.records, n)))));
    EXPECT_EQ(prefix.records_size(), std::min(n, 5));
  }
}

TEST(EncodedBatch, EmptyBatchesAndBatchesWithoutNames) {
  EncodedBatch e;
  EXPECT_EQ(SplitScanBatch("", 3, &e), EncodedBatchCheck::kForwardable);
  EXPECT_EQ(e.record_count, 0);
  const std::string later = Batch(2, false).SerializeAsString();
  ASSERT_EQ(SplitScanBatch(later, 3, &e), EncodedBatchCheck::kForwardable);
  EXPECT_EQ(e.field_names, 0);
  EXPECT_EQ(e.record_count, 2);
}

TEST(EncodedBatch, WhatTheApiWouldSayOtherwiseNeedsParsing) {
  EncodedBatch e;
  cv1::ScanBatch unset = Batch(2);
  unset.mutable_batch()->mutable_records(1)->mutable_values(1)->Clear();  // no kind: API says null_value
  EXPECT_EQ(SplitScanBatch(unset.SerializeAsString(), 3, &e), EncodedBatchCheck::kNeedsParse);

  cv1::ScanBatch etag = Batch(2);
  etag.mutable_batch()->mutable_records(0)->set_etag("v1");
  EXPECT_EQ(SplitScanBatch(etag.SerializeAsString(), 3, &e), EncodedBatchCheck::kNeedsParse);

  cv1::ScanBatch short_record = Batch(2);
  short_record.mutable_batch()->mutable_records(1)->mutable_values()->RemoveLast();
  EXPECT_EQ(SplitScanBatch(short_record.SerializeAsString(), 3, &e), EncodedBatchCheck::kNeedsParse);
  EXPECT_EQ(SplitScanBatch(Batch(2).SerializeAsString(), 4, &e), EncodedBatchCheck::kNeedsParse);
}

TEST(EncodedBatch, MalformedBytesAreRefused) {
  const std::string good = Batch(3).SerializeAsString();
  EncodedBatch e;
  // Every truncation of a valid batch is either refused or (cut exactly between top-level
  // fields) a shorter valid batch; never accepted with a record protobuf would not parse.
  for (size_t n = 0; n < good.size(); ++n) {
    std::string cut = good.substr(0, n);
    EncodedBatchCheck c = SplitScanBatch(cut, 3, &e);
    cv1::ScanBatch parsed;
    if (c != EncodedBatchCheck::kMalformed) {
      EXPECT_TRUE(parsed.ParseFromString(cut)) << "accepted a prefix of " << n << " bytes";
    }
  }
  EXPECT_EQ(SplitScanBatch(std::string("\x12\x05\x0a\x01", 4), 3, &e), EncodedBatchCheck::kMalformed);
  EXPECT_EQ(SplitScanBatch(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11), 3, &e),
            EncodedBatchCheck::kMalformed);
}

TEST(EncodedBatch, InvalidUtf8InATextValueIsRefused) {
  for (std::string bad : {std::string("\xC3"), std::string("\xC0\xAF"), std::string("\xED\xA0\x80"),
                          std::string("\xF4\x90\x80\x80"), std::string("ok\xFF")}) {
    cv1::ScanBatch b = Batch(1);
    // Written as a bytes value (protobuf would not serialize it as text), then retagged.
    b.mutable_batch()->mutable_records(0)->mutable_values(1)->mutable_bytes_value()->assign(bad);
    std::string bytes = b.SerializeAsString();
    // Turn the bytes field (7) into a string field (6) with the same content.
    const std::string bytes_tag("\x3a", 1), string_tag("\x32", 1);
    size_t at = bytes.find(bytes_tag + static_cast<char>(bad.size()) + bad);
    ASSERT_NE(at, std::string::npos);
    bytes[at] = string_tag[0];
    EncodedBatch e;
    EXPECT_EQ(SplitScanBatch(bytes, 3, &e), EncodedBatchCheck::kMalformed) << "bytes of " << bad.size();
    cv1::ScanBatch parsed;
    EXPECT_FALSE(parsed.ParseFromString(bytes)) << "protobuf refuses it too";
  }
  // The same bytes as a bytes value are fine.
  cv1::ScanBatch b = Batch(1);
  b.mutable_batch()->mutable_records(0)->mutable_values(1)->set_bytes_value(std::string("\xFF\x00", 2));
  EncodedBatch e;
  EXPECT_EQ(SplitScanBatch(b.SerializeAsString(), 3, &e), EncodedBatchCheck::kForwardable);
}

}  // namespace
}  // namespace fachadapter
