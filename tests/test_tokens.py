"""kettle.security.tokens: signing, rotation and every way a token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from kettle import ConfigurationError, Kettle
from kettle.security.tokens import JWT, InvalidTokenError, JWTKey, KeySet
from kettle.testing import TestClient

SECRET = "test secret that is at least thirty-two bytes long"
OTHER = "another secret, also at least thirty-two bytes long"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_public(key: Any) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None) -> str:
    """A token built by hand, as an attacker would (PyJWT refuses to make some of them)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    if secret is None:
        return signing_input + "."
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


# Tokens in parametrize lists are made when the module is collected, which may be minutes
# before the test runs in a full suite: their expiry is a day away.
def _now() -> int:
    return int(datetime.now(UTC).timestamp())


@pytest.mark.parametrize("algorithm", ["HS256", "HS512", "RS256", "PS256", "ES256", "EdDSA"])
def test_round_trip_with_each_key_family(algorithm: str, rsa_key: rsa.RSAPrivateKey) -> None:
    key: Any = {
        "HS256": SECRET,
        "HS512": SECRET * 2,
        "RS256": rsa_key,
        "PS256": rsa_key,
        "ES256": ec.generate_private_key(ec.SECP256R1()),
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
    }[algorithm]
    tokens = JWT(JWTKey(key, algorithm, kid="k1"), issuer="kettle", audience="api")
    token = tokens.encode({"role": "admin"}, subject="ada", jti=True, expires_in=60)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == algorithm
    assert header["kid"] == "k1"
    claims = tokens.decode(token)
    assert claims["sub"] == "ada"
    assert claims["role"] == "admin"
    assert claims["iss"] == "kettle"
    assert claims["aud"] == "api"
    assert claims["exp"] - claims["iat"] == 60
    assert len(claims["jti"]) >= 16


def test_public_key_only_verifies(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = JWT(JWTKey(rsa_key, "RS256"))
    verifier = JWT(JWTKey(_pem_public(rsa_key), "RS256"))
    assert verifier.decode(signer.encode({"sub": "ada"}))["sub"] == "ada"
    with pytest.raises(ConfigurationError, match="only verifies"):
        verifier.encode({"sub": "ada"})


def test_create_access_token_like_the_fastapi_tutorial() -> None:
    tokens = JWT(SECRET)
    token = tokens.create_access_token({"sub": "ada"}, timedelta(minutes=30))
    claims = tokens.decode(token)
    assert claims["exp"] - claims["iat"] == 1800
    # The default lifetime applies without expires_delta.
    claims = tokens.decode(tokens.create_access_token({"sub": "ada"}))
    assert claims["exp"] - claims["iat"] == 900


def _hs_token(**payload: Any) -> str:
    return _forge({"alg": "HS256", "typ": "JWT"}, payload, SECRET.encode())


def _reason(tokens: JWT, token: str) -> str:
    with pytest.raises(InvalidTokenError) as info:
        tokens.decode(token)
    return info.value.reason


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param(_hs_token(exp=_now() - 60, iat=_now() - 120), "expired", id="expired"),
        pytest.param(
            _hs_token(exp=_now() + 86400, iat=_now(), nbf=_now() + 43200),
            "not_yet_valid",
            id="nbf-in-future",
        ),
        pytest.param(
            _hs_token(exp=_now() + 86400, iat=_now() + 43200), "not_yet_valid", id="iat-in-future"
        ),
        pytest.param(_hs_token(iat=_now()), "missing_claim", id="no-exp"),
        pytest.param(_hs_token(exp="soon", iat=_now()), "malformed", id="exp-not-a-number"),
        pytest.param(
            _hs_token(exp=_now() + 86400, iat=_now(), sub=42), "invalid_claim", id="sub-int"
        ),
        pytest.param(
            _forge({"alg": "HS256"}, {"exp": _now() + 86400, "iat": _now()}, OTHER.encode()),
            "invalid_signature",
            id="other-secret",
        ),
        pytest.param(_forge({"alg": "none"}, {"exp": _now() + 86400}, None), "alg_none", id="none"),
        pytest.param(_forge({"alg": "nOnE"}, {"exp": _now() + 86400}, None), "alg_none", id="NoNe"),
        pytest.param(
            _forge({"alg": "HS512"}, {"exp": _now() + 86400}, SECRET.encode()),
            "algorithm_not_allowed",
            id="hs512",
        ),
        pytest.param(_forge({"alg": 256}, {}, SECRET.encode()), "malformed", id="alg-int"),
        pytest.param(
            _forge({"alg": "HS256", "kid": "nope"}, {}, SECRET.encode()),
            "unknown_kid",
            id="unknown-kid",
        ),
        pytest.param(
            _forge({"alg": "HS256", "kid": ["x"]}, {}, SECRET.encode()), "malformed", id="kid-list"
        ),
        pytest.param("not a token", "malformed", id="garbage"),
        pytest.param("", "malformed", id="empty"),
        pytest.param("a.b", "malformed", id="two-segments"),
        pytest.param("é.é.é", "malformed", id="non-ascii"),
        pytest.param(_b64(b"[1]") + ".e30.", "malformed", id="header-not-object"),
        pytest.param(
            _b64(b'{"alg":"HS256"}') + ".bm90IGpzb24." + "x", "malformed", id="payload-not-json"
        ),
        pytest.param("a" * 9000, "oversized", id="oversized"),
    ],
)
def test_refused_tokens_say_why(token: str, reason: str) -> None:
    assert _reason(JWT(SECRET), token) == reason


