"""Conversation dynamics: talk spurts, turns, overlap, interruptions, monologues, dead air."""
