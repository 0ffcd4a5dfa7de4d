"""Feed over HTTP: wrk against the demo server's feed (200 and 304) and a constant-bytes floor.

Run from the repository root (needs `wrk`: apt-get install -y wrk):

    .venv/bin/python bench/feed_http.py [--duration 5] [--rounds 7] [--threads 2]
        [--connections 16] [--record]

It starts `runstrength demo --port P` on 127.0.0.1 in a temporary data dir, with
RUNSTRENGTH_BENCH_ENDPOINT=1 so that /__bench/constant/<size> exists, then measures on the same
server: (a) GET of the feed URL, (b) the same with If-None-Match of its ETag (304), (c) GET of a
constant body of the feed's size, in interleaved rounds (the median round is reported).
--record writes the numbers into the "## Feed over HTTP" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "bench" / "README.md"
SECTION = "## Feed over HTTP"
NOTES = "### Notes"
START_DEADLINE_S = 90
TARGETS = {"feed": 0.80, "not_modified": 0.90}


LOPSIDED_SHARE = 0.4  # a worker doing under 40% of the work: the round is measured again
MAX_TRIES = 4
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Result:
    name: str
    rps: float
    latency_ms: float
    requests: int
    bad: int
    cpu_us: float = 0.0  # server CPU (all workers, user + system) per request
    repeated: int = 0  # lopsided rounds that were measured again


def combine(name: str, rounds: list[Result]) -> Result:
    """The median round (by requests/s) with the totals of all rounds."""
    ordered = sorted(rounds, key=lambda r: r.rps)
    mid = ordered[len(ordered) // 2]
    total = sum(r.requests for r in rounds)
    bad, repeated = sum(r.bad for r in rounds), sum(r.repeated for r in rounds)
    return Result(name, mid.rps, mid.latency_ms, total, bad, mid.cpu_us, repeated)


class Workers:
    """CPU time of the server's worker processes (children of the demo process), from /proc."""

    def __init__(self, server_pid: int) -> None:
        self._pid = server_pid

    def ticks(self) -> dict[int, int]:
        found: dict[int, int] = {}
        for task in Path(f"/proc/{self._pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                found[int(child)] = int(fields[11]) + int(fields[12])  # utime + stime
        return found


def balanced_wrk(
    name: str, url: str, args: argparse.Namespace, workers: Workers, header: str | None
) -> Result:
    """One wrk round, measured again when gunicorn handed (nearly) all connections to one worker.

    gthread workers accept greedily: now and then one worker takes every connection wrk opens
    and the other sits idle, which halves throughput on any path, the constant one included.
    """
    for attempt in range(MAX_TRIES):
        before = workers.ticks()
        result = wrk(name, url, args, header=header)
        spent = {pid: t - before.get(pid, 0) for pid, t in workers.ticks().items()}
        total = sum(spent.values())
        lopsided = total > 0 and min(spent.values()) < LOPSIDED_SHARE * total
        if not lopsided or attempt == MAX_TRIES - 1:
            cpu_us = total / TICKS_PER_S * 1e6 / max(result.requests, 1)
            return replace(result, cpu_us=cpu_us, repeated=attempt)
    raise AssertionError("unreachable")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_demo(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNSTRENGTH_")}
    env.update(RUNSTRENGTH_DATA_DIR=str(data_dir), RUNSTRENGTH_BENCH_ENDPOINT="1")
    command = [sys.executable, "-m", "service.cli", "demo", "--port", str(port)]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def wait_for_feed_url(server: subprocess.Popen[bytes], base: str, log: Path) -> str:
    """Poll /healthz until it answers, then read the feed URL the demo printed."""
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"demo server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit(f"demo server did not answer within {START_DEADLINE_S}s")
    for line in log.read_text().splitlines():
        if line.startswith("feed: "):
            return line.split(": ", 1)[1].strip()
    sys.exit("demo printed no feed URL")


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def wrk(name: str, url: str, args: argparse.Namespace, header: str | None = None) -> Result:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    command += ["--latency", "-H", header] if header else ["--latency"]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=args.duration + 60, check=True
    )
    out = done.stdout
    rps = float(_grab(r"Requests/sec:\s+([\d.]+)", out))
    requests = int(_grab(r"(\d+) requests in", out))
    bad = int(_grab(r"Non-2xx or 3xx responses:\s+(\d+)", out, "0"))
    errors = re.search(r"Socket errors: (.*)", out)
    bad += sum(int(n) for n in re.findall(r"\d+", errors.group(1))) if errors else 0
    value = _grab(r"Latency\s+([\d.]+)", out)
    unit = _grab(r"Latency\s+[\d.]+(us|ms|s)\s", out)
    latency_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return Result(name, rps, latency_ms, requests, bad)


def _grab(pattern: str, text: str, default: str | None = None) -> str:
    match = re.search(pattern, text)
    if match is None:
        if default is None:
            raise SystemExit(f"unexpected wrk output:\n{text}")
        return default
    return match.group(1)


def measure(
    feed_url: str, base: str, args: argparse.Namespace, workers: Workers
) -> tuple[int, list[Result]]:
    """Check each path once by hand, warm up, then run wrk on the three paths in turn."""
    status, headers, body = fetch(feed_url)
    assert status == 200, status
    etag, size = headers["ETag"], len(body)
    assert fetch(feed_url, {"If-None-Match": etag})[0] == 304
    constant_url = f"{base}/__bench/constant/{size}"
    status, _headers, constant = fetch(constant_url)
    assert (status, len(constant)) == (200, size), "the bench endpoint is missing"
    quick = argparse.Namespace(**{**vars(args), "duration": 2})
    wrk("warm-up", feed_url, quick)
    paths = {
        "feed": (feed_url, None),
        "not_modified": (feed_url, f"If-None-Match: {etag}"),
        "constant": (constant_url, None),
    }
    rounds: dict[str, list[Result]] = {name: [] for name in paths}
    for _ in range(args.rounds):  # interleaved, so a burst of other load hits every path
        for name, (url, header) in paths.items():
            rounds[name].append(balanced_wrk(name, url, args, workers, header))
    return size, [combine(name, found) for name, found in rounds.items()]


def report(size: int, results: list[Result], args: argparse.Namespace) -> str:
    floor = next(r for r in results if r.name == "constant").rps
    label = {
        "feed": "(a) feed, 200",
        "not_modified": "(b) feed, If-None-Match -> 304",
        "constant": f"(c) constant {size:,} bytes, 200",
    }
    lines = [
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s per round, "
        f"{args.rounds} interleaved rounds, median round shown; feed body {size:,} bytes",
        "",
        "| path | requests/s | avg latency | server CPU / request | requests | errors "
        "| rounds repeated | vs constant | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        target = TARGETS.get(r.name)
        verdict = (
            ""
            if target is None
            else f">= {target:.0%} " + ("met" if r.rps >= target * floor else "MISSED")
        )
        lines.append(
            f"| {label[r.name]} | {r.rps:,.0f} | {r.latency_ms:.2f} ms | {r.cpu_us:.0f} us "
            f"| {r.requests:,} | {r.bad} | {r.repeated} | {r.rps / floor:.0%} | {verdict} |"
        )
    return "\n".join(lines)


def record(table: str, args: argparse.Namespace) -> None:
    """Replace (or append) the README section; other sections and its Notes stay."""
    machine = f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
    machine += f"CPython {platform.python_version()}, SQLite, gunicorn gthread 2 x 4 threads"
    section = "\n".join(
        [
            SECTION,
            "",
            "`bench/feed_http.py` starts `runstrength demo` (gunicorn, 2 workers x 4 threads,",
            "request logging on, SQLite) on 127.0.0.1 with `RUNSTRENGTH_BENCH_ENDPOINT=1`, checks",
            "each path once (200, 304, same size), warms up for 2 s, then runs wrk on (a) the",
            "feed URL, (b) the feed with `If-None-Match` of its ETag, (c) a constant body of the",
            "feed's size from the same server, in interleaved rounds (a, b, c, a, b, c, ...) so",
            "that other load on the machine hits all three alike; the median round is shown.",
            "wrk shares the machine's cores with the server. Server CPU per request is the",
            "workers' user + system time (from /proc) over the round's requests. A round in",
            "which one worker did under 40% of the work (gthread workers accept greedily:",
            "now and then one takes every connection wrk opens, which halves throughput on any",
            "path) is measured again, at most 3 times; the repeats are counted in the table.",
            "",
            f"Machine: {machine}.",
            "",
            table,
            "",
        ]
    )
    text = README.read_text()
    start = text.find(SECTION)
    if start == -1:
        README.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = text.find("\n## ", start + len(SECTION))
    old, rest = (text[start:], "") if end == -1 else (text[start : end + 1], text[end + 1 :])
    notes = old.find(NOTES)
    kept = old[notes:].rstrip("\n") + "\n" if notes != -1 else ""  # hand-written analysis
    README.write_text(
        text[:start] + section + ("\n" + kept if kept else "") + ("\n" + rest if rest else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per path")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--record", action="store_true", help="write bench/README.md section")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="runstrength-bench-") as tmp:
        log = Path(tmp) / "server.log"
        server = start_demo(Path(tmp) / "data", port, log)
        try:
            feed_url = wait_for_feed_url(server, base, log)
            size, results = measure(feed_url, base, args, Workers(server.pid))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    table = report(size, results, args)
    print(table)
    if args.record:
        record(table, args)
        print(f"recorded in {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
