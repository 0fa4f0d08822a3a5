# Two commands do everything: `make run` and `make test`. The rest are steps they use.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RASA_ARGS := --config bot/config.yml --domain bot/domain --data data
export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: setup kb train run shell test validate lint unit stories bench bench-nlu browser clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@PY=$$(scripts/find-python.sh) && echo "Using $$PY" && $$PY -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar off -e '.[test]'
	@touch $@

kb: setup
	$(BIN)/coach kb build

train: kb
	$(BIN)/rasa train $(RASA_ARGS) --out var/models

run: train
	@scripts/run.sh

shell: train
	@$(BIN)/rasa run actions --actions actions --port 5055 >var/actions.log 2>&1 & \
	  pid=$$!; trap "kill $$pid" EXIT; \
	  $(BIN)/rasa shell --model var/models --endpoints bot/endpoints.yml

validate: setup
	$(BIN)/rasa data validate $(RASA_ARGS) --fail-on-warnings

lint: setup       ## ruff (lint) and mypy (types) over the project's own code
	$(BIN)/ruff check knowledge actions bot scripts tests
	$(BIN)/mypy

unit: kb
	$(BIN)/pytest -m "not e2e"

browser:           ## headless Chromium for the web-chat browser tests: Debian packages, installed only when missing and root
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing chromium, chromium-driver and a CJK font (fonts-wqy-microhei) with apt-get for the web-chat browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null) \
	    || echo "Could not install chromium: the browser tests in tests/test_webchat.py will be skipped"; \
	else echo "chromium/chromedriver missing and not root: the browser tests in tests/test_webchat.py will be skipped"; fi

stories: train
	$(BIN)/rasa test core --model var/models --stories tests/stories --fail-on-prediction-errors --out var/results

test: lint validate train browser
	$(BIN)/pytest
	$(MAKE) --no-print-directory stories

bench: kb          ## engine speed, identification and reply-scoring cross-validation, practice simulator
	$(BIN)/python scripts/bench_engine.py
	$(BIN)/python scripts/cv_identify.py --compare
	$(BIN)/python scripts/cv_replies.py
	$(BIN)/python scripts/simulate_practice.py
	$(BIN)/python scripts/bench_load.py

bench-nlu: setup   ## intent F1 per language, 5-fold cross-validation of the Rasa pipeline (slow)
	PYTHONPATH=. $(BIN)/python scripts/bench_nlu.py

clean:
	rm -rf var $(VENV)
