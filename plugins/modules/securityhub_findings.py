#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: securityhub_findings
short_description: Import the verify records of one account and region into Security Hub as findings (ASFF)
version_added: 0.3.0
description:
  - Turns each record of M(secureinfra.baseline.baseline_controls) into one finding in the AWS Security
    Finding Format and imports them with C(BatchImportFindings) (100 per call) under the account's own product
    (C(product/<account>/default)), so they show in Security Hub next to its own control findings.
  - One finding per control, account and region (its C(Id) is
    C(secureinfra.baseline/<account>/<region>/<control>)), updated in place on the next import. A finding
    whose compliance status, title, description and severity are unchanged is not imported again, so a
    second run changes nothing.
  - C(Compliance.Status) is C(PASSED), C(FAILED) or C(NOT_AVAILABLE) (not applicable); C(RelatedRequirements)
    lists the control's id and its related ids (CIS, FSBP); the evidence, cut to 1024 characters, is the
    description.
  - Security Hub must be enabled in the region (C(InvalidAccessException) otherwise).
options:
  records:
    description:
      - The records (C(control_id), C(title), C(service), C(related), C(account), C(region), C(status),
        C(evidence)).
    type: list
    elements: dict
    required: true
  failed_severity:
    description: Severity of a failed control's finding (passed and not applicable ones are C(INFORMATIONAL)).
    type: str
    choices: [LOW, MEDIUM, HIGH, CRITICAL]
    default: MEDIUM
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
notes:
  - Check mode and diff are supported; in check mode the findings that would be imported are counted, none is.
author:
  - Secureinfra Platform Team (@secureinfra)
"""

EXAMPLES = r"""
- name: The verify records of this account and region, into Security Hub
  secureinfra.baseline.securityhub_findings:
    records: "{{ verify_result.records }}"
"""

RETURN = r"""
imported:
  description: Findings imported (or that would be, in check mode).
  returned: always
  type: int
unchanged:
  description: Findings already in Security Hub as they are.
  returned: always
  type: int
product_arn:
  description: The product the findings are imported under.
  returned: always
  type: str
diff:
  description: Per finding id, the compliance status before and after, in diff mode.
  returned: when diff mode is on
  type: dict
