# The installed package: `cmake --install build --prefix P` puts the public headers in
# P/include/swarm, the libraries in P/lib, the `swarm` tool in P/bin and a CMake config in
# P/lib/cmake/swarmsim, so that an outside project does
#   find_package(swarmsim REQUIRED)
#   target_link_libraries(app PRIVATE swarmsim::swarmsim)
# and gets C++20, the include path, EIGEN_DONT_PARALLELIZE (and -march=native when the package
# was built with SWARM_NATIVE) and every library it needs as usage requirements.
include(CMakePackageConfigHelpers)

# swarmsim::swarmsim: everything (the engine up to the command line as a library).
add_library(swarmsim INTERFACE)
target_link_libraries(swarmsim INTERFACE ${SWARM_INSTALLED_LIBRARIES})

set_target_properties(swarm_base PROPERTIES EXPORT_NAME base)
foreach(lib IN LISTS SWARM_INSTALLED_LIBRARIES)
  string(REGEX REPLACE "^swarm_" "" short "${lib}")
  set_target_properties(${lib} PROPERTIES EXPORT_NAME ${short})
endforeach()

install(TARGETS swarm_base swarmsim ${SWARM_INSTALLED_LIBRARIES} EXPORT swarmsimTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS swarm RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/swarm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(SWARM_CONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/swarmsim)
install(EXPORT swarmsimTargets NAMESPACE swarmsim:: DESTINATION ${SWARM_CONFIG_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/swarmsimConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/swarmsimConfig.cmake INSTALL_DESTINATION ${SWARM_CONFIG_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/swarmsimConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/swarmsimConfig.cmake ${PROJECT_BINARY_DIR}/swarmsimConfigVersion.cmake
        DESTINATION ${SWARM_CONFIG_DIR})
