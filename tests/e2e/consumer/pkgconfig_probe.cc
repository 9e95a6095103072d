// Compiled by ../install_consumer_test.sh with only `pkg-config --cflags --libs fachadapter`:
// proves the pkg-config file names every include folder and library a user needs.
#include <iostream>

#include "fachadapter/config.h"
#include "fachadapter/values.h"

int main() {
  auto config = fachadapter::ParseConfig(
      "sources:\n"
      "  s:\n"
      "    connector: any\n"
      "entities:\n"
      "  E: {source: s, table: T}\n",
      "probe.yaml");
  if (!config.ok()) {
    std::cerr << "pkgconfig_probe: " << config.status().ToString() << "\n";
    return 1;
  }
  fachadapter::v1::Value v;
  v.mutable_decimal_value()->set_value("1234.50");
  std::cout << "pkg-config probe: " << config->entities.size() << " entity, "
            << fachadapter::ValueToString(v) << "\n";
  return 0;
}
