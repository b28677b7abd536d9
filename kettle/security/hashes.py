"""Password hashes in the ``method$salt$hash`` format Werkzeug writes, with hashlib.

An app moved from Flask keeps its user table: :func:`check_password_hash` verifies the
``scrypt:N:r:p$...`` and ``pbkdf2:name:iterations$...`` hashes Werkzeug's
``generate_password_hash`` stored, and :func:`generate_password_hash` writes new ones in
the same format (scrypt by default), so the table stays readable by both. A stored argon2
hash (``$argon2id$...``, kettle's :mod:`~kettle.security.passwords`) verifies too.

Parameters in a stored hash are bounded before any work is done, so a forged hash cannot
ask for gigabytes of memory or billions of iterations: an out-of-bounds hash simply does
not verify.

Example:
    >>> from kettle.security.hashes import check_password_hash, generate_password_hash
    >>> stored = generate_password_hash("correct horse")
    >>> stored.startswith("scrypt:32768:8:1$")
    True
    >>> check_password_hash(stored, "correct horse"), check_password_hash(stored, "wrong")
    (True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from typing import Final

__all__ = ["check_password_hash", "gen_salt", "generate_password_hash"]

_SALT_CHARS: Final = string.ascii_letters + string.digits
#: Werkzeug's defaults, so new hashes cost what its users' hashes cost.
DEFAULT_PBKDF2_ITERATIONS: Final = 1_000_000
DEFAULT_SCRYPT: Final = (2**15, 8, 1)
#: Above these a stored hash is refused unverified (memory: 128 * n * r * p bytes).
MAX_SCRYPT_MEMORY: Final = 256 * 1024 * 1024
MAX_PBKDF2_ITERATIONS: Final = 10_000_000


def gen_salt(length: int) -> str:
    """A random salt of ``length`` letters and digits (from the ``secrets`` module)."""
    if length <= 0:
        raise ValueError("salt length must be at least 1")
    return "".join(secrets.choice(_SALT_CHARS) for _ in range(length))


def _hash(method: str, salt: str, password: str) -> tuple[str, str] | None:
    """``(hex digest, method as written)``, or ``None`` for a method kettle will not run."""
    name, *args = method.split(":")
    secret = password.encode()
    try:
        if name == "scrypt":
            n, r, p = (int(a) for a in args) if args else DEFAULT_SCRYPT
            memory = 128 * n * r * p
            if n < 2 or n & (n - 1) or r < 1 or p < 1 or memory > MAX_SCRYPT_MEMORY:
                return None
            digest = hashlib.scrypt(
                secret, salt=salt.encode(), n=n, r=r, p=p, maxmem=memory + 1024 * 1024, dklen=64
            )
            return digest.hex(), f"scrypt:{n}:{r}:{p}"
        if name == "pbkdf2":
            hash_name = args[0] if args else "sha256"
            iterations = int(args[1]) if len(args) > 1 else DEFAULT_PBKDF2_ITERATIONS
            if not 1 <= iterations <= MAX_PBKDF2_ITERATIONS:
                return None
            digest = hashlib.pbkdf2_hmac(hash_name, secret, salt.encode(), iterations)
            return digest.hex(), f"pbkdf2:{hash_name}:{iterations}"
    except ValueError:  # a non-number parameter, or a digest hashlib does not know
        return None
    return None


def generate_password_hash(password: str, method: str = "scrypt", salt_length: int = 16) -> str:
    """Hash ``password`` into ``method$salt$hash`` (Werkzeug's format).

    Args:
        method: ``"scrypt"`` or ``"scrypt:N:r:p"``; ``"pbkdf2"`` or
            ``"pbkdf2:sha256:iterations"``.
        salt_length: letters and digits of random salt.

    Raises:
        ValueError: an unknown method, or parameters out of bounds.
    """
    salt = gen_salt(salt_length)
    result = _hash(method, salt, password)
    if result is None:
        raise ValueError(f"unsupported password hash method {method!r}")
    digest, written = result
    return f"{written}${salt}${digest}"


def check_password_hash(pwhash: str, password: str) -> bool:
    """Whether ``password`` is the one ``pwhash`` was made from (in constant time).

    ``pwhash`` is a Werkzeug-format hash or a kettle argon2 hash; anything else,
    including a malformed or out-of-bounds hash, is ``False``.
    """
    if pwhash.startswith("$argon2"):
        from kettle.security.passwords import verify_password

        return verify_password(password, pwhash)
    if pwhash.count("$") < 2:
        return False
    method, salt, expected = pwhash.split("$", 2)
    result = _hash(method, salt, password)
    return result is not None and hmac.compare_digest(result[0], expected)
