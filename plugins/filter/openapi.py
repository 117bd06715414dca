"""Filter that renders the API's OpenAPI 3.0 reference from the function manifest.

Documentation: the sibling ``openapi_document.yml`` (rendered by ansible-doc).
"""

from __future__ import annotations

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import openapi
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.filter_errors import as_filter_error


def openapi_document(
    functions, title="Tasks API", version="1.0.0", stage="local", region="us-east-1", authorization="API_KEY"
):
    return openapi.openapi_document(functions, title, version, stage, region, authorization)


class FilterModule:
    def filters(self):
        return {"openapi_document": as_filter_error(openapi_document)}
