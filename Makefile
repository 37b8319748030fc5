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

# Every benchmark, then one table of every figure with its goal (bench/all.py, bench/summary.py). BENCH_QUICK=1: all
# of them at small sizes, to check the whole run in a few minutes. BENCH_ARGS: e.g. --db-prefix NAME --port PORT.
bench: install services
	$(PY) bench/all.py $(BENCH_ARGS)

lint: install
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pgdata .pytest_cache .hypothesis
