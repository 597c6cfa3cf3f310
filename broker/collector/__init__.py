"""The collector: MQTT v5 shared subscription -> validation -> ack-after-commit into the store.

* :mod:`broker.collector.validate` — every payload checked, pure (no I/O).
* :mod:`broker.collector.batch` — the writer core: a batch of received messages -> one commit ->
  the acknowledgements to send, with counters (pure apart from the store passed in).
* :mod:`broker.collector.mqtt` — the paho-mqtt 2.x client (manual acks, persistent session).
* :mod:`broker.collector.service` — wires them with metrics, HTTP and maintenance.
* :mod:`broker.collector.settings` — ``collector.toml``.
"""
