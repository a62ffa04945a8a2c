# Tests mirror src/: tests/<stage>/test_*.cpp build into one GoogleTest binary per stage,
# tests/<stage>/test_*.py are end-to-end tests run by the Python oracle: CNNSCOPE_PYTHON, the venv
# that scripts/install-deps.sh fills from PyPI (scripts/oracle-requirements.txt).
# Fixtures are made at test time by the oracle scripts tests/oracle/make_<stage>_*.py: each is a
# CTest setup test `oracle.make_<stage>_*` of fixture `oracle_<stage>`, which every test of
# tests/<stage>/ requires, so `ctest -R '^models\.'` makes only the models' fixtures.
find_package(GTest REQUIRED)
set(CNNSCOPE_PYTHON ${CMAKE_SOURCE_DIR}/build/oracle-venv/bin/python CACHE FILEPATH
    "Python of the test oracle (torch, torchvision, numpy, Pillow from PyPI)")
if(NOT EXISTS ${CNNSCOPE_PYTHON})
  message(WARNING "CNNSCOPE_PYTHON ${CNNSCOPE_PYTHON} does not exist: run scripts/install-deps.sh")
endif()
include(GoogleTest)

set(CNNSCOPE_FIXTURES ${CMAKE_BINARY_DIR}/fixtures)
set(CNNSCOPE_TEST_ENV
  "CNNSCOPE_FIXTURES=${CNNSCOPE_FIXTURES}"
  "CNNSCOPE_BIN=$<TARGET_FILE:cnnscope>"
  "CNNSCOPE_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
  "CNNSCOPE_BUILD_DIR=${CMAKE_BINARY_DIR}"
  "PYTHON=${CNNSCOPE_PYTHON}")

file(MAKE_DIRECTORY ${CNNSCOPE_FIXTURES})
file(GLOB CNNSCOPE_ORACLE_SCRIPTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/oracle/make_*.py)
foreach(script ${CNNSCOPE_ORACLE_SCRIPTS})
  get_filename_component(name ${script} NAME_WE)
  string(REGEX REPLACE "^make_([a-z]+).*" "\\1" stage ${name})
  add_test(NAME oracle.${name} COMMAND ${CNNSCOPE_PYTHON} ${script} ${CNNSCOPE_FIXTURES})
  set_tests_properties(oracle.${name} PROPERTIES FIXTURES_SETUP oracle_${stage} TIMEOUT 1200
                       ENVIRONMENT "${CNNSCOPE_TEST_ENV}")
endforeach()

file(GLOB CNNSCOPE_TEST_DIRS LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/*)
foreach(dir ${CNNSCOPE_TEST_DIRS})
  if(NOT IS_DIRECTORY ${dir})
    continue()
  endif()
  get_filename_component(stage ${dir} NAME)
  file(GLOB cpp_tests CONFIGURE_DEPENDS ${dir}/test_*.cpp)
  if(cpp_tests)
    add_executable(test_${stage} ${cpp_tests})
    target_compile_options(test_${stage} PRIVATE ${CNNSCOPE_WARNINGS})
    target_include_directories(test_${stage} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
    target_link_libraries(test_${stage} PRIVATE cnnscope_lib GTest::gtest_main)
    if(TARGET cnnscope_${stage})  # a stage built as its own library (src/serve/)
      target_link_libraries(test_${stage} PRIVATE cnnscope_${stage})
    endif()
    target_precompile_headers(test_${stage} REUSE_FROM cnnscope_torch_api)
    add_dependencies(test_${stage} cnnscope)
    gtest_discover_tests(test_${stage}
      DISCOVERY_MODE PRE_TEST
      TEST_PREFIX "${stage}."
      PROPERTIES FIXTURES_REQUIRED oracle_${stage} ENVIRONMENT "${CNNSCOPE_TEST_ENV}" TIMEOUT 600)
  endif()
  file(GLOB py_tests CONFIGURE_DEPENDS ${dir}/test_*.py)
  foreach(py ${py_tests})
    get_filename_component(name ${py} NAME_WE)
    add_test(NAME ${stage}.${name} COMMAND ${CNNSCOPE_PYTHON} ${py})
    set_tests_properties(${stage}.${name} PROPERTIES
      FIXTURES_REQUIRED oracle_${stage} ENVIRONMENT "${CNNSCOPE_TEST_ENV}" TIMEOUT 900)
  endforeach()
endforeach()
