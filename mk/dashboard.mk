# Supervisor dashboard (issue #12): uPlot comes from npm (pinned by broker/dashboard/package-lock.json),
# installed with `npm ci` and copied into the static dir the app serves. No CDN, no JS build step.
DASHBOARD_DIR := broker/dashboard
DASHBOARD_VENDOR := $(DASHBOARD_DIR)/static/vendor/.installed

$(DASHBOARD_VENDOR): $(DASHBOARD_DIR)/package.json $(DASHBOARD_DIR)/package-lock.json
	npm ci --prefix $(DASHBOARD_DIR) --no-audit --no-fund
	mkdir -p $(DASHBOARD_DIR)/static/vendor
	cp $(DASHBOARD_DIR)/node_modules/uplot/dist/uPlot.iife.min.js \
		$(DASHBOARD_DIR)/node_modules/uplot/dist/uPlot.min.css $(DASHBOARD_DIR)/static/vendor/
	cp $(DASHBOARD_DIR)/node_modules/uplot/LICENSE $(DASHBOARD_DIR)/static/vendor/uPlot.LICENSE
	touch $@

TEST_DEPS += $(DASHBOARD_VENDOR)

.PHONY: dashboard-assets dashboard-test bench-dashboard
dashboard-assets: $(DASHBOARD_VENDOR)  ## uPlot into broker/dashboard/static/vendor

dashboard-test: $(STAMP) $(DASHBOARD_VENDOR)  ## dashboard, accounts and browser tests only
	$(PY) -m pytest tests/dashboard $(PYTEST_ARGS)

bench-dashboard: $(STAMP) $(DASHBOARD_VENDOR)  ## 5,000 devices -> collector -> 500-desk floor in Chromium
	$(PY) -m bench.dashboard

.PHONY: dashboard-screenshots
dashboard-screenshots: $(STAMP) $(DASHBOARD_VENDOR)  ## browser tests, copying the screenshots to docs/img
	POISE_SCREENSHOTS_TO_DOCS=1 $(PY) -m pytest tests/dashboard/test_browser.py $(PYTEST_ARGS)
