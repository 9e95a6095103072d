// Loading connectors: from plugins (shared libraries) or linked in statically.
#ifndef FACHADAPTER_CONNECTOR_REGISTRY_H_
#define FACHADAPTER_CONNECTOR_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "fachadapter/connector/abi.h"
#include "fachadapter/export.h"
#include "fachadapter/status.h"

namespace fachadapter {

/// A connector type ready to open sources: its checked function table, and the plugin
/// handle keeping its code loaded (none for a static connector).
class FACHADAPTER_API ConnectorType {
 public:
  ~ConnectorType();
  ConnectorType(const ConnectorType&) = delete;
  ConnectorType& operator=(const ConnectorType&) = delete;

  /// Type name the connector reports ("odbc").
  const std::string& name() const { return name_; }
  /// Version the connector reports.
  const std::string& version() const { return version_; }
  /// Path of the plugin, or "(static)".
  const std::string& origin() const { return origin_; }
  /// The checked function table. OWNERSHIP: owned by this object.
  const FaConnectorV1& table() const { return table_; }

  /// Loads the plugin at `path`: checks that it exports FACHADAPTER_CONNECTOR_ABI_SYMBOL and
  /// FACHADAPTER_CONNECTOR_ENTRY, that its ABI version equals the host's, and that the table
  /// it fills is complete. Any mismatch is FAILED_PRECONDITION with a message naming the
  /// plugin and both versions; a missing file is NOT_FOUND.
  static Result<std::shared_ptr<ConnectorType>> LoadPlugin(const std::string& path);
  /// Checks and wraps a connector linked into the program.
  static Result<std::shared_ptr<ConnectorType>> FromInitFunction(FaConnectorInitFn init,
                                                                 const std::string& origin);

 private:
  ConnectorType() = default;
  std::string name_, version_, origin_;
  FaConnectorV1 table_{};
  void* handle_ = nullptr;  // dlopen handle, closed on destruction
};

/// Registers a connector linked into the program under `name`, found before any plugin of
/// that name. Thread-safe; call before starting the engine. Returns false if the name is taken.
FACHADAPTER_API bool RegisterStaticConnector(const std::string& name, FaConnectorInitFn init);

/// Finds connector `name`: a static one, else plugin fachadapter_connector_<name>.so in
/// `search_path` in order. NOT_FOUND lists the folders searched.
FACHADAPTER_API Result<std::shared_ptr<ConnectorType>> FindConnector(
    const std::string& name, const std::vector<std::string>& search_path);

/// The default plugin folders: $FACHADAPTER_CONNECTOR_PATH (colon-separated), then
/// ../lib/fachadapter/connectors beside the running executable, then the install folder.
FACHADAPTER_API std::vector<std::string> DefaultConnectorSearchPath();

}  // namespace fachadapter

/// Registers statically linked connector `id` (built with fachadapter_add_connector, linked
/// as fachadapter_connector_<id>_static) under type name `name`. Put it at namespace scope in
/// one source file of the program; referencing the init function keeps the linker from
/// dropping the connector's code.
#define FACHADAPTER_REGISTER_STATIC_CONNECTOR(id, name)                                    \
  extern "C" int32_t fachadapter_connector_init_##id(uint32_t, void*, size_t);             \
  static const bool fachadapter_static_connector_registered_##id =                          \
      ::fachadapter::RegisterStaticConnector(name, &fachadapter_connector_init_##id)

#endif  // FACHADAPTER_CONNECTOR_REGISTRY_H_
