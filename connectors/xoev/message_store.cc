#include "message_store.h"

#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "file_util.h"

namespace fachadapter::xoev {
namespace {

constexpr v1::FieldType S = v1::FIELD_TYPE_STRING;
constexpr v1::FieldType TS = v1::FIELD_TYPE_TIMESTAMP;

const FieldSpec kFields[kFixedFieldCount] = {
    {"file_name", S, "file name"},
    {"message_uuid", S, "nachrichtenUUID"},
    {"process_id", S, "ProzessID"},
    {"message_type_code", S, "nachrichtentyp/code"},
    {"message_type_name", S, "nachrichtentyp/name"},
    {"message_type_list_uri", S, "nachrichtentyp/@listURI"},
    {"message_type_list_version", S, "nachrichtentyp/@listVersionID"},
    {"created_at", TS, "erstellungszeitpunkt (xs:dateTime)"},
    {"author_directory_service", S, "autor/verzeichnisdienst"},
    {"author_id", S, "autor/kennung"},
    {"author_name", S, "autor/name"},
    {"reader_directory_service", S, "leser/verzeichnisdienst"},
    {"reader_id", S, "leser/kennung"},
    {"reader_name", S, "leser/name"},
    {"root_element", S, "root element local name"},
    {"root_namespace", S, "root element namespace"},
    {"header_style", S, "g2g | nachrichtenkopf | kopf"},
    {"standard", S, "@standard"},
    {"version", S, "@version"},
    {"product", S, "@produkt"},
    {"product_vendor", S, "@produkthersteller"},
    {"product_version", S, "@produktversion"},
    {"schema_set", S, "schema set name"},
    {"validation_status", S, "valid | invalid | unknown_schema | malformed"},
    {"validation_errors", S, "errors, one per line"},
    {"code_list_status", S, "ok | unknown_codes | not_checked"},
    {"code_list_errors", S, "unknown codes, one per line"},
    {"mapping_errors", S, "field mapping problems"},
    {"state", S, "received | valid | invalid | processed"},
    {"received_at", TS, "file modification time"},
    {"processed_at", TS, "when the Fachverfahren took it"},
    {"size_bytes", v1::FIELD_TYPE_INT64, "file size"},
    {"document", v1::FIELD_TYPE_BYTES, "the XML document"},
    {"content", v1::FIELD_TYPE_BYTES, "message body to assemble a message from (write-only)"},
};

v1::Value Str(const std::optional<std::string>& s) {
  v1::Value v;
  if (s) {
    v.set_string_value(*s);
  } else {
    v.set_null_value(v1::NULL_VALUE);
  }
  return v;
}

int64_t NowNanos() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ToNanos(ts);
}

}  // namespace

const FieldSpec* FixedFields() { return kFields; }

const SchemaSet* MessageAnalyzer::Match(const MessageHeader& h) const {
  for (const auto& s : schema_sets) {
    if (s->Matches(h.root_namespace, h.standard.value_or(""), h.version.value_or(""))) return s.get();
  }
  return nullptr;
}

size_t MessageAnalyzer::field_count() const {
  return kFixedFieldCount + (mapper ? mapper->fields().size() : 0);
}

std::shared_ptr<MessageInfo> MessageAnalyzer::AnalyzeParsed(xmlDoc* doc, const MessageHeader& h,
                                                            const SchemaSet* set, bool valid,
                                                            std::vector<XmlDiagnostic> errors) const {
  auto info = std::make_shared<MessageInfo>();
  info->header = h;
  info->header.uuid_node = nullptr;
  info->header.created_node = nullptr;
  info->schema_set = set ? set->config().name : "";
  info->validation_status = set == nullptr ? "unknown_schema" : (valid ? "valid" : "invalid");
  info->errors = std::move(errors);
  auto& v = info->values;
  v.resize(field_count());
  for (auto& x : v) x.set_null_value(v1::NULL_VALUE);
  v[kMessageUuid] = Str(h.message_uuid);
  v[kProcessId] = Str(h.process_id);
  v[kTypeCode] = Str(h.type_code);
  std::optional<std::string> type_name = h.type_name;
  if ((!type_name || type_name->empty()) && h.type_code && h.type_list_uri) {
    // The header may omit the name; the code list knows it.
    if (auto n = code_lists.Resolve(*h.type_list_uri, h.type_list_version.value_or(""), *h.type_code)) {
      type_name = n;
    }
  }
  v[kTypeName] = Str(type_name);
  v[kTypeListUri] = Str(h.type_list_uri);
  v[kTypeListVersion] = Str(h.type_list_version);
  if (h.created) {
    v1::Timestamp ts;
    if (ParseXsDateTime(*h.created, &ts)) *v[kCreatedAt].mutable_timestamp_value() = ts;
  }
  v[kAuthorDirectoryService] = Str(h.author.directory_service);
  v[kAuthorId] = Str(h.author.id);
  v[kAuthorName] = Str(h.author.name);
  v[kReaderDirectoryService] = Str(h.reader.directory_service);
  v[kReaderId] = Str(h.reader.id);
  v[kReaderName] = Str(h.reader.name);
  if (!h.root_element.empty()) v[kRootElement].set_string_value(h.root_element);
  if (!h.root_element.empty()) v[kRootNamespace].set_string_value(h.root_namespace);
  if (!h.header_style.empty()) v[kHeaderStyle].set_string_value(h.header_style);
  v[kStandard] = Str(h.standard);
  v[kVersion] = Str(h.version);
  v[kProduct] = Str(h.product);
  v[kProductVendor] = Str(h.product_vendor);
  v[kProductVersion] = Str(h.product_version);
  if (set) v[kSchemaSetName].set_string_value(set->config().name);
  v[kValidationStatus].set_string_value(info->validation_status);
  if (!info->errors.empty()) v[kValidationErrors].set_string_value(FormatDiagnostics(info->errors));
  if (doc != nullptr && code_lists.size() > 0) {
    size_t checked = 0;
    auto problems = code_lists.Check(doc, &checked);
    if (!problems.empty()) {
      std::string text;
      for (const auto& p : problems) {
        if (!text.empty()) text += '\n';
        text += "line " + std::to_string(p.line) + ": " + p.path + ": " + p.message;
      }
      v[kCodeListErrors].set_string_value(text);
      v[kCodeListStatus].set_string_value("unknown_codes");
    } else {
      v[kCodeListStatus].set_string_value(checked > 0 ? "ok" : "not_checked");
    }
  } else {
    v[kCodeListStatus].set_string_value("not_checked");
  }
  if (doc != nullptr && mapper && !mapper->fields().empty()) {
    std::vector<v1::Value> mapped;
    std::string errs;
    mapper->Evaluate(doc, h, info->schema_set, &mapped, &errs);
    for (size_t i = 0; i < mapped.size(); ++i) v[kFixedFieldCount + i] = std::move(mapped[i]);
    if (!errs.empty()) v[kMappingErrors].set_string_value(errs);
  }
  return info;
}

