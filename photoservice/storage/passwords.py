"""Password hashes: Argon2id through argon2-cffi.

The hash string records its algorithm and parameters (PHC format), so parameters can be raised later:
:meth:`Passwords.verify` tells when a stored hash was made with older ones, and the catalog rehashes it on
the next successful sign-in. An unknown user costs the same verification as a known one.
"""

from __future__ import annotations

from dataclasses import dataclass

import argon2

__all__ = ["Passwords", "PasswordParams"]


@dataclass(frozen=True)
class PasswordParams:
    """Argon2id cost. The defaults are argon2-cffi's (RFC 9106 low-memory profile: 3 passes, 64 MiB)."""

    time_cost: int = argon2.DEFAULT_TIME_COST
    memory_kib: int = argon2.DEFAULT_MEMORY_COST
    parallelism: int = argon2.DEFAULT_PARALLELISM


class Passwords:
    """Hashes and verifies passwords with one set of parameters."""

    def __init__(self, params: PasswordParams | None = None) -> None:
        p = params or PasswordParams()
        self._hasher = argon2.PasswordHasher(time_cost=p.time_cost, memory_cost=p.memory_kib, parallelism=p.parallelism)
        # Verified when the user does not exist, so that an unknown name takes as long as a wrong password.
        self._dummy = self._hasher.hash("no such user")

    def hash(self, password: str) -> str:
        """A new hash of ``password`` with a random salt."""
        return self._hasher.hash(password)

    def verify(self, password: str, stored: str | None) -> tuple[bool, bool]:
        """(matches, needs_rehash). ``stored=None`` (no such user) does the same work and never matches."""
        try:
            ok = self._hasher.verify(stored if stored is not None else self._dummy, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False, False
        if stored is None:
            return False, False
        return ok, self._hasher.check_needs_rehash(stored)
