# Install rules, shared by `make install PREFIX=DIR`, the pip wheel (scikit-build-core) and the
# Debian package (cmake/Package.cmake):
#   bin/cnnscope
#   share/man/man1/cnnscope.1.gz                  made from the help by help2man (scripts/make-man.sh)
#   share/bash-completion/completions/cnnscope    `cnnscope completion bash`
#   share/cnnscope/fonts/                         DejaVu Sans (+ Bold) and its licence: the wheel,
#                                                 or CNNSCOPE_BUNDLE_FONTS (render/fonts.h)
# RUNPATH of the installed binary: with the pip wheel's LibTorch, relative to the binary itself:
# $ORIGIN/../lib/pythonX.Y/site-packages/torch/lib (and dist-packages, Debian's name for the
# system's site folder), i.e. the `torch` package installed into the same prefix (a venv,
# ~/.local, /usr/local, a conda env), never a second copy; with another LibTorch (Debian's
# libtorch-dev) none, the system's library path finds it. Nothing absolute: the install moves.
# Leaves out: Windows and macOS layouts. Spec: CMake install(), scikit-build-core's
# SKBUILD_SCRIPTS_DIR / SKBUILD_DATA_DIR, ld.so(8) $ORIGIN.
include(GNUInstallDirs)
if(SKBUILD)
  set(_bin ${SKBUILD_SCRIPTS_DIR})
  set(_share ${SKBUILD_DATA_DIR}/${CMAKE_INSTALL_DATADIR})
else()
  set(_bin ${CMAKE_INSTALL_BINDIR})
  set(_share ${CMAKE_INSTALL_DATADIR})
endif()

if(CNNSCOPE_TORCH_WHEEL)
  # .../lib/python3.11/site-packages/torch -> python3.11
  string(REGEX MATCH "/lib/(python3\\.[0-9]+)/[a-z]+-packages/torch/?$" _m "${CNNSCOPE_TORCH_WHEEL}")
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "CNNSCOPE_TORCH_WHEEL=${CNNSCOPE_TORCH_WHEEL}: want "
                        "<prefix>/lib/pythonX.Y/site-packages/torch (the installed binary finds "
                        "LibTorch relative to itself there)")
  endif()
  set(_py ${CMAKE_MATCH_1})
  # The binary is linked once, with the RUNPATH it is installed with, and the build folder is laid
  # out as a prefix for it: bin/cnnscope (and the link cnnscope -> bin/cnnscope) beside
  # lib/pythonX.Y/site-packages, a link to the torch wheel's site-packages. CMake's other way,
  # rewriting a build RUNPATH at install, leaves an empty entry in the build tree's binary, which
  # the loader reads as "the current folder" (a library planted beside a checkpoint would load).
  get_filename_component(_site ${CNNSCOPE_TORCH_WHEEL} DIRECTORY)
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/lib/${_py})
  file(CREATE_LINK ${_site} ${CMAKE_BINARY_DIR}/lib/${_py}/site-packages SYMBOLIC)
  set_target_properties(cnnscope PROPERTIES BUILD_WITH_INSTALL_RPATH ON INSTALL_RPATH
    "$ORIGIN/../lib/${_py}/site-packages/torch/lib;$ORIGIN/../lib/${_py}/dist-packages/torch/lib")
endif()
install(TARGETS cnnscope RUNTIME DESTINATION ${_bin})

# The man page and the completion script come from the built binary's own help.
set(_docs ${CMAKE_BINARY_DIR}/docs)
add_custom_command(OUTPUT ${_docs}/cnnscope.bash
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_docs}
  COMMAND $<TARGET_FILE:cnnscope> completion bash > ${_docs}/cnnscope.bash.tmp
  COMMAND ${CMAKE_COMMAND} -E rename ${_docs}/cnnscope.bash.tmp ${_docs}/cnnscope.bash
  DEPENDS cnnscope VERBATIM)
set(_doc_files ${_docs}/cnnscope.bash)
install(FILES ${_docs}/cnnscope.bash DESTINATION ${_share}/bash-completion/completions
        RENAME cnnscope)
find_program(HELP2MAN help2man)
if(HELP2MAN)
  add_custom_command(OUTPUT ${_docs}/cnnscope.1.gz
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/make-man.sh $<TARGET_FILE:cnnscope> ${_docs}/cnnscope.1.gz
    DEPENDS cnnscope ${CMAKE_SOURCE_DIR}/scripts/make-man.sh VERBATIM)
  list(APPEND _doc_files ${_docs}/cnnscope.1.gz)
  install(FILES ${_docs}/cnnscope.1.gz DESTINATION ${_share}/man/man1)
else()
  message(STATUS "help2man not found: no man page (apt install help2man)")
endif()
add_custom_target(cnnscope_docs ALL DEPENDS ${_doc_files})

option(CNNSCOPE_BUNDLE_FONTS "Install DejaVu Sans into share/cnnscope/fonts (a wheel always does)" OFF)
if(SKBUILD OR CNNSCOPE_BUNDLE_FONTS)
  set(_dejavu /usr/share/fonts/truetype/dejavu)
  foreach(f ${_dejavu}/DejaVuSans.ttf ${_dejavu}/DejaVuSans-Bold.ttf
            /usr/share/doc/fonts-dejavu-core/copyright)
    if(NOT EXISTS ${f})
      message(FATAL_ERROR "CNNSCOPE_BUNDLE_FONTS: no ${f} (apt install fonts-dejavu-core)")
    endif()
  endforeach()
  install(FILES ${_dejavu}/DejaVuSans.ttf ${_dejavu}/DejaVuSans-Bold.ttf
          DESTINATION ${_share}/cnnscope/fonts)
  install(FILES /usr/share/doc/fonts-dejavu-core/copyright DESTINATION ${_share}/cnnscope/fonts
          RENAME LICENSE)
  # Only a build that installs them looks for them (render/fonts.h).
  set_source_files_properties(${CMAKE_SOURCE_DIR}/src/render/fonts.cpp PROPERTIES
                              COMPILE_DEFINITIONS CNNSCOPE_BUNDLED_FONTS)
endif()
