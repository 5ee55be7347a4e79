"""The W3C feed validator's checks that matter for our feeds, written out.

The W3C validator (feedvalidator) is not on PyPI or npm (the only registries
this project reaches), so these are the rules of RFC 4287 (Atom) and RSS 2.0
(with the RSS Advisory Board's profile) that it enforces, as plain functions
returning a list of problems. Each names the rule it checks.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

from lxml import etree

A = "{http://www.w3.org/2005/Atom}"
#: RFC 3339 date-time with a mandatory offset (RFC 4287 §3.3).
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
#: Characters an IRI may not hold raw (RFC 3987 §2.2: no space, quote, angle brackets, braces…).
IRI_FORBIDDEN = re.compile(r'[\s"<>{}|\\^`]')
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+( \(.+\))?$")


def _date_problems(where: str, text: str | None) -> list[str]:
    if text is None or not RFC3339.match(text):
        return [f"{where}: not an RFC 3339 date-time: {text!r}"]
    if datetime.fromisoformat(text.replace("Z", "+00:00")).year < 1991:  # before the web: a placeholder
        return [f"{where}: implausible date {text}"]
    return []


def _iri_problems(where: str, text: str | None) -> list[str]:
    if not text or not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", text):
        return [f"{where}: not an absolute IRI: {text!r}"]
    return [f"{where}: IRI holds a raw {m.group()!r}: {text!r}"] if (m := IRI_FORBIDDEN.search(text)) else []


def _once(element, name: str, where: str, *, required: bool) -> list[str]:
    count = len(element.findall(A + name))
    if count > 1:
        return [f"{where}: {count} atom:{name} elements (at most one allowed)"]
    if required and count == 0:
        return [f"{where}: atom:{name} is missing"]
    return []


def atom_problems(body: bytes, *, warnings: bool = True) -> list[str]:
    """RFC 4287 §4.1.1/§4.1.2, and (``warnings``) the validator's DuplicateUpdated warning."""
    root = etree.fromstring(body)
    if root.tag != A + "feed":
        return [f"root is {root.tag}, not atom:feed"]
    problems: list[str] = []
    for name in ("id", "title", "updated"):
        problems += _once(root, name, "feed", required=True)
    for name in ("subtitle", "rights", "icon", "logo", "generator"):
        problems += _once(root, name, "feed", required=False)
    problems += _iri_problems("feed atom:id", root.findtext(A + "id"))
    problems += _date_problems("feed atom:updated", root.findtext(A + "updated"))
    feed_has_author = root.find(A + "author") is not None
    seen_updated: dict[str, str] = {}
    for number, entry in enumerate(root.findall(A + "entry"), 1):
        where = f"entry {number}"
        for name in ("id", "title", "updated"):
            problems += _once(entry, name, where, required=True)
        for name in ("published", "summary", "content", "rights", "source"):
            problems += _once(entry, name, where, required=False)
        problems += _iri_problems(f"{where} atom:id", entry.findtext(A + "id"))
        updated = entry.findtext(A + "updated")
        problems += _date_problems(f"{where} atom:updated", updated)
        if entry.find(A + "published") is not None:
            problems += _date_problems(f"{where} atom:published", entry.findtext(A + "published"))
        authors = entry.findall(A + "author")
        if not authors and not feed_has_author:
            problems.append(f"{where}: no atom:author (and the feed has none)")
        for author in authors:
            if len(author.findall(A + "name")) != 1 or not (author.findtext(A + "name") or "").strip():
                problems.append(f"{where}: an atom:author needs exactly one non-empty atom:name")
        links = entry.findall(A + "link")
        if any(not link.get("href") for link in links):
            problems.append(f"{where}: atom:link without href")
        alternates = [(l.get("type"), l.get("hreflang")) for l in links if l.get("rel", "alternate") == "alternate"]
        if len(alternates) != len(set(alternates)):
            problems.append(f"{where}: two alternate links with the same type and hreflang")
        if entry.find(A + "content") is None and not alternates and entry.find(A + "summary") is None:
            problems.append(f"{where}: no content and no alternate link, so atom:summary is required")
        for name in ("title", "summary", "content"):
            node = entry.find(A + name)
            if node is not None and node.get("type", "text") not in {"text", "html", "xhtml"} and name != "content":
                problems.append(f"{where}: atom:{name} type {node.get('type')!r}")
        if warnings and updated in seen_updated:
            problems.append(f"{where}: same atom:updated as {seen_updated[updated]} (DuplicateUpdated)")
        elif updated:
            seen_updated[updated] = where
    return problems


def rss_problems(body: bytes) -> list[str]:
    """RSS 2.0: required channel elements, item title-or-description, RFC 822
    dates, e-mail-only <author>, permalink guids that are URLs."""
    root = etree.fromstring(body)
    if root.tag != "rss" or root.get("version") != "2.0":
        return ["root is not <rss version=\"2.0\">"]
    channel = root.find("channel")
    problems = [f"channel: <{n}> is missing" for n in ("title", "link", "description") if channel.find(n) is None]
    for name in ("lastBuildDate", "pubDate"):
        if (text := channel.findtext(name)) is not None:
            problems += _rfc822_problems(f"channel <{name}>", text)
    for number, item in enumerate(channel.findall("item"), 1):
        where = f"item {number}"
        if item.find("title") is None and item.find("description") is None:
            problems.append(f"{where}: needs <title> or <description>")
        if (text := item.findtext("pubDate")) is not None:
            problems += _rfc822_problems(f"{where} <pubDate>", text)
        for author in item.findall("author"):
            if not EMAIL.match(author.text or ""):
                problems.append(f"{where}: <author> must be an e-mail address, got {author.text!r}")
        guid = item.find("guid")
        if guid is not None and guid.get("isPermaLink", "true") == "true" and not (guid.text or "").startswith("http"):
            problems.append(f"{where}: permalink guid is not a URL: {guid.text!r}")
    return problems


def _rfc822_problems(where: str, text: str) -> list[str]:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return [f"{where}: not an RFC 822 date: {text!r}"]
    return [f"{where}: implausible date {text}"] if when.year < 1991 else []
