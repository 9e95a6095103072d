// Authorization: deny by default; the first policy rule that fits caller, entity and operation
// decides, and brings the rows and personal-data fields the caller may touch.
#ifndef FACHADAPTER_SECURITY_POLICY_H_
#define FACHADAPTER_SECURITY_POLICY_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "fachadapter/config.h"
#include "fachadapter/engine.h"
#include "fachadapter/export.h"
#include "fachadapter/security/identity.h"
#include "fachadapter/status.h"

namespace fachadapter::security {

/// What a permitted call may do.
struct Grant {
  std::string rule;               ///< Name of the deciding rule ("" without a policy).
  bool unrestricted = false;      ///< No policy configured: everything, no restrictions.
  Restrictions restrictions;      ///< Rows and fields of the caller (see engine.h).
};

/// The compiled policy of a configuration, checked against the served entities.
class FACHADAPTER_API Policy {
 public:
  /// Compiles `config.security.policy` against the entities of `engine` (fields and types as
  /// served, including entities without a `fields` list). A rule naming a field that does not
  /// exist or a row value that does not fit its field is INVALID_ARGUMENT with FILE:LINE.
  static Result<Policy> Compile(const Config& config, const Engine& engine);

  /// Decides whether `caller` may run `operation` (describe, get, query, create, update,
  /// delete) on `entity`. PERMISSION_DENIED (reason NOT_PERMITTED, or MISSING_CLAIM when a
  /// row rule needs a claim the caller lacks) when not.
  Result<Grant> Authorize(const Caller& caller, const std::string& operation,
                          const std::string& entity) const;

  /// Personal-data fields of `entity` (empty if it has none or does not exist).
  const std::set<std::string>& PersonalFields(const std::string& entity) const;

 private:
  struct EntityInfo {
    std::set<std::string> personal;               // personal-data fields
    std::set<std::string> keys;                   // key fields (always disclosed)
    std::map<std::string, v1::FieldType> types;   // all fields
  };
  bool configured_ = false;
  std::vector<PolicyRule> rules_;
  std::map<std::string, EntityInfo> entities_;
};

}  // namespace fachadapter::security

#endif  // FACHADAPTER_SECURITY_POLICY_H_
