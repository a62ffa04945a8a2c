# LibTorch from the pip `torch` wheel (the oracle venv's, scripts/install-deps.sh), CPU only:
# `make build TORCH=wheel` configures with -DCNNSCOPE_TORCH_WHEEL=<site-packages>/torch.
# The wheel is built with CUDA, and its TorchConfig.cmake (find_package(Torch)) then looks for the
# CUDA toolkit; cnnscope uses no CUDA, so this file makes the imported target itself from the
# wheel's headers and its two CPU libraries (libtorch_cpu.so, libc10.so; they find their own
# dependencies, libgomp and the small CUDA runtime, through their RPATH inside the venv).
# Leaves out: libtorch_cuda, libtorch.so's CUDA registration, every Python binding.
# Spec: the wheel's share/cmake/Torch/TorchConfig.cmake (include dirs, TORCH_CXX_FLAGS).
set(_wheel ${CNNSCOPE_TORCH_WHEEL})
foreach(f include/torch/csrc/api/include/torch/torch.h lib/libtorch_cpu.so lib/libc10.so)
  if(NOT EXISTS ${_wheel}/${f})
    message(FATAL_ERROR "CNNSCOPE_TORCH_WHEEL=${_wheel}: no ${f} (want site-packages/torch of a torch wheel)")
  endif()
endforeach()
# The wheel's include/ also bundles its own fmt (a newer major than Debian's libfmt-dev, which
# cnnscope links): a folder of links to everything there but fmt keeps <fmt/...> Debian's.
# Made anew on every configure: the links follow CNNSCOPE_TORCH_WHEEL when it changes.
set(_inc ${CMAKE_BINARY_DIR}/torch-wheel-include)
file(REMOVE_RECURSE ${_inc})
file(MAKE_DIRECTORY ${_inc})
file(GLOB _entries RELATIVE ${_wheel}/include ${_wheel}/include/*)
foreach(e ${_entries})
  if(NOT e STREQUAL "fmt")
    file(CREATE_LINK ${_wheel}/include/${e} ${_inc}/${e} SYMBOLIC)
  endif()
endforeach()
add_library(torch_wheel INTERFACE)
target_include_directories(torch_wheel SYSTEM INTERFACE
  ${_inc} ${_wheel}/include/torch/csrc/api/include)
target_link_libraries(torch_wheel INTERFACE ${_wheel}/lib/libtorch_cpu.so ${_wheel}/lib/libc10.so)
# The wheels since 2.7 use the C++11 ABI, as Debian's libraries (fmt, CLI11) do.
target_compile_definitions(torch_wheel INTERFACE _GLIBCXX_USE_CXX11_ABI=1)
set(TORCH_LIBRARIES torch_wheel)
# LibTorch 2.x headers refuse anything older than C++20 (ATen/ATen.h).
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_BUILD_RPATH ${_wheel}/lib)
message(STATUS "LibTorch: the pip wheel at ${_wheel} (torch_cpu + c10)")
