"""JSON Web Tokens on PyJWT: signing keys, key rotation and strict verification.

:class:`JWT` signs and verifies tokens with settings fixed when it is built: the
algorithms it accepts (never read from the token), the issuer and audience it expects,
the clock leeway, the claims a token must carry and the longest token it will parse.
Every way a token can fail raises :class:`InvalidTokenError` with a precise
:attr:`~InvalidTokenError.reason`; raised out of a handler or a dependency it is a 401
with ``WWW-Authenticate: Bearer error="invalid_token", error_description="..."`` and a
body that names the reason, never the token or a key.

Example:
    >>> from kettle.security.tokens import JWT, InvalidTokenError
    >>> tokens = JWT("a long random secret, 32 bytes or more!", issuer="kettle")
    >>> token = tokens.encode({"sub": "ada"}, expires_in=60)
    >>> tokens.decode(token)["sub"]
    'ada'
    >>> try:
    ...     tokens.decode(token + "x")
    ... except InvalidTokenError as error:
    ...     error.reason, error.status_code
    ('invalid_signature', 401)

Several keys (rotation, asymmetric keys) go in a :class:`KeySet` of :class:`JWTKey`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final, Literal, overload

import jwt
from jwt.algorithms import Algorithm, get_default_algorithms

from kettle.exceptions import ConfigurationError, Unauthorized

__all__ = ["JWT", "InvalidTokenError", "JWTKey", "KeySet"]

_ALGORITHMS: Final = get_default_algorithms()
_HMAC_SIZES: Final = {"HS256": 32, "HS384": 48, "HS512": 64}
_ASYMMETRIC: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_MIN_RSA_BITS: Final = 2048
#: A header or payload past this many characters did not come from a sane issuer; the
#: bound keeps base64 and JSON decoding of attacker input small.
DEFAULT_MAX_LENGTH: Final = 8192

# One sentence per reason, safe to show to the client: none names the token or a key.
_REASONS: Final[dict[str, str]] = {
    "oversized": "The token is too long.",
    "malformed": "The token is malformed.",
    "alg_none": "Unsigned tokens (alg: none) are not accepted.",
    "algorithm_not_allowed": "The token's signing algorithm is not accepted.",
    "unknown_kid": "The token was signed with an unknown key.",
    "invalid_signature": "The token's signature is invalid.",
    "expired": "The token has expired.",
    "not_yet_valid": "The token is not valid yet.",
    "invalid_audience": "The token is not meant for this audience.",
    "invalid_issuer": "The token was issued by an unexpected issuer.",
    "missing_claim": "The token lacks a required claim.",
    "invalid_claim": "The token has an invalid claim.",
}


class InvalidTokenError(Unauthorized):
    """A token that must not be trusted; a 401 when it escapes a handler or dependency.

    ``reason`` is one of ``oversized``, ``malformed``, ``alg_none``,
    ``algorithm_not_allowed``, ``unknown_kid``, ``invalid_signature``, ``expired``,
    ``not_yet_valid``, ``invalid_audience``, ``invalid_issuer``, ``missing_claim`` and
    ``invalid_claim``. The response body is ``{"detail": "<a sentence for the reason>"}``
    and the ``WWW-Authenticate`` header follows RFC 6750.

    Example:
        >>> from kettle.security.tokens import InvalidTokenError
        >>> error = InvalidTokenError("expired")
        >>> error.detail
        'The token has expired.'
        >>> error.headers["WWW-Authenticate"]
        'Bearer error="invalid_token", error_description="The token has expired."'
    """

    reasons: ClassVar[Mapping[str, str]] = _REASONS

    def __init__(self, reason: str) -> None:
        if reason not in _REASONS:
            raise ValueError(f"unknown token failure reason {reason!r}")
        description = _REASONS[reason]
        challenge = f'Bearer error="invalid_token", error_description="{description}"'
        super().__init__(description, {"WWW-Authenticate": challenge})
        #: the machine-readable cause (see the class docstring)
        self.reason = reason

    def __repr__(self) -> str:
        return f"InvalidTokenError({self.reason!r})"


@dataclass(frozen=True, eq=False)
class JWTKey:
    """One key: its algorithm, and optionally its ``kid`` (key id).

    ``key`` is the shared secret for ``HS*`` (at least as many bytes as the hash, as
    RFC 7518 requires), or a PEM string/bytes or a ``cryptography`` key object for
    ``RS*``/``PS*``/``ES*``/``EdDSA``. A private key signs and verifies; a public key only
    verifies. Each key verifies tokens of its own algorithm only, so an RSA public key can
    never be used as an HMAC secret (the HS/RS confusion attack).

    Example:
        >>> from kettle.security.tokens import JWTKey
        >>> JWTKey("0123456789abcdef0123456789abcdef", kid="2024-05").algorithm
        'HS256'
        >>> JWTKey("short")
        Traceback (most recent call last):
        ...
        kettle.exceptions.ConfigurationError: An HS256 secret needs at least 32 bytes...
    """

    key: Any = field(repr=False)
    algorithm: str = "HS256"
    kid: str | None = None
    signing_key: Any = field(init=False, repr=False)
    verifying_key: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        signing, verifying = _prepare(self.algorithm, self.key, self.kid)
        object.__setattr__(self, "signing_key", signing)
        object.__setattr__(self, "verifying_key", verifying)

    @property
    def can_sign(self) -> bool:
        """Whether this key holds what signing needs (a secret or a private key)."""
        return self.signing_key is not None


def _prepare(algorithm: str, key: Any, kid: str | None) -> tuple[Any, Any]:
    name = f"key {kid!r}" if kid else "the key"
    if algorithm in _HMAC_SIZES:
        secret = key.encode() if isinstance(key, str) else key
        if not isinstance(secret, bytes):
            raise ConfigurationError(f"{name}: an {algorithm} secret must be str or bytes")
        if secret.lstrip().startswith(b"-----BEGIN") or secret.startswith(b"ssh-"):
            raise ConfigurationError(
                f"{name} looks like a PEM/SSH key but the algorithm is {algorithm}: use the "
                "key's own algorithm (RS256, ES256, EdDSA...), never a public key as a secret"
            )
        if len(secret) < _HMAC_SIZES[algorithm]:
            raise ConfigurationError(
                f"An {algorithm} secret needs at least {_HMAC_SIZES[algorithm]} bytes "
                f"({name} has {len(secret)}); use secrets.token_urlsafe(32) or longer"
            )
        return secret, secret
    if algorithm not in _ASYMMETRIC:
        raise ConfigurationError(
            f"{name}: algorithm {algorithm!r} is not supported; use one of "
            f"{', '.join(sorted((*_HMAC_SIZES, *_ASYMMETRIC)))}"
        )
    impl: Algorithm = _ALGORITHMS[algorithm]
    try:
        prepared = impl.prepare_key(key)
    except (jwt.InvalidKeyError, ValueError, TypeError) as error:
        raise ConfigurationError(f"{name} is not a valid {algorithm} key: {error}") from None
    bits = getattr(prepared, "key_size", None)
    if algorithm[:2] in ("RS", "PS") and bits is not None and bits < _MIN_RSA_BITS:
        raise ConfigurationError(f"{name}: RSA keys need {_MIN_RSA_BITS} bits or more, not {bits}")
    public = getattr(prepared, "public_key", None)
    if public is None:  # already a public key
        return None, prepared
    verifying = public()
    # A signature round trip at startup catches a curve that does not match the
    # algorithm (a P-384 key for ES256) now rather than on the first request.
    try:
        signature = impl.sign(b"kettle", prepared)
        valid = impl.verify(b"kettle", verifying, signature)
    except (jwt.InvalidKeyError, ValueError, TypeError) as error:
        raise ConfigurationError(f"{name} cannot sign with {algorithm}: {error}") from None
    if not valid:  # pragma: no cover - cryptography would have raised
        raise ConfigurationError(f"{name} cannot sign with {algorithm}")
    return prepared, verifying


class KeySet:
    """The keys a :class:`JWT` accepts, one of which signs (``current``).

    Rotation: add the new key as ``current`` and keep the previous ones in the set while
    tokens they signed may still be alive; drop a key to revoke what it signed. With more
    than one key every key needs a ``kid``, which the signing key writes into each
    token's header, so verification picks exactly one key.

    Example:
        >>> from kettle.security.tokens import JWT, JWTKey, KeySet
        >>> old = JWTKey("old secret, at least thirty-two bytes", kid="2024")
        >>> new = JWTKey("new secret, at least thirty-two bytes", kid="2025")
        >>> before = JWT(KeySet([old])).encode({"sub": "ada"})
        >>> rotated = JWT(KeySet([old, new], current="2025"))
        >>> rotated.decode(before)["sub"]
        'ada'
    """

    def __init__(self, keys: Iterable[JWTKey], *, current: str | None = None) -> None:
        self.keys: tuple[JWTKey, ...] = tuple(keys)
        if not self.keys:
            raise ConfigurationError("A KeySet needs at least one key")
        by_kid: dict[str, JWTKey] = {}
        for key in self.keys:
            if len(self.keys) > 1 and not key.kid:
                raise ConfigurationError(
                    "With several keys, each needs a kid so a token names the one that verifies it"
                )
            if key.kid:
                if key.kid in by_kid:
                    raise ConfigurationError(f"Two keys have kid {key.kid!r}")
                by_kid[key.kid] = key
        if current is None:
            signing = self.keys[0]
        elif current in by_kid:
            signing = by_kid[current]
        else:
            raise ConfigurationError(f"current={current!r} names no key in the set")
        #: the key that signs new tokens (``None`` when the set only verifies)
        self.current: JWTKey | None = signing if signing.can_sign else None
        if current is not None and self.current is None:
            raise ConfigurationError(f"key {current!r} is a public key: it cannot sign")
        self.by_kid: Mapping[str, JWTKey] = by_kid

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def algorithms(self) -> frozenset[str]:
        """The algorithms of the keys in the set."""
        return frozenset(key.algorithm for key in self.keys)

    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys as a JWK Set (RFC 7517), for ``/.well-known/jwks.json``.

        Only asymmetric public keys appear: an HMAC secret or a private part never does.

        Example:
            >>> from cryptography.hazmat.primitives.asymmetric import ed25519
            >>> from kettle.security.tokens import JWTKey, KeySet
            >>> key = JWTKey(ed25519.Ed25519PrivateKey.generate(), "EdDSA", kid="k1")
            >>> (jwk,) = KeySet([key]).public_jwks()["keys"]
            >>> jwk["kty"], jwk["kid"], jwk["alg"], "d" in jwk
            ('OKP', 'k1', 'EdDSA', False)
        """
        keys = []
        for key in self.keys:
            if key.algorithm in _HMAC_SIZES:
                continue
            jwk: dict[str, Any] = _ALGORITHMS[key.algorithm].to_jwk(key.verifying_key, as_dict=True)
            jwk.update(alg=key.algorithm, use="sig")
            if key.kid:
                jwk["kid"] = key.kid
            keys.append(jwk)
        return {"keys": keys}


