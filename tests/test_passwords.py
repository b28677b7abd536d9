"""kettle.security.passwords: argon2id through pwdlib, and the login recipe around it.

Hashes here use PasswordHasher.for_tests() (cheap parameters, explicitly) except where a
test is about the real cost.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from kettle import ConfigurationError
from kettle.security.passwords import PasswordHasher, hash_password, verify_password

HASHER = PasswordHasher.for_tests()
STORED = HASHER.hash("correct horse battery staple")


def test_hash_is_salted_argon2id() -> None:
    first, second = HASHER.hash("pw"), HASHER.hash("pw")
    assert first.startswith("$argon2id$")
    assert first != second
    assert HASHER.verify("pw", first)
    assert HASHER.verify("pw", second)


@pytest.mark.parametrize(
    ("password", "hashed"),
    [
        ("wrong", STORED),
        ("correct horse battery staple ", STORED),
        ("", STORED),
        ("correct horse battery staple", None),
        ("correct horse battery staple", ""),
        ("correct horse battery staple", "not a hash"),
        ("correct horse battery staple", "$argon2id$v=19$m=bad"),
        ("correct horse battery staple", "$2b$12$" + "a" * 53),  # bcrypt: not ours
        ("correct horse battery staple", STORED[:-4] + "AAAA"),  # tampered digest
        ("x" * 5000, STORED),  # past max_length
    ],
)
def test_what_does_not_verify_is_false_never_an_error(password: str, hashed: str | None) -> None:
    assert HASHER.verify(password, hashed) is False


def test_the_right_password_verifies() -> None:
    assert HASHER.verify("correct horse battery staple", STORED)


def test_hashing_an_oversized_password_is_refused() -> None:
    with pytest.raises(ValueError, match="limited to 1024"):
        HASHER.hash("x" * 1025)


def test_needs_rehash_and_upgrade() -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)
    assert not HASHER.needs_rehash(STORED)
    assert stronger.needs_rehash(STORED)
    assert stronger.needs_rehash("garbage")
    ok, new = stronger.verify_and_update("correct horse battery staple", STORED)
    assert ok
    assert new is not None
    assert not stronger.needs_rehash(new)
    assert stronger.verify("correct horse battery staple", new)
    assert stronger.verify_and_update("wrong", STORED) == (False, None)
    assert HASHER.verify_and_update("correct horse battery staple", STORED) == (True, None)


def test_unknown_user_costs_what_a_wrong_password_costs() -> None:
    # Costly enough (~tens of ms) that the dummy check cannot hide in timer noise.
    hasher = PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1)
    stored = hasher.hash("pw")
    hasher.verify("warm", None)  # the dummy hash is made on first need

    def best(hashed: str | None) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            assert not hasher.verify("guess", hashed)
            times.append(time.perf_counter() - started)
        return min(times)

    assert best(None) > 0.5 * best(stored)


def test_async_methods_leave_the_event_loop_free() -> None:
    hasher = PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1, max_concurrency=1)

    async def main() -> tuple[bool, int]:
        ticks = 0
        done = False

        async def ticker() -> None:
            nonlocal ticks
            while not done:
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        stored = await hasher.ahash("pw")
        ok = await hasher.averify("pw", stored)
        again, updated = await asyncio.gather(
            hasher.averify("pw", stored), hasher.averify_and_update("no", stored)
        )
        done = True
        await task
        return ok and again and updated == (False, None), ticks

    ok, ticks = asyncio.run(main())
    assert ok
    # Four hashes of ~15 ms ran while the loop kept ticking every millisecond; had they
    # run on the loop, it would have ticked about once per await.
    assert ticks > 10


def test_module_functions_use_real_parameters() -> None:
    stored = hash_password("s3cret")
    assert "m=65536,t=3,p=4" in stored
    assert verify_password("s3cret", stored)
    assert not verify_password("s3cret", None)


@pytest.mark.parametrize(
    "options",
    [
        {"time_cost": 0},
        {"parallelism": 0},
        {"memory_cost": 4, "parallelism": 1},
        {"max_length": 4},
    ],
)
def test_bad_parameters_fail_at_startup(options: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError):
        PasswordHasher(**options)
