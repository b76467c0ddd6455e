"""The data path of `make demo`: a sample object through the deployed functions, per region.

moto runs Lambda code only with Docker, which this machine does not have. So, for each
region, this script reads the *deployed* function back from the emulator (handler,
environment, code hash), checks that the local deterministic package has exactly that
code hash, unpacks it, and runs that code in this process with the deployed environment,
against the emulated S3 and DynamoDB:

1. upload a sample JSON-lines object (good records, one malformed line, one invalid record)
   under incoming/ of the region's data bucket;
2. run the processor on the S3 ObjectCreated event AWS would send;
3. run analytics and print its report (also written under reports/ in the bucket);
4. run key_rotation where it is deployed (it publishes its summary to the alarm topic).

Every AWS call a handler makes runs under the function's deployed role (credentials from
STS AssumeRole, as Lambda gets them) and is authorized first by scripts/authorizer.py
against the role's identity policies, the resource policy, the VPC endpoint policy and the
KMS key policy for the requests DynamoDB, SNS and SQS make with the caller's permissions;
S3 object calls are enforced by moto's own IAM check too. A denied call fails the run and
names the missing permission; the run ends with the number of calls authorized per region.
Which functions run is read from the emulator (the functions deployed in each region).
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

if __package__ in (None, ""):  # run as a script: make `scripts` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import authorizer
from scripts.emulator import is_moto

REGIONS = ("us-east-1", "us-west-1")
REPO_ROOT = Path(__file__).resolve().parent.parent
# Where site.yml may have built the zips (functions_build_dir): searched for the package whose
# hash is the deployed code's.
BUILD_DIRS = (
    REPO_ROOT / ".build",
    REPO_ROOT / "build",
    Path.home() / ".cache" / "secureinfra-baseline",
)
HANDLERS = ("processor", "analytics", "key_rotation")


class DataPathDenied(RuntimeError):
    """A handler's call was refused by the authorizer (the message names the permission)."""


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


def _package(region: str, function: str, code_sha256: str) -> bytes | None:
    build_dirs = [Path(d) for d in os.environ.get("SECUREINFRA_BUILD_DIRS", "").split(os.pathsep) if d]
    for root in [*build_dirs, *BUILD_DIRS]:
        for path in sorted(root.rglob(f"{region}/{function}.zip")) if root.is_dir() else []:
            package = path.read_bytes()
            if base64.b64encode(hashlib.sha256(package).digest()).decode() == code_sha256:
                return package
    return None


def deployed_code(lam: Any, name: str, region: str, function: str) -> tuple[dict[str, Any], bytes]:
    """The deployed configuration and the local package whose hash matches the deployed code."""
    config = lam.get_function(FunctionName=name)["Configuration"]
    package = _package(region, function, config["CodeSha256"])
    if package is None:
        raise SystemExit(
            f"{name}: no local package has the deployed code's hash {config['CodeSha256']}; "
            "run site.yml first"
        )
    return config, package


def deployed_functions(lam: Any, prefix: str, region: str) -> dict[str, str]:
    """The handlers deployed in the region: kind (processor, ...) -> function name."""
    names = {
        f["FunctionName"]
        for page in lam.get_paginator("list_functions").paginate()
        for f in page["Functions"]
    }
    return {kind: f"{prefix}-{region}-{kind}" for kind in HANDLERS if f"{prefix}-{region}-{kind}" in names}


