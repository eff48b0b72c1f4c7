# cnnlab: the two commands a newcomer needs are `make course` and `make test`.
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
# nbgrader shells out to alembic and jupyter: the venv's bin/ must be on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1
PYTEST_ARGS ?=

.PHONY: help venv test test-fast course release demo book bench clean lab

help:
	@echo "make course   - set up .venv, build the release, the book, grade a demo class"
	@echo "make test     - set up .venv and run the whole test suite"
	@echo "make book     - build the web book into build/book/html"
	@echo "make bench    - print benchmark ratios (bench/)"
	@echo "make lab      - (students) JupyterLab on exercises/, this machine only; prints the URL"

venv: $(VENV)/.installed

# The stamp is rebuilt whenever the pins or the package metadata change.
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	# Optional speed-up: jsonschema's format extras cost ~2 s per Jupyter process.
	-$(PY) -m pip uninstall -q -y rfc3987-syntax
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: venv
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

release: venv
	$(PY) -m cnnlab course release

# The main job on built-in data: worked examples, release, book, demo class.
course: venv
	$(PY) -m cnnlab examples
	$(PY) -m cnnlab course build --check
	$(PY) bench/conv.py --quick
	$(PY) -m cnnlab course release
	$(PY) -m cnnlab book
	$(PY) -m cnnlab course demo

# Students: JupyterLab on exercises/ with the course kernel, 127.0.0.1 only.
lab: venv
	$(PY) -m cnnlab course lab

book: venv
	$(PY) -m cnnlab book

bench: venv
	$(PY) bench/conv.py
	$(PY) bench/grading.py
	$(PY) bench/autograde.py
	$(PY) bench/train_mnist1d.py

clean:
	rm -rf build _build submitted autograded feedback gradebook.db grades.csv demo_class
