"""indexes so that a re-run and the next day's plan read no whole table

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00

* ``since_month`` and ``since_day``: the month and day of ``customer_since`` as
  generated columns (STORED on PostgreSQL, VIRTUAL on SQLite, which cannot add a stored
  column to a table), indexed together as birthdays are, so the anniversary rules look
  up the days of their window instead of computing every customer's month and day. The
  database computes them for the rows already there: no backfill to get wrong.
* ``check_in_every_days``: the customers with a check-in rhythm of their own (and the
  shortest rhythm) come from the index.
* ``spend_365d_as_of``: "are the rollups current?" reads the newest trailing spend from
  the index.
* ``first_purchase_at``: the welcome rule reads the customers whose first purchase falls
  in its window.
* Tasks by (status, window_end) for expiry, and by (rule, status) for a rule's open
  tasks, instead of (rule) alone, which also held every task a rule ever finished.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _since_part(field: str, stored: bool) -> sa.Column[int]:
    expression = sa.cast(sa.func.extract(field, sa.column("customer_since")), sa.SmallInteger())
    return sa.Column(f"since_{field}", sa.SmallInteger(), sa.Computed(expression, persisted=stored))


def upgrade() -> None:
    stored = op.get_bind().dialect.name != "sqlite"
    with op.batch_alter_table("rapport_customer") as batch:
        batch.add_column(_since_part("month", stored))
        batch.add_column(_since_part("day", stored))
        batch.create_index("ix_rapport_customer_since_month_day", ["since_month", "since_day"])
        batch.create_index(
            batch.f("ix_rapport_customer_check_in_every_days"), ["check_in_every_days"]
        )
        batch.create_index(batch.f("ix_rapport_customer_spend_365d_as_of"), ["spend_365d_as_of"])
        batch.create_index(batch.f("ix_rapport_customer_first_purchase_at"), ["first_purchase_at"])
    with op.batch_alter_table("rapport_outreach_task") as batch:
        batch.create_index("ix_rapport_outreach_task_status_window_end", ["status", "window_end"])
        batch.create_index("ix_rapport_outreach_task_rule_status", ["rule", "status"])
        batch.drop_index(batch.f("ix_rapport_outreach_task_rule"))


def downgrade() -> None:
    with op.batch_alter_table("rapport_outreach_task") as batch:
        batch.create_index(batch.f("ix_rapport_outreach_task_rule"), ["rule"])
        batch.drop_index("ix_rapport_outreach_task_rule_status")
        batch.drop_index("ix_rapport_outreach_task_status_window_end")
    with op.batch_alter_table("rapport_customer") as batch:
        batch.drop_index(batch.f("ix_rapport_customer_first_purchase_at"))
        batch.drop_index(batch.f("ix_rapport_customer_spend_365d_as_of"))
        batch.drop_index(batch.f("ix_rapport_customer_check_in_every_days"))
        batch.drop_index("ix_rapport_customer_since_month_day")
        batch.drop_column("since_day")
        batch.drop_column("since_month")
