"""Source metadata the real Hugging Face lists (and other sources) carry.

Papers gain structured author names, the organisation, code repository and
stars, project page, the source's AI summary and keywords. Featured days gain
the submitter's account (user name and profile fields as the source gave
them), the source's discussion id and whether the authors took part.

Revision ID: 0009_source_metadata
Revises: 0001_catalogue
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_source_metadata"
down_revision = "0001_catalogue"
branch_labels = None
depends_on = None


def _paper_columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column("author_names", sa.JSON()),
        sa.Column("organization", sa.JSON()),
        sa.Column("github_repo", sa.Text()),
        sa.Column("github_stars", sa.Integer()),
        sa.Column("project_page", sa.Text()),
        sa.Column("ai_summary", sa.Text()),
        sa.Column("ai_summary_source", sa.String(64)),
        sa.Column("ai_keywords", sa.JSON()),
        sa.Column("discussion_id", sa.String(64)),
    )


def _featured_columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column("submitter", sa.JSON()),
        sa.Column("featured_at", sa.DateTime()),
        sa.Column("is_author_participating", sa.Boolean()),
    )


def upgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        for column in _paper_columns():
            batch.add_column(column)
    with op.batch_alter_table("featured_papers") as batch:
        for column in _featured_columns():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("featured_papers") as batch:
        for column in reversed(_featured_columns()):
            batch.drop_column(column.name)
    with op.batch_alter_table("papers") as batch:
        for column in reversed(_paper_columns()):
            batch.drop_column(column.name)
