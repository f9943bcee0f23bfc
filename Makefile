# `make demo` and `make test` each create or refresh .venv (only when pyproject.toml changed),
# then run. Nothing here needs a network beyond the Python package index.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench venv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q hk
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/hk demo

# The whole check: format, lint, types and the import contracts of DESIGN §5, then the tests.
test: lint
	scripts/system-packages.sh
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m ruff format --check hk tests benchmarks
	$(BIN)/python -m ruff check hk tests benchmarks
	$(BIN)/python -m mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m benchmarks.generate --out bench-archive --scale 1
	$(BIN)/python -m benchmarks.generate --out bench-customers --scale 1 --only worker,customer
	$(BIN)/python -m benchmarks.run --archive bench-archive --customers-only bench-customers

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
