# Command-line tests of build/sim/vnetsim: exit codes, errors, outputs
# written whole or not at all, determinism. Each is a small sh script.
set(VNS_CLI $<TARGET_FILE:vnetsim_cli>)
file(GLOB cli_scripts CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/cli_*.sh)
foreach(s ${cli_scripts})
  get_filename_component(n ${s} NAME_WE)
  string(REGEX REPLACE "^cli_" "" n ${n})
  add_test(NAME cli/${n} COMMAND sh ${s} ${VNS_CLI} ${PROJECT_BINARY_DIR}/cli-test-${n} ${PROJECT_SOURCE_DIR})
  set_tests_properties(cli/${n} PROPERTIES LABELS "cli" TIMEOUT 120)
endforeach()
