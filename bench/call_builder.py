"""Moved to :mod:`edge.simulate.call_builder` (installed); this name stays for branches that
still import it."""

from edge.simulate.call_builder import AGENT_VOICE, CUSTOMER_VOICE, Call  # noqa: F401
