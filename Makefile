# Beacon's front door. `make` lists the targets.
# The two commands a newcomer needs: `make run` and `make test`; both set up
# everything they need first (both virtual environments, the demo workspace,
# the Rasa model), and are quick when nothing changed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

APP_VENV := .venv
BOT_VENV := .venv-bot
APP_STAMP := $(APP_VENV)/.installed
BOT_STAMP := $(BOT_VENV)/.installed
BEACON := $(APP_VENV)/bin/beacon
PYTEST_ARGS ?=

.PHONY: help venv browser demo train run chat test lint unit e2e conversations bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(APP_STAMP): requirements/app.lock pyproject.toml
	@py=$$(scripts/find-python.sh 3.11) && { [ -x $(APP_VENV)/bin/python ] || $$py -m venv $(APP_VENV); }
	$(APP_VENV)/bin/pip install --quiet --upgrade pip wheel
	$(APP_VENV)/bin/pip install --quiet -r requirements/app.lock
	$(APP_VENV)/bin/pip install --quiet --no-deps -e .
	@touch $@

$(BOT_STAMP): requirements/bot.lock
	@py=$$(scripts/find-python.sh 3.10) && { [ -x $(BOT_VENV)/bin/python ] || $$py -m venv $(BOT_VENV); }
	$(BOT_VENV)/bin/pip install --quiet --upgrade pip wheel
	$(BOT_VENV)/bin/pip install --quiet -r requirements/bot.lock
	@touch $@

venv: $(APP_STAMP) $(BOT_STAMP) ## Create/update both virtual environments (.venv: analytics 3.11, .venv-bot: Rasa 3.10)

browser: ## Debian's Chromium for the widget's browser test (the test skips, saying why, without it)
	@command -v chromium >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; \
	else echo "note: no chromium and no root; the browser test will be skipped (apt-get install chromium)"; fi

demo: $(APP_STAMP) ## Build the demo workspace (idempotent)
	$(BEACON) demo

train: venv ## Train the Rasa model if its data or config changed
	$(BEACON) bot train

run: venv demo train ## Start the bot, the action server (and widget); Ctrl-C stops all
	$(BEACON) serve

chat: $(APP_STAMP) ## Chat with the running bot in the terminal
	$(BEACON) chat

lint: $(APP_STAMP) ## ruff (lint and format), mypy
	$(APP_VENV)/bin/ruff check .
	$(APP_VENV)/bin/ruff format --check .
	$(APP_VENV)/bin/mypy

conversations: train ## Rasa conversation tests (bot/tests)
	$(BEACON) bot test

test: venv browser lint ## Everything: lint, rasa data validate, the pytest suite (end-to-end included), conversation tests
	$(BEACON) bot validate
	$(BEACON) bot train
	$(APP_VENV)/bin/pytest $(PYTEST_ARGS)
	$(BEACON) bot test

unit: $(APP_STAMP) ## The pytest suite without the end-to-end tests
	$(APP_VENV)/bin/pytest -m "not e2e and not slow" $(PYTEST_ARGS)

BENCHMARKS ?= turn_latency experiments_scale uplift knowledge_quality knowledge_posts influencers sentiment engagement widget_channels vision

bench: venv train ## Run the benchmarks (BENCHMARKS="a b" for some); results: docs/benchmarks.md
	@for b in $(BENCHMARKS); do echo "== benchmarks.$$b"; $(APP_VENV)/bin/python -m benchmarks.$$b || exit 1; done

clean: ## Remove runtime state (workspace, trained models, logs); keeps the venvs
	rm -rf var .rasa
