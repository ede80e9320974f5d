# Two commands:  `make run`  sets everything up and runs the default matrix on
# local Wine;  `make test`  runs the harness's own test suite.  Both install what
# is missing (Debian packages with apt-get, Python packages into .venv).

VENV      ?= .venv
# The interpreter the venv is made from: the first python3 on PATH (3.11 or
# later).  Where that is a per-user one (pyenv), the venv works for that user
# only; `make run PYTHON=/usr/bin/python3` makes it from Debian's.
PYTHON    ?= python3
PY        := $(VENV)/bin/python
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RUN_DEBS  := wine wine64 gcc-mingw-w64-x86-64 iproute2 make python3-venv
TEST_DEBS := chromium ruby
ARGS      ?=
# The harness's own tests, the examples in its docstrings, and the stateful
# isolation machine on the live engines.
TESTS     ?= tests harness cases/test_isolation_state.py

.PHONY: run test setup guest lint bench clean debs-run debs-test

run: setup guest
	$(VENV)/bin/harness run $(ARGS)

test: setup debs-test guest
	$(PY) -m pytest --doctest-modules $(TESTS) $(ARGS)

setup: debs-run $(VENV)/.installed

guest:
	$(MAKE) -s -C guest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: setup guest
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

# Debian packages: install only what is missing (apt-get update once, if needed);
# for the tests also the npm package allure, into the harness cache.
debs-run:
	@./scripts/need-debs $(RUN_DEBS)

debs-test:
	@./scripts/need-debs $(TEST_DEBS)
	@./scripts/need-npm-allure >/dev/null || echo "no npm allure: its test will say why"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[windows,dev]'
	touch $@

clean:
	rm -rf $(VENV) guest/build
