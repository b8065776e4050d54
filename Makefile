# 乡村治理积分制 — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install db demo translations messages clean bench

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed   ## create the virtual environment and install the app

translations: install          ## compile the message catalogs (.po -> .mo)
	$(BIN)/pybabel compile -d app/translations

messages: install             ## re-extract UI strings and merge them into the catalogs
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location \
	  -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations

db: install translations      ## apply the migrations (SQLite under instance/, or $$DATABASE_URL)
	$(FLASK) db upgrade

demo: db                      ## load the demo village when the database is empty
	$(FLASK) demo load

run: demo                     ## install, migrate, load the demo, serve http://127.0.0.1:5000
	@echo "打开 / open http://$(HOST):$(PORT)"
	$(FLASK) run --host $(HOST) --port $(PORT)

# Tests run in TEST_WORKERS processes (pytest-xdist); on PostgreSQL each worker gets its own
# database next to TEST_DATABASE_URL's (tests/conftest.py).
TEST_WORKERS ?= 2
test: install translations    ## pytest on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL: $$TEST_DATABASE_URL"; \
	  $(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS); \
	fi

# Performance at county scale (issue 10; docs/scale.md). Not part of `make test`: it builds
# two synthetic counties in PostgreSQL (BENCH_DB_URL, without the database name), serves
# each with gunicorn and prints the page/trivial-endpoint ratio table and the growth table.
BENCH_DB_URL ?= postgresql://postgres@127.0.0.1:5432
BENCH_ENTRIES ?= 5000000
bench: install translations   ## county-scale benchmark: ratio tables (takes a while)
	$(BIN)/python bench/generate.py --database-url $(BENCH_DB_URL)/bench_county_small --entries 50000
	$(BIN)/python bench/pages.py --database-url $(BENCH_DB_URL)/bench_county_small --out instance/bench-small.json
	$(BIN)/python bench/generate.py --database-url $(BENCH_DB_URL)/bench_county --entries $(BENCH_ENTRIES)
	$(BIN)/python bench/pages.py --database-url $(BENCH_DB_URL)/bench_county --out instance/bench-large.json
	$(BIN)/python bench/pages.py --compare instance/bench-small.json instance/bench-large.json
	$(BIN)/python bench/roster_import.py

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache
