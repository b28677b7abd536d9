"""The settings of an app's OpenAPI document and docs pages, and the security hook.

Plain data only: nothing here imports pydantic or builds anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from kettle.plan import RoutePlan
    from kettle.routing.patterns import PathPattern
    from kettle.routing.routes import Route
    from kettle.serialization import ResponseEncoder

#: One compiled HTTP route as the app keeps it after ``compile()``: the flattened route,
#: its parsed path, its plan (the handler and dependency specs) and its response encoder.
PlanEntry: TypeAlias = "tuple[Route, PathPattern, RoutePlan, ResponseEncoder | None]"

#: A JSON object of the document.
JSONDict: TypeAlias = dict[str, Any]

#: Whose conventions a document follows: kettle's own, or FastAPI's (see
#: :mod:`kettle.openapi.conventions`).
Conventions: TypeAlias = Literal["kettle", "fastapi"]

#: The OpenAPI version of the documents kettle writes.
OPENAPI_VERSION = "3.1.0"


@dataclasses.dataclass(slots=True)
class OpenAPIConfig:
    """What the app's document says about itself, and where its docs are served.

    ``Kettle(__name__, title=..., version=..., description=...)`` and the keyword arguments
    of the same names below fill one of these (``app.openapi_config``). Any URL set to
    ``None`` turns that page off; with ``openapi_url=None`` there is no document, so no
    docs pages either.

    Attributes:
        openapi_url: where the JSON document is served.
        docs_url: the Swagger UI page.
        redoc_url: the ReDoc page.
        swagger_ui_oauth2_redirect_url: the page Swagger UI's "Authorize" returns to
            (relative to ``docs_url``'s app, not to the page).
        docs_static_url: where the pages' scripts and styles are served; by default
            ``static`` under ``docs_url`` (or under ``redoc_url`` without Swagger UI).
        summary, terms_of_service, contact, license_info: the ``info`` object's fields
            (``contact`` = ``{"name", "url", "email"}``, ``license_info`` =
            ``{"name", "identifier"}`` or ``{"name", "url"}``).
        openapi_tags: the ``tags`` list: ``[{"name": ..., "description": ...}, ...]``;
            its order is the order of the groups in the docs pages.
        servers: the ``servers`` list (``[{"url": "https://api.example.com"}]``). When it
            is empty and the app runs under a ``root_path``, the served document names
            that prefix as its server, so "Try it out" calls the right URLs.
        root_path_in_servers: whether to do that.
        generate_unique_id_function: ``f(route) -> str``: the ``operationId`` of a route
            without an explicit ``operation_id`` (a method suffix is added for routes
            serving several methods; repeats get ``_2``, ``_3``...).
        separate_input_output_schemas: a model whose JSON Schema differs between what
            is accepted and what is sent (defaults, computed fields) is documented twice,
            as ``Model-Input`` and ``Model-Output``. ``False`` documents the input form only.
        swagger_ui_parameters: Swagger UI options (JSON values), over kettle's defaults.
        swagger_ui_init_oauth: the options of Swagger UI's ``initOAuth`` (client id, ...).
        redoc_options: ReDoc options (JSON values).
        docs_title, redoc_title: page titles (default: the app's title and the UI's name).
        favicon_url: the pages' icon (default: Swagger's, served by the app).
        docs_assets_dir: a folder holding ``swagger-ui-bundle.js``, ``swagger-ui.css``
            and/or ``redoc.standalone.js`` to serve instead of the bundled ones.
        external_docs: the document's ``externalDocs`` object.
        webhooks: the document's ``webhooks`` object, as written.
        conventions: ``"kettle"`` (short operation ids, the responses a handler really
            gives) or ``"fastapi"``: the document FastAPI writes for the same app
            (``kettle.fastapi.FastAPI`` sets it; see :mod:`kettle.openapi.conventions`).
    """

    openapi_url: str | None = "/openapi.json"
    docs_url: str | None = "/docs"
    redoc_url: str | None = "/redoc"
    swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect"
    docs_static_url: str | None = None
    summary: str | None = None
    terms_of_service: str | None = None
    contact: Mapping[str, Any] | None = None
    license_info: Mapping[str, Any] | None = None
    openapi_tags: Sequence[Mapping[str, Any]] | None = None
    servers: Sequence[Mapping[str, Any]] | None = None
    root_path_in_servers: bool = True
    generate_unique_id_function: Callable[[Route], str] | None = None
    separate_input_output_schemas: bool = True
    swagger_ui_parameters: Mapping[str, Any] | None = None
    swagger_ui_init_oauth: Mapping[str, Any] | None = None
    redoc_options: Mapping[str, Any] | None = None
    docs_title: str | None = None
    redoc_title: str | None = None
    favicon_url: str | None = None
    docs_assets_dir: str | None = None
    external_docs: Mapping[str, Any] | None = None
    webhooks: Mapping[str, Any] | None = None
    conventions: Conventions = "kettle"

    @classmethod
    def from_options(cls, base: OpenAPIConfig | None = None, **options: Any) -> OpenAPIConfig:
        """``base`` (or the defaults) with the ``options`` that differ from the defaults.

        This is how ``Kettle(openapi=..., docs_url=...)`` combines its arguments: a
        keyword argument left at its default does not undo a setting of ``openapi=``.

        Example:
            >>> base = OpenAPIConfig(docs_url=None)
            >>> config = OpenAPIConfig.from_options(base, docs_url="/docs", redoc_url="/ref")
            >>> config.docs_url, config.redoc_url
            (None, '/ref')
        """
        defaults = cls()
        changed = {k: v for k, v in options.items() if v != getattr(defaults, k)}
        return dataclasses.replace(base or defaults, **changed)

    def __post_init__(self) -> None:
        for name in (
            "openapi_url",
            "docs_url",
            "redoc_url",
            "swagger_ui_oauth2_redirect_url",
            "docs_static_url",
        ):
            value = getattr(self, name)
            if value is not None and not value.startswith("/"):
                raise ValueError(f"{name} must start with '/' (or be None): {value!r}")


@dataclasses.dataclass(frozen=True, slots=True)
class SecurityScheme:
    """What a security dependency adds to the document.

    The schemes of :mod:`kettle.security` (``OAuth2PasswordBearer``, ``HTTPBasic``,
    ``APIKeyHeader``...) carry one already; this is for a dependency of your own. Give a
    dependency (a function, a class or a callable instance) an ``openapi_security``
    attribute holding one of these: every operation that depends on it, directly or
    through other dependencies, then requires it, and ``components/securitySchemes``
    defines it. The scopes of ``Security(dep, scopes=[...])`` on the way are listed in the
    requirement.

    Attributes:
        name: the key in ``securitySchemes`` (one name, one scheme).
        scheme: the Security Scheme Object (``{"type": "http", "scheme": "bearer"}``...).
        optional: the dependency lets requests without credentials through; the
            operation then also accepts no security at all (``{}``).

    Example:
        >>> bearer = SecurityScheme("bearer", {"type": "http", "scheme": "bearer"})
        >>> def current_user() -> str:
        ...     return "ada"
        >>> current_user.openapi_security = bearer  # type: ignore[attr-defined]
    """

    name: str
    scheme: Mapping[str, Any]
    optional: bool = False


#: The attributes read from a dependency for its security scheme, in order.
SECURITY_ATTRIBUTES = ("openapi_security", "__kettle_security__")
