"""Poise broker: the central side (Mosquitto config, collector, storage, dashboard, fleet)."""
