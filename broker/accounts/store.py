"""Accounts and sessions in one SQLite file.

Session tokens are random (``secrets.token_urlsafe``); only their SHA-256 is stored, so a copy of
the database does not let anyone log in. Sessions end on logout, after ``idle_s`` without use, or
``absolute_s`` after login, whichever comes first; changing a password ends the account's sessions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from broker.accounts.passwords import PasswordHashing, check_password_strength
from broker.accounts.roles import Principal, Role
from edge.errors import ConfigError

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
ID_RE = re.compile(r"^[a-z0-9-]{1,64}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    sites TEXT NOT NULL DEFAULT '',
    teams TEXT NOT NULL DEFAULT '',
    agent TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha TEXT PRIMARY KEY,
    name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created REAL NOT NULL,
    last_used REAL NOT NULL
);
"""


class AccountError(ConfigError):
    """A bad account name, role, scope or password (shown as one ``poise: error:`` line)."""


@dataclass(frozen=True)
class User:
    """An account as stored (without its hash)."""

    name: str
    role: Role
    sites: tuple[str, ...]
    teams: tuple[str, ...]
    agent: str | None

    def principal(self) -> Principal:
        return Principal(
            self.name, self.role, frozenset(self.sites), frozenset(self.teams), self.agent
        )


@dataclass(frozen=True)
class Session:
    """A live session: who, and the CSRF token every state-changing request must echo."""

    principal: Principal
    csrf: str


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ids(values: Iterable[str], what: str) -> tuple[str, ...]:
    out = tuple(sorted({v.strip() for v in values if v.strip()}))
    for v in out:
        if not ID_RE.match(v):
            raise AccountError(f"{what} id {v!r} must match [a-z0-9-]{{1,64}}")
    return out


