# Warnings and sanitizers as INTERFACE targets that every project target links
# (so no target can forget them, and no global flags leak into dependencies).
add_library(popgate_warnings INTERFACE)
target_compile_options(popgate_warnings INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
                                                  -Wold-style-cast)
# -Werror is for CI and developers (scripts/test.sh turns it on), never forced on a user's or a
# packager's build: a newer compiler's new warning must not break their build.
if(POPGATE_WERROR)
  target_compile_options(popgate_warnings INTERFACE -Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 reports impossible overlaps inside std::string at -O2/-O3 (GCC bug 105651, fixed in
    # 13): a false positive in libstdc++'s own code. Still shown, no longer fatal.
    target_compile_options(popgate_warnings INTERFACE -Wno-error=restrict)
  endif()
endif()

add_library(popgate_sanitizers INTERFACE)
if(POPGATE_FUZZ)
  # Coverage for libFuzzer in every library, not only in the fuzz targets' own files.
  target_compile_options(popgate_sanitizers INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                                                      -fno-omit-frame-pointer
                                                      -fno-sanitize-recover=undefined)
  target_link_options(popgate_sanitizers INTERFACE -fsanitize=address,undefined)
elseif(POPGATE_SANITIZE)
  target_compile_options(popgate_sanitizers INTERFACE -fsanitize=address,undefined
                                                      -fno-omit-frame-pointer
                                                      -fno-sanitize-recover=undefined)
  target_link_options(popgate_sanitizers INTERFACE -fsanitize=address,undefined)
elseif(POPGATE_TSAN)
  # Data races between the worker threads and the state they share (limits, locks, caches).
  target_compile_options(popgate_sanitizers INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(popgate_sanitizers INTERFACE -fsanitize=thread)
endif()

add_library(popgate_options INTERFACE)
target_link_libraries(popgate_options INTERFACE popgate_warnings popgate_sanitizers)
