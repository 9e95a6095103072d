// A minimal well-formed connector for the loader tests, built with the SDK like any other.
#include "fachadapter/connector/sdk.h"

namespace {
namespace cv1 = fachadapter::connector::v1;

class GoodConnector : public fachadapter::sdk::Connector {
 public:
  fachadapter::Status Open(const cv1::OpenRequest& req) override {
    auto it = req.settings().fields().find("fail");
    if (it != req.settings().fields().end()) {
      return fachadapter::Unavailable("refusing to open as told by setting 'fail'");
    }
    return {};
  }
  fachadapter::Status Describe(const cv1::DescribeRequest&, cv1::DescribeResponse* resp,
                               fachadapter::sdk::CallContext&) override {
    auto* e = resp->add_entities();
    e->set_name("T");
    auto* f = e->add_fields();
    f->set_name("ID");
    f->set_type(fachadapter::v1::FIELD_TYPE_INT64);
    e->add_primary_key("ID");
    return {};
  }
  fachadapter::Result<std::unique_ptr<fachadapter::sdk::ScanCursor>> Scan(
      const cv1::ScanRequest&, fachadapter::sdk::CallContext&) override {
    throw std::runtime_error("scan exploded");  // the SDK must turn this into INTERNAL
  }
};
}  // namespace

FACHADAPTER_CONNECTOR(test_good, "test_good", "9.9.9", GoodConnector)
