"""Persistence in the tasks table, with the low-level DynamoDB client (created once per container).

Each function uses only the DynamoDB actions its Lambda's role allows:
list: Scan; create: PutItem, GetItem, ConditionCheckItem (TransactWriteItems); get: GetItem;
update: UpdateItem; delete: DeleteItem.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import config

client = boto3.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 3}))

TASK_FIELDS = ("id", "title", "description", "status", "due_date", "created_at", "updated_at", "version")
IDEMPOTENCY_PREFIX = "idempotency#"
RECORD_TYPE = "record_type"
SCAN_PAGE = 100
MAX_SCANS = 10


class NotFound(Exception):
    pass


class VersionConflict(Exception):
    pass


class IdempotencyKeyTaken(Exception):
    """The Idempotency-Key already has a record; ``record`` is it (None if it vanished meanwhile)."""

    def __init__(self, record: dict[str, Any] | None):
        super().__init__("idempotency key already used")
        self.record = record


def _attr(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    return {"S": str(value)}


def _value(attr: dict[str, Any]) -> Any:
    if "S" in attr:
        return attr["S"]
    if "N" in attr:
        return int(attr["N"])
    if "BOOL" in attr:
        return attr["BOOL"]
    return None


def _to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {name: _attr(value) for name, value in data.items()}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _value(attr) for name, attr in item.items()}


def _task(item: dict[str, Any]) -> dict[str, Any]:
    data = _from_item(item)
    return {name: data.get(name) for name in TASK_FIELDS}


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def list_tasks(limit: int, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` tasks after the task id ``after``, and the id to resume after (None at the end).

    Scan's Limit counts items read before the filter drops idempotency records, so keep scanning
    until the page is full, the table ends, or MAX_SCANS calls were made (then the page may be short
    but still carries a position).
    """
    tasks: list[dict[str, Any]] = []
    start = {"id": {"S": after}} if after else None
    for _ in range(MAX_SCANS):
        params: dict[str, Any] = {
            "TableName": config.TABLE_NAME,
            "Limit": SCAN_PAGE,
            "FilterExpression": "attribute_not_exists(#rt)",
            "ExpressionAttributeNames": {"#rt": RECORD_TYPE},
        }
        if start:
            params["ExclusiveStartKey"] = start
        page = client.scan(**params)
        items = page.get("Items", [])
        last = page.get("LastEvaluatedKey")
        for index, item in enumerate(items):
            tasks.append(_task(item))
            if len(tasks) == limit:
                if index < len(items) - 1:
                    return tasks, tasks[-1]["id"]
                return tasks, last["id"]["S"] if last else None
        if not last:
            return tasks, None
        start = last
    return tasks, start["id"]["S"] if start else None


def get_task(task_id: str) -> dict[str, Any] | None:
    item = client.get_item(TableName=config.TABLE_NAME, Key={"id": {"S": task_id}}, ConsistentRead=True).get("Item")
    return _task(item) if item else None


def put_task(task: dict[str, Any]) -> None:
    client.put_item(
        TableName=config.TABLE_NAME,
        Item=_to_item(task),
        ConditionExpression="attribute_not_exists(id)",
    )


def put_task_idempotently(task: dict[str, Any], key: str, record: dict[str, Any], now_epoch: int) -> None:
    """Write the task and the idempotency record together, or raise IdempotencyKeyTaken.

    The record is written when the key has none, or only an expired one (TTL deletion lags).
    """
    record_item = _to_item(
        {
            **record,
            "id": IDEMPOTENCY_PREFIX + key,
            RECORD_TYPE: "idempotency",
            config.TTL_ATTRIBUTE: now_epoch + config.IDEMPOTENCY_TTL_SECONDS,
        }
    )
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": config.TABLE_NAME,
                        "Item": _to_item(task),
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                },
                {
                    "Put": {
                        "TableName": config.TABLE_NAME,
                        "Item": record_item,
                        "ConditionExpression": "attribute_not_exists(id) OR #ttl < :now",
                        "ExpressionAttributeNames": {"#ttl": config.TTL_ATTRIBUTE},
                        "ExpressionAttributeValues": {":now": {"N": str(now_epoch)}},
                    }
                },
            ]
        )
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or []
        record_taken = len(reasons) == 2 and reasons[1].get("Code") == "ConditionalCheckFailed"
        if _code(error) == "TransactionCanceledException" and record_taken:
            raise IdempotencyKeyTaken(get_idempotency_record(key)) from None
        raise


def get_idempotency_record(key: str) -> dict[str, Any] | None:
    item = client.get_item(
        TableName=config.TABLE_NAME, Key={"id": {"S": IDEMPOTENCY_PREFIX + key}}, ConsistentRead=True
    ).get("Item")
    return _from_item(item) if item else None


def replace_task(task_id: str, fields: dict[str, Any], expected_version: int, now: str) -> dict[str, Any]:
    """Replace the writable fields if the stored version is ``expected_version``; the updated task."""
    values = {f":{name}": _attr(value) for name, value in fields.items()}
    values.update({":expected": _attr(expected_version), ":one": _attr(1), ":now": _attr(now)})
    names = {f"#{name}": name for name in fields}
    assignments = ", ".join(f"#{name} = :{name}" for name in fields)
    try:
        result = client.update_item(
            TableName=config.TABLE_NAME,
            Key={"id": {"S": task_id}},
            UpdateExpression=f"SET {assignments}, #updated_at = :now, #version = #version + :one",
            ConditionExpression="attribute_exists(id) AND #version = :expected",
            ExpressionAttributeNames={**names, "#updated_at": "updated_at", "#version": "version"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if _code(error) == "ConditionalCheckFailedException":
            if error.response.get("Item"):
                raise VersionConflict() from None
            raise NotFound() from None
        raise
    return _task(result["Attributes"])


def delete_task(task_id: str) -> None:
    try:
        client.delete_item(
            TableName=config.TABLE_NAME,
            Key={"id": {"S": task_id}},
            ConditionExpression="attribute_exists(id)",
        )
    except ClientError as error:
        if _code(error) == "ConditionalCheckFailedException":
            raise NotFound() from None
        raise
