# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test bench lint services worker clean browser

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
		echo "Broker configured: starting a Celery worker and beat (logs in celery-*.log)"; \
		$(VENV)/bin/celery -A config worker --loglevel=INFO > celery-worker.log 2>&1 & \
		$(VENV)/bin/celery -A config beat --loglevel=INFO > celery-beat.log 2>&1 & \
	else echo "No CELERY_BROKER_URL: background jobs run in-process."; fi
	@echo "Admin: http://$(HOST):$(PORT)/admin/  API docs: http://$(HOST):$(PORT)/api/docs/"
	$(PY) manage.py runserver $(HOST):$(PORT)

services: install
	@$(PY) scripts/check_services.py

# The browser tests drive Debian's Chromium (Playwright's own browser downloads are not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "Installing Chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install services browser
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install services
	$(PY) bench/run.py; status=$$?; $(PY) bench/jobs.py && exit $$status

lint: install
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .hypothesis
