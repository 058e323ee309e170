"""gunicorn's settings, read from the working folder at start: everything
that differs between environments comes from environment variables."""

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
accesslog = "-"
errorlog = "-"
access_log_format = os.environ.get(
    "ACCESS_LOG_FORMAT",
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)ss',
)
# nginx, in front, says which scheme the client used.
forwarded_allow_ips = "*"
