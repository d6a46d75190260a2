# Wangge — two commands: `make run` (embedded default, no services) and `make test` (PostgreSQL + Redis).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
DEMO_PASSWORD ?= wangge-demo

.PHONY: install run serve test lint typecheck pytest messages bench clean

# pip prints each package as it goes: the first install takes a few minutes, and says so.
$(BIN)/.installed: pyproject.toml
	@echo "==> Creating the virtualenv $(VENV) and installing the dependencies (first time: a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip --progress-bar on
	$(BIN)/pip install -e '.[dev]' --progress-bar on
	@echo "==> Dependencies installed"
	touch $@

install: $(BIN)/.installed

## make run: install, migrate, seed the demo district, then serve it with a Celery worker (+ beat).
run: install
	@mkdir -p var
	@echo "==> Migrating the database (var/)"
	$(BIN)/python manage.py migrate --noinput -v0
	@echo "==> Seeding the demo district (skipped when it is there already)"
	$(BIN)/python manage.py seed_demo --password '$(DEMO_PASSWORD)'
	@echo "==> Collecting static files"
	$(BIN)/python manage.py collectstatic --noinput -v0
	@bash scripts/serve.sh '$(HOST)' '$(PORT)' '$(DEMO_PASSWORD)'

## make test: every check (ruff, mypy, pytest incl. the browser test) on PostgreSQL and Redis.
test: install
	@bash scripts/test.sh

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy .

## make messages: refresh the Chinese catalogue after changing user-facing strings.
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete -i '.venv/*' -i 'var/*' -i 'bench/*' -i 'tests/*'
	$(BIN)/python manage.py compilemessages -l zh_Hans -i .venv -i var

clean:
	rm -rf var $(VENV)
