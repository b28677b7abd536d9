"""Accounts: register, log in, log out, with kettle's password hashing and login sessions.

Passwords are hashed with argon2id by :mod:`kettle.security.passwords`; the session
login (``current_user``, ``login_required``, remember-me) is :mod:`kettle.login`. The
forms are protected by ``CSRFMiddleware`` (``app.py``): each template puts
``{{ csrf_input() }}`` first in its form.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from kettle import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from kettle.login import UserMixin, login_user, logout_user, safe_next_url
from kettle.security.passwords import PasswordHasher

from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")

MAX_USERNAME = 40

#: Refused logins all get this message, whether the username exists or not.
BAD_LOGIN = "Incorrect username or password."


@dataclass(frozen=True)
class User(UserMixin):
    """A row of the users table, as ``current_user`` (``get_id()`` is ``str(id)``)."""

    id: int
    username: str


def password_hasher() -> PasswordHasher:
    """The app's hasher: ``config["PASSWORD_HASHER"]`` (argon2id; the tests use cheap
    parameters). Raising its parameters later is safe: hashes are upgraded at login."""
    hasher: PasswordHasher = current_app.config["PASSWORD_HASHER"]
    return hasher


def load_user(user_id: str) -> User | None:
    """The user loader of the app's ``LoginManager``: the user with this id, if any.

    It runs the first time a request uses ``current_user``, in the thread doing so, so
    the request's connection on ``g`` is used. ``None`` (a deleted account) logs out.
    """
    if not user_id.isdigit():
        return None
    row = get_db().execute("SELECT id, username FROM users WHERE id = ?", (int(user_id),))
    found = row.fetchone()
    return User(found["id"], found["username"]) if found is not None else None


def submitted_form() -> Any:
    """What the form posted, to fill its fields again after an error; empty on a GET.

    (kettle's ``request.form`` answers a request without a form body with a 415, even
    for ``.get()``, where Flask gives an empty dict: see the tests.)
    """
    return request.form if request.method == "POST" else {}


# -- views ---------------------------------------------------------------------------------


@bp.route("/register", methods=("GET", "POST"))
def register() -> str | Response:
    if request.method == "POST":
        username = request.form["username"].strip()
        password = request.form["password"]
        hasher = password_hasher()
        error = None
        if not username:
            error = "Username is required."
        elif len(username) > MAX_USERNAME:
            error = f"Usernames have at most {MAX_USERNAME} characters."
        elif not password:
            error = "Password is required."
        elif len(password) > hasher.max_length:
            # The hasher refuses longer ones: this bounds the work one request asks.
            error = f"Passwords have at most {hasher.max_length} characters."
        if error is None:
            db = get_db()
            try:
                db.execute(
                    "INSERT INTO users (username, password_hash) VALUES (?, ?)",
                    (username, hasher.hash(password)),
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
        password = request.form["password"]
        db = get_db()
        row = db.execute(
            "SELECT id, username, password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
        # An unknown user (None) is checked against a dummy hash: it costs what a wrong
        # password costs, so the response time does not tell which usernames exist.
        ok, new_hash = password_hasher().verify_and_update(
            password, row["password_hash"] if row is not None else None
        )
        if ok and row is not None:
            if new_hash is not None:
                # Hashed with older parameters than the hasher's: store the stronger hash.
                db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, row["id"]))
                db.commit()
            # login_user rotates the session: nothing from before (a planted cookie, the
            # anonymous CSRF secret) carries over.
            login_user(
                User(row["id"], row["username"]), remember=request.form.get("remember") == "on"
            )
            # Only a path on this site: ?next=//evil.com must not send users elsewhere.
            return redirect(safe_next_url(request.args.get("next"), default=url_for("blog.index")))
        flash(BAD_LOGIN, "error")
    return render_template("auth/login.html", form=submitted_form())


@bp.route("/logout", methods=("POST",))
def logout() -> Response:
    # POST only, with a CSRF token: neither a link nor a form on another site can log the
    # user out. The session is emptied (which deletes its cookie), and so is remember-me.
    logout_user()
    return redirect(url_for("blog.index"))
