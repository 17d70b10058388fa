# Every dependency comes from a Debian package; scripts/install-deps.sh installs them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
# Shared state between replicas (lib/redis): libhiredis-dev 0.14, with its libuv adapter.
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
find_package(yaml-cpp REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 CONFIG REQUIRED)

# BoringSSL from android-libboringssl-dev. Its headers sit beside OpenSSL's (libssl-dev may be
# installed too), so the android include directory goes first and the libraries are linked by
# full path with an rpath: they are not in ld.so.conf. System OpenSSL must never be linked.
set(BORINGSSL_INCLUDE_DIR /usr/include/android CACHE PATH "BoringSSL headers")
set(BORINGSSL_LIB_DIR /usr/lib/x86_64-linux-gnu/android CACHE PATH "BoringSSL libraries")
if(NOT EXISTS ${BORINGSSL_INCLUDE_DIR}/openssl/base.h)
  message(FATAL_ERROR "BoringSSL not found: install android-libboringssl-dev")
endif()
add_library(boringssl INTERFACE)
target_include_directories(boringssl SYSTEM BEFORE INTERFACE ${BORINGSSL_INCLUDE_DIR})
target_link_libraries(boringssl INTERFACE ${BORINGSSL_LIB_DIR}/libssl.so.0
                                          ${BORINGSSL_LIB_DIR}/libcrypto.so.0)
target_link_options(boringssl INTERFACE "LINKER:-rpath,${BORINGSSL_LIB_DIR}")

# HTTP response framing: Node's http-parser from libhttp-parser-dev (no pkg-config file there).
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(http_parser INTERFACE)
target_include_directories(http_parser SYSTEM INTERFACE ${HTTP_PARSER_INCLUDE_DIR})
target_link_libraries(http_parser INTERFACE ${HTTP_PARSER_LIBRARY})

# JSON for the REST stores (JMAP first): nlohmann-json3-dev, header only.
find_package(nlohmann_json 3 REQUIRED)

# Local credentials (proxy/login, the `local` login mode): libcrypt (libxcrypt: crypt_rn for the
# CRYPT family) and, when found, libargon2 for Dovecot's ARGON2I/ARGON2ID schemes. Without it
# those schemes answer Unsupported (and say so when the passwd-file is loaded).
pkg_check_modules(LIBCRYPT REQUIRED IMPORTED_TARGET libcrypt)
pkg_check_modules(LIBARGON2 QUIET IMPORTED_TARGET libargon2)
if(LIBARGON2_FOUND)
  set(popgate_argon2_default ON)
else()
  set(popgate_argon2_default OFF)
endif()
option(POPGATE_WITH_ARGON2 "Verify ARGON2I/ARGON2ID passwords with libargon2 (libargon2-dev)"
       ${popgate_argon2_default})
if(POPGATE_WITH_ARGON2 AND NOT LIBARGON2_FOUND)
  message(FATAL_ERROR "POPGATE_WITH_ARGON2 is ON but libargon2 was not found: install libargon2-dev")
endif()
message(STATUS "ARGON2 password schemes: ${POPGATE_WITH_ARGON2}")
