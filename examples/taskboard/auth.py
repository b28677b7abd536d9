"""Accounts: sign up, log in, log out and the avatar, with kettle's login sessions.

Passwords are argon2id hashes (:class:`kettle.security.passwords.PasswordHasher`),
computed in the thread pool so a login never stalls the event loop. Logging in rotates
the session (:func:`kettle.login.login_user`); every form carries the CSRF token.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kettle import Blueprint, Response, current_app, flash, redirect, render_template, request
from kettle.login import current_user, login_required, login_user, logout_user, safe_next_url
from kettle.security.passwords import PasswordHasher

from .db import Session
from .models import User
from .uploads import IMAGE_TYPES, UploadRefused, save_upload

bp = Blueprint("auth", __name__, include_in_schema=False)

MAX_NAME = 80
MIN_PASSWORD = 8
#: one @, something on each side, a dot in the domain: the rest is the mail server's job
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,63}$")
BAD_LOGIN = "Incorrect email or password."


def hasher() -> PasswordHasher:
    found: PasswordHasher = current_app.state.hasher
    return found


async def load_user(user_id: str) -> User | None:
    """The login manager's user loader: the user with this id, if any."""
    if not user_id.isdigit():
        return None
    async with current_app.state.db.sessions() as session:
        found: User | None = await session.get(User, int(user_id))
        return found


async def _form() -> Any:
    return await request.form() if request.method == "POST" else {}


@bp.route("/signup", methods=["GET", "POST"])
async def signup(session: Session) -> str | Response:
    form = await _form()
    if request.method == "POST":
        email = str(form.get("email", "")).strip().lower()
        name = str(form.get("name", "")).strip()
        password = str(form.get("password", ""))
        error = None
        if not _EMAIL.match(email):
            error = "Enter a valid email address."
        elif not name or len(name) > MAX_NAME:
            error = f"Enter your name (at most {MAX_NAME} characters)."
        elif len(password) < MIN_PASSWORD:
            error = f"Passwords have at least {MIN_PASSWORD} characters."
        elif len(password) > hasher().max_length:
            error = f"Passwords have at most {hasher().max_length} characters."
        if error is None:
            hashed = await current_app.thread_pool.run(hasher().hash, password)
            user = User(email=email, name=name, password_hash=hashed)
            session.add(user)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                error = "An account with this email already exists."
            else:
                login_user(user)
                flash(f"Welcome, {user.name}! Your account is ready.", "success")
                return redirect("/")
        flash(error, "error")
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
async def login(session: Session) -> str | Response:
    form = await _form()
    if request.method == "POST":
        email = str(form.get("email", "")).strip().lower()
        password = str(form.get("password", ""))
        user = await session.scalar(select(User).where(User.email == email))
        # An unknown email is checked against a dummy hash: the same time as a wrong
        # password, so the answer does not tell which emails have accounts.
        ok, upgraded = await current_app.thread_pool.run(
            hasher().verify_and_update, password, user.password_hash if user else None
        )
        if ok and user is not None:
            if upgraded is not None:
                user.password_hash = upgraded
                await session.commit()
            login_user(user, remember=bool(form.get("remember")))
            flash(f"Signed in as {user.name}.", "success")
            return redirect(safe_next_url(request.args.get("next"), "/"))
        flash(BAD_LOGIN, "error")
    settings = current_app.state.settings
    demo = settings.demo_data
    return render_template("auth/login.html", form=form, demo=demo)


@bp.post("/logout")
async def logout() -> Response:
    logout_user()
    flash("You are signed out.", "info")
    return redirect("/login")


@bp.route("/profile", methods=["GET", "POST"])
@login_required
async def profile(session: Session) -> str | Response:
    if request.method == "POST":
        form = await request.form()
        upload = form.get("avatar")
        try:
            stored = await save_upload(upload, IMAGE_TYPES)
        except UploadRefused as refused:
            flash(str(refused), "error")
            return render_template("auth/profile.html"), refused.status
        user = await session.get(User, current_user.id)
        assert user is not None
        user.avatar = stored.stored_name
        await session.commit()
        flash("Your avatar is updated.", "success")
        return redirect("/profile")
    return render_template("auth/profile.html")
