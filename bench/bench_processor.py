"""Benchmark the processor Lambda against a moto server: throughput and peak memory.

Generates a JSON-lines object of ``--mb`` MiB, uploads it to a fresh bucket on a moto
server (AWS_ENDPOINT_URL when set and reachable, else a ``moto_server`` started on a
free port and stopped afterwards), creates a fresh table, then runs
files/lambda/processor/handler.py in a *separate child process* so that neither moto
nor the data generator is counted in the measured memory. Prints one JSON document
(records/second and the child's peak RSS from getrusage(RUSAGE_CHILDREN)) and writes it
to bench/results/ (git-ignored) or --output.

This is not a test; see bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HANDLER = REPO / "files" / "lambda" / "processor" / "handler.py"
RESULTS = REPO / "bench" / "results"
LAMBDA_MEMORY_MB = 128
KEY = "incoming/bench/data.jsonl"
CATEGORIES = ("sensor", "billing", "audit", "network", "storage")
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


# --------------------------------------------------------------------------- moto server


def reachable(endpoint: str, timeout: float = 2.0) -> bool:
    """True when something answers HTTP at ``endpoint`` (any status counts)."""
    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/moto-api/", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_endpoint() -> Iterator[tuple[str, str]]:
    """Yield (endpoint, "reused"|"started"); a started server is stopped on exit."""
    existing = os.environ.get("AWS_ENDPOINT_URL")
    if existing and reachable(existing):
        yield existing, "reused"
        return
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log, subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    ) as proc:
        try:
            wait_until_reachable(endpoint, proc)
            yield endpoint, "started"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until_reachable(endpoint: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with {proc.returncode}")
        if reachable(endpoint, timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"moto_server did not answer at {endpoint} within {timeout}s")


# --------------------------------------------------------------------------- data


def generate(path: Path, target_bytes: int, record_bytes: int, reject_every: int) -> dict[str, int]:
    """Write JSON lines until ``target_bytes``; every ``reject_every``-th line is invalid."""
    rng = random.Random(42)
    written = records = bad = 0
    with path.open("wb") as out:
        while written < target_bytes:
            records += 1
            if reject_every and records % reject_every == 0:
                line = b'{"id": "broken", "timestamp": \n'
                bad += 1
            else:
                line = record_line(records, rng, record_bytes)
            out.write(line)
            written += len(line)
    return {"object_bytes": written, "lines": records, "invalid_lines": bad}


def record_line(index: int, rng: random.Random, record_bytes: int) -> bytes:
    record = {
        "id": f"device-{index % 10_000:05d}-{index}",
        "timestamp": 1_700_000_000 + index,
        "category": CATEGORIES[index % len(CATEGORIES)],
        "value": round(rng.uniform(-1000, 1000), 3),
        "ok": index % 7 != 0,
        "note": None,
    }
    base = len(json.dumps(record)) + len(', "payload": ""}') + 1
    record["payload"] = "x" * max(0, record_bytes - base)
    return json.dumps(record).encode() + b"\n"


# --------------------------------------------------------------------------- AWS setup


def create_resources(endpoint: str, bucket: str, table: str, data: Path) -> float:
    """Create bucket + table on the moto server and upload ``data``; returns upload seconds."""
    import boto3  # imported here so the child process never pays for it twice

    session = boto3.session.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint)
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    s3.create_bucket(Bucket=bucket)
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"},
                   {"AttributeName": "timestamp", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "timestamp", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=table)
    started = time.perf_counter()
    s3.upload_file(str(data), bucket, KEY)
    return time.perf_counter() - started


def count_items(endpoint: str, table: str) -> int:
    """Item count from DescribeTable: moto keeps it live (AWS refreshes it every ~6 hours).

    A Scan would be exact on AWS too, but moto's Scan restarts from the first item on
    every page, which makes counting hundreds of thousands of items take many minutes.
    """
    import boto3

    ddb = boto3.session.Session(region_name="us-east-1").client("dynamodb", endpoint_url=endpoint)
    return int(ddb.describe_table(TableName=table)["Table"]["ItemCount"])


def cleanup(endpoint: str, bucket: str, table: str) -> None:
    """Remove what the run created (only needed on a reused server)."""
    import boto3

    session = boto3.session.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])
    s3.delete_bucket(Bucket=bucket)
    session.client("dynamodb", endpoint_url=endpoint).delete_table(TableName=table)


# --------------------------------------------------------------------------- child process


def child_main() -> None:
    """Import the handler, wait for the event on stdin, run it once; print timing + peak RSS."""
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("processor_handler", HANDLER)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {HANDLER}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    import_seconds = time.perf_counter() - started
    event = json.load(sys.stdin)  # blocks until the parent has uploaded the object
    started = time.perf_counter()
    result = module.handler(event, None)
    handler_seconds = time.perf_counter() - started
    print(json.dumps({
        "result": result,
        "import_seconds": import_seconds,
        "handler_seconds": handler_seconds,
        "self_peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "vm_hwm_kb": vm_hwm_kb(),
    }))


def vm_hwm_kb() -> int | None:
    """Peak RSS of this process's own address space (Linux), as a cross-check."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def start_child(endpoint: str, bucket: str, table: str) -> subprocess.Popen[str]:
    """Start the handler process early, while this process is still small.

    On Linux a child's ru_maxrss starts from the parent's peak RSS at fork/exec time, so
    the child is spawned before this process imports boto3 or uploads anything; it then
    waits for the event on stdin.
    """
    env = dict(os.environ, **DUMMY_AWS, AWS_ENDPOINT_URL=endpoint, TABLE_NAME=table, BUCKET_NAME=bucket)
    return subprocess.Popen([sys.executable, __file__, "--child"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def finish_child(proc: subprocess.Popen[str], bucket: str) -> dict[str, Any]:
    """Send the S3 event, wait for the handler and return its JSON output."""
    event = {"Records": [{"eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": bucket}, "object": {"key": KEY}}}]}
    stdout, stderr = proc.communicate(json.dumps(event))
    if proc.returncode:
        raise RuntimeError(f"handler process failed ({proc.returncode}):\n{stderr[-4000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


def rss_mb(value: int) -> float:
    """ru_maxrss is KiB on Linux, bytes on macOS."""
    return value / (1024 * 1024) if sys.platform == "darwin" else value / 1024


# --------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=100, help="object size in MiB (default 100)")
    parser.add_argument("--record-bytes", type=int, default=200, help="approximate bytes per line")
    parser.add_argument("--reject-every", type=int, default=10_000,
                        help="make every N-th line invalid JSON (0 = none)")
    parser.add_argument("--verify", action="store_true", help="report the table's item count afterwards")
    parser.add_argument("--output", type=Path, help="where to write the JSON result")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def bench(args: argparse.Namespace) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    bucket, table = f"bench-{run_id}", f"bench-{run_id}"
    os.environ.update(DUMMY_AWS)
    with tempfile.TemporaryDirectory() as tmp, moto_endpoint() as (endpoint, server):
        proc = start_child(endpoint, bucket, table)
        try:
            data = Path(tmp) / "data.jsonl"
            generated = generate(data, int(args.mb * 1024 * 1024), args.record_bytes, args.reject_every)
            upload_seconds = create_resources(endpoint, bucket, table, data)
            data.unlink()
            child = finish_child(proc, bucket)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # moto is not reaped yet
        print(f"handler finished: {json.dumps(child)}", file=sys.stderr, flush=True)
        items = count_items(endpoint, table) if args.verify else None
        if server == "reused":
            cleanup(endpoint, bucket, table)
    result = child["result"]
    seconds = child["handler_seconds"]
    peak = rss_mb(peak_kb)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "mb": args.mb,
        **generated,
        "moto_server": server,
        "upload_seconds": round(upload_seconds, 2),
        "handler_result": result,
        "handler_seconds": round(seconds, 2),
        "child_import_seconds": round(child["import_seconds"], 2),
        "records_per_second": round(result["records"] / seconds, 1) if seconds else None,
        "mib_per_second": round(generated["object_bytes"] / 1024 / 1024 / seconds, 3) if seconds else None,
        "peak_rss_mb": round(peak, 1),
        "child_self_peak_rss_mb": round(rss_mb(child["self_peak_rss_kb"]), 1),
        "child_vm_hwm_mb": round(child["vm_hwm_kb"] / 1024, 1) if child["vm_hwm_kb"] else None,
        "peak_rss_under_128mb": peak < LAMBDA_MEMORY_MB,
        "table_items": items,
        "python": platform.python_version(),
    }


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the context managers, stopping moto_server


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    args = parse_args()
    if args.child:
        child_main()
        return
    report = bench(args)
    output = args.output or RESULTS / f"processor-{report['date'].replace(':', '')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
