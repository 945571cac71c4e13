"""The shipped migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from rapport import Rapport, SchemaError, create_engine, metadata, migrate, parse_settings
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


def test_upgrading_a_database_with_purchases_computes_the_rhythms_at_the_next_plan(
    fresh_url: str,
) -> None:
    """0002 adds the rhythm rollup; for purchases recorded before it, the next plan
    computes the rollups (the checkpoint says they are missing)."""
    engine = create_engine(fresh_url)
    migrate(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO rapport_customer (id, external_id, status, consent_email,"
                " consent_sms, consent_phone, consent_mail, do_not_contact, purchase_count,"
                " lifetime_value, spend_365d, created_at, updated_at, last_purchase_at, email)"
                " VALUES (1, 'C-1', 'active', 'granted', 'unknown', 'unknown', 'unknown',"
                " false, 6, 0, 0, :at, :at, :last, 'c1@example.fi')"
            ),
            {"at": dt.datetime(2026, 1, 1), "last": dt.datetime(2026, 11, 1, 10)},
        )
        for n in range(6):
            connection.execute(
                text(
                    "INSERT INTO rapport_purchase (customer_id, occurred_at, amount, currency,"
                    " status, created_at) VALUES (1, :at, 100000, 'EUR', 'completed', :at)"
                ),
                {"at": dt.datetime(2026, 11, 1, 10) - dt.timedelta(days=7 * n)},
            )
    migrate(engine)
    with engine.connect() as connection:
        marks = connection.execute(text("SELECT name FROM rapport_checkpoint")).scalars().all()
    assert marks == ["rhythm_zone:?"]
    clock = lambda: dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)  # noqa: E731
    settings = parse_settings({"rules": {"rhythm_break": {"enabled": True}}})
    crm = Rapport(engine, settings=settings, clock=clock)
    report = crm.plan(dt.date(2026, 11, 23), horizon_days=0)
    assert report.rules["rhythm_break"].created == 1
    with engine.connect() as connection:
        rollup = connection.execute(
            text("SELECT rhythm_visits, rhythm_due_on FROM rapport_customer")
        ).one()
        marks = connection.execute(text("SELECT name FROM rapport_checkpoint")).scalars().all()
    assert rollup[0] == 6
    assert str(rollup[1]) == "2026-11-23"
    assert "rhythm_zone:Europe/Helsinki" in marks or "rhythm_zone:UTC" in marks
    engine.dispose()


def test_upgrading_gives_existing_customers_the_month_and_day_of_customer_since(
    fresh_url: str,
) -> None:
    """0003 adds them as generated columns: the rows already there get them at once."""
    engine = create_engine(fresh_url)
    migrate(engine, "0002")
    with engine.begin() as connection:
        for n, since in enumerate([dt.date(2019, 5, 4), dt.date(2020, 2, 29), None], start=1):
            connection.execute(
                text(
                    "INSERT INTO rapport_customer (id, external_id, status, consent_email,"
                    " consent_sms, consent_phone, consent_mail, do_not_contact, purchase_count,"
                    " lifetime_value, spend_365d, created_at, updated_at, customer_since)"
                    " VALUES (:id, :ext, 'active', 'unknown', 'unknown', 'unknown', 'unknown',"
                    " false, 0, 0, 0, :at, :at, :since)"
                ),
                {"id": n, "ext": f"C-{n}", "at": dt.datetime(2026, 1, 1), "since": since},
            )
    migrate(engine)
    with engine.connect() as connection:
        parts = connection.execute(
            text("SELECT since_month, since_day FROM rapport_customer ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in parts] == [(5, 4), (2, 29), (None, None)]
