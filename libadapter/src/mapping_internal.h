// The mapping layer: one API field <-> one raw field, with type conversion and legacy formats.
// Used by every connector's entities alike (see docs/configuration.md, "Conversions").
#ifndef FACHADAPTER_SRC_MAPPING_INTERNAL_H_
#define FACHADAPTER_SRC_MAPPING_INTERNAL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fachadapter/config.h"
#include "fachadapter/connector/v1/connector.pb.h"
#include "fachadapter/status.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter {

class Charset;  // iconv pair, defined in mapping.cc

/// Converts values of one field between the raw shape and the API shape.
class FieldMapping {
 public:
  /// Builds the mapping of `cfg` onto `raw`; fails with a message naming the field when the
  /// conversion is impossible (e.g. a date format on a bytes column).
  static Result<FieldMapping> Create(const FieldConfig& cfg, const connector::v1::RawField& raw);
  /// The identity mapping of a raw field (entities without a `fields` list).
  static Result<FieldMapping> Identity(const connector::v1::RawField& raw);

  FieldMapping(FieldMapping&&) noexcept;
  FieldMapping& operator=(FieldMapping&&) noexcept;
  ~FieldMapping();

  /// API name.
  const std::string& name() const { return cfg_.name; }
  /// Raw name.
  const std::string& raw_name() const { return cfg_.column; }
  /// API type.
  v1::FieldType type() const { return cfg_.type; }
  /// Raw type.
  v1::FieldType raw_type() const { return raw_.type(); }
  /// The configuration it was built from.
  const FieldConfig& config() const { return cfg_; }
  /// The raw field as discovered.
  const connector::v1::RawField& raw() const { return raw_; }
  /// True when values pass unchanged (fast path).
  bool identity() const { return identity_; }
  /// True when trimming blanks off a text value is the whole conversion (fast path).
  bool trim_only() const { return trim_only_; }
  /// The text a trim-only mapping makes of raw text `s`.
  std::string_view TrimmedText(std::string_view s) const;

  /// Raw -> API. A raw value that does not convert is DATA_LOSS (reason CONVERSION_FAILED)
  /// naming the field and the value.
  Status ToApi(const v1::Value& raw, v1::Value* out) const;
  /// Same as ToApi, but may take the raw value's contents instead of copying them, leaving
  /// `raw` unspecified. Both must be on the same arena (or both on none).
  Status ToApiMove(v1::Value* raw, v1::Value* out) const;
  /// API -> raw. A value of the wrong type or out of the mapping's domain is INVALID_ARGUMENT
  /// (TYPE_MISMATCH or CONVERSION_FAILED) naming the field and the value.
  Status ToRaw(const v1::Value& api, v1::Value* out) const;

  /// True if a condition with `op` on this field can be evaluated on raw values.
  bool CanPushDown(v1::Operator op) const;
  /// True if the raw order equals the API order (the field can be sorted on).
  bool sortable() const { return sortable_; }
  /// True if the mapping has raw NULL markers (null_values).
  bool has_null_markers() const { return !cfg_.null_values.empty(); }

 private:
  FieldMapping() = default;
  Status ParseText(std::string_view text, v1::Value* out) const;
  Status FormatText(const v1::Value& api, std::string* out) const;
  Status ApiError(const std::string& what, const v1::Value& v) const;

  FieldConfig cfg_;
  connector::v1::RawField raw_;
  bool identity_ = false;
  bool sortable_ = false;
  bool equality_pushdown_ = false;  // one-to-one on canonical raw values
  bool order_pushdown_ = false;     // keeps order too
  bool trim_left_ = false, trim_right_ = false;
  bool trim_only_ = false;          // string -> string with trim as the only conversion
  std::unique_ptr<Charset> charset_;
};

/// Converts a value given by a client to the field type `type` where that is lossless
/// (int64 -> decimal/double, decimal -> int64 if integral, string -> any for CLIs, ...);
/// INVALID_ARGUMENT/TYPE_MISMATCH naming `field` otherwise.
Status CoerceToType(const v1::Value& in, v1::FieldType type, const std::string& field,
                    v1::Value* out);

/// Parses legacy date/time text by a layout such as "DD.MM.YYYY" (see docs). `type` selects
/// DATE, TIME or TIMESTAMP. Returns false if the text does not match.
bool ParseByFormat(std::string_view text, const std::string& format, v1::FieldType type,
                   v1::Value* out);
/// Formats a DATE/TIME/TIMESTAMP value by a layout; false if the layout cannot hold it.
bool FormatByFormat(const v1::Value& v, const std::string& format, std::string* out);

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace fachadapter

#endif  // FACHADAPTER_SRC_MAPPING_INTERNAL_H_
