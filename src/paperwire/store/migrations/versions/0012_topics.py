"""Topic index: topics (arXiv categories, source keywords, key phrases) and
which papers carry them, with each paper's day copied beside it so that a
topic's papers per week is one indexed GROUP BY; and
how many papers each day has (with or without topics), the denominator of
a topic's share.

Revision ID: 0012_topics
Revises: 0001_catalogue
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_topics"
down_revision = "0001_catalogue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(200), nullable=False, unique=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("paper_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_day", sa.Date()),
        sa.Column("last_day", sa.Date()),
    )
    op.create_index("ix_topics_kind_count", "topics", ["kind", "paper_count"])
    op.create_table(
        "paper_topics",
        sa.Column("topic_id", sa.Integer(), sa.ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("paper_id", sa.Integer(), sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date()),
        sa.Column("weight", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_index("ix_paper_topics_paper", "paper_topics", ["paper_id", "weight"])
    op.create_index("ix_paper_topics_topic_day", "paper_topics", ["topic_id", "day"])
    op.create_index("ix_paper_topics_day", "paper_topics", ["day"])
    op.create_table(
        "topic_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("papers", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("topic_days")
    op.drop_index("ix_paper_topics_day", "paper_topics")
    op.drop_index("ix_paper_topics_topic_day", "paper_topics")
    op.drop_index("ix_paper_topics_paper", "paper_topics")
    op.drop_table("paper_topics")
    op.drop_index("ix_topics_kind_count", "topics")
    op.drop_table("topics")
