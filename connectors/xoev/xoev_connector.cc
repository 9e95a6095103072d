#include "xoev_connector.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "file_util.h"
#include "message_assembly.h"
#include "xml_security.h"

namespace fachadapter::xoev {
namespace {

namespace cv1 = sdk::cv1;
using google::protobuf::Struct;
using PbValue = google::protobuf::Value;

constexpr const char* kInbound = "inbound";
constexpr const char* kOutbound = "outbound";

Status BadSetting(const std::string& where, const std::string& what) {
  return InvalidArgument("settings." + where + ": " + what, "INVALID_SETTINGS", where);
}

Status CheckKeys(const Struct& s, const std::set<std::string>& allowed, const std::string& where) {
  for (const auto& [k, v] : s.fields()) {
    if (!allowed.count(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return BadSetting(where.empty() ? k : where + "." + k, "unknown key (known: " + list + ")");
    }
  }
  return Status::OK();
}

const PbValue* Get(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? nullptr : &it->second;
}

Result<std::string> AsString(const PbValue& v, const std::string& where) {
  switch (v.kind_case()) {
    case PbValue::kStringValue: return v.string_value();
    case PbValue::kNumberValue: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.15g", v.number_value());
      return std::string(buf);
    }
    case PbValue::kBoolValue: return std::string(v.bool_value() ? "true" : "false");
    default: return BadSetting(where, "must be a string");
  }
}

Result<std::vector<std::string>> AsStringList(const PbValue& v, const std::string& where) {
  std::vector<std::string> out;
  if (v.kind_case() == PbValue::kListValue) {
    for (int i = 0; i < v.list_value().values_size(); ++i) {
      FA_ASSIGN_OR_RETURN(std::string s, AsString(v.list_value().values(i), where + "[" + std::to_string(i) + "]"));
      out.push_back(std::move(s));
    }
    return out;
  }
  FA_ASSIGN_OR_RETURN(std::string s, AsString(v, where));
  out.push_back(std::move(s));
  return out;
}

Result<size_t> AsSize(const PbValue& v, const std::string& where, double min, double max) {
  if (v.kind_case() != PbValue::kNumberValue || v.number_value() != static_cast<double>(static_cast<int64_t>(v.number_value())) ||
      v.number_value() < min || v.number_value() > max) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "must be a whole number from %.0f to %.0f", min, max);
    return BadSetting(where, buf);
  }
  return static_cast<size_t>(v.number_value());
}

std::string Resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  return base_dir + "/" + p;
}

bool IsDir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

int64_t NowNanos() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ToNanos(ts);
}

v1::Value TimestampValue(int64_t ns) {
  v1::Value v;
  auto* ts = v.mutable_timestamp_value();
  ts->set_seconds(ns / 1000000000);
  ts->set_nanos(static_cast<int32_t>(ns % 1000000000));
  ts->set_utc_offset_minutes(0);
  return v;
}

bool FilterUses(const v1::Filter& f, const std::string& field) {
  switch (f.kind_case()) {
    case v1::Filter::kField: return f.field().field() == field;
    case v1::Filter::kAnd:
      for (const auto& c : f.and_().filters()) {
        if (FilterUses(c, field)) return true;
      }
      return false;
    case v1::Filter::kOr:
      for (const auto& c : f.or_().filters()) {
        if (FilterUses(c, field)) return true;
      }
      return false;
    case v1::Filter::kNot: return FilterUses(f.not_(), field);
    default: return false;
  }
}

// File name of an outbound message: <key>_<root element>.xml with every character outside
// [A-Za-z0-9._-] replaced, never starting with a dot.
std::string MessageFileName(const std::string& key, const std::string& root) {
  std::string n = key + "_" + root;
  for (char& c : n) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  if (!n.empty() && n[0] == '.') n[0] = '_';
  if (n.size() > 200) n.resize(200);
  return n + ".xml";
}

// Receipt metadata of an outbound message written by the connector.
struct Receipt {
  std::string request_hash;
  std::string content_sha256;
  int64_t written_at_ns = 0;
  bool delivered = false;
  std::optional<int64_t> processed_at_ns;

  std::string Serialize() const {
    std::string s = "request_hash=" + request_hash + "\ncontent_sha256=" + content_sha256 +
                    "\nwritten_at_ns=" + std::to_string(written_at_ns) +
                    "\ndelivered=" + (delivered ? "1" : "0") + "\n";
    if (processed_at_ns) s += "processed_at_ns=" + std::to_string(*processed_at_ns) + "\n";
    return s;
  }
  static std::optional<Receipt> Read(const std::string& path) {
    auto bytes = ReadWholeFile(path, 1 << 16);
    if (!bytes.ok()) return std::nullopt;
    Receipt r;
    size_t pos = 0;
    const std::string& s = *bytes;
    while (pos < s.size()) {
      size_t nl = s.find('\n', pos);
      if (nl == std::string::npos) nl = s.size();
      std::string line = s.substr(pos, nl - pos);
      pos = nl + 1;
      size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string k = line.substr(0, eq), v = line.substr(eq + 1);
      if (k == "request_hash") r.request_hash = v;
      if (k == "content_sha256") r.content_sha256 = v;
      if (k == "written_at_ns") r.written_at_ns = std::strtoll(v.c_str(), nullptr, 10);
      if (k == "delivered") r.delivered = v == "1";
      if (k == "processed_at_ns") r.processed_at_ns = std::strtoll(v.c_str(), nullptr, 10);
    }
    return r;
  }
};