std::shared_ptr<const MessageInfo> MessageAnalyzer::Rejected(const Status& status) const {
  auto info = AnalyzeParsed(nullptr, MessageHeader{}, nullptr, false, {});
  info->validation_status = "malformed";
  info->values[kValidationStatus].set_string_value("malformed");
  // The parser's summary names the reason (DOCTYPE, depth, UTF-8, size, ...) and the first error.
  info->values[kValidationErrors].set_string_value(status.reason() + ": " + status.message());
  return info;
}

std::shared_ptr<const MessageInfo> MessageAnalyzer::Analyze(std::string_view bytes) const {
  std::vector<XmlDiagnostic> diags;
  auto doc = ParseUntrusted(bytes, limits, &diags);
  if (!doc.ok()) return Rejected(doc.status());
  MessageHeader h = ExtractHeader(doc->get());
  const SchemaSet* set = Match(h);
  bool valid = false;
  if (set) {
    auto r = set->Validate(doc->get(), &diags, limits.max_errors, /*add_defaults=*/code_lists.size() > 0);
    valid = r.ok() && *r;
    if (!r.ok()) {
      XmlDiagnostic d;
      d.message = r.status().message();
      diags.push_back(d);
    }
  }
  return AnalyzeParsed(doc->get(), h, set, valid, std::move(diags));
}

Result<std::vector<std::string>> FolderIndex::List() {
  struct stat dst {};
  if (::stat(dir_.c_str(), &dst) != 0) {
    return Unavailable("message folder '" + dir_ + "' cannot be read: " + std::strerror(errno));
  }
  int64_t mtime = ToNanos(dst.st_mtim);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (mtime == listed_dir_mtime_ns_ && listed_at_ns_ > mtime + 1000000000) return listing_;
  }
  int64_t now = NowNanos();
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return Unavailable("message folder '" + dir_ + "' cannot be read: " + std::strerror(errno));
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.empty() || n[0] == '.') continue;  // dot files: temp files, our own bookkeeping
    if (n.size() < 5) continue;
    std::string ext = n.substr(n.size() - 4);
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext != ".xml") continue;
    names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  std::lock_guard<std::mutex> lock(mu_);
  listed_dir_mtime_ns_ = mtime;
  listed_at_ns_ = now;
  listing_ = names;
  return names;
}

Result<std::vector<FolderIndex::Item>> FolderIndex::Snapshot(sdk::CallContext& ctx) {
  FA_ASSIGN_OR_RETURN(std::vector<std::string> names, List());
  std::vector<Item> items;
  items.reserve(names.size());
  for (const auto& n : names) {
    FA_RETURN_IF_ERROR(ctx.CheckCancelled());
    Item it;
    it.name = n;
    it.path = dir_ + "/" + n;
    // lstat: only regular files; a symlink (say to /etc/passwd) dropped into an exchange
    // folder is not followed. Files gone meanwhile are skipped.
    if (::lstat(it.path.c_str(), &it.st) != 0 || !S_ISREG(it.st.st_mode)) continue;
    int64_t mtime = ToNanos(it.st.st_mtim);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto c = cache_.find(n);
      if (c != cache_.end() && c->second.size == it.st.st_size && c->second.mtime_ns == mtime &&
          c->second.ino == it.st.st_ino) {
        it.info = c->second.info;
      }
    }
    if (!it.info) {
      if (static_cast<uint64_t>(it.st.st_size) > analyzer_->limits.max_document_bytes) {
        it.info = analyzer_->Rejected(InvalidArgument(
            "file is " + std::to_string(it.st.st_size) + " bytes, more than the limit of " +
                std::to_string(analyzer_->limits.max_document_bytes) + " bytes",
            "XML_TOO_LARGE"));
      } else {
        auto bytes = ReadWholeFile(it.path, analyzer_->limits.max_document_bytes);
        if (!bytes.ok()) {
          if (bytes.status().code() == StatusCode::kNotFound) continue;
          return bytes.status();
        }
        it.info = analyzer_->Analyze(*bytes);
      }
      std::lock_guard<std::mutex> lock(mu_);
      cache_[n] = Cached{it.st.st_size, mtime, it.st.st_ino, it.info};
    }
    items.push_back(std::move(it));
  }
  // Forget files that are gone.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto c = cache_.begin(); c != cache_.end();) {
    c = std::binary_search(names.begin(), names.end(), c->first) ? std::next(c) : cache_.erase(c);
  }
  return items;
}

}  // namespace fachadapter::xoev
