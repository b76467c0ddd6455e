"""A dry run on an empty account predicts changes and makes no mutating call."""

from __future__ import annotations

from conftest import REGIONS
from support.recorder import mutating


def test_check_mode_on_fresh_account(fresh_run_playbook, fresh_aws) -> None:
    run = fresh_run_playbook(check=True)
    assert run.rc == 0, run.stderr
    assert all(run.changed(region) > 0 for region in REGIONS)
    assert run.calls, "the recorder saw no request at all"
    assert mutating(run.calls) == []
    for region in REGIONS:
        assert fresh_aws("s3", region).list_buckets()["Buckets"] == []
        assert (
            fresh_aws("ec2", region).describe_vpcs(
                Filters=[{"Name": "tag:Project", "Values": ["secure-infrastructure"]}]
            )["Vpcs"]
            == []
        )
        assert fresh_aws("kms", region).list_keys()["Keys"] == []
