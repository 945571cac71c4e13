"""occasions waiting for staff capacity

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 12:00:00

``rapport_waiting`` holds the occasions due that found no room in their staff's days
(``[[staff]]`` in rapport.toml). The planner replaces them on every run; a window that
closes while waiting is recorded as a missed task with reason ``no_capacity``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rapport.models._columns import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = ("card", "note", "call", "email", "sms", "gift", "survey", "reminder")


def upgrade() -> None:
    op.create_table(
        "rapport_waiting",
        sa.Column("occasion_key", sa.String(300), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*_KINDS, name="waiting_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("channel", sa.String(10), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("assigned_to", sa.String(200), nullable=True),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("anchor_at", UTCDateTime(), nullable=True),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("seen_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_waiting_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("occasion_key", name=op.f("pk_rapport_waiting")),
    )
    op.create_index(op.f("ix_rapport_waiting_customer_id"), "rapport_waiting", ["customer_id"])
    op.create_index(op.f("ix_rapport_waiting_rule"), "rapport_waiting", ["rule"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rapport_waiting_rule"), table_name="rapport_waiting")
    op.drop_index(op.f("ix_rapport_waiting_customer_id"), table_name="rapport_waiting")
    op.drop_table("rapport_waiting")
