"""The MQTT telemetry contract shared by the device, the collector, the dashboard and the fleet.

* :mod:`edge.telemetry.topics`: the typed topic map (``poise/v1/<site>/<device>/<kind>``) and id
  validation; nothing else in the code base spells a topic string.
* :mod:`edge.telemetry.schemas`: the JSON Schema of every payload (also written to
  ``docs/schemas/``) and :func:`~edge.telemetry.schemas.validator` to check one.
* :mod:`edge.telemetry.envelope`: the common envelope (``v``, ``kind``, ``site``, ``device``,
  ``boot``, ``seq``, ``ts``) and the wall-clock timestamp format.
"""