def _as_keyset(keys: str | bytes | JWTKey | KeySet | Sequence[JWTKey], algorithm: str) -> KeySet:
    if isinstance(keys, KeySet):
        return keys
    if isinstance(keys, JWTKey):
        return KeySet([keys])
    if isinstance(keys, str | bytes):
        return KeySet([JWTKey(keys, algorithm)])
    return KeySet(keys)


# The refusals PyJWT raises before (or instead of) verifying a signature: the header checks
# of JWT.decode name their cause more precisely (alg_none, unknown_kid...).
_BEFORE_SIGNATURE = frozenset({"malformed", "algorithm_not_allowed", "invalid_signature"})


def _header(token: str | bytes) -> dict[str, Any]:
    """The token's JOSE header, read without touching its payload or signature.

    PERF: PyJWT's ``get_unverified_header`` decodes and checks every segment, which
    ``jwt.decode`` then does again; the first segment alone costs a fifth as much
    (11 vs 52 us per HS256 token, measured on the shared 2-core dev machine).
    """
    raw = token.encode("ascii", "replace") if isinstance(token, str) else token
    segment, dot, rest = raw.partition(b".")
    if not dot or rest.count(b".") != 1:
        raise InvalidTokenError("malformed")
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise InvalidTokenError("malformed") from None
    if not isinstance(header, dict):
        raise InvalidTokenError("malformed")
    return header


