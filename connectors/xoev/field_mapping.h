// Field mappings: per message type, XPath expressions (with configured namespace prefixes) that
// lift content out of a message into typed raw fields of the entity, so clients can filter on
// e.g. a planning procedure's name without parsing XML. Expressions are compiled once at Open;
// each message is evaluated once and the values are cached with its header.
#ifndef FACHADAPTER_CONNECTORS_XOEV_FIELD_MAPPING_H_
#define FACHADAPTER_CONNECTORS_XOEV_FIELD_MAPPING_H_

#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fachadapter/status.h"
#include "fachadapter/v1/value.pb.h"
#include "message_header.h"

namespace fachadapter::xoev {

/// One mapped field of a rule.
struct MappedFieldConfig {
  std::string name;   ///< Raw field name in the entity.
  std::string xpath;  ///< XPath 1.0 expression; node-sets give their first node's text.
  v1::FieldType type = v1::FIELD_TYPE_STRING;  ///< Type the text is converted to.
};

/// Which messages a rule applies to (all given conditions must hold; none given: every
/// message), and its fields.
struct MappingRuleConfig {
  std::vector<std::string> message_types;  ///< Message type codes, e.g. "0401".
  std::vector<std::string> root_elements;  ///< Root element local names.
  std::string schema_set;                  ///< Name of the schema set the message matched.
  std::vector<MappedFieldConfig> fields;
};

/// Compiled mappings of one source.
class FieldMapper {
 public:
  /// Compiles every expression; INVALID_ARGUMENT/INVALID_MAPPING naming the field for a syntax
  /// error, an unknown namespace prefix, an unknown type, or one field name used with two types.
  static Result<std::unique_ptr<FieldMapper>> Create(
      const std::map<std::string, std::string>& namespaces, const std::vector<MappingRuleConfig>& rules);
  ~FieldMapper();

  /// Every mapped field (union over the rules), in order of first appearance.
  const std::vector<std::pair<std::string, v1::FieldType>>& fields() const { return fields_; }

  /// Evaluates the rules that apply to this message into `values` (resized to fields().size();
  /// fields no rule sets stay NULL). A value that does not convert becomes NULL and is
  /// described in `errors`.
  void Evaluate(xmlDoc* doc, const MessageHeader& header, const std::string& schema_set,
                std::vector<v1::Value>* values, std::string* errors) const;

 private:
  struct Compiled {
    size_t field_index;
    std::string name;
    v1::FieldType type;
    xmlXPathCompExprPtr expr;
  };
  struct Rule {
    MappingRuleConfig cfg;
    std::vector<Compiled> fields;
  };
  FieldMapper() = default;
  std::map<std::string, std::string> namespaces_;
  std::vector<Rule> rules_;
  std::vector<std::pair<std::string, v1::FieldType>> fields_;
};

/// Converts text (as XML has it: xs:decimal, xs:date, xs:dateTime, xs:boolean, ...) into a value
/// of `type`. False if it does not convert.
bool ConvertText(const std::string& text, v1::FieldType type, v1::Value* out);

}  // namespace fachadapter::xoev

#endif  // FACHADAPTER_CONNECTORS_XOEV_FIELD_MAPPING_H_
