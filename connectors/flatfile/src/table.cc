#include "table.h"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "fachadapter/values.h"

namespace fachadapter::flatfile {

namespace pb = google::protobuf;

int EntityDef::FindColumn(std::string_view n) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

uint32_t EntityDef::LengthAt(std::string_view rest) const {
  if (segments.empty()) return framing.record_length;
  if (rest.size() < disc_offset + disc_length) return 0;
  std::string_view d = rest.substr(disc_offset, disc_length);
  for (const auto& s : segments) {
    if (d == s.bytes) return s.layout->length;
  }
  return 0;
}

bool EntityDef::InSegment(std::string_view rec) const {
  if (my_segment < 0) return true;
  const std::string& b = segments[static_cast<size_t>(my_segment)].bytes;
  return rec.size() >= disc_offset + disc_length && rec.substr(disc_offset, disc_length) == b;
}

namespace {

// ---- Reading settings ----

class Settings {
 public:
  Settings(const pb::Struct* s, std::string path) : s_(s), path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  const pb::Value* Get(const std::string& k) const {
    if (!s_) return nullptr;
    auto it = s_->fields().find(k);
    return it == s_->fields().end() ? nullptr : &it->second;
  }
  Status Error(const std::string& k, const std::string& what) const {
    return InvalidArgument("flatfile settings " + path_ + (k.empty() ? "" : "." + k) + ": " + what,
                           "INVALID_SETTINGS", k);
  }
  Result<std::string> Str(const std::string& k, const std::string& def) const {
    const pb::Value* v = Get(k);
    if (!v || v->has_null_value()) return def;
    if (v->has_string_value()) return v->string_value();
    if (v->has_number_value()) {
      double d = v->number_value();
      if (d == static_cast<double>(static_cast<int64_t>(d))) return std::to_string(static_cast<int64_t>(d));
    }
    return Error(k, "must be a string");
  }
  Result<bool> Bool(const std::string& k, bool def) const {
    const pb::Value* v = Get(k);
    if (!v || v->has_null_value()) return def;
    if (v->has_bool_value()) return v->bool_value();
    if (v->has_string_value()) {
      if (v->string_value() == "true" || v->string_value() == "yes") return true;
      if (v->string_value() == "false" || v->string_value() == "no") return false;
    }
    return Error(k, "must be true or false");
  }
  Result<int64_t> Int(const std::string& k, int64_t def) const {
    const pb::Value* v = Get(k);
    if (!v || v->has_null_value()) return def;
    if (v->has_number_value() && v->number_value() == static_cast<double>(static_cast<int64_t>(v->number_value()))) {
      return static_cast<int64_t>(v->number_value());
    }
    if (v->has_string_value()) {
      try {
        size_t used = 0;
        int64_t n = std::stoll(v->string_value(), &used);
        if (used == v->string_value().size()) return n;
      } catch (...) {
      }
    }
    return Error(k, "must be an integer");
  }
  Result<Settings> Sub(const std::string& k) const {
    const pb::Value* v = Get(k);
    if (!v || !v->has_struct_value()) return Error(k, "must be a mapping");
    return Settings(&v->struct_value(), path_ + "." + k);
  }
  bool Has(const std::string& k) const { return Get(k) != nullptr; }
  Status CheckKnown(std::initializer_list<const char*> known) const {
    if (!s_) return Status::OK();
    for (const auto& [k, v] : s_->fields()) {
      bool ok = false;
      for (const char* n : known) ok = ok || k == n;
      if (!ok) return Error(k, "unknown setting");
    }
    return Status::OK();
  }

