"""argon2id password hashing (argon2-cffi) with rehash-on-login when parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LEN = 10


class PasswordHashing:
    """Hash and check passwords; ``cheap=True`` lowers the work factor for tests only."""

    def __init__(self, cheap: bool = False) -> None:
        self._ph = (
            PasswordHasher(time_cost=1, memory_cost=8, parallelism=1) if cheap else PasswordHasher()
        )

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        try:
            return bool(self._ph.verify(stored, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return bool(self._ph.check_needs_rehash(stored))


def check_password_strength(password: str) -> str | None:
    """Why ``password`` is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LEN:
        return f"password must be at least {MIN_PASSWORD_LEN} characters"
    if password.strip() != password:
        return "password must not start or end with whitespace"
    return None
