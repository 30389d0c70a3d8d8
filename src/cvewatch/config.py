"""Typed readers for CVEWATCH_* environment variables.

Every setting the operator can change is declared in SETTINGS below; docs/configuration.md is the
human-readable copy of that table and a test keeps the two in step.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A CVEWATCH_* variable has a value we refuse to start with."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("CVEWATCH_DATA_DIR", "./var", "Where the SQLite database, the generated secret key and other state live."),
    Setting(
        "CVEWATCH_DATABASE_URL",
        "",
        "PostgreSQL URL (postgres://user:pass@host:5432/db). Unset: SQLite in the data dir (WAL, busy timeout).",
    ),
    Setting(
        "CVEWATCH_SECRET_KEY",
        "",
        "Django secret key; also keys the token and credential hashes. Unset: generated once and kept in "
        "DATA_DIR/secret_key.",
    ),
    Setting("CVEWATCH_PAGE_SIZE", "10", "API page size (OpenCVE's default is 10)."),
    Setting("CVEWATCH_DEBUG", "false", "Django debug mode. Never in production."),
    Setting("CVEWATCH_ALLOWED_HOSTS", "", "Extra comma-separated host names the server answers to, besides the host of "
            "CVEWATCH_BASE_URL (unset: the bind address's); `*` is refused."),
    Setting(
        "CVEWATCH_CSRF_TRUSTED_ORIGINS",
        "",
        "Comma-separated origins (https://cve.example.com) trusted for form posts behind a proxy.",
    ),
    Setting("CVEWATCH_BIND", "127.0.0.1:8000", "Default HOST:PORT for `cvewatch serve`."),
    Setting("CVEWATCH_WORKERS", "2", "Server worker processes for `cvewatch serve`."),
    Setting("CVEWATCH_THREADS", "4", "Threads per server worker for `cvewatch serve`."),
    Setting("CVEWATCH_LOG_LEVEL", "INFO", "Log level: DEBUG, INFO, WARNING, ERROR."),
    Setting("CVEWATCH_ALLOW_SIGNUP", "false", "Whether visitors may create their own account (off: only "
            "invitations and the operator create accounts)."),
    Setting("CVEWATCH_BASE_URL", "", "Public URL of this instance (https://cve.example.com): the only origin of "
            "links in mails, and the host the server answers to. https: Secure cookies and HSTS. Unset: "
            "http://CVEWATCH_BIND for a local install."),
    Setting("CVEWATCH_EMAIL_URL", "", "SMTP server: smtp://user:pass@host:25, smtp+tls://… (STARTTLS), smtps://… "
            "(implicit TLS). Unset: mails are written to the log."),
    Setting("CVEWATCH_EMAIL_FROM", "cvewatch@localhost", "Sender address of outgoing mail."),
    # --- import limits (cvewatch/ingest/readers.py, docs/import.md) ---
    Setting("CVEWATCH_IMPORT_MAX_MB", "512",
            "Most MiB one imported file or archive member may decompress to; a larger one is skipped."),
    Setting("CVEWATCH_IMPORT_MAX_RATIO", "100",
            "Most times an archive member or .gz may expand past 16 MiB (a zip or gzip bomb is skipped)."),
    # --- job engine (wt-e) ---
    Setting("CVEWATCH_REDIS_URL", "", "Redis URL (redis://host:6379/0) for the job queue, shared by every worker "
            "and server. Unset: the queue is a SQLite file in the data dir (one machine)."),
    Setting("CVEWATCH_WORKER", "internal", "internal: `cvewatch serve` also runs one job worker (restarted if it "
            "dies); external: it runs none and `cvewatch worker` runs elsewhere."),
    Setting("CVEWATCH_WORKER_THREADS", "2", "Threads of a job worker (`cvewatch worker`, serve's internal one): "
            "jobs run at once."),
    Setting("CVEWATCH_BACKGROUND_NICE", "10", "CPU niceness (0-19) that `cvewatch worker` (serve's internal one "
            "too), `sync` and `import` take on, so feeds and imports yield the CPU to the web pages and API; 0: "
            "none."),
    Setting("CVEWATCH_QUEUE_NAME", "cvewatch", "Name of the job queue (its key prefix on Redis): instances sharing "
            "one Redis need different names."),
    # --- end job engine ---
    # --- sync (cvewatch/sync/, docs/sync.md) ---
    Setting("CVEWATCH_SOURCES", "cvelist,nvd,kev,epss,cwe",
            "Comma-separated sync sources to run: cvelist, nvd, kev, epss, cwe, opencve-kb."),
    Setting("CVEWATCH_SYNC_INTERVAL", "3600", "Seconds between two syncs of a source."),
    Setting("CVEWATCH_CVELIST_URL", "https://api.github.com/repos/CVEProject/cvelistV5/releases",
            "cvelistV5: its GitHub releases API, a git URL or checkout, a directory or an archive."),
    Setting("CVEWATCH_NVD_URL", "https://services.nvd.nist.gov/rest/json/cves/2.0",
            "NVD: the API 2.0 endpoint, or a JSON 1.1 feed file (URL or path) or a directory of feed files."),
    Setting("CVEWATCH_KEV_URL", "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
            "CISA KEV catalog JSON (URL or path)."),
    Setting("CVEWATCH_EPSS_URL", "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
            "FIRST EPSS scores CSV (URL or path)."),
    Setting("CVEWATCH_CWE_URL", "https://cwe.mitre.org/data/xml/cwec_latest.xml.zip",
            "MITRE CWE catalog XML or zip (URL or path)."),
    Setting("CVEWATCH_OPENCVE_KB_URL", "https://github.com/opencve/opencve-kb.git",
            "OpenCVE knowledge base: a git URL or a local checkout."),
    Setting("CVEWATCH_NVD_API_KEY", "", "NVD API key, sent as the apiKey header (raises the rate limit)."),
    # --- end sync ---
    # --- alerts (wt-f) ---
    Setting("CVEWATCH_DELIVERY_RETRY_BASE", "30", "Alerts: seconds before the first retry of a failed delivery; "
            "each later retry waits twice as long."),
    Setting("CVEWATCH_DELIVERY_MAX_AGE", "86400", "Alerts: seconds a delivery keeps being retried before it is "
            "marked failed (it can still be retried by hand)."),
    Setting("CVEWATCH_DELIVERY_TIMEOUT", "10", "Alerts: seconds one webhook, Slack, Teams or SMTP attempt may take."),
    Setting("CVEWATCH_ALLOW_PRIVATE_WEBHOOKS", "false", "Alerts: allow outbound URLs that resolve to private, "
            "loopback or link-local addresses (refused by default, also after a redirect)."),
    # --- end alerts ---
    # --- throttling and rate limits (issue 10, docs/api.md) ---
    Setting("CVEWATCH_API_RATE_LIMIT", "1200/minute", "Requests each API caller (person or token) may make: "
            "N/second, N/minute, N/hour or N/day; off: no limit. Beyond it: 429 with Retry-After."),
    Setting("CVEWATCH_LOGIN_FAILURE_LIMIT", "10", "Failed logins (web or API Basic) per account and per client "
            "address before that account or address is locked out."),
    Setting("CVEWATCH_LOGIN_LOCKOUT", "900", "Seconds a lock-out lasts; failures older than this are forgotten."),
    Setting("CVEWATCH_PROXY_COUNT", "0", "Reverse proxies in front of cvewatch: the client address is taken that "
            "many hops from the right of X-Forwarded-For. 0: the connection's address (X-Forwarded-For ignored)."),
    # --- end throttling ---
    Setting("CVEWATCH_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres",
            "Test suite only: the PostgreSQL server the suite's PostgreSQL run uses."),
)

_DEFAULTS = {s.name: s.default for s in SETTINGS}


def env_str(name: str) -> str:
    return os.environ.get(name, _DEFAULTS.get(name, "")).strip()


def env_bool(name: str) -> bool:
    value = env_str(name).lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def env_int(name: str, *, minimum: int = 1, maximum: int = 1_000_000) -> int:
    raw = env_str(name)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def env_list(name: str) -> list[str]:
    return [part.strip() for part in env_str(name).split(",") if part.strip()]


def env_choice(name: str, choices: tuple[str, ...]) -> str:
    value = env_str(name).lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


# --- sync ---
SYNC_SOURCE_NAMES = ("cvelist", "nvd", "kev", "epss", "cwe", "opencve-kb")  # the one list of sync sources


def sync_sources() -> list[str]:
    """CVEWATCH_SOURCES as a list of known source names (unknown names stop cvewatch at start)."""
    names = env_list("CVEWATCH_SOURCES")
    unknown = [n for n in names if n not in SYNC_SOURCE_NAMES]
    if unknown:
        raise ConfigError(
            f"CVEWATCH_SOURCES names unknown source(s) {', '.join(unknown)}; known: {', '.join(SYNC_SOURCE_NAMES)}"
        )
    return list(dict.fromkeys(names))


def sync_urls() -> dict[str, str]:
    """Each source's CVEWATCH_<SOURCE>_URL: https://, http://, file:// or a local path (empty: the default)."""
    names = {name: f"CVEWATCH_{name.upper().replace('-', '_')}_URL" for name in SYNC_SOURCE_NAMES}
    return {name: env_str(var) or _DEFAULTS[var] for name, var in names.items()}
