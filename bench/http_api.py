"""The HTTP API against the server's own health route, through a real ``tangram serve``.

    python bench/http_api.py [--records 20000] [--samples 300] [--requests 150] [--smoke]
                         [--backend sqlite|postgresql|all]

Starts ``tangram serve`` on 127.0.0.1 and a free port with a SQLite file in a temporary folder
and, when TANGRAM_BENCH_DATABASE_URL or TANGRAM_TEST_DATABASE_URL names a PostgreSQL server, on
a fresh database there too. It creates an admin and an app with a 5-field entity through the
CLI, loads the records through the bulk route, then measures, interleaved so that a busy
machine slows all of them alike: ``GET /api/health`` (the baseline: routing, one ``SELECT 1``),
a filtered, sorted page of 50, and a single create; the same page through the record service
in this process shows what the HTTP layer adds. Then 8 clients read pages, and write, as fast
as they can against ``--workers 1`` and ``--workers 2``.

Goals: the page's median within 2x the health route's, a create within 3x; on PostgreSQL the
page throughput grows with the workers; no 5xx anywhere. ``--smoke`` runs a few dozen
requests of each kind (CI proves the script still runs; its figures mean nothing). Traffic
goes to 127.0.0.1 only, and every loop is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from databases import backends, database

HOST = "127.0.0.1"
USERNAME = "bench"
PASSWORD = "bench-password-1"
STAGES = ["new", "qualified", "proposal", "won", "lost"]
REGIONS = ["华东", "华南", "华北", "西南", "东北"]
#: The page bench/records.py measures on the service: about 2 % of the rows match.
FILTER = "stage == 'won' and amount > 900000"
SORT = "-amount"
CLIENTS = 8

PACKAGE = {
    "name": "bench",
    "label": {"zh": "基准", "en": "Bench"},
    "entities": [
        {
            "name": "deal",
            "label": {"zh": "商机", "en": "Deal"},
            "fields": [
                {"name": "title", "type": "text", "label": {"zh": "标题", "en": "Title"}, "required": True},
                {
                    "name": "stage",
                    "type": "select",
                    "label": {"zh": "阶段", "en": "Stage"},
                    "options": [{"value": s, "label": {"zh": s, "en": s}} for s in STAGES],
                },
                {"name": "amount", "type": "number", "label": {"zh": "金额", "en": "Amount"}, "scale": 2},
                {"name": "quantity", "type": "integer", "label": {"zh": "数量", "en": "Quantity"}},
                {"name": "region", "type": "text", "label": {"zh": "区域", "en": "Region"}},
            ],
            "indexes": [{"fields": ["stage", "amount"]}],
        }
    ],
}
RECORDS = "/api/apps/bench/records/deal"
PAGE = f"{RECORDS}?{urlencode({'filter': FILTER, 'sort': SORT, 'limit': 50})}"


def make_rows(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "title": f"商机 {seed}-{i}",
            "stage": rng.choice(STAGES),
            "amount": f"{rng.randint(0, 100_000_000) / 100:.2f}",
            "quantity": rng.randint(1, 500),
            "region": rng.choice(REGIONS),
        }
        for i in range(n)
    ]


class Client:
    """One keep-alive connection; every answer is read whole and its status kept."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def json(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, data = self.call(method, path, body)
        if status != expect:
            raise RuntimeError(f"{method} {path}: {status} {data[:500]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.conn.close()


def tangram(env: dict[str, str], *args: str) -> None:
    """Run one CLI command to completion (the same entry point as the ``tangram`` script)."""
    command = [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main())", *args]
    result = subprocess.run(
        command, env=env, cwd=env["TANGRAM_DATA_DIR"], capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(f"tangram {' '.join(args)} failed: {result.stdout}{result.stderr}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def servers(env: dict[str, str], worker_counts: list[int]) -> Iterator[dict[int, int]]:
    """``tangram serve`` with each worker count, each a process of its own, all started before
    any is waited for (a start-up costs seconds); stopped (SIGTERM) on the way out. Yields the
    port of each worker count."""
    with ExitStack() as stack:
        started = []
        for workers in worker_counts:
            port = free_port()
            command = [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main())"]
            command += ["serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
            log = stack.enter_context(tempfile.TemporaryFile())
            process = subprocess.Popen(
                command, env=env, cwd=env["TANGRAM_DATA_DIR"], stdout=log, stderr=subprocess.STDOUT
            )
            stack.callback(stop, process)
            started.append((workers, process, port, log))
        for _workers, process, port, log in started:
            wait_until_up(process, port, log)
        yield {workers: port for workers, _process, port, _log in started}


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_until_up(process: subprocess.Popen[bytes], port: int, log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"tangram serve exited: {log.read().decode(errors='replace')}")
        try:
            client = Client(port)
            if client.call("GET", "/api/health")[0] == 200:
                client.close()
                return
            client.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("tangram serve did not answer within 60 s")


def sign_in(port: int) -> str:
    client = Client(port)
    token = client.json("POST", "/api/auth/token", {"username": USERNAME, "password": PASSWORD})
    client.close()
    return token["access_token"]


def load(port: int, token: str, n: int) -> None:
    client = Client(port, token)
    rows = make_rows(n, seed=7)
    for i in range(0, n, 5_000):
        client.json("POST", RECORDS + "/bulk", {"items": rows[i : i + 5_000]}, expect=201)
    client.close()


def interleaved(port: int, token: str, samples: int, other: str) -> tuple[list[float], list[float]]:
    """Seconds per request of health and of ``other`` ("page" or "create"), taken in turns so
    that load on the machine hits both alike. Pages and creates are timed in separate runs: a
    write makes every other SQLite connection drop its page cache, which is not what a read
    costs on its own (the bursts below mix them)."""
    client = Client(port, token)
    creates = iter(make_rows(samples + 20, seed=11 if other == "create" else 12))
    requests: dict[str, Callable[[], tuple[int, bytes]]] = {
        "health": lambda: client.call("GET", "/api/health"),
        "page": lambda: client.call("GET", PAGE),
        "create": lambda: client.call("POST", RECORDS, next(creates)),
    }
    expected = {"health": 200, "page": 200, "create": 201}
    times: dict[str, list[float]] = {"health": [], other: []}
    for i in range(samples + 20):
        for kind in times:
            start = time.perf_counter()
            status, data = requests[kind]()
            elapsed = time.perf_counter() - start
            if status != expected[kind]:
                raise RuntimeError(f"{kind}: {status} {data[:500]!r}")
            if i >= 20:  # the first rounds warm caches and the connection pool
                times[kind].append(elapsed)
    client.close()
    return times["health"], times[other]


def service_page(url: str, data_dir: str, samples: int) -> list[float]:
    """The same page through the record service in this process: what HTTP adds is the rest."""
    from engine import Context, Platform, Settings
    from engine.identity.users import find_user, principal_of

    platform = Platform(Settings(database_url=url, data_dir=Path(data_dir)), load_entry_points=False)
    with platform.db.connect() as conn:
        ctx = Context(user=principal_of(find_user(conn, USERNAME)))
    times = []
    for i in range(samples + 5):
        start = time.perf_counter()
        page = platform.records.list_records(ctx, "bench", "deal", filter=FILTER, sort=SORT, limit=50)
        platform.records.to_json(ctx, "bench", "deal", page.items)
        if i >= 5:
            times.append(time.perf_counter() - start)
    platform.close()
    return times


def burst(port: int, token: str, per_client: int, write: bool) -> tuple[float, int, int]:
    """``CLIENTS`` threads, ``per_client`` requests each: (requests/s, 5xx count, other errors)."""
    results: list[tuple[int, int]] = []
    lock = threading.Lock()
    start_line = threading.Barrier(CLIENTS + 1)

    def one(seed: int) -> None:
        client = Client(port, token)
        rows = make_rows(per_client, seed=1000 + seed) if write else []
        server_errors = other = 0
        start_line.wait()
        for i in range(per_client):
            try:
                status, _ = client.call("POST", RECORDS, rows[i]) if write else client.call("GET", PAGE)
            except (OSError, http.client.HTTPException):
                other += 1
                client.close()
                client = Client(port, token)
                continue
            if status >= 500:
                server_errors += 1
            elif status != (201 if write else 200):
                other += 1
        client.close()
        with lock:
            results.append((server_errors, other))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    start_line.wait()
    start = time.perf_counter()
    for t in threads:
        t.join(timeout=600)
    elapsed = time.perf_counter() - start
    return CLIENTS * per_client / elapsed, sum(r[0] for r in results), sum(r[1] for r in results)


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def latency(kind: str, env: dict[str, str], port: int, n_records: int, samples: int) -> None:
    """Medians of health, the page and a create against the one-worker server at ``port``,
    and their ratios."""
    token = sign_in(port)
    load(port, token, n_records)
    health_p, page = interleaved(port, token, samples, "page")
    health_c, create = interleaved(port, token, samples, "create")
    service = ms(service_page(env["TANGRAM_DATABASE_URL"], env["TANGRAM_DATA_DIR"], samples))
    health = ms(health_p + health_c)
    print(f"{kind:10} {'health':24} median {health:7.2f} ms  (the baseline)")
    ratio = ms(page) / ms(health_p)
    print(
        f"{kind:10} {'page of 50 of ' + format(n_records, ','):24} median {ms(page):7.2f} ms  "
        f"ratio {ratio:5.2f}  goal <= 2   {'OK' if ratio <= 2 else 'MISSED'}  "
        f"(health in the same run {ms(health_p):.2f} ms; the service call in-process {service:.2f} ms; "
        f"filter {FILTER!r}, sort {SORT})"
    )
    ratio = ms(create) / ms(health_c)
    print(
        f"{kind:10} {'single create':24} median {ms(create):7.2f} ms  "
        f"ratio {ratio:5.2f}  goal <= 3   {'OK' if ratio <= 3 else 'MISSED'}  "
        f"(health in the same run {ms(health_c):.2f} ms)"
    )


def throughput(kind: str, ports: dict[int, int], workers: list[int], per_client: int, rounds: int) -> None:
    """Bursts of ``CLIENTS`` clients against one server per worker count (``ports``), all
    running at once and served in turns, round after round, so that a busy machine slows each
    alike."""
    reads: dict[int, list[float]] = {n: [] for n in workers}
    writes: dict[int, list[float]] = {n: [] for n in workers}
    errors = {n: [0, 0] for n in workers}
    tokens = {n: sign_in(ports[n]) for n in workers}
    for n in workers:
        burst(ports[n], tokens[n], max(per_client // 10, 2), write=False)  # warm every worker
    for _ in range(rounds):
        for n in workers:
            for write, rates in ((False, reads), (True, writes)):
                rate, server_errors, other = burst(ports[n], tokens[n], per_client, write)
                rates[n].append(rate)
                errors[n][0] += server_errors
                errors[n][1] += other
    for n in workers:
        server_errors, other = errors[n]
        pages, creates = statistics.median(reads[n]), statistics.median(writes[n])
        print(
            f"{kind:10} throughput --workers {n:<3}   {CLIENTS} clients: pages {pages:7.1f}/s  "
            f"creates {creates:7.1f}/s  (median of {rounds})  5xx {server_errors}  "
            f"other errors {other}  goal no 5xx {'OK' if server_errors == 0 else 'MISSED'}"
        )
    if len(workers) > 1:
        first, last = workers[0], workers[-1]
        growth = statistics.median(reads[last]) / statistics.median(reads[first])
        verdict = ("OK" if growth > 1 else "MISSED") if kind == "postgresql" else "(no goal on SQLite)"
        print(
            f"{kind:10} throughput scaling        pages/s x{growth:.2f} from {first} to {last} workers  "
            f"goal > 1 on PostgreSQL {verdict}"
        )


def run(kind: str, n_records: int, samples: int, per_client: int, workers: list[int], rounds: int) -> None:
    with database(kind) as url, tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "TANGRAM_DATABASE_URL": url,
            "TANGRAM_DATA_DIR": data_dir,
            "TANGRAM_SECRET_KEY": uuid.uuid4().hex,
            "TANGRAM_LOG_LEVEL": "WARNING",
        }
        package = Path(data_dir) / "bench.json"
        package.write_text(json.dumps(PACKAGE, ensure_ascii=False), encoding="utf-8")
        tangram(env, "user", "create", "--username", USERNAME, "--password", PASSWORD, "--admin")
        tangram(env, "app", "import", str(package))
        # Every server the run needs starts at once: a start-up costs seconds, and the latency
        # figures come from the one-worker server the throughput bursts then use as well.
        with servers(env, sorted({1, *workers})) as ports:
            latency(kind, env, ports[1], n_records, samples)
            throughput(kind, ports, workers, per_client, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300, help="timed requests of each kind")
    parser.add_argument("--requests", type=int, default=150, help="requests per client in a burst")
    parser.add_argument("--rounds", type=int, default=3, help="bursts per worker count")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare, e.g. 1,2,4")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--smoke", action="store_true", help="a few dozen requests: does it still run")
    args = parser.parse_args()
    if args.smoke:
        args.records, args.samples, args.requests, args.rounds = 200, 10, 5, 1
    workers = [int(w) for w in args.workers.split(",")]
    for kind in backends(args.backend):
        run(kind, args.records, args.samples, args.requests, workers, args.rounds)


if __name__ == "__main__":
    main()
