# Two entry points on a fresh machine: `make demo` and `make test`.
# Both create or refresh the local virtual environment themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ringfence demo

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Full-scale London day: several minutes and about 8 GB; figures land in bench/out/*.json.
# The audit benchmark verifies a 10-million-entry log (about 4.5 GB more, ~10 minutes).
bench: $(STAMP)
	$(BIN)/python bench/bench_foundation.py --scale full
	$(BIN)/python bench/bench_charging.py
	$(BIN)/python bench/bench_misread_safety.py
	$(BIN)/python bench/bench_audit.py
	$(BIN)/python bench/bench_hotlist.py --entries 10000
	$(BIN)/python bench/bench_hotlist.py --entries 100000 --out bench/out/hotlist-100k.json

clean:
	rm -rf $(VENV) ringfence-data .pytest_cache .mypy_cache .ruff_cache