# --- end sync ---


# --- throttling ---
RATE_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def api_rate_limit() -> tuple[int, int] | None:
    """CVEWATCH_API_RATE_LIMIT as (requests, window in seconds), or None when it is `off`."""
    raw = env_str("CVEWATCH_API_RATE_LIMIT").lower()
    if raw in {"off", "none", "0"}:
        return None
    count, _, period = raw.partition("/")
    if not (count.isdigit() and int(count) > 0 and period in RATE_PERIODS):
        raise ConfigError(
            f"CVEWATCH_API_RATE_LIMIT must be N/second, N/minute, N/hour, N/day or off, not {raw!r}"
        )
    return int(count), RATE_PERIODS[period]


def caches(redis_url: str) -> dict[str, dict[str, object]]:
    """Django's CACHES: `throttle` (login failures, API rate limits) in Redis when a URL is given, else here."""
    local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    throttle = (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": "cvewatch"}
        if redis_url
        else {**local, "LOCATION": "cvewatch-throttle"}
    )
    # `search`: counts of text searches, per process (catalog.search.count_once_per_generation); its own
    # store so many distinct terms never evict the dashboard's statistics from `default`.
    search = {**local, "LOCATION": "cvewatch-search", "OPTIONS": {"MAX_ENTRIES": 2000}}
    return {"default": {**local, "LOCATION": "cvewatch"}, "throttle": throttle, "search": search}
