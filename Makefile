# Two commands for a newcomer: `make run` and `make test`. Nothing else needs installing:
# with DATABASE_URL / REDIS_URL unset, private PostgreSQL and Redis start under ./var.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Development listens on this machine only; HOST=0.0.0.0 make run opens it to the network (docs/security.md).
HOST ?= 127.0.0.1
PYTEST_ARGS ?=

.PHONY: run test test-fast install migrate admin seed stop check lint clean-data

# requirements-dev.txt: the runtime (requirements.txt, as the Dockerfile installs it) and the development tools.
$(BIN)/.installed: requirements.txt requirements-dev.txt constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing dependencies into $(VENV) (first run takes a minute)..."
	@$(BIN)/pip install --quiet --upgrade pip
	@$(BIN)/pip install --quiet --progress-bar off -r requirements-dev.txt -c constraints.txt
	@touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

admin: migrate
	$(BIN)/python manage.py ensure_dev_admin

seed: migrate
	$(BIN)/python manage.py seed --if-empty

# The server (as production serves: granian, no reloader; while editing code, `.venv/bin/python manage.py
# runserver` serves with daphne and reloads on every change), and beside it one background-job worker with
# the scheduler (celery beat) on the same PostgreSQL and Redis; Ctrl-C stops all three.
run: admin
	$(BIN)/python manage.py seed --if-empty
	@$(BIN)/python manage.py demo_logins
	@echo "Serving on http://$(HOST):$(PORT)  (admin /admin/, API docs /api-docs, health /health); jobs: one worker with beat"
	@$(BIN)/celery -A crm_project worker --beat --concurrency 2 --loglevel INFO & jobs=$$!; \
	trap 'kill -TERM $$jobs 2>/dev/null; wait $$jobs 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python -m crm_project.serve --host $(HOST) --port $(PORT)  # the production server: WEB_CONCURRENCY granian workers

# The whole suite (CI runs this), in one process. `make test-fast` leaves out the tiers that start other
# processes, drive a browser or run a drill (core/tests/tiers.py marks them) and the tests marked `slow`, and
# runs on one pytest-xdist worker more than there are cores (a test database, cloned, and a Redis namespace
# per worker; a third of the tier's time is tests waiting on a socket or a job, which the extra worker
# fills: 65 s against 77 s with one per core, on 2 cores): the loop while editing; README "Tests: which to
# run when". TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
# The test processes keep their compiled modules (__pycache__, ignored by git) even where the environment says
# not to (PYTHONDONTWRITEBYTECODE, set in many containers): otherwise every process of every run compiles the
# project and pytest rewrites every test module again, ~3 s of CPU each (5.4 s to collect instead of 2.3 s).
test test-fast: export PYTHONDONTWRITEBYTECODE :=
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not live and not drill and not browser and not slow" $(PYTEST_ARGS)

# Lint, import order, format (ruff) and types (mypy, strict for core and messaging), configured in
# pyproject.toml. `ruff check --fix . && ruff format .` fixes most of ruff's findings. mypy's Django plugin
# loads crm_project.settings.base, which starts and connects to nothing.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

check: lint
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

stop: install
	$(BIN)/python crm_project/embedded.py stop

clean-data: stop
	rm -rf var
