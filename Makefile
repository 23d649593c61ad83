# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
export PORT

.PHONY: run test lint bench install clean e2e-deps screenshots

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"' || \
	  { echo "Python 3.11 or newer is required (set PYTHON=python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a pyproject.toml changed: a second `make run` starts at once. The host-app client
# package (clients/python, docs/host-app.md) is installed too, editable, so its tests run in `make test`.
$(STAMP): pyproject.toml clients/python/pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]" -e ./clients/python
	@touch $(STAMP)

install: $(STAMP)

# honcho hands each Procfile process its own PORT (web $(PORT), worker +100, beat +200): every
# process must build e-mail links from the web's address, not from its own PORT.
run: export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
run: $(STAMP)
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_hostapp  # the demo host app of docs/examples/stores.toml (idempotent)
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py compile_translations  # the .mo files are build output (GNU msgfmt, or polib)
	@echo ""
	@echo "  Portal:        http://127.0.0.1:$(PORT)/   (links in e-mails: $(PORTAL_BASE_URL))"
	@echo "  Admin:         http://127.0.0.1:$(PORT)/admin/   (create a staff user: $(PY) manage.py createsuperuser)"
	@echo "  Health:        http://127.0.0.1:$(PORT)/healthz"
	@echo "  API docs:      http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  E-mails land in var/mail/ (set EMAIL_URL for SMTP). Ctrl-C stops web, worker and beat."
	@echo ""
	@# honcho 2.0 SIGKILLs whatever still runs 5 s after Ctrl-C and has no option for it: give the
	@# worker 30 s to finish its task and stop gracefully (a warm shutdown takes about 6 s).
	$(PY) -c 'import sys, honcho.command, honcho.manager; honcho.manager.KILL_WAIT = 30; sys.exit(honcho.command.main())' \
	  start -f Procfile -p $(PORT)

# Test tools from npm (Azurite for the Blob tests): installed again when package.json is newer;
# without npm the Azure Blob tests are skipped (or fail under PORTAL_REQUIRE_SERVICES=1).
NPM_STAMP := node_modules/.package-lock.json
$(NPM_STAMP): package.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --no-audit --no-fund --loglevel=error && touch $(NPM_STAMP); \
	else echo "npm not found: Azure Blob Storage tests need Azurite (npm install)"; fi

# The suite runs in parallel (pytest-xdist, one worker per core; PYTEST_WORKERS=0 runs it in one
# process): browser, fuzz and subprocess tests overlap with the rest instead of running after them.
PYTEST_WORKERS ?= auto
test: $(STAMP) $(NPM_STAMP)
	$(PY) manage.py compile_translations  # the .mo files are build output (GNU msgfmt, or polib)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The same checks run before each commit from .pre-commit-config.yaml (local hooks on this .venv).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy portal requests_app abuse_app  # strict for all production code: [tool.mypy] in pyproject.toml
	$(VENV)/bin/mypy --strict clients/python/src  # the host-app client package is strict as a whole
	$(VENV)/bin/lint-imports --no-logo  # the layering contracts of docs/architecture.md (pyproject.toml)
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run

# Needs PostgreSQL and redis-server (says so otherwise). BENCH_ARGS=--quick for a short run,
# or name benchmarks: BENCH_ARGS="bench_e2e". Run it on an otherwise idle machine.
bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

# The journeys of issue 19 (access, deletion with the officer's approval, consent, report and appeal,
# child-safety lane) walked on `make run`'s stack in chromium, photographed at 1280x900 and 390x844
# into docs/screenshots/<journey>-<step>-<desktop|phone>.png (tests/e2e/screenshots.py).
screenshots: $(STAMP)
	$(PY) -m tests.e2e.screenshots

clean:
	rm -rf $(VENV) var
