"""The supervisor dashboard: FastAPI app (:func:`create_app`), live floor, desk charts, fleet.

The collector publishes every stored payload to a :class:`TelemetryHub`; the app folds them into
its live floor and pushes changed tiles to browsers over Server-Sent Events.
"""

from broker.dashboard.app import create_app
from broker.dashboard.hub import TelemetryHub, TelemetryPublisher
from broker.dashboard.settings import DashboardSettings

__all__ = ["DashboardSettings", "TelemetryHub", "TelemetryPublisher", "create_app"]
