"""Mosquitto configurations for Poise: development, production (mTLS) and a site bridge.

The files next to this module (``dev.conf``, ``production.conf``, ``production.acl``,
``site-bridge.conf``) are rendered by :mod:`broker.mosquitto.config` from the telemetry contract
(``python -m broker.mosquitto.config broker/mosquitto``; a test keeps them in sync), so no topic
string is spelled by hand. ``poise broker run`` renders the development one into its directory.
"""
