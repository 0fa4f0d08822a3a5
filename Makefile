# Two commands do everything: `make run` and `make test`. The rest are steps they use.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RASA_ARGS := --config bot/config.yml --domain bot/domain --data data
export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 2
# No telemetry or crash reports leave the machine (Rasa sends both to its servers by default): README, Security
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: setup kb train run shell test check validate lint unit stories bench bench-nlu browser soak postgres clean redis nginx run-cluster

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

shell: train        # the action server and Rasa read the same secret (knowledge/secret_files.py: var/action_secret)
	@$(BIN)/python -m actions.server --port 5055 >var/actions.log 2>&1 & \
	  pid=$$!; trap "kill $$pid" EXIT; \
	  $(BIN)/python -m bot.start shell --model var/models --endpoints bot/endpoints.yml

validate: setup
	$(BIN)/rasa data validate $(RASA_ARGS) --fail-on-warnings

lint: setup       ## ruff (lint and format check) and mypy (types) over the project's own code
	$(BIN)/ruff check knowledge actions bot scripts tests
	$(BIN)/ruff format --check knowledge actions bot scripts tests
	$(BIN)/mypy

UNIT := not e2e and not slow and not browser and not cluster

unit: kb           ## the tests that start no server, on every core (pytest-xdist)
	$(BIN)/pytest -q -n auto --maxprocesses=4 -m "$(UNIT)"

check: lint unit   ## the developer's loop (README "Two commands"): lint, types and unit tests, no servers; under 90 s

browser:           ## headless Chromium for the web-chat browser tests: Debian packages, installed only when missing and root
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing chromium, chromium-driver and a CJK font (fonts-wqy-microhei) with apt-get for the web-chat browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null) \
	    || echo "Could not install chromium: the browser tests in tests/test_webchat.py will be skipped"; \
	else echo "chromium/chromedriver missing and not root: the browser tests in tests/test_webchat.py will be skipped"; fi

postgres:          ## PostgreSQL for the app/tracker store tests (throwaway servers: scripts/pg_cluster.py): Debian's package, only when missing and root
	@if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing postgresql with apt-get for the PostgreSQL tests in tests/test_privacy.py"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	    || echo "Could not install postgresql: the PostgreSQL tests in tests/test_privacy.py will be skipped"; \
	else echo "postgresql missing and not root: the PostgreSQL tests in tests/test_privacy.py will be skipped"; fi

redis:             ## Redis for the cluster's lock store: Debian's redis-server, installed only when missing and root
	@if command -v redis-server >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing redis-server with apt-get for make run-cluster and tests/test_cluster.py"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
	    || echo "Could not install redis-server: tests/test_cluster.py will be skipped"; \
	else echo "redis-server missing and not root: tests/test_cluster.py will be skipped"; fi

nginx:             ## nginx, the cluster's reverse proxy: Debian's package, installed only when missing and root
	@if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing nginx with apt-get for make run-cluster and tests/test_cluster.py"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null) \
	    || echo "Could not install nginx: tests/test_cluster.py will be skipped"; \
	else echo "nginx missing and not root: tests/test_cluster.py will be skipped"; fi

run-cluster: train redis nginx   ## PostgreSQL + Redis + 2 Rasa + 2 action servers behind nginx, on loopback (README: Production)
	@$(BIN)/python scripts/cluster.py run

stories: train
	$(BIN)/python -m bot.start test core --model var/models --stories tests/stories --fail-on-prediction-errors --out var/results

test: lint validate train browser postgres redis nginx
	$(BIN)/pytest
	$(MAKE) --no-print-directory stories

bench: kb          ## engine speed, identification and reply-scoring cross-validation, practice simulator
	$(BIN)/python scripts/bench_engine.py
	$(BIN)/python scripts/cv_identify.py --compare
	$(BIN)/python scripts/cv_replies.py
	$(BIN)/python scripts/simulate_practice.py
	$(BIN)/python scripts/bench_load.py

soak: train postgres redis nginx  ## load: 50 concurrent conversations x 20 turns on a freshly started stack; zero errors, every record once
	$(BIN)/python scripts/soak.py --fresh --conversations 50 --turns 20
	@echo "Same load through nginx on a fresh cluster (PostgreSQL, Redis, 2 Rasa + 2 action servers):"
	$(BIN)/python scripts/cluster.py soak --conversations 50 --turns 20

bench-nlu: setup   ## intent F1 per language, 5-fold cross-validation of the Rasa pipeline (slow)
	PYTHONPATH=. $(BIN)/python scripts/bench_nlu.py

clean:
	rm -rf var $(VENV)
