# Dossier: the two commands are `make run` and `make test`; everything else supports them.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test check test-postgresql setup components lint typecheck format check-python clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Dossier needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'

$(VENV)/bin/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

## make setup: install, migrate, load vocabulary and demo content, ensure an editor account.
setup: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_vocabulary
	$(PY) manage.py load_demo
	$(PY) manage.py ensure_editor

## make run: a fresh machine to a running catalogue on http://127.0.0.1:8000 (SQLite), with
## the background-job worker (manage.py db_worker) beside it.
run: setup
	$(PY) manage.py db_worker --no-reload & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

## make components: Debian packages the tests drive for real (Chromium, TeX, biber, pandoc).
components:
	bash scripts/install-components.sh

## make test: components, dev requirements, lint, types, Django checks, every test on SQLite
## and again on a throwaway PostgreSQL cluster (scripts/pg-cluster.sh starts and removes it).
test: components $(VENV)/.installed-dev lint typecheck
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py check
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	env -u DATABASE_URL $(PY) -m pytest -m "not postgresql"
	$(MAKE) --no-print-directory test-postgresql

## make check: the inner loop, no apt and no PostgreSQL: lint, types, Django checks and the
## SQLite tests but the browser ones; tests whose tools (TeX, pandoc) are missing skip.
check: $(VENV)/.installed-dev lint typecheck
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py check
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	env -u DATABASE_URL -u CI $(PY) -m pytest -m "not postgresql and not browser"

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

## make typecheck: mypy (pyproject.toml) held to mypy-baseline.txt, which only shrinks.
typecheck: $(VENV)/.installed-dev
	$(PY) scripts/mypy-baseline.py

## make test-postgresql: every test but the SQLite-dialect ones against a throwaway
## PostgreSQL cluster (the database search engine uses its PostgreSQL dialect there).
test-postgresql: $(VENV)/.installed-dev
	bash scripts/pg-cluster.sh run -- $(PY) -m pytest -m "not sqlite"

format: $(VENV)/.installed-dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache staticfiles
