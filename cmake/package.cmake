# The Debian package (scripts/package): install() rules and CPack's DEB generator.
#
#   /usr/bin/ddb2pg                                  the binary
#   /usr/share/man/man1/ddb2pg.1.gz                  docs/ddb2pg.1
#   /usr/share/doc/ddb2pg/{README.md,*.md,examples/} documentation and example configurations
#   /lib/systemd/system/ddb2pg@.service              runs /etc/ddb2pg/%i.yaml (packaging/)
#   /etc/ddb2pg/                                     created by postinst, holds the user's files
#
# `install` does not build `all` first (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY): scripts/package builds
# just the binary and the man page, so packaging never compiles the tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(man_page ${CMAKE_BINARY_DIR}/generated/ddb2pg.1.gz)
add_custom_command(OUTPUT ${man_page}
  COMMAND gzip -9 -n -c ${CMAKE_SOURCE_DIR}/docs/ddb2pg.1 > ${man_page}
  DEPENDS ${CMAKE_SOURCE_DIR}/docs/ddb2pg.1)
add_custom_target(ddb2pg_man ALL DEPENDS ${man_page})

install(TARGETS ddb2pg RUNTIME DESTINATION bin)
install(FILES ${man_page} DESTINATION share/man/man1)
install(FILES README.md docs/config.md docs/aws.md docs/metrics.md docs/consistency.md
        DESTINATION share/doc/ddb2pg)
file(GLOB example_configs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/examples/*.yaml)
install(FILES ${example_configs} examples/README.md DESTINATION share/doc/ddb2pg/examples)
install(FILES packaging/ddb2pg@.service DESTINATION /lib/systemd/system)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ddb2pg)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ddb2pg maintainers <ddb2pg@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "stream a DynamoDB table into PostgreSQL")
set(CPACK_PACKAGE_DESCRIPTION
    "ddb2pg copies an Amazon DynamoDB table into PostgreSQL tables: a parallel snapshot, then every change from DynamoDB Streams, exactly once and in order per item, through declarative mappings from one YAML file. Includes the systemd unit ddb2pg@.service.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ddb2pg_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)   # libcurl, libssl, libpq, ... from dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/packaging/postinst ${CMAKE_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)  # /lib/systemd/system is absolute on purpose
include(CPack)
