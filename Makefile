# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-dev clients clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# PYTHONWARNINGS=ignore: setuptools' editable-install notice is printed on every run otherwise
install: $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e '.[dev]'

# gunicorn.conf.py says why (gthread, keep-alive, no access log); loopback unless HOST=0.0.0.0.
run: install
	@$(BIN)/arxiv-digest check
	$(BIN)/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

test: install-dev system-clients clients
	$(BIN)/python -m pytest -q

# Debian's newsboat and Chromium and Node.js for tests/test_clients.py, installed when missing
# (apt-get as root or with sudo); without them those tests fail and name what is missing.
.PHONY: system-clients
system-clients:
	@bash scripts/install-test-clients.sh

# npm readers and playwright-core for tests/test_clients.py, at the versions in the lock file.
# Without npm the Node clients' tests fail and say so; the rest of the suite still runs.
clients: tests/clients/node_modules/.package-lock.json

tests/clients/node_modules/.package-lock.json: tests/clients/package.json tests/clients/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: tests/test_clients.py will fail for the Node clients (install Node.js 20 and npm)"; fi

# Benchmarks (not part of `make test`): results in bench/results/*.json, summary in BENCHMARKS.md.
.PHONY: bench
bench: install-dev
	@command -v wrk >/dev/null && command -v nginx >/dev/null || { \
		SUDO=$$(command -v sudo || true); $$SUDO apt-get update && $$SUDO apt-get install -y wrk nginx-light; }
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.refresh
	$(BIN)/python -m bench.store
	$(BIN)/python -m bench.inproc
	$(BIN)/python -m bench.serve
	$(BIN)/python -m bench.providers
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.report

clean:
	rm -rf $(VENV) var *.egg-info tests/clients/node_modules
