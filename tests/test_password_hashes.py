"""kettle.security.hashes: Werkzeug-format hashes, including ones Werkzeug wrote."""

from __future__ import annotations

import pytest

from kettle.security.hashes import check_password_hash, gen_salt, generate_password_hash

# Written by Werkzeug's generate_password_hash("hunter2") (scrypt, its default) and
# generate_password_hash("hunter2", method="pbkdf2:sha256:1000"), then checked with
# hashlib by hand: the stored form an app moved from Flask has in its user table.
WERKZEUG_HASHES = [
    "scrypt:32768:8:1$eq4aBqQdiBE3Xxrn$c050f4154b6fc38dcdb8a9bce3d812583f9a6080804de563a3c"
    "478f65e5604f731a2fc380e4fc39bfa20d4b457cdcfb9cde5044558c13abffbcb53105ac3a0f7",
    "pbkdf2:sha256:1000$5ITbepWeMaae4Qk2$c93692dd87f3929a6e5ae18f979820ea6674025c9d3340fcb6b"
    "506d7914f4f54",
    # hashlib.pbkdf2_hmac("sha512", b"hunter2", b"saltsalt", 1000).hex()
    "pbkdf2:sha512:1000$saltsalt$de48a10ba5ce16476909ea8992811c0c65a6c7d99f6d5341c7957f551932"
    "3b92a4111bb7602f10cd03eb363e2d13afd45508dd43cc56d28c316c78b144dfa6c1",
]


@pytest.mark.parametrize("stored", WERKZEUG_HASHES)
def test_hashes_werkzeug_wrote_verify(stored: str) -> None:
    assert check_password_hash(stored, "hunter2")
    assert not check_password_hash(stored, "hunter3")


@pytest.mark.parametrize("method", ["scrypt", "scrypt:16384:8:1", "pbkdf2:sha256:1000", "pbkdf2"])
def test_generated_hashes_round_trip(method: str) -> None:
    stored = generate_password_hash("pässword", method=method, salt_length=8)
    name = method.split(":")[0]
    assert stored.startswith(name + ":")
    assert len(stored.split("$")[1]) == 8
    assert check_password_hash(stored, "pässword")
    assert not check_password_hash(stored, "password")


def test_the_default_is_werkzeugs_scrypt() -> None:
    stored = generate_password_hash("x")
    assert stored.startswith("scrypt:32768:8:1$")
    assert generate_password_hash("x") != stored  # a new salt each time


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "plain$text",
        "md5$salt$0123",
        "scrypt:1048576:64:64$salt$00",  # gigabytes of memory: refused unverified
        "scrypt:1000:8:1$salt$00",  # n not a power of two
        "pbkdf2:sha256:999999999$salt$00",  # billions of iterations
        "pbkdf2:nosuchhash:1000$salt$00",
        "pbkdf2:sha256:many$salt$00",
    ],
)
def test_forged_or_unknown_hashes_never_verify(forged: str) -> None:
    assert check_password_hash(forged, "anything") is False


@pytest.mark.parametrize("method", ["md5", "scrypt:3:8:1", "pbkdf2:sha256:0"])
def test_generating_with_a_bad_method_is_refused(method: str) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        generate_password_hash("x", method=method)


def test_argon2_hashes_from_kettles_hasher_verify_too() -> None:
    from kettle.security.passwords import hash_password

    stored = hash_password("hunter2")
    assert check_password_hash(stored, "hunter2")
    assert not check_password_hash(stored, "nope")


def test_salts() -> None:
    assert len(gen_salt(16)) == 16
    assert gen_salt(16).isalnum()
    with pytest.raises(ValueError, match="at least 1"):
        gen_salt(0)
