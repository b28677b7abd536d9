"""``kettle.fastapi`` and ``kettle.flask`` alias kettle's core objects; they implement nothing.

Every name they export is the very object from kettle's core modules. A definition
(``def``, ``async def``, ``class``, ``lambda``) in them is a second implementation unless it
is one of the few adapters listed in :data:`ADAPTERS`, each with the reason it exists.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from http import HTTPStatus
from pathlib import Path
from types import ModuleType

import pytest

import kettle
import kettle.fastapi
import kettle.flask
from kettle.fastapi import status

COMPAT_PACKAGES = ("kettle.fastapi", "kettle.flask")

#: ``module:name`` of each definition a compat module may hold (with what is nested in it).
ADAPTERS = {
    # Flask's Response keyword names (status="404 NOT FOUND", mimetype=, content_type=) adapted.
    "kettle.flask:Response",
    # Makes the HTTP_* names, generated from HTTPStatus, known to type checkers (PEP 562).
    "kettle.fastapi.status:__getattr__",
    # FastAPI's defaults (title "FastAPI", FastAPI's OpenAPI conventions) and its openapi keywords.
    "kettle.fastapi.applications:FastAPI",
}

#: Modules exporting a table of values rather than kettle's objects: checked on their own.
TABLES = {"kettle.fastapi.status"}


def _compat_modules() -> list[str]:
    names = []
    for package_name in COMPAT_PACKAGES:
        package = importlib.import_module(package_name)
        names.append(package_name)
        names += [info.name for info in pkgutil.walk_packages(package.__path__, package_name + ".")]
    return sorted(names)


COMPAT_MODULES = _compat_modules()


def _is_core(module_name: str) -> bool:
    return (module_name == "kettle" or module_name.startswith("kettle.")) and not any(
        module_name == p or module_name.startswith(p + ".") for p in COMPAT_PACKAGES
    )


def _tree(module: ModuleType) -> ast.Module:
    return ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))


def _definitions(tree: ast.Module) -> list[tuple[str, int]]:
    """Each definition's dotted name and line; what an :data:`ADAPTERS` entry allows is
    kept as the entry's one name (its methods are part of the adapter)."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found.append((prefix + child.name, child.lineno))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.Lambda):
                found.append((prefix + "<lambda>", child.lineno))
                visit(child, prefix + "<lambda>.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _imported(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """Each name bound at the top by ``from m import a as b`` or ``b = a``: b -> (m, a)."""
    bound: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                bound[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            for target in node.targets:
                if isinstance(target, ast.Name) and node.value.id in bound:
                    bound[target.id] = bound[node.value.id]
    return bound


def _exported(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and not isinstance(v, ModuleType)
        ]
    return sorted(names)


def test_the_compat_packages_are_all_walked() -> None:
    # walk_packages found the submodules, so a new one cannot escape the tests below
    assert {"kettle.fastapi.responses", "kettle.flask.views"} <= set(COMPAT_MODULES)


@pytest.mark.parametrize("module_name", COMPAT_MODULES)
def test_no_definitions_but_the_adapters(module_name: str) -> None:
    tree = _tree(importlib.import_module(module_name))
    allowed = {entry.partition(":")[2] for entry in ADAPTERS if entry.startswith(module_name + ":")}
    defined = _definitions(tree)
    extra = [
        f"{module_name}:{line}: {name}"
        for name, line in defined
        if name.partition(".")[0] not in allowed
    ]
    assert not extra, "compat modules alias core objects; define these in kettle's core"
    # No stale entries: every adapter listed is still defined here.
    assert allowed <= {name for name, _ in defined}


@pytest.mark.parametrize("module_name", sorted(set(COMPAT_MODULES) - TABLES))
def test_every_export_is_the_core_object(module_name: str) -> None:
    module = importlib.import_module(module_name)
    imported = _imported(_tree(module))
    exported = _exported(module)
    assert exported, f"{module_name} exports nothing"
    for name in exported:
        if f"{module_name}:{name}" in ADAPTERS:
            continue
        assert name in imported, f"{module_name}.{name} is not imported from kettle's core"
        source, original = imported[name]
        if f"{source}:{original}" in ADAPTERS:  # an adapter, re-exported by its package
            assert getattr(module, name) is getattr(importlib.import_module(source), original)
            continue
        assert _is_core(source), f"{module_name}.{name} comes from {source}, not kettle's core"
        core = getattr(importlib.import_module(source), original)
        assert getattr(module, name) is core, f"{module_name}.{name} is not {source}.{original}"
        if inspect.isclass(core) or inspect.isfunction(core):
            assert _is_core(core.__module__), f"{source}.{original} is defined outside the core"


def test_the_adapters_adapt_core_objects() -> None:
    assert issubclass(kettle.flask.Response, kettle.Response)
    assert kettle.flask.Response.__mro__[1] is kettle.Response  # nothing in between


def test_status_is_the_standard_librarys_table_and_kettles_close_codes() -> None:
    from kettle.socketerrors import CloseCode

    http = [f"HTTP_{s.value}_{s.name}" for s in HTTPStatus]
    ws = [f"WS_{c.value}_{c.name}" for c in CloseCode]
    assert status.__all__ == sorted(http + ws)
    for name in http:
        assert getattr(status, name) is HTTPStatus[name.split("_", 2)[2]].value
    for name in ws:
        assert getattr(status, name) == CloseCode[name.split("_", 2)[2]]
    assert status.WS_1008_POLICY_VIOLATION == 1008
    with pytest.raises(AttributeError, match="HTTP_999_NO_SUCH_STATUS"):
        status.HTTP_999_NO_SUCH_STATUS  # noqa: B018


def test_fastapi_and_flask_names_of_the_app_are_kettle() -> None:
    # kettle's app, or the FastAPI-defaults adapter right on top of it
    assert kettle.Kettle in kettle.fastapi.FastAPI.__mro__[:2]
    assert kettle.fastapi.APIRouter is kettle.Router
    assert kettle.flask.Flask is kettle.Kettle
    assert kettle.flask.request is kettle.request


def test_fastapi_security_names_are_kettles_schemes() -> None:
    import kettle.fastapi.security as fastapi_security
    import kettle.security as security
    from kettle.fastapi.security import api_key, http, oauth2, open_id_connect_url, utils

    assert {"kettle.fastapi.security.oauth2", "kettle.fastapi.security.utils"} <= set(
        COMPAT_MODULES
    )
    for name in fastapi_security.__all__:
        assert getattr(fastapi_security, name) is getattr(security, name)
    assert oauth2.OAuth2PasswordBearer is security.OAuth2PasswordBearer
    assert oauth2.SecurityScopes is kettle.SecurityScopes
    assert http.HTTPBasic is security.HTTPBasic
    assert api_key.APIKeyHeader is security.APIKeyHeader
    assert open_id_connect_url.OpenIdConnect is security.OpenIdConnect
    assert utils.get_authorization_scheme_param is security.get_authorization_scheme_param
    assert kettle.fastapi.Security is security.Security is kettle.Security


def test_fastapi_middleware_names_are_kettles_middleware() -> None:
    import kettle.middleware as core
    from kettle.fastapi.middleware import Middleware, cors, gzip, httpsredirect, trustedhost

    assert Middleware is core.Middleware
    assert cors.CORSMiddleware is core.CORSMiddleware
    assert gzip.GZipMiddleware is core.GZipMiddleware
    assert httpsredirect.HTTPSRedirectMiddleware is core.HTTPSRedirectMiddleware
    assert trustedhost.TrustedHostMiddleware is core.TrustedHostMiddleware


def test_fastapi_apps_answer_json_and_serve_no_folders_by_themselves() -> None:
    from kettle.fastapi import FastAPI
    from kettle.testing import TestClient

    app = FastAPI(root_path="/api/v1")

    @app.get("/name")
    def name(request: kettle.Request) -> str:
        return str(request.scope["root_path"])

    assert app.static_folder is None
    assert app.template_folder is None
    response = TestClient(app).get("/name")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == "/api/v1"