 private:
  const pb::Struct* s_;
  std::string path_;
};

std::string Resolve(const std::string& p, const std::string& base) {
  if (p.empty() || p[0] == '/' || base.empty()) return p;
  return base + "/" + p;
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path, "FILE_NOT_FOUND");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Column> TypedColumn(const Settings& s, const std::string& name, const pb::Value* v) {
  Column c;
  c.name = name;
  c.native = "CSV";
  std::string type = "string";
  int64_t scale = 0;
  std::string sep = ".";
  if (v && v->has_string_value()) {
    type = v->string_value();
  } else if (v && v->has_struct_value()) {
    Settings t(&v->struct_value(), s.path());
    FA_RETURN_IF_ERROR(t.CheckKnown({"name", "type", "scale", "decimal_separator"}));
    FA_ASSIGN_OR_RETURN(type, t.Str("type", "string"));
    FA_ASSIGN_OR_RETURN(scale, t.Int("scale", 0));
    FA_ASSIGN_OR_RETURN(sep, t.Str("decimal_separator", "."));
  }
  if (type == "string") c.type = v1::FIELD_TYPE_STRING;
  else if (type == "int64" || type == "integer") c.type = v1::FIELD_TYPE_INT64;
  else if (type == "decimal") c.type = v1::FIELD_TYPE_DECIMAL;
  else return s.Error(name, "type must be string, int64 or decimal, not '" + type + "'");
  if (sep.size() != 1) return s.Error(name, "decimal_separator must be one character");
  if (scale < 0 || scale > 30) return s.Error(name, "scale must be 0..30");
  c.scale = static_cast<int>(scale);
  c.precision = c.type == v1::FIELD_TYPE_DECIMAL ? 38 : 0;
  c.decimal_sep = sep[0];
  return c;
}

Result<FieldDef> FixedField(const Settings& s, int index) {
  FieldDef f;
  FA_ASSIGN_OR_RETURN(f.name, s.Str("name", ""));
  if (f.name.empty()) return s.Error("name", "every field needs a name");
  FA_RETURN_IF_ERROR(s.CheckKnown({"name", "offset", "start", "length", "type", "pic", "usage",
                                   "scale", "decimal_separator", "sign", "pad"}));
  FA_ASSIGN_OR_RETURN(int64_t offset, s.Int("offset", -1));
  FA_ASSIGN_OR_RETURN(int64_t start, s.Int("start", -1));
  if (offset < 0 && start >= 1) offset = start - 1;
  FA_ASSIGN_OR_RETURN(int64_t length, s.Int("length", 0));
  FA_ASSIGN_OR_RETURN(std::string pic, s.Str("pic", ""));
  FA_ASSIGN_OR_RETURN(std::string usage, s.Str("usage", "display"));
  FA_ASSIGN_OR_RETURN(std::string type, s.Str("type", pic.empty() ? "string" : ""));
  FA_ASSIGN_OR_RETURN(int64_t scale, s.Int("scale", 0));
  FA_ASSIGN_OR_RETURN(std::string sep, s.Str("decimal_separator", "."));
  FA_ASSIGN_OR_RETURN(std::string sign, s.Str("sign", "trailing"));
  FA_ASSIGN_OR_RETURN(std::string pad, s.Str("pad", "space"));
  if (pad != "space" && pad != "zero") return s.Error("pad", "must be space or zero");
  f.zero_pad = pad == "zero";
  if (!pic.empty()) {
    for (char& ch : usage) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (usage == "COMP-4" || usage == "BINARY") usage = "COMP";
    if (usage == "PACKED-DECIMAL") usage = "COMP-3";
    Status st = ApplyPicture(pic, usage, &f);
    if (!st.ok()) return s.Error("pic", st.message());
    if (sign == "leading" || sign == "leading_separate") f.sign_pos = SignPosition::kLeading;
    if (sign == "leading_separate" || sign == "trailing_separate") {
      f.sign_separate = true;
      if (f.kind == FieldKind::kZoned) f.length += 1;
    }
    if (length > 0 && static_cast<uint32_t>(length) != f.length) {
      return s.Error("length", "PIC " + pic + " takes " + std::to_string(f.length) + " bytes, not " +
                                   std::to_string(length));
    }
    f.native = "PIC " + pic + (usage == "DISPLAY" ? "" : " " + usage);
  } else {
    if (length <= 0) return s.Error("length", "every field needs a length (or a pic)");
    f.length = static_cast<uint32_t>(length);
    if (type == "string") {
      f.kind = FieldKind::kText;
      f.native = "CHAR(" + std::to_string(length) + ")";
    } else if (type == "int64" || type == "integer" || type == "decimal") {
      f.kind = FieldKind::kDecimalText;
      f.scale = static_cast<int8_t>(type == "decimal" ? scale : 0);
      f.digits = static_cast<uint8_t>(type == "decimal" ? 38 : 18);
      if (sep.size() != 1) return s.Error("decimal_separator", "must be one character");
      f.decimal_sep = sep[0];
      f.is_signed = true;
      f.native = type == "decimal" ? "DECIMAL(" + std::to_string(length) + "," + std::to_string(scale) + ")"
                                   : "NUMBER(" + std::to_string(length) + ")";
    } else {
      return s.Error("type", "must be string, int64 or decimal (or give a pic), not '" + type + "'");
    }
  }
  if (offset < 0) return s.Error("offset", "every field needs an offset (0-based) or start (1-based)");
  f.offset = static_cast<uint32_t>(offset);
  (void)index;
  return f;
}

Status ParseFraming(const Settings& s, EntityDef* e) {
  std::string def = e->format == Format::kFixed ? "lines" : "fixed";
  FA_ASSIGN_OR_RETURN(std::string rf, s.Str("record_format", def));
  if (rf == "lines" || rf == "line") {
    e->framing.kind = Framing::Kind::kLines;
  } else if (rf == "fixed") {
    e->framing.kind = Framing::Kind::kFixed;
  } else if (rf == "rdw" || rf == "variable" || rf == "header") {
    e->framing.kind = Framing::Kind::kHeader;
    if (s.Has("record_header")) {
      FA_ASSIGN_OR_RETURN(Settings h, s.Sub("record_header"));
      FA_RETURN_IF_ERROR(h.CheckKnown({"size", "length_offset", "length_bytes", "big_endian",
                                       "length_adjust", "valid_offset", "valid_value"}));
      FA_ASSIGN_OR_RETURN(int64_t size, h.Int("size", 4));
      FA_ASSIGN_OR_RETURN(int64_t lo, h.Int("length_offset", 0));
      FA_ASSIGN_OR_RETURN(int64_t lb, h.Int("length_bytes", 2));
      FA_ASSIGN_OR_RETURN(bool be, h.Bool("big_endian", true));
      FA_ASSIGN_OR_RETURN(int64_t adj, h.Int("length_adjust", -4));
      FA_ASSIGN_OR_RETURN(int64_t vo, h.Int("valid_offset", -1));
      FA_ASSIGN_OR_RETURN(int64_t vv, h.Int("valid_value", 1));
      if (size < 1 || size > 64 || lb < 1 || lb > 4 || lo < 0 || lo + lb > size || vo >= size) {
        return h.Error("", "inconsistent record header (size, length_offset, length_bytes, valid_offset)");
      }
      e->framing.header_size = static_cast<uint32_t>(size);
      e->framing.length_offset = static_cast<uint32_t>(lo);
      e->framing.length_bytes = static_cast<uint32_t>(lb);
      e->framing.big_endian = be;
      e->framing.length_adjust = static_cast<int32_t>(adj);
      e->framing.valid_offset = static_cast<int32_t>(vo);
      e->framing.valid_value = static_cast<uint8_t>(vv);
    } else {
      FA_ASSIGN_OR_RETURN(bool incl, s.Bool("rdw_includes_header", true));
      FA_ASSIGN_OR_RETURN(bool be, s.Bool("rdw_big_endian", true));
      e->framing.length_adjust = incl ? -4 : 0;
      e->framing.big_endian = be;
      if (!be) e->framing.length_offset = 2;
    }
  } else {
    return s.Error("record_format", "must be fixed, lines or rdw, not '" + rf + "'");
  }
  FA_ASSIGN_OR_RETURN(std::string le, s.Str("line_ending", "auto"));
  if (le == "auto") e->detect_line_ending = true, e->line_ending = "\n";
  else if (le == "lf") e->detect_line_ending = false, e->line_ending = "\n";
  else if (le == "crlf") e->detect_line_ending = false, e->line_ending = "\r\n";
  else return s.Error("line_ending", "must be auto, lf or crlf");
  return Status::OK();
}

void ColumnsFromLayout(EntityDef* e) {
  e->columns.clear();
  for (size_t i = 0; i < e->layout->fields.size(); ++i) {
    const FieldDef& f = e->layout->fields[i];
    if (f.filler) continue;
    Column c;
    c.name = f.name;
    c.type = f.type();
    c.native = f.native;
    c.length = f.length;
    c.precision = f.kind == FieldKind::kText ? 0 : f.digits;
    c.scale = f.scale;
    c.src = static_cast<int>(i);
    e->columns.push_back(c);
  }
}

Result<std::vector<std::shared_ptr<EntityDef>>> ParseFile(const Settings& s, const std::string& key,
                                                          const std::string& base) {
  FA_RETURN_IF_ERROR(s.CheckKnown({"path", "folder", "pattern", "done_suffix", "format", "encoding",
                                   "delimiter", "quote", "header", "columns", "types", "fields",
                                   "record_length", "record_format", "record_header",
                                   "rdw_includes_header", "rdw_big_endian", "line_ending",
                                   "copybook", "copybook_format", "record", "segments", "trim", "key",
                                   "lock", "lock_file", "lock_range", "lock_timeout_ms",
                                   "read_policy", "mode", "journal", "index_on_open"}));
  auto e = std::make_shared<EntityDef>();
  e->name = key;
  e->file_key = key;
  FA_ASSIGN_OR_RETURN(std::string fmt, s.Str("format", "csv"));
  if (fmt == "csv") e->format = Format::kCsv;
  else if (fmt == "fixed") e->format = Format::kFixed;
  else if (fmt == "cobol") e->format = Format::kCobol;
  else return s.Error("format", "must be csv, fixed or cobol, not '" + fmt + "'");
  FA_ASSIGN_OR_RETURN(std::string path, s.Str("path", ""));
  FA_ASSIGN_OR_RETURN(std::string folder, s.Str("folder", ""));
  if (path.empty() == folder.empty()) return s.Error("path", "give either path (a file) or folder");
  e->folder = !folder.empty();
  e->path = Resolve(e->folder ? folder : path, base);
  FA_ASSIGN_OR_RETURN(e->pattern, s.Str("pattern", "*"));
  FA_ASSIGN_OR_RETURN(e->done_suffix, s.Str("done_suffix", ""));
  FA_ASSIGN_OR_RETURN(std::string enc, s.Str("encoding", e->format == Format::kCobol ? "cp037" : "utf-8"));
  e->cs = Charset::ByName(enc);
  if (!e->cs) return s.Error("encoding", "unknown encoding '" + enc + "'; known: " + Charset::KnownNames());
  FA_ASSIGN_OR_RETURN(std::string trim, s.Str("trim", "both"));
  if (trim == "both") e->trim = Trim::kBoth;
  else if (trim == "right") e->trim = Trim::kRight;
  else if (trim == "none") e->trim = Trim::kNone;
  else return s.Error("trim", "must be both, right or none");
  // Lock, policy, mode.
  FA_ASSIGN_OR_RETURN(std::string lock, s.Str("lock", "flock"));
  if (lock == "flock") e->lock.kind = LockKind::kFlock;
  else if (lock == "fcntl") e->lock.kind = LockKind::kFcntl;
  else if (lock == "lockfile") e->lock.kind = LockKind::kLockFile;
  else if (lock == "none") e->lock.kind = LockKind::kNone;
  else return s.Error("lock", "must be flock, fcntl, lockfile or none");
  FA_ASSIGN_OR_RETURN(std::string lf, s.Str("lock_file", ""));
  e->lock.lock_file = Resolve(lf, base);
  FA_ASSIGN_OR_RETURN(int64_t lt, s.Int("lock_timeout_ms", 10000));
  e->lock.timeout = std::chrono::milliseconds(lt);
  if (const pb::Value* r = s.Get("lock_range")) {
    if (!r->has_list_value() || r->list_value().values_size() != 2) {
      return s.Error("lock_range", "must be [start, length]");
    }
    e->lock.range_start = static_cast<off_t>(r->list_value().values(0).number_value());
    e->lock.range_length = static_cast<off_t>(r->list_value().values(1).number_value());
  }
  FA_ASSIGN_OR_RETURN(std::string rp, s.Str("read_policy", "fail"));
  if (rp != "fail" && rp != "skip") return s.Error("read_policy", "must be fail or skip");
  e->skip_bad = rp == "skip";
  FA_ASSIGN_OR_RETURN(std::string mode, s.Str("mode", "readwrite"));
  if (mode == "readwrite") e->mode = Mode::kReadWrite;
  else if (mode == "readonly") e->mode = Mode::kReadOnly;
  else if (mode == "append") e->mode = Mode::kAppend;
  else return s.Error("mode", "must be readwrite, readonly or append");
  if (e->folder && e->mode != Mode::kReadOnly && s.Has("mode")) {
    return s.Error("mode", "drop folders are read-only");
  }
  if (e->folder) e->mode = Mode::kReadOnly;
  FA_ASSIGN_OR_RETURN(std::string journal, s.Str("journal", ""));
  if (journal.empty()) {
    // Beside the data file, whose path is already resolved (resolving it again would put a
    // relative config directory in front twice).
    size_t slash = e->path.rfind('/');
    e->journal = slash == std::string::npos
                     ? "." + e->path + ".fa-journal"
                     : e->path.substr(0, slash + 1) + "." + e->path.substr(slash + 1) + ".fa-journal";
  } else {
    e->journal = Resolve(journal, base);
  }
  FA_ASSIGN_OR_RETURN(e->index_on_open, s.Bool("index_on_open", true));

  std::vector<std::shared_ptr<EntityDef>> out;
  if (e->format == Format::kCsv) {
    FA_ASSIGN_OR_RETURN(std::string d, s.Str("delimiter", ","));
    if (d == "tab" || d == "\\t") d = "\t";
    if (d.size() != 1) return s.Error("delimiter", "must be one character (or 'tab')");
    e->csv.delimiter = d[0];
    FA_ASSIGN_OR_RETURN(std::string q, s.Str("quote", "\""));
    if (q.size() > 1) return s.Error("quote", "must be one character or empty");
    e->csv.quote = q.empty() ? 0 : q[0];
    FA_ASSIGN_OR_RETURN(e->csv.header, s.Bool("header", true));
    FA_ASSIGN_OR_RETURN(std::string le, s.Str("line_ending", "auto"));
    if (le == "auto") e->detect_line_ending = true;
    else if (le == "lf") e->detect_line_ending = false, e->line_ending = "\n";
    else if (le == "crlf") e->detect_line_ending = false, e->line_ending = "\r\n";
    else return s.Error("line_ending", "must be auto, lf or crlf");
    const pb::Value* cols = s.Get("columns");
    std::map<std::string, const pb::Value*> types;
    if (const pb::Value* t = s.Get("types")) {
      if (!t->has_struct_value()) return s.Error("types", "must be a mapping of column to type");
      for (const auto& [k, v] : t->struct_value().fields()) types[k] = &v;
    }
    if (cols) {
      if (!cols->has_list_value()) return s.Error("columns", "must be a list");
      int i = 0;
      for (const auto& c : cols->list_value().values()) {
        std::string name;
        if (c.has_string_value()) {
          name = c.string_value();
        } else if (c.has_struct_value()) {
          auto n = c.struct_value().fields().find("name");
          if (n != c.struct_value().fields().end()) name = n->second.string_value();
        }
        if (name.empty()) return s.Error("columns", "entry " + std::to_string(i + 1) + " has no name");
        const pb::Value* tv = c.has_struct_value() ? &c : (types.count(name) ? types[name] : nullptr);
        FA_ASSIGN_OR_RETURN(Column col, TypedColumn(s, name, tv));
        col.src = i++;
        e->columns.push_back(col);
      }
    } else {
      if (!e->csv.header) return s.Error("columns", "a CSV file without header needs columns");
      // Column names from the header of the (first) file.
      std::string first = e->path;
      if (e->folder) {
        FA_ASSIGN_OR_RETURN(auto files, ListFiles(*e));
        if (files.empty()) {
          return s.Error("columns", "the drop folder " + e->path +
                                        " has no file yet to read the header from; list the columns");
        }
        first = files[0];
      }
      auto m = MappedFile::Open(first);
      if (!m.ok()) {
        return s.Error("columns", "cannot read the header of " + first + " (" + m.status().message() +
                                      "); list the columns if the file may be absent");
      }
      CsvReader r(m->data(), e->csv);
      CsvRow row;
      if (r.Next(&row) != CsvReader::Step::kRow) return s.Error("header", first + " has no header row");
      int i = 0;
      for (auto f : row.fields) {
        std::string name;
        Status st = e->cs->DecodeStatus(f, &name);
        if (!st.ok()) return s.Error("header", first + ": " + st.message());
        FA_ASSIGN_OR_RETURN(Column col, TypedColumn(s, name, types.count(name) ? types[name] : nullptr));
        col.src = i++;
        e->columns.push_back(col);
      }
      e->csv_columns_from_header = true;
    }
    for (const auto& [k, v] : types) {
      if (e->FindColumn(k) < 0) return s.Error("types." + k, "no such column");
    }
    out.push_back(e);
  } else {
    FA_RETURN_IF_ERROR(ParseFraming(s, e.get()));
    e->layouts = std::make_shared<std::vector<RecordLayout>>();
    if (e->format == Format::kFixed) {
      const pb::Value* fields = s.Get("fields");
      if (!fields || !fields->has_list_value() || fields->list_value().values().empty()) {
        return s.Error("fields", "a fixed-width layout needs a list of fields");
      }
      RecordLayout l;
      l.name = key;
      int i = 0;
      for (const auto& f : fields->list_value().values()) {
        if (!f.has_struct_value()) return s.Error("fields", "every field is a mapping");
        Settings fs(&f.struct_value(), s.path() + ".fields[" + std::to_string(i) + "]");
        FA_ASSIGN_OR_RETURN(FieldDef fd, FixedField(fs, i));
        if (l.Find(fd.name) >= 0) return fs.Error("name", "duplicate field " + fd.name);
        l.length = std::max(l.length, fd.offset + fd.length);
        l.fields.push_back(std::move(fd));
        ++i;
      }
      FA_ASSIGN_OR_RETURN(int64_t rl, s.Int("record_length", 0));
      if (rl > 0) {
        if (static_cast<uint32_t>(rl) < l.length) return s.Error("record_length", "shorter than the fields");
        l.length = static_cast<uint32_t>(rl);
      }
      e->layouts->push_back(std::move(l));
    } else {
      FA_ASSIGN_OR_RETURN(std::string cb, s.Str("copybook", ""));
      if (cb.empty()) return s.Error("copybook", "format cobol needs a copybook");
      cb = Resolve(cb, base);
      FA_ASSIGN_OR_RETURN(std::string text, ReadText(cb));
      FA_ASSIGN_OR_RETURN(std::string cf, s.Str("copybook_format", "fixed"));
      CopybookOptions co;
      co.free_format = cf == "free";
      auto parsed = ParseCopybook(text, co);
      if (!parsed.ok()) {
        return Status(parsed.status().code(), cb + ": " + parsed.status().message(),
                      parsed.status().reason());
      }
      *e->layouts = std::move(parsed).value();
    }
    // Which layout(s).
    if (s.Has("segments")) {
      FA_ASSIGN_OR_RETURN(Settings seg, s.Sub("segments"));
      FA_RETURN_IF_ERROR(seg.CheckKnown({"field", "offset", "length", "values"}));
      FA_ASSIGN_OR_RETURN(std::string field, seg.Str("field", ""));
      FA_ASSIGN_OR_RETURN(int64_t off, seg.Int("offset", -1));
      FA_ASSIGN_OR_RETURN(int64_t len, seg.Int("length", 0));
      if (!field.empty()) {
        std::replace(field.begin(), field.end(), '-', '_');
        const RecordLayout& l0 = (*e->layouts)[0];
        int fi = l0.Find(field);
        if (fi < 0) return seg.Error("field", "no field " + field + " in record " + l0.name);
        off = l0.fields[static_cast<size_t>(fi)].offset;
        len = l0.fields[static_cast<size_t>(fi)].length;
      }
      if (off < 0 || len <= 0) return seg.Error("", "give the discriminator as field, or offset and length");
      e->disc_offset = static_cast<uint32_t>(off);
      e->disc_length = static_cast<uint32_t>(len);
      FA_ASSIGN_OR_RETURN(Settings vals, seg.Sub("values"));
      const pb::Value* vv = seg.Get("values");
      for (const auto& [value, rec] : vv->struct_value().fields()) {
        Segment sg;
        sg.value = value;
        Status st = e->cs->EncodeStatus(value, &sg.bytes);
        if (!st.ok()) return vals.Error(value, st.message());
        if (sg.bytes.size() != e->disc_length) {
          return vals.Error(value, "the value must have exactly " + std::to_string(e->disc_length) + " bytes");
        }
        std::string rn = rec.string_value();
        std::replace(rn.begin(), rn.end(), '-', '_');
        for (const auto& l : *e->layouts) {
          if (l.name == rn) sg.layout = &l;
        }
        if (!sg.layout) return vals.Error(value, "no record " + rec.string_value() + " in the copybook");
        e->segments.push_back(sg);
      }
      if (e->segments.empty()) return seg.Error("values", "needs at least one value");
      for (size_t i = 0; i < e->segments.size(); ++i) {
        auto se = std::make_shared<EntityDef>(*e);
        se->name = key + "." + e->segments[i].value;
        se->my_segment = static_cast<int>(i);
        se->layout = e->segments[i].layout;
        se->framing.record_length = se->layout->length;
        ColumnsFromLayout(se.get());
        out.push_back(se);
      }
    } else {
      FA_ASSIGN_OR_RETURN(std::string rec, s.Str("record", ""));
      std::replace(rec.begin(), rec.end(), '-', '_');
      e->layout = &(*e->layouts)[0];
      if (!rec.empty()) {
        e->layout = nullptr;
        for (const auto& l : *e->layouts) {
          if (l.name == rec) e->layout = &l;
        }
        if (!e->layout) return s.Error("record", "no record " + rec + " in the copybook");
      }
      FA_ASSIGN_OR_RETURN(int64_t rl, s.Int("record_length", 0));
      e->framing.record_length = rl > 0 ? static_cast<uint32_t>(rl) : e->layout->length;
      ColumnsFromLayout(e.get());
      out.push_back(e);
    }
  }
  // Key.
  for (auto& ent : out) {
    if (const pb::Value* k = s.Get("key")) {
      std::vector<std::string> names;
      if (k->has_string_value()) names.push_back(k->string_value());
      else if (k->has_list_value()) {
        for (const auto& n : k->list_value().values()) names.push_back(n.string_value());
      } else {
        return s.Error("key", "must be a field name or a list of them");
      }
      for (auto n : names) {
        std::replace(n.begin(), n.end(), '-', '_');
        int c = ent->FindColumn(n);
        if (c < 0) {
          if (out.size() > 1) continue;  // segments: the key may name fields of one record type
          return s.Error("key", "no field " + n);
        }
        ent->key.push_back(c);
      }
      if (out.size() > 1 && ent->key.size() != names.size()) ent->key.clear();
    }
  }
  return out;
}

}  // namespace

Result<std::vector<std::shared_ptr<EntityDef>>> ParseSettings(const pb::Struct& st,
                                                              const std::string& base_dir) {
  Settings s(&st, "");
  const pb::Value* files = s.Get("files");
  if (!files || !files->has_struct_value() || files->struct_value().fields().empty()) {
    return InvalidArgument("flatfile settings: 'files' must map entity names to file settings",
                           "INVALID_SETTINGS", "files");
  }
  FA_RETURN_IF_ERROR(s.CheckKnown({"files"}));
  std::vector<std::shared_ptr<EntityDef>> out;
  std::set<std::string> names;
  for (const auto& [key, v] : files->struct_value().fields()) {
    if (!v.has_struct_value()) {
      return InvalidArgument("flatfile settings files." + key + ": must be a mapping", "INVALID_SETTINGS", key);
    }
    Settings fs(&v.struct_value(), "files." + key);
    FA_ASSIGN_OR_RETURN(auto ents, ParseFile(fs, key, base_dir));
    for (auto& e : ents) {
      if (!names.insert(e->name).second) {
        return InvalidArgument("flatfile settings: entity " + e->name + " is defined twice", "INVALID_SETTINGS");
      }
      out.push_back(e);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
  return out;
}

Result<std::vector<std::string>> ListFiles(const EntityDef& e) {
  if (!e.folder) return std::vector<std::string>{e.path};
  DIR* d = ::opendir(e.path.c_str());
  if (!d) return Unavailable("cannot read drop folder " + e.path + ": " + std::strerror(errno));
  std::set<std::string> names;
  while (struct dirent* de = ::readdir(d)) names.insert(de->d_name);
  ::closedir(d);
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (n.empty() || n[0] == '.') continue;  // hidden, temporary and journal files
    if (!e.done_suffix.empty() && n.size() >= e.done_suffix.size() &&
        n.compare(n.size() - e.done_suffix.size(), e.done_suffix.size(), e.done_suffix) == 0) {
      continue;
    }
    if (::fnmatch(e.pattern.c_str(), n.c_str(), 0) != 0) continue;
    if (!e.done_suffix.empty() && !names.count(n + e.done_suffix)) continue;  // not finished
    std::string p = e.path + "/" + n;
    struct stat st;
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back(p);
  }
  return out;
}

Result<std::shared_ptr<Snapshot>> TakeSnapshot(const EntityDef& e) {
  auto snap = std::make_shared<Snapshot>();
  FA_ASSIGN_OR_RETURN(snap->paths, ListFiles(e));
  for (const auto& p : snap->paths) {
    FA_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(p, e.lock, /*exclusive=*/false));
    auto m = MappedFile::Open(p);
    if (!m.ok()) {
      if (m.status().code() == StatusCode::kNotFound && !e.folder) {
        snap->files.emplace_back();  // an absent file reads as empty
        continue;
      }
      return m.status();
    }
    snap->files.push_back(std::move(m).value());
  }
  return snap;
}

RowReader::RowReader(const EntityDef& e, std::shared_ptr<Snapshot> snap)
    : e_(e), snap_(std::move(snap)) {}

bool RowReader::OpenFile(uint32_t i) {
  if (i >= snap_->files.size()) return false;
  std::string_view data = snap_->files[i].data();
  if (e_.format == Format::kCsv) {
    cr_ = std::make_unique<CsvReader>(data, e_.csv);
    rr_.reset();
  } else {
    std::function<uint32_t(std::string_view)> len;
    if (!e_.segments.empty() && e_.framing.kind == Framing::Kind::kFixed) {
      len = [this](std::string_view rest) { return e_.LengthAt(rest); };
    }
    rr_ = std::make_unique<RecordReader>(data, e_.framing, len);
    if (e_.framing.kind == Framing::Kind::kLines) rr_->SkipBom();
    cr_.reset();
  }
  file_ = i;
  open_ = true;
  return true;
}

std::string Where(const EntityDef& e, const Snapshot& s, const Row& row) {
  std::string w = s.paths[row.pos.file] + ": record " + std::to_string(row.pos.number) + " at byte " +
                  std::to_string(row.pos.start);
  if (e.format == Format::kCsv) w += " (line " + std::to_string(row.pos.line + 1) + ")";
  return w;
}

RowReader::Step RowReader::Next(Row* row) {
  while (true) {
    if (!open_ && !OpenFile(file_)) return Step::kEnd;
    if (e_.format == Format::kCsv) {
      uint64_t line_before = 0;
      CsvReader::Step st = cr_->Next(&row->csv);
      (void)line_before;
      if (st == CsvReader::Step::kEnd) {
        open_ = false;
        ++file_;
        continue;
      }
      row->pos.file = file_;
      row->pos.start = row->csv.start;
      row->pos.number = row->csv.number;
      row->pos.line = row->csv.line - 1;
      if (st == CsvReader::Step::kError) {
        error_ = Status(StatusCode::kDataLoss,
                        snap_->paths[file_] + ": record " + std::to_string(row->pos.number) + " at byte " +
                            std::to_string(cr_->error_offset()) + ": " + cr_->error(),
                        "MALFORMED_CSV");
        open_ = false;  // the rest of this file cannot be framed reliably
        ++file_;
        return Step::kError;
      }
      row->end = row->csv.end;
      std::string_view data = snap_->files[file_].data();
      size_t body_end = row->end;
      while (body_end > row->pos.start && (data[body_end - 1] == '\n' || data[body_end - 1] == '\r')) --body_end;
      row->bytes = data.substr(row->pos.start, body_end - row->pos.start);
      row->data_offset = row->pos.start;
      if (e_.csv.header && row->csv.number == 1) continue;
      if (row->csv.fields.size() == 1 && row->csv.fields[0].empty()) continue;  // blank line
      if (row->csv.fields.size() != e_.columns.size()) {
        size_t n = row->csv.fields.size();
        std::string field = n > e_.columns.size() ? "" : e_.columns[n].name;
        error_ = Status(StatusCode::kDataLoss,
                        Where(e_, *snap_, *row) + ": the row has " + std::to_string(n) +
                            " fields, the file has " + std::to_string(e_.columns.size()) + " columns" +
                            (n > e_.columns.size() ? " (too many fields)" : " (field " + field + " is missing)"),
                        "WRONG_FIELD_COUNT", field);
        return Step::kError;
      }
      return Step::kRow;
    }
    RawRecord r;
    RecordReader::Step st = rr_->Next(&r);
    if (st == RecordReader::Step::kEnd) {
      open_ = false;
      ++file_;
      continue;
    }
    row->pos.file = file_;
    row->pos.start = r.start;
    row->pos.number = r.number;
    if (st == RecordReader::Step::kError) {
      error_ = Status(StatusCode::kDataLoss,
                      snap_->paths[file_] + ": record " + std::to_string(r.number) + " at byte " +
                          std::to_string(r.start) + ": " + rr_->error(),
                      "BAD_RECORD_FRAMING");
      open_ = false;
      ++file_;
      return Step::kError;
    }
    if (st == RecordReader::Step::kSkipped) continue;
    row->bytes = r.bytes;
    row->end = r.end;
    row->data_offset = r.offset;
    if (!e_.InSegment(r.bytes)) continue;
    if (r.bytes.size() > e_.layout->length) {
      error_ = Status(StatusCode::kDataLoss,
                      Where(e_, *snap_, *row) + ": wrong record length: " + std::to_string(r.bytes.size()) +
                          " bytes, the layout " + e_.layout->name + " has " + std::to_string(e_.layout->length),
                      "WRONG_RECORD_LENGTH");
      return Step::kError;
    }
    return Step::kRow;
  }
}

Status RowReader::SeekTo(const RowPos& pos, Row* row) {
  if (!OpenFile(pos.file)) return Internal("index points past the files");
  if (e_.format == Format::kCsv) cr_->Seek(pos.start, pos.number - 1, pos.line);
  else rr_->Seek(pos.start, pos.number - 1);
  Step s = Next(row);
  if (s == Step::kError) return error_;
  if (s != Step::kRow || row->pos.start != pos.start) return Internal("key index is stale");
  return Status::OK();
}

namespace {

// A plain integer: optional '-', 1 to 18 digits (19 may overflow: the slow path checks).
bool ParsePlainInt(std::string_view f, int64_t* out) {
  size_t i = !f.empty() && f[0] == '-' ? 1 : 0;
  if (i == f.size() || f.size() - i > 18) return false;
  int64_t v = 0;
  for (size_t k = i; k < f.size(); ++k) {
    unsigned d = static_cast<unsigned>(f[k] - '0');
    if (d > 9) return false;
    v = v * 10 + static_cast<int64_t>(d);
  }
  *out = i ? -v : v;
  return true;
}

// A plain decimal ("-1234,5" with the column's separator, at most `scale` fraction digits) as
// canonical text with exactly `scale` fraction digits in buf (kPlainDecimalMax bytes). Returns
// its length, 0 if the text is not that plain.
constexpr size_t kPlainDecimalMax = 48;
size_t PlainDecimal(std::string_view f, const Column& col, char* buf) {
  if (f.empty() || f.size() > 40) return 0;
  size_t i = f[0] == '-' ? 1 : 0;
  size_t int_begin = i;
  while (i < f.size() && static_cast<unsigned>(f[i] - '0') <= 9) ++i;
  size_t int_end = i;
  size_t frac_begin = i, frac_end = i;
  if (i < f.size() && f[i] == col.decimal_sep) {
    frac_begin = ++i;
    while (i < f.size() && static_cast<unsigned>(f[i] - '0') <= 9) ++i;
    frac_end = i;
  }
  if (i != f.size() || int_end == int_begin || frac_end - frac_begin > static_cast<size_t>(col.scale)) return 0;
  while (int_end - int_begin > 1 && f[int_begin] == '0') ++int_begin;
  bool zero = f[int_begin] == '0' && int_end - int_begin == 1;
  for (size_t k = frac_begin; k < frac_end && zero; ++k) zero = f[k] == '0';
  const size_t pad = col.scale > 0 ? static_cast<size_t>(col.scale) - (frac_end - frac_begin) : 0;
  if (2 + (int_end - int_begin) + (frac_end - frac_begin) + pad > kPlainDecimalMax) return 0;
  size_t n = 0;
  if (f[0] == '-' && !zero) buf[n++] = '-';
  std::memcpy(buf + n, f.data() + int_begin, int_end - int_begin);
  n += int_end - int_begin;
  if (col.scale > 0) {
    buf[n++] = '.';
    std::memcpy(buf + n, f.data() + frac_begin, frac_end - frac_begin);
    n += frac_end - frac_begin;
    std::memset(buf + n, '0', pad);
    n += pad;
  }
  return n;
}

}  // namespace

bool DecodeColumnFast(const EntityDef& e, const Row& row, int c, v1::Value* out) {
  if (e.format != Format::kCsv) return false;
  const Column& col = e.columns[static_cast<size_t>(c)];
  const std::string_view f = row.csv.fields[static_cast<size_t>(col.src)];
  if (col.type == v1::FIELD_TYPE_STRING) {
    std::string* s = out->mutable_string_value();
    s->clear();
    size_t at = 0;
    return e.cs->Decode(f, s, &at);
  }
  if (f.empty() || e.cs->ebcdic()) return false;
  if (col.type == v1::FIELD_TYPE_INT64) {
    int64_t v = 0;
    if (!ParsePlainInt(f, &v)) return false;
    out->set_int_value(v);
    return true;
  }
  if (col.type != v1::FIELD_TYPE_DECIMAL) return false;
  char buf[kPlainDecimalMax];
  const size_t n = PlainDecimal(f, col, buf);
  if (n == 0) return false;
  out->mutable_decimal_value()->set_value(buf, n);
  return true;
}

bool EncodeColumnFast(const EntityDef& e, const Row& row, int c, std::string* scratch, WireBuffer* out) {
  if (e.format != Format::kCsv) return false;
  const Column& col = e.columns[static_cast<size_t>(c)];
  const std::string_view f = row.csv.fields[static_cast<size_t>(col.src)];
  if (col.type == v1::FIELD_TYPE_STRING) {
    size_t at = 0;
    if (e.cs->utf8()) {
      // Validated in place: no copy of the text before it goes into the batch.
      if (!e.cs->Validate(f, &at)) return false;
      PutStringValue(f, out);
      return true;
    }
    scratch->clear();
    if (!e.cs->Decode(f, scratch, &at)) return false;
    PutStringValue(*scratch, out);
    return true;
  }
  if (f.empty() || e.cs->ebcdic()) return false;
  if (col.type == v1::FIELD_TYPE_INT64) {
    int64_t v = 0;
    if (!ParsePlainInt(f, &v)) return false;
    PutIntValue(v, out);
    return true;
  }
  if (col.type != v1::FIELD_TYPE_DECIMAL) return false;
  char buf[kPlainDecimalMax];
  const size_t n = PlainDecimal(f, col, buf);
  if (n == 0) return false;
  PutDecimalValue(std::string_view(buf, n), out);
  return true;
}

Status DecodeColumn(const EntityDef& e, const Row& row, int c, v1::Value* out) {
  const Column& col = e.columns[static_cast<size_t>(c)];
  if (e.format != Format::kCsv) {
    RecordCodec codec(e.layout, e.cs, e.trim);
    return codec.Decode(row.bytes, col.src, out);
  }
  if (DecodeColumnFast(e, row, c, out)) return Status::OK();
  std::string_view f = row.csv.fields[static_cast<size_t>(col.src)];
  auto bad = [&](const std::string& what, const char* reason) {
    return InvalidArgument("field " + col.name + ": " + what, reason, col.name);
  };
  if (col.type == v1::FIELD_TYPE_STRING) {
    std::string* s = out->mutable_string_value();
    s->clear();
    size_t at = 0;
    if (!e.cs->Decode(f, s, &at)) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "byte 0x%02X is not a character of %s", static_cast<unsigned char>(f[at]),
                    std::string(e.cs->name()).c_str());
      return bad(buf, "UNDECODABLE_BYTES");
    }
    return Status::OK();
  }
  // Digits, signs and separators are ASCII in every non-EBCDIC set: parse the bytes directly.
  std::string decoded;
  std::string_view text = f;
  if (e.cs->ebcdic()) {
    size_t at = 0;
    if (!e.cs->Decode(f, &decoded, &at)) return bad("undecodable byte in a number", "UNDECODABLE_BYTES");
    text = decoded;
  }
  if (text.find_first_not_of(' ') == std::string_view::npos) {
    out->set_null_value(v1::NULL_VALUE);
    return Status::OK();
  }
  Number n;
  if (!ParseDecimalText(text, col.scale, &n, col.decimal_sep,
                        col.decimal_sep == ',' ? '.' : 0)) {
    return bad("'" + std::string(text) + "' is not a number with at most " + std::to_string(col.scale) + " decimals",
               "INVALID_NUMBER");
  }
  if (col.type == v1::FIELD_TYPE_INT64) {
    if (!n.FitsInt64()) return bad("'" + std::string(text) + "' does not fit int64", "INVALID_NUMBER");
    out->set_int_value(n.ToInt64());
  } else {
    std::string* s = out->mutable_decimal_value()->mutable_value();
    s->clear();
    n.AppendDecimal(s);
  }
  return Status::OK();
}

std::string KeyText(const std::vector<const v1::Value*>& values) {
  std::string k;
  for (const v1::Value* v : values) {
    if (!k.empty()) k += '\x1f';
    switch (v->kind_case()) {
      case v1::Value::kIntValue: k += std::to_string(v->int_value()); break;
      case v1::Value::kStringValue: k += v->string_value(); break;
      case v1::Value::kDecimalValue: {
        std::string d = v->decimal_value().value();
        if (d.find('.') != std::string::npos) {
          while (d.back() == '0') d.pop_back();
          if (d.back() == '.') d.pop_back();
        }
        if (d == "-0") d = "0";
        k += d;
        break;
      }
      case v1::Value::kNullValue:
      case v1::Value::KIND_NOT_SET: k += "\x1e"; break;
      default: k += ValueToString(*v);
    }
  }
  return k;
}

}  // namespace fachadapter::flatfile
