// A schema set: one XÖV standard in one version, compiled once from its entry XSD and shared by
// every thread that validates messages against it.
//
// Imports and includes are loaded only through the connector's entity loader: a location is
// first resolved through the set's OASIS XML catalogs, then it must be a local file below one of
// the set's root directories. Anything else (http, ftp, a file elsewhere) is refused, so
// compiling never touches the network and never reads outside the configured folders.
#ifndef FACHADAPTER_CONNECTORS_XOEV_SCHEMA_SET_H_
#define FACHADAPTER_CONNECTORS_XOEV_SCHEMA_SET_H_

#include <libxml/catalog.h>
#include <libxml/xmlschemas.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fachadapter/status.h"
#include "xml_security.h"

namespace fachadapter::xoev {

/// How a schema set is declared in the settings.
struct SchemaSetConfig {
  std::string name;                     ///< e.g. "xbeteiligung-1.2"; unique per source.
  std::string entry;                    ///< Path of the entry XSD.
  std::vector<std::string> catalogs;    ///< OASIS XML catalog files, consulted in order.
  std::vector<std::string> roots;       ///< Folders schema files may come from (default: the
                                        ///< entry's folder).
  std::vector<std::string> namespaces;  ///< Root element namespaces validated by this set
                                        ///< (default: the entry's targetNamespace).
  std::string standard;                 ///< Optional: required root @standard, if present.
  std::string version;                  ///< Optional: required root @version, if present.
};

/// A compiled schema set. Immutable after Compile; Validate is thread-safe.
class SchemaSet : public std::enable_shared_from_this<SchemaSet> {
 public:
  /// Compiles the set (serialised process-wide: libxml2's schema parser and catalogs are not
  /// reentrant). FAILED_PRECONDITION/SCHEMA_COMPILE_FAILED with every error on failure.
  static Result<std::shared_ptr<const SchemaSet>> Compile(const SchemaSetConfig& config);
  ~SchemaSet();
  SchemaSet(const SchemaSet&) = delete;
  SchemaSet& operator=(const SchemaSet&) = delete;

  /// The declaration, with paths made absolute and defaults filled in.
  const SchemaSetConfig& config() const { return config_; }
  /// Every schema file the compilation read (canonical paths).
  const std::vector<std::string>& loaded_files() const { return loaded_; }
  /// The compiled schema (owned by this set).
  xmlSchemaPtr schema() const { return schema_; }

  /// True if a message with this root namespace and root @standard/@version belongs here.
  bool Matches(std::string_view root_namespace, std::string_view standard,
               std::string_view version) const;

  /// Validates a parsed document. Returns true if valid; appends each error (line, element
  /// path, libxml2 message) to `errors`, at most `max_errors` and then a count. With
  /// `add_defaults`, attributes the schema defaults or fixes (e.g. a code list's listURI) are
  /// added to the tree. INTERNAL if libxml2 fails internally.
  Result<bool> Validate(xmlDoc* doc, std::vector<XmlDiagnostic>* errors, size_t max_errors = 100,
                        bool add_defaults = false) const;

 private:
  SchemaSet() = default;
  SchemaSetConfig config_;
  std::vector<std::string> loaded_;
  xmlSchemaPtr schema_ = nullptr;
};

/// Canonical absolute path (symlinks resolved); empty if it does not exist.
std::string CanonicalPath(const std::string& path);

}  // namespace fachadapter::xoev

#endif  // FACHADAPTER_CONNECTORS_XOEV_SCHEMA_SET_H_
