# Fleet provisioning (issue #13): `poise fleet`, device-side enrollment/config/models, their
# tests (real mosquitto with mTLS, real HTTPS enrollment) and the bulk-import bench.
.PHONY: fleet-test bench-fleet
fleet-test: $(STAMP)  ## fleet tests only
	$(PY) -m pytest tests/fleet $(PYTEST_ARGS)

bench-fleet: $(STAMP)  ## import 500 desks into a fresh fleet, timed
	$(PY) -m bench.fleet_import