// Serialises a process-wide and cross-process critical section on a folder (flock on a lock
// file in it), for the outbound write protocol.
class FolderLock {
 public:
  explicit FolderLock(const std::string& dir) {
    fd_ = ::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FolderLock() {
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_UN);
      ::close(fd_);
    }
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// The member of `f` a raw field sets when a message is assembled from header fields, or null.
std::optional<std::string>* AssemblyField(AssemblyFields* f, const std::string& name) {
  if (name == "schema_set") return &f->schema_set;
  if (name == "root_element") return &f->root_element;
  if (name == "message_type_code") return &f->type_code;
  if (name == "message_type_name") return &f->type_name;
  if (name == "message_type_list_uri") return &f->type_list_uri;
  if (name == "message_type_list_version") return &f->type_list_version;
  if (name == "author_directory_service") return &f->author.directory_service;
  if (name == "author_id") return &f->author.id;
  if (name == "author_name") return &f->author.name;
  if (name == "reader_directory_service") return &f->reader.directory_service;
  if (name == "reader_id") return &f->reader.id;
  if (name == "reader_name") return &f->reader.name;
  if (name == "standard") return &f->standard;
  if (name == "version") return &f->version;
  if (name == "product") return &f->product;
  if (name == "product_vendor") return &f->product_vendor;
  if (name == "product_version") return &f->product_version;
  if (name == "content") return &f->content;
  return nullptr;
}

}  // namespace

struct XoevConnector::Row {
  v1::Record record;
  std::string doc_path;
};

XoevConnector::XoevConnector() = default;
XoevConnector::~XoevConnector() = default;

