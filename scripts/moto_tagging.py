"""What the embedded emulator adds to moto 5.2.5's Resource Groups Tagging API, and why.

secureinfra.baseline.baseline_orphans finds the baseline's resources by their tags with one
paginated ``tag:GetResources`` per region (resourcegroupstaggingapi), as AWS documents it for
finding tagged resources across services. AWS's GetResources answers EventBridge rules
(``arn:aws:events:<region>:<account>:rule/<name>``), EC2 VPC endpoints
(``arn:aws:ec2:<region>:<account>:vpc-endpoint/<id>``) and CloudTrail trails
(``arn:aws:cloudtrail:<region>:<account>:trail/<name>``, in the trail's home region)
(https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/supported-services.html).
moto 5.2.5 answers none of them: its EventBridge backend yields only event buses, its EC2
backend leaves the VPC endpoints out, and its CloudTrail backend does not take part in the
tagging API at all. So an orphaned schedule, gateway endpoint or trail would go unseen on the
emulator. The emulator adds them, with the tags moto keeps for each (ListTagsForResource,
DescribeVpcEndpoints, ListTags answer the same ones); a deleted endpoint (moto keeps it, in state
"deleted") is left out.

Installed by ``emulator.py serve`` next to moto_extensions.py; ``install()`` is idempotent, and
the unit tests call it for their in-process moto. Real AWS and LocalStack answer these natively;
nothing here runs against them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import moto.resourcegroupstaggingapi.models as tagging_models
from moto.cloudtrail.models import cloudtrail_backends
from moto.core.resource_tagging import TaggedResource
from moto.ec2.models import EC2Backend
from moto.events.models import EventsBackend

_MARK = "_secureinfra_tagging"


def _events_resources(original: Any) -> Any:
    def iter_tagged_resources(self: EventsBackend) -> Iterator[TaggedResource]:
        yield from original(self)
        for bus in self.event_buses.values():
            for rule in bus.rules.values():
                yield TaggedResource(
                    arn=rule.arn,
                    tags=self.tagger.get_tag_dict_for_resource(rule.arn),
                    resource_type="events:rule",
                )

    return iter_tagged_resources


def _ec2_resources(original: Any) -> Any:
    def iter_tagged_resources(self: EC2Backend) -> Iterator[TaggedResource]:
        yield from original(self)
        for endpoint in self.vpc_end_points.values():
            if str(endpoint.state).lower() == "deleted":  # moto keeps a deleted endpoint, AWS forgets it
                continue
            yield TaggedResource(
                arn=f"arn:{self.partition}:ec2:{self.region_name}:{self.account_id}:vpc-endpoint/{endpoint.id}",
                tags=dict(self.tags.get(endpoint.id, {})),
                resource_type="ec2:vpc-endpoint",
            )

    return iter_tagged_resources


class CloudTrailTagging:
    """The trails whose home is this region, as GetResources answers them (tags only)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def iter_tagged_resources(self) -> Iterator[TaggedResource]:
        for trail in self.backend.trails.values():
            if trail.region_name != self.backend.region_name:
                continue
            tags = self.backend.tagging_service.list_tags_for_resource(trail.arn)["TagsList"]
            yield TaggedResource(
                arn=trail.arn,
                tags={tag["Key"]: tag["Value"] for tag in tags},
                resource_type="cloudtrail:trail",
            )

    def owns_arn(self, arn: str) -> bool:
        return arn.startswith(f"arn:{self.backend.partition}:cloudtrail:")


def _taggable_backends(original: Any) -> Any:
    def iter_taggable_backends(account_id: str, region_name: str) -> Iterator[Any]:
        yield from original(account_id, region_name)
        if account_id in cloudtrail_backends and region_name in cloudtrail_backends[account_id]:
            yield CloudTrailTagging(cloudtrail_backends[account_id][region_name])

    return iter_taggable_backends


_PATCHES: list[tuple[Any, str, Any]] = [
    (EventsBackend, "iter_tagged_resources", _events_resources),
    (EC2Backend, "iter_tagged_resources", _ec2_resources),
    (tagging_models, "iter_taggable_backends", _taggable_backends),
]


def install() -> None:
    """Patch moto in this process (idempotent)."""
    for owner, name, wrapper in _PATCHES:
        current = getattr(owner, name)
        if not getattr(current, _MARK, False):
            patched = wrapper(current)
            setattr(patched, _MARK, True)
            setattr(owner, name, patched)
