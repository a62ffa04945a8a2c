# cnnscope: `make demo` and `make test` do all set-up on a fresh Debian machine.
# LibTorch: TORCH=wheel, the one inside the pip torch wheel of the oracle venv (the default: see
# docs/building.md, "Two LibTorch builds"), or TORCH=debian, Debian's libtorch-dev (the fallback). The
# default builds into build/, the other into build-$(TORCH)/.
TORCH ?= wheel
DEFAULT_TORCH = wheel
ifeq ($(TORCH),$(DEFAULT_TORCH))
BUILD ?= build
else
BUILD ?= build-$(TORCH)
endif
ORACLE_VENV ?= $(CURDIR)/build/oracle-venv
export ORACLE_VENV
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
ifeq ($(TORCH),wheel)
TORCH_FLAGS = -DCNNSCOPE_TORCH_WHEEL=$$($(ORACLE_VENV)/bin/python -c \
  'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("torch").origin))')
else ifeq ($(TORCH),debian)
TORCH_FLAGS = -DCNNSCOPE_TORCH_WHEEL=
else
$(error TORCH must be wheel or debian, got '$(TORCH)')
endif
export CCACHE_SLOPPINESS = pch_defines,time_macros,include_file_mtime,include_file_ctime

.PHONY: all deps build test demo bench format fuzz clean

all: build

deps:
	@scripts/install-deps.sh --check 2>/dev/null || scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DCNNSCOPE_PYTHON=$(ORACLE_VENV)/bin/python $(TORCH_FLAGS) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The demo needs only the CLI, not the test binaries.
demo: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target cnnscope
	scripts/demo.sh $(BUILD)

bench: build
	PYTHON=$(ORACLE_VENV)/bin/python bench/run.sh $(BUILD)

format:
	find src tests bench fuzz -name '*.cpp' -o -name '*.h' 2>/dev/null | xargs clang-format -i

fuzz: deps
	scripts/fuzz.sh

clean:
	rm -rf $(BUILD)
