# MQTT telemetry (issue #8): the store-and-forward publisher's tests (real mosquitto) and its
# cost on the audio loop.
.PHONY: telemetry-test telemetry-bench
telemetry-test: $(STAMP)  ## telemetry tests only (contract, outbox, delivery under faults)
	$(PY) -m pytest tests/telemetry $(PYTEST_ARGS)

telemetry-bench: $(STAMP)  ## device loop with the publisher on (broker down) vs off
	$(PY) -m bench.device_loop
