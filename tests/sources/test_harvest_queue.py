"""Queued arXiv ids (from library imports) are fetched, stored and saved to
the requesting user's library; unknown ids fail; offline leaves the queue."""

import json

from sqlalchemy import select
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.sources.harvest_queue import process_harvest_queue
from paperwire.store.community import create_user
from paperwire.store.library import HarvestQueue, queue_harvest, saved_ids
from paperwire.store.papers import get_paper
from tests.sources.upstream_server import FakePaper, UpstreamServer


def _queue(db, ids):
    with db.session() as s:
        user = create_user(s, "reader", "correct horse battery", email="reader@example.org")
        queue_harvest(s, ids, user.id)
        return user.id


def test_queue_is_fetched_and_saved_to_the_library(db):
    user_id = _queue(db, ["2401.00001", "2401.00002", "2401.99999"])
    papers = [FakePaper("2401.00001", "Queued paper one"), FakePaper("2401.00002", "Queued paper two")]
    with UpstreamServer(papers) as server:
        report = process_harvest_queue(db, base_url=server.api_url, delay=0)
    assert report.as_dict() == {"fetched": 2, "missing": 1, "left": 0}
    with db.session() as s:
        one = get_paper(s, "2401.00001")
        assert one.title == "Queued paper one"
        assert one.id in saved_ids(s, user_id)
        statuses = dict(s.execute(select(HarvestQueue.arxiv_id, HarvestQueue.status)).all())
    assert statuses == {"2401.00001": "done", "2401.00002": "done", "2401.99999": "failed"}


def test_offline_leaves_the_queue_for_later(db, db_url):
    _queue(db, ["2401.00001"])
    result = CliRunner().invoke(app, ["harvest", "queue", "--base-url", "http://127.0.0.1:9/api/query",
                                      "--delay", "0", "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"fetched": 0, "missing": 0, "left": 1}
