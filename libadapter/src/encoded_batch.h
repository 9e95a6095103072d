// Reading a connector's encoded ScanBatch without parsing it into messages.
//
// Where every field of a query is delivered as the connector read it (identity mappings, no
// residual filter, no masking), the records of the connector's batch are already the records
// of the API's QueryResponse: both carry a fachadapter.v1.RecordBatch as field 2. The engine
// then forwards the batch's bytes instead of parsing and re-encoding every value. This file
// checks such a batch well enough that nothing malformed or unexpected reaches a client: each
// record must have exactly the expected number of values, no value may be empty (a NULL from a
// connector must say null_value, as the API does), and no record may carry an etag.
#ifndef FACHADAPTER_SRC_ENCODED_BATCH_H_
#define FACHADAPTER_SRC_ENCODED_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>

namespace fachadapter {

/// What SplitScanBatch found in a connector's ScanBatch.
struct EncodedBatch {
  /// Number of raw field names (ScanBatch.fields); only the first batch of a scan has them.
  int field_names = 0;
  /// The RecordBatch's content (its records, each with tag and length), empty if none.
  std::string_view records;
  /// Number of records in `records`.
  int64_t record_count = 0;
  /// Offset in `records` where the last record (with its tag) starts.
  size_t last_record = 0;
};

/// How SplitScanBatch judged a batch.
enum class EncodedBatchCheck {
  kForwardable,  ///< Well formed, every record with `values_per_record` non-empty values.
  kNeedsParse,   ///< Well formed, but something must be looked at per value (empty value,
                 ///< etag, other field numbers): take the parsing path.
  kMalformed,    ///< Not a valid ScanBatch.
};

/// Splits the encoded connector::v1::ScanBatch `bytes` and checks its records.
EncodedBatchCheck SplitScanBatch(std::string_view bytes, int values_per_record, EncodedBatch* out);

/// Iterates the entries of field 1 (the records of a RecordBatch, the values of a Record) in
/// bytes SplitScanBatch found forwardable.
class EncodedEntries {
 public:
  /// Over `bytes`, the content of a RecordBatch or a Record.
  explicit EncodedEntries(std::string_view bytes) : bytes_(bytes) {}
  /// The next entry's content; false at the end (or at bytes SplitScanBatch refuses).
  bool Next(std::string_view* entry);

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

/// If the encoded fachadapter.v1.Value `value` is a string_value, its text.
bool EncodedStringValue(std::string_view value, std::string_view* text);

/// Appends a length-delimited field (tag byte, length as varint, `payload`) to `out`.
void AppendDelimited(uint8_t tag, std::string_view payload, std::string* out);

/// Appends a Record.values entry holding Value { string_value = text } to `out`.
void AppendStringValue(std::string_view text, std::string* out);

/// Appends a length-delimited field (tag byte, length, `m` serialized) to `out`.
void AppendMessage(uint8_t tag, const google::protobuf::MessageLite& m, std::string* out);

/// Offset just behind record number `n` (0-based count of whole records to keep) of `records`,
/// as found by SplitScanBatch; `records.size()` if it has `n` or fewer records.
size_t EncodedRecordsPrefix(std::string_view records, int64_t n);

}  // namespace fachadapter

#endif  // FACHADAPTER_SRC_ENCODED_BATCH_H_
