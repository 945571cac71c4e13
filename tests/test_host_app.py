"""rapport inside a host app: the host's session and transaction, the host's Alembic."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, ForeignKey, Numeric, String, func, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import rapport
from rapport import Rapport, create_engine
from rapport.database import VERSION_TABLE


class HostBase(DeclarativeBase):
    pass


class HostCustomer(HostBase):
    __tablename__ = "shop_customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class HostOrder(HostBase):
    __tablename__ = "shop_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("shop_customer.id"))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))


@pytest.fixture
def host_engine(fresh_url: str) -> Iterator[Engine]:
    engine = create_engine(fresh_url)
    HostBase.metadata.create_all(engine)
    rapport.migrate(engine)
    yield engine
    engine.dispose()


def sell(session: Session) -> None:
    """What a host app does at checkout: its own rows, then rapport's, one transaction."""
    customer = HostCustomer(name="Aino Virtanen")
    session.add(customer)
    session.flush()
    session.add(HostOrder(customer_id=customer.id, total=Decimal("649.90")))
    crm = Rapport(session)
    crm.upsert_customer({"external_id": f"shop-{customer.id}", "first_name": "Aino"})
    crm.record_purchase(
        {
            "customer_id": f"shop-{customer.id}",
            "external_id": "order-1",
            "occurred_at": "2026-11-20T10:00:00Z",
            "amount": "649.90",
        }
    )


def rapport_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return sum(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in rapport.metadata.sorted_tables
        )


def test_host_rollback_leaves_no_rapport_rows(host_engine: Engine) -> None:
    with Session(host_engine) as session, session.begin():
        sell(session)
        assert rapport_rows(host_engine) == 0  # not visible outside the host transaction
        session.rollback()
    assert rapport_rows(host_engine) == 0
    with host_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM shop_order")).scalar_one() == 0


def test_host_commit_keeps_rapport_rows_with_the_host_rows(host_engine: Engine) -> None:
    with Session(host_engine) as session, session.begin():
        sell(session)
    crm = Rapport(host_engine)
    customer = crm.get_customer("shop-1")
    assert (customer.purchase_count, customer.lifetime_value) == (1, Decimal("649.90"))
    with host_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM shop_order")).scalar_one() == 1


def test_rapport_never_commits_a_host_session(host_engine: Engine) -> None:
    session = Session(host_engine)
    try:
        crm = Rapport(session)
        crm.upsert_customer({"external_id": "C-1"})
        assert crm.get_customer("C-1").external_id == "C-1"  # visible inside the transaction
        assert session.in_transaction()
        assert rapport_rows(host_engine) == 0
    finally:
        session.close()  # closing without commit discards rapport's writes
    assert rapport_rows(host_engine) == 0


def test_a_plan_changes_session_settings_only_until_the_host_commits(
    fresh_postgres_url: str,
) -> None:
    """On PostgreSQL a plan asks for per-query plans (SET LOCAL): inside the host's
    transaction only, so the host's own connection is as it was afterwards."""
    engine = create_engine(fresh_postgres_url)
    try:
        rapport.migrate(engine)
        with Session(engine) as session:
            before = session.execute(text("SHOW plan_cache_mode")).scalar_one()
            Rapport(session).plan()
            assert session.execute(text("SHOW plan_cache_mode")).scalar_one() == (
                "force_custom_plan"
            )
            session.commit()
            assert session.execute(text("SHOW plan_cache_mode")).scalar_one() == before
    finally:
        engine.dispose()


def test_host_autogenerate_leaves_rapport_tables_alone(host_engine: Engine) -> None:
    with host_engine.connect() as connection:
        naive = compare_metadata(MigrationContext.configure(connection), HostBase.metadata)
        helped = compare_metadata(
            MigrationContext.configure(connection, opts={"include_object": rapport.include_object}),
            HostBase.metadata,
        )
    assert any(op[0] == "remove_table" and op[1].name.startswith("rapport_") for op in naive)
    assert helped == []


HOST_ENV = """
from alembic import context
import rapport
from tests.test_host_app import HostBase

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=HostBase.metadata,
    include_object=rapport.include_object,
)
with context.begin_transaction():
    context.run_migrations()
"""

HOST_REVISION = '''
"""host tables"""
import sqlalchemy as sa
from alembic import op

revision = "host0001"
down_revision = None
branch_labels = ("host",)
depends_on = None


def upgrade():
    op.create_table(
        "shop_customer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )


def downgrade():
    op.drop_table("shop_customer")
'''


def test_a_host_can_run_rapports_migrations_from_its_own_alembic(
    fresh_url: str, tmp_path: Path
) -> None:
    host_dir = tmp_path / "host_migrations"
    (host_dir / "versions").mkdir(parents=True)
    (host_dir / "env.py").write_text(textwrap.dedent(HOST_ENV))
    (host_dir / "versions" / "host0001.py").write_text(HOST_REVISION)
    config = Config()
    config.set_main_option("script_location", str(host_dir))
    rapport_versions = rapport.database.alembic_config().get_main_option("script_location")
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations",
        os.pathsep.join([str(host_dir / "versions"), f"{rapport_versions}/versions"]),
    )
    engine = create_engine(fresh_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            assert set(heads) == {"host0001", rapport.database.head_revision()}
        assert {"shop_customer", *rapport.metadata.tables} <= tables
        assert VERSION_TABLE not in tables
    finally:
        engine.dispose()
