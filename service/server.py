"""The production web server: gunicorn run in-process around ``service.app:create_app()``."""

from __future__ import annotations

import errno
import json
import logging
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from service import db as dbmod
from service.app import Runtime

DEFAULT_WORKERS = 2
THREADS = 4
GRACEFUL_TIMEOUT_S = 20
CONSUMER_STOP_S = 30  # the consumer's own SIGTERM grace (jobs.STOP_TIMEOUT_S) plus slack
CONSUMER = "import sys; from service.server import consumer_main; consumer_main(sys.argv[1:])"

log = logging.getLogger("runstrength.jobs")


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


def serve(
    factory: Callable[[], Flask],
    options: ServeOptions,
    alongside: AbstractContextManager[object] | None = None,
) -> int:
    """Run gunicorn until SIGTERM/SIGINT (graceful stop), inside ``alongside`` (e.g. the queue
    consumer: one for the whole server, stopped after it); returns gunicorn's exit status."""
    application = _application_class()(factory, gunicorn_options(options))
    with alongside or nullcontext():
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


@contextmanager
def background_worker(overrides: Mapping[str, Any] | None, workers: int = 1) -> Iterator[None]:
    """Run one queue consumer in a child process while the block runs, then stop it as SIGTERM
    does. A fresh interpreter, not a fork: it shares no sockets, signal handlers or state."""
    lifeline, keep = os.pipe()  # the child reads EOF once we are gone, however we die
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CONSUMER,
            json.dumps(dict(overrides or {})),
            str(workers),
            str(lifeline),
        ],
        pass_fds=(lifeline,),
    )
    os.close(lifeline)
    try:
        yield
    finally:
        child.terminate()  # a no-op once it has exited (gunicorn's master may have reaped it)
        try:
            child.wait(timeout=CONSUMER_STOP_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        os.close(keep)


def consumer_main(args: Sequence[str]) -> None:
    """The child of ``background_worker``: overrides (JSON), worker count, lifeline fd."""
    from service.app import create_app, runtime
    from service.jobs import Jobs, QueueUnavailable, make_queue, queue_location

    overrides, workers, lifeline = json.loads(args[0]), int(args[1]), int(args[2])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    _stop_with_parent(lifeline)
    rt = runtime(create_app(overrides))
    where = queue_location(rt.settings)
    log.info("background worker (pid %d): %d at a time from %s", os.getpid(), workers, where)
    try:
        Jobs(make_queue(rt.settings), rt).run_consumer(workers)
    except QueueUnavailable as exc:
        log.error("%s", exc)
    finally:
        rt.db.dispose()
    log.info("background worker stopped")


def _stop_with_parent(lifeline: int) -> None:
    """SIGTERM ourselves when the lifeline closes, so a killed server leaves no worker behind."""

    def watch() -> None:
        while os.read(lifeline, 1):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()
