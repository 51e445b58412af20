# Two entry points: `make serve` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test lint smoke bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "qolaba-mock needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Everything a user can install, the contract tools included.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[contract]"
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[contract,test]"
	@touch $@ $(VENV)/.installed

serve: $(VENV)/.installed
	$(BIN)/qolaba-mock serve --host $(HOST) --port $(PORT)

# deptry twice: the shipped code against the runtime dependencies and the contract extra (a package only the
# test extra declares is misplaced there), then tests, benchmarks and the smoke run against everything declared.
lint: $(VENV)/.installed-test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/mypy smoke/run_smoke.py bench/bench_plugin_overhead.py
	$(BIN)/deptry .
	$(BIN)/deptry tests bench smoke --exclude '\.venv' --ignore DEP002,DEP004 -kf tests -kf _load -kf _bare -kf portrait_booth

# Work stealing: the drift-detection tests are few and long, and would otherwise end up on one worker.
test: lint
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist worksteal

# The package as a user gets it: wheel and sdist built, then installed into empty venvs (smoke/run_smoke.py).
smoke: $(VENV)/.installed-test
	$(BIN)/python smoke/run_smoke.py

bench: $(VENV)/.installed-test
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
