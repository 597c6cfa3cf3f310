# `make demo` (issue #14): the whole system on this machine - a local Mosquitto, the collector
# serving the dashboard, and a dozen simulated desks running the real device loop in real time
# on generated espeak-ng calls. Prints the dashboard URL and demo logins, shows the desks live;
# Ctrl-C stops everything and removes the demo's temporary directory (docs/demo.md).
# `make analyze-demo` is the single-file analysis `make demo` used to be (issue #2).
DEMO_WAV := $(OUT)/demo_call.wav
DEMO_ARGS ?=

.PHONY: demo analyze-demo demo-test
demo: $(STAMP) $(DASHBOARD_VENDOR)  ## broker + collector + dashboard + 12 desks; Ctrl-C stops all
	$(VENV)/bin/poise demo $(DEMO_ARGS)

analyze-demo: $(STAMP)  ## synthesize one two-channel call with espeak-ng and analyze it
	@mkdir -p $(OUT)
	$(PY) scripts/demo_call.py $(DEMO_WAV)
	$(VENV)/bin/poise analyze $(DEMO_WAV) --json $(OUT)/demo.json \
		--frames $(OUT)/demo_frames.csv --plot $(OUT)/demo.png
	@echo "analyze-demo: wrote $(OUT)/demo.json, $(OUT)/demo_frames.csv and $(OUT)/demo.png"

demo-test: $(STAMP)  ## the demo headless for ~50 s, simulate --metrics-only into the collector
	$(PY) -m pytest tests/demo $(PYTEST_ARGS)
