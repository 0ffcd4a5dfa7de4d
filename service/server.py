"""The production web server: gunicorn run in-process around ``service.app:create_app()``."""

from __future__ import annotations

import errno
import os
import runpy
import socket
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from service import db as dbmod
from service.app import Runtime

DEFAULT_WORKERS = 2
THREADS = 4
GRACEFUL_TIMEOUT_S = 20


class ServeError(RuntimeError):
    """The server cannot start; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """Where and how to serve; ``workers`` None: the config file's value, else the default."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int | None = None
    config: Path | None = None


def gunicorn_options(options: ServeOptions) -> dict[str, Any]:
    """Gunicorn settings: config file values first, then ours; access logs come from requestlog."""
    settings: dict[str, Any] = {
        "worker_class": "gthread",
        "threads": THREADS,
        "workers": DEFAULT_WORKERS,
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "timeout": 30,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "runstrength",
        "control_socket_disable": True,  # gunicorn >= 24: no control socket in $HOME
    }
    if options.config is not None:
        settings.update(_config_file(options.config))
    settings["bind"] = [_bind(options.host, options.port)]
    settings["accesslog"] = None
    if options.workers is not None:
        settings["workers"] = options.workers
    return settings


def _config_file(path: Path) -> dict[str, Any]:
    """The public names a gunicorn config file defines (it is Python, as gunicorn's own are)."""
    if not path.is_file():
        raise ServeError(f"gunicorn config {path} not found")
    values = runpy.run_path(str(path))
    return {
        k: v
        for k, v in values.items()
        if not k.startswith("_") and not isinstance(v, types.ModuleType)
    }


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_ready_to_serve(rt: Runtime, options: ServeOptions) -> None:
    """Refuse early, in one line: no fork, an old schema, or a port already taken."""
    if not hasattr(os, "fork"):
        raise ServeError(
            "serving needs a platform with fork() (Linux, macOS); use the container in deploy/"
        )
    engine = rt.db.engine
    try:
        dbmod.check_schema(engine)
    finally:
        engine.dispose()  # workers open their own connections after the fork
    _check_port(options.host, options.port)


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"{host}:{port} is already in use: pick another --port") from exc
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def serve(factory: Callable[[], Flask], options: ServeOptions) -> int:
    """Run gunicorn until SIGTERM/SIGINT (graceful stop); returns its exit status."""
    application = _application_class()(factory, gunicorn_options(options))
    try:
        application.run()
    except SystemExit as exc:  # the arbiter exits through sys.exit, 0 after a graceful stop
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def _application_class() -> type[Any]:
    """Gunicorn's application type, imported only where fork() exists."""
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):  # type: ignore[misc]
        """Loads our app factory in each worker after the fork."""

        def __init__(self, factory: Callable[[], Flask], settings: Mapping[str, Any]) -> None:
            self._factory, self._settings = factory, dict(settings)
            super().__init__()

        def load_config(self) -> None:
            for key, value in self._settings.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return self._factory()

    return Application
