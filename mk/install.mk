# Install for IT (docs/install.md): the wheel, the install bundle, the clean-room wheelhouse and
# the aarch64 wheel-resolution check.
WHEEL_DIR := dist
WHEELHOUSE := .cache/wheelhouse
WHEELHOUSE_STAMP := $(WHEELHOUSE)/.complete
POISE_VERSION = $(shell $(PY) -c "import edge; print(edge.__version__)")

.PHONY: wheel install-bundle install-resolve install-test wheelhouse

wheel: $(STAMP)  ## build dist/poise-<version>-py3-none-any.whl (from tracked files only)
	rm -rf $(WHEEL_DIR)/poise-*.whl
	$(PY) hw/install/build_wheel.py $(WHEEL_DIR)

install-bundle: wheel  ## dist/poise-install-<version>.tar.gz: wheel + hw/ + docs for the Pi
	rm -rf $(WHEEL_DIR)/bundle && mkdir -p $(WHEEL_DIR)/bundle/poise-install-$(POISE_VERSION)/docs
	cp $(WHEEL_DIR)/poise-*.whl $(WHEEL_DIR)/bundle/poise-install-$(POISE_VERSION)/
	cp -r hw $(WHEEL_DIR)/bundle/poise-install-$(POISE_VERSION)/
	cp docs/install.md docs/device.example.toml $(WHEEL_DIR)/bundle/poise-install-$(POISE_VERSION)/docs/
	tar -C $(WHEEL_DIR)/bundle -czf $(WHEEL_DIR)/poise-install-$(POISE_VERSION).tar.gz poise-install-$(POISE_VERSION)

# Wheels of poise[edge]'s requirements for this machine, so the clean-room test installs offline.
$(WHEELHOUSE_STAMP): pyproject.toml | $(STAMP)
	mkdir -p $(WHEELHOUSE)
	$(PY) hw/install/build_wheel.py --requirements > $(WHEELHOUSE)/requirements.txt
	$(PIP) wheel -q --wheel-dir $(WHEELHOUSE) -r $(WHEELHOUSE)/requirements.txt setuptools wheel
	touch $@

wheelhouse: $(WHEELHOUSE_STAMP)
TEST_DEPS += $(WHEELHOUSE_STAMP)

install-resolve: $(STAMP)  ## does poise[edge] resolve to aarch64 wheels on Python 3.11 and 3.13?
	mkdir -p $(OUT)
	$(PY) hw/install/resolve_wheels.py | tee $(OUT)/install-resolve.md

install-test: $(STAMP) $(WHEELHOUSE_STAMP)  ## install script, clean-room wheel install, unit verify
	$(PY) -m pytest tests/install $(PYTEST_ARGS)
