# Helper functions for building Fachadapter connectors, in this tree and for third parties
# (installed with the CMake package).
include_guard(GLOBAL)

# fachadapter_add_connector(<id> SOURCES <files...> [LIBRARIES <libs...>] [NO_INSTALL])
#
# Builds connector <id> twice from the same sources:
#  - fachadapter_connector_<id>: a plugin (MODULE library) loaded by fachadapterd, with the
#    plugin entry points, hidden visibility and no undefined symbols;
#  - fachadapter_connector_<id>_static: a static library for integrators who link the
#    connector into their program and register it with FACHADAPTER_REGISTER_STATIC_CONNECTOR.
# The sources use FACHADAPTER_CONNECTOR(<id>, ...) from fachadapter/connector/sdk.h.
function(fachadapter_add_connector id)
  cmake_parse_arguments(ARG "NO_INSTALL" "" "SOURCES;LIBRARIES" ${ARGN})
  if(TARGET fachadapter_connector_sdk)
    set(sdk fachadapter_connector_sdk)
  else()
    set(sdk fachadapter::connector_sdk)
  endif()
  set(plugin fachadapter_connector_${id})
  add_library(${plugin} MODULE ${ARG_SOURCES})
  target_link_libraries(${plugin} PRIVATE ${sdk} ${ARG_LIBRARIES})
  target_compile_definitions(${plugin} PRIVATE FACHADAPTER_CONNECTOR_PLUGIN=1)
  set_target_properties(${plugin} PROPERTIES
    PREFIX "" OUTPUT_NAME "fachadapter_connector_${id}"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  # Sanitizer runtimes resolve their symbols from the program, so a sanitized plugin has
  # undefined symbols by design.
  if(NOT FACHADAPTER_SANITIZE AND NOT "${CMAKE_CXX_FLAGS}" MATCHES "sanitize")
    target_link_options(${plugin} PRIVATE "LINKER:--no-undefined")
  endif()
  if(DEFINED FACHADAPTER_PLUGIN_OUTPUT_DIR)
    set_target_properties(${plugin} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${FACHADAPTER_PLUGIN_OUTPUT_DIR})
  endif()

  set(static fachadapter_connector_${id}_static)
  add_library(${static} STATIC ${ARG_SOURCES})
  target_link_libraries(${static} PUBLIC ${sdk} ${ARG_LIBRARIES})
  if(NOT ARG_NO_INSTALL AND DEFINED FACHADAPTER_PLUGIN_INSTALL_DIR)
    # Installed plugins live below the library folder; they find libfachadapter_proto there.
    if(DEFINED CMAKE_INSTALL_LIBDIR AND NOT IS_ABSOLUTE "${FACHADAPTER_PLUGIN_INSTALL_DIR}")
      file(RELATIVE_PATH to_libdir "/${FACHADAPTER_PLUGIN_INSTALL_DIR}" "/${CMAKE_INSTALL_LIBDIR}")
      set_target_properties(${plugin} PROPERTIES INSTALL_RPATH "$ORIGIN/${to_libdir}")
    endif()
    install(TARGETS ${plugin} LIBRARY DESTINATION ${FACHADAPTER_PLUGIN_INSTALL_DIR})
  endif()
endfunction()
