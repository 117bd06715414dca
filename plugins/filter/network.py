"""Filters that plan the network: CIDR checks, subnet plans, gateway endpoint policies.

Documentation: the sibling ``<filter>.yml`` files (rendered by ansible-doc).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import network_plan


def _as_filter_error(function):
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValueError as error:
            raise AnsibleFilterError(f"{function.__name__}: {error}") from error

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


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
            "subnet_plan": _as_filter_error(subnet_plan),
            "gateway_endpoint_policy": _as_filter_error(gateway_endpoint_policy),
            "private_route_table_plan": _as_filter_error(private_route_table_plan),
        }
