# The WebAssembly build's dependencies, for em++ (Debian's emscripten):
#   emcmake cmake -S . -B build-wasm && cmake --build build-wasm
#
# The headers are Debian's own (xtensor, xtl, xsimd, fmt, doctest), reached through a folder of
# links made here: their CMake packages would add -I/usr/include, where glibc's headers would
# shadow emscripten's libc. Nothing is linked in: fmt is header-only, and the engine runs its
# matrix products on its own loops (AUTOGRAD_BLAS=OFF). The file formats (zlib, libzip, stb) stay
# out of this build: the page reads and writes no files.
set(AUTOGRAD_NATIVE OFF CACHE BOOL "" FORCE)
set(AUTOGRAD_WITH_DNNL OFF CACHE BOOL "" FORCE)
set(AUTOGRAD_BLAS OFF CACHE BOOL "" FORCE)
set(AUTOGRAD_BUILD_TUTORIALS OFF CACHE BOOL "" FORCE)
set(AUTOGRAD_BUILD_BENCH OFF CACHE BOOL "" FORCE)

# xsimd 8 has no WebAssembly architecture of its own, but emscripten maps SSE's intrinsics onto
# simd128: xtensor's elementwise math vectorises through xsimd's SSE2 code. Exceptions are
# WebAssembly's own (-fwasm-exceptions): em++ would otherwise abort on every engine error, and
# JavaScript's emulation (-fexceptions) costs twice as much per op.
# Link-time optimisation: across the engine's files the linker drops what the page never calls,
# 1039 kB of .wasm down to 826 kB (the target is under 1 MB), at the same speed in Chromium.
add_compile_options(-msimd128 -msse2 -fwasm-exceptions -flto)
add_link_options(-fwasm-exceptions -flto -sALLOW_MEMORY_GROWTH=1)

# em++ optimises the JavaScript it links with node and Debian's acorn module: a node that is not
# Debian's own (NodeSource's, say) does not look in /usr/share/nodejs unless told.
if(EXISTS /usr/share/nodejs/acorn)
  set(CMAKE_CXX_LINKER_LAUNCHER ${CMAKE_COMMAND} -E env NODE_PATH=/usr/share/nodejs)
endif()

set(wasm_headers ${CMAKE_BINARY_DIR}/wasm-include)
file(MAKE_DIRECTORY ${wasm_headers})
foreach(folder xtensor xtl xsimd fmt doctest)
  if(NOT EXISTS /usr/include/${folder})
    message(FATAL_ERROR "the WebAssembly build needs Debian's headers in /usr/include/${folder}: "
                        "apt-get install libxtensor-dev libxsimd-dev libfmt-dev doctest-dev")
  endif()
  file(CREATE_LINK /usr/include/${folder} ${wasm_headers}/${folder} SYMBOLIC)
endforeach()

foreach(target xtl xsimd xtensor)
  add_library(${target} INTERFACE IMPORTED)
  target_include_directories(${target} SYSTEM INTERFACE ${wasm_headers})
endforeach()
add_library(fmt::fmt INTERFACE IMPORTED)
target_include_directories(fmt::fmt SYSTEM INTERFACE ${wasm_headers})
target_compile_definitions(fmt::fmt INTERFACE FMT_HEADER_ONLY)
add_library(doctest::doctest INTERFACE IMPORTED)
target_include_directories(doctest::doctest SYSTEM INTERFACE ${wasm_headers})
