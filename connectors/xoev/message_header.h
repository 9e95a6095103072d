// Reads the header of an XÖV message: who sent it to whom, when, which message type, and which
// standard and version it claims, whatever header style the standard uses.
//
// Styles understood (matched by local name, so unqualified and qualified variants both work):
//  - "g2g": the XÖV basic message header `nachrichtenkopf.g2g` (XÖV 1.x base schemas);
//  - "nachrichtenkopf": the same structure under `nachrichtenkopf` (e.g. xdomea 4);
//  - "kopf": xdomea 3's `Kopf` (ProzessID, Nachrichtentyp, Erstellungszeitpunkt, Absender,
//    Empfaenger).
// A document with none of them still yields its root element, namespace and attributes.
#ifndef FACHADAPTER_CONNECTORS_XOEV_MESSAGE_HEADER_H_
#define FACHADAPTER_CONNECTORS_XOEV_MESSAGE_HEADER_H_

#include <libxml/tree.h>

#include <optional>
#include <string>
#include <string_view>

#include "fachadapter/v1/value.pb.h"

namespace fachadapter::xoev {

/// Author or reader of a message.
struct Party {
  std::optional<std::string> directory_service;  ///< verzeichnisdienst code, e.g. DVDV.
  std::optional<std::string> id;                 ///< kennung (or xdomea Behoerdenkennung).
  std::optional<std::string> name;               ///< name (or Institution/Name).
};

/// What the header says. Absent parts are nullopt.
struct MessageHeader {
  std::string root_element;    ///< Local name of the root element.
  std::string root_namespace;  ///< Its namespace URI ("" if none).
  std::string header_style;    ///< "g2g", "nachrichtenkopf", "kopf" or "" (none found).
  std::optional<std::string> standard, version;                        ///< Root attributes.
  std::optional<std::string> product, product_vendor, product_version;  ///< Root attributes.
  std::optional<std::string> message_uuid;  ///< nachrichtenUUID.
  std::optional<std::string> process_id;    ///< ProzessID (xdomea).
  std::optional<std::string> type_code, type_name, type_list_uri, type_list_version;
  std::optional<std::string> created;       ///< erstellungszeitpunkt as written (xs:dateTime).
  Party author, reader;
  xmlNode* uuid_node = nullptr;     ///< The nachrichtenUUID element, if present (for filling).
  xmlNode* created_node = nullptr;  ///< The erstellungszeitpunkt element, if present.
};

/// Extracts the header of a parsed document.
MessageHeader ExtractHeader(xmlDoc* doc);

/// Parses an xs:dateTime (YYYY-MM-DDThh:mm:ss[.f][Z|±hh:mm]) into a Timestamp; without a zone
/// the value is a local timestamp (no utc_offset_minutes). False if malformed.
bool ParseXsDateTime(std::string_view text, v1::Timestamp* out);

/// Parses an xs:date (YYYY-MM-DD, optional zone ignored). False if malformed.
bool ParseXsDate(std::string_view text, v1::Date* out);

/// Formats a Timestamp as xs:dateTime with milliseconds and its offset (Z if UTC).
std::string FormatXsDateTime(const v1::Timestamp& ts);

/// Text content of a node with surrounding whitespace removed.
std::string NodeText(const xmlNode* node);

/// First element child of `parent` with this local name (any namespace), or null.
xmlNode* ChildByLocalName(const xmlNode* parent, std::string_view local);

}  // namespace fachadapter::xoev

#endif  // FACHADAPTER_CONNECTORS_XOEV_MESSAGE_HEADER_H_
