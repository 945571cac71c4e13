"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 07:37:48.172655
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rapport",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rapport_checkpoint",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rapport_checkpoint")),
    )
    op.create_table(
        "rapport_customer",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("preferred_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("birth_month", sa.SmallInteger(), nullable=True),
        sa.Column("birth_day", sa.SmallInteger(), nullable=True),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("customer_since", sa.Date(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "inactive",
                "deceased",
                name="customer_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "consent_email",
            sa.Enum(
                "granted",
                "refused",
                "unknown",
                name="consent_email",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("consent_email_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_email_source", sa.String(length=200), nullable=True),
        sa.Column(
            "consent_sms",
            sa.Enum(
                "granted",
                "refused",
                "unknown",
                name="consent_sms",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("consent_sms_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_sms_source", sa.String(length=200), nullable=True),
        sa.Column(
            "consent_phone",
            sa.Enum(
                "granted",
                "refused",
                "unknown",
                name="consent_phone",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("consent_phone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_phone_source", sa.String(length=200), nullable=True),
        sa.Column(
            "consent_mail",
            sa.Enum(
                "granted",
                "refused",
                "unknown",
                name="consent_mail",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("consent_mail_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_mail_source", sa.String(length=200), nullable=True),
        sa.Column("do_not_contact", sa.Boolean(), nullable=False),
        sa.Column("check_in_every_days", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("first_purchase_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_purchase_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purchase_count", sa.Integer(), nullable=False),
        sa.Column("lifetime_value", sa.BigInteger(), nullable=False),
        sa.Column("spend_365d", sa.BigInteger(), nullable=False),
        sa.Column("spend_365d_as_of", sa.Date(), nullable=True),
        sa.Column("last_interaction_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "check_in_every_days IS NULL OR check_in_every_days > 0",
            name=op.f("ck_rapport_customer_check_in_positive"),
        ),
        sa.CheckConstraint(
            "purchase_count >= 0", name=op.f("ck_rapport_customer_purchase_count_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_customer")),
        sa.UniqueConstraint("external_id", name=op.f("uq_rapport_customer_external_id")),
    )
    with op.batch_alter_table("rapport_customer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rapport_customer_birthday", ["birth_month", "birth_day"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rapport_customer_last_contact_at"), ["last_contact_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rapport_customer_last_purchase_at"), ["last_purchase_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rapport_customer_owner"), ["owner"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rapport_customer_spend_365d"), ["spend_365d"], unique=False
        )

    op.create_table(
        "rapport_planner_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_planner_run")),
    )
    with op.batch_alter_table("rapport_planner_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rapport_planner_run_as_of"), ["as_of"], unique=False)

    op.create_table(
        "rapport_case",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "low",
                "normal",
                "high",
                "critical",
                name="severity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open", "resolved", name="case_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_on_first_contact", sa.Boolean(), nullable=True),
        sa.Column("satisfaction_score", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint(
            "satisfaction_score IS NULL OR satisfaction_score BETWEEN 1 AND 5",
            name=op.f("ck_rapport_case_satisfaction_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_case_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_case")),
        sa.UniqueConstraint("external_id", name=op.f("uq_rapport_case_external_id")),
    )
    with op.batch_alter_table("rapport_case", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rapport_case_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rapport_case_status"), ["status"], unique=False)

    op.create_table(
        "rapport_consent_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "scope",
            sa.Enum(
                "email",
                "sms",
                "phone",
                "mail",
                "do_not_contact",
                name="consent_scope",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("old_value", sa.String(length=20), nullable=False),
        sa.Column("new_value", sa.String(length=20), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_consent_change_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_consent_change")),
    )
    with op.batch_alter_table("rapport_consent_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rapport_consent_change_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "rapport_customer_tag",
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_customer_tag_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "tag", name=op.f("pk_rapport_customer_tag")),
    )
    with op.batch_alter_table("rapport_customer_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rapport_customer_tag_tag"), ["tag"], unique=False)

    op.create_table(
        "rapport_family_member",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "relation",
            sa.Enum(
                "spouse",
                "partner",
                "child",
                "parent",
                "sibling",
                "grandparent",
                "grandchild",
                "friend",
                "colleague",
                "pet",
                "other",
                name="relation",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("birth_month", sa.SmallInteger(), nullable=True),
        sa.Column("birth_day", sa.SmallInteger(), nullable=True),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_family_member_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_family_member")),
    )
    with op.batch_alter_table("rapport_family_member", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rapport_family_member_birthday", ["birth_month", "birth_day"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rapport_family_member_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "rapport_important_date",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("day", sa.SmallInteger(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=True),
        sa.Column("yearly", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_important_date_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_important_date")),
        sa.UniqueConstraint(
            "customer_id", "label", name=op.f("uq_rapport_important_date_customer_id_label")
        ),
    )
    with op.batch_alter_table("rapport_important_date", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rapport_important_date_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index("ix_rapport_important_date_month_day", ["month", "day"], unique=False)

    op.create_table(
        "rapport_interest",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("topic_key", sa.String(length=200), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "hobby",
                "sport",
                "food",
                "music",
                "travel",
                "family",
                "business",
                "other",
                name="interest_category",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_interest_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_interest")),
        sa.UniqueConstraint(
            "customer_id", "topic_key", name=op.f("uq_rapport_interest_customer_id_topic_key")
        ),
    )
    with op.batch_alter_table("rapport_interest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rapport_interest_topic_key"), ["topic_key"], unique=False
        )

    op.create_table(
        "rapport_outreach_task",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "card",
                "note",
                "call",
                "email",
                "sms",
                "gift",
                "survey",
                "reminder",
                name="task_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("occasion_key", sa.String(length=300), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "done",
                "skipped",
                "snoozed",
                "cancelled",
                "expired",
                "missed",
                name="task_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("assigned_to", sa.String(length=200), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("call_script", sa.JSON(), nullable=True),
        sa.Column("talking_points", sa.JSON(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("anchor_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("service", sa.Boolean(), nullable=False),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "window_end >= due_on", name=op.f("ck_rapport_outreach_task_window_after_due")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_outreach_task_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_outreach_task")),
        sa.UniqueConstraint("occasion_key", name=op.f("uq_rapport_outreach_task_occasion_key")),
    )
    with op.batch_alter_table("rapport_outreach_task", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rapport_outreach_task_assigned_to"), ["assigned_to"], unique=False
        )
        batch_op.create_index(
            "ix_rapport_outreach_task_customer_due", ["customer_id", "due_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rapport_outreach_task_rule"), ["rule"], unique=False)
        batch_op.create_index(
            "ix_rapport_outreach_task_status_due", ["status", "due_on"], unique=False
        )

    op.create_table(
        "rapport_promise",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "kept",
                "broken",
                "renegotiated",
                name="promise_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("staff", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_promise_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_promise")),
    )
    with op.batch_alter_table("rapport_promise", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rapport_promise_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rapport_promise_due_at"), ["due_at"], unique=False)

    op.create_table(
        "rapport_purchase",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "completed",
                "refunded",
                name="purchase_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_rapport_purchase_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_purchase_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_purchase")),
        sa.UniqueConstraint("external_id", name=op.f("uq_rapport_purchase_external_id")),
    )
    with op.batch_alter_table("rapport_purchase", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rapport_purchase_customer_occurred", ["customer_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rapport_purchase_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "rapport_interaction",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "call",
                "visit",
                "email",
                "card",
                "letter",
                "sms",
                "meeting",
                "note",
                name="interaction_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "direction",
            sa.Enum(
                "inbound", "outbound", name="direction", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("staff", sa.String(length=200), nullable=True),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_interaction_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["rapport_outreach_task.id"],
            name=op.f("fk_rapport_interaction_task_id_rapport_outreach_task"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_interaction")),
        sa.UniqueConstraint("external_id", name=op.f("uq_rapport_interaction_external_id")),
    )
    with op.batch_alter_table("rapport_interaction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rapport_interaction_customer_occurred", ["customer_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rapport_interaction_task_id"), ["task_id"], unique=False
        )
    op.create_table(
        "rapport_survey_answer",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "score BETWEEN 1 AND 5", name=op.f("ck_rapport_survey_answer_score_range")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["rapport_case.id"],
            name=op.f("fk_rapport_survey_answer_case_id_rapport_case"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["rapport_customer.id"],
            name=op.f("fk_rapport_survey_answer_customer_id_rapport_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["rapport_outreach_task.id"],
            name=op.f("fk_rapport_survey_answer_task_id_rapport_outreach_task"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapport_survey_answer")),
    )
    op.create_index(
        op.f("ix_rapport_survey_answer_customer_id"),
        "rapport_survey_answer",
        ["customer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rapport_survey_answer_customer_id"), table_name="rapport_survey_answer")
    op.drop_table("rapport_survey_answer")
    with op.batch_alter_table("rapport_interaction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rapport_interaction_task_id"))
        batch_op.drop_index("ix_rapport_interaction_customer_occurred")

    op.drop_table("rapport_interaction")
    with op.batch_alter_table("rapport_purchase", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rapport_purchase_occurred_at"))
        batch_op.drop_index("ix_rapport_purchase_customer_occurred")

    op.drop_table("rapport_purchase")
    with op.batch_alter_table("rapport_promise", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rapport_promise_due_at"))
        batch_op.drop_index(batch_op.f("ix_rapport_promise_customer_id"))

    op.drop_table("rapport_promise")
    with op.batch_alter_table("rapport_outreach_task", schema=None) as batch_op:
        batch_op.drop_index("ix_rapport_outreach_task_status_due")
        batch_op.drop_index(batch_op.f("ix_rapport_outreach_task_rule"))
        batch_op.drop_index("ix_rapport_outreach_task_customer_due")
        batch_op.drop_index(batch_op.f("ix_rapport_outreach_task_assigned_to"))

    op.drop_table("rapport_outreach_task")
    with op.batch_alter_table("rapport_interest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rapport_interest_topic_key"))

    op.drop_table("rapport_interest")
    with op.batch_alter_table("rapport_important_date", schema=None) as batch_op:
        batch_op.drop_index("ix_rapport_important_date_month_day")
        batch_op.drop_index(batch_op.f("ix_rapport_important_date_customer_id"))

    op.drop_table("rapport_important_date")
    with op.batch_alter_table("rapport_family_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rapport_family_member_customer_id"))
        batch_op.drop_index("ix_rapport_family_member_birthday")

    op.drop_table("rapport_family_member")
    with op.batch_alter_table("rapport_customer_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rapport_customer_tag_tag"))

    op.drop_table("rapport_customer_tag")
    with op.batch_alter_table("rapport_consent_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rapport_consent_change_customer_id"))

    op.drop_table("rapport_consent_change")
    with op.batch_alter_table("rapport_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rapport_case_status"))
        batch_op.drop_index(batch_op.f("ix_rapport_case_customer_id"))

    op.drop_table("rapport_case")
    with op.batch_alter_table("rapport_planner_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rapport_planner_run_as_of"))

    op.drop_table("rapport_planner_run")
    with op.batch_alter_table("rapport_customer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rapport_customer_spend_365d"))
        batch_op.drop_index(batch_op.f("ix_rapport_customer_owner"))
        batch_op.drop_index(batch_op.f("ix_rapport_customer_last_purchase_at"))
        batch_op.drop_index(batch_op.f("ix_rapport_customer_last_contact_at"))
        batch_op.drop_index("ix_rapport_customer_birthday")

    op.drop_table("rapport_customer")
    op.drop_table("rapport_checkpoint")
