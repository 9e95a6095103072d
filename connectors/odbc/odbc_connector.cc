#include "odbc_connector.h"

#include <cctype>

#include "writes.h"

namespace fachadapter::odbc {

namespace cv1 = ::fachadapter::connector::v1;

namespace {

// Registers the password of a connection string as a secret to strip from every message.
void RegisterPassword(const std::string& cs) {
  size_t i = 0;
  while (i < cs.size()) {
    size_t eq = cs.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = cs.substr(i, eq - i);
    while (!key.empty() && key.front() == ' ') key.erase(0, 1);
    while (!key.empty() && key.back() == ' ') key.pop_back();
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = eq + 1;
    std::string value;
    if (v < cs.size() && cs[v] == '{') {
      size_t j = v + 1;
      while (j < cs.size()) {
        if (cs[j] == '}') {
          if (j + 1 < cs.size() && cs[j + 1] == '}') {
            value += '}';
            j += 2;
            continue;
          }
          break;
        }
        value += cs[j++];
      }
      i = cs.find(';', j);
    } else {
      size_t end = cs.find(';', v);
      value = cs.substr(v, end == std::string::npos ? std::string::npos : end - v);
      i = end;
    }
    if (key == "pwd" || key == "password") RegisterSecret(value);
    if (i == std::string::npos) break;
    ++i;
  }
}

}  // namespace

Status OdbcConnector::Open(const cv1::OpenRequest& request) {
  source_name_ = request.source_name();
  auto context = [&](const Status& s) { return s.WithContext("source '" + source_name_ + "'"); };
  Result<OdbcSettings> settings = ParseSettings(request.settings());
  if (!settings.ok()) return context(settings.status());
  source_.settings = std::move(settings).value();
  RegisterPassword(source_.settings.connection_string);

  Result<EnvHandle> env = MakeEnvironment();
  if (!env.ok()) return context(env.status());
  source_.env = std::move(env).value();
  source_.pool = std::make_unique<ConnectionPool>(source_.env.get(), source_.settings.connection_string,
                                                  source_.settings.pool_size,
                                                  source_.settings.login_timeout_seconds);
  Result<std::unique_ptr<Connection>> first = source_.pool->Connect();
  if (!first.ok()) return context(first.status());
  Result<Dialect> dialect = Dialect::Read((*first)->dbc(), source_.settings.batch_size);
  if (!dialect.ok()) return context(dialect.status());
  // The driver is known only once connected: reconnect with the options it needs to stream
  // (and to report types as what they are), unless the operator set them. Short connections
  // (point reads, writes) go without the streaming options; see ConnectionKind.
  std::string streaming = dialect->WithDriverOptions(source_.settings.connection_string, true);
  std::string short_statements = dialect->WithDriverOptions(source_.settings.connection_string, false);
  source_.pool->set_connection_strings(streaming, short_statements);
  if (streaming != source_.settings.connection_string) {
    first = source_.pool->Connect(ConnectionKind::kStreaming);
    if (!first.ok()) return context(first.status());
    dialect = Dialect::Read((*first)->dbc(), source_.settings.batch_size);
    if (!dialect.ok()) return context(dialect.status());
  }
  source_.dialect = *dialect;
  for (const std::string& sql : source_.dialect.session_setup()) {
    Status s = (*first)->ExecuteDirect(sql, "setting up the session (" + sql + ")");
    if (!s.ok()) return context(s);
  }
  source_.pool->set_session_setup(source_.dialect.session_setup());
  source_.pool->set_validation(source_.dialect.validation_query(), std::chrono::milliseconds(1000));
  source_.catalog = std::make_unique<Catalog>(&source_.dialect, source_.settings.schema, source_.settings.views);
  if (!source_.settings.views.empty() || !source_.settings.queries.empty()) {
    // Configured entities are checked now, so a mistake stops the source at start.
    Status s = source_.catalog->LoadConfigured(**first, source_.settings.queries);
    if (!s.ok()) return context(s);
  }
  idempotency_ = std::make_unique<IdempotencyStore>(&source_.dialect);
  source_.pool->Adopt(std::move(first).value());
  host().Log(FA_LOG_INFO, "source '" + source_name_ + "': connected to " + source_.dialect.dbms_name() +
                              " " + source_.dialect.dbms_version() + " through ODBC driver " +
                              source_.dialect.driver_name());
  scans_.LogPolicy(source_, host());
  return Status::OK();
}

Status OdbcConnector::Describe(const cv1::DescribeRequest& request, cv1::DescribeResponse* response,
                               sdk::CallContext& ctx) {
  return WithRetries(ctx, [&] {
    response->Clear();
    return DescribeOnce(request, response, ctx);
  });
}

Status OdbcConnector::DescribeOnce(const cv1::DescribeRequest& request, cv1::DescribeResponse* response,
                                   sdk::CallContext& ctx) {
  FA_ASSIGN_OR_RETURN(PooledConnection conn, source_.Acquire(ctx));
  std::vector<std::string> names(request.entities().begin(), request.entities().end());
  if (names.empty()) {
    FA_ASSIGN_OR_RETURN(names, source_.catalog->ListNames(*conn));
  }
  for (const std::string& name : names) {
    FA_RETURN_IF_ERROR(ctx.CheckCancelled());
    FA_ASSIGN_OR_RETURN(std::shared_ptr<const Table> table, source_.catalog->Get(*conn, name));
    table->ToRawEntity(response->add_entities());
  }
  return Status::OK();
}

Result<std::unique_ptr<sdk::ScanCursor>> OdbcConnector::Scan(const cv1::ScanRequest& request,
                                                             sdk::CallContext& ctx) {
  // Retried only until the scan starts: once rows went out, a repeat could duplicate them.
  return WithRetries(ctx, [&] { return scans_.Start(source_, request, ctx, host()); });
}

Status OdbcConnector::Insert(const cv1::InsertRequest& request, cv1::InsertResponse* response,
                             sdk::CallContext& ctx) {
  // With an idempotency key a repeat is safe: the key's record is written in the row's
  // transaction, so a repeat after a lost commit answers from it instead of inserting again.
  // Without one, a transient failure is the caller's to judge (UNAVAILABLE or ABORTED).
  if (request.idempotency_key().empty()) return InsertRow(source_, *idempotency_, request, response, ctx);
  return WithRetries(ctx, [&] {
    response->Clear();
    return InsertRow(source_, *idempotency_, request, response, ctx);
  });
}

Status OdbcConnector::Update(const cv1::UpdateRequest& request, cv1::UpdateResponse* response,
                             sdk::CallContext& ctx) {
  return UpdateRow(source_, request, response, ctx);
}

Status OdbcConnector::Delete(const cv1::DeleteRequest& request, cv1::DeleteResponse*,
                             sdk::CallContext& ctx) {
  return DeleteRow(source_, request, ctx);
}

Status OdbcConnector::Health(const cv1::HealthRequest&, cv1::HealthResponse* response,
                             sdk::CallContext& ctx) {
  auto not_serving = [&](const Status& s) {
    response->set_serving(false);
    response->set_detail(s.message());
    return Status::OK();
  };
  Result<PooledConnection> conn = source_.Acquire(ctx);
  if (!conn.ok()) return not_serving(conn.status());
  SQLUINTEGER dead = SQL_CD_FALSE;
  if (SQL_SUCCEEDED(SQLGetConnectAttr((*conn)->dbc(), SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr)) &&
      dead == SQL_CD_TRUE) {
    (*conn)->MarkBroken();
    return not_serving(Unavailable("the database connection was lost"));
  }
  // One cheap round trip: a catalog lookup of a single name.
  Result<StmtHandle> st = (*conn)->NewStatement();
  if (!st.ok()) return not_serving((*conn)->Note(st.status()));
  std::string pattern = source_.dialect.CatalogPattern(kIdempotencyTable);
  Status s = st->Check(SQLTables(st->get(), nullptr, 0, nullptr, 0,
                                 reinterpret_cast<SQLCHAR*>(pattern.data()),
                                 static_cast<SQLSMALLINT>(pattern.size()), nullptr, 0),
                       "checking the database");
  if (!s.ok()) {
    (*conn)->MarkBroken();
    return not_serving(s);
  }
  response->set_serving(true);
  return Status::OK();
}

}  // namespace fachadapter::odbc

FACHADAPTER_CONNECTOR(odbc, "odbc", "0.1.0", fachadapter::odbc::OdbcConnector)
