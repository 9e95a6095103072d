// Insert, Update and Delete, each in one database transaction.
//
// Insert records its idempotency key in the same transaction as the row. Update and Delete
// read the row, compare its etag, and then change it only where every column still equals
// what was read, so a change by someone else between the read and the write is caught as
// ABORTED/ETAG_MISMATCH rather than overwritten.
#ifndef FACHADAPTER_CONNECTORS_ODBC_WRITES_H_
#define FACHADAPTER_CONNECTORS_ODBC_WRITES_H_

#include "fachadapter/connector/sdk.h"
#include "idempotency_store.h"
#include "odbc_source.h"

namespace fachadapter::odbc {

/// Inserts one row (see InsertRequest for the idempotency contract) and returns it as stored.
Status InsertRow(const OdbcSource& source, IdempotencyStore& store,
                 const connector::v1::InsertRequest& request, connector::v1::InsertResponse* response,
                 sdk::CallContext& ctx);

/// Updates one row by primary key, checking the etag; returns the row after the update.
Status UpdateRow(const OdbcSource& source, const connector::v1::UpdateRequest& request,
                 connector::v1::UpdateResponse* response, sdk::CallContext& ctx);

/// Deletes one row by primary key, checking the etag.
Status DeleteRow(const OdbcSource& source, const connector::v1::DeleteRequest& request,
                 sdk::CallContext& ctx);

}  // namespace fachadapter::odbc

#endif  // FACHADAPTER_CONNECTORS_ODBC_WRITES_H_
