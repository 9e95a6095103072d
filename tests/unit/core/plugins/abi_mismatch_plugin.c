/* A plugin built for a future ABI version: the loader must refuse it by its exported version
 * and name both versions, before calling any of its code. */
#include "fachadapter/connector/abi.h"

FACHADAPTER_CONNECTOR_EXPORT const uint32_t fachadapter_connector_abi_version = 999;

FACHADAPTER_CONNECTOR_EXPORT int32_t fachadapter_connector_init(uint32_t v, void* t, size_t n) {
  (void)v;
  (void)t;
  (void)n;
  return FA_ABI_UNSUPPORTED;
}
