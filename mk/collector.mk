# Broker and collector (issue #9): a local Mosquitto, the collector, its tests and benchmark.
#   make broker          - poise broker run (development Mosquitto with a password file)
#   make collector-test  - collector tests (real Mosquitto and PostgreSQL, started by the tests)
#   make bench-ingest    - bare subscriber vs durable ingest into SQLite and PostgreSQL
.PHONY: broker collector-test bench-ingest

broker: $(STAMP)
	$(VENV)/bin/poise broker run --dir $(OUT)/broker

collector-test: $(STAMP)
	$(PY) -m pytest tests/collector $(PYTEST_ARGS)

bench-ingest: $(STAMP)
	$(PY) -m bench.ingest
