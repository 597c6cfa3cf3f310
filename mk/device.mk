# Device loop (issue #4): a terminal-LED demo of `poise edge run`, its tests and benchmarks.
DEVICE_DEMO_WAV := $(OUT)/device_demo.wav

.PHONY: edge-demo device-test device-bench
edge-demo: $(STAMP)  ## scripted call through `poise edge run` with terminal cues
	@mkdir -p $(OUT)
	$(PY) -m bench.device_demo $(DEVICE_DEMO_WAV)
	$(VENV)/bin/poise -v edge run --source wav:$(DEVICE_DEMO_WAV) --cue terminal \
		--events $(OUT)/device_events.jsonl \
		--set 'baseline.state_file="$(OUT)/device_baseline.json"' \
		--set baseline.calibration_speech_s=120
	@echo "edge-demo: events in $(OUT)/device_events.jsonl"

device-test: $(STAMP)  ## device-loop tests only
	$(PY) -m pytest tests/device $(PYTEST_ARGS)

device-bench: $(STAMP)  ## block time / RSS and scripted-call detector scenarios
	$(PY) -m bench.device_loop
	$(PY) -m bench.scenarios