def test_tampered_payload_is_a_bad_signature() -> None:
    tokens = JWT(SECRET)
    header, _, signature = tokens.encode({"sub": "ada"}).split(".")
    forged = _b64(json.dumps({"sub": "root", "exp": _now() + 86400, "iat": _now()}).encode())
    assert _reason(tokens, f"{header}.{forged}.{signature}") == "invalid_signature"


def test_oversized_is_checked_before_parsing() -> None:
    tokens = JWT(SECRET, max_length=100)
    token = tokens.encode({"sub": "ada"})
    assert len(token) > 100
    assert _reason(tokens, token) == "oversized"


def test_leeway_accepts_small_clock_skew() -> None:
    token = _hs_token(exp=_now() - 5, iat=_now() - 60)
    assert _reason(JWT(SECRET), token) == "expired"
    assert JWT(SECRET, leeway=timedelta(seconds=30)).decode(token)["exp"] < _now()


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "other"}, "invalid_audience"),
        ({"aud": None}, "missing_claim"),
        ({"iss": "evil"}, "invalid_issuer"),
        ({"iss": None}, "missing_claim"),
    ],
)
def test_audience_and_issuer(claims: dict[str, Any], reason: str) -> None:
    tokens = JWT(SECRET, issuer="kettle", audience=["api", "admin"])
    valid = {"exp": _now() + 86400, "iat": _now(), "iss": "kettle", "aud": "admin"}
    assert tokens.decode(_hs_token(**valid))["aud"] == "admin"
    payload = {key: value for key, value in (valid | claims).items() if value is not None}
    assert _reason(tokens, _hs_token(**payload)) == reason


def test_a_token_with_an_audience_is_refused_where_none_is_expected() -> None:
    token = _hs_token(exp=_now() + 86400, iat=_now(), aud="api")
    assert _reason(JWT(SECRET), token) == "invalid_audience"


def test_rs_public_key_never_verifies_an_hs_token(rsa_key: rsa.RSAPrivateKey) -> None:
    public_pem = _pem_public(rsa_key)
    # The classic confusion attack: HMAC-sign with the (public) PEM as the secret.
    forged = _forge({"alg": "HS256"}, {"sub": "root", "exp": _now() + 86400}, public_pem)
    assert _reason(JWT(JWTKey(public_pem, "RS256")), forged) == "algorithm_not_allowed"
    # Even when HS256 is in the accepted list, only an HS key may verify an HS token.
    lenient = JWT(JWTKey(public_pem, "RS256"), algorithms=["RS256", "HS256"])
    assert _reason(lenient, forged) == "algorithm_not_allowed"
    with pytest.raises(ConfigurationError, match="PEM"):
        JWTKey(public_pem, "HS256")


