# Everyday commands. CI calls the same targets (.ci/run -> make test).
# Python: the newest 3.12+ found (Django 6), else python3 (3.11 gets Django 5.2 LTS).
PYTHON ?= $(shell for p in python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) python3; do $$p -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null && echo $$p && break; done)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# Addresses of the reverse proxies whose X-Forwarded-For/-Proto uvicorn believes (comma-separated; uvicorn's own
# default). Set it to a proxy on another host, or every citizen shares the proxy's address and its rate limit.
FORWARDED_ALLOW_IPS ?= 127.0.0.1,::1
export FORWARDED_ALLOW_IPS

.PHONY: run test lint fmt venv bench bench-faq bench-fanout bench-chat bench-live bench-personal bench-personal-api bench-personal-send worker beat serve-prod messages

$(VENV)/.runtime: requirements.txt
	@test -n "$(PYTHON)" || (echo "Python 3.11+ is needed" && exit 1)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.dev

## Serve the whole product on the embedded default (SQLite, no other server) at http://localhost:$(PORT)/
run: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py bootstrap_demo
	$(PY) manage.py serve --port $(PORT)

## The whole test suite (uses PostgreSQL/Redis when DATABASE_URL/REDIS_URL point at them)
test: $(VENV)/.dev lint
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: $(VENV)/.dev
	cd oa_platform && ../$(PY) ../manage.py makemessages -l vi -l en -l zh_Hans --ignore "*/tests/*" && ../$(PY) ../manage.py compilemessages

bench: bench-faq bench-fanout bench-chat bench-live bench-personal bench-personal-api bench-personal-send

bench-faq: $(VENV)/.dev
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py bench_faq

bench-fanout: $(VENV)/.dev
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py bench_fanout

bench-chat: $(VENV)/.dev
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py bench_chat --breakdown

bench-live: $(VENV)/.dev
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py bench_live

bench-personal: $(VENV)/.dev
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py bench_personal --rows $(or $(ROWS),100000)

## N personal notices in-app end to end with 2 workers (db name with bench), ZNS + SMS at their rate limits
bench-personal-send: $(VENV)/.dev
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py bench_personal_send --n $(or $(N),100000)

## The personal notification API (POST and GET) beside the chat API and a trivial view, same server, same run
bench-personal-api: $(VENV)/.dev
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py bench_personal_api

## Production processes (PostgreSQL + Redis in DATABASE_URL / REDIS_URL)
serve-prod: $(VENV)/.runtime
	$(VENV)/bin/uvicorn oa_platform.asgi:application --host 0.0.0.0 --port $(PORT) --workers 2 --no-access-log \
		--proxy-headers --forwarded-allow-ips "$(FORWARDED_ALLOW_IPS)"

worker: $(VENV)/.runtime
	$(VENV)/bin/celery -A oa_platform worker -l info --concurrency 2

beat: $(VENV)/.runtime
	$(VENV)/bin/celery -A oa_platform beat -l info
