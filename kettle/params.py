"""Parameter markers: where a handler parameter's value comes from, and its constraints.

Use them as defaults (``q: str | None = Query(None, max_length=50)``) or inside
``Annotated`` (``q: Annotated[str | None, Query(max_length=50)] = None``). Without a marker a
parameter named in the path is a path parameter, a scalar or list of scalars is a query
parameter, and a pydantic model, dataclass or TypedDict is the JSON body.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from kettle.exceptions import FastAPIDeprecationWarning

#: The default of a marker that has none: the parameter is required.
Required: Any = ...

_CONSTRAINTS = (
    "gt",
    "ge",
    "lt",
    "le",
    "multiple_of",
    "min_length",
    "max_length",
    "pattern",
    "strict",
    "allow_inf_nan",
    "max_digits",
    "decimal_places",
)


class Param:
    """Base of the location markers; holds the options FastAPI's markers take."""

    location: str = ""

    def __init__(
        self,
        default: Any = Required,
        *,
        default_factory: Callable[[], Any] | None = None,
        alias: str | None = None,
        validation_alias: Any = None,
        serialization_alias: str | None = None,
        alias_priority: int | None = None,
        title: str | None = None,
        description: str | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        regex: str | None = None,
        strict: bool | None = None,
        allow_inf_nan: bool | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        examples: Sequence[Any] | None = None,
        example: Any = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        json_schema_extra: dict[str, Any] | None = None,
        openapi_examples: dict[str, Any] | None = None,
        discriminator: str | None = None,
    ) -> None:
        if regex is not None:
            _deprecated("`regex` has been deprecated, please use `pattern` instead")
        if example is not None:
            _deprecated("`example` has been deprecated, please use `examples` instead")
        self.default = default
        self.default_factory = default_factory
        self.alias = alias
        # FastAPI's reading: a string validation_alias is the name read from the request
        # (and documented); serialization_alias only matters to response models.
        self.validation_alias = validation_alias
        self.serialization_alias = serialization_alias
        self.alias_priority = alias_priority
        self.title = title
        self.description = description
        self.gt, self.ge, self.lt, self.le = gt, ge, lt, le
        self.multiple_of = multiple_of
        self.min_length = min_length
        self.max_length = max_length
        self.pattern = pattern if pattern is not None else regex
        self.strict = strict
        self.allow_inf_nan = allow_inf_nan
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        self.examples = (
            list(examples) if examples is not None else ([example] if example is not None else None)
        )
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.json_schema_extra = json_schema_extra
        self.openapi_examples = openapi_examples
        #: the field naming which member of a union the value is (pydantic's
        #: discriminated unions: one member validated, one error to read)
        self.discriminator = discriminator

    @property
    def has_default(self) -> bool:
        return self.default is not Required or self.default_factory is not None

    def constraints(self) -> dict[str, Any]:
        """The validation constraints that are set, as ``pydantic.Field`` keyword arguments."""
        return {
            name: getattr(self, name) for name in _CONSTRAINTS if getattr(self, name) is not None
        }

    def field_info(self) -> Any:
        """A ``pydantic.Field`` carrying the constraints and the schema texts."""
        import pydantic

        return pydantic.Field(
            title=self.title,
            description=self.description,
            examples=self.examples,
            json_schema_extra=self.json_schema_extra,
            discriminator=self.discriminator,
            **self.constraints(),
        )

    def __repr__(self) -> str:
        default = "" if self.default is Required else repr(self.default)
        return f"{type(self).__name__}({default})"


