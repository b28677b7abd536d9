"""Accounts: register, log in, log out; ``g.user`` and the ``login_required`` decorator."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from kettle import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .db import get_db

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("auth", __name__, url_prefix="/auth")

MAX_USERNAME = 40
MAX_PASSWORD = 1024  # scrypt hashes any length; this only bounds the work one request asks


# -- passwords: scrypt from the standard library -------------------------------------------


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``: the parameters travel with the hash, so raising the
    cost (``PASSWORD_SCRYPT_N``) later leaves existing passwords valid."""
    n, r, p = int(current_app.config["PASSWORD_SCRYPT_N"]), 8, 1
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, r, p)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (made by :func:`hash_password`)."""
    try:
        method, n, r, p, salt, digest = stored.split("$")
        if method != "scrypt":
            return False
        computed = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
        return hmac.compare_digest(computed, bytes.fromhex(digest))
    except ValueError:  # a malformed hash never matches
        return False


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
    )


# -- the logged-in user --------------------------------------------------------------------


@bp.before_app_request
def load_logged_in_user() -> None:
    """Set ``g.user`` (a row with ``id`` and ``username``, or None) for every request."""
    user_id = session.get("user_id")
    if user_id is None:
        g.user = None
        return
    g.user = get_db().execute("SELECT id, username FROM users WHERE id = ?", (user_id,)).fetchone()


def login_required(view: F) -> F:
    """Send visitors who are not logged in to the login page (and back afterwards)."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(**kwargs)

    return wrapped_view  # type: ignore[return-value]


def submitted_form() -> Any:
    """What the form posted, to fill its fields again after an error; empty on a GET.

    (kettle's ``request.form`` answers a request without a form body with a 415, even
    for ``.get()``, where Flask gives an empty dict: see the tests.)
    """
    return request.form if request.method == "POST" else {}


def _safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


# -- views ---------------------------------------------------------------------------------


@bp.route("/register", methods=("GET", "POST"))
def register() -> str | Response:
    if request.method == "POST":
        username = request.form["username"].strip()
        password = request.form["password"]
        error = None
        if not username:
            error = "Username is required."
        elif len(username) > MAX_USERNAME:
            error = f"Usernames have at most {MAX_USERNAME} characters."
        elif not password:
            error = "Password is required."
        elif len(password) > MAX_PASSWORD:
            error = f"Passwords have at most {MAX_PASSWORD} characters."
        if error is None:
            db = get_db()
            try:
                db.execute(
                    "INSERT INTO users (username, password_hash) VALUES (?, ?)",
                    (username, hash_password(password)),
                )
                db.commit()
            except sqlite3.IntegrityError:
                error = f"The username {username} is already taken."
            else:
                flash("Your account is ready: please log in.", "info")
                return redirect(url_for("auth.login"))
        flash(error, "error")
    return render_template("auth/register.html", form=submitted_form())


@bp.route("/login", methods=("GET", "POST"))
def login() -> str | Response:
    if request.method == "POST":
        username = request.form["username"].strip()
        password = request.form["password"][:MAX_PASSWORD]
        user = (
            get_db()
            .execute("SELECT id, password_hash FROM users WHERE username = ?", (username,))
            .fetchone()
        )
        if user is None:
            # Hash anyway, so an unknown name takes as long to refuse as a wrong password.
            hash_password(password)
        elif check_password(user["password_hash"], password):
            # A new session on login: nothing from before (a planted id) carries over.
            session.clear()
            session["user_id"] = user["id"]
            target = _safe_next(request.args.get("next")) or url_for("blog.index")
            return redirect(target)
        flash("Incorrect username or password.", "error")
    return render_template("auth/login.html", form=submitted_form())


@bp.route("/logout", methods=("POST",))
def logout() -> Response:
    # POST only: a link or image on another site cannot log the user out.
    # An emptied session deletes the cookie.
    session.clear()
    return redirect(url_for("blog.index"))
