"""The map of papers: a 2D point per paper and labelled clusters, per map generation.

Rows belong to a published ``index_generations`` row of kind "map"; readers
only read the newest published one, so a layout being written is never
half-visible. ``sample_rank`` is a fixed pseudo-random order of the points
(a hash of the paper id) so "the first N points inside this box" is an even
sample that stays the same from one request to the next.

Revision ID: 0013_paper_map
Revises: 0011_worker_state
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_paper_map"
down_revision = "0011_worker_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_map",
        sa.Column("generation", sa.Integer(), sa.ForeignKey("index_generations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("paper_id", sa.Integer(), sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("cluster", sa.Integer(), nullable=False),
        sa.Column("sample_rank", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_paper_map_sample", "paper_map", ["generation", "sample_rank"])
    op.create_index("ix_paper_map_paper", "paper_map", ["paper_id"])
    op.create_table(
        "paper_map_clusters",
        sa.Column("generation", sa.Integer(), sa.ForeignKey("index_generations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("cluster", sa.Integer(), primary_key=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("topic_slug", sa.String(200)),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("paper_map_clusters")
    op.drop_index("ix_paper_map_paper", "paper_map")
    op.drop_index("ix_paper_map_sample", "paper_map")
    op.drop_table("paper_map")
