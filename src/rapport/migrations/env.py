"""Alembic environment for rapport's own tables.

Runs on the connection passed in ``config.attributes["connection"]`` (what
:func:`rapport.database.migrate` does), or on ``sqlalchemy.url`` when run by the
``alembic`` command. Only ``rapport_`` tables are considered, so a database shared with a
host app is safe.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from rapport.database import VERSION_TABLE, create_engine, is_rapport_object
from rapport.models import metadata

config = context.config


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return is_rapport_object(name, type_)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_object=_include,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or call rapport.migrate(engine)")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
