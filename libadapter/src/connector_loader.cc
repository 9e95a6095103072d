// Loads connector plugins. Nothing a plugin hands over is trusted before it is checked:
// symbol, ABI version, table size and every function pointer (see STYLE.md's Fluent Bit
// counter-example).
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>

#include "fachadapter/connector_registry.h"

namespace fachadapter {

namespace {

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, FaConnectorInitFn>& Registry() {
  static std::map<std::string, FaConnectorInitFn> r;
  return r;
}

// Size of the version-1 table up to and including its last slot; a connector built against a
// newer header may report more, never less.
constexpr size_t kV1Size = offsetof(FaConnectorV1, scan_close) + sizeof(void*);

Status CheckTable(const FaConnectorV1& t, const std::string& origin) {
  auto bad = [&](const std::string& why) {
    return FailedPrecondition("connector " + origin + " is not usable: " + why, "CONNECTOR_INVALID");
  };
  if (t.struct_size < kV1Size) {
    return bad("its function table has " + std::to_string(t.struct_size) +
               " bytes, ABI version 1 needs at least " + std::to_string(kV1Size));
  }
  if (t.abi_version != FACHADAPTER_CONNECTOR_ABI_VERSION) {
    return bad("its table says ABI version " + std::to_string(t.abi_version) +
               ", this fachadapter speaks ABI version " +
               std::to_string(FACHADAPTER_CONNECTOR_ABI_VERSION));
  }
  if (!t.name || !*t.name) return bad("it has no name");
  if (!t.open || !t.close || !t.call || !t.scan_open || !t.scan_next || !t.scan_close) {
    return bad("its function table has empty slots");
  }
  return Status::OK();
}

}  // namespace

ConnectorType::~ConnectorType() {
  // Plugins stay mapped: a connector may have started threads or registered atexit handlers,
  // and unmapping their code under them crashes at exit. The OS reclaims it at exit.
  handle_ = nullptr;
}

Result<std::shared_ptr<ConnectorType>> ConnectorType::FromInitFunction(FaConnectorInitFn init,
                                                                       const std::string& origin) {
  std::shared_ptr<ConnectorType> ct(new ConnectorType);
  ct->origin_ = origin;
  FaConnectorV1 table{};
  int32_t rc = init(FACHADAPTER_CONNECTOR_ABI_VERSION, &table, sizeof table);
  if (rc == FA_ABI_UNSUPPORTED) {
    return FailedPrecondition("connector " + origin + " does not support connector ABI version " +
                                  std::to_string(FACHADAPTER_CONNECTOR_ABI_VERSION),
                              "CONNECTOR_ABI_MISMATCH");
  }
  if (rc != FA_OK) {
    return FailedPrecondition("connector " + origin + " failed to initialize (code " +
                                  std::to_string(rc) + ")",
                              "CONNECTOR_INVALID");
  }
  FA_RETURN_IF_ERROR(CheckTable(table, origin));
  ct->table_ = table;
  ct->name_ = table.name;
  ct->version_ = table.version ? table.version : "";
  return ct;
}

Result<std::shared_ptr<ConnectorType>> ConnectorType::LoadPlugin(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound("connector plugin " + path + " does not exist", "CONNECTOR_NOT_FOUND");
  }
  // RTLD_LOCAL keeps each plugin's symbols to itself; RTLD_NOW surfaces missing symbols here
  // instead of in the middle of a call.
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* err = dlerror();
    return FailedPrecondition("cannot load connector plugin " + path + ": " + (err ? err : "?"),
                              "CONNECTOR_INVALID");
  }
  auto* abi = static_cast<const uint32_t*>(dlsym(h, FACHADAPTER_CONNECTOR_ABI_SYMBOL));
  auto init = reinterpret_cast<FaConnectorInitFn>(dlsym(h, FACHADAPTER_CONNECTOR_ENTRY));
  if (!abi || !init) {
    dlclose(h);
    return FailedPrecondition("connector plugin " + path + " is not a Fachadapter connector: it does not export '" +
                                  (abi ? FACHADAPTER_CONNECTOR_ENTRY : FACHADAPTER_CONNECTOR_ABI_SYMBOL) + "'",
                              "CONNECTOR_INVALID");
  }
  if (*abi != FACHADAPTER_CONNECTOR_ABI_VERSION) {
    uint32_t v = *abi;
    dlclose(h);
    return FailedPrecondition("connector plugin " + path + " was built for connector ABI version " +
                                  std::to_string(v) + ", but this fachadapter speaks ABI version " +
                                  std::to_string(FACHADAPTER_CONNECTOR_ABI_VERSION) +
                                  "; rebuild the plugin against this version's SDK",
                              "CONNECTOR_ABI_MISMATCH");
  }
  auto ct = FromInitFunction(init, path);
  if (!ct.ok()) {
    dlclose(h);
    return ct.status();
  }
  (*ct)->handle_ = h;
  return ct;
}

bool RegisterStaticConnector(const std::string& name, FaConnectorInitFn init) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  return Registry().emplace(name, init).second;
}

std::vector<std::string> DefaultConnectorSearchPath() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("FACHADAPTER_CONNECTOR_PATH")) {
    std::string s = env;
    size_t start = 0;
    while (start <= s.size()) {
      size_t colon = s.find(':', start);
      std::string part = s.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!part.empty()) out.push_back(part);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  // The build tree mirrors the install tree, so this finds the plugins in both, whatever the
  // library folder is called (lib, lib64, lib/x86_64-linux-gnu).
  if (!ec) out.push_back((exe.parent_path().parent_path() / FACHADAPTER_PLUGIN_RELATIVE_DIR).string());
#ifdef FACHADAPTER_PLUGIN_INSTALL_PATH
  out.push_back(FACHADAPTER_PLUGIN_INSTALL_PATH);
#endif
  return out;
}

Result<std::shared_ptr<ConnectorType>> FindConnector(const std::string& name,
                                                     const std::vector<std::string>& search_path) {
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    auto it = Registry().find(name);
    if (it != Registry().end()) return ConnectorType::FromInitFunction(it->second, name + " (static)");
  }
  bool valid = !name.empty();
  for (char c : name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!valid) {
    return InvalidArgument("connector name '" + name + "' may hold only letters, digits and '_'",
                           "INVALID_CONNECTOR_NAME");
  }
  std::string file = "fachadapter_connector_" + name + ".so";
  std::string searched;
  for (const auto& dir : search_path) {
    std::filesystem::path p = std::filesystem::path(dir) / file;
    std::error_code ec;
    if (std::filesystem::exists(p, ec)) return ConnectorType::LoadPlugin(p.string());
    searched += (searched.empty() ? "" : ", ") + dir;
  }
  return NotFound("connector '" + name + "' not found: no " + file + " in " +
                      (searched.empty() ? std::string("(no folders)") : searched),
                  "CONNECTOR_NOT_FOUND");
}

}  // namespace fachadapter