Status XoevConnector::Open(const cv1::OpenRequest& request) {
  InitLibxml();
  source_name_ = request.source_name();
  const Struct& s = request.settings();
  std::string base = ".";
  if (!request.config_file().empty()) {
    size_t slash = request.config_file().rfind('/');
    base = slash == std::string::npos ? "." : request.config_file().substr(0, slash);
    if (base.empty()) base = "/";
  }
  FA_RETURN_IF_ERROR(CheckKeys(s, {"inbound_dir", "outbound_dir", "receipts_dir", "ack_suffixes",
                                   "limits", "schema_sets", "code_lists", "namespaces", "mappings"},
                               ""));
  const PbValue* in = Get(s, "inbound_dir");
  if (!in) return BadSetting("inbound_dir", "is required");
  FA_ASSIGN_OR_RETURN(inbound_dir_, AsString(*in, "inbound_dir"));
  inbound_dir_ = Resolve(base, inbound_dir_);
  if (!IsDir(inbound_dir_)) return BadSetting("inbound_dir", "folder '" + inbound_dir_ + "' does not exist");
  if (const PbValue* out = Get(s, "outbound_dir")) {
    FA_ASSIGN_OR_RETURN(outbound_dir_, AsString(*out, "outbound_dir"));
    outbound_dir_ = Resolve(base, outbound_dir_);
    if (!IsDir(outbound_dir_)) return BadSetting("outbound_dir", "folder '" + outbound_dir_ + "' does not exist");
    receipts_dir_ = outbound_dir_ + "/.fachadapter-receipts";
    if (const PbValue* r = Get(s, "receipts_dir")) {
      FA_ASSIGN_OR_RETURN(receipts_dir_, AsString(*r, "receipts_dir"));
      receipts_dir_ = Resolve(base, receipts_dir_);
    }
    if (!IsDir(receipts_dir_) && ::mkdir(receipts_dir_.c_str(), 0755) != 0) {
      return BadSetting("receipts_dir", "folder '" + receipts_dir_ + "' cannot be created: " + std::strerror(errno));
    }
    std::string canon_receipts = CanonicalPath(receipts_dir_);
    if (canon_receipts == CanonicalPath(outbound_dir_) || canon_receipts == CanonicalPath(inbound_dir_)) {
      return BadSetting("receipts_dir", "must be a folder of its own, not the inbound or outbound folder");
    }
  }
  ack_suffixes_ = {".ack", ".processed"};
  if (const PbValue* a = Get(s, "ack_suffixes")) {
    FA_ASSIGN_OR_RETURN(ack_suffixes_, AsStringList(*a, "ack_suffixes"));
  }

  XmlLimits& limits = analyzer_.limits;
  if (const PbValue* l = Get(s, "limits")) {
    if (l->kind_case() != PbValue::kStructValue) return BadSetting("limits", "must be a map");
    const Struct& ls = l->struct_value();
    FA_RETURN_IF_ERROR(CheckKeys(ls, {"max_document_bytes", "max_depth", "max_text_bytes",
                                      "max_attribute_bytes", "max_errors"}, "limits"));
    if (auto* v = Get(ls, "max_document_bytes")) {
      FA_ASSIGN_OR_RETURN(limits.max_document_bytes, AsSize(*v, "limits.max_document_bytes", 1, 1024.0 * 1024 * 1024));
    }
    if (auto* v = Get(ls, "max_depth")) {
      FA_ASSIGN_OR_RETURN(size_t d, AsSize(*v, "limits.max_depth", 1, 256));
      limits.max_depth = static_cast<int>(d);
    }
    if (auto* v = Get(ls, "max_text_bytes")) {
      FA_ASSIGN_OR_RETURN(limits.max_text_bytes, AsSize(*v, "limits.max_text_bytes", 1, 10000000));
    }
    if (auto* v = Get(ls, "max_attribute_bytes")) {
      FA_ASSIGN_OR_RETURN(limits.max_attribute_bytes, AsSize(*v, "limits.max_attribute_bytes", 1, 10000000));
    }
    if (auto* v = Get(ls, "max_errors")) {
      FA_ASSIGN_OR_RETURN(limits.max_errors, AsSize(*v, "limits.max_errors", 1, 100000));
    }
  }

  if (const PbValue* sets = Get(s, "schema_sets")) {
    if (sets->kind_case() != PbValue::kListValue) return BadSetting("schema_sets", "must be a list");
    std::set<std::string> names;
    for (int i = 0; i < sets->list_value().values_size(); ++i) {
      std::string where = "schema_sets[" + std::to_string(i) + "]";
      const PbValue& e = sets->list_value().values(i);
      if (e.kind_case() != PbValue::kStructValue) return BadSetting(where, "must be a map");
      const Struct& es = e.struct_value();
      FA_RETURN_IF_ERROR(CheckKeys(es, {"name", "entry", "catalogs", "roots", "namespaces", "standard", "version",
                                        "message_header"}, where));
      SchemaSetConfig c;
      const PbValue* name = Get(es, "name");
      const PbValue* entry = Get(es, "entry");
      if (!name) return BadSetting(where + ".name", "is required");
      if (!entry) return BadSetting(where + ".entry", "is required");
      FA_ASSIGN_OR_RETURN(c.name, AsString(*name, where + ".name"));
      if (!names.insert(c.name).second) return BadSetting(where + ".name", "'" + c.name + "' is used twice");
      FA_ASSIGN_OR_RETURN(c.entry, AsString(*entry, where + ".entry"));
      c.entry = Resolve(base, c.entry);
      if (auto* v = Get(es, "catalogs")) {
        FA_ASSIGN_OR_RETURN(c.catalogs, AsStringList(*v, where + ".catalogs"));
        for (auto& p : c.catalogs) p = Resolve(base, p);
      }
      if (auto* v = Get(es, "roots")) {
        FA_ASSIGN_OR_RETURN(c.roots, AsStringList(*v, where + ".roots"));
        for (auto& p : c.roots) p = Resolve(base, p);
      }
      if (auto* v = Get(es, "namespaces")) {
        FA_ASSIGN_OR_RETURN(c.namespaces, AsStringList(*v, where + ".namespaces"));
      }
      if (auto* v = Get(es, "standard")) {
        FA_ASSIGN_OR_RETURN(c.standard, AsString(*v, where + ".standard"));
      }
      if (auto* v = Get(es, "version")) {
        FA_ASSIGN_OR_RETURN(c.version, AsString(*v, where + ".version"));
      }
      if (auto* v = Get(es, "message_header")) {
        std::string hw = where + ".message_header";
        if (v->kind_case() != PbValue::kStructValue) return BadSetting(hw, "must be a map");
        const Struct& hs = v->struct_value();
        FA_RETURN_IF_ERROR(CheckKeys(hs, {"product", "product_vendor", "product_version", "message_type_list_uri",
                                          "message_type_list_version", "directory_service_list_version"}, hw));
        MessageHeaderDefaults& d = header_defaults_[c.name];
        std::pair<const char*, std::string*> keys[] = {
            {"product", &d.product},
            {"product_vendor", &d.product_vendor},
            {"product_version", &d.product_version},
            {"message_type_list_uri", &d.message_type_list_uri},
            {"message_type_list_version", &d.message_type_list_version},
            {"directory_service_list_version", &d.directory_service_list_version}};
        for (auto& [k, dst] : keys) {
          if (auto* hv = Get(hs, k)) {
            FA_ASSIGN_OR_RETURN(*dst, AsString(*hv, hw + "." + k));
          }
        }
      }
      auto compiled = SchemaSet::Compile(c);
      if (!compiled.ok()) return compiled.status().WithContext("settings." + where).WithField(where);
      analyzer_.schema_sets.push_back(std::move(compiled).value());
      host().Log(FA_LOG_INFO, "xoev source '" + source_name_ + "': schema set '" + c.name + "' compiled from " +
                                  std::to_string(analyzer_.schema_sets.back()->loaded_files().size()) + " files");
    }
  }

  if (const PbValue* cl = Get(s, "code_lists")) {
    FA_ASSIGN_OR_RETURN(std::vector<std::string> paths, AsStringList(*cl, "code_lists"));
    for (auto& p : paths) {
      p = Resolve(base, p);
      Status st = IsDir(p) ? analyzer_.code_lists.LoadFolder(p, limits) : analyzer_.code_lists.LoadFile(p, limits);
      if (!st.ok()) return BadSetting("code_lists", st.message());
    }
  }

  std::map<std::string, std::string> namespaces;
  if (const PbValue* ns = Get(s, "namespaces")) {
    if (ns->kind_case() != PbValue::kStructValue) return BadSetting("namespaces", "must be a map of prefix: URI");
    for (const auto& [prefix, uri] : ns->struct_value().fields()) {
      FA_ASSIGN_OR_RETURN(namespaces[prefix], AsString(uri, "namespaces." + prefix));
    }
  }
  std::vector<MappingRuleConfig> rules;
  if (const PbValue* ms = Get(s, "mappings")) {
    if (ms->kind_case() != PbValue::kListValue) return BadSetting("mappings", "must be a list");
    for (int i = 0; i < ms->list_value().values_size(); ++i) {
      std::string where = "mappings[" + std::to_string(i) + "]";
      const PbValue& e = ms->list_value().values(i);
      if (e.kind_case() != PbValue::kStructValue) return BadSetting(where, "must be a map");
      const Struct& es = e.struct_value();
      FA_RETURN_IF_ERROR(CheckKeys(es, {"message_types", "root_elements", "schema_set", "fields"}, where));
      MappingRuleConfig rule;
      if (auto* v = Get(es, "message_types")) {
        FA_ASSIGN_OR_RETURN(rule.message_types, AsStringList(*v, where + ".message_types"));
      }
      if (auto* v = Get(es, "root_elements")) {
        FA_ASSIGN_OR_RETURN(rule.root_elements, AsStringList(*v, where + ".root_elements"));
      }
      if (auto* v = Get(es, "schema_set")) {
        FA_ASSIGN_OR_RETURN(rule.schema_set, AsString(*v, where + ".schema_set"));
      }
      const PbValue* fields = Get(es, "fields");
      if (!fields || fields->kind_case() != PbValue::kStructValue) {
        return BadSetting(where + ".fields", "is required: a map of field name to {xpath, type}");
      }
      std::vector<std::string> keys;
      for (const auto& [k, v] : fields->struct_value().fields()) keys.push_back(k);
      std::sort(keys.begin(), keys.end());  // protobuf maps are unordered: keep a stable order
      for (const auto& fname : keys) {
        const PbValue& fv = fields->struct_value().fields().at(fname);
        std::string fw = where + ".fields." + fname;
        MappedFieldConfig f;
        f.name = fname;
        if (fname.empty() || !(isalpha(static_cast<unsigned char>(fname[0])) || fname[0] == '_')) {
          return BadSetting(fw, "is not a valid field name");
        }
        for (int k = 0; k < kFixedFieldCount; ++k) {
          if (fname == FixedFields()[k].name) return BadSetting(fw, "clashes with the built-in field of that name");
        }
        if (fv.kind_case() == PbValue::kStringValue) {
          f.xpath = fv.string_value();
        } else if (fv.kind_case() == PbValue::kStructValue) {
          FA_RETURN_IF_ERROR(CheckKeys(fv.struct_value(), {"xpath", "type"}, fw));
          const PbValue* xp = Get(fv.struct_value(), "xpath");
          if (!xp) return BadSetting(fw + ".xpath", "is required");
          FA_ASSIGN_OR_RETURN(f.xpath, AsString(*xp, fw + ".xpath"));
          if (const PbValue* t = Get(fv.struct_value(), "type")) {
            FA_ASSIGN_OR_RETURN(std::string tn, AsString(*t, fw + ".type"));
            f.type = ParseFieldType(tn);
            if (f.type == v1::FIELD_TYPE_UNSPECIFIED) return BadSetting(fw + ".type", "unknown type '" + tn + "'");
          }
        } else {
          return BadSetting(fw, "must be an XPath string or {xpath, type}");
        }
        rule.fields.push_back(std::move(f));
      }
      rules.push_back(std::move(rule));
    }
  }
  auto mapper = FieldMapper::Create(namespaces, rules);
  if (!mapper.ok()) return BadSetting("mappings", mapper.status().message());
  analyzer_.mapper = std::move(mapper).value();

  field_names_.clear();
  for (int k = 0; k < kFixedFieldCount; ++k) field_names_.push_back(FixedFields()[k].name);
  for (const auto& [n, t] : analyzer_.mapper->fields()) field_names_.push_back(n);
  inbound_ = std::make_unique<FolderIndex>(inbound_dir_, &analyzer_);
  if (!outbound_dir_.empty()) {
    outbound_ = std::make_unique<FolderIndex>(outbound_dir_, &analyzer_);
    receipts_ = std::make_unique<FolderIndex>(receipts_dir_, &analyzer_);
  }
  return Status::OK();
}

