// Assembles an XÖV message from header fields and the message body, for `Create` on `outbound`
// without a complete document (docs/xoev.md, "Sending").
//
// Only the XÖV g2g header (`nachrichtenkopf.g2g`, XÖV base messages 1.x) can be assembled: its
// structure is the same for every standard that uses it, and the schema set tells where it
// lives (the imported namespace http://xoev.de/schemata/basisnachricht/g2g/...). Standards with
// their own header (xdomea 3 `Kopf`) must send a complete document.
//
// The result is text, not a tree: it is parsed by the same hardened parser as a complete
// document, so hostile markup in the body (a DOCTYPE, an entity reference) is refused the same
// way. The header is generated with every value escaped; the body is placed inside the root
// element, after the header, and the parser's well-formedness check guarantees it cannot close
// the root element or reach outside it. The UUID and creation time are left empty for the
// caller to fill in, exactly as for a complete document with empty ones.
#ifndef FACHADAPTER_CONNECTORS_XOEV_MESSAGE_ASSEMBLY_H_
#define FACHADAPTER_CONNECTORS_XOEV_MESSAGE_ASSEMBLY_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fachadapter/status.h"
#include "schema_set.h"

namespace fachadapter::xoev {

/// Values used when the connector assembles a message of a schema set (setting
/// `message_header` of the set); a client's field of the same meaning takes precedence.
struct MessageHeaderDefaults {
  std::string product;                        ///< Root @produkt.
  std::string product_vendor;                 ///< Root @produkthersteller.
  std::string product_version;                ///< Root @produktversion (optional).
  std::string message_type_list_uri;          ///< nachrichtentyp/@listURI.
  std::string message_type_list_version;      ///< nachrichtentyp/@listVersionID.
  std::string directory_service_list_version; ///< verzeichnisdienst/@listVersionID of leser/autor.
};

/// Author or reader as given by the client: all three are required by the g2g header.
struct PartyFields {
  std::optional<std::string> directory_service;  ///< verzeichnisdienst code, e.g. DVDV.
  std::optional<std::string> id;                 ///< kennung.
  std::optional<std::string> name;               ///< name.
};

/// The fields of a `Create` that asks for assembly (raw field names in comments).
struct AssemblyFields {
  std::optional<std::string> schema_set;         ///< schema_set: needed when several sets can assemble.
  std::optional<std::string> root_element;       ///< root_element: default derived from the type code.
  std::optional<std::string> type_code;          ///< message_type_code (required).
  std::optional<std::string> type_name;          ///< message_type_name.
  std::optional<std::string> type_list_uri;      ///< message_type_list_uri.
  std::optional<std::string> type_list_version;  ///< message_type_list_version.
  PartyFields author;                            ///< author_directory_service, author_id, author_name.
  PartyFields reader;                            ///< reader_directory_service, reader_id, reader_name.
  std::optional<std::string> standard, version;  ///< standard, version (default: the set's).
  std::optional<std::string> product, product_vendor, product_version;  ///< product, ...
  std::optional<std::string> content;            ///< content: the message body (required).

  /// A stable serialisation of every field, for the idempotency hash.
  std::string Canonical() const;
};

/// An assembled document, ready for ParseUntrusted.
struct AssembledDocument {
  std::string text;                 ///< The document (empty nachrichtenUUID and erstellungszeitpunkt).
  int content_line_offset = 0;      ///< Document line N > offset is line N - offset of `content`.
  const SchemaSet* set = nullptr;   ///< The set it was assembled for.
  std::string root_element;         ///< Local name of its root element.
};

/// The namespaces of the g2g header parts a schema set imports, if it imports them.
struct G2gNamespaces {
  std::string g2g;       ///< http://xoev.de/schemata/basisnachricht/g2g/<version>
  std::string behoerde;  ///< http://xoev.de/schemata/basisnachricht/behoerde/<version>
};

/// The g2g namespaces a compiled set imports, or nullopt if it has no (or no unique) g2g header.
std::optional<G2gNamespaces> FindG2gNamespaces(const SchemaSet& set);

/// Global element names of the set's root namespace whose local name ends with "." + code
/// (XÖV names message elements <area>.<name>.<code>, e.g. kommunal.Initiieren.0401).
std::vector<std::string> RootElementsForMessageType(const SchemaSet& set, const std::string& code);

/// Assembles the document; `defaults` are per schema set name (absent: none). Errors: INVALID_ARGUMENT MISSING_FIELD / INVALID_VALUE /
/// UNKNOWN_SCHEMA_SET / UNKNOWN_MESSAGE_TYPE / AMBIGUOUS_MESSAGE_TYPE / UNKNOWN_ROOT_ELEMENT naming
/// the field; FAILED_PRECONDITION HEADER_NOT_ASSEMBLABLE when the set's header style cannot be
/// built (send a complete document instead).
Result<AssembledDocument> AssembleMessage(const std::vector<std::shared_ptr<const SchemaSet>>& sets,
                                          const std::map<std::string, MessageHeaderDefaults>& defaults,
                                          const AssemblyFields& fields);

}  // namespace fachadapter::xoev

#endif  // FACHADAPTER_CONNECTORS_XOEV_MESSAGE_ASSEMBLY_H_
