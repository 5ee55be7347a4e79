"""Catalogue: papers, featured days, harvest state, import progress.

Revision ID: 0001_catalogue
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_catalogue"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(64), nullable=False, unique=True),
        sa.Column("arxiv_id", sa.String(64), unique=True),
        sa.Column("title_key", sa.String(40), nullable=False, index=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("authors_text", sa.Text(), nullable=False),
        sa.Column("author_count", sa.Integer()),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("primary_category", sa.String(32), index=True),
        sa.Column("submitted_at", sa.DateTime(), index=True),
        sa.Column("updated_at", sa.DateTime()),
        sa.Column("latest_version", sa.Integer()),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("doi", sa.Text()),
        sa.Column("journal_ref", sa.Text()),
        sa.Column("comments", sa.Text()),
        sa.Column("license", sa.Text()),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("content_hash", sa.String(40), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "featured_papers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("paper_id", sa.Integer(), sa.ForeignKey("papers.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("day", sa.Date(), nullable=False, index=True),
        sa.Column("imported_upvotes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("imported_comments", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("submitted_by", sa.String(200)),
        sa.Column("submitted_by_user_id", sa.Integer(), index=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("paper_id", "day"),
    )
    op.create_table(
        "harvest_state",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("last_from", sa.Date()),
        sa.Column("resumption_token", sa.Text()),
        sa.Column("records", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "import_progress",
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("lines_done", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("finished", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("import_progress")
    op.drop_table("harvest_state")
    op.drop_table("featured_papers")
    op.drop_table("papers")
