# cnnscope: `make demo` and `make test` do all set-up on a fresh Debian machine.
# `make demo` installs only what building and running cnnscope needs (scripts/install-deps.sh
# --runtime: Debian packages and build/torch-venv, the pinned torch wheel's LibTorch without its
# CUDA extras); `make test` adds the tests' tools and the test oracle (build/oracle-venv).
# LibTorch: TORCH=wheel, the one inside the pip torch wheel of build/torch-venv (the default: see
# docs/building.md), or TORCH=debian, Debian's libtorch-dev (the fallback; `make deb` uses it).
# The default builds into build/, the other into build-$(TORCH)/.
# Packages: `make wheel` (dist/cnnscope-*.whl), `make deb` (dist/cnnscope_*.deb),
# `make install PREFIX=DIR` (bin/, share/ under DIR; see docs/install.md).
TORCH ?= wheel
DEFAULT_TORCH = wheel
ifeq ($(TORCH),$(DEFAULT_TORCH))
BUILD ?= build
else
BUILD ?= build-$(TORCH)
endif
TORCH_VENV ?= $(CURDIR)/build/torch-venv
ORACLE_VENV ?= $(CURDIR)/build/oracle-venv
export TORCH_VENV ORACLE_VENV
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
PREFIX ?= /usr/local
ifeq ($(TORCH),wheel)
# (a broken venv gives a path CMake refuses, never an empty one: that would mean Debian's LibTorch)
TORCH_FLAGS = -DCNNSCOPE_TORCH_WHEEL=$$($(TORCH_VENV)/bin/python -c \
  'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("torch").origin))' \
  || echo "$(TORCH_VENV):no-torch")
CLI_DEPS = deps-runtime
else ifeq ($(TORCH),debian)
TORCH_FLAGS = -DCNNSCOPE_TORCH_WHEEL=
CLI_DEPS = deps-debian-torch
else
$(error TORCH must be wheel or debian, got '$(TORCH)')
endif
export CCACHE_SLOPPINESS = pch_defines,time_macros,include_file_mtime,include_file_ctime
CONFIGURE = cmake -S . -G Ninja -DCMAKE_BUILD_TYPE=Release $(TORCH_FLAGS) $(CMAKE_FLAGS)

.PHONY: all deps deps-runtime deps-debian-torch build cli test demo bench install wheel deb \
  check-packages format fuzz clean

all: build

deps:
	@scripts/install-deps.sh --check 2>/dev/null || scripts/install-deps.sh

deps-runtime:
	@scripts/install-deps.sh --runtime --check 2>/dev/null || scripts/install-deps.sh --runtime

deps-debian-torch:
	@scripts/install-deps.sh --debian-torch --check 2>/dev/null || \
	  scripts/install-deps.sh --debian-torch

# Configured once; `make test` turns the tests on in a build that `make demo` configured without.
$(BUILD)/CMakeCache.txt: | $(CLI_DEPS)
	$(CONFIGURE) -B $(BUILD) -DCNNSCOPE_TESTS=OFF

build: deps $(BUILD)/CMakeCache.txt
	cmake -B $(BUILD) -DCNNSCOPE_TESTS=ON -DCNNSCOPE_PYTHON=$(ORACLE_VENV)/bin/python > /dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The CLI alone (what the demo, `make install` and the packages need).
cli: $(CLI_DEPS) $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target cnnscope cnnscope_docs

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: cli
	scripts/demo.sh $(BUILD)

bench: build
	PYTHON=$(ORACLE_VENV)/bin/python bench/run.sh $(BUILD)

# Relocatable: RUNPATH relative to the binary (cmake/Install.cmake). With TORCH=wheel, PREFIX is
# a Python environment whose lib/pythonX.Y/site-packages holds torch 2.15 for the same Python as
# build/torch-venv (a venv): refused before installing when it has none.
install: cli
ifeq ($(TORCH),wheel)
	@py=$$($(TORCH_VENV)/bin/python -c 'import sys; print("python%d.%d" % sys.version_info[:2])'); \
	ls $(PREFIX)/lib/$$py/*-packages/torch/lib/libtorch_cpu.so > /dev/null 2>&1 || { \
	  echo "make install: $(PREFIX) has no lib/$$py/site-packages/torch: the installed cnnscope" \
	    "finds LibTorch there (install into a venv with torch 2.15, or TORCH=debian)" >&2; exit 1; }
endif
	cmake --install $(BUILD) --prefix $(PREFIX) --strip

# The pip wheel (pyproject.toml), built with build/torch-venv's torch and scikit-build-core.
wheel: deps-runtime
	$(TORCH_VENV)/bin/python -m pip install --disable-pip-version-check -q scikit-build-core==1.1.2
	rm -f dist/cnnscope-*.whl
	$(TORCH_VENV)/bin/python -m pip wheel --disable-pip-version-check --no-build-isolation \
	  --no-deps -w dist .

# The Debian package, against Debian's libtorch-dev, in build-deb/ (CLI only, prefix /usr).
deb: deps-debian-torch
	cmake -S . -B build-deb -G Ninja -DCMAKE_BUILD_TYPE=Release -DCNNSCOPE_TORCH_WHEEL= \
	  -DCNNSCOPE_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr $(CMAKE_FLAGS)
	cmake --build build-deb -j $(JOBS)
	rm -f dist/cnnscope_*.deb
	cd build-deb && cpack -G DEB

# Builds the wheel and the .deb, installs each where a user would and runs cnnscope from there
# (scripts/check-packages.sh, with fixtures of `make build`; installs the .deb with apt: run as
# root or with sudo).
check-packages: build wheel deb
	scripts/check-packages.sh

format:
	find src tests bench fuzz -name '*.cpp' -o -name '*.h' 2>/dev/null | xargs clang-format -i

fuzz: deps
	scripts/fuzz.sh

clean:
	rm -rf $(BUILD) build-deb dist
