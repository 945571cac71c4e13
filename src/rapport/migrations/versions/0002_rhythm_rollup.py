"""rhythm rollup on customers; an index for the top segment

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:50:00

A regular's rhythm (purchases in the two years up to the last one, and the day they
become overdue) is kept on the customer, so the ``rhythm_break`` rule reads only the
customers who fall due instead of every customer's purchases. The rollups of existing
purchases are computed by the next plan: the "rhythm_zone:?" checkpoint tells it they
are not computed yet. An index on (status, spend) lets the top segment be counted and
ranked without reading the customer rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rapport_customer") as batch:
        batch.add_column(sa.Column("rhythm_visits", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rhythm_due_on", sa.Date(), nullable=True))
        batch.create_index(batch.f("ix_rapport_customer_rhythm_due_on"), ["rhythm_due_on"])
        batch.create_index("ix_rapport_customer_status_spend", ["status", "spend_365d"])
    op.execute(
        "INSERT INTO rapport_checkpoint (name, as_of, updated_at) "
        "SELECT 'rhythm_zone:?', CURRENT_DATE, CURRENT_TIMESTAMP "
        "WHERE EXISTS (SELECT 1 FROM rapport_purchase)"
    )


def downgrade() -> None:
    op.execute("DELETE FROM rapport_checkpoint WHERE name LIKE 'rhythm_zone:%'")
    with op.batch_alter_table("rapport_customer") as batch:
        batch.drop_index("ix_rapport_customer_status_spend")
        batch.drop_index(batch.f("ix_rapport_customer_rhythm_due_on"))
        batch.drop_column("rhythm_due_on")
        batch.drop_column("rhythm_visits")
