# Boost 1.74 enables Asio's coroutines on clang only with libc++'s <experimental/coroutine>;
# clang 14 has C++20 coroutines with libstdc++'s <coroutine> (the fuzz build, fuzz/run.sh).
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_definitions(BOOST_ASIO_HAS_CO_AWAIT=1 BOOST_ASIO_HAS_STD_COROUTINE=1)
endif()

# Warnings and sanitizers for project code only (never for third-party headers).
add_library(govmail_options INTERFACE)
target_compile_options(govmail_options INTERFACE -Wall -Wextra -Werror)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(govmail_options INTERFACE
    # GCC 12 false positive on coroutine frames at -O2 (NOTES-LIBRARIES.md).
    -Wno-mismatched-new-delete
    # GCC 12 false positive on "literal" + std::string&& when optimising (GCC bug 105329).
    -Wno-restrict)
endif()
target_compile_definitions(govmail_options INTERFACE
  BOOST_ASIO_NO_DEPRECATED
  GOVMAIL_VERSION="${PROJECT_VERSION}")
if(GOVMAIL_SANITIZE)
  target_compile_options(govmail_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  # -no-pie: a sanitized PIE executable spends ~0.8 s at every start applying its relocations
  # (govmail: 1.5 s -> 0.7 s for --version), and the tests start govmail and the unit-test
  # binaries hundreds of times. The objects stay as compiled (PIE code links into a
  # fixed-address executable), so the change costs a relink, not a rebuild.
  target_link_options(govmail_options INTERFACE -fsanitize=address,undefined -no-pie)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # clang 14 fails on coroutines with the function-type check ("Cannot represent a difference
    # across sections"); the other UBSan checks stay.
    target_compile_options(govmail_options INTERFACE -fno-sanitize=function)
  endif()
endif()
if(GOVMAIL_FUZZ)
  # Coverage feedback from every parser library, not only from the fuzz target's own file.
  target_compile_options(govmail_options INTERFACE -fsanitize=fuzzer-no-link)
endif()

# govmail_library(NAME folder): one static library per folder, public headers in include/.
function(govmail_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    # A front end whose issue has not landed yet: headers only.
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(${name} INTERFACE ${ARG_PUBLIC_DEPS})
    return()
  endif()
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                     PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE govmail_options ${ARG_PRIVATE_DEPS})
endfunction()
