# The soak test: not in the default ctest run. `cmake --build build --target
# soak` runs one simulated hour (a burst of mixed traffic and a fault every
# minute); the program alone, with no argument, is the short variant (6
# simulated seconds) that the memcheck target runs under Valgrind.
add_executable(vns_soak ${CMAKE_CURRENT_LIST_DIR}/soak.c)
target_link_libraries(vns_soak PRIVATE vnetsim_static)
vns_target_warnings(vns_soak)
set(VNS_TEST_TARGETS ${VNS_TEST_TARGETS} vns_soak CACHE INTERNAL "")
add_custom_target(soak
  COMMAND $<TARGET_FILE:vns_soak> --duration 3600s --period 60s --burst 2s
  DEPENDS vns_soak
  COMMENT "Soak: one simulated hour of mixed traffic with periodic faults" VERBATIM)
add_custom_target(soak-short
  COMMAND $<TARGET_FILE:vns_soak>
  DEPENDS vns_soak
  COMMENT "Soak, short variant (6 simulated seconds)" VERBATIM)
