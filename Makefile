# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test test-fast lint bench install install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -e '.[dev]'
	touch $(VENV)/.installed $@

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PIP) install -e '.[bench]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(VENV)/bin/jcollapse demo --out out/demo

# The style and the layers: ruff (rules in pyproject.toml) and import-linter's contracts
# (the layers, and private modules and names kept private). Both run before any test.
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# The whole suite: two workers (pytest-xdist), one file per worker at a time: most of the
# suite's time is XLA compilation, which is single-threaded, so two cores halve it.
test: lint
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=25 tests jcollapse --doctest-modules

# For iteration, under two minutes: unit, validation and property tests, the library's
# doctests; no notebooks, subprocesses, reproductions or long Monte-Carlo checks (markers
# in tests/conftest.py).
test-fast: lint
	$(PY) -m pytest -q -n 2 --dist loadfile -m "not (notebook or reproduction or subprocess or slow)" \
		tests jcollapse --doctest-modules

# Every benchmark (benchmarks/bench.py): out/bench/results.json and results.md, printed too.
# The bench extra adds the per-seed scikit-learn baselines of the learned generators.
bench: $(VENV)/.installed-bench
	$(PY) benchmarks/bench.py --out out/bench

clean:
	rm -rf $(VENV) out .pytest_cache
