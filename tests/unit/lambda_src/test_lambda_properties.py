"""Property-style validation: seeded random bad bodies and parameters never give a 5xx."""

from __future__ import annotations

import base64
import json
import random
import uuid

from lambda_helpers import invoke, load_event, with_body, with_id, with_query

SEED = 20260310
FIELDS = ["title", "description", "status", "due_date", "version", "id", "created_at", "updated_at"]


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(13 if depth < 3 else 10)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**63, -(2**70), 10**40, 7])
    if kind == 3:
        return rng.choice([0.0, 1.5, -2.25, 1e308, 1.0])
    if kind == 4:
        return "x" * rng.choice([0, 1, 200, 201, 2000, 2001, 30000])
    if kind == 5:
        return "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(rng.randrange(1, 50)))
    if kind == 6:
        return rng.choice(["todo", "in_progress", "done", "DONE", "2026-01-01", "2026-13-01", "9999-99-99", ""])
    if kind == 7:
        return "\ud800 lone surrogate"
    if kind == 8:
        return str(uuid.UUID(int=rng.getrandbits(128)))
    if kind == 9:
        return rng.choice(["\x00", "\n\t", "<script>", "' OR 1=1 --", "${jndi:x}", "#name", ":value"])
    if kind == 10:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {random_key(rng): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def random_key(rng: random.Random) -> str:
    return rng.choice([*FIELDS, "extra", "", "__proto__", "títle", "record_type", "x" * 300])


def random_body(rng: random.Random):
    shape = rng.randrange(10)
    if shape == 0:
        return random_value(rng)  # not an object, mostly
    if shape == 1:
        return "[" * rng.randrange(1, 5000)  # malformed, possibly deep
    if shape == 2:
        return json.dumps({"title": "t"})[: rng.randrange(1, 14)]  # truncated
    body = {name: random_value(rng) for name in rng.sample(FIELDS, rng.randrange(len(FIELDS) + 1))}
    if shape == 3:
        body[random_key(rng)] = random_value(rng)
    if shape == 4:
        body = {"title": "t", random_key(rng): random_value(rng)}
    return body


def encode(rng: random.Random, event: dict, body) -> dict:
    if isinstance(body, str) and rng.random() < 0.5:
        event["body"] = body
    else:
        with_body(event, json.dumps(body))
    if rng.random() < 0.15:
        event["body"] = base64.b64encode(event["body"].encode("utf-8", "surrogatepass")).decode()
        event["isBase64Encoded"] = True
    return event


def test_random_post_bodies_never_5xx(api, table):
    rng = random.Random(SEED)
    statuses = []
    for _ in range(300):
        response = invoke(api.create_task.handler, encode(rng, load_event("create_task"), random_body(rng)))
        assert response.status < 500, response.body
        statuses.append(response.status)
    assert statuses.count(400) > 200


def test_random_put_bodies_never_5xx(api, table):
    rng = random.Random(SEED + 1)
    created = invoke(api.create_task.handler, with_body(load_event("create_task"), {"title": "t"})).json
    for _ in range(300):
        target = rng.choice([created["id"], str(uuid.uuid4()), "nope", "", "Ω" * 36])
        event = with_id(load_event("update_task"), target)
        response = invoke(api.update_task.handler, encode(rng, event, random_body(rng)))
        assert response.status < 500, response.body


def test_random_list_params_never_5xx(api, table):
    rng = random.Random(SEED + 2)
    invoke(api.create_task.handler, with_body(load_event("create_task"), {"title": "t"}))
    for _ in range(300):
        params = {}
        for name in rng.sample(["limit", "next_token", "other"], rng.randrange(4)):
            value = random_value(rng)
            params[name] = value if isinstance(value, str) else json.dumps(value)
        if any("\ud800" in value for value in params.values()):
            params = {k: v.replace("\ud800", "\udfff") for k, v in params.items()}
        response = invoke(api.list_tasks.handler, with_query(load_event("list_tasks"), **params))
        assert response.status < 500, response.body


def test_random_path_ids_never_5xx(api, table):
    rng = random.Random(SEED + 3)
    for _ in range(200):
        value = random_value(rng)
        task_id = value if isinstance(value, str) else json.dumps(value)
        for module, name in ((api.get_task, "get_task"), (api.delete_task, "delete_task")):
            assert invoke(module.handler, with_id(load_event(name), task_id)).status in (400, 404)
