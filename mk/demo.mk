# `make demo`: synthesize a two-channel call with espeak-ng and analyze it (issue #2).
DEMO_WAV := $(OUT)/demo_call.wav

demo: $(STAMP)
	@mkdir -p $(OUT)
	$(PY) scripts/demo_call.py $(DEMO_WAV)
	$(VENV)/bin/poise analyze $(DEMO_WAV) --json $(OUT)/demo.json \
		--frames $(OUT)/demo_frames.csv --plot $(OUT)/demo.png
	@echo "demo: wrote $(OUT)/demo.json, $(OUT)/demo_frames.csv and $(OUT)/demo.png"
