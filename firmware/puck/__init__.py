"""Poise cue puck firmware (MicroPython, RP2040). See docs/puck-protocol.md."""

VERSION = "1.1.0"
PROTOCOL = 1
