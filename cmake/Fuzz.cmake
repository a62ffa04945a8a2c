# libFuzzer targets (clang only; scripts/fuzz.sh configures build-fuzz with clang and runs one):
# fuzz_load over the checkpoint loader (src/checkpoint, src/common), fuzz_decode over the image
# decoders (src/image/decode*, src/common) and fuzz_torchscript over TorchScript archives and the
# graph interpreter (src/checkpoint, src/common, src/graph), fuzz_onnx and fuzz_pt2 over ONNX
# models and torch.export archives and the Dataflow interpreter (the same sources), fuzz_detect
# over detection, the families' builders and the key layouts (src/models and what it uses),
# fuzz_reports over the job-output readers `report` takes from a folder (similarity.json,
# layers.json); only
# those sources are compiled in, instrumented.
# src/checkpoint holds the ONNX reader, so every target that compiles it links its protobuf classes.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "CNNSCOPE_FUZZ needs clang: CC=clang CXX=clang++ (scripts/fuzz.sh does this)")
endif()
file(GLOB CNNSCOPE_FUZZ_SOURCES CONFIGURE_DEPENDS src/checkpoint/*.cpp src/common/*.cpp)
file(GLOB CNNSCOPE_FUZZ_DECODE_SOURCES CONFIGURE_DEPENDS src/image/decode*.cpp src/common/*.cpp)
set(CNNSCOPE_SANITIZE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
add_executable(fuzz_load fuzz/fuzz_load.cpp ${CNNSCOPE_FUZZ_SOURCES})
target_include_directories(fuzz_load PRIVATE src)
target_compile_options(fuzz_load PRIVATE ${CNNSCOPE_SANITIZE} -g -O1)
target_link_options(fuzz_load PRIVATE ${CNNSCOPE_SANITIZE})
target_link_libraries(fuzz_load PRIVATE ${TORCH_LIBRARIES} nlohmann_json::nlohmann_json fmt::fmt
                      ${CNNSCOPE_ONNX_LIBRARIES})
target_precompile_headers(fuzz_load PRIVATE src/pch_torch.h)
set_target_properties(fuzz_load PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

add_executable(fuzz_decode fuzz/fuzz_decode.cpp ${CNNSCOPE_FUZZ_DECODE_SOURCES})
target_include_directories(fuzz_decode PRIVATE src)
target_compile_options(fuzz_decode PRIVATE ${CNNSCOPE_SANITIZE} -g -O1)
target_link_options(fuzz_decode PRIVATE ${CNNSCOPE_SANITIZE})
target_link_libraries(fuzz_decode PRIVATE ${TORCH_LIBRARIES} nlohmann_json::nlohmann_json fmt::fmt
                      PkgConfig::LIBPNG PkgConfig::TURBOJPEG PkgConfig::LIBWEBP PkgConfig::LIBTIFF
                      GIF::GIF)
target_precompile_headers(fuzz_decode REUSE_FROM fuzz_load)
set_target_properties(fuzz_decode PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

file(GLOB CNNSCOPE_FUZZ_GRAPH_SOURCES CONFIGURE_DEPENDS src/graph/*.cpp)
add_executable(fuzz_torchscript fuzz/fuzz_torchscript.cpp ${CNNSCOPE_FUZZ_SOURCES}
               ${CNNSCOPE_FUZZ_GRAPH_SOURCES})
target_include_directories(fuzz_torchscript PRIVATE src)
target_compile_options(fuzz_torchscript PRIVATE ${CNNSCOPE_SANITIZE} -g -O1)
target_link_options(fuzz_torchscript PRIVATE ${CNNSCOPE_SANITIZE})
target_link_libraries(fuzz_torchscript PRIVATE ${TORCH_LIBRARIES} nlohmann_json::nlohmann_json
                      fmt::fmt ${CNNSCOPE_ONNX_LIBRARIES})
target_precompile_headers(fuzz_torchscript REUSE_FROM fuzz_load)
set_target_properties(fuzz_torchscript PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

foreach(target fuzz_onnx fuzz_pt2)
  add_executable(${target} fuzz/${target}.cpp ${CNNSCOPE_FUZZ_SOURCES}
                 ${CNNSCOPE_FUZZ_GRAPH_SOURCES})
  target_include_directories(${target} PRIVATE src)
  target_compile_options(${target} PRIVATE ${CNNSCOPE_SANITIZE} -g -O1)
  target_link_options(${target} PRIVATE ${CNNSCOPE_SANITIZE})
  target_link_libraries(${target} PRIVATE ${TORCH_LIBRARIES} nlohmann_json::nlohmann_json
                        fmt::fmt ${CNNSCOPE_ONNX_LIBRARIES})
  target_precompile_headers(${target} REUSE_FROM fuzz_load)
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
endforeach()

file(GLOB CNNSCOPE_FUZZ_MODELS_SOURCES CONFIGURE_DEPENDS src/models/*.cpp)
add_executable(fuzz_detect fuzz/fuzz_detect.cpp ${CNNSCOPE_FUZZ_SOURCES}
               ${CNNSCOPE_FUZZ_GRAPH_SOURCES} ${CNNSCOPE_FUZZ_MODELS_SOURCES})
target_include_directories(fuzz_detect PRIVATE src)
target_compile_options(fuzz_detect PRIVATE ${CNNSCOPE_SANITIZE} -g -O1)
target_link_options(fuzz_detect PRIVATE ${CNNSCOPE_SANITIZE})
target_link_libraries(fuzz_detect PRIVATE ${TORCH_LIBRARIES} nlohmann_json::nlohmann_json fmt::fmt
                      ${CNNSCOPE_ONNX_LIBRARIES})
target_precompile_headers(fuzz_detect REUSE_FROM fuzz_load)
set_target_properties(fuzz_detect PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

file(GLOB CNNSCOPE_FUZZ_COMMON_SOURCES CONFIGURE_DEPENDS src/common/*.cpp)
add_executable(fuzz_reports fuzz/fuzz_reports.cpp src/app/job_document.cpp
               src/app/similarity_json.cpp src/app/evolve_layers.cpp src/stats/cka.cpp
               ${CNNSCOPE_FUZZ_COMMON_SOURCES})
target_include_directories(fuzz_reports PRIVATE src)
target_compile_options(fuzz_reports PRIVATE ${CNNSCOPE_SANITIZE} -g -O1)
target_link_options(fuzz_reports PRIVATE ${CNNSCOPE_SANITIZE})
target_link_libraries(fuzz_reports PRIVATE ${TORCH_LIBRARIES} nlohmann_json::nlohmann_json
                      fmt::fmt PkgConfig::CAIRO)  # cairo: the headers evolve.h reaches
target_precompile_headers(fuzz_reports REUSE_FROM fuzz_load)
set_target_properties(fuzz_reports PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
