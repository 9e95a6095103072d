/* A shared library that claims the ABI version but has no entry point. */
#include "fachadapter/connector/abi.h"

FACHADAPTER_CONNECTOR_EXPORT const uint32_t fachadapter_connector_abi_version =
    FACHADAPTER_CONNECTOR_ABI_VERSION;
