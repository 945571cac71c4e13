"""The shipped migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from rapport import Rapport, SchemaError, create_engine, metadata, migrate
from rapport.database import (
    BRANCH_LABEL,
    VERSION_TABLE,
    alembic_config,
    current_revision,
    head_revision,
    is_rapport_object,
)


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return is_rapport_object(name, type_)


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(fresh_url: str) -> None:
    engine = create_engine(fresh_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_object": _include,
                    "version_table": VERSION_TABLE,
                },
            )
            diff = compare_metadata(context, metadata)
            tables = set(inspect(connection).get_table_names())
        assert diff == []
        assert tables == {*metadata.tables, VERSION_TABLE}
    finally:
        engine.dispose()


def test_migrations_record_their_version_in_rapports_own_table(fresh_url: str) -> None:
    engine = create_engine(fresh_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            assert "alembic_version" not in inspect(connection).get_table_names()
        migrate(engine)  # already at head: nothing to do, no error
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_every_rapport_table(fresh_url: str) -> None:
    engine = create_engine(fresh_url)
    try:
        migrate(engine)
        from alembic import command

        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {VERSION_TABLE}
    finally:
        engine.dispose()


def test_migrations_carry_the_rapport_branch_label() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    base = [rev for rev in script.walk_revisions() if rev.down_revision is None]
    assert [rev.branch_labels for rev in base] == [{BRANCH_LABEL}]


def test_using_an_unmigrated_database_says_to_run_init(fresh_url: str) -> None:
    rapport = Rapport.from_url(fresh_url)
    try:
        with pytest.raises(SchemaError, match="rapport init"):
            rapport.check_schema()
        with pytest.raises(SchemaError, match="rapport init"):
            rapport.upsert_customer({"external_id": "C-1"})
        rapport.migrate()
        rapport.check_schema()
        assert rapport.upsert_customer({"external_id": "C-1"}).external_id == "C-1"
    finally:
        rapport.close()
