"""Users, API tokens and permissions over the metadata store.

Passwords: ``hashlib.scrypt`` (stdlib) with a random salt, compared in constant time. Every
basic login costs one scrypt run whether or not the user exists (an unknown name is checked
against a fixed hash), so timing does not tell which names exist; repeated failures are
throttled (``stead.server.throttle``).

Every request reads the user's row (or the token's) from the store, so a deleted user, a
changed password or a revoked token stops working at once on every server process. What a
process remembers is only which password it already verified against which stored hash
(keyed by an HMAC under a per-process key, never the secret itself): a busy client does not
pay scrypt per request, and a new hash in the store no longer matches.
Tokens: ``stead_`` + 32 random bytes, stored only as a SHA-256 digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from stead.errors import AlreadyExists, InternalError, InvalidParameter, NotFound, Unauthenticated
from stead.server.tables import api_tokens, experiment_permissions, registered_model_permissions, users
from stead.server.throttle import LoginThrottle
from stead.store import Store
from stead.store.upsert import upsert

__all__ = ["User", "Credentials", "UserService", "LEVELS", "SESSION_TOKEN_NAME", "hash_password", "verify_password"]

LEVELS = {"READ": 1, "EDIT": 2, "MANAGE": 3}
SESSION_TOKEN_NAME = "ui session"  # the tokens behind the web UI's login sessions
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_MIN_PASSWORD = 8
_MAX_VERIFIED = 10_000
# What an unknown user name is checked against: a hash of random bytes nobody knows, with the
# same parameters as every real one, so an unknown name costs what a known one does.
_NOBODY = "scrypt$16384$8$1$jAWCdaFWfJD0MQITaa7zxg==$V7GhChDhiDW+yFHnvffs/dzhFEV5YxhOUFDd4BYVblc="


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_admin: bool


def _derive(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    """The one key-derivation call (a test counts them: both login paths make one)."""
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _derive(password.encode(), salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = _derive(password.encode(), base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_username(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 255 or any(c in name for c in ":\r\n\t"):
        raise InvalidParameter(f"Invalid user name {name!r}: use 1-255 characters without ':' or line breaks")
    return name.strip()


def _check_level(level: str) -> str:
    level = level.upper()
    if level not in LEVELS:
        raise InvalidParameter(f"Invalid permission {level!r}: use READ, EDIT or MANAGE")
    return level


@dataclass(frozen=True)
class Credentials:
    """What a request presents: ``scheme`` (``basic``/``bearer``), the secret
    (``user:password`` or the token) and the client's address (for throttling)."""

    scheme: str
    secret: str
    client: str | None = None