def _seconds(value: float | timedelta) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class JWT:
    """Signs and verifies JSON Web Tokens with settings fixed at construction.

    Args:
        keys: a secret (``str``/``bytes``, for ``algorithm``), a :class:`JWTKey`, a list
            of them (the first signs) or a :class:`KeySet`.
        algorithm: the algorithm of a bare secret (``HS256`` by default).
        algorithms: the algorithms accepted when verifying; by default those of the
            keys. The token's own ``alg`` header only selects among these.
        issuer: written as ``iss`` and required when verifying (a sequence accepts any;
            the first is written).
        audience: written as ``aud`` and required when verifying (a sequence accepts a
            token for any of them; the first is written).
        leeway: clock skew tolerated on ``exp``, ``nbf`` and ``iat`` (seconds or a
            ``timedelta``).
        expires_in: the default lifetime of encoded tokens (15 minutes).
        required: claims every token must carry (``exp`` and ``iat`` by default; ``iss``
            and ``aud`` are added when configured).
        max_length: tokens longer than this are refused before any decoding.

    Example:
        >>> from datetime import timedelta
        >>> from kettle.security.tokens import JWT
        >>> tokens = JWT("a long random secret, 32 bytes or more!", audience="api")
        >>> token = tokens.create_access_token({"sub": "ada"}, timedelta(minutes=5))
        >>> claims = tokens.decode(token)
        >>> claims["sub"], claims["aud"], claims["exp"] - claims["iat"]
        ('ada', 'api', 300)
    """

    def __init__(
        self,
        keys: str | bytes | JWTKey | KeySet | Sequence[JWTKey],
        *,
        algorithm: str = "HS256",
        algorithms: Iterable[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        leeway: float | timedelta = 0,
        expires_in: float | timedelta = timedelta(minutes=15),
        required: Iterable[str] = ("exp", "iat"),
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        self.keys = _as_keyset(keys, algorithm)
        allowed = frozenset(algorithms) if algorithms is not None else self.keys.algorithms
        if "none" in {a.lower() for a in allowed}:
            raise ConfigurationError("alg 'none' means unsigned tokens: it is never accepted")
        unusable = self.keys.algorithms - allowed
        if unusable:
            raise ConfigurationError(
                f"The key set holds {sorted(unusable)} keys but algorithms={sorted(allowed)}"
            )
        unknown = allowed - set(_HMAC_SIZES) - _ASYMMETRIC
        if unknown:
            raise ConfigurationError(f"Unsupported algorithms {sorted(unknown)}")
        #: the algorithms a token may be signed with
        self.algorithms: frozenset[str] = allowed
        self.issuer = (issuer,) if isinstance(issuer, str) else tuple(issuer or ())
        self.audience = (audience,) if isinstance(audience, str) else tuple(audience or ())
        self.leeway = _seconds(leeway)
        self.expires_in = _seconds(expires_in)
        if self.expires_in <= timedelta(0):
            raise ConfigurationError("expires_in must be positive")
        if max_length < 64:
            raise ConfigurationError("max_length below 64 characters refuses every token")
        self.max_length = max_length
        claims = set(required)
        if self.issuer:
            claims.add("iss")
        if self.audience:
            claims.add("aud")
        self.required: tuple[str, ...] = tuple(sorted(claims))
        self._options: Any = {
            "require": list(self.required),
            # Always on: a token naming an audience is refused where none is expected.
            "verify_aud": True,
            "verify_iss": True,
        }
        # Without a kid, a single key (or a key set without kids) verifies.
        self._unnamed: tuple[JWTKey, ...] = tuple(k for k in self.keys.keys if not k.kid)
        # The common setup, one secret and no kid: see decode().
        self._only: JWTKey | None = (
            self.keys.keys[0] if len(self.keys.keys) == 1 and not self.keys.keys[0].kid else None
        )

    # -- signing ------------------------------------------------------------------------------

    def encode(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        expires_in: float | timedelta | None = None,
        subject: str | None = None,
        not_before: datetime | float | timedelta | None = None,
        jti: bool | str = False,
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token holding ``claims`` plus the registered ones.

        ``iat`` is now, ``exp`` now + ``expires_in`` (unless ``claims`` has ``exp``);
        ``iss`` and ``aud`` come from the settings unless ``claims`` sets them. ``sub``
        from ``subject``; ``nbf`` from ``not_before`` (a time, or a delay from now);
        ``jti=True`` adds a random token id (``jti="..."`` sets one). The header carries
        the signing key's ``kid``.
        """
        key = self.keys.current
        if key is None:
            raise ConfigurationError("This JWT only verifies: its key set holds no signing key")
        now = datetime.now(UTC)
        payload = dict(claims or {})
        payload.setdefault("iat", now)
        payload.setdefault(
            "exp", now + (self.expires_in if expires_in is None else _seconds(expires_in))
        )
        if self.issuer:
            payload.setdefault("iss", self.issuer[0])
        if self.audience:
            payload.setdefault("aud", self.audience[0])
        if subject is not None:
            payload["sub"] = subject
        if not_before is not None:
            payload["nbf"] = (
                not_before if isinstance(not_before, datetime) else now + _seconds(not_before)
            )
        if jti:
            payload["jti"] = jti if isinstance(jti, str) else secrets.token_urlsafe(16)
        header = dict(headers or {})
        if key.kid:
            header["kid"] = key.kid
        return jwt.encode(payload, key.signing_key, algorithm=key.algorithm, headers=header or None)

    def create_access_token(
        self, data: Mapping[str, Any], expires_delta: timedelta | None = None
    ) -> str:
        """FastAPI's tutorial helper: :meth:`encode` ``data``, expiring after ``expires_delta``."""
        return self.encode(data, expires_in=expires_delta)

    # -- verifying ----------------------------------------------------------------------------

    def decode(self, token: str | bytes) -> dict[str, Any]:
        """The claims of ``token`` once every check passed, else :class:`InvalidTokenError`.

        In order: the length, the header (``alg`` must be one of :attr:`algorithms` and
        never ``none``; ``kid`` must name a key of the set), the signature with that key
        and its own algorithm only, then ``exp``/``nbf``/``iat`` (with leeway), issuer,
        audience and the required claims.
        """
        if len(token) > self.max_length:
            raise InvalidTokenError("oversized")
        only = self._only
        if only is not None:
            # PERF: with one key and no kid, PyJWT's own checks (the algorithm pinned to
            # that key's) accept exactly the tokens the header checks below would pass on to
            # it, so a valid token skips them: they only say why a token was refused. A
            # failure after the signature verified (expired, audience...) is final unless
            # the token names a kid (which the header checks refuse first).
            try:
                header, claims = self._verify(token, only, complete=True)
            except InvalidTokenError as failed:
                if failed.reason not in _BEFORE_SIGNATURE and _header(token).get("kid") is None:
                    raise
            else:
                if header.get("kid") is None:
                    return claims
        header = _header(token)
        alg = header.get("alg")
        if not isinstance(alg, str):
            raise InvalidTokenError("malformed")
        if alg.lower() == "none":
            raise InvalidTokenError("alg_none")
        if alg not in self.algorithms:
            raise InvalidTokenError("algorithm_not_allowed")
        kid = header.get("kid")
        if kid is not None:
            if not isinstance(kid, str):
                raise InvalidTokenError("malformed")
            key = self.keys.by_kid.get(kid)
            if key is None:
                raise InvalidTokenError("unknown_kid")
            candidates: tuple[JWTKey, ...] = (key,)
        else:
            candidates = self._unnamed
            if not candidates:
                raise InvalidTokenError("unknown_kid")
        candidates = tuple(k for k in candidates if k.algorithm == alg)
        if not candidates:
            # A key of another family (an RSA public key for an HS256 token) never
            # verifies: that is the algorithm-confusion attack.
            raise InvalidTokenError("algorithm_not_allowed")
        error: InvalidTokenError | None = None
        for candidate in candidates:
            try:
                return self._verify(token, candidate)
            except InvalidTokenError as failed:
                error = failed
                if failed.reason != "invalid_signature":
                    break
        assert error is not None
        raise error

    @overload
    def _verify(self, token: str | bytes, key: JWTKey) -> dict[str, Any]: ...

    @overload
    def _verify(
        self, token: str | bytes, key: JWTKey, *, complete: Literal[True]
    ) -> tuple[dict[str, Any], dict[str, Any]]: ...

    def _verify(self, token: str | bytes, key: JWTKey, *, complete: bool = False) -> Any:
        try:
            decoded: dict[str, Any] = jwt.decode_complete(
                token,
                key.verifying_key,
                algorithms=[key.algorithm],
                options=self._options,
                audience=self.audience or None,
                issuer=self.issuer or None,
                leeway=self.leeway,
            )
        except jwt.ExpiredSignatureError:
            raise InvalidTokenError("expired") from None
        except jwt.ImmatureSignatureError:
            # PyJWT raises this for an nbf and for an iat in the future alike.
            raise InvalidTokenError("not_yet_valid") from None
        except jwt.InvalidAudienceError:
            raise InvalidTokenError("invalid_audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidTokenError("invalid_issuer") from None
        except jwt.MissingRequiredClaimError:
            raise InvalidTokenError("missing_claim") from None
        except jwt.InvalidSignatureError:
            raise InvalidTokenError("invalid_signature") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidTokenError("algorithm_not_allowed") from None
        except (
            jwt.exceptions.InvalidSubjectError,
            jwt.exceptions.InvalidJTIError,
            jwt.InvalidIssuedAtError,
        ):
            raise InvalidTokenError("invalid_claim") from None
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise InvalidTokenError("malformed") from None
        if complete:
            return decoded["header"], decoded["payload"]
        return decoded["payload"]
