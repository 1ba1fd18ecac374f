# Installation and the Debian package (cpack -G DEB).
#
# The HDF5 zstd filter plugin goes where the HDF5 library we build against looks for
# plugins by default (asked of the library itself: cmake/hdf5_plugin_dir.c), relative to
# the prefix: on Debian 12 /usr/lib/x86_64-linux-gnu/hdf5/serial/plugins, so under the
# package's /usr h5dump and h5py read our datasets with no HDF5_PLUGIN_PATH. Under another
# prefix, point HDF5_PLUGIN_PATH at PREFIX/SSMF_HDF5_PLUGIN_DIR.
include(GNUInstallDirs)
if(NOT DEFINED SSMF_HDF5_PLUGIN_DIR)
  try_run(plugin_dir_ran plugin_dir_built ${CMAKE_BINARY_DIR}/hdf5_plugin_dir
    ${CMAKE_SOURCE_DIR}/cmake/hdf5_plugin_dir.c
    CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${HDF5_INCLUDE_DIRS}"
    COMPILE_DEFINITIONS ${HDF5_DEFINITIONS}
    LINK_LIBRARIES ${HDF5_C_LIBRARIES}
    RUN_OUTPUT_VARIABLE hdf5_default_plugin_dir)
  set(dir ${CMAKE_INSTALL_LIBDIR}/hdf5/plugins)
  if(plugin_dir_built AND plugin_dir_ran EQUAL 0 AND hdf5_default_plugin_dir MATCHES "^/usr/(.+)$")
    set(dir ${CMAKE_MATCH_1})
  endif()
  set(SSMF_HDF5_PLUGIN_DIR ${dir} CACHE STRING
    "where the HDF5 filter plugin is installed, relative to the prefix")
  message(STATUS "ssmflow: HDF5 plugin directory <prefix>/${SSMF_HDF5_PLUGIN_DIR}")
endif()

install(TARGETS ssmflow RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS h5z_zstd LIBRARY DESTINATION ${SSMF_HDF5_PLUGIN_DIR})
install(DIRECTORY man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 FILES_MATCHING PATTERN "*.1")
install(DIRECTORY man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man5 FILES_MATCHING PATTERN "*.5")

set(SSMF_DEB_MAINTAINER "ssmflow maintainers" CACHE STRING "the Debian package's Maintainer")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ssmflow)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "flow-level anomaly detection: pcap to features, a state-space model, anomaly scores")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${SSMF_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Depends from the shared libraries the binary and the plugin link (dpkg-shlibdeps:
# libpcap0.8, libhdf5-103-1, libzstd1, libcjson1, libssl3, zlib1g, ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "hdf5-tools")
include(CPack)
