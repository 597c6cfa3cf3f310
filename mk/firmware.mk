# Cue-puck firmware: its tests run the firmware on MicroPython's WebAssembly port under node
# (npm package pinned by tests/firmware/package-lock.json, installed with `npm ci`).
FIRMWARE_NODE_DEPS := tests/firmware/node_modules/.installed

$(FIRMWARE_NODE_DEPS): tests/firmware/package.json tests/firmware/package-lock.json | $(STAMP)
	npm ci --prefix tests/firmware --no-audit --no-fund
	touch $@

TEST_DEPS += $(FIRMWARE_NODE_DEPS)

.PHONY: firmware-test
firmware-test: $(STAMP) $(FIRMWARE_NODE_DEPS)  ## firmware tests only (WASM sessions + stub type-check)
	$(PY) -m pytest tests/firmware $(PYTEST_ARGS)
