"""Unit tests of the network filters (plugins/filter/network.py, plugins/plugin_utils/network_plan.py)."""

import ipaddress

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.serverless.tasks_api.plugins.filter.network import FilterModule
from ansible_collections.serverless.tasks_api.plugins.plugin_utils import network_plan

FILTERS = FilterModule().filters()
ZONES = ["us-east-1a", "us-east-1b"]


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.16.0.0/20", "192.168.0.0/28"])
def test_vpc_cidr_problems_accepts_valid_blocks(cidr):
    assert FILTERS["vpc_cidr_problems"](cidr) == []


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("10.0.0.0/33", "not an IPv4 CIDR block"),
        ("10.0.0.0", "no prefix length"),
        ("10.0.0.1/16", "host bits set; the network is 10.0.0.0/16"),
        ("10.0.0.0/8", "outside what AWS allows"),
        ("10.0.0.0/29", "outside what AWS allows"),
        ("300.0.0.0/16", "not an IPv4 CIDR block"),
        (16, "expected a string"),
    ],
)
def test_vpc_cidr_problems_explains_bad_blocks(cidr, expected):
    problems = FILTERS["vpc_cidr_problems"](cidr)
    assert len(problems) == 1
    assert expected in problems[0]


def test_subnet_plan_puts_public_in_lower_half_and_private_in_upper_half():
    plan = FILTERS["subnet_plan"]("10.0.0.0/16", ZONES)
    assert [(s["tier"], s["az"], s["cidr"]) for s in plan] == [
        ("public", "us-east-1a", "10.0.0.0/20"),
        ("public", "us-east-1b", "10.0.16.0/20"),
        ("private", "us-east-1a", "10.0.128.0/20"),
        ("private", "us-east-1b", "10.0.144.0/20"),
    ]
    assert [s["name"] for s in plan] == [
        "public-us-east-1a",
        "public-us-east-1b",
        "private-us-east-1a",
        "private-us-east-1b",
    ]


def test_subnet_plan_cidrs_are_printable_disjoint_and_inside_the_vpc():
    """The reference design built CIDRs with string(rune(n)), producing control characters."""
    vpc = ipaddress.IPv4Network("10.20.0.0/16")
    zones = [f"eu-west-1{letter}" for letter in "abcdef"]
    networks = [ipaddress.IPv4Network(s["cidr"]) for s in FILTERS["subnet_plan"](str(vpc), zones, 4)]
    assert all(s.isprintable() for s in map(str, networks))
    assert all(network.subnet_of(vpc) for network in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])


def test_adding_an_availability_zone_never_moves_an_existing_subnet():
    two = {s["name"]: s["cidr"] for s in network_plan.subnet_plan("10.0.0.0/16", ZONES)}
    three = {s["name"]: s["cidr"] for s in network_plan.subnet_plan("10.0.0.0/16", [*ZONES, "us-east-1c"])}
    assert {name: three[name] for name in two} == two


def test_subnet_plan_honours_newbits():
    plan = network_plan.subnet_plan("10.0.0.0/24", ZONES, 2)
    assert [s["cidr"] for s in plan] == ["10.0.0.0/26", "10.0.0.64/26", "10.0.0.128/26", "10.0.0.192/26"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("10.0.0.0/33", ZONES, 4), "vpc_cidr"),
        (("10.0.0.0/16", [], 4), "non-empty list"),
        (("10.0.0.0/16", ["us-east-1a", "us-east-1a"], 4), "unique"),
        (("10.0.0.0/16", ZONES, 0), "newbits"),
        (("10.0.0.0/16", ZONES, 13), "smaller than the /28"),
        (("10.0.0.0/16", ["a", "b", "c"], 2), "at most 2 AZs"),
    ],
)
def test_subnet_plan_rejects_bad_input_with_filter_error(args, expected):
    with pytest.raises(AnsibleFilterError, match=expected):
        FILTERS["subnet_plan"](*args)


def test_private_route_table_plan_with_one_shared_nat():
    assert FILTERS["private_route_table_plan"](ZONES, False) == [
        {"name": "private", "nat_zone": "us-east-1a", "zones": ZONES}
    ]


def test_private_route_table_plan_with_one_nat_per_az():
    assert FILTERS["private_route_table_plan"](ZONES, True) == [
        {"name": "private-us-east-1a", "nat_zone": "us-east-1a", "zones": ["us-east-1a"]},
        {"name": "private-us-east-1b", "nat_zone": "us-east-1b", "zones": ["us-east-1b"]},
    ]


@pytest.mark.parametrize(("service", "action"), [("s3", "s3:*"), ("dynamodb", "dynamodb:*")])
def test_gateway_endpoint_policy_reaches_only_the_accounts_resources(service, action):
    policy = FILTERS["gateway_endpoint_policy"](service, "123456789012")
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == action
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceAccount": "123456789012"}}


@pytest.mark.parametrize(
    ("service", "account", "expected"),
    [("sqs", "123456789012", "service"), ("s3", "1234", "account_id"), ("s3", 123456789012, "account_id")],
)
def test_gateway_endpoint_policy_rejects_bad_input(service, account, expected):
    with pytest.raises(AnsibleFilterError, match=expected):
        FILTERS["gateway_endpoint_policy"](service, account)
