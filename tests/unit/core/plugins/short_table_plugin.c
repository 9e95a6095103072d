/* A plugin whose table is too short and has empty slots, as one built against a broken
 * header would have: the loader must refuse it instead of calling through garbage. */
#include <string.h>

#include "fachadapter/connector/abi.h"

FACHADAPTER_CONNECTOR_EXPORT const uint32_t fachadapter_connector_abi_version =
    FACHADAPTER_CONNECTOR_ABI_VERSION;

FACHADAPTER_CONNECTOR_EXPORT int32_t fachadapter_connector_init(uint32_t v, void* t, size_t n) {
  FaConnectorV1 table;
  (void)v;
  memset(&table, 0, sizeof table);
  table.struct_size = 24;
  table.abi_version = FACHADAPTER_CONNECTOR_ABI_VERSION;
  table.name = "short";
  memcpy(t, &table, n < sizeof table ? n : sizeof table);
  return FA_OK;
}
