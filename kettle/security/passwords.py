"""Password hashing with argon2id through pwdlib, and the recipe around it.

:class:`PasswordHasher` hashes and verifies; its ``a``-prefixed methods do the same in a
worker thread, because one argon2 hash takes tens of milliseconds of CPU and 64 MiB of
memory by design, and would stall every other request if run on the event loop. The
number of hashes running at once is bounded (``max_concurrency``), so a burst of login
attempts queues instead of exhausting memory.

The login recipe (each step matters)::

    user = find_user(form.username)
    ok = await hasher.averify(form.password, user.password_hash if user else None)
    if not ok:
        raise HTTPException(401, "Incorrect username or password")
    if hasher.needs_rehash(user.password_hash):   # stronger parameters since
        save_hash(user, await hasher.ahash(form.password))

Passing ``None`` as the hash verifies against a dummy hash, so an unknown user costs the
same time as a wrong password and the response time does not reveal which usernames
exist.

Example:
    >>> from kettle.security.passwords import PasswordHasher
    >>> hasher = PasswordHasher.for_tests()  # cheap parameters: doctests only
    >>> stored = hasher.hash("correct horse")
    >>> stored.startswith("$argon2id$")
    True
    >>> hasher.verify("correct horse", stored), hasher.verify("wrong", stored)
    (True, False)
    >>> hasher.verify("anything", None)  # unknown user: same cost, always False
    False
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from pwdlib.hashers.argon2 import Argon2Hasher

from kettle.exceptions import ConfigurationError

if TYPE_CHECKING:
    from anyio import CapacityLimiter

__all__ = ["PasswordHasher", "hash_password", "needs_rehash", "verify_password"]

T = TypeVar("T")

#: Passwords past this many characters are refused rather than hashed: argon2 hashes any
#: length, and the bound stops one request from asking for megabytes of work.
DEFAULT_MAX_LENGTH: Final = 1024


class PasswordHasher:
    """argon2id hashing with pwdlib, with verification safe for unknown users.

    Args:
        time_cost, memory_cost (KiB), parallelism: argon2's parameters; the defaults are
            pwdlib's (RFC 9106's second recommended option: 3 passes, 64 MiB, 4 lanes).
            Raising them later is safe: :meth:`needs_rehash` tells you which stored hashes
            to upgrade at the user's next login.
        max_length: longer passwords never verify and cannot be hashed.
        max_concurrency: hashes run at once by the async methods (others wait); by
            default the number of CPUs.

    Example:
        >>> from kettle.security.passwords import PasswordHasher
        >>> strong = PasswordHasher.for_tests()
        >>> old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
        >>> strong.needs_rehash(old)  # other parameters than this hasher's
        True
        >>> ok, upgraded = strong.verify_and_update("pw", old)
        >>> ok, strong.needs_rehash(upgraded)
        (True, False)
    """

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost: int = 65536,
        parallelism: int = 4,
        max_length: int = DEFAULT_MAX_LENGTH,
        max_concurrency: int | None = None,
    ) -> None:
        if time_cost < 1 or memory_cost < 8 * parallelism or parallelism < 1:
            raise ConfigurationError(
                "argon2 needs time_cost >= 1, parallelism >= 1 and memory_cost >= "
                f"8 * parallelism KiB (got {time_cost}, {memory_cost}, {parallelism})"
            )
        if max_length < 8:
            raise ConfigurationError("max_length below 8 refuses ordinary passwords")
        self._hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        self._hash = PasswordHash((self._hasher,))
        self.max_length = max_length
        self.max_concurrency = max_concurrency or os.cpu_count() or 2
        self._dummy: str | None = None
        self._limiter: CapacityLimiter | None = None

    @classmethod
    def for_tests(cls) -> PasswordHasher:
        """Deliberately weak parameters that hash in about a millisecond.

        For test suites and doc examples only: never for real passwords.
        """
        return cls(time_cost=1, memory_cost=1024, parallelism=1)

    def hash(self, password: str) -> str:
        """The argon2id hash of ``password`` (salted; parameters encoded in it)."""
        if len(password) > self.max_length:
            raise ValueError(f"passwords are limited to {self.max_length} characters")
        return self._hash.hash(password)

    def verify(self, password: str, hashed: str | None) -> bool:
        """Whether ``password`` matches ``hashed``.

        ``None`` (no such user) verifies against a dummy hash and returns ``False``, in
        about the time a real check takes. A malformed or foreign hash, or an oversized
        password, is ``False`` too, never an exception.
        """
        if hashed is None:
            self._verify(password, self._dummy_hash())
            return False
        if len(password) > self.max_length:
            # Same work as a real check, so the length is not a timing oracle either.
            self._verify("", self._dummy_hash())
            return False
        return self._verify(password, hashed)

    def verify_and_update(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """``(matches, new_hash)``: ``new_hash`` is set when the stored one is outdated."""
        if not self.verify(password, hashed):
            return False, None
        assert hashed is not None
        return True, self.hash(password) if self.needs_rehash(hashed) else None

    def needs_rehash(self, hashed: str) -> bool:
        """True when ``hashed`` was made with other parameters (or another scheme)."""
        try:
            return bool(self._hasher.check_needs_rehash(hashed))
        except (PwdlibError, ValueError, TypeError):
            return True

    async def ahash(self, password: str) -> str:
        """:meth:`hash` in a worker thread (for ``async def`` handlers)."""
        return await self._run(self.hash, password)

    async def averify(self, password: str, hashed: str | None) -> bool:
        """:meth:`verify` in a worker thread (for ``async def`` handlers)."""
        return await self._run(self.verify, password, hashed)

    async def averify_and_update(
        self, password: str, hashed: str | None
    ) -> tuple[bool, str | None]:
        """:meth:`verify_and_update` in a worker thread."""
        return await self._run(self.verify_and_update, password, hashed)

    def _verify(self, password: str, hashed: str) -> bool:
        try:
            return bool(self._hash.verify(password, hashed))
        except (PwdlibError, ValueError, TypeError):
            return False

    def _dummy_hash(self) -> str:
        # Made on first need rather than at construction: an app that builds a hasher
        # in a script or test should not pay a hash for it.
        if self._dummy is None:
            self._dummy = self._hash.hash(os.urandom(16).hex())
        return self._dummy

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        import anyio.to_thread

        if self._limiter is None:
            # Created on first use: a CapacityLimiter belongs to a running event loop.
            self._limiter = anyio.CapacityLimiter(self.max_concurrency)
        return await anyio.to_thread.run_sync(func, *args, limiter=self._limiter)


_default: PasswordHasher | None = None


def _hasher() -> PasswordHasher:
    global _default
    if _default is None:
        _default = PasswordHasher()
    return _default


def hash_password(password: str) -> str:
    """Hash ``password`` with the default :class:`PasswordHasher` (argon2id).

    Example:
        >>> from kettle.security.passwords import hash_password, verify_password
        >>> stored = hash_password("s3cret")
        >>> verify_password("s3cret", stored), verify_password("guess", stored)
        (True, False)
    """
    return _hasher().hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """Check ``password`` with the default hasher (``None``: unknown user, dummy check)."""
    return _hasher().verify(password, hashed)


def needs_rehash(hashed: str) -> bool:
    """Whether ``hashed`` should be replaced by a hash with the default parameters."""
    return _hasher().needs_rehash(hashed)
