"""Worker state: one row per scheduled job, and published index generations.

Revision ID: 0011_worker_state
Revises: 0005_embeddings
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_worker_state"
down_revision = "0005_embeddings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(300), primary_key=True),
        sa.Column("last_started_at", sa.DateTime()),
        sa.Column("last_finished_at", sa.DateTime()),
        sa.Column("last_outcome", sa.String(16)),
        sa.Column("last_records", sa.Integer()),
        sa.Column("last_detail", sa.Text()),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_error_at", sa.DateTime()),
        sa.Column("next_run_at", sa.DateTime()),
        sa.Column("runs", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "index_generations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("path", sa.Text()),
        sa.Column("vectors", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("marker", sa.String(200), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column("build_seconds", sa.Float()),
        sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_index_generations_lookup", "index_generations", ["kind", "model", "published", "id"])


def downgrade() -> None:
    op.drop_index("ix_index_generations_lookup", "index_generations")
    op.drop_table("index_generations")
    op.drop_table("job_runs")
