# Warnings and sanitizers as INTERFACE targets that every project target links
# (so no target can forget them, and no global flags leak into dependencies).
add_library(popgate_warnings INTERFACE)
target_compile_options(popgate_warnings INTERFACE -Wall -Wextra -Werror -Wshadow
                                                  -Wnon-virtual-dtor -Wold-style-cast)

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
endif()

add_library(popgate_options INTERFACE)
target_link_libraries(popgate_options INTERFACE popgate_warnings popgate_sanitizers)
