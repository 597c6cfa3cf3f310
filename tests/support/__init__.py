"""Real components the tests start on free loopback ports (Mosquitto, PostgreSQL, ...)."""
