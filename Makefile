# Two commands on a fresh machine: `make run` and `make test`. Each does its own set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# pytest-xdist workers, one a core (a file's tests stay on one worker: they share fixtures)
TEST_WORKERS ?= 2
HOST ?= 0.0.0.0
export FLASK_APP := wsgi.py

.PHONY: run test install install-test browser-deps pdf-deps node-deps lint bench clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test browser-deps pdf-deps node-deps

# Debian's Chromium and CJK fonts for the browser tests (never a downloaded browser).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'Noto.*CJK'; then \
	  echo "installing chromium and fonts-noto-cjk"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# Debian's Pango, with which WeasyPrint lays out the archive PDFs, HarfBuzz's subsetter (it
# embeds only the glyphs used; without it WeasyPrint warns on import) and the CJK fonts.
pdf-deps:
	@if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' \
	    || ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so.0' \
	    || ! fc-list 2>/dev/null | grep -qi 'Noto.*CJK'; then \
	  echo "installing pango, harfbuzz-subset and fonts-noto-cjk"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-noto-cjk \
	    >/dev/null; \
	fi

# Debian's Node.js for the phone app's unit tests (node --test tests/js/).
node-deps:
	@if ! command -v node >/dev/null; then \
	  echo "installing nodejs"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null; \
	fi

run: install pdf-deps
	$(BIN)/flask db upgrade
	$(BIN)/flask load-checklists
	$(BIN)/flask load-workflows
	$(BIN)/flask seed-demo --if-empty
	@echo
	@echo "  危房改造现场检查 is running at http://127.0.0.1:$(PORT)/"
	@echo "  inspector app: http://127.0.0.1:$(PORT)/app   review: http://127.0.0.1:$(PORT)/review"
	@echo "  demo logins (role, username, password):"
	@sed 's/^/    /' instance/demo_logins.txt 2>/dev/null || true
	@echo
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

test: install-test
	$(BIN)/ruff check .
	node --test tests/js/
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not multiserver"  # two servers need PostgreSQL: .ci/run runs them

# schemathesis over every operation of the live app's OpenAPI document, as an admin and as an
# inspector (seeded, >= 50 examples per operation, ~90 s per role): 0 server errors, 0 schema
# mismatches; prints the requests sent.
fuzz: install-test
	$(BIN)/python tests/fuzz/run_schemathesis.py

bench: install-test
	$(BIN)/python bench/households.py
	$(BIN)/python bench/timeline.py
	$(BIN)/python bench/rounds.py
	$(BIN)/python bench/monthly_report.py
	$(BIN)/python bench/pwa.py
	$(BIN)/python bench/archive.py
	$(BIN)/python bench/import_memory.py
	@if [ -f bench/ingest.py ]; then $(BIN)/python bench/ingest.py; fi
	$(BIN)/python bench/decode_memory.py
	$(BIN)/python bench/reuse_lookup.py
	@if [ -n "$(BENCH_DATABASE_URL)" ]; then $(BIN)/python bench/reuse_lookup.py --db "$(BENCH_DATABASE_URL)"; \
	else echo "bench/reuse_lookup.py on PostgreSQL: set BENCH_DATABASE_URL=postgresql://..."; fi

clean:
	rm -rf $(VENV) build .pytest_cache