Status XoevConnector::Describe(const cv1::DescribeRequest& request, cv1::DescribeResponse* response,
                               sdk::CallContext&) {
  std::vector<std::string> wanted(request.entities().begin(), request.entities().end());
  if (wanted.empty()) {
    wanted.push_back(kInbound);
    if (outbound_) wanted.push_back(kOutbound);
  }
  for (const auto& name : wanted) {
    if (name != kInbound && !(name == kOutbound && outbound_)) {
      return NotFound("source '" + source_name_ + "' has no entity '" + name + "'", "UNKNOWN_ENTITY");
    }
    cv1::RawEntity* e = response->add_entities();
    e->set_name(name);
    e->set_kind(cv1::RAW_ENTITY_KIND_MESSAGES);
    // inbound: Delete acknowledges; outbound: Create sends. Entities should list their
    // operations in the config (docs/xoev.md): the raw entity has no finer capability flags.
    e->set_writable(true);
    e->add_primary_key("file_name");
    for (int k = 0; k < kFixedFieldCount; ++k) {
      auto* f = e->add_fields();
      f->set_name(FixedFields()[k].name);
      f->set_type(FixedFields()[k].type);
      f->set_native_type(FixedFields()[k].native_type);
      f->set_nullable(k != kFileName && k != kValidationStatus && k != kState && k != kSizeBytes);
      // Outbound: what a Create may set (a document, or header fields and content) is not
      // generated; the rest is read from the written message.
      AssemblyFields probe;
      bool settable = k == kDocument || k == kMessageUuid || k == kCreatedAt ||
                      AssemblyField(&probe, FixedFields()[k].name) != nullptr;
      f->set_auto_generated(name == kOutbound && !settable);
    }
    for (const auto& [n, t] : analyzer_.mapper->fields()) {
      auto* f = e->add_fields();
      f->set_name(n);
      f->set_type(t);
      f->set_native_type("XPath mapping");
      f->set_nullable(true);
      f->set_auto_generated(true);
    }
  }
  return Status::OK();
}

v1::Record XoevConnector::RecordOf(const FolderIndex::Item& item, const std::string& state,
                                   const std::optional<int64_t>& processed_at_ns) const {
  v1::Record rec;
  for (const auto& v : item.info->values) *rec.add_values() = v;
  rec.mutable_values(kFileName)->set_string_value(item.name);
  rec.mutable_values(kState)->set_string_value(state);
  *rec.mutable_values(kReceivedAt) = TimestampValue(ToNanos(item.st.st_mtim));
  if (processed_at_ns) *rec.mutable_values(kProcessedAt) = TimestampValue(*processed_at_ns);
  rec.mutable_values(kSizeBytes)->set_int_value(item.st.st_size);
  char etag[64];
  std::snprintf(etag, sizeof etag, "%llx-%llx", static_cast<unsigned long long>(item.st.st_size),
                static_cast<unsigned long long>(ToNanos(item.st.st_mtim)));
  rec.set_etag(etag);
  return rec;
}

