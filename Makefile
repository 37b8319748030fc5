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

# Everything on this machine, started and stopped together (scripts/run.py): PostgreSQL (DATABASE_URL, or the
# project's embedded cluster in .pgdata/), migrate, the demo, a Celery worker and beat, the web server.
run: install
	$(PY) scripts/run.py --host $(HOST) --port $(PORT)

services: install
	@$(PY) scripts/check_services.py

# The browser tests drive Debian's Chromium (Playwright's own browser downloads are not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "Installing Chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install services browser
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install services
	$(PY) bench/run.py; status=$$?; $(PY) bench/jobs.py && $(PY) bench/insight.py && $(PY) bench/pages.py && $(PY) bench/transfer.py && $(PY) bench/campaign_dates.py && $(PY) bench/events.py && $(PY) bench/batch.py && exit $$status

lint: install
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pgdata .pytest_cache .hypothesis
