#include "parameters.h"

#include "fachadapter/values.h"
#include "odbc_handles.h"
#include "value_codec.h"

namespace fachadapter::odbc {

namespace {

bool IsNumeric(v1::FieldType t) {
  return t == v1::FIELD_TYPE_INT64 || t == v1::FIELD_TYPE_DOUBLE || t == v1::FIELD_TYPE_DECIMAL;
}

Status Mismatch(const Column& c, const v1::Value& v) {
  return InvalidArgument("field '" + c.name + "' is " + FieldTypeName(c.type) + " (" +
                             c.native_type + "), but the value is " + FieldTypeName(TypeOf(v)),
                         "TYPE_MISMATCH", c.name);
}

// Whether a value of type `v` may be used with a column of type `c`.
bool Fits(v1::FieldType c, v1::FieldType v, ParamUse use) {
  if (c == v) return true;
  if (use == ParamUse::kCompare) return IsNumeric(c) && IsNumeric(v);
  // Writes: an integer is exact in a decimal or double column; nothing else converts
  // implicitly (a double is never written into an exact decimal).
  return v == v1::FIELD_TYPE_INT64 && (c == v1::FIELD_TYPE_DECIMAL || c == v1::FIELD_TYPE_DOUBLE);
}

}  // namespace

Status ParamSet::Add(const v1::Value& value, const Column& column, ParamUse use) {
  Param p;
  if (IsNull(value)) {
    p.sql_type = column.sql_type != 0 ? column.sql_type : SQL_VARCHAR;
    p.column_size = column.length > 0 ? static_cast<SQLULEN>(column.length)
                                      : (column.precision > 0 ? static_cast<SQLULEN>(column.precision) : 1);
    p.digits = static_cast<SQLSMALLINT>(column.scale);
    p.indicator = SQL_NULL_DATA;
    params_.push_back(std::move(p));
    return Status::OK();
  }
  v1::FieldType vt = TypeOf(value);
  if (!Fits(column.type, vt, use)) return Mismatch(column, value);
  FA_RETURN_IF_ERROR(ValidateTemporal(value, column.name));

  // An integer written into a decimal column travels as decimal text, exact.
  bool int_as_decimal = vt == v1::FIELD_TYPE_INT64 && column.type == v1::FIELD_TYPE_DECIMAL;
  switch (value.kind_case()) {
    case v1::Value::kBoolValue:
      p.c_type = SQL_C_BIT;
      p.sql_type = SQL_BIT;
      p.fixed.b = value.bool_value() ? 1 : 0;
      break;
    case v1::Value::kIntValue:
      if (int_as_decimal) {
        p.text = std::to_string(value.int_value());
        p.c_type = SQL_C_CHAR;
        p.sql_type = SQL_DECIMAL;
        p.column_size = p.text.size();
        p.indicator = static_cast<SQLLEN>(p.text.size());
        break;
      }
      p.c_type = SQL_C_SBIGINT;
      p.sql_type = SQL_BIGINT;
      p.column_size = 19;
      p.fixed.i = value.int_value();
      break;
    case v1::Value::kDoubleValue:
      p.c_type = SQL_C_DOUBLE;
      p.sql_type = SQL_DOUBLE;
      p.column_size = 15;
      p.fixed.d = value.double_value();
      break;
    case v1::Value::kDecimalValue: {
      const std::string& t = value.decimal_value().value();
      if (!IsCanonicalDecimal(t)) {
        return InvalidArgument("field '" + column.name + "': '" + t +
                                   "' is not a decimal (digits with an optional '-' and '.')",
                               "INVALID_VALUE", column.name);
      }
      p.text = t;
      p.c_type = SQL_C_CHAR;
      p.sql_type = SQL_DECIMAL;
      size_t dot = t.find('.');
      size_t digits = t.size() - (t[0] == '-' ? 1 : 0) - (dot == std::string::npos ? 0 : 1);
      p.column_size = digits;
      p.digits = static_cast<SQLSMALLINT>(dot == std::string::npos ? 0 : t.size() - dot - 1);
      p.indicator = static_cast<SQLLEN>(t.size());
      break;
    }
    case v1::Value::kStringValue:
      p.text = value.string_value();
      p.c_type = SQL_C_CHAR;
      p.sql_type = p.text.size() > static_cast<size_t>(kMaxBoundTextChars) ? SQL_LONGVARCHAR : SQL_VARCHAR;
      p.column_size = p.text.empty() ? 1 : p.text.size();
      p.indicator = static_cast<SQLLEN>(p.text.size());
      break;
    case v1::Value::kBytesValue:
      p.text = value.bytes_value();
      p.c_type = SQL_C_BINARY;
      p.sql_type = p.text.size() > static_cast<size_t>(kMaxBoundBinaryBytes) ? SQL_LONGVARBINARY : SQL_VARBINARY;
      p.column_size = p.text.empty() ? 1 : p.text.size();
      p.indicator = static_cast<SQLLEN>(p.text.size());
      break;
    case v1::Value::kDateValue:
      p.c_type = SQL_C_TYPE_DATE;
      p.sql_type = SQL_TYPE_DATE;
      p.column_size = 10;
      p.fixed.date = ValueToDate(value.date_value());
      break;
    case v1::Value::kTimeValue:
      // As text, and described as text: SQL_C_TYPE_TIME has no fractional seconds, and
      // MariaDB Connector/ODBC 3.1 refuses text with a fraction described as SQL_TYPE_TIME
      // (22008 "Datetime field overflow"). The DBMS converts it where it meets the column.
      p.text = TimeToText(value.time_value());
      p.c_type = SQL_C_CHAR;
      p.sql_type = SQL_VARCHAR;
      p.column_size = p.text.size();
      p.indicator = static_cast<SQLLEN>(p.text.size());
      break;
    case v1::Value::kTimestampValue: {
      if (IsZonedTimestampType(column.type_name)) {
        // An instant: as text with its offset. Bound as a timestamp, psqlODBC would send a
        // value without zone, which the server reads in the session's time zone.
        p.text = TimestampToUtcText(value.timestamp_value());
        p.c_type = SQL_C_CHAR;
        p.sql_type = SQL_VARCHAR;
        p.column_size = p.text.size();
        p.indicator = static_cast<SQLLEN>(p.text.size());
        break;
      }
      p.c_type = SQL_C_TYPE_TIMESTAMP;
      p.sql_type = SQL_TYPE_TIMESTAMP;
      p.fixed.ts = ValueToTimestamp(value.timestamp_value());
      // Fractional digits: what the column keeps, but at least what the value needs.
      int digits = column.scale > 0 && column.scale <= 9 ? column.scale : 0;
      int32_t nanos = value.timestamp_value().nanos();
      if (nanos != 0) {
        int needed = 9;
        for (int32_t n = nanos; needed > 0 && n % 10 == 0; n /= 10) --needed;
        if (needed > digits) digits = needed;
      }
      p.digits = static_cast<SQLSMALLINT>(digits);
      p.column_size = digits > 0 ? 20 + digits : 19;
      break;
    }
    default:
      return Mismatch(column, value);
  }
  params_.push_back(std::move(p));
  return Status::OK();
}

void ParamSet::AddText(std::string text) {
  Param p;
  p.text = std::move(text);
  p.c_type = SQL_C_CHAR;
  p.sql_type = SQL_VARCHAR;
  p.column_size = p.text.empty() ? 1 : p.text.size();
  p.indicator = static_cast<SQLLEN>(p.text.size());
  params_.push_back(std::move(p));
}

void ParamSet::AppendSignature(std::string* out) const {
  for (const Param& p : params_) {
    *out += std::to_string(p.c_type);
    *out += ':';
    *out += std::to_string(p.sql_type);
    *out += ';';
  }
}

Status ParamSet::Bind(SQLHSTMT stmt) const {
  SQLUSMALLINT n = 0;
  for (const Param& cp : params_) {
    Param& p = const_cast<Param&>(cp);  // ODBC takes non-const pointers; it only reads them
    ++n;
    SQLPOINTER data;
    SQLLEN buffer_len = 0;
    switch (p.c_type) {
      case SQL_C_CHAR:
      case SQL_C_BINARY:
        // A zero-length string still needs a valid pointer.
        data = p.text.empty() ? static_cast<SQLPOINTER>(&p.fixed) : static_cast<SQLPOINTER>(p.text.data());
        buffer_len = static_cast<SQLLEN>(p.text.size());
        break;
      default:
        data = &p.fixed;
        break;
    }
    SQLRETURN rc = SQLBindParameter(stmt, n, SQL_PARAM_INPUT, p.c_type, p.sql_type, p.column_size,
                                    p.digits, data, buffer_len, &p.indicator);
    FA_RETURN_IF_ERROR(Check(rc, SQL_HANDLE_STMT, stmt, "binding parameter " + std::to_string(n)));
  }
  return Status::OK();
}

}  // namespace fachadapter::odbc
