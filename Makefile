# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/default

.PHONY: install run test lint bench clean

$(BIN)/agingsim: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/agingsim

install: $(BIN)/agingsim

## Install everything and run the bundled default scenario.
run: install
	$(BIN)/agingsim run --out $(OUT)

## Install everything and run the test suite (this is what CI calls).
test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks

## Speed and memory benchmark (not part of the tests).
bench: install
	$(BIN)/python benchmarks/bench_population.py

clean:
	rm -rf $(VENV) out .pytest_cache
