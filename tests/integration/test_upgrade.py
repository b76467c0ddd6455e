"""Upgrading an account that an earlier release converged (tests/upgrade/releases.yml, one case per
release): the account ends up holding exactly what a fresh converge of this checkout holds.

For each release:
1. its commit is checked out with `git worktree add --detach` into tests/output/upgrade/ (removed at
   the end), and both regions are converged with it as it ran: its own ansible.cfg (strategy),
   inventory and settings, this venv's ansible-playbook, on a private emulator of this checkout
   (TEST_EMULATOR_PORT + 4) in strict mode or not as that release's emulator was (0.1.0 had no
   strict mode): the same account for the whole case;
2. strict mode on (this checkout runs strict, as `make emulator` does), then this checkout:
   - the drift playbook, which exits 2, and lists every orphan the run below removes;
   - a dry run of the upgrade with `baseline_remove_orphans=true`: zero mutating calls; it
     predicts exactly the orphans the upgrade removes;
   - the upgrade with `baseline_remove_orphans=true`: exit 0; the subnets the release made in
     other zones are adopted where they are;
   - a rerun and a dry run: changed=0 and zero mutating calls; playbooks/verify.yml passes;
3. the account holds what a fresh converge of this checkout holds on a second emulator
   (TEST_EMULATOR_PORT + 5, strict, shared by the cases), resource by resource: per kind, each
   resource by its name (EC2 resources by Name tag and CIDR, keys by alias, not by id) with its
   tags, the roles' inline policies, the rules' targets, the topics' subscriptions and the trail
   log group's metric filters. Availability zones are left out: adopted subnets keep theirs.

What each upgrade adopted, removed and reported is printed and written to
tests/output/upgrade-<version>.txt. Long (a release's converge, six runs of this checkout, and a
fresh converge): `make test-long` (integration-slow).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from conftest import ANSIBLE_PLAYBOOK, PORT, REGIONS, REPO_ROOT, Emulator, PlaybookRun
from support.recorder import mutating

from scripts import emulator as emulator_control

UPGRADE_PORT = PORT + 4
FRESH_PORT = PORT + 5
RELEASES = yaml.safe_load((REPO_ROOT / "tests" / "upgrade" / "releases.yml").read_text())["releases"]
WORKTREES = REPO_ROOT / "tests" / "output" / "upgrade"
OUTPUT = REPO_ROOT / "tests" / "output"
REMOVE = ["-e", "baseline_remove_orphans=true"]
RUN_TIMEOUT = 1800
NETWORK_TASK = "VPC, private subnets and their route tables"
ORPHANS_TASK = "Resources tagged as the baseline's that the definition no longer manages"
ALARMS_TASK = "Every alarm of the region in one call"


# --- the account, resource by resource ---------------------------------------------------------


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


def _tags(items: list[dict[str, str]] | dict[str, str] | None, key: str = "Key", value: str = "Value") -> str:
    if isinstance(items, dict):
        return json.dumps(items, sort_keys=True)
    return json.dumps({t[key]: t[value] for t in items or []}, sort_keys=True)


def account(endpoint: str) -> dict[str, dict[str, str]]:
    """kind => {resource (by name, not id) => its tags or what it holds}, for both regions; a name
    that two resources of a kind share shows both details, joined by " | "."""

    def client(service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    found: dict[str, dict[str, list[str]]] = {}

    def add(kind: str, name: str, detail: str = "") -> None:
        # Two resources of one name (a duplicate a run made, say) show as two details.
        found.setdefault(kind, {}).setdefault(name, []).append(detail)

    for region in REGIONS:
        lam = client("lambda", region)
        for function in _pages(lam, "list_functions", "Functions"):
            add(
                "lambda function",
                function["FunctionName"],
                _tags(lam.list_tags(Resource=function["FunctionArn"])["Tags"]),
            )
        for mapping in _pages(lam, "list_event_source_mappings", "EventSourceMappings"):
            add("event source mapping", f"{mapping['FunctionArn']} <- {mapping['EventSourceArn']}")
        sqs = client("sqs", region)
        for url in _pages(sqs, "list_queues", "QueueUrls"):
            add(
                "SQS queue",
                f"{region} {url.rsplit('/', 1)[1]}",
                _tags(sqs.list_queue_tags(QueueUrl=url).get("Tags")),
            )
        sns = client("sns", region)
        for topic in _pages(sns, "list_topics", "Topics"):
            arn = topic["TopicArn"]
            subscriptions = sorted(
                f"{s['Protocol']}:{s['Endpoint']}"
                for s in _pages(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)
            )
            tags = _tags(sns.list_tags_for_resource(ResourceArn=arn)["Tags"])
            add("SNS topic", f"{region} {arn.rsplit(':', 1)[1]}", f"{tags} {subscriptions}")
        logs = client("logs", region)
        for group in _pages(logs, "describe_log_groups", "logGroups"):
            name = group["logGroupName"]
            add(
                "log group",
                f"{region} {name}",
                _tags(logs.list_tags_log_group(logGroupName=name).get("tags")),
            )
            for item in _pages(logs, "describe_metric_filters", "metricFilters", logGroupName=name):
                add("metric filter", f"{region} {name}:{item['filterName']}", item["filterPattern"])
        cloudwatch = client("cloudwatch", region)
        for alarm in _pages(cloudwatch, "describe_alarms", "MetricAlarms"):
            tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
            add("CloudWatch alarm", f"{region} {alarm['AlarmName']}", _tags(tags))
        events = client("events", region)
        for rule in _pages(events, "list_rules", "Rules"):
            targets = sorted(t["Arn"] for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"])
            tags = _tags(events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"])
            add("EventBridge rule", f"{region} {rule['Name']}", f"{tags} {targets}")
        kms = client("kms", region)
        aliases = {a["AliasName"]: a.get("TargetKeyId") for a in _pages(kms, "list_aliases", "Aliases")}
        for key in _pages(kms, "list_keys", "Keys"):
            metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if metadata["KeyManager"] != "CUSTOMER" or metadata["KeyState"] == "PendingDeletion":
                continue
            named = (
                ",".join(sorted(a for a, target in aliases.items() if target == key["KeyId"])) or "(no alias)"
            )
            tags = _tags(kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags"), "TagKey", "TagValue")
            add("KMS key", f"{region} {named}", tags)
        ec2 = client("ec2", region)
        vpcs = {v["VpcId"]: v for v in _pages(ec2, "describe_vpcs", "Vpcs") if not v.get("IsDefault")}
        names = {vpc_id: _name(vpc) for vpc_id, vpc in vpcs.items()}
        for vpc_id, vpc in vpcs.items():
            add("VPC", f"{region} {names[vpc_id]} {vpc['CidrBlock']}", _tags(vpc.get("Tags")))
        in_ours = [{"Name": "vpc-id", "Values": list(vpcs) or ["vpc-none"]}]
        for subnet in _pages(ec2, "describe_subnets", "Subnets", Filters=in_ours):
            add("subnet", f"{region} {_name(subnet)} {subnet['CidrBlock']}", _tags(subnet.get("Tags")))
        for table in _pages(ec2, "describe_route_tables", "RouteTables", Filters=in_ours):
            main = any(a.get("Main") for a in table.get("Associations", []))
            add(
                "route table",
                f"{region} {names[table['VpcId']]} {_name(table) or ('main' if main else '?')}",
                _tags(table.get("Tags")),
            )
        for group in _pages(ec2, "describe_security_groups", "SecurityGroups", Filters=in_ours):
            add(
                "security group",
                f"{region} {names[group['VpcId']]} {group['GroupName']}",
                _tags(group.get("Tags")),
            )
        for endpoint_ in _pages(ec2, "describe_vpc_endpoints", "VpcEndpoints"):
            if endpoint_["State"].lower() not in ("deleted", "deleting"):
                add("VPC endpoint", f"{region} {endpoint_['ServiceName']}", _tags(endpoint_.get("Tags")))
        s3 = client("s3", region)
        for bucket in s3.list_buckets(BucketRegion=region)["Buckets"]:
            try:
                tags = s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]
            except s3.exceptions.ClientError:
                tags = []
            add("S3 bucket", bucket["Name"], _tags(tags))
        ddb = client("dynamodb", region)
        for table_name in _pages(ddb, "list_tables", "TableNames"):
            arn = ddb.describe_table(TableName=table_name)["Table"]["TableArn"]
            add(
                "DynamoDB table",
                f"{region} {table_name}",
                _tags(ddb.list_tags_of_resource(ResourceArn=arn).get("Tags")),
            )
        trail = client("cloudtrail", region)
        for item in trail.list_trails()["Trails"]:
            if item.get("HomeRegion") == region:
                tags = trail.list_tags(ResourceIdList=[item["TrailARN"]])["ResourceTagList"][0].get(
                    "TagsList"
                )
                add("CloudTrail trail", item["Name"], _tags(tags))
    iam = client("iam")
    for role in _pages(iam, "list_roles", "Roles"):
        name = role["RoleName"]
        policies = sorted(_pages(iam, "list_role_policies", "PolicyNames", RoleName=name))
        add("IAM role", name, f"{_tags(iam.list_role_tags(RoleName=name)['Tags'])} {policies}")
    return {
        kind: {name: " | ".join(sorted(details)) for name, details in names.items()}
        for kind, names in found.items()
    }


def _name(resource: dict[str, Any]) -> str:
    return next((t["Value"] for t in resource.get("Tags") or [] if t["Key"] == "Name"), "")


def differences(upgraded: dict[str, dict[str, str]], fresh: dict[str, dict[str, str]]) -> list[str]:
    lines = []
    for kind in sorted(set(upgraded) | set(fresh)):
        ours, theirs = upgraded.get(kind, {}), fresh.get(kind, {})
        lines += [f"{kind} {name}: only after the upgrade" for name in sorted(set(ours) - set(theirs))]
        lines += [f"{kind} {name}: only in a fresh converge" for name in sorted(set(theirs) - set(ours))]
        lines += [
            f"{kind} {name}: {ours[name]} after the upgrade, {theirs[name]} fresh"
            for name in sorted(set(ours) & set(theirs))
            if ours[name] != theirs[name]
        ]
    return lines


# --- runs --------------------------------------------------------------------------------------


def task_results(run: PlaybookRun, name: str) -> list[tuple[str, dict[str, Any]]]:
    """(host, result) of every task whose own name (after "<role> : ") starts with `name`, in order;
    skipped results left out."""
    return [
        (host, result)
        for play in run.output.get("plays", [])
        for task in play.get("tasks", [])
        if task["task"]["name"].split(" : ", 1)[-1].startswith(name)
        for host, result in task.get("hosts", {}).items()
        if not result.get("skipped")
    ]


def orphans(run: PlaybookRun) -> list[str]:
    """Every orphan the run's orphans role listed, `host: kind name (action)`; it must have run on
    every host (a run that lists none because the role did not run proves nothing)."""
    results = task_results(run, ORPHANS_TASK)
    assert sorted(host for host, _ in results) == sorted(REGIONS), f"the orphans role ran on {results}"
    return sorted(
        f"{host}: {o['kind']} {o['name']} ({o['action']})"
        for host, result in results
        for o in result["orphans"]
    )


def release_checkout(version: str, commit: str) -> Path:
    path = WORKTREES / f"{version}-{commit}"
    if path.exists():
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=REPO_ROOT, check=False)
        shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["git", "worktree", "prune"], cwd=REPO_ROOT, check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(path), commit],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    # As its `make venv` did: the collection resolves from the checkout (0.1.0 committed the link).
    link = path / "collections" / "ansible_collections" / "secureinfra" / "baseline"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("../../..")
    return path


def remove_checkout(path: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=REPO_ROOT, check=False)
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["git", "worktree", "prune"], cwd=REPO_ROOT, check=False)


def release_converge(checkout: Path, endpoint: str) -> subprocess.CompletedProcess[str]:
    """Both regions, as the release ran: its ansible.cfg, inventory and settings; this venv's Ansible."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")},
        "ANSIBLE_CONFIG": str(checkout / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "AWS_ENDPOINT_URL": endpoint,
    }
    return subprocess.run(
        [ANSIBLE_PLAYBOOK, "site.yml"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


@dataclass
class Upgrade:
    version: str
    release_spec: dict[str, Any]
    release: subprocess.CompletedProcess[str]
    runs: dict[str, PlaybookRun] = field(default_factory=dict)
    drift: dict[str, Any] = field(default_factory=dict)
    account: dict[str, dict[str, str]] = field(default_factory=dict)

    def summary(self) -> list[str]:
        upgrade = self.runs["upgrade"]
        adopted = [
            f"{host}: subnet {a['name']} {a['cidr']} stays in {a['availability_zone']} "
            f"(this release's zone: {a['definition_zone']})"
            for host, result in task_results(upgrade, NETWORK_TASK)
            for a in result.get("adopted", [])
        ]
        purged = [
            f"{host}: CloudWatch alarm {name} (removed by the monitoring role: purge_prefix)"
            for host, result in task_results(upgrade, ALARMS_TASK)
            for name in result.get("deleted", [])
        ]
        found = orphans(upgrade)
        removed = [o for o in found if o.endswith("(removed)")]
        reported = [o for o in found if not o.endswith("(removed)")]
        lines = [f"upgrade from {self.version}:"]
        for title, entries in (
            ("adopted", adopted),
            ("removed (orphans)", removed),
            ("removed by the site roles", purged),
            ("reported, kept", reported),
        ):
            lines.append(f"  {title}: {len(entries)}")
            lines += [f"    - {entry}" for entry in sorted(entries)]
        lines.append(f"  resources after the upgrade: {sum(len(v) for v in self.account.values())}")
        return lines


@pytest.fixture(scope="module")
def fresh() -> Iterator[dict[str, dict[str, str]]]:
    """What a fresh converge of this checkout holds (both regions, strict emulator)."""
    with Emulator(FRESH_PORT, strict=True) as server:
        run = server.run_playbook()
        assert run.rc == 0, run.stderr
        yield account(server.endpoint)


@pytest.fixture(scope="module", params=RELEASES, ids=[r["version"] for r in RELEASES])
def upgrade(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upgrade]:
    release = request.param
    checkout = release_checkout(str(release["version"]), str(release["commit"]))
    try:
        with Emulator(UPGRADE_PORT, strict=bool(release["strict"])) as server:
            # The release converges under the strict rules it knew (releases.yml: strict_settings
            # turns off what later releases learnt to handle), then this checkout under all of them.
            changes = dict(release.get("strict_settings") or {})
            current = emulator_control.strict_settings(server.port)
            restore = {key: current[key] for key in changes}
            emulator_control.strict_settings(server.port, {"enabled": bool(release["strict"]), **changes})
            done = Upgrade(str(release["version"]), release, release_converge(checkout, server.endpoint))
            if done.release.returncode == 0:
                emulator_control.strict_settings(server.port, {"enabled": True, **restore})
                reports = tmp_path_factory.mktemp(f"drift-{release['version']}")
                drift = server.run_playbook(
                    playbook="playbooks/drift.yml", extra_vars={"drift_report_dir": str(reports)}
                )
                done.runs["drift"] = drift
                if (reports / "drift.json").exists():
                    done.drift = json.loads((reports / "drift.json").read_text())
                done.runs["dry run"] = server.run_playbook(*REMOVE, check=True)
                done.runs["upgrade"] = server.run_playbook(*REMOVE, "--diff")
                done.runs["rerun"] = server.run_playbook(*REMOVE)
                done.runs["dry run after"] = server.run_playbook(*REMOVE, check=True)
                done.runs["verify"] = server.run_playbook(playbook="playbooks/verify.yml")
                done.account = account(server.endpoint)
            yield done
    finally:
        remove_checkout(checkout)


def _must_run(upgrade: Upgrade, name: str) -> PlaybookRun:
    release = upgrade.release
    assert release.returncode == 0, (
        f"{upgrade.version} did not converge: {release.stdout[-3000:]}{release.stderr[-2000:]}"
    )
    return upgrade.runs[name]


def test_the_release_converges_both_regions(upgrade: Upgrade) -> None:
    _must_run(upgrade, "upgrade")


def test_the_drift_report_lists_every_orphan_and_fails(upgrade: Upgrade) -> None:
    drift = _must_run(upgrade, "drift")
    assert upgrade.drift, f"no drift.json: {drift.stderr}"
    removed = [o.removesuffix(" (removed)") for o in orphans(upgrade.runs["upgrade"])]
    lines = [d["drift"] for region in upgrade.drift.get("account_regions", []) for d in region["drifts"]]
    for entry in removed:
        what = entry.split(": ", 1)[1]
        assert any(f"orphan {what} " in line for line in lines), f"{entry} not in the drift report: {lines}"
    assert mutating(drift.calls) == []
    if removed:
        assert drift.rc == 2 and upgrade.drift["status"] == "drift"


def test_the_dry_run_predicts_the_upgrade_and_writes_nothing(upgrade: Upgrade) -> None:
    dry = _must_run(upgrade, "dry run")
    assert dry.rc == 0, dry.stderr
    assert mutating(dry.calls) == []
    predicted = [o.replace("(would remove)", "(removed)") for o in orphans(dry)]
    assert predicted == orphans(upgrade.runs["upgrade"])


def test_the_upgrade_converges_and_adopts_the_subnets(upgrade: Upgrade) -> None:
    run = _must_run(upgrade, "upgrade")
    assert run.rc == 0, run.failed_messages() or run.stderr
    networks = task_results(run, NETWORK_TASK)
    assert sorted(host for host, _ in networks) == sorted(REGIONS)
    for host, result in networks:
        zones = [a["availability_zone"] for a in result.get("adopted", [])]
        assert len(set(zones)) == len(zones), f"{host}: two adopted subnets in one zone: {zones}"
    assert sum(len(result.get("adopted", [])) for _, result in networks) == upgrade.release_spec["adopted"]
    found = orphans(run)
    assert all(o.endswith("(removed)") for o in found), found
    assert [o.removesuffix(" (removed)") for o in found] == sorted(upgrade.release_spec["orphans"])
    print("\n" + "\n".join(upgrade.summary()))
    (OUTPUT / f"upgrade-{upgrade.version}.txt").write_text("\n".join(upgrade.summary()) + "\n")


def test_a_rerun_and_a_dry_run_change_nothing(upgrade: Upgrade) -> None:
    for name in ("rerun", "dry run after"):
        run = _must_run(upgrade, name)
        assert run.rc == 0, run.failed_messages() or run.stderr
        assert {host: run.changed(host) for host in REGIONS} == dict.fromkeys(REGIONS, 0), run.changed_tasks()
        assert mutating(run.calls) == []
        assert orphans(run) == []


def test_verify_passes(upgrade: Upgrade) -> None:
    run = _must_run(upgrade, "verify")
    assert run.rc == 0, run.failed_messages() or run.stderr


def test_the_account_holds_what_a_fresh_converge_holds(
    upgrade: Upgrade, fresh: dict[str, dict[str, str]]
) -> None:
    _must_run(upgrade, "upgrade")
    assert differences(upgrade.account, fresh) == []
    # the comparison sees what matters: the releases' key rotation, for one, is there in both
    assert "us-east-1 secureinfra-us-east-1-key_rotation-dlq" in fresh["SQS queue"]
