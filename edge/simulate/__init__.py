"""Simulated desks: generated calls, the real device loop per desk, metrics-only replay."""
