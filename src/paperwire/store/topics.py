"""Tables of the topic index (built by :mod:`paperwire.rank.topics`).

``topics`` holds one row per topic, keyed by a stable slug so ids survive
rebuilds; ``paper_topics`` links papers to topics with the paper's *day*
(its first Hugging Face list day, else its published date) copied in, so
counts per week or month never join ``papers`` or ``featured_papers``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.models import Base


class TopicRow(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: URL-safe and stable across rebuilds: "diffusion-model", "cs.CV".
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    label: Mapped[str] = mapped_column(Text)
    #: "category" | "keyword" | "phrase"
    kind: Mapped[str] = mapped_column(String(16))
    paper_count: Mapped[int] = mapped_column(Integer, default=0)
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)


class PaperTopic(Base):
    __tablename__ = "paper_topics"

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    #: The paper's day (see module docstring); None when it has no date at all.
    day: Mapped[date | None] = mapped_column(Date)
    #: How characteristic the topic is of the paper (orders a paper's topics).
    weight: Mapped[float] = mapped_column(Float, default=0.0)


class TopicDay(Base):
    """Visible papers per day (with or without topics): the denominator of a topic's share."""

    __tablename__ = "topic_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    papers: Mapped[int] = mapped_column(Integer, default=0)