"""

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

GENERATOR = "secureinfra.baseline"
STATUS = {"pass": "PASSED", "fail": "FAILED", "not_applicable": "NOT_AVAILABLE"}
BATCH = 100  # BatchImportFindings takes at most 100 findings
MAX_DESCRIPTION = 1024
MAX_TITLE = 256
MAX_REQUIREMENTS = 32

ARGUMENT_SPEC: dict[str, Any] = {
    "records": {"type": "list", "elements": "dict", "required": True},
    "failed_severity": {"type": "str", "choices": ["LOW", "MEDIUM", "HIGH", "CRITICAL"], "default": "MEDIUM"},
}


def validation_errors(params: dict[str, Any]) -> list[str]:
    errors = []
    for index, record in enumerate(params["records"]):
        missing = [k for k in ("control_id", "title", "account", "region", "status") if not record.get(k)]
        if missing:
            errors.append(f"records[{index}]: missing {', '.join(missing)}")
        elif record["status"] not in STATUS:
            errors.append(
                f"records[{index}].status must be pass, fail or not_applicable, got '{record['status']}'"
            )
    return errors


def finding_types(control_id: str) -> list[str]:
    if control_id.startswith("CIS "):
        return [
            "Software and Configuration Checks/Industry and Regulatory Standards/"
            "CIS AWS Foundations Benchmark"
        ]
    if control_id.startswith("BASELINE."):
        return ["Software and Configuration Checks/AWS Security Best Practices"]
    return [
        "Software and Configuration Checks/Industry and Regulatory Standards/"
        "AWS-Foundational-Security-Best-Practices"
    ]


def finding_id(record: dict[str, Any]) -> str:
    return f"{GENERATOR}/{record['account']}/{record['region']}/{record['control_id']}"


def as_finding(
    record: dict[str, Any], product_arn: str, partition: str, severity: str, now: str
) -> dict[str, Any]:
    """The record as an ASFF finding (securityhub/latest/userguide/securityhub-findings-format.html)."""
    status = STATUS[record["status"]]
    evidence = json.dumps(record.get("evidence", {}), sort_keys=True, default=str)
    description = evidence if len(evidence) <= MAX_DESCRIPTION else evidence[: MAX_DESCRIPTION - 3] + "..."
    requirements = [record["control_id"], *[str(r) for r in record.get("related") or []]][:MAX_REQUIREMENTS]
    return {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id(record),
        "ProductArn": product_arn,
        "GeneratorId": f"{GENERATOR}/{record['control_id']}",
        "AwsAccountId": record["account"],
        "Types": finding_types(record["control_id"]),
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": {"Label": severity if status == "FAILED" else "INFORMATIONAL"},
        "Title": f"{record['control_id']} {record['title']}"[:MAX_TITLE],
        "Description": description or record["title"],
        "Resources": [
            {
                "Type": "AwsAccount",
                "Id": f"AWS::::Account:{record['account']}",
                "Partition": partition,
                "Region": record["region"],
            }
        ],
        "Compliance": {"Status": status, "RelatedRequirements": requirements},
        "ProductFields": {
            "secureinfra/ControlId": record["control_id"],
            "secureinfra/Service": str(record.get("service", "")),
        },
        "RecordState": "ACTIVE",
    }


def same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return (
        (old.get("Compliance") or {}).get("Status") == new["Compliance"]["Status"]
        and old.get("Title") == new["Title"]
        and old.get("Description") == new["Description"]
        and (old.get("Severity") or {}).get("Label") == new["Severity"]["Label"]
        and old.get("RecordState") == "ACTIVE"
    )


def existing(module: AnsibleAWSModule, client: Any, product_arn: str) -> dict[str, dict[str, Any]]:
    filters = {
        "ProductArn": [{"Value": product_arn, "Comparison": "EQUALS"}],
        "GeneratorId": [{"Value": f"{GENERATOR}/", "Comparison": "PREFIX"}],
    }
    try:
        pages = client.get_paginator("get_findings").paginate(Filters=filters)
        found = pages.build_full_result().get("Findings", [])
    except is_boto3_error_code("InvalidAccessException") as e:
        module.fail_json_aws(
            e,
            msg=f"Security Hub is not enabled in {client.meta.region_name}: enable it "
            "(security_services role) before importing",
        )
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read the findings already imported (GetFindings)")
    return {f["Id"]: f for f in found if f.get("Id", "").startswith(f"{GENERATOR}/")}


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    records = module.params["records"]
    client = module.client("securityhub", retry_decorator=AWSRetry.jittered_backoff())
    partition = client.meta.partition
    region = client.meta.region_name
    account = records[0]["account"] if records else ""
    product_arn = f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"
    if not records:
        module.exit_json(changed=False, imported=0, unchanged=0, product_arn=product_arn)
    if any(r["account"] != account or r["region"] != region for r in records):
        module.fail_json(msg=f"records must all be of account {account} and of this region ({region})")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    found = existing(module, client, product_arn)
    findings = []
    unchanged = 0
    for record in records:
        finding = as_finding(record, product_arn, partition, module.params["failed_severity"], now)
        old = found.get(finding["Id"])
        if old and same(old, finding):
            unchanged += 1
            continue
        if old and old.get("CreatedAt"):
            finding["CreatedAt"] = old["CreatedAt"]  # the first import's time stays
        findings.append((finding, old))
    if findings and not module.check_mode:
        for start in range(0, len(findings), BATCH):
            batch = [f for f, _old in findings[start : start + BATCH]]
            try:
                answer = client.batch_import_findings(aws_retry=True, Findings=batch)
            except (BotoCoreError, ClientError) as e:
                module.fail_json_aws(e, msg="Failed to import the findings (BatchImportFindings)")
            if answer.get("FailedCount"):
                module.fail_json(
                    msg=f"Security Hub refused {answer['FailedCount']} findings: "
                    f"{answer.get('FailedFindings')}"
                )
    output: dict[str, Any] = {
        "changed": bool(findings),
        "imported": len(findings),
        "unchanged": unchanged,
        "product_arn": product_arn,
    }
    if module._diff:
        output["diff"] = {
            "before": {f["Id"]: (old or {}).get("Compliance", {}).get("Status") for f, old in findings},
            "after": {f["Id"]: f["Compliance"]["Status"] for f, _old in findings},
        }
    module.exit_json(**output)


if __name__ == "__main__":
    main()