def _deprecated(message: str) -> None:
    """Warn, as FastAPI does, of a marker option kept for old code, at the caller's line
    (the first frame outside this module: subclasses' ``__init__`` chain up to here)."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    warnings.warn(message, FastAPIDeprecationWarning, stacklevel=level)


class Path(Param):
    """A value captured from the URL path (always required).

    Example:
        >>> from typing import Annotated
        >>> from kettle import Kettle, Path
        >>> app = Kettle(__name__)
        >>> @app.get("/items/{item_id}")
        ... async def item(item_id: Annotated[int, Path(ge=1, title="Item id")]) -> int:
        ...     return item_id
    """

    location = "path"


class Query(Param):
    """A query-string parameter; a ``list[...]`` type collects repeated keys.

    Example:
        >>> from typing import Annotated
        >>> from kettle import Kettle, Query
        >>> app = Kettle(__name__)
        >>> @app.get("/search")
        ... async def search(q: Annotated[str | None, Query(max_length=50)] = None,
        ...                  tag: Annotated[list[str], Query()] = []) -> dict[str, object]:
        ...     return {"q": q, "tags": tag}
    """

    location = "query"


class Header(Param):
    """A request header. ``user_agent`` reads ``User-Agent`` (``convert_underscores``)."""

    location = "header"

    def __init__(
        self, default: Any = Required, *, convert_underscores: bool = True, **options: Any
    ) -> None:
        super().__init__(default, **options)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    """A cookie sent by the client."""

    location = "cookie"


class Body(Param):
    """A JSON body value. ``embed=True`` expects ``{"<name>": value}`` instead of ``value``.

    Several body parameters in one handler are always embedded by name.
    """

    location = "body"

    def __init__(
        self,
        default: Any = Required,
        *,
        embed: bool | None = None,
        media_type: str = "application/json",
        **options: Any,
    ) -> None:
        super().__init__(default, **options)
        self.embed = embed
        self.media_type = media_type


class Form(Param):
    """A field of an urlencoded or multipart form."""

    location = "form"

    def __init__(
        self,
        default: Any = Required,
        *,
        media_type: str = "application/x-www-form-urlencoded",
        **options: Any,
    ) -> None:
        super().__init__(default, **options)
        self.media_type = media_type


class File(Form):
    """An uploaded file of a multipart form (``UploadFile``, or ``bytes`` for its content)."""

    location = "file"

    def __init__(
        self, default: Any = Required, *, media_type: str = "multipart/form-data", **options: Any
    ) -> None:
        super().__init__(default, media_type=media_type, **options)


class Depends:
    """Declare a dependency: kettle calls ``dependency`` and passes its result.

    ``dependency`` may be a function (sync or async), a generator (code after ``yield``
    runs after the response has been sent), or a class. Its own parameters are resolved
    like a handler's. Within one request each dependency runs once and its value is
    shared (``use_cache=False`` opts out). ``scope="app"`` makes a dependency created once
    when the app starts and torn down when it stops.

    Example:
        >>> from kettle import Depends, Kettle
        >>> app = Kettle(__name__)
        >>> def pagination(page: int = 1, size: int = 20) -> dict[str, int]:
        ...     return {"offset": (page - 1) * size, "limit": size}
        >>> @app.get("/items")
        ... async def items(paging: dict[str, int] = Depends(pagination)) -> dict[str, int]:
        ...     return paging
    """

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        use_cache: bool = True,
        scope: str | None = "request",
    ) -> None:
        # None is FastAPI's "not said": the default, request scope.
        scope = scope or "request"
        # "function": a yield dependency closed as soon as the handler returns, before the
        # response is sent (FastAPI's scope="function").
        if scope not in ("request", "app", "function"):
            raise ValueError(f"scope must be 'request', 'function' or 'app', not {scope!r}")
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope = scope

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__name__", repr(self.dependency))
        cache = "" if self.use_cache else ", use_cache=False"
        return f"{type(self).__name__}({name}{cache})"


class Security(Depends):
    """A dependency that also requires OAuth2 ``scopes``.

    A dependency below it that declares a :class:`SecurityScopes` parameter receives the
    scopes of every ``Security`` on the way to it (route, router and app dependencies
    included); the OpenAPI document lists them in the operation's ``security``.

    Example:
        >>> from kettle import Kettle, Security, SecurityScopes
        >>> from kettle.testing import TestClient
        >>> def needs(scopes: SecurityScopes) -> list[str]:
        ...     return scopes.scopes
        >>> def user(granted: list[str] = Security(needs, scopes=["me"])) -> list[str]:
        ...     return granted
        >>> app = Kettle(__name__)
        >>> @app.get("/items")
        ... async def items(granted: list[str] = Security(user, scopes=["items"])) -> list[str]:
        ...     return granted
        >>> sorted(TestClient(app).get("/items").json())
        ['items', 'me']
    """

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache)
        self.scopes = list(scopes or ())


class SecurityScopes:
    """The OAuth2 scopes required by the ``Security`` dependencies on the way to this one.

    A dependency receives it by declaring a parameter of this type.

    Example:
        >>> scopes = SecurityScopes(["me", "items"])
        >>> scopes.scopes, scopes.scope_str
        (['me', 'items'], 'me items')
        >>> f'Bearer scope="{scopes.scope_str}"'
        'Bearer scope="me items"'
    """

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes = list(scopes or ())

    @property
    def scope_str(self) -> str:
        """The scopes separated by spaces, as in a ``WWW-Authenticate`` header."""
        return " ".join(self.scopes)
