"""Account e-mail verification, a pending change of an address's subscription,
and the log of interactive mails that per-address limits count.

Users gain ``pending_email`` (an address waiting for its owner to click the
mailed link; not unique, so claiming someone's address blocks no one) and
``email_verified_at``. ``users.email`` keeps only an address that was
verified here (or was set before this revision, then with a NULL
``email_verified_at`` and so not used for delivery).

Revision ID: 0010_email_verification
Revises: 0003_community
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_email_verification"
down_revision = "0003_community"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("pending_email", sa.String(320)))
        batch.add_column(sa.Column("email_verified_at", sa.DateTime()))
    op.create_table(
        "mail_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("user_id", sa.Integer()),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_mail_log_address_created", "mail_log", ["address", "created_at"])
    op.create_index("ix_mail_log_user_created", "mail_log", ["user_id", "created_at"])
    op.create_table(
        "subscription_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscription_id", sa.Integer(), nullable=False, index=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("subscription_id", "user_id", name="uq_subscription_change_owner"),
    )


def downgrade() -> None:
    op.drop_table("subscription_changes")
    op.drop_table("mail_log")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_verified_at")
        batch.drop_column("pending_email")
