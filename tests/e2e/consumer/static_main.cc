// The static twin of the consumer's connector, linked into the program and registered with
// FACHADAPTER_REGISTER_STATIC_CONNECTOR: found by name before any plugin, no .so involved.
#include <iostream>

#include "fachadapter/connector_registry.h"

FACHADAPTER_REGISTER_STATIC_CONNECTOR(consumer_demo, "consumer_demo");

int main() {
  auto type = fachadapter::FindConnector("consumer_demo", {});
  if (!type.ok()) {
    std::cerr << "consumer_static: " << type.status().ToString() << "\n";
    return 1;
  }
  std::cout << "static connector: " << (*type)->name() << " " << (*type)->version() << " "
            << (*type)->origin() << "\n";
  return 0;
}
