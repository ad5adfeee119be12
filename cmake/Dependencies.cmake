# Every dependency comes from a Debian 12 package (scripts/install-deps installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_package(ZLIB REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(GMIME REQUIRED IMPORTED_TARGET gmime-3.0)
# Public Suffix List (DMARC organizational domains); the list itself: package publicsuffix.
pkg_check_modules(PSL REQUIRED IMPORTED_TARGET libpsl)

find_package(xapian CONFIG REQUIRED)
if(NOT TARGET govmail::xapian)
  add_library(govmail::xapian INTERFACE IMPORTED)
  set_target_properties(govmail::xapian PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${XAPIAN_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${XAPIAN_LIBRARIES}")
endif()

# govmail's allocator: tcmalloc (gperftools' minimal build). glibc malloc took ~15% of the
# server's CPU in bench/imap (per-thread arenas, consolidation); tcmalloc cut the CPU per
# benchmark cycle by about 8% (docs/NOTES.md). The sanitizers bring their own allocator.
if(NOT GOVMAIL_SANITIZE)
  pkg_check_modules(TCMALLOC REQUIRED IMPORTED_TARGET libtcmalloc_minimal)
endif()

# libunbound (outbound DNS): not through pkg-config, whose libunbound.pc on Debian 12 lists
# libevent in Requires.private, so pkg_check_modules fails without libevent-dev although a
# shared link needs only -lunbound.
find_path(UNBOUND_INCLUDE_DIR unbound.h REQUIRED)
find_library(UNBOUND_LIBRARY unbound REQUIRED)
add_library(govmail::unbound INTERFACE IMPORTED)
set_target_properties(govmail::unbound PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${UNBOUND_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "${UNBOUND_LIBRARY}")

# toml11 3.7 is header-only (/usr/include/toml.hpp).
find_path(TOML11_INCLUDE_DIR toml.hpp REQUIRED)
add_library(govmail::toml11 INTERFACE IMPORTED)
set_target_properties(govmail::toml11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${TOML11_INCLUDE_DIR}")

if(GOVMAIL_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
