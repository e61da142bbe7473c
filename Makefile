# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/default

.PHONY: install run test lint bench clean browser

$(BIN)/agingsim: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q src app.py  # the app's cold start reads bytecode, even where none is written
	$(BIN)/python -c 'import agingsim.ability.fused as f; f.warm()'  # compile the large-run kernel once, into numba's cache
	$(BIN)/python -c 'import agingsim.services.kernels as k; k.warm()'  # the care stage's kernels, likewise
	touch $(BIN)/agingsim

install: $(BIN)/agingsim

## Install everything and run the bundled default scenario.
run: install
	$(BIN)/agingsim run --out $(OUT)

## Debian's chromium and a CJK font for the app's browser test (tests/test_app_e2e.py); idempotent.
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
	  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    chromium fonts-wqy-microhei; }

## Install everything and run the test suite (this is what CI calls).
test: install browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder  # CI has 2 cores: files in order, two at a time

lint: install
	$(BIN)/ruff check src tests benchmarks

## Speed benchmarks (not part of the tests): agingsim against its peers on the same dynamics, then
## behaviour against population only. Installs the peers (the `bench` extra) first.
bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/bench_peers.py
	$(BIN)/python benchmarks/bench_behaviour.py --repeats 3

clean:
	rm -rf $(VENV) out .pytest_cache
