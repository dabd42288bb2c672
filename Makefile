# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast bench check-config system-deps venv clean

$(STAMP): pyproject.toml setup.py worker/detection/_acscan.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

## The worker on the embedded broker (127.0.0.1:9092 unless KAFKA_BOOTSTRAP_SERVERS points elsewhere).
run: venv
	@scripts/run-dev.sh

## The whole suite: unit, integration on a real broker, Prometheus, kcat, faults.
test: venv system-deps
	$(PY) -m pytest -q -p no:cacheprovider

## Pure-code tests only (no broker): seconds.
test-fast: venv
	$(PY) -m pytest -q -p no:cacheprovider -m "not broker"

## Throughput, latency and detector benchmarks: writes bench/results.json.
bench: venv
	$(PY) -m bench

check-config: venv
	$(VENV)/bin/gbv-worker check-config

## Debian packages the tests use: prometheus (with promtool) and kcat.
system-deps:
	@scripts/ensure-system-deps.sh

clean:
	rm -rf $(VENV) .pytest_cache bench/results.json
