# Quality targets: memcheck (Valgrind over the unit tests), coverage
# (gcovr report with a floor), check-tokens (forbidden calls in lib/).

find_program(VALGRIND valgrind)
if(VALGRIND AND VNS_BUILD_TESTS)
  # Every unit test program under memcheck; any error or definite leak
  # fails (cmake/memcheck.cmake).
  set(memcheck_bins "")
  foreach(t ${VNS_TEST_TARGETS})
    list(APPEND memcheck_bins $<TARGET_FILE:${t}>)
  endforeach()
  add_custom_target(memcheck
    COMMAND ${CMAKE_COMMAND} -DVALGRIND=${VALGRIND} "-DBINS=${memcheck_bins}"
            -DLOGDIR=${PROJECT_BINARY_DIR}/memcheck -P ${PROJECT_SOURCE_DIR}/cmake/memcheck.cmake
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
    DEPENDS ${VNS_TEST_TARGETS}
    COMMENT "Running the unit tests under Valgrind memcheck" VERBATIM)
endif()

find_program(GCOVR gcovr)
if(VNS_COVERAGE AND GCOVR)
  # All tests count: CLI tests exercise lib/ through the instrumented CLI.
  add_custom_target(coverage
    COMMAND ${CMAKE_CTEST_COMMAND} --output-on-failure
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/coverage
    COMMAND ${GCOVR} --root ${PROJECT_SOURCE_DIR} --filter ${PROJECT_SOURCE_DIR}/lib/
            --object-directory ${PROJECT_BINARY_DIR}
            --html-details ${PROJECT_BINARY_DIR}/coverage/index.html
            --txt ${PROJECT_BINARY_DIR}/coverage/coverage.txt
            --print-summary --fail-under-line ${VNS_COVERAGE_FLOOR}
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
    COMMENT "Coverage report in ${PROJECT_BINARY_DIR}/coverage (floor ${VNS_COVERAGE_FLOOR}% lines)"
    VERBATIM)
endif()

add_custom_target(check-tokens
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/check-tokens ${PROJECT_SOURCE_DIR}
  COMMENT "Checking lib/ for wall-clock, rand() and misplaced <uv.h>" VERBATIM)
