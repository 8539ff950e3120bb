# The README's two commands: `make demo` and `make test`. Both create or refresh
# the virtualenv as needed, so a fresh clone needs nothing installed by hand.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# the demo ends by serving the review console; `make demo DEMO_ARGS=--no-console` just prints
DEMO_ARGS ?= --console

.PHONY: install demo test lint format bench evals console docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch pinned to the small CPU build before anything can pull the CUDA one
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/genpersona demo $(DEMO_ARGS)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check genpersona app tests evals bench
	$(VENV)/bin/ruff format --check genpersona app tests evals bench

format: install
	$(VENV)/bin/ruff format genpersona app tests evals bench
	$(VENV)/bin/ruff check --fix genpersona app tests evals bench

bench: install
	for f in bench/*.py; do $(PY) $$f || exit 1; done

evals: install
	$(PY) -m evals.run

# regenerate the reference pages from the code, then build the site (fails on any warning)
docs: install
	$(PY) scripts/gen_docs.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

console: install
	$(VENV)/bin/genpersona console

clean:
	rm -rf .genpersona .pytest_cache site
