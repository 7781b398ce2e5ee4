# Two commands do all set-up on a fresh machine:
#   make run    install what the app needs (venv at .venv, ffmpeg) and start it on http://127.0.0.1:7860
#   make test   install the app + test tools (chromium for the browser test) and run the tests
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q -c constraints.txt

.PHONY: run test lint tiny-models bench

$(VENV)/.app-installed: requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.app-installed requirements-test.txt
	$(PIP) -r requirements-test.txt
	touch $@

run: $(VENV)/.app-installed
	./scripts/ensure_system_deps.sh
	$(PY) app.py $(ARGS)

test: $(VENV)/.test-installed
	./scripts/ensure_system_deps.sh --with-browser
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

tiny-models: $(VENV)/.app-installed
	$(PY) -m tests.tiny_models --out .tiny-hf
	@echo "now: HF_HOME=.tiny-hf HF_HUB_OFFLINE=1 $(PY) app.py"

bench: $(VENV)/.test-installed
	$(PY) bench/bench_visualize.py
