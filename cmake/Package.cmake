# The Debian package (`make deb`): CPack's DEB generator over the install rules of
# cmake/Install.cmake, prefix /usr, built against Debian's libtorch-dev. Depends are computed by
# dpkg-shlibdeps from the libraries the binary links (libtorch1.13, libcairo2, libpng16-16, ...),
# plus fonts-dejavu-core for the figures' text. Writes dist/cnnscope_VERSION_ARCH.deb.
# Leaves out: a source package, debian/changelog, lintian cleanliness (no copyright file yet).
# Spec: CMake's CPack DEB generator (CPACK_DEBIAN_*), deb-control(5).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cnnscope)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "cnnscope developers <cnnscope@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "look inside trained convolutional networks (PyTorch checkpoints, no Python)")
# CPack indents the lines after the first itself (deb-control(5)'s extended description).
set(CPACK_PACKAGE_DESCRIPTION
    "cnnscope reads PyTorch checkpoints, TorchScript, torch.export and ONNX files safely and shows
feature maps, kernels, weight statistics, training series and explanations (Grad-CAM, IG, ...)
as figures, JSON and a self-contained HTML report, with numbers equal to PyTorch's.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fonts-dejavu-core")
# Debian's LibTorch runs its matrix products on the system BLAS: OpenBLAS is many times faster than
# the reference BLAS (docs/DESIGN.md, section 5).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-pthread")
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_SOURCE_DIR}/dist)
set(CPACK_STRIP_FILES ON)
include(CPack)
