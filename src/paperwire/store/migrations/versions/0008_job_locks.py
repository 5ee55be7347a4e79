"""Job locks: one leased row per running job (SQLite; PostgreSQL uses advisory locks).

Revision ID: 0008_job_locks
Revises: 0001_catalogue
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_job_locks"
down_revision = "0001_catalogue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_locks",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_locks")
