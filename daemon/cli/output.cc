#include "output.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "fachadapter/values.h"
#include "value_text.h"

namespace fachadapter::cli {
namespace {

bool IsNumeric(v1::FieldType t) {
  return t == v1::FIELD_TYPE_INT64 || t == v1::FIELD_TYPE_DOUBLE || t == v1::FIELD_TYPE_DECIMAL;
}

// Aligned columns, two blanks apart, the header underlined with dashes; numbers right-aligned.
class TableWriter final : public RecordWriter {
 public:
  TableWriter(std::ostream& out, size_t block_rows)
      : out_(out), block_rows_(std::max<size_t>(block_rows, 1)) {}

  void Begin(std::vector<Column> columns) override {
    columns_ = std::move(columns);
    widths_.assign(columns_.size(), 0);
    for (size_t i = 0; i < columns_.size(); ++i) {
      widths_[i] = std::min(DisplayWidth(columns_[i].name), kTableMaxColumnWidth);
    }
  }

  void Write(const google::protobuf::RepeatedPtrField<v1::Value>& values) override {
    std::vector<std::string> cells;
    cells.reserve(columns_.size());
    for (size_t i = 0; i < columns_.size(); ++i) {
      cells.push_back(i < static_cast<size_t>(values.size())
                          ? EscapeForTable(FormatValue(values[static_cast<int>(i)], false))
                          : std::string());
    }
    ++rows_;
    if (fixed_) {
      PrintRow(cells, false);
      return;
    }
    for (size_t i = 0; i < cells.size(); ++i) {
      widths_[i] = std::max(widths_[i], std::min(DisplayWidth(cells[i]), kTableMaxColumnWidth));
    }
    block_.push_back(std::move(cells));
    if (block_.size() >= block_rows_) FlushBlock();
  }

  void Finish() override {
    FlushBlock();
    if (rows_ == 0) out_ << "(no records)\n";
    out_.flush();
  }

 private:
  void FlushBlock() {
    if (!fixed_) {
      fixed_ = true;
      std::vector<std::string> header;
      std::vector<std::string> rule;
      for (size_t i = 0; i < columns_.size(); ++i) {
        header.push_back(EscapeForTable(columns_[i].name));
        rule.push_back(std::string(widths_[i], '-'));
      }
      PrintRow(header, true);
      PrintRow(rule, true);
    }
    for (const auto& row : block_) PrintRow(row, false);
    block_.clear();
    out_.flush();
  }

  void PrintRow(const std::vector<std::string>& cells, bool header) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      size_t w = DisplayWidth(cells[i]);
      size_t pad = w < widths_[i] ? widths_[i] - w : 0;
      bool last = i + 1 == cells.size();
      if (i > 0) line += "  ";
      if (IsNumeric(columns_[i].type)) {
        line.append(pad, ' ');
        line += cells[i];
      } else {
        line += cells[i];
        if (!last) line.append(pad, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out_ << line << '\n';
  }

  std::ostream& out_;
  size_t block_rows_;
  std::vector<Column> columns_;
  std::vector<size_t> widths_;
  std::vector<std::vector<std::string>> block_;
  bool fixed_ = false;
};

// One JSON object per line (JSON Lines), keys in column order.
class JsonWriter final : public RecordWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}

  void Begin(std::vector<Column> columns) override {
    keys_.clear();
    for (const auto& c : columns) keys_.push_back(JsonString(c.name));
  }

  void Write(const google::protobuf::RepeatedPtrField<v1::Value>& values) override {
    std::string line = "{";
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (i > 0) line += ',';
      line += keys_[i];
      line += ':';
      line += i < static_cast<size_t>(values.size()) ? JsonValue(values[static_cast<int>(i)])
                                                     : "null";
    }
    line += "}\n";
    out_ << line;
    ++rows_;
  }

  void Finish() override { out_.flush(); }

 private:
  std::ostream& out_;
  std::vector<std::string> keys_;
};

// RFC 4180: header line, CRLF line ends, NULL as an empty field.
class CsvWriter final : public RecordWriter {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {}

  void Begin(std::vector<Column> columns) override {
    std::string line;
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) line += ',';
      line += CsvField(columns[i].name);
    }
    width_ = columns.size();
    out_ << line << "\r\n";
  }

  void Write(const google::protobuf::RepeatedPtrField<v1::Value>& values) override {
    std::string line;
    for (size_t i = 0; i < width_; ++i) {
      if (i > 0) line += ',';
      if (i < static_cast<size_t>(values.size()) && !IsNull(values[static_cast<int>(i)])) {
        line += CsvField(FormatValue(values[static_cast<int>(i)], true));
      }
    }
    out_ << line << "\r\n";
    ++rows_;
  }

  void Finish() override { out_.flush(); }

 private:
  std::ostream& out_;
  size_t width_ = 0;
};

}  // namespace

bool ParseOutputFormat(std::string_view text, OutputFormat* out) {
  if (text == "table") {
    *out = OutputFormat::kTable;
  } else if (text == "json") {
    *out = OutputFormat::kJson;
  } else if (text == "csv") {
    *out = OutputFormat::kCsv;
  } else {
    return false;
  }
  return true;
}

std::unique_ptr<RecordWriter> RecordWriter::Create(OutputFormat format, std::ostream& out,
                                                   size_t table_block_rows) {
  switch (format) {
    case OutputFormat::kJson: return std::make_unique<JsonWriter>(out);
    case OutputFormat::kCsv: return std::make_unique<CsvWriter>(out);
    case OutputFormat::kTable: break;
  }
  return std::make_unique<TableWriter>(out, table_block_rows);
}

size_t DisplayWidth(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string EscapeForTable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string JsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string JsonValue(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::KIND_NOT_SET:
    case v1::Value::kNullValue: return "null";
    case v1::Value::kBoolValue: return value.bool_value() ? "true" : "false";
    case v1::Value::kIntValue: return std::to_string(value.int_value());
    case v1::Value::kDoubleValue: {
      std::string text = DoubleToText(value.double_value());
      bool finite = text != "NaN" && text != "Infinity" && text != "-Infinity";
      return finite ? text : JsonString(text);
    }
    default: return JsonString(FormatValue(value, true));
  }
}

std::string CsvField(std::string_view text) {
  bool quote = text.empty() || text.front() == ' ' || text.back() == ' ' ||
               text.find_first_of(",;\"\r\n") != std::string_view::npos;
  if (!quote) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace fachadapter::cli
