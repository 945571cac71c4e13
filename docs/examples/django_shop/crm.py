"""rapport on Django's database, through a SQLAlchemy engine of its own."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from sqlalchemy import URL, Engine

import rapport

DRIVERS = {
    "django.db.backends.sqlite3": "sqlite",
    "django.db.backends.postgresql": "postgresql+psycopg",
}


def sqlalchemy_url(database: dict[str, Any]) -> URL:
    """The SQLAlchemy URL of a Django ``DATABASES`` entry (SQLite or PostgreSQL)."""
    if database["ENGINE"] not in DRIVERS:
        raise ValueError(f"rapport runs on SQLite or PostgreSQL, not {database['ENGINE']}")
    return URL.create(
        DRIVERS[database["ENGINE"]],
        username=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
        host=database.get("HOST") or None,
        port=int(database["PORT"]) if database.get("PORT") else None,
        database=str(database["NAME"]),
    )


@functools.cache
def engine() -> Engine:
    """One engine per process, made on first use (after Django has read its settings)."""
    url = sqlalchemy_url(settings.DATABASES["default"])
    return rapport.create_engine(url.render_as_string(hide_password=False))


def crm() -> rapport.Rapport:
    """rapport on the engine: each call is its own transaction, committed when it returns.

    Django's ORM and rapport use two connections, so they do not share a transaction:
    record in rapport after Django's transaction commits (``transaction.on_commit``).
    """
    return rapport.Rapport(engine(), currency="EUR")
