"""Embeddings: one vector per (paper, model), with the content hash it was made from.

Revision ID: 0005_embeddings
Revises: 0001_catalogue
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_embeddings"
down_revision = "0001_catalogue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embeddings",
        sa.Column("paper_id", sa.Integer(), sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("model", sa.String(100), primary_key=True),
        sa.Column("content_hash", sa.String(40), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("embeddings")
