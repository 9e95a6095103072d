// XÖV code lists in genericode 1.0: loaded from files, looked up by listURI and listVersionID,
// and used to check the codes a message uses.
#ifndef FACHADAPTER_CONNECTORS_XOEV_CODE_LIST_H_
#define FACHADAPTER_CONNECTORS_XOEV_CODE_LIST_H_

#include <libxml/tree.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fachadapter/status.h"
#include "xml_security.h"

namespace fachadapter::xoev {

/// One version of one code list.
struct CodeList {
  std::string list_uri;       ///< Identification/CanonicalUri, e.g. urn:xoev-de:...:codeliste:...
  std::string version;        ///< Identification/Version (the listVersionID).
  std::string short_name;     ///< Identification/ShortName.
  std::string key_column;     ///< Column holding the code.
  std::string name_column;    ///< Column holding the name shown for a code.
  std::map<std::string, std::string> names;  ///< code -> name
};

/// A code used in a message that its list does not contain.
struct CodeProblem {
  int line = 0;
  std::string path;
  std::string message;
};

/// All loaded code lists of a source.
class CodeListRegistry {
 public:
  /// Loads one genericode file (parsed with the hardened parser). INVALID_ARGUMENT naming the
  /// file if it is not genericode or has no key column.
  Status LoadFile(const std::string& path, const XmlLimits& limits = {});
  /// Loads every *.xml / *.gc file of a folder.
  Status LoadFolder(const std::string& dir, const XmlLimits& limits = {});
  /// Adds a list (tests, programmatic use).
  void Add(CodeList list);

  /// The list with this URI and version, or null.
  const CodeList* Find(const std::string& list_uri, const std::string& version) const;
  /// The name of a code, if its list version is loaded and has the code.
  std::optional<std::string> Resolve(const std::string& list_uri, const std::string& version,
                                     const std::string& code) const;
  /// Checks every code element of a document (an element with a `code` child and a listURI
  /// attribute) whose list version is loaded; returns the codes not in their list.
  /// `checked` (optional) receives how many codes were checked.
  std::vector<CodeProblem> Check(xmlDoc* doc, size_t* checked = nullptr) const;
  /// Number of loaded list versions.
  size_t size() const { return lists_.size(); }

 private:
  std::map<std::pair<std::string, std::string>, CodeList> lists_;
};

}  // namespace fachadapter::xoev

#endif  // FACHADAPTER_CONNECTORS_XOEV_CODE_LIST_H_