class AccountStore:
    """Users and sessions; thread-safe (one connection behind a lock)."""

    def __init__(
        self,
        path: str | Path,
        clock: Callable[[], float],
        hashing: PasswordHashing | None = None,
        idle_s: float = 1800.0,
        absolute_s: float = 12 * 3600.0,
    ) -> None:
        self._clock = clock
        self._hashing = hashing or PasswordHashing()
        self.idle_s = idle_s
        self.absolute_s = absolute_s
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    # --- users ---------------------------------------------------------------------------------
    def add(
        self,
        name: str,
        role: Role | str,
        password: str,
        sites: Iterable[str] = (),
        teams: Iterable[str] = (),
        agent: str | None = None,
    ) -> User:
        if not NAME_RE.match(name):
            raise AccountError(f"account name {name!r} must match [a-z0-9][a-z0-9._-]{{0,63}}")
        try:
            role = Role(role)
        except ValueError:
            raise AccountError(f"role {role!r} must be one of admin, supervisor, agent") from None
        sites_t, teams_t = _ids(sites, "site"), _ids(teams, "team")
        if role is Role.SUPERVISOR and not (sites_t or teams_t):
            raise AccountError("a supervisor needs --sites and/or --teams")
        if role is Role.AGENT:
            if not agent:
                raise AccountError("an agent account needs --agent ID")
            _ids([agent], "agent")
        elif agent:
            raise AccountError("--agent is only for agent accounts")
        if why := check_password_strength(password):
            raise AccountError(why)
        with self._lock:
            if self._db.execute("SELECT 1 FROM users WHERE name=?", (name,)).fetchone():
                raise AccountError(f"account {name!r} already exists")
            self._db.execute(
                "INSERT INTO users(name, role, hash, sites, teams, agent) VALUES (?,?,?,?,?,?)",
                (
                    name,
                    role.value,
                    self._hashing.hash(password),
                    ",".join(sites_t),
                    ",".join(teams_t),
                    agent,
                ),
            )
        return User(name, role, sites_t, teams_t, agent)

    def get(self, name: str) -> User | None:
        with self._lock:
            row = self._db.execute(
                "SELECT name, role, sites, teams, agent FROM users WHERE name=?", (name,)
            ).fetchone()
        return self._user(row) if row else None

    def list(self) -> list[User]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, role, sites, teams, agent FROM users ORDER BY name"
            ).fetchall()
        return [self._user(r) for r in rows]

    def passwd(self, name: str, password: str) -> None:
        if why := check_password_strength(password):
            raise AccountError(why)
        with self._lock:
            cur = self._db.execute(
                "UPDATE users SET hash=? WHERE name=?", (self._hashing.hash(password), name)
            )
            if cur.rowcount == 0:
                raise AccountError(f"no account {name!r}")
            self._db.execute("DELETE FROM sessions WHERE name=?", (name,))

    def remove(self, name: str) -> None:
        with self._lock:
            cur = self._db.execute("DELETE FROM users WHERE name=?", (name,))
            if cur.rowcount == 0:
                raise AccountError(f"no account {name!r}")

    def check(self, name: str, password: str) -> User | None:
        """The user when ``password`` is right, else None (same argon2 work either way)."""
        with self._lock:
            row = self._db.execute(
                "SELECT name, role, sites, teams, agent, hash FROM users WHERE name=?", (name,)
            ).fetchone()
        if row is None:
            self._hashing.verify(_DUMMY_HASH.get(self._hashing), password)
            return None
        if not self._hashing.verify(row[5], password):
            return None
        if self._hashing.needs_rehash(row[5]):
            with self._lock:
                self._db.execute(
                    "UPDATE users SET hash=? WHERE name=?", (self._hashing.hash(password), name)
                )
        return self._user(row[:5])

    @staticmethod
    def _user(row: tuple[str, str, str, str, str | None]) -> User:
        return User(
            row[0],
            Role(row[1]),
            tuple(s for s in row[2].split(",") if s),
            tuple(t for t in row[3].split(",") if t),
            row[4],
        )

    # --- sessions ------------------------------------------------------------------------------
    def open_session(self, name: str) -> tuple[str, Session]:
        """A new session for ``name``: (cookie token, session)."""
        user = self.get(name)
        if user is None:
            raise AccountError(f"no account {name!r}")
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self._clock()
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions(token_sha, name, csrf, created, last_used) "
                "VALUES (?,?,?,?,?)",
                (_sha(token), name, csrf, now, now),
            )
        return token, Session(user.principal(), csrf)

    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie token (and mark it used), or None if unknown/expired."""
        if not token or len(token) > 200:
            return None
        now, sha = self._clock(), _sha(token)
        with self._lock:
            row = self._db.execute(
                "SELECT s.csrf, s.created, s.last_used, u.name, u.role, u.sites, u.teams, u.agent "
                "FROM sessions s JOIN users u ON u.name = s.name WHERE s.token_sha=?",
                (sha,),
            ).fetchone()
            if row is None:
                return None
            if now - row[1] > self.absolute_s or now - row[2] > self.idle_s:
                self._db.execute("DELETE FROM sessions WHERE token_sha=?", (sha,))
                return None
            self._db.execute("UPDATE sessions SET last_used=? WHERE token_sha=?", (now, sha))
        return Session(self._user(row[3:]).principal(), row[0])

    def close_session(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._db.execute("DELETE FROM sessions WHERE token_sha=?", (_sha(token),))

    def purge_expired(self) -> int:
        now = self._clock()
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM sessions WHERE ? - created > ? OR ? - last_used > ?",
                (now, self.absolute_s, now, self.idle_s),
            )
        return cur.rowcount


class _DummyHashes:
    """One throwaway hash per hashing setup, so unknown names cost as much as wrong passwords."""

    def __init__(self) -> None:
        self._by: dict[int, str] = {}

    def get(self, hashing: PasswordHashing) -> str:
        key = id(hashing)
        if key not in self._by:
            self._by[key] = hashing.hash(secrets.token_urlsafe(16))
        return self._by[key]


_DUMMY_HASH = _DummyHashes()
