"""Write deploy/env.example and the configuration table of docs/deploy.md from
:class:`paperwire.settings.Settings`, so neither can miss a setting.

    python deploy/gen_env_example.py env      > deploy/env.example
    python deploy/gen_env_example.py table    # markdown table for docs/deploy.md
    python deploy/gen_env_example.py --check  # exit 1 if a setting is missing from either file
"""

from __future__ import annotations

import sys
from pathlib import Path

from paperwire.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

#: (section, meaning) of every setting; a setting missing here fails --check.
MEANING: dict[str, tuple[str, str]] = {
    "database_url": ("Storage", "SQLAlchemy URL. SQLite (`sqlite:////var/lib/paperwire/paperwire.db`) for one host; "
                     "`postgresql+psycopg://user:pass@host/db` for several hosts"),
    "data_dir": ("Storage", "Folder for derived files (the vector index). Default: `<db file>.data` next to a SQLite "
                 "file, `./paperwire-data` for PostgreSQL. Derived: never needs a backup"),
    "base_url": ("Web", "Public URL of the site as users see it (behind the proxy), used in mails, feeds and links"),
    "secret_key": ("Web", "Signs session cookies, CSRF, confirmation and unsubscribe tokens. Unset: a random key is "
                   "generated once into `$PAPERWIRE_HOME/secret_key` (mode 0600) and reused. Set it (at least 16 "
                   "random characters, the same on every host) when processes do not share that folder; known "
                   "placeholders such as `change-me-in-production` are refused at start. Changing it logs everyone "
                   "out and voids mailed links"),
    "home": ("Web", "Folder for the instance's own files (the generated secret key). Default: the data dir"),
    "forwarded_allow_ips": ("Reverse proxy", "Reverse-proxy addresses (IPs/CIDRs, comma-separated) whose X-Forwarded-For/-Proto "
                            "are believed. Empty: none, the connecting address is the client (rate limits use it)"),
    "rate_limit_login": ("Rate limits", "Failed logins per account and per client address, `COUNT/SECONDS`"),
    "rate_limit_signup": ("Rate limits", "Sign-ups per client address, `COUNT/SECONDS`"),
    "rate_limit_comment": ("Rate limits", "Comments per account and per client address, `COUNT/SECONDS`"),
    "rate_limit_vote": ("Rate limits", "Votes per account and per client address, `COUNT/SECONDS`"),
    "rate_limit_submit": ("Rate limits", "Paper submissions per account and per client address, `COUNT/SECONDS` "
                          "(looking up unknown ids is also paced by `PAPERWIRE_HARVEST_DELAY`)"),
    "rate_limit_write": ("Rate limits", "Every other write (settings, webhooks, library, API) per account and per "
                         "client address, `COUNT/SECONDS`"),
    "import_batch_size": ("Import and search", "Records per transaction when importing"),
    "import_bulk_batch_size": ("Import and search", "Records per transaction with `paperwire import --bulk`: fewer, "
                               "larger transactions (memory grows with it, about 12 KB per record: 360 MiB per import worker at 25,000)"),
    "import_workers": ("Import and search", "Processes that import a Kaggle snapshot (`paperwire import --workers`); "
                       "each takes one core and holds one batch in memory; a re-run with the same number resumes"),
    "import_max_line_bytes": ("Import and search", "Longest line an importer reads, in bytes; a longer one is a clear "
                              "`file:line` error (one huge abstract cannot cost gigabytes)"),
    "import_max_file_bytes": ("Import and search", "Largest file read whole (hf-daily JSON, Atom and OAI-PMH XML), in bytes"),
    "db_pool_size": ("Web", "Database connections each process keeps open (a web request holds at most one at a "
                     "time). On PostgreSQL, processes x (pool size + overflow) must stay under the server's "
                     "`max_connections`"),
    "db_max_overflow": ("Web", "Connections a process may open beyond the pool under load"),
    "db_pool_timeout": ("Web", "Seconds a request waits for a free database connection before it is answered 503 "
                        "(busy, with `Retry-After`) instead of failing"),
    "max_concurrent_requests": ("Web", "Requests one web process handles at once. Unset: pool size + overflow - 2. "
                                "More wait for a turn, so an overloaded process answers a quick \"busy\" instead of "
                                "queueing every request until it times out"),
    "request_queue_seconds": ("Web", "How long a request waits for a turn before it gets 503 with `Retry-After: 2`; "
                              "`/static/` and `/healthz` never wait"),
    "sqlite_wal_limit_mb": ("Import and search", "SQLite: once the write-ahead log passes this many MiB, an import "
                            "checkpoints and empties it between batches. Import workers that take turns at the write "
                            "lock otherwise never let SQLite restart it (5 GB at 1M papers). The bound costs a 2-worker "
                            "import about 12 % (1M papers: 9,000/s against 10,200-10,500/s unbounded); a very large "
                            "value (1000000) turns it off"),
    "embedder": ("Import and search", "Embedding model: `paperwire-minilm-v1` (bundled int8 ONNX MiniLM, offline), "
                 "`paperwire-static-v1` (bundled, ~30x faster, weaker), `static:<dir>`, `onnx:<dir>` or "
                 "`st:<sentence-transformers name or path>`. Changing it needs every paper embedded again (`paperwire embed`; the worker does it)"),
    "embedding_cache_dir": ("Import and search", "Folder where slow embedders memoise vectors by text hash "
                            "(unset: off; the test suite uses it)"),
    "embed_on_import": ("Import and search", "Embed new papers inside `paperwire import`/`harvest` (default `false`: "
                        "papers are stored at full speed and the worker's `embed` job or `paperwire embed --workers N` "
                        "backfills them; `import --embed` opts in once)"),
    "harvest_delay": ("Harvesting", "Seconds between requests to arXiv (their terms ask for 3)"),
    "arxiv_api_url": ("Harvesting", "arXiv API endpoint"),
    "oai_base_url": ("Harvesting", "arXiv OAI-PMH endpoint"),
    "smtp_host": ("Mail", "SMTP server for digests and confirmation mails"),
    "smtp_port": ("Mail", "SMTP port (25, 587 with STARTTLS, 465 with SSL)"),
    "smtp_user": ("Mail", "SMTP user name (empty: no login)"),
    "smtp_password": ("Mail", "SMTP password"),
    "smtp_starttls": ("Mail", "Upgrade the connection with STARTTLS"),
    "smtp_ssl": ("Mail", "Connect with implicit TLS (port 465)"),
    "mail_from": ("Mail", "From: header of outgoing mail"),
    "smtp_timeout": ("Mail", "Seconds to wait for the SMTP server"),
    "smtp_retries": ("Mail", "Attempts per mail on temporary (4xx) failures"),
    "smtp_retry_backoff": ("Mail", "First wait in seconds between attempts; doubles each time"),
    "digest_send_hour": ("Digests and webhooks", "UTC hour after which the worker sends the previous day's digests"),
    "digest_size": ("Digests and webhooks", "Papers per digest"),
    "digest_claim_timeout": ("Digests and webhooks", "Seconds after which rows claimed by a crashed sender are "
                             "taken over"),
    "digest_claim_batch": ("Digests and webhooks", "Send-log rows a sender claims at a time"),
    "worker_poll_seconds": ("Worker", "Seconds between the worker's rounds (each round runs the jobs that are due)"),
    "harvest_oai_sets": ("Worker", "OAI-PMH sets the worker harvests on schedule, a JSON list (`[\"cs\", \"stat\"]`)"),
    "harvest_oai_prefix": ("Worker", "Metadata format of scheduled OAI harvests: `arXiv` or `arXivRaw`"),
    "harvest_arxiv_queries": ("Worker", "arXiv API queries the worker harvests on schedule, a JSON list "
                              "(`[\"cat:cs.CL\"]`)"),
    "hf_base_url": ("Harvesting", "Hugging Face site whose `/api/daily_papers?date=` lists `paperwire harvest hf` reads"),
    "hf_first_harvest_days": ("Harvesting", "Days back a first `harvest hf` (no `--from`, no earlier run) starts"),
    "demo_mailbox": ("Demo", "Maildir of the demo's local mail catcher; set by `paperwire demo` (turns on "
                     "/demo/mailbox). Leave unset in production"),
    "harvest_hf_daily": ("Worker", "Harvest Hugging Face Daily Papers lists from `PAPERWIRE_HF_BASE_URL` on schedule"),
    "job_intervals": ("Worker", "Seconds between runs per job kind, a JSON object overriding the defaults "
                      "(harvest 21600, harvest-queue 900, embed 60, index 60, topics 600, map 300, deliver 60, purge 3600)"),
    "map_relayout_fraction": ("Worker", "The map job lays the whole map of papers out again when the papers without "
                              "a place exceed this fraction of those placed (else it places them beside their neighbours)"),
    "topics_min_papers": ("Topics", "A keyword or phrase becomes a topic when at least this many papers carry it"),
    "topics_rising_min_count": ("Topics", "Papers a topic needs in a week to rise (twice as many in a month)"),
    "log_format": ("Worker", "Log lines of the worker: `text` or `json` (one object per line)"),
    "log_level": ("Worker", "Log level: `DEBUG`, `INFO`, `WARNING`, `ERROR`"),
    "webhook_retries": ("Digests and webhooks", "Attempts per webhook delivery"),
    "webhook_timeout": ("Digests and webhooks", "Seconds to wait for a webhook endpoint"),
    "outbound_allow": ("Digests and webhooks", "Hosts and networks webhooks may reach although not public, comma-"
                       "separated (`hooks.corp, 10.0.0.0/8`); empty: public addresses only (SSRF guard)"),
    "confirm_max_age_days": ("Digests and webhooks", "Days a subscription confirmation link stays valid"),
    "mail_min_interval_seconds": ("Mail", "Seconds between two verification or confirmation mails of one kind to "
                                  "one address"),
    "mail_daily_per_address": ("Mail", "Verification, notice and confirmation mails to one address per 24 hours"),
    "mail_daily_per_account": ("Mail", "Such mails one account may cause per 24 hours"),
    "mail_interactive_timeout": ("Mail", "Seconds to wait for the SMTP server while a person waits for the page "
                                 "(no pending rows are kept when it does not answer)"),
}


