# The README's two commands: `make demo` and `make test`. Both create or refresh
# the virtualenv as needed, so a fresh clone needs nothing installed by hand.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# the demo ends by serving the review console; `make demo DEMO_ARGS=--no-console` just prints
DEMO_ARGS ?= --console
SRC := genpersona app tests evals bench scripts
# the unit tier: fakes only, no real model, no services, no browser
FAST_MARKERS := not real_model and not slow and not postgres and not browser

.PHONY: install demo test test-fast lint typecheck imports docs docs-check check format bench evals console clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch pinned to the small CPU build before anything can pull the CUDA one
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev,onnx]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/genpersona demo $(DEMO_ARGS)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	env -u GENPERSONA_TEST_PG_URL -u GENPERSONA_TEST_REDIS_URL -u GENPERSONA_TEST_AMQP_URL \
	  $(PY) -m pytest -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check $(SRC)
	$(VENV)/bin/ruff format --check $(SRC)

typecheck: install
	$(VENV)/bin/mypy genpersona

imports: install
	$(VENV)/bin/lint-imports

# every check CI runs before the tests
check: lint typecheck imports docs-check

format: install
	$(VENV)/bin/ruff format $(SRC)
	$(VENV)/bin/ruff check --fix $(SRC)

bench: install
	for f in bench/*.py; do $(PY) $$f || exit 1; done

evals: install
	$(PY) -m evals.run

# regenerate the reference pages (CLI, HTTP API, settings) from the code, then build the site
docs: install
	$(PY) scripts/gen_docs.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# CI: fail when a reference page is stale (instead of regenerating it), then build strictly
docs-check: install
	$(PY) scripts/gen_docs.py --check
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

console: install
	$(VENV)/bin/genpersona console

clean:
	rm -rf .genpersona .pytest_cache site
