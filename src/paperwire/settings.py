"""One settings object for the whole application, read from the environment.

Every knob is a ``PAPERWIRE_*`` environment variable (or a line in a ``.env``
file), so a deployment is configured without editing code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


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
    #: Secret used to sign cookies, CSRF and unsubscribe tokens.
    secret_key: str = "change-me-in-production"
    #: Rows per transaction when importing.
    import_batch_size: int = 1000
    #: Longest line an importer reads (bytes); a longer one is a clear error,
    #: so one 50 MB abstract cannot cost a gigabyte of memory.
    import_max_line_bytes: int = 8 * 1024 * 1024
    #: Largest file read whole (hf-daily JSON, Atom and OAI-PMH XML), in bytes.
    import_max_file_bytes: int = 64 * 1024 * 1024
    #: Embedder used for semantic search ("paperwire-static-v1" ships with
    #: the package; "st:<model>" loads a sentence-transformers model).
    embedder: str = "paperwire-static-v1"
    #: Embed new papers while importing (turn off for bulk imports and run
    #: ``paperwire embed`` later).
    embed_on_import: bool = True
    #: Seconds between requests to arXiv (their terms ask for 3 s).
    harvest_delay: float = 3.0
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    oai_base_url: str = "https://oaipmh.arxiv.org/oai"
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
    confirm_max_age_days: int = 7

    def resolved_data_dir(self) -> Path:
        """Folder for files derived from the database (created on demand)."""
        if self.data_dir is not None:
            path = Path(self.data_dir)
        elif self.database_url.startswith("sqlite:///") and self.database_url != "sqlite:///:memory:":
            db_file = Path(self.database_url.removeprefix("sqlite:///"))
            path = db_file.with_name(db_file.name + ".data")
        else:
            path = Path("paperwire-data")
        path.mkdir(parents=True, exist_ok=True)
        return path


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()``)."""
    return Settings()
