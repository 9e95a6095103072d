// A program built out of tree against an installed Fachadapter (see ../install_consumer_test.sh).
// It parses a config, loads this project's own connector plugin, and queries it through the
// engine, so the installed headers, libraries, CMake package and connector SDK all take part.
//
// Usage: consumer CONFIG.yaml PLUGIN.so
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "fachadapter/config.h"
#include "fachadapter/connector_registry.h"
#include "fachadapter/engine.h"
#include "fachadapter/values.h"

namespace {

int Fail(const std::string& what, const fachadapter::Status& status) {
  std::cerr << "consumer: " << what << ": " << status.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer CONFIG.yaml PLUGIN.so\n";
    return 2;
  }
  const std::string config_path = argv[1];
  const std::string plugin_path = argv[2];

  std::ifstream in(config_path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    std::cerr << "consumer: cannot read " << config_path << "\n";
    return 1;
  }
  auto config = fachadapter::ParseConfig(text.str(), config_path);
  if (!config.ok()) return Fail("config", config.status());
  std::cout << "entities in config: " << config->entities.size() << "\n";

  auto plugin = fachadapter::ConnectorType::LoadPlugin(plugin_path);
  if (!plugin.ok()) return Fail("plugin", plugin.status());
  std::cout << "plugin: " << (*plugin)->name() << " " << (*plugin)->version() << "\n";

  // The engine finds the same plugin by its connector name in the configured folders.
  config->connector_search_path.push_back(std::filesystem::path(plugin_path).parent_path().string());
  auto engine = fachadapter::Engine::Start(*config);
  if (!engine.ok()) return Fail("engine", engine.status());

  fachadapter::v1::QueryRequest query;
  query.set_entity("Gruss");
  fachadapter::v1::FieldFilter* cond = query.mutable_filter()->mutable_field();
  cond->set_field("nummer");
  cond->set_op(fachadapter::v1::OPERATOR_GE);
  cond->mutable_value()->set_int_value(2);
  fachadapter::v1::OrderBy* order = query.add_order_by();
  order->set_field("nummer");
  order->set_descending(true);
  query.set_limit(3);
  fachadapter::Status s = (*engine)->Query(
      query,
      [](fachadapter::v1::QueryResponse& response) {
        for (const auto& record : response.batch().records()) {
          std::cout << "record:";
          for (const auto& value : record.values()) {
            std::cout << " [" << fachadapter::ValueToString(value) << "]";
          }
          std::cout << "\n";
        }
        return true;
      },
      fachadapter::CallOptions{});
  if (!s.ok()) return Fail("query", s);
  return 0;
}