namespace {
std::string StateOf(const MessageInfo& info) {
  if (info.validation_status == "valid") return "valid";
  if (info.validation_status == "unknown_schema") return "received";
  return "invalid";
}
}  // namespace

Result<std::vector<XoevConnector::Row>> XoevConnector::Collect(const std::string& entity,
                                                               sdk::CallContext& ctx) {
  std::vector<Row> rows;
  auto acked = [&](const std::string& path) {
    for (const auto& s : ack_suffixes_) {
      if (Exists(path + s)) return true;
    }
    return false;
  };
  if (entity == kInbound) {
    FA_ASSIGN_OR_RETURN(auto items, inbound_->Snapshot(ctx));
    for (const auto& it : items) {
      bool done = acked(it.path);
      rows.push_back(Row{RecordOf(it, done ? "processed" : StateOf(*it.info), std::nullopt), it.path});
    }
    return rows;
  }
  if (entity != kOutbound || !outbound_) {
    return NotFound("source '" + source_name_ + "' has no entity '" + entity + "'", "UNKNOWN_ENTITY");
  }
  FA_ASSIGN_OR_RETURN(auto out_items, outbound_->Snapshot(ctx));
  FA_ASSIGN_OR_RETURN(auto receipt_items, receipts_->Snapshot(ctx));
  std::set<std::string> present;
  for (const auto& it : out_items) {
    present.insert(it.name);
    std::string state = acked(it.path) ? "processed" : StateOf(*it.info);
    std::optional<int64_t> processed_at;
    if (state == "processed") {
      // Acknowledged by a marker: our own messages get their processed_at on first sight.
      if (auto r = Receipt::Read(receipts_dir_ + "/" + it.name + ".receipt")) {
        if (!r->processed_at_ns) {
          r->processed_at_ns = NowNanos();
          std::lock_guard<std::mutex> lock(write_mu_);
          (void)WriteFileAtomically(receipts_dir_, it.name + ".receipt", r->Serialize(), true);
        }
        processed_at = r->processed_at_ns;
      }
    }
    rows.push_back(Row{RecordOf(it, state, processed_at), it.path});
  }
  for (const auto& it : receipt_items) {
    if (present.count(it.name)) continue;
    // Written by us and gone from the outbound folder: the Fachverfahren took it.
    std::string meta = receipts_dir_ + "/" + it.name + ".receipt";
    auto r = Receipt::Read(meta);
    if (!r) continue;
    if (!r->delivered) {
      rows.push_back(Row{RecordOf(it, "received", std::nullopt), it.path});
      continue;
    }
    if (!r->processed_at_ns) {
      r->processed_at_ns = NowNanos();
      std::lock_guard<std::mutex> lock(write_mu_);
      (void)WriteFileAtomically(receipts_dir_, it.name + ".receipt", r->Serialize(), true);
    }
    rows.push_back(Row{RecordOf(it, "processed", r->processed_at_ns), it.path});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.record.values(kFileName).string_value() < b.record.values(kFileName).string_value();
  });
  return rows;
}

namespace {

class VectorCursor : public sdk::ScanCursor {
 public:
  VectorCursor(std::vector<std::pair<v1::Record, std::string>> rows, std::vector<int> projection,
               std::vector<std::string> names, bool with_etag, int batch_size, size_t max_doc_bytes)
      : rows_(std::move(rows)), projection_(std::move(projection)), names_(std::move(names)),
        with_etag_(with_etag), batch_size_(batch_size), max_doc_bytes_(max_doc_bytes) {}

  Status Next(cv1::ScanBatch* out, bool* end, sdk::CallContext& ctx) override {
    if (!sent_names_) {
      for (const auto& n : names_) out->add_fields(n);
      sent_names_ = true;
    }
    if (pos_ >= rows_.size()) {
      *end = out->fields_size() == 0;
      return Status::OK();
    }
    FA_RETURN_IF_ERROR(ctx.CheckCancelled());
    size_t bytes = 0;
    int n = 0;
    while (pos_ < rows_.size() && n < batch_size_ && bytes < (4u << 20)) {
      auto& [rec, path] = rows_[pos_++];
      v1::Record* o = out->mutable_batch()->add_records();
      for (int idx : projection_) {
        v1::Value* v = o->add_values();
        if (idx == kDocument && rec.values(kDocument).kind_case() != v1::Value::kBytesValue) {
          auto doc = ReadWholeFile(path, max_doc_bytes_);
          if (doc.ok()) {
            bytes += doc->size();
            v->set_bytes_value(std::move(doc).value());
          } else {
            v->set_null_value(v1::NULL_VALUE);
          }
        } else {
          *v = std::move(*rec.mutable_values(idx));
        }
      }
      if (with_etag_) o->set_etag(rec.etag());
      ++n;
    }
    *end = false;
    return Status::OK();
  }

 private:
  std::vector<std::pair<v1::Record, std::string>> rows_;
  std::vector<int> projection_;
  std::vector<std::string> names_;
  bool with_etag_;
  int batch_size_;
  size_t max_doc_bytes_;
  size_t pos_ = 0;
  bool sent_names_ = false;
};

}  // namespace

