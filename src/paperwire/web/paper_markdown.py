"""A paper as Markdown: what ``GET /papers/{id}.md`` (the client's ``read_paper``) returns.

Plain text for tools and language models: title, authors, links, the
abstract, and the source's AI summary labelled with where it came from.
"""

from __future__ import annotations

from paperwire.ids import arxiv_abs_url, arxiv_pdf_url
from paperwire.store.models import Paper
from paperwire.store.papers import published_date


def _line(text: str) -> str:
    """One line of user text: whitespace folded so it cannot start a Markdown block."""
    return " ".join(text.split())


def paper_markdown(paper: Paper, *, upvotes: int, comments: int, site_url: str) -> str:
    """The Markdown page of ``paper`` (links absolute against ``site_url``)."""
    lines = [f"# {_line(paper.title)}", ""]
    if paper.authors:
        lines += [f"**Authors:** {_line(', '.join(paper.authors))}", ""]
    facts = []
    published = published_date(paper)
    if published:
        facts.append(f"Published on arXiv: {published.date().isoformat()}")
    if paper.organization and paper.organization.get("name"):
        facts.append(f"Organization: {_line(paper.organization.get('fullname') or paper.organization['name'])}")
    facts.append(f"Upvotes: {upvotes} · Comments: {comments}")
    lines += [f"- {fact}" for fact in facts]
    links = [f"- Paper page: {site_url}/papers/{paper.uid}"]
    if paper.arxiv_id:
        links += [f"- arXiv: {arxiv_abs_url(paper.arxiv_id)}", f"- PDF: {arxiv_pdf_url(paper.arxiv_id)}"]
    if paper.github_repo:
        stars = f" ({paper.github_stars} stars)" if paper.github_stars is not None else ""
        links.append(f"- Code: {_line(paper.github_repo)}{stars}")
    if paper.project_page:
        links.append(f"- Project page: {_line(paper.project_page)}")
    lines += links + ["", "## Abstract", "", paper.abstract.strip() or "No abstract available.", ""]
    if paper.ai_summary:
        source = paper.ai_summary_source or "the source"
        lines += [f"## AI summary (written by {source})", "", _line(paper.ai_summary), ""]
    if paper.ai_keywords:
        lines += [f"**Keywords:** {_line(', '.join(paper.ai_keywords))}", ""]
    return "\n".join(lines)