def _default(name: str) -> str:
    value = Settings.model_fields[name].default
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def env_example() -> str:
    lines = ["# paperwire configuration: every setting, with its default.",
             "# Generated by deploy/gen_env_example.py from paperwire.settings.Settings.",
             "# Copy to /etc/paperwire/env (systemd) or deploy/.env (compose); uncomment what you change.", ""]
    section = None
    for name in Settings.model_fields:
        where, meaning = MEANING.get(name, ("Other", "(undocumented)"))
        if where != section:
            lines += ["", f"## {where}"] if section else [f"## {where}"]
            section = where
        lines.append(f"# {meaning}")
        default = _default(name)
        if '"' in default or " " in default:
            default = f'"{default}"'
        lines.append(f"#PAPERWIRE_{name.upper()}={default}")
    return "\n".join(lines) + "\n"


def table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name in Settings.model_fields:
        meaning = MEANING.get(name, ("Other", "(undocumented)"))[1]
        default = _default(name).replace("|", "\\|")
        rows.append(f"| `PAPERWIRE_{name.upper()}` | {f'`{default}`' if default else '–'} | {meaning} |")
    return "\n".join(rows) + "\n"


def check() -> list[str]:
    problems = [f"{name}: no meaning in deploy/gen_env_example.py" for name in Settings.model_fields
                if name not in MEANING]
    for path in (ROOT / "deploy" / "env.example", ROOT / "docs" / "deploy.md"):
        text = path.read_text(encoding="utf-8")
        problems += [f"{path.relative_to(ROOT)}: PAPERWIRE_{name.upper()} missing"
                     for name in Settings.model_fields if f"PAPERWIRE_{name.upper()}" not in text]
    return problems


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "env"
    if what == "--check":
        found = check()
        print("\n".join(found) or "env.example and docs/deploy.md list every setting")
        sys.exit(1 if found else 0)
    sys.stdout.write(env_example() if what == "env" else table())