class UserService:
    def __init__(self, store: Store, throttle: LoginThrottle | None = None) -> None:
        self.store = store
        self.throttle = throttle or LoginThrottle()
        self._verified: dict[bytes, str] = {}  # HMAC of user:password -> the hash it matched
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()

    # ---- users -------------------------------------------------------------------
    def create_user(self, username: str, password: str, *, admin: bool = False) -> User:
        username = _check_username(username)
        if len(password) < _MIN_PASSWORD:
            raise InvalidParameter(f"Password too short: use at least {_MIN_PASSWORD} characters")
        with self.store.write() as conn:
            if conn.execute(select(users.c.id).where(users.c.username == username)).first():
                raise AlreadyExists(f"User {username!r} already exists")
            result = conn.execute(
                users.insert().values(
                    username=username,
                    password_hash=hash_password(password),
                    is_admin=admin,
                    created_time=int(time.time() * 1000),
                )
            )
            return User(_new_id(result), username, admin)

    def get_user(self, username: str) -> User:
        with self.store.read() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        if row is None:
            raise NotFound(f"No user {username!r}; list users with `stead users list`")
        return User(row.id, row.username, bool(row.is_admin))

    def list_users(self) -> list[User]:
        with self.store.read() as conn:
            rows = conn.execute(select(users).order_by(users.c.username)).all()
        return [User(r.id, r.username, bool(r.is_admin)) for r in rows]

    def delete_user(self, username: str) -> None:
        user = self.get_user(username)
        with self.store.write() as conn:
            for table in (api_tokens, experiment_permissions, registered_model_permissions):
                conn.execute(delete(table).where(table.c.user_id == user.id))
            conn.execute(delete(users).where(users.c.id == user.id))

    def set_password(self, username: str, password: str) -> None:
        if len(password) < _MIN_PASSWORD:
            raise InvalidParameter(f"Password too short: use at least {_MIN_PASSWORD} characters")
        user = self.get_user(username)
        with self.store.write() as conn:
            conn.execute(update(users).where(users.c.id == user.id).values(password_hash=hash_password(password)))

    # ---- tokens ------------------------------------------------------------------
    def create_token(self, username: str, name: str) -> tuple[int, str]:
        """A new token for ``username``; the plain token is shown once and never stored."""
        user = self.get_user(username)
        token = "stead_" + secrets.token_urlsafe(32)
        with self.store.write() as conn:
            result = conn.execute(
                api_tokens.insert().values(
                    user_id=user.id, name=name, token_hash=_token_hash(token), created_time=int(time.time() * 1000)
                )
            )
        return _new_id(result), token

    def list_tokens(self, username: str | None = None) -> list[dict[str, object]]:
        stmt = select(api_tokens, users.c.username).join(users, users.c.id == api_tokens.c.user_id)
        if username:
            stmt = stmt.where(users.c.username == username)
        with self.store.read() as conn:
            rows = conn.execute(stmt.order_by(api_tokens.c.id)).all()
        return [
            {"id": r.id, "user": r.username, "name": r.name, "created_time": r.created_time,
             "revoked": r.revoked_time is not None}
            for r in rows
        ]

    def revoke_token(self, token_id: int) -> None:
        with self.store.write() as conn:
            result = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_time.is_(None))
                .values(revoked_time=int(time.time() * 1000))
            )
        if result.rowcount == 0:
            raise NotFound(f"No active token with id {token_id}; list them with `stead tokens list`")

    # ---- authentication ----------------------------------------------------------
    def authenticate(self, creds: Credentials | None) -> User:
        """The user behind the credentials; ``Unauthenticated`` otherwise, and
        ``TooManyRequests`` while the user name or the client address is throttled."""
        if creds is None:
            raise Unauthenticated(
                "Authentication required: send HTTP basic credentials (MLFLOW_TRACKING_USERNAME / "
                "MLFLOW_TRACKING_PASSWORD) or a bearer token (MLFLOW_TRACKING_TOKEN)"
            )
        if creds.scheme == "bearer":
            keys = self.throttle.keys(None, creds.client)
            self.throttle.check(keys)
            user = self._verify_bearer(creds.secret)
        else:
            username, sep, password = creds.secret.partition(":")
            keys = self.throttle.keys(username if sep else None, creds.client)
            self.throttle.check(keys)
            user = self._verify_basic(username, password) if sep else None
            if user is not None:
                self.throttle.succeeded(username)
        if user is None:
            self.throttle.failed(keys)
            raise Unauthenticated("Invalid credentials: unknown user, wrong password or revoked token")
        return user

    # ---- browser sessions (stead.ui) ------------------------------------------------
    def start_session(self, user: User) -> str:
        """A new session secret for ``user``: an API token named ``SESSION_TOKEN_NAME``, so that
        ``stead tokens list`` shows it and ``stead tokens revoke`` ends it."""
        return self.create_token(user.username, SESSION_TOKEN_NAME)[1]

    def session_user(self, token: str, max_age_s: float) -> User | None:
        """The user of a live session secret no older than ``max_age_s``; None otherwise.
        Not throttled: a secret of 32 random bytes cannot be guessed."""
        oldest = int((time.time() - max_age_s) * 1000)
        with self.store.read() as conn:
            row = conn.execute(
                select(users.c.id, users.c.username, users.c.is_admin)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == _token_hash(token), api_tokens.c.revoked_time.is_(None),
                       api_tokens.c.name == SESSION_TOKEN_NAME, api_tokens.c.created_time >= oldest)
            ).first()
        return User(row.id, row.username, bool(row.is_admin)) if row else None

    def end_session(self, token: str) -> None:
        """Revoke a session secret (logging out); unknown ones are ignored."""
        with self.store.write() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.token_hash == _token_hash(token),
                                                  api_tokens.c.name == SESSION_TOKEN_NAME,
                                                  api_tokens.c.revoked_time.is_(None))
                         .values(revoked_time=int(time.time() * 1000)))

    def _verify_bearer(self, token: str) -> User | None:
        with self.store.read() as conn:
            row = conn.execute(
                select(users.c.id, users.c.username, users.c.is_admin)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == _token_hash(token), api_tokens.c.revoked_time.is_(None))
            ).first()
        return User(row.id, row.username, bool(row.is_admin)) if row else None

    def _verify_basic(self, username: str, password: str) -> User | None:
        with self.store.read() as conn:
            row = conn.execute(
                select(users.c.id, users.c.username, users.c.is_admin, users.c.password_hash)
                .where(users.c.username == username)
            ).first()
        stored = row.password_hash if row is not None else _NOBODY
        key = hmac.new(self._key, f"{username}\0{password}".encode(), hashlib.sha256).digest()
        if row is not None and self._verified.get(key) == stored:
            return User(row.id, row.username, bool(row.is_admin))
        if not verify_password(password, stored) or row is None:
            return None
        with self._lock:
            if len(self._verified) >= _MAX_VERIFIED:
                self._verified.clear()
            self._verified[key] = stored
        return User(row.id, row.username, bool(row.is_admin))

    # ---- permissions -------------------------------------------------------------
    def grant(self, username: str, *, experiment_id: str | None = None, registered_model: str | None = None,
              level: str) -> None:
        level = _check_level(level)
        user = self.get_user(username)
        with self.store.write() as conn:
            if experiment_id is not None:
                upsert(conn, experiment_permissions,
                       [{"experiment_id": str(experiment_id), "user_id": user.id, "permission": level}],
                       keys=("experiment_id", "user_id"), update=("permission",))
            if registered_model is not None:
                upsert(conn, registered_model_permissions,
                       [{"name": registered_model, "user_id": user.id, "permission": level}],
                       keys=("name", "user_id"), update=("permission",))

    def revoke(self, username: str, *, experiment_id: str | None = None, registered_model: str | None = None) -> None:
        user = self.get_user(username)
        with self.store.write() as conn:
            if experiment_id is not None:
                conn.execute(delete(experiment_permissions).where(
                    experiment_permissions.c.user_id == user.id,
                    experiment_permissions.c.experiment_id == str(experiment_id)))
            if registered_model is not None:
                conn.execute(delete(registered_model_permissions).where(
                    registered_model_permissions.c.user_id == user.id,
                    registered_model_permissions.c.name == registered_model))

    def experiment_levels(self, user: User, experiment_ids: list[str]) -> dict[str, int]:
        """The user's level (1-3) on each experiment; missing ones have none."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(experiment_permissions.c.experiment_id, experiment_permissions.c.permission).where(
                    experiment_permissions.c.user_id == user.id,
                    experiment_permissions.c.experiment_id.in_([str(e) for e in experiment_ids]),
                )
            ).all()
        return {r.experiment_id: LEVELS.get(r.permission, 0) for r in rows}

    def registered_model_level(self, user: User, name: str) -> int:
        with self.store.read() as conn:
            value = conn.execute(
                select(registered_model_permissions.c.permission).where(
                    registered_model_permissions.c.user_id == user.id,
                    registered_model_permissions.c.name == name,
                )
            ).scalar()
        return LEVELS.get(value or "", 0)


def _new_id(result: Any) -> int:
    """The id the database gave the row just inserted."""
    key = result.inserted_primary_key
    if key is None:
        raise InternalError("The database returned no id for the row just inserted")
    return int(key[0])
