"""Helpers over the calls recorded by the ``api_calls`` fixture."""


def operations(api_calls):
    return [name for name, _ in api_calls]


def calls_of(api_calls, operation):
    return [params for name, params in api_calls if name == operation]
