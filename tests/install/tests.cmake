# Install the package into a scratch prefix, then build examples/hello_engine.c
# out of tree with find_package(vnetsim) and with pkg-config, and run both.
add_test(NAME install/find_package
  COMMAND ${CMAKE_COMMAND} -DBUILD=${PROJECT_BINARY_DIR} -DSRC=${PROJECT_SOURCE_DIR}
          -DWORK=${PROJECT_BINARY_DIR}/install-test -DCC=${CMAKE_C_COMPILER}
          -P ${PROJECT_SOURCE_DIR}/tests/install/install_test.cmake)
set_tests_properties(install/find_package PROPERTIES LABELS "install" TIMEOUT 300)
