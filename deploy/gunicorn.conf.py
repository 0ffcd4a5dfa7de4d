"""Gunicorn settings for the container: `runstrength serve --config` applies them.

The command's own --host/--port/--workers win over these; `runstrength serve` also runs one
background job consumer beside gunicorn's workers. Plain gunicorn works too:
`gunicorn -c deploy/gunicorn.conf.py` serves `service.app:create_app()`, but runs no jobs:
start `runstrength worker` next to it.
"""

import os

wsgi_app = "service.app:create_app()"
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Container CPU counts lie (they show the host's): size with WEB_CONCURRENCY instead.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20  # below Kubernetes' default 30 s terminationGracePeriodSeconds
keepalive = 5  # above nothing: a load balancer's idle timeout should be longer than this
max_requests = 2000
max_requests_jitter = 200
worker_tmp_dir = "/dev/shm"  # heartbeat files off a possibly read-only root filesystem
# Trust X-Forwarded-* only from these peers (set to the load balancer's address range).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # one JSON line per request comes from service.web.requestlog
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
control_socket_disable = True
