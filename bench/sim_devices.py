"""Moved to :mod:`edge.simulate.contract_device`; this name stays for branches that still
import it."""

from edge.simulate.contract_device import MqttDevices, SimDevice, topic_of  # noqa: F401
