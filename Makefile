# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test bench install install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(VENV)/bin/jcollapse demo --out out/demo

# Two workers (pytest-xdist), one file per worker at a time: most of the suite's time is
# XLA compilation, which is single-threaded, so two cores halve it.
test: $(VENV)/.installed-dev
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=25 tests jcollapse --doctest-modules

# Every benchmark (benchmarks/bench.py): out/bench/results.json and results.md, printed too.
bench: $(VENV)/.installed
	$(PY) benchmarks/bench.py --out out/bench

clean:
	rm -rf $(VENV) out .pytest_cache
