"""One settings object for the whole application, read from the environment.

Every knob is a ``PAPERWIRE_*`` environment variable (or a line in a ``.env``
file), so a deployment is configured without editing code.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, PrivateAttr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Seconds between two runs of each kind of worker job (``job_intervals`` overrides).
DEFAULT_JOB_INTERVALS: dict[str, float] = {
    "harvest": 6 * 3600.0,
    "harvest-queue": 900.0,
    "embed": 60.0,
    "index": 60.0,
    "map": 300.0,
    "deliver": 60.0,
    "purge": 3600.0,
    "topics": 600.0,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAPERWIRE_", env_file=".env", extra="ignore")

    #: SQLAlchemy URL. SQLite (the default) runs in WAL mode; PostgreSQL via
    #: ``postgresql+psycopg://user:pass@host/db``.
    database_url: str = "sqlite:///paperwire.db"
    #: Where derived files live (vector index, caches). Defaults to a folder
    #: next to the SQLite file, or ./paperwire-data for server databases.
    data_dir: Path | None = None
    #: Public base URL of the site, used in mails and feeds.
    base_url: str = "http://127.0.0.1:8000"
    #: Secret used to sign cookies, CSRF and unsubscribe tokens. Unset (the
    #: default): a random key generated once into ``<home>/secret_key``. Known
    #: placeholders and short values are refused (see ``paperwire.secret_key``).
    secret_key: str | None = None
    #: Folder for the instance's own files (the generated secret key).
    #: Default: the data dir (next to the SQLite file).
    home: Path | None = None
    #: Rows per transaction when importing.
    import_batch_size: int = 1000
    #: Rows per transaction for ``paperwire import --bulk`` and ``--workers``.
    import_bulk_batch_size: int = 25_000
    #: Processes that import a Kaggle snapshot (``paperwire import --workers``).
    import_workers: int = Field(default=1, ge=1, le=64)
    #: Longest line an importer reads (bytes); a longer one is a clear error,
    #: so one 50 MB abstract cannot cost a gigabyte of memory.
    import_max_line_bytes: int = 8 * 1024 * 1024
    #: Largest file read whole (hf-daily JSON, Atom and OAI-PMH XML), in bytes.
    import_max_file_bytes: int = 64 * 1024 * 1024
    #: SQLite: once the write-ahead log passes this size (MiB), an import
    #: checkpoints it in full after its batch so the log starts over. Without
    #: it, two import workers that take turns never leave SQLite a moment to
    #: restart the log, which grew to 5-6 GB in a 1M-paper import.
    sqlite_wal_limit_mb: int = Field(default=256, ge=1)
    #: Database connections a process keeps open, and how many more it may open
    #: under load. Every request holds at most one at a time.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    #: Seconds a request waits for a free connection before it is answered 503.
    db_pool_timeout: float = Field(default=10.0, gt=0)
    #: Requests one web process handles at once (default: the pool's size plus
    #: overflow, less two for the background index sync). More wait up to
    #: ``request_queue_seconds`` for a turn, then get 503 with Retry-After:
    #: under overload, quick "busy" answers instead of a queue that grows
    #: until every request times out.
    max_concurrent_requests: int | None = Field(default=None, ge=1)
    request_queue_seconds: float = Field(default=5.0, ge=0)
    #: Embedder used for semantic search ("paperwire-minilm-v1" and the ~30x
    #: faster, weaker "paperwire-static-v1" ship with the package; "st:<model>"
    #: loads a sentence-transformers model).
    embedder: str = "paperwire-minilm-v1"
    #: Memoise slow embedders' vectors here by text hash (off by default; the
    #: test suite sets it so fixtures are embedded once per machine).
    embedding_cache_dir: Path | None = None
    #: Embed new papers inside ``paperwire import`` / ``harvest`` (off: papers are
    #: stored at full speed and the worker's ``embed`` job, or ``paperwire
    #: embed``, backfills them; ``--embed`` opts one import in).
    embed_on_import: bool = False
    #: Seconds between requests to arXiv (their terms ask for 3 s).
    harvest_delay: float = 3.0
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    oai_base_url: str = "https://oaipmh.arxiv.org/oai"
    #: Hugging Face, for ``paperwire harvest hf`` (``{hf_base_url}/api/daily_papers?date=…``).
    hf_base_url: str = "https://huggingface.co"
    #: Days a first ``harvest hf`` without ``--from`` goes back.
    hf_first_harvest_days: int = 7
    # Outgoing mail.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str = "paperwire <digest@paperwire.local>"
    smtp_timeout: float = 30.0
    smtp_retries: int = 4
    smtp_retry_backoff: float = 2.0
    # Digests and webhooks (``paperwire worker`` / ``paperwire digest send``).
    #: UTC hour after which the previous period's digests go out.
    digest_send_hour: int = 6
    digest_size: int = 10
    #: Seconds after which a claimed-but-unsent digest may be taken over.
    digest_claim_timeout: int = 600
    digest_claim_batch: int = 200
    worker_poll_seconds: float = 60.0
    webhook_retries: int = 4
    webhook_timeout: float = 10.0
    #: Hosts and networks that webhooks may reach although they are not
    #: public (comma-separated, e.g. ``hooks.corp, 10.0.0.0/8``); empty: public
    #: addresses only (see ``paperwire.outbound``).
    outbound_allow: str = ""
    confirm_max_age_days: int = 7
    # Interactive mails (address verification, notices, confirmations).
    #: Seconds between two such mails to one address.
    mail_min_interval_seconds: int = 300
    #: At most this many such mails to one address per 24 hours…
    mail_daily_per_address: int = 5
    #: … and this many asked for by one account per 24 hours.
    mail_daily_per_account: int = 10
    #: SMTP timeout (seconds) while a person waits for the page.
    mail_interactive_timeout: float = 5.0
    # What ``paperwire worker`` harvests on schedule (JSON lists in the environment,
    # e.g. PAPERWIRE_HARVEST_OAI_SETS='["cs", "stat"]').
    harvest_oai_sets: list[str] = []
    harvest_oai_prefix: str = "arXiv"
    harvest_arxiv_queries: list[str] = []
    #: Harvest Hugging Face Daily Papers lists (``hf_base_url``) on schedule.
    harvest_hf_daily: bool = False
    #: Seconds between runs per job kind, e.g. PAPERWIRE_JOB_INTERVALS='{"harvest": 3600}'
    #: (kinds not named keep their defaults: see ``DEFAULT_JOB_INTERVALS``).
    job_intervals: dict[str, float] = {}
    #: A keyword or phrase becomes a topic when at least this many papers carry it.
    topics_min_papers: int = 3
    #: A topic rises only with at least this many papers in the week (twice as many in a month).
    topics_rising_min_count: int = 3
    #: The map job lays the whole map out again when the papers without a place
    #: are more than this fraction of those already placed (else it places them
    #: beside their neighbours and nothing else moves).
    map_relayout_fraction: float = 0.25
    #: Worker logs: "text" (one line per event) or "json" (one JSON object per line).
    log_format: str = "text"
    log_level: str = "INFO"
    #: Proxy addresses whose X-Forwarded-For/-Proto are believed (comma-separated
    #: IPs or CIDRs, ``*`` for any). Empty (the default): none, the address
    #: that connects is the client.
    forwarded_allow_ips: str = ""
    # Rate limits, "COUNT/SECONDS", each counted per account and per client address.
    #: Failed logins (successful ones do not count).
    rate_limit_login: str = "10/300"
    rate_limit_signup: str = "5/3600"
    rate_limit_comment: str = "20/600"
    rate_limit_vote: str = "120/600"
    #: Paper submissions (lookups of unknown ids are also paced by ``harvest_delay``).
    rate_limit_submit: str = "20/3600"
    #: Every other write: settings, webhooks, library, API writes.
    rate_limit_write: str = "120/600"
    #: Maildir folder of the demo's local mail catcher. Set (by ``paperwire demo``),
    #: it turns on /demo/mailbox, which shows the mails caught there; unset, that page is a 404.
    demo_mailbox: Path | None = None
    _signing_key: str | None = PrivateAttr(default=None)

    @field_validator("rate_limit_login", "rate_limit_signup", "rate_limit_comment", "rate_limit_vote",
                     "rate_limit_submit", "rate_limit_write")
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)
        return value

    def rate_limit(self, action: str) -> tuple[int, timedelta]:
        """(attempts, window) for ``action`` (login, signup, comment, vote, submit, write)."""
        return parse_rate_limit(getattr(self, f"rate_limit_{action}"))

    def request_limit(self) -> int:
        """Requests a web process admits at once (``max_concurrent_requests`` or the pool's share)."""
        if self.max_concurrent_requests is not None:
            return self.max_concurrent_requests
        return max(1, self.db_pool_size + self.db_max_overflow - 2)

    def resolved_home(self) -> Path:
        """``PAPERWIRE_HOME``, else the data dir."""
        return Path(self.home) if self.home is not None else self.resolved_data_dir()

    def signing_key(self) -> str:
        """The key everything is signed with (memoised on this settings object,
        so ``get_settings.cache_clear()`` re-reads it); raises ``SecretKeyError``."""
        if self._signing_key is None:
            from paperwire.secret_key import resolve

            self._signing_key = resolve(self.secret_key, self.resolved_home())
        return self._signing_key

    def job_interval(self, kind: str) -> float:
        """Seconds between two runs of a job of ``kind``."""
        return float(self.job_intervals.get(kind, DEFAULT_JOB_INTERVALS[kind]))

    def data_dir_path(self) -> Path:
        """Folder for files derived from the database, which may not exist yet (for readers:
        a search asks on every request, where a ``mkdir`` is a wasted system call)."""
        if self.data_dir is not None:
            return Path(self.data_dir)
        if self.database_url.startswith("sqlite:///") and self.database_url != "sqlite:///:memory:":
            db_file = Path(self.database_url.removeprefix("sqlite:///"))
            return db_file.with_name(db_file.name + ".data")
        return Path("paperwire-data")

    def resolved_data_dir(self) -> Path:
        """Folder for files derived from the database (created on demand)."""
        path = self.data_dir_path()
        path.mkdir(parents=True, exist_ok=True)
        return path


def parse_rate_limit(value: str) -> tuple[int, timedelta]:
    """``"20/600"`` → (20, 600 s); anything else is a ValueError saying the format."""
    count, sep, seconds = str(value).partition("/")
    try:
        limit, window = int(count), float(seconds)
    except ValueError:
        limit, window = 0, 0.0
    if not sep or limit < 1 or window <= 0:
        raise ValueError(f"expected COUNT/SECONDS like 20/600 (at least 1 attempt per positive window), got {value!r}")
    return limit, timedelta(seconds=window)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()``)."""
    return Settings()
