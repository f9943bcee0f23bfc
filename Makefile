# `make demo` and `make test` each create or refresh .venv (only when pyproject.toml changed),
# then run. Nothing here needs a network beyond the Python package index.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CLIENT := $(VENV)/.client

.PHONY: demo test lint bench venv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q hk
	touch $(STAMP)

# hk's native client (native/hk.c) replaces the `hk` script pip wrote, when a C compiler is
# there: the same commands, without Python's start while `hk watch` runs a command server.
$(CLIENT): $(STAMP) native/hk.c scripts/build-client
	scripts/build-client $(BIN)/python
	touch $(CLIENT)

venv: $(CLIENT)

demo: $(CLIENT)
	$(BIN)/hk demo

test: $(STAMP)
	scripts/system-packages.sh
	$(MAKE) --no-print-directory $(CLIENT)
	$(BIN)/python -m ruff check hk tests benchmarks
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m ruff check hk tests benchmarks
	$(BIN)/python -m ruff format --check hk tests benchmarks
	$(BIN)/python -m mypy

bench: $(CLIENT)
	$(BIN)/python -m benchmarks.generate --out bench-archive --scale 1
	$(BIN)/python -m benchmarks.run --archive bench-archive

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
