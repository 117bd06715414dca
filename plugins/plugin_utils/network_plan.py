"""Pure functions behind the network filters: CIDR checks, subnet plans, endpoint policies.

Importable without Ansible so that unit tests exercise them directly; the filter
plugin in ``plugins/filter/network.py`` turns ``ValueError`` into
``AnsibleFilterError``.
"""

from __future__ import annotations

import ipaddress

VPC_MIN_PREFIX = 16
SUBNET_MAX_PREFIX = 28
TIERS = ("public", "private")
GATEWAY_ENDPOINT_SERVICES = {"s3": "s3:*", "dynamodb": "dynamodb:*"}


def vpc_cidr_problems(cidr: object) -> list[str]:
    """Return what is wrong with ``cidr`` as a VPC CIDR block (empty when nothing is)."""
    if not isinstance(cidr, str):
        return [f"expected a string like '10.0.0.0/16', got {type(cidr).__name__} {cidr!r}"]
    if "/" not in cidr:
        return [f"'{cidr}' has no prefix length; expected a CIDR block like '10.0.0.0/16'"]
    try:
        network = ipaddress.IPv4Network(cidr, strict=False)
    except ValueError as error:
        return [f"'{cidr}' is not an IPv4 CIDR block ({error})"]
    problems = []
    if str(network) != cidr:
        problems.append(f"'{cidr}' has host bits set; the network is {network}")
    if not VPC_MIN_PREFIX <= network.prefixlen <= SUBNET_MAX_PREFIX:
        problems.append(
            f"prefix length /{network.prefixlen} is outside what AWS allows for a VPC "
            f"(/{VPC_MIN_PREFIX} to /{SUBNET_MAX_PREFIX})"
        )
    return problems


def subnet_plan(vpc_cidr: str, availability_zones: list[str], newbits: int = 4) -> list[dict]:
    """Return the public and private subnets for ``availability_zones`` in ``vpc_cidr``.

    The VPC is cut into ``2**newbits`` equal blocks.  Public subnets take blocks
    from the start of the lower half, private ones from the start of the upper
    half, one of each per AZ in the order given.  So every public subnet lies in
    the lower half of the VPC and every private one in the upper half (each
    tier is one summarisable range), and adding an AZ later never moves an
    existing subnet.
    """
    problems = vpc_cidr_problems(vpc_cidr)
    if problems:
        raise ValueError(f"vpc_cidr: {'; '.join(problems)}")
    _check_availability_zones(availability_zones)
    network = ipaddress.IPv4Network(vpc_cidr)
    blocks = _subnet_blocks(network, newbits)
    half = len(blocks) // 2
    if len(availability_zones) > half:
        raise ValueError(
            f"{len(availability_zones)} AZs need {2 * len(availability_zones)} subnets, but {vpc_cidr} "
            f"cut by newbits={newbits} gives only {len(blocks)} (at most {half} AZs); raise newbits"
        )
    plan = []
    for tier_index, tier in enumerate(TIERS):
        for az_index, zone in enumerate(availability_zones):
            block = blocks[tier_index * half + az_index]
            plan.append({"tier": tier, "az": zone, "az_index": az_index, "cidr": str(block), "name": f"{tier}-{zone}"})
    return plan


def _check_availability_zones(availability_zones: object) -> None:
    if not isinstance(availability_zones, list) or not availability_zones:
        raise ValueError(f"availability_zones: expected a non-empty list of AZ names, got {availability_zones!r}")
    if not all(isinstance(zone, str) and zone for zone in availability_zones):
        raise ValueError(f"availability_zones: every entry must be a non-empty string, got {availability_zones!r}")
    if len(set(availability_zones)) != len(availability_zones):
        raise ValueError(f"availability_zones: names must be unique, got {availability_zones!r}")


def _subnet_blocks(network: ipaddress.IPv4Network, newbits: object) -> list[ipaddress.IPv4Network]:
    if isinstance(newbits, bool) or not isinstance(newbits, int) or newbits < 1:
        raise ValueError(f"newbits: expected a whole number of at least 1, got {newbits!r}")
    new_prefix = network.prefixlen + newbits
    if new_prefix > SUBNET_MAX_PREFIX:
        raise ValueError(
            f"newbits: {network} cut by {newbits} bits gives /{new_prefix} subnets, "
            f"smaller than the /{SUBNET_MAX_PREFIX} AWS allows"
        )
    return list(network.subnets(new_prefix=new_prefix))


def gateway_endpoint_policy(service: str, account_id: str) -> dict:
    """Return a gateway endpoint policy that reaches only resources of ``account_id``.

    A data-perimeter policy: the endpoint carries requests for the service to
    buckets or tables owned by the stack's own account, and to nothing else.
    """
    if service not in GATEWAY_ENDPOINT_SERVICES:
        raise ValueError(f"service: expected one of {sorted(GATEWAY_ENDPOINT_SERVICES)}, got {service!r}")
    if not (isinstance(account_id, str) and len(account_id) == 12 and account_id.isdigit()):
        raise ValueError(f"account_id: expected 12 digits, got {account_id!r}")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyThisAccountsResources",
                "Effect": "Allow",
                "Principal": "*",
                "Action": GATEWAY_ENDPOINT_SERVICES[service],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceAccount": account_id}},
            }
        ],
    }


def private_route_table_plan(availability_zones: list[str], nat_per_az: bool) -> list[dict]:
    """Return the private route tables: which NAT each routes through and which AZs' subnets use it.

    One NAT for all (``nat_per_az`` false): one table ``private`` through the NAT of
    the first AZ.  One NAT per AZ: one table ``private-<az>`` per AZ through that
    AZ's own NAT, so losing an AZ does not cut the others' egress.
    """
    _check_availability_zones(availability_zones)
    if not nat_per_az:
        return [{"name": "private", "nat_zone": availability_zones[0], "zones": list(availability_zones)}]
    return [{"name": f"private-{zone}", "nat_zone": zone, "zones": [zone]} for zone in availability_zones]