def test_key_rotation() -> None:
    old = JWTKey(SECRET, kid="2024")
    new = JWTKey(OTHER, kid="2025")
    old_token = JWT(KeySet([old])).encode({"sub": "ada"})
    rotated = JWT(KeySet([old, new], current="2025"))
    assert rotated.decode(old_token)["sub"] == "ada"
    new_token = rotated.encode({"sub": "bob"})
    assert '"kid":"2025"' in base64.urlsafe_b64decode(new_token.split(".")[0] + "==").decode()
    assert rotated.decode(new_token)["sub"] == "bob"
    # Retiring the old key revokes what it signed.
    retired = JWT(KeySet([new]))
    assert _reason(retired, old_token) == "unknown_kid"
    assert retired.decode(new_token)["sub"] == "bob"
    # A token claiming the new kid but signed with the old secret is caught.
    relabelled = _forge(
        {"alg": "HS256", "kid": "2025"}, {"sub": "x", "exp": _now() + 9}, SECRET.encode()
    )
    assert _reason(rotated, relabelled) == "invalid_signature"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: JWT("short"), "at least 32 bytes"),
        (lambda: JWT(SECRET, algorithm="HS512"), "at least 64 bytes"),
        (lambda: JWT(SECRET, algorithms=["HS256", "none"]), "never accepted"),
        (lambda: JWT(SECRET, algorithms=["RS256"]), "HS256"),
        (lambda: JWT(SECRET, algorithms=["HS256", "XS1"]), "Unsupported"),
        (lambda: JWT(JWTKey(SECRET, "XS1")), "not supported"),
        (lambda: JWT(JWTKey(b"not a pem", "RS256")), "not a valid RS256 key"),
        (lambda: JWT(KeySet([JWTKey(SECRET), JWTKey(OTHER)])), "needs a kid"),
        (lambda: JWT(KeySet([JWTKey(SECRET, kid="a"), JWTKey(OTHER, kid="a")])), "Two keys"),
        (lambda: JWT(KeySet([JWTKey(SECRET, kid="a")], current="b")), "names no key"),
        (lambda: JWT(KeySet([])), "at least one key"),
        (lambda: JWT(SECRET, expires_in=0), "positive"),
        (lambda: JWT(SECRET, max_length=10), "max_length"),
        (lambda: JWTKey(rsa.generate_private_key(65537, 1024), "RS256"), "2048 bits"),
        (lambda: JWTKey(ec.generate_private_key(ec.SECP384R1()), "ES256"), "curve"),
        (lambda: JWTKey(12345), "str or bytes"),
    ],
)
def test_configuration_mistakes_fail_at_startup(build: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


def test_unknown_reason_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown token failure"):
        InvalidTokenError("because")


def test_public_jwks_publish_only_public_keys(rsa_key: rsa.RSAPrivateKey) -> None:
    keys = KeySet(
        [
            JWTKey(rsa_key, "RS256", kid="rsa"),
            JWTKey(ec.generate_private_key(ec.SECP256R1()), "ES256", kid="ec"),
            JWTKey(SECRET, kid="hmac"),
        ],
        current="rsa",
    )
    jwks = keys.public_jwks()
    assert [jwk["kid"] for jwk in jwks["keys"]] == ["rsa", "ec"]
    assert SECRET not in json.dumps(jwks)
    for jwk in jwks["keys"]:
        assert "d" not in jwk  # no private part
        assert jwk["use"] == "sig"
    # Another service verifies with nothing but the published set.
    token = JWT(keys).encode({}, subject="ada")
    rsa_jwk = jwks["keys"][0]
    public = jwt.PyJWK(rsa_jwk).key
    assert JWT(JWTKey(public, "RS256", kid="rsa")).decode(token)["sub"] == "ada"


def test_a_public_key_cannot_be_current(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigurationError, match="cannot sign"):
        KeySet([JWTKey(_pem_public(rsa_key), "RS256", kid="pub")], current="pub")


@pytest.fixture(scope="module")
def client() -> TestClient:
    tokens = JWT(SECRET, audience="api")
    app = Kettle(__name__)

    @app.get("/me")
    async def me(token: str) -> dict[str, Any]:
        return {"sub": tokens.decode(token)["sub"]}

    @app.get("/token")
    async def issue() -> dict[str, str]:
        return {"token": tokens.encode({"sub": "ada"})}

    return TestClient(app)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (_hs_token(exp=_now() - 60, iat=_now() - 120, aud="api"), "expired"),
        (_hs_token(exp=_now() + 86400, iat=_now(), aud="web"), "invalid_audience"),
        (_forge({"alg": "none"}, {"aud": "api"}, None), "alg_none"),
        ("x" * 9000, "oversized"),
        ("garbage", "malformed"),
    ],
)
def test_a_refused_token_is_a_401_with_a_bearer_challenge(
    client: TestClient, token: str, reason: str
) -> None:
    response = client.get("/me", params={"token": token})
    assert response.status_code == 401
    description = InvalidTokenError.reasons[reason]
    assert response.headers["www-authenticate"] == (
        f'Bearer error="invalid_token", error_description="{description}"'
    )
    assert response.json() == {"detail": description}
    assert token not in response.text
    assert SECRET not in response.text


def test_a_valid_token_passes(client: TestClient) -> None:
    token = client.get("/token").json()["token"]
    assert client.get("/me", params={"token": token}).json() == {"sub": "ada"}


def test_import_kettle_loads_no_token_or_password_library() -> None:
    code = (
        "import sys, kettle, kettle.security\n"
        "heavy = ('jwt', 'cryptography', 'pwdlib', 'argon2', 'kettle.login')\n"
        "print([name for name in heavy if name in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
