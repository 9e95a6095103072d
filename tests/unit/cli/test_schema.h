// A schema like the example Gewerberegister's, with a field of every type, for the CLI's
// unit tests.
#ifndef FACHADAPTER_TESTS_UNIT_CLI_TEST_SCHEMA_H_
#define FACHADAPTER_TESTS_UNIT_CLI_TEST_SCHEMA_H_

#include <string>

#include "fachadapter/v1/adapter.pb.h"

namespace fachadapter::cli::testing {

inline v1::EntitySchema TestSchema() {
  v1::EntitySchema s;
  s.set_name("Gewerbebetrieb");
  s.set_source("gewerbe");
  auto add = [&](const std::string& name, v1::FieldType type, bool filterable = true,
                 bool nullable = true) {
    v1::FieldSchema* f = s.add_fields();
    f->set_name(name);
    f->set_type(type);
    f->set_filterable(filterable);
    f->set_sortable(true);
    f->set_nullable(nullable);
    return f;
  };
  add("betriebsnummer", v1::FIELD_TYPE_INT64, true, false)->set_key(true);
  add("name", v1::FIELD_TYPE_STRING)->set_personal_data(true);
  add("ort", v1::FIELD_TYPE_STRING);
  add("beginn", v1::FIELD_TYPE_DATE);
  add("umsatz", v1::FIELD_TYPE_DECIMAL);
  add("quote", v1::FIELD_TYPE_DOUBLE);
  add("aktiv", v1::FIELD_TYPE_BOOL);
  add("geaendert", v1::FIELD_TYPE_TIMESTAMP);
  add("oeffnung", v1::FIELD_TYPE_TIME);
  add("daten", v1::FIELD_TYPE_BYTES);
  add("intern", v1::FIELD_TYPE_STRING, /*filterable=*/false);
  add("pflicht", v1::FIELD_TYPE_STRING, true, /*nullable=*/false);
  s.add_key_fields("betriebsnummer");
  return s;
}

}  // namespace fachadapter::cli::testing

#endif  // FACHADAPTER_TESTS_UNIT_CLI_TEST_SCHEMA_H_
