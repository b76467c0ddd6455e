#!/usr/bin/env python3
"""The data path of `make demo`: a sample object through the deployed functions, per region.

moto runs Lambda code only with Docker, which this machine does not have. So, for each
region, this script reads the *deployed* function back from the emulator (handler,
environment, code hash), checks that the local deterministic package has exactly that
code hash, unpacks it, and runs that code in this process with the deployed environment,
against the emulated S3 and DynamoDB:

1. upload a sample JSON-lines object (good records, one malformed line, one invalid record)
   under incoming/ of the region's data bucket;
2. run the processor on the S3 ObjectCreated event AWS would send;
3. run analytics and print its report (also written under reports/ in the bucket).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

REGIONS = ("us-east-1", "us-west-1")
BUILD_DIR = Path.home() / ".cache" / "secureinfra-baseline" / "lambda"


def sample_object(region: str) -> bytes:
    lines = [
        json.dumps(
            {
                "id": f"{region}-sensor-{n % 4}",
                "timestamp": 1_764_000_000 + n,
                "category": f"c{n % 3}",
                "value": n * 1.5,
            }
        )
        for n in range(12)
    ]
    lines.insert(5, '{"id": "broken", "timestamp": ')  # malformed JSON
    lines.insert(8, json.dumps({"id": "", "timestamp": -1}))  # fails validation
    return ("\n".join(lines) + "\n").encode()


def s3_event(bucket: str, key: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}, "object": {"key": key}},
            }
        ]
    }


def deployed_code(lam: Any, name: str, region: str, function: str) -> tuple[dict[str, Any], bytes]:
    """The deployed configuration and the local package whose hash matches the deployed code."""
    config = lam.get_function(FunctionName=name)["Configuration"]
    package = (BUILD_DIR / region / f"{function}.zip").read_bytes()
    local_hash = base64.b64encode(hashlib.sha256(package).digest()).decode()
    if local_hash != config["CodeSha256"]:
        raise SystemExit(
            f"{name}: deployed code {config['CodeSha256']} is not the local package {local_hash}; "
            "run site.yml first"
        )
    return config, package


@contextmanager
def function_runtime(config: dict[str, Any], package: bytes, region: str) -> Iterator[ModuleType]:
    """Unpack the package and import its handler module with the function's environment set."""
    module_name, _, _ = config["Handler"].rpartition(".")
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as root:
        zipfile.ZipFile(io.BytesIO(package)).extractall(root)
        os.environ.update(config.get("Environment", {}).get("Variables", {}))
        os.environ["AWS_DEFAULT_REGION"] = region
        spec = importlib.util.spec_from_file_location(
            f"demo_{region}_{module_name}".replace("-", "_"), Path(root) / f"{module_name}.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
        try:
            yield module
        finally:
            sys.modules.pop(spec.name, None)
            os.environ.clear()
            os.environ.update(saved)


def run_region(region: str, prefix: str, account: str) -> dict[str, Any]:
    """Run the data path in one region; return the processor counts and the analytics result."""
    lam = boto3.client("lambda", region_name=region)
    s3 = boto3.client("s3", region_name=region)
    bucket = f"{prefix}-data-{account}-{region}"
    key = "incoming/demo-sample.jsonl"
    s3.put_object(Bucket=bucket, Key=key, Body=sample_object(region), ContentType="application/x-ndjson")
    print(f"== {region}: uploaded s3://{bucket}/{key}")

    config, package = deployed_code(lam, f"{prefix}-{region}-processor", region, "processor")
    with function_runtime(config, package, region) as module:
        counts = getattr(module, config["Handler"].rpartition(".")[2])(s3_event(bucket, key, region), None)
    print(f"   processor ({config['FunctionName']}, {config['MemorySize']} MB): {json.dumps(counts)}")
    table = config["Environment"]["Variables"]["TABLE_NAME"]
    items = boto3.client("dynamodb", region_name=region).scan(TableName=table, Select="COUNT")["Count"]
    print(f"   table {table}: {items} items")

    config, package = deployed_code(lam, f"{prefix}-{region}-analytics", region, "analytics")
    with function_runtime(config, package, region) as module:
        result = getattr(module, config["Handler"].rpartition(".")[2])({}, None)
    print(f"   analytics report s3://{bucket}/{result['report_key']}:")
    print("   " + json.dumps(result["report"], indent=2, default=str).replace("\n", "\n   "))
    return {"bucket": bucket, "key": key, "table": table, "counts": counts, "analytics": result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prefix", default="secureinfra")
    parser.add_argument("--region", action="append", choices=REGIONS)
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    account = boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
    print("Lambda code runs locally here (moto needs Docker to run it); S3, DynamoDB and the")
    print("functions' configuration are the emulator's.")
    for region in args.region or REGIONS:
        run_region(region, args.prefix, account)
    return 0


if __name__ == "__main__":
    sys.exit(main())
