# automorph: `make demo` and `make test` work on a fresh clone (they set up .venv).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: setup demo test lint typecheck layers pytest docs bench wheel clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch==2.13.0 is installed first: the CPU build this machine carries; the
# `torch` extra only asks for a compatible range, and a torch that pip picks
# alone would pull several GB of CUDA packages.
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,docs,torch,ray,zero,dashboard]'
	touch $@

setup: $(STAMP)

demo: setup
	$(PY) examples/demo.py

lint: setup
	$(PY) -m ruff check automorph tests benchmarks tools examples
	$(PY) -m ruff format --check automorph tests benchmarks tools examples

typecheck: setup
	$(PY) -m mypy

layers: setup
	$(PY) tools/check_layers.py

# tests/test_install.py (marker `install`) builds the wheel and installs it in a
# fresh venv from PyPI; leave it out with PYTEST_ARGS='-m "not install"'.
PYTEST_ARGS ?=
pytest: setup
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

test: lint typecheck layers pytest

# The documentation site (mkdocs.yml, docs/, the docstrings) into site/; any
# warning fails the build. `make test` runs the same build in
# tests/test_docs_site.py, which also checks the API pages and runs the pages'
# examples. NO_MKDOCS_2_WARNING silences Material's banner about MkDocs 2.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# Benchmarks against peers (PyGlove, Optuna) come with the `bench` extra.
bench: setup
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) benchmarks/symbolic_ops.py

# The wheel, built out of tree (hatchling writes nothing into the source tree).
wheel: setup
	$(PY) -m pip wheel --no-deps --quiet -w dist .

clean:
	rm -rf $(VENV) dist build site *.egg-info .mypy_cache .ruff_cache .pytest_cache
