"""a digest of each customer's last imported row

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 14:00:00

``rapport_customer.import_digest`` holds a digest of the file row a customer was last
imported from. A nightly re-import of an unchanged export compares digests and skips
the rows that did not change, without validating or writing them. Every other write to
a customer's imported fields clears it, so the file stays the truth.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rapport_customer", sa.Column("import_digest", sa.String(32), nullable=True))


def downgrade() -> None:
    # Not a batch (copy-and-move) on SQLite: the table's generated columns cannot be
    # copied that way; SQLite drops a plain column in place.
    op.drop_column("rapport_customer", "import_digest")
