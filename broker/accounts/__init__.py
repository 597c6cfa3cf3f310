"""Dashboard accounts: argon2 password hashes, sessions, login rate limits and roles.

The store is one SQLite file (``AccountStore``); everything time-dependent takes an injected clock
so tests never sleep.
"""

from broker.accounts.roles import Principal, Role
from broker.accounts.store import AccountError, AccountStore, User

__all__ = ["AccountError", "AccountStore", "Principal", "Role", "User"]
