# Install headers, both libraries, vnetsim.pc and a CMake package so that
# find_package(vnetsim) works: target vnetsim::vnetsim (shared) and
# vnetsim::vnetsim_static.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/vnetsim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS vnetsim vnetsim_static EXPORT vnetsimTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS vnetsim_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT vnetsimTargets NAMESPACE vnetsim:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vnetsim)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/vnetsimConfig.cmake.in
  ${PROJECT_BINARY_DIR}/vnetsimConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vnetsim)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vnetsimConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vnetsimConfig.cmake ${PROJECT_BINARY_DIR}/vnetsimConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vnetsim)

# A relocatable .pc: prefix is found from the .pc file's own place, so
# `cmake --install --prefix DIR` works without reconfiguring.
file(RELATIVE_PATH VNS_PC_TO_PREFIX /x/${CMAKE_INSTALL_LIBDIR}/pkgconfig /x)
configure_file(${PROJECT_SOURCE_DIR}/cmake/vnetsim.pc.in ${PROJECT_BINARY_DIR}/vnetsim.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vnetsim.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
