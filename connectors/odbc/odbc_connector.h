// OdbcConnector: a Fachadapter connector for any database with an ODBC driver, built as a
// plugin with the public connector SDK only.
//
// One instance per configured source. Open connects once (so a wrong driver or an
// unreachable database stops the daemon at start with the driver's own words) and learns the
// dialect; all other calls borrow a connection from the source's pool.
#ifndef FACHADAPTER_CONNECTORS_ODBC_ODBC_CONNECTOR_H_
#define FACHADAPTER_CONNECTORS_ODBC_ODBC_CONNECTOR_H_

#include <memory>

#include "chunked_scan.h"
#include "fachadapter/connector/sdk.h"
#include "idempotency_store.h"
#include "odbc_source.h"

namespace fachadapter::odbc {

/// The ODBC connector (type name "odbc").
class OdbcConnector final : public sdk::Connector {
 public:
  OdbcConnector() = default;
  ~OdbcConnector() override = default;

  /// Parses the settings (see odbc_settings.h), connects and reads the dialect.
  Status Open(const connector::v1::OpenRequest& request) override;
  /// Tables and views with columns, types and primary keys.
  Status Describe(const connector::v1::DescribeRequest& request,
                  connector::v1::DescribeResponse* response, sdk::CallContext& ctx) override;
  /// A SELECT with everything of the request pushed down.
  Result<std::unique_ptr<sdk::ScanCursor>> Scan(const connector::v1::ScanRequest& request,
                                                sdk::CallContext& ctx) override;
  /// One row in one transaction, idempotent by key.
  Status Insert(const connector::v1::InsertRequest& request, connector::v1::InsertResponse* response,
                sdk::CallContext& ctx) override;
  /// One row by key in one transaction, etag-checked.
  Status Update(const connector::v1::UpdateRequest& request, connector::v1::UpdateResponse* response,
                sdk::CallContext& ctx) override;
  /// One row by key in one transaction, etag-checked.
  Status Delete(const connector::v1::DeleteRequest& request, connector::v1::DeleteResponse* response,
                sdk::CallContext& ctx) override;
  /// Whether a pooled connection answers a catalog call.
  Status Health(const connector::v1::HealthRequest& request, connector::v1::HealthResponse* response,
                sdk::CallContext& ctx) override;

 private:
  // One attempt of Describe (Describe retries transient failures).
  Status DescribeOnce(const connector::v1::DescribeRequest& request, connector::v1::DescribeResponse* response,
                      sdk::CallContext& ctx);

  std::string source_name_;
  OdbcSource source_;
  std::unique_ptr<IdempotencyStore> idempotency_;
  ChunkedScans scans_;  // starts scans, in chunks where the driver would not stream
};

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_ODBC_CONNECTOR_H_
