"""Filters that plan the network: CIDR checks, subnet plans, gateway endpoint policies.

Documentation: the sibling ``<filter>.yml`` files (rendered by ansible-doc).
"""

from __future__ import annotations

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import network_plan
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.filter_errors import as_filter_error


def vpc_cidr_problems(cidr):
    return network_plan.vpc_cidr_problems(cidr)


def subnet_plan(vpc_cidr, availability_zones, newbits=4):
    return network_plan.subnet_plan(vpc_cidr, availability_zones, newbits)


def gateway_endpoint_policy(service, account_id):
    return network_plan.gateway_endpoint_policy(service, account_id)


def private_route_table_plan(availability_zones, nat_per_az=False):
    return network_plan.private_route_table_plan(availability_zones, nat_per_az)


class FilterModule:
    def filters(self):
        return {
            "vpc_cidr_problems": vpc_cidr_problems,
            "subnet_plan": as_filter_error(subnet_plan),
            "gateway_endpoint_policy": as_filter_error(gateway_endpoint_policy),
            "private_route_table_plan": as_filter_error(private_route_table_plan),
        }