Result<std::unique_ptr<sdk::ScanCursor>> XoevConnector::Scan(const cv1::ScanRequest& request,
                                                             sdk::CallContext& ctx) {
  auto index_of = [&](const std::string& name) -> int {
    for (size_t i = 0; i < field_names_.size(); ++i) {
      if (field_names_[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  std::vector<int> projection;
  std::vector<std::string> names;
  if (request.fields().empty()) {
    for (size_t i = 0; i < field_names_.size(); ++i) projection.push_back(static_cast<int>(i));
    names = field_names_;
  } else {
    for (const auto& f : request.fields()) {
      int i = index_of(f);
      if (i < 0) return InvalidArgument("unknown field '" + f + "' in projection", "UNKNOWN_FIELD", f);
      projection.push_back(i);
      names.push_back(f);
    }
  }
  std::vector<std::pair<int, bool>> order;
  for (const auto& k : request.order()) {
    int i = index_of(k.field());
    if (i < 0) return InvalidArgument("unknown field '" + k.field() + "' in order", "UNKNOWN_FIELD", k.field());
    order.emplace_back(i, k.descending());
  }
  FA_ASSIGN_OR_RETURN(FilterEvaluator filter, FilterEvaluator::Compile(request.filter(), field_names_));
  if (request.limit() < 0) return InvalidArgument("limit must not be negative", "INVALID_LIMIT");
  FA_ASSIGN_OR_RETURN(std::vector<Row> rows, Collect(request.entity(), ctx));
  bool filter_needs_doc = FilterUses(request.filter(), "document");
  std::vector<std::pair<v1::Record, std::string>> kept;
  for (auto& r : rows) {
    if (filter_needs_doc) {
      auto doc = ReadWholeFile(r.doc_path, analyzer_.limits.max_document_bytes);
      if (doc.ok()) r.record.mutable_values(kDocument)->set_bytes_value(std::move(doc).value());
    }
    if (!filter.Matches(r.record)) continue;
    kept.emplace_back(std::move(r.record), std::move(r.doc_path));
  }
  if (!order.empty()) {
    std::stable_sort(kept.begin(), kept.end(), [&](const auto& a, const auto& b) {
      for (auto [i, desc] : order) {
        int c = SortCompare(a.first.values(i), b.first.values(i));
        if (c != 0) return desc ? c > 0 : c < 0;
      }
      return false;
    });
  }
  if (request.limit() > 0 && kept.size() > static_cast<size_t>(request.limit())) kept.resize(request.limit());
  int batch = request.batch_size() > 0 ? std::min(request.batch_size(), 1000) : 100;
  return std::unique_ptr<sdk::ScanCursor>(new VectorCursor(std::move(kept), std::move(projection), std::move(names),
                                                           request.with_etag(), batch,
                                                           analyzer_.limits.max_document_bytes));
}

Status XoevConnector::Delete(const cv1::DeleteRequest& request, cv1::DeleteResponse*,
                             sdk::CallContext& ctx) {
  if (request.entity() == kOutbound) {
    return Unimplemented("messages in 'outbound' are taken by the Fachverfahren, not deleted through the API",
                         "READ_ONLY_ENTITY");
  }
  if (request.entity() != kInbound) {
    return NotFound("source '" + source_name_ + "' has no entity '" + request.entity() + "'", "UNKNOWN_ENTITY");
  }
  if (request.key_size() != 1 || request.key(0).field() != "file_name" || !request.key(0).value().has_string_value()) {
    return InvalidArgument("the key of 'inbound' is file_name (a string)", "INVALID_KEY", "file_name");
  }
  const std::string& name = request.key(0).value().string_value();
  FA_ASSIGN_OR_RETURN(auto items, inbound_->Snapshot(ctx));
  for (const auto& it : items) {
    if (it.name != name) continue;
    if (!request.etag().empty()) {
      v1::Record rec = RecordOf(it, "", std::nullopt);
      if (rec.etag() != request.etag()) {
        return Status(StatusCode::kAborted, "message '" + name + "' changed since it was read", "ETAG_MISMATCH");
      }
    }
    // Acknowledge: a marker beside the message; the message itself belongs to the legacy side.
    return WriteFileAtomically(inbound_dir_, name + ack_suffixes_.front(), "", true);
  }
  return NotFound("no message '" + name + "' in 'inbound'", "RECORD_NOT_FOUND", "file_name");
}

Status XoevConnector::Health(const cv1::HealthRequest&, cv1::HealthResponse* response, sdk::CallContext&) {
  std::string problem;
  if (!IsDir(inbound_dir_) || ::access(inbound_dir_.c_str(), R_OK | X_OK) != 0) {
    problem = "inbound folder '" + inbound_dir_ + "' is not readable";
  } else if (!outbound_dir_.empty() && ::access(outbound_dir_.c_str(), W_OK | X_OK) != 0) {
    problem = "outbound folder '" + outbound_dir_ + "' is not writable";
  }
  response->set_serving(problem.empty());
  response->set_detail(problem);
  return Status::OK();
}

Status XoevConnector::Insert(const cv1::InsertRequest& request, cv1::InsertResponse* response,
                             sdk::CallContext& ctx) {
  if (request.entity() == kInbound) {
    return Unimplemented("entity 'inbound' is read-only: messages arrive in its folder", "READ_ONLY_ENTITY");
  }
  if (request.entity() != kOutbound) {
    return NotFound("source '" + source_name_ + "' has no entity '" + request.entity() + "'", "UNKNOWN_ENTITY");
  }
  if (!outbound_) return FailedPrecondition("no outbound_dir is configured for this source", "NOT_CONFIGURED");
  std::string document, given_uuid;
  bool has_document = false;
  std::optional<v1::Timestamp> given_created;
  AssemblyFields af;
  std::string first_header_field;  // the first field that asks for assembly
  for (const auto& fv : request.values()) {
    const auto& v = fv.value();
    if (fv.field() == "document") {
      if (IsNull(v)) continue;
      if (v.has_bytes_value()) {
        document = v.bytes_value();
      } else if (v.has_string_value()) {
        document = v.string_value();
      } else {
        return InvalidArgument("field 'document' must be bytes (or a string) holding the XML message",
                               "WRONG_TYPE", "document");
      }
      has_document = true;
    } else if (fv.field() == "message_uuid") {
      if (IsNull(v)) continue;
      if (!v.has_string_value()) return InvalidArgument("field 'message_uuid' must be a string", "WRONG_TYPE", "message_uuid");
      given_uuid = v.string_value();
    } else if (fv.field() == "created_at") {
      if (IsNull(v)) continue;
      if (!v.has_timestamp_value()) return InvalidArgument("field 'created_at' must be a timestamp", "WRONG_TYPE", "created_at");
      given_created = v.timestamp_value();
    } else if (std::optional<std::string>* dst = AssemblyField(&af, fv.field())) {
      if (IsNull(v)) continue;
      if (v.has_string_value()) {
        *dst = v.string_value();
      } else if (v.has_bytes_value() && fv.field() == "content") {
        *dst = v.bytes_value();
      } else {
        return InvalidArgument("field '" + fv.field() + "' must be a string" +
                                   (fv.field() == "content" ? " or bytes holding XML" : ""),
                               "WRONG_TYPE", fv.field());
      }
      if (first_header_field.empty()) first_header_field = fv.field();
    } else if (std::find(field_names_.begin(), field_names_.end(), fv.field()) != field_names_.end()) {
      if (IsNull(v)) continue;
      return InvalidArgument("field '" + fv.field() + "' is read from the document and cannot be set",
                             "READ_ONLY_FIELD", fv.field());
    } else {
      return InvalidArgument("unknown field '" + fv.field() + "'", "UNKNOWN_FIELD", fv.field());
    }
  }
  std::string created_key = given_created ? given_created->SerializeAsString() : "";
  std::string request_hash;
  std::optional<AssembledDocument> assembled;
  if (has_document) {
    if (!first_header_field.empty()) {
      return InvalidArgument("give either 'document' (a complete XÖV message) or the header fields and "
                             "'content', not both: field '" + first_header_field + "' is set with 'document'",
                             "CONFLICTING_FIELDS", first_header_field);
    }
    request_hash = Sha256Hex(document + '\0' + given_uuid + '\0' + created_key);
  } else {
    if (first_header_field.empty()) {
      return InvalidArgument("field 'document' is required (a complete XÖV message), or the header fields "
                             "(message_type_code, author_*, reader_*) and 'content' to assemble one",
                             "MISSING_FIELD", "document");
    }
    FA_ASSIGN_OR_RETURN(assembled, AssembleMessage(analyzer_.schema_sets, header_defaults_, af));
    document = assembled->text;
    // Distinct from any complete document's hash: the canonical fields start with a tag no XML
    // document starts with.
    request_hash = Sha256Hex(af.Canonical() + '\0' + given_uuid + '\0' + created_key);
  }
  // Errors in an assembled message are reported against the field the client wrote: lines of
  // the body count within 'content'; the header the connector generated has no client lines.
  const std::string doc_field = assembled ? "content" : "document";
  auto client_lines = [&](std::vector<XmlDiagnostic>* ds) {
    if (!assembled) return;
    for (auto& d : *ds) {
      if (d.line > assembled->content_line_offset) {
        d.line -= assembled->content_line_offset;
      } else if (d.line > 0) {
        d.line = 0;
        d.message = "in the assembled header: " + d.message;
      }
    }
  };

  std::vector<XmlDiagnostic> diags;
  auto parsed = ParseUntrusted(document, analyzer_.limits, &diags, /*mutable_tree=*/true);
  if (!parsed.ok()) {
    if (assembled) {
      client_lines(&diags);
      return InvalidArgument("field 'content' is not a well-formed, acceptable XML body (" +
                                 parsed.status().reason() + "); lines count within 'content':\n" +
                                 FormatDiagnostics(diags, analyzer_.limits.max_errors),
                             parsed.status().reason(), "content");
    }
    std::string msg = parsed.status().message();
    if (diags.size() > 1) msg += "\n" + FormatDiagnostics(diags, analyzer_.limits.max_errors);
    return InvalidArgument(msg, parsed.status().reason(), "document");
  }
  xmlDoc* doc = parsed->get();
  MessageHeader h = ExtractHeader(doc);
  if (h.header_style.empty()) {
    return InvalidArgument("the document has no XÖV message header (nachrichtenkopf.g2g, nachrichtenkopf or Kopf) "
                           "below its root element '" + h.root_element + "'", "NO_MESSAGE_HEADER", "document");
  }
  const SchemaSet* set = assembled ? assembled->set : analyzer_.Match(h);
  if (set == nullptr) {
    return InvalidArgument("no schema set of source '" + source_name_ + "' is configured for namespace '" +
                               h.root_namespace + "' (standard '" + h.standard.value_or("") + "', version '" +
                               h.version.value_or("") + "'): unknown standard version",
                           "UNKNOWN_SCHEMA", "document");
  }
  bool modified = false;
  std::string key;
  if (h.header_style == "kopf") {
    if (!given_uuid.empty()) {
      return InvalidArgument("xdomea 'Kopf' messages have no message UUID; ProzessID identifies them",
                             "INVALID_ARGUMENT", "message_uuid");
    }
    key = h.process_id.value_or("");
    if (key.empty()) return InvalidArgument("the message's ProzessID is empty", "MISSING_MESSAGE_ID", "document");
  } else {
    if (h.uuid_node == nullptr) {
      return InvalidArgument("the message header has no nachrichtenUUID element", "MISSING_MESSAGE_ID", "document");
    }
    key = h.message_uuid.value_or("");
    if (key.empty()) {
      // The connector owns the UUID: the client's, else one derived from the idempotency key
      // (so a retry gets the same UUID), else a fresh one.
      key = !given_uuid.empty() ? given_uuid
            : !request.idempotency_key().empty() ? UuidFromSeed(source_name_ + '\0' + request.idempotency_key())
                                                 : RandomUuid();
      xmlNodeSetContent(h.uuid_node, reinterpret_cast<const xmlChar*>(key.c_str()));
      modified = true;
    } else if (!given_uuid.empty() && given_uuid != key) {
      return InvalidArgument("message_uuid '" + given_uuid + "' differs from the document's nachrichtenUUID '" + key + "'",
                             "MESSAGE_UUID_MISMATCH", "message_uuid");
    }
  }
  if (h.created_node != nullptr && (!h.created || h.created->empty())) {
    v1::Timestamp ts;
    if (given_created) {
      ts = *given_created;
    } else {
      int64_t now = NowNanos();
      ts.set_seconds(now / 1000000000);
      ts.set_nanos(static_cast<int32_t>(now % 1000000000 / 1000000 * 1000000));
      ts.set_utc_offset_minutes(0);
    }
    std::string text = FormatXsDateTime(ts);
    xmlNodeSetContent(h.created_node, reinterpret_cast<const xmlChar*>(text.c_str()));
    h.created = text;
    modified = true;
  }

  std::vector<XmlDiagnostic> errors;
  auto valid = set->Validate(doc, &errors, analyzer_.limits.max_errors, /*add_defaults=*/false);
  if (!valid.ok()) return valid.status();
  if (!*valid) {
    size_t n = errors.size();
    client_lines(&errors);
    return InvalidArgument("the message does not validate against schema set '" + set->config().name + "' (" +
                               std::to_string(n) + (n == 1 ? " error" : " errors") +
                               (assembled ? "; lines count within 'content'" : "") + "):\n" +
                               FormatDiagnostics(errors, analyzer_.limits.max_errors),
                           "SCHEMA_VALIDATION_FAILED", doc_field);
  }
  std::string content = document;
  if (modified || assembled) {
    xmlChar* mem = nullptr;
    int size = 0;
    xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
    if (mem == nullptr) return Internal("cannot serialise the completed message");
    content.assign(reinterpret_cast<const char*>(mem), static_cast<size_t>(size));
    xmlFree(mem);
  }
  FA_RETURN_IF_ERROR(ctx.CheckCancelled());
  return WriteOutbound(MessageFileName(key, h.root_element), content, request_hash, response, ctx);
}

Status XoevConnector::WriteOutbound(const std::string& file_name, const std::string& content,
                                    const std::string& request_hash, cv1::InsertResponse* response,
                                    sdk::CallContext& ctx) {
  std::lock_guard<std::mutex> guard(write_mu_);
  FolderLock lock(receipts_dir_);
  if (!lock.ok()) return Unavailable("cannot lock receipts folder '" + receipts_dir_ + "'", "WRITE_FAILED");
  std::string meta_name = file_name + ".receipt";
  auto existing = Receipt::Read(receipts_dir_ + "/" + meta_name);
  bool replayed = false;
  Receipt receipt;
  if (existing) {
    if (existing->request_hash != request_hash) {
      return FailedPrecondition("a different message with the same message id was already submitted as '" +
                                    file_name + "'",
                                "IDEMPOTENCY_KEY_REUSED", "message_uuid");
    }
    receipt = *existing;
    replayed = true;
  } else {
    // 1. Keep a copy and a receipt marked undelivered: a crash after this is finished by the
    //    retry (same request) below instead of being lost or written twice.
    receipt.request_hash = request_hash;
    receipt.content_sha256 = Sha256Hex(content);
    receipt.written_at_ns = NowNanos();
    FA_RETURN_IF_ERROR(WriteFileAtomically(receipts_dir_, file_name, content, true));
    FA_RETURN_IF_ERROR(WriteFileAtomically(receipts_dir_, meta_name, receipt.Serialize(), true));
  }
  if (!receipt.delivered) {
    std::string stored = content;
    if (replayed) {
      auto copy = ReadWholeFile(receipts_dir_ + "/" + file_name, analyzer_.limits.max_document_bytes);
      if (!copy.ok()) return copy.status();
      stored = std::move(copy).value();
    }
    // 2. Into the outbound folder, never replacing a file that is there.
    Status st = WriteFileAtomically(outbound_dir_, file_name, stored, false);
    if (st.code() == StatusCode::kAlreadyExists) {
      auto there = ReadWholeFile(outbound_dir_ + "/" + file_name, analyzer_.limits.max_document_bytes);
      if (!there.ok() || *there != stored) {
        return Status(StatusCode::kAlreadyExists,
                      "the outbound folder already holds a different file '" + file_name + "'",
                      "MESSAGE_EXISTS", "document");
      }
    } else if (!st.ok()) {
      return st;
    }
    // 3. Delivered.
    receipt.delivered = true;
    FA_RETURN_IF_ERROR(WriteFileAtomically(receipts_dir_, meta_name, receipt.Serialize(), true));
  }
  // The answer: the message as stored (from the receipts copy, which outlives processing).
  FA_ASSIGN_OR_RETURN(auto items, receipts_->Snapshot(ctx));
  for (const auto& it : items) {
    if (it.name != file_name) continue;
    bool gone = !Exists(outbound_dir_ + "/" + file_name);
    v1::Record rec = RecordOf(it, gone ? "processed" : StateOf(*it.info), receipt.processed_at_ns);
    auto doc = ReadWholeFile(it.path, analyzer_.limits.max_document_bytes);
    if (doc.ok()) rec.mutable_values(kDocument)->set_bytes_value(std::move(doc).value());
    for (const auto& n : field_names_) response->add_fields(n);
    *response->mutable_record() = std::move(rec);
    response->set_replayed(replayed);
    return Status::OK();
  }
  return Internal("the written message '" + file_name + "' is not in the receipts folder");
}

}  // namespace fachadapter::xoev

FACHADAPTER_CONNECTOR(xoev, "xoev", "0.1.0", fachadapter::xoev::XoevConnector)