# --- end throttling ---


# --- hosts and links (docs/security.md) ---
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_WILDCARD_HOSTS = {"", "0.0.0.0", "[::]", "::"}


def split_bind(bind: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets) as its host and port; ConfigError for anything else."""
    host, sep, port = bind.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"the bind address must be HOST:PORT, not {bind!r}")
    return host.lower(), int(port)


def base_url(*, bind: str | None = None) -> str:
    """CVEWATCH_BASE_URL, else http://BIND for a local install; "" when bound to every interface without it.

    Links in mails are built from this alone, never from a request's Host header.
    """
    configured = env_str("CVEWATCH_BASE_URL").rstrip("/")
    if configured:
        parts = urlsplit(configured)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(f"CVEWATCH_BASE_URL must be an http(s) URL such as https://cve.example.com, "
                              f"not {configured!r}")
        return configured
    host, port = split_bind(bind if bind is not None else env_str("CVEWATCH_BIND"))
    return "" if host in _WILDCARD_HOSTS else f"http://{host}:{port}"


def allowed_hosts(*, bind: str | None = None) -> list[str]:
    """The Host values the server answers: CVEWATCH_BASE_URL's host, else the bind address's; never `*`."""
    hosts = env_list("CVEWATCH_ALLOWED_HOSTS")
    if "*" in hosts:
        raise ConfigError("CVEWATCH_ALLOWED_HOSTS may not be '*': a forged Host would be answered; list names")
    configured = env_str("CVEWATCH_BASE_URL")
    if configured:
        hostname = urlsplit(base_url()).hostname or ""
        return [*hosts, f"[{hostname}]" if ":" in hostname else hostname]
    host, _ = split_bind(bind if bind is not None else env_str("CVEWATCH_BIND"))
    local = list(LOOPBACK_HOSTS) if host in _WILDCARD_HOSTS or host in LOOPBACK_HOSTS else [host]
    return list(dict.fromkeys([*hosts, *local]))
# --- end hosts and links ---


# What cvewatch keeps in the data dir (the SQLite databases with their WAL/SHM/journal, the secret key, the
# demo login, logs): owner-only. Other files an operator put there are left as they are.
_PRIVATE_FILES = ("*.sqlite3", "*.sqlite3-*", "secret_key", "demo-login.txt", "*.log", "*.log.*")


def data_dir() -> Path:
    """The data directory, made owner-only (0700, its cvewatch files 0600).

    Also sets this process's umask to 077, so whatever cvewatch creates from now on (a new database and its
    WAL and SHM, which SQLite creates with the database's mode, logs, backups) is the owner's only.
    """
    path = Path(env_str("CVEWATCH_DATA_DIR") or "./var").expanduser().resolve()
    os.umask(0o077)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _make_private(path, 0o700)
    for pattern in _PRIVATE_FILES:
        for file in path.glob(pattern):
            if file.is_file() and not file.is_symlink():
                _make_private(file, 0o600)
    return path


def _make_private(path: Path, mode: int) -> None:
    try:
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:  # not ours to change (a shared mount, say): leave it
        pass


def secret_key(directory: Path) -> str:
    """The configured key, or one generated on first run and kept (mode 0600) in the data dir."""
    configured = env_str("CVEWATCH_SECRET_KEY")
    if configured:
        if len(configured) < 32:
            raise ConfigError("CVEWATCH_SECRET_KEY must be at least 32 characters long")
        return configured
    key_file = directory / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
