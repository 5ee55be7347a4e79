"""Personal library: collections and their papers, dismissals, follows, exclusions, harvest queue.

Revision ID: 0006_library
Revises: 0003_community
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_library"
down_revision = "0003_community"
branch_labels = None
depends_on = None


def _user_fk() -> sa.Column:
    return sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer(), primary_key=True),
        _user_fk(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "name", name="uq_collections_user_name"),
    )
    op.create_table(
        "collection_items",
        sa.Column("collection_id", sa.Integer(), sa.ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("paper_id", sa.Integer(), sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_collection_items_paper_id", "collection_items", ["paper_id"])
    op.create_table(
        "dismissals",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("paper_id", sa.Integer(), sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    for table in ("follows", "exclusions"):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), primary_key=True),
            _user_fk(),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("value", sa.String(200), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.UniqueConstraint("user_id", "kind", "value", name=f"uq_{table}_user_kind_value"),
        )
    op.create_table(
        "harvest_queue",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("arxiv_id", sa.String(64), nullable=False, unique=True),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    )
    op.create_index("ix_harvest_queue_status", "harvest_queue", ["status"])


def downgrade() -> None:
    op.drop_table("harvest_queue")
    op.drop_table("exclusions")
    op.drop_table("follows")
    op.drop_table("dismissals")
    op.drop_table("collection_items")
    op.drop_table("collections")
