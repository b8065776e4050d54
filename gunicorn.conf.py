"""Gunicorn settings for a county server: ``gunicorn -c gunicorn.conf.py wsgi:app``.

See docs/deployment.md. Values can be changed through the environment (the systemd unit's
EnvironmentFile): GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_TIMEOUT,
GUNICORN_MAX_REQUESTS.

Several worker processes run the app at once, which is safe because everything they share
lives outside them: the database (PostgreSQL; SQLite works but serializes writes), the rate
limit counters (Redis: set RATELIMIT_STORAGE_URI, or each worker counts on its own), and the
secrets (SECRET_KEY and QR_TOKEN_KEY from the environment, identical in every worker).
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # nginx in front, same machine
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # an Excel import of 5 MB fits
graceful_timeout = 30
keepalive = 5

# Each worker builds the app, and its database pool, after the fork: no connection is ever
# shared between processes.
preload_app = False

# Recycle workers now and then so memory stays flat over months of uptime.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))  # 0: never
max_requests_jitter = max_requests // 10

# Trust X-Forwarded-* only from nginx on this machine (the app itself: PROXY_COUNT=1).
forwarded_allow_ips = "127.0.0.1"

# Request size limits (the body limit is the app's MAX_CONTENT_LENGTH and nginx's
# client_max_body_size).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Logs to stderr (journald): JSON access lines with door-plate tokens cut short.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
logger_class = "app.ops.gunicorn_logging.JsonAccessLogger"

# Heartbeat files on tmpfs: a slow disk must not make gunicorn kill healthy workers.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# systemd starts, reloads and stops us; no control socket in the (read-only) home directory.
control_socket_disable = True

# Files the app writes (backups, the instance secret) are readable by its user only.
umask = 0o077
