"""Rendered bodies are shared between subscribers with the same papers, but
each mail carries its own unsubscribe link."""

import email
from datetime import date

from paperwire.deliver.digest import Digest, DigestItem, DigestSection, period_for
from paperwire.deliver.render import build_digest_message


def _digest(subscription_id: int, title: str = "Attention <b>is</b> all") -> Digest:
    item = DigestItem(uid="1706.03762", title=title, authors=["A. Vaswani"], categories=["cs.CL"],
                      abstract="Transformers.", url="http://x/papers/1706.03762", arxiv_url=None)
    return Digest(period=period_for("daily", date(2024, 8, 12)),
                  sections=[DigestSection("trending", "Trending", [item])],
                  subscription_id=subscription_id, email=f"user{subscription_id}@example.org")


def _parts(message) -> tuple[str, str]:
    parsed = email.message_from_bytes(message.as_bytes())
    text, html = (part.get_payload(decode=True).decode() for part in parsed.walk() if not part.is_multipart())
    return text, html


def test_each_mail_has_its_own_unsubscribe_link():
    first, second = build_digest_message(_digest(1)), build_digest_message(_digest(2))
    for message in (first, second):
        link = message["List-Unsubscribe"].strip("<>")
        text, html = _parts(message)
        assert link in text and link in html
        assert "PAPERWIRE-UNSUBSCRIBE" not in text + html
    assert first["List-Unsubscribe"] != second["List-Unsubscribe"]


def test_different_content_is_rendered_separately_and_escaped():
    text, html = _parts(build_digest_message(_digest(3, title="Diffusion & <i>friends</i>")))
    assert "Diffusion &amp; &lt;i&gt;friends&lt;/i&gt;" in html
    assert "Diffusion & <i>friends</i>" in text
