// First match wins, like a firewall: rules are read top to bottom, so an operator can see which
// rule decides a call without reasoning about unions of row sets with different field grants.
#include "fachadapter/security/policy.h"

#include "fachadapter/values.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace fachadapter::security {

namespace {

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

bool FitsCaller(const PolicyRule& r, const Caller& c) {
  bool who = r.principals.empty() && r.groups.empty();  // only scopes given
  if (Contains(r.principals, "*") || Contains(r.principals, c.principal)) who = true;
  for (const auto& g : c.groups) who = who || Contains(r.groups, g);
  if (!who) return false;
  for (const auto& s : r.scopes) {
    if (!Contains(c.scopes, s)) return false;
  }
  return true;
}

// A row value (claim or fixed text) as a value of the field's type.
bool TypedValue(const std::string& text, v1::FieldType type, v1::Value* out) {
  switch (type) {
    case v1::FIELD_TYPE_STRING:
      out->set_string_value(text);
      return true;
    case v1::FIELD_TYPE_INT64: {
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno != 0) return false;
      out->set_int_value(v);
      return true;
    }
    case v1::FIELD_TYPE_BOOL:
      if (text != "true" && text != "false") return false;
      out->set_bool_value(text == "true");
      return true;
    case v1::FIELD_TYPE_DECIMAL:
      if (text.empty() || text.find_first_not_of("-0123456789.") != std::string::npos) return false;
      out->mutable_decimal_value()->set_value(text);
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<Policy> Policy::Compile(const Config& config, const Engine& engine) {
  Policy p;
  p.configured_ = config.security.configured;
  p.rules_ = config.security.policy;
  v1::ListEntitiesResponse all;
  FA_RETURN_IF_ERROR(engine.ListEntities(&all));
  for (const auto& s : all.entities()) {
    EntityInfo& info = p.entities_[s.name()];
    for (const auto& f : s.fields()) {
      info.types[f.name()] = f.type();
      if (f.personal_data()) info.personal.insert(f.name());
    }
    for (const auto& k : s.key_fields()) info.keys.insert(k);
  }
  std::string errors;
  auto error = [&](const ConfigLocation& loc, const std::string& msg) {
    errors += (errors.empty() ? "" : "\n") + config.Where(loc) + ": " + msg;
  };
  for (const auto& r : p.rules_) {
    const std::string what = "security.policy rule '" + r.name + "'";
    for (const auto& [name, info] : p.entities_) {
      if (!Contains(r.entities, "*") && !Contains(r.entities, name)) continue;
      for (const auto& rc : r.rows) {
        auto it = info.types.find(rc.field);
        if (it == info.types.end()) {
          error(rc.location, what + ": row field '" + rc.field + "' is not a field of entity '" + name + "'");
          continue;
        }
        v1::Value v;
        if (rc.claim.empty() && !TypedValue(rc.value, it->second, &v)) {
          error(rc.location, what + ": value '" + rc.value + "' does not fit field '" + rc.field + "' of entity '" +
                                 name + "' (" + FieldTypeName(it->second) + ")");
        } else if (!rc.claim.empty() && !TypedValue("0", it->second, &v)) {
          error(rc.location, what + ": field '" + rc.field + "' of entity '" + name +
                                 "' cannot be compared with a claim (only string, int64, bool and decimal fields)");
        }
      }
      for (const auto* list : {&r.personal_fields, &r.masked_fields}) {
        for (const auto& f : *list) {
          if (f != "*" && !info.personal.count(f)) {
            error(r.location, what + ": field '" + f + "' is not a personal-data field of entity '" + name + "'");
          }
        }
      }
    }
  }
  if (!errors.empty()) return InvalidArgument(errors, "INVALID_CONFIG");
  return p;
}

const std::set<std::string>& Policy::PersonalFields(const std::string& entity) const {
  static const std::set<std::string> kNone;
  auto it = entities_.find(entity);
  return it == entities_.end() ? kNone : it->second.personal;
}

Result<Grant> Policy::Authorize(const Caller& caller, const std::string& operation,
                                const std::string& entity) const {
  Grant g;
  if (!configured_) {
    g.unrestricted = true;
    return g;
  }
  auto info = entities_.find(entity);
  for (const auto& r : rules_) {
    if (!Contains(r.entities, "*") && !Contains(r.entities, entity)) continue;
    if (!Contains(r.operations, "*") && !Contains(r.operations, operation)) continue;
    if (!FitsCaller(r, caller)) continue;
    g.rule = r.name;
    if (info == entities_.end()) return g;  // the engine answers UNKNOWN_ENTITY
    // Personal data is hidden unless the rule discloses or masks it; keys always show.
    const bool all = Contains(r.personal_fields, "*");
    for (const auto& f : info->second.personal) {
      if (info->second.keys.count(f) || all || Contains(r.personal_fields, f)) continue;
      if (Contains(r.masked_fields, f) || Contains(r.masked_fields, "*")) {
        g.restrictions.masked_fields.insert(f);
      } else {
        g.restrictions.hidden_fields.insert(f);
      }
    }
    std::vector<v1::Filter> conds;
    for (const auto& rc : r.rows) {
      std::string text = rc.value;
      if (!rc.claim.empty()) {
        auto it = caller.claims.find(rc.claim);
        if (it == caller.claims.end()) {
          return Status(StatusCode::kPermissionDenied,
                        "policy rule '" + r.name + "' limits " + entity + " rows by the claim '" + rc.claim +
                            "', which your credentials do not carry",
                        "MISSING_CLAIM", "");
        }
        text = it->second;
      }
      v1::Filter f;
      auto* c = f.mutable_field();
      c->set_field(rc.field);
      c->set_op(v1::OPERATOR_EQ);
      if (!TypedValue(text, info->second.types.at(rc.field), c->mutable_value())) {
        return Status(StatusCode::kPermissionDenied,
                      "the claim '" + rc.claim + "' of your credentials does not fit the row rule of policy rule '" +
                          r.name + "'",
                      "MISSING_CLAIM", "");
      }
      conds.push_back(std::move(f));
    }
    if (conds.size() == 1) {
      g.restrictions.rows = std::move(conds[0]);
    } else if (!conds.empty()) {
      for (auto& c : conds) *g.restrictions.rows.mutable_and_()->add_filters() = std::move(c);
    }
    return g;
  }
  return Status(StatusCode::kPermissionDenied,
                "'" + caller.principal + "' may not " + operation + " entity '" + entity +
                    "' (no policy rule permits it)",
                "NOT_PERMITTED", "");
}

}  // namespace fachadapter::security