class Runner:
    """Runs deployed handlers under their roles, every call through one authorizer."""

    def __init__(self, endpoint: str | None) -> None:
        self.endpoint = endpoint
        self.reader = boto3.session.Session()
        self.authorizer = authorizer.Authorizer(
            authorizer.Deployment(self.client),
            moto_endpoint=endpoint if endpoint and is_moto(int(endpoint.rsplit(":", 1)[1])) else None,
        )

    def client(self, service: str, region: str) -> Any:
        """A client with the caller's (administrator's) credentials, for reading what is deployed."""
        return self.reader.client(service, region_name=region)

    def role_session(self, config: dict[str, Any], region: str) -> boto3.session.Session:
        """A session with the function role's credentials, as Lambda gets them, hooked to the authorizer."""
        credentials = self.client("sts", region).assume_role(
            RoleArn=config["Role"], RoleSessionName=config["FunctionName"][:64]
        )["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
        principal = authorizer.read_principal(self.client, config, region)
        self.authorizer.attach(session, principal, config["FunctionName"])
        return session

    def invoke(
        self, lam: Any, name: str, region: str, kind: str, event: dict[str, Any]
    ) -> tuple[dict[str, Any], Any]:
        """Run a deployed handler on an event; raise DataPathDenied when a call was refused."""
        config, package = deployed_code(lam, name, region, kind)
        denied_before = len(self.authorizer.denied)
        with function_runtime(config, package, region, self.role_session(config, region)) as module:
            try:
                result = getattr(module, config["Handler"].rpartition(".")[2])(event, None)
            except authorizer.AccessDenied as err:
                raise DataPathDenied(str(err.response["Error"]["Message"])) from err
            finally:
                self.authorizer.close()
        refused = self.authorizer.denied[denied_before:]
        if refused:  # a handler that caught the AccessDenied still fails the run
            raise DataPathDenied("; ".join(o.check.describe() + ": " + o.verdict.reason for o in refused))
        return config, result


@contextmanager
def function_runtime(
    config: dict[str, Any], package: bytes, region: str, session: boto3.session.Session
) -> Iterator[ModuleType]:
    """Unpack the package and import its handler module with the function's environment set;
    its boto3 clients come from `session` (the role's)."""
    module_name, _, _ = config["Handler"].rpartition(".")
    saved = dict(os.environ)
    saved_session = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = session
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
            boto3.DEFAULT_SESSION = saved_session
            os.environ.clear()
            os.environ.update(saved)


def run_region(region: str, prefix: str, account: str, runner: Runner | None = None) -> dict[str, Any]:
    """Run the data path in one region; return what each deployed handler returned."""
    runner = runner or Runner(os.environ.get("AWS_ENDPOINT_URL"))
    lam = runner.client("lambda", region)
    deployed = deployed_functions(lam, prefix, region)
    result: dict[str, Any] = {"functions": sorted(deployed)}
    print(f"== {region}: deployed {', '.join(sorted(deployed)) or 'no functions'}")
    if "processor" in deployed:
        bucket = f"{prefix}-data-{account}-{region}"
        key = "incoming/demo-sample.jsonl"
        runner.client("s3", region).put_object(
            Bucket=bucket, Key=key, Body=sample_object(region), ContentType="application/x-ndjson"
        )
        print(f"   uploaded s3://{bucket}/{key}")
        config, counts = runner.invoke(
            lam, deployed["processor"], region, "processor", s3_event(bucket, key, region)
        )
        print(f"   processor ({config['FunctionName']}, {config['MemorySize']} MB): {json.dumps(counts)}")
        table = config["Environment"]["Variables"]["TABLE_NAME"]
        items = runner.client("dynamodb", region).scan(TableName=table, Select="COUNT")["Count"]
        print(f"   table {table}: {items} items")
        result.update(bucket=bucket, key=key, table=table, counts=counts)
    if "analytics" in deployed:
        config, report = runner.invoke(lam, deployed["analytics"], region, "analytics", {})
        bucket = config["Environment"]["Variables"]["BUCKET_NAME"]
        print(f"   analytics report s3://{bucket}/{report['report_key']}:")
        print("   " + json.dumps(report["report"], indent=2, default=str).replace("\n", "\n   "))
        result["analytics"] = report
    if "key_rotation" in deployed:
        config, summary = runner.invoke(lam, deployed["key_rotation"], region, "key_rotation", {})
        counts = {k: v for k, v in summary.items() if k != "actions"}
        print(f"   key_rotation ({config['FunctionName']}): {json.dumps(counts, default=str)}")
        result["key_rotation"] = summary
    return result


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
    print("Lambda code runs locally here (moto needs Docker to run it), under each function's")
    print("role; every call it makes is authorized first (scripts/authorizer.py). S3, DynamoDB,")
    print("SNS and the functions' configuration are the emulator's.")
    regions = args.region or list(REGIONS)
    runner = Runner(os.environ["AWS_ENDPOINT_URL"])
    try:
        for region in regions:
            run_region(region, args.prefix, account, runner)
    except DataPathDenied as err:
        print(f"DENIED: {err}", file=sys.stderr)
        return 1
    print("Data path authorization (identity, resource, VPC endpoint and KMS key policies):")
    for line in runner.authorizer.report(regions):
        print(f"   {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
