"""Onboarding after sign-up, over the fixed arXiv taxonomy shipped in the
package (issue 14: it was not offered, and its categories were whatever the
database happened to hold)."""

from __future__ import annotations

import re

from paperwire.taxonomy import choosable, taxonomy
from tests.web.conftest import csrf_from


def test_taxonomy_is_the_real_grouped_arxiv_one():
    names = [g.name for g in taxonomy()]
    assert names == ["Computer Science", "Economics", "Electrical Engineering and Systems Science", "Mathematics",
                     "Physics", "Quantitative Biology", "Quantitative Finance", "Statistics"]
    ids = choosable()
    assert {"cs.LG", "cs.CV", "math.CO", "hep-th", "astro-ph.CO", "stat.ML", "q-bio.NC", "cs", "astro-ph"} <= ids
    assert len([i for i in ids if "." in i]) > 120


def test_sign_up_lands_on_onboarding(client):
    token = csrf_from(client.get("/signup").text)
    r = client.post("/signup", data={"username": "newbie", "password": "correct-horse", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/onboarding?msg=welcome"
    html = client.get(r.headers["location"]).text
    assert "Welcome! Your account is ready." in html and "Pick your interests" in html
    assert "Skip for now" in html


def test_sign_up_with_a_destination_keeps_it(client):
    token = csrf_from(client.get("/signup?next=/hot").text)
    r = client.post("/signup", data={"username": "goer", "password": "correct-horse", "csrf_token": token,
                                     "next": "/hot"}, follow_redirects=False)
    assert r.headers["location"] == "/hot?msg=welcome"


def test_categories_are_the_taxonomy_with_counts_where_papers_exist(client):
    token = csrf_from(client.get("/signup").text)
    client.post("/signup", data={"username": "picker", "password": "correct-horse", "csrf_token": token})
    html = client.get("/onboarding").text
    # Seeded papers: cs.CV + cs.LG, cs.LG, cs.CR.
    assert re.search(r'value="cs.LG"> <span>Machine Learning <code>cs.LG</code> <span class="sub">\(2\)</span>', html)
    assert re.search(r'value="cs"> <span>All of Computer Science <code>cs</code> <span class="sub">\(3\)</span>', html)
    assert 'value="math.CO"> <span>Combinatorics <code>math.CO</code></span>' in html  # no papers: no count
    assert "<summary>Physics</summary>" in html  # a group without papers starts closed
    step2 = client.get("/onboarding?cat=cs.LG&cat=made-up").text
    seeds = re.findall(r'name="seed" value="([^"]+)"', step2)
    assert set(seeds) == {"2403.00001", "2403.00002"}
    assert 'name="cat" value="made-up"' not in step2
    r = client.post("/onboarding", data={"csrf_token": csrf_from(step2), "cat": ["cs.LG", "made-up"],
                                         "seed": seeds}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/for-you"
