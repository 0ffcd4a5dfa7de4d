#!/bin/sh
# Container entrypoint: with arguments, run that runstrength command (e.g. `db upgrade` for the
# Kubernetes migrate Job); without, migrate the database and then become the web server.
set -eu

if [ "$#" -gt 0 ]; then
    exec runstrength "$@"
fi

runstrength db upgrade
exec runstrength serve --host 0.0.0.0 --port "${PORT:-8000}" --config /app/gunicorn.conf.py
