/*
 * The C ABI between the Fachadapter host and a connector plugin.
 *
 * A connector is a shared library exporting one entry point, FACHADAPTER_CONNECTOR_ENTRY
 * ("fachadapter_connector_init"), of type FaConnectorInitFn. The host calls it with the ABI
 * version it speaks and a zeroed function table; the connector fills the table. Everything
 * else crosses the boundary as protobuf wire format (proto/fachadapter/connector/v1), so the
 * boundary is independent of compilers and C++ standard libraries.
 *
 * Rules (tested in tests/unit/abi_layout_test.cc):
 *  - The first field of every struct is its size; new fields are only ever added at the end.
 *  - FACHADAPTER_CONNECTOR_ABI_VERSION changes when an existing field changes meaning.
 *  - Memory is freed by the side that allocated it: every FaBuffer carries its own release
 *    callback. Borrowed inputs (pointer + size) are valid only during the call.
 *  - Status codes are gRPC status codes (0 = OK). A non-zero return fills the error buffer
 *    with a serialized fachadapter.connector.v1.Error.
 *  - No C++ exception ever crosses the boundary.
 *
 * Naming: fields the host calls into the connector are plain verbs; fields of FaHostApi and
 * FaCallContext are the host's services, called by the connector.
 */
#ifndef FACHADAPTER_CONNECTOR_ABI_H_
#define FACHADAPTER_CONNECTOR_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define FACHADAPTER_CONNECTOR_ABI_VERSION 1u

/* Name of the entry point a plugin exports. */
#define FACHADAPTER_CONNECTOR_ENTRY "fachadapter_connector_init"

/* Name of the `const uint32_t` a plugin exports with the ABI version it was built for, so the
 * loader can name both versions in its message before calling any code of the plugin. */
#define FACHADAPTER_CONNECTOR_ABI_SYMBOL "fachadapter_connector_abi_version"

/* Marks a symbol as exported from a plugin built with -fvisibility=hidden. */
#if defined(_WIN32)
#define FACHADAPTER_CONNECTOR_EXPORT __declspec(dllexport)
#else
#define FACHADAPTER_CONNECTOR_EXPORT __attribute__((visibility("default")))
#endif

/* Return code of a call that succeeded (gRPC OK). */
#define FA_OK 0
/* Return code of the entry point for an ABI version the connector does not speak
 * (gRPC UNIMPLEMENTED); the host may retry with an older version. */
#define FA_ABI_UNSUPPORTED 12

/* Log levels for FaHostApi.log. */
#define FA_LOG_DEBUG 0
#define FA_LOG_INFO 1
#define FA_LOG_WARNING 2
#define FA_LOG_ERROR 3

/*
 * A byte buffer handed from one side to the other.
 * OWNERSHIP: the side that filled it owns the memory; the receiver calls release(buffer)
 * exactly once when done (if release is not NULL) and must not free data itself. The data
 * stays valid until then, also across later calls (the host keeps a scan batch while it asks
 * for the next one), and release may be called from any thread.
 */
typedef struct FaBuffer {
  uint8_t* data;                          /* Bytes; NULL when size is 0. */
  size_t size;                            /* Number of bytes. */
  void (*release)(struct FaBuffer* self); /* Frees data; set by the filler. */
  void* private_data;                     /* For the filler's release. */
} FaBuffer;

/*
 * Services the host offers a connector for its whole life. Handed to open(); valid until
 * close() returns.
 * OWNERSHIP: owned by the host.
 */
typedef struct FaHostApi {
  uint32_t struct_size; /* sizeof(FaHostApi) as the host was compiled. */
  uint32_t abi_version; /* FACHADAPTER_CONNECTOR_ABI_VERSION of the host. */
  void* host_data;      /* Passed back to every callback. */
  /* Writes one log line (UTF-8, not NUL-terminated) at a FA_LOG_* level. Thread-safe. */
  void (*log)(void* host_data, int32_t level, const char* message, size_t message_size);
  /* Adds delta to the counter metric `name` (e.g. "rows_skipped"). Thread-safe. */
  void (*counter_add)(void* host_data, const char* name, size_t name_size, int64_t delta);
} FaHostApi;

/*
 * Per-call services: deadline and cancellation of the client call that caused this call.
 * OWNERSHIP: owned by the host; valid only during the call it is passed to.
 */
typedef struct FaCallContext {
  uint32_t struct_size;        /* sizeof(FaCallContext) as the host was compiled. */
  int64_t deadline_unix_nanos; /* Absolute deadline (CLOCK_REALTIME), 0 = none. */
  void* host_data;             /* Passed back to is_cancelled. */
  /* Returns non-zero once the client went away or the deadline passed; connectors check it
   * between batches and in long loops, and then return 1 (CANCELLED) or 4 (DEADLINE_EXCEEDED). */
  int32_t (*is_cancelled)(void* host_data);
} FaCallContext;

/* Opaque connector instance (one per configured source). Owned by the connector. */
typedef struct FaConnectorInstance FaConnectorInstance;
/* Opaque scan cursor. Owned by the connector; freed by scan_close. */
typedef struct FaScanCursor FaScanCursor;

/* Unary methods of FaConnectorV1.call, with their request/response messages. */
typedef enum FaMethod {
  FA_METHOD_DESCRIBE = 1, /* DescribeRequest -> DescribeResponse */
  FA_METHOD_INSERT = 2,   /* InsertRequest -> InsertResponse */
  FA_METHOD_UPDATE = 3,   /* UpdateRequest -> UpdateResponse */
  FA_METHOD_DELETE = 4,   /* DeleteRequest -> DeleteResponse */
  FA_METHOD_HEALTH = 5    /* HealthRequest -> HealthResponse */
} FaMethod;

/*
 * The function table of ABI version 1, filled by the connector's entry point.
 * All functions must be thread-safe for different cursors; one cursor is used by one thread
 * at a time.
 */
typedef struct FaConnectorV1 {
  uint32_t struct_size; /* sizeof(FaConnectorV1) as the connector was compiled. */
  uint32_t abi_version; /* FACHADAPTER_CONNECTOR_ABI_VERSION the connector was built for. */
  const char* name;     /* Connector type name, e.g. "odbc". Static storage. */
  const char* version;  /* Connector's own version, e.g. "0.1.0". Static storage. */

  /* Opens an instance from a serialized OpenRequest. On success sets *out; otherwise fills
   * error with an Error. `host` stays valid until close(). */
  int32_t (*open)(const FaHostApi* host, const uint8_t* request, size_t request_size,
                  FaConnectorInstance** out, FaBuffer* error);
  /* Closes an instance; all its cursors are closed before. */
  void (*close)(FaConnectorInstance* instance);

  /* Runs a unary FaMethod. `response` receives the method's response message on FA_OK and a
   * serialized Error otherwise. */
  int32_t (*call)(FaConnectorInstance* instance, const FaCallContext* context, int32_t method,
                  const uint8_t* request, size_t request_size, FaBuffer* response);

  /* Starts a scan from a serialized ScanRequest. On success sets *out; otherwise fills error. */
  int32_t (*scan_open)(FaConnectorInstance* instance, const FaCallContext* context,
                       const uint8_t* request, size_t request_size, FaScanCursor** out,
                       FaBuffer* error);
  /* Produces the next ScanBatch into `batch`, or sets *end_of_scan to 1 and leaves batch empty.
   * On error returns its code and fills batch with an Error. */
  int32_t (*scan_next)(FaScanCursor* cursor, const FaCallContext* context, FaBuffer* batch,
                       int32_t* end_of_scan);
  /* Ends a scan early or after its end; frees the cursor. */
  void (*scan_close)(FaScanCursor* cursor);
} FaConnectorV1;

/*
 * The entry point. `host_abi_version` is the host's FACHADAPTER_CONNECTOR_ABI_VERSION;
 * `table` points to a zeroed table of `table_size` bytes (for version 1: FaConnectorV1).
 * Returns FA_OK after filling the table, or FA_ABI_UNSUPPORTED for a version the connector
 * does not speak or a table too small for it (it then writes nothing).
 */
typedef int32_t (*FaConnectorInitFn)(uint32_t host_abi_version, void* table, size_t table_size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FACHADAPTER_CONNECTOR_ABI_H_ */
