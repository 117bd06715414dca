"""Hostile requests through the local API front (issue 9): no 5xx, the error envelope, the table touched only validly.

The stack is converged with the layers on the request path (network, iam, storage, functions, api: the real
functions' configuration and package, the manifest's routes with their API key, the key from SSM); monitoring
is not on that path and is left out. One front serves it; every request goes over HTTP, as a client's would.

The generator is stdlib ``random`` with a fixed seed (``FUZZ_SEED`` overrides it); the seed is in every failure
message. Each case says which statuses it may get; the table model follows the 2xx answers of the cases that
were meant to be valid, and a scan after the run must equal it.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import parse_qsl, quote, unquote

import pytest
from local_front import Front
from playbook_runner import converge_site, read_outputs

SEED = int(os.environ.get("FUZZ_SEED", "20260909"))
LAYERS = "network,iam,storage,functions,api"  # the request path; monitoring is not on it
BODY_LIMIT = 64 * 1024  # lambda_src/tasks_core/config.py MAX_BODY_BYTES
ANSWER_TIMEOUT = 35  # seconds: more than API Gateway's 29 s, so a hang is told from a slow answer
GATEWAY_LIMIT = 10 * 1024 * 1024  # API Gateway's payload limit, tools/local_api.py MAX_REQUEST_BYTES
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ERROR_CODES = {
    400: {"bad_request", "validation_error"},
    404: {"not_found"},
    405: {"method_not_allowed"},
    409: {"conflict"},
    413: {"payload_too_large"},
}
GATEWAY_ERRORS = {  # API Gateway's own answers, in its own {"message": ...} shape
    400: ("Bad Request",),
    403: ("Forbidden", "Missing Authentication Token"),
    413: ("Request Too Long",),
}
TASK_FIELDS = ("id", "title", "description", "status", "due_date", "created_at", "updated_at", "version")
UNICODE_PIECES = [
    "\x00",  # NUL
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u200b",  # zero-width space
    "\ufeff",  # byte order mark
    "\uffff",  # a noncharacter
    "\U0010ffff",  # the last code point
    "\U0001f600",  # an emoji
    "\U0001f469\u200d\U0001f469\u200d\U0001f467",  # a ZWJ sequence: 5 code points
    "e\u0301",  # a combining accent
    "مرحبا",
    "שלום",
    "任务",
    "\t\n\r",
    "'\"\\/<script>",
]
CONTENT_TYPES = [
    None,
    "text/plain",
    "application/xml",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "image/png",
    "*/*",
    "application/json" + ";x" * 200,
]


@dataclass
class Case:
    category: str
    method: str
    path: str  # as sent: with the stage, percent-encoded, with any query string
    expected: frozenset[int]
    body: bytes = b""
    headers: list[tuple[str, str | bytes]] = field(default_factory=list)
    key: str | None = ""  # "" sends the right key, None none, anything else that value
    mutation: str = ""  # what a 2xx does to the table: create, replace, delete
    idempotency_key: str | None = None
    framed: bool = False  # the case sets its own Content-Length / Transfer-Encoding

    def describe(self) -> str:
        body = f"{self.body[:160]!r} ({len(self.body)} B)"
        headers = [(name, value[:60]) for name, value in self.headers]
        return f"{self.category}: {self.method} {self.path[:160]} key={self.key!r:.20} headers={headers} body={body}"


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    raw: bytes

    def json(self):
        return json.loads(self.raw)


def statuses(*codes: int) -> frozenset[int]:
    return frozenset(codes)


def dumps(value, ascii_only: bool = False) -> bytes:
    """JSON bytes; lone surrogates come out escaped (ascii_only) or as raw CESU-8 bytes (not UTF-8)."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def is_valid_text(value: str, maximum: int, minimum: int = 0) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return minimum <= len(value) <= maximum


def forge_token(table_name: str, payload: bytes) -> str:
    """A next_token signed with the key lambda_src/tasks_core/pagination.py derives from the table name."""
    key = hashlib.sha256(b"tasks-api/next-token/" + table_name.encode()).digest()
    signature = hmac.new(key, payload, hashlib.sha256).digest()[:16]

    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{encode(payload)}.{encode(signature)}"


class Fuzzer:
    """Seeded cases, built one at a time against the model of the table (valid updates need current versions)."""

    def __init__(self, rng: random.Random, stage: str, table_name: str, model: dict[str, dict]):
        self.rng = rng
        self.stage = stage
        self.table_name = table_name
        self.model = model  # task id -> task, as the table holds it
        self.idempotency: dict[str, bytes] = {}  # key used validly -> its body
        self.real_token: str | None = None

    # Building blocks -------------------------------------------------------------------------------------------

    def url(self, path: str, query: str = "") -> str:
        return f"/{self.stage}{path}" + (f"?{query}" if query else "")

    def existing(self) -> str:
        return self.rng.choice(list(self.model)) if self.model else str(uuid.uuid4())

    def absent(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def title(self) -> str:
        return "".join(self.rng.choice("abcdefghij klmnop") for _ in range(self.rng.randint(1, 30))).strip() or "t"

    def fields(self) -> dict:
        body = {"title": self.title()}
        if self.rng.random() < 0.5:
            body["description"] = self.title()
        if self.rng.random() < 0.5:
            body["status"] = self.rng.choice(["todo", "in_progress", "done"])
        if self.rng.random() < 0.3:
            body["due_date"] = self.rng.choice(["2026-12-31", "2024-02-29", None])
        return body

    def replace_body(self, task_id: str, **changes) -> dict:
        task = self.model.get(task_id) or {"version": 1}
        return {**self.fields(), "version": task["version"], **changes}

    def text(self, length: int) -> str:
        alphabet = self.rng.choice(["a", "é", "\U0001f600", "任", "\x00"])
        return alphabet * length

    def create(self, category: str, body: bytes, expected: frozenset[int], **extra) -> Case:
        mutation = "create" if expected & {201} else ""
        return Case(category, "POST", self.url("/tasks"), expected, body, mutation=mutation, **extra)

    def replace(self, category: str, task_id: str, body: bytes, expected: frozenset[int], **extra) -> Case:
        mutation = "replace" if expected & {200} else ""
        return Case(category, "PUT", self.url(f"/tasks/{task_id}"), expected, body, mutation=mutation, **extra)

    def write(self, category: str, body: bytes, expected: frozenset[int]) -> Case:
        """The same hostile body against POST /tasks or PUT on an existing task."""
        if self.rng.random() < 0.5 or not self.model:
            return self.create(category, body, expected)
        return self.replace(category, self.existing(), body, expected)

    # Categories ------------------------------------------------------------------------------------------------

    def broken_json(self) -> Case:
        valid = dumps({"title": self.title()})
        body = self.rng.choice(
            [
                b"",
                b"{",
                b"}",
                b'{"title": "a"',
                b'{"title": "a",}',
                b"{'title': 'a'}",
                b'{"title": "a"} trailing',
                b'{"title": "a"}{"title": "b"}',
                b'{"title": NaN}',
                b'{"title": Infinity}',
                b"null",
                b"[]",
                b'["title", "a"]',
                b'"a string"',
                b"42",
                b"true",
                b'\xef\xbb\xbf{"title": "a"}',  # a UTF-8 byte order mark
                b'{"title": "a\x00b"}',  # a raw control character in a string
                b'{"title": "\xc0\xaf"}',  # an overlong UTF-8 encoding
                b'{"title": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8
                b"\xff\xfe{\x00}\x00",
                b'{"title": "a", "title": }',
                b"{" * 3 + b"}" * 2,
                b"\x00" * 16,
                valid[: self.rng.randrange(len(valid))],  # truncated
                valid.replace(b":", b"=", 1),
                valid.replace(b'"', b"", 1),
                bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(1, 64))),
            ]
        )
        if body.startswith(b"{") and body.endswith(b"}") and self._parses_as_valid_create(body):
            return self.create("broken_json", body, statuses(201))
        return self.write("broken_json", body, statuses(400))

    @staticmethod
    def _parses_as_valid_create(body: bytes) -> bool:
        try:
            value = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return False
        return isinstance(value, dict) and isinstance(value.get("title"), str) and set(value) == {"title"}

    def wrong_types(self) -> Case:
        bad = {
            "title": [None, 1, 1.5, True, [], {}, ["a"], {"a": 1}, ""],
            "description": [None, 1, True, [], {"a": "b"}],
            "status": ["", "TODO", "Done", "closed", "in-progress", "todo ", 1, None, [], {"todo": 1}],
            "due_date": [
                "2024-13-01",
                "2024-02-30",
                "2023-02-29",
                "24-01-01",
                "2024/01/01",
                "0000-01-01",
                "2024-01-01T00:00:00Z",
                "\uff12\uff10\uff12\uff14-01-01",
                20240101,
                "",
                True,
                [],
            ],
        }
        kind = self.rng.choice(["field", "field", "unknown", "version", "id"])
        if kind == "field" or not self.model:
            name = self.rng.choice(list(bad))
            value = self.rng.choice(bad[name])
            if self.rng.random() < 0.5 or not self.model:
                return self.create("wrong_types", dumps({**self.fields(), name: value}), statuses(400))
            task_id = self.existing()
            body = dumps(self.replace_body(task_id, **{name: value}))
            return self.replace("wrong_types", task_id, body, statuses(400))
        if kind == "unknown":
            extra = self.rng.choice(["owner", "__proto__", "constructor", "id", "version", "created_at", "", "tItle"])
            body = {**self.fields(), extra: self.rng.choice(["x", 1, None, {}, self.absent()])}
            return self.create("wrong_types", dumps(body), statuses(400))
        task_id = self.existing()
        if kind == "version":
            version = self.rng.choice(["1", 1.0, 1.5, True, False, 0, -1, 2**53 + 1, 10**400, [1], None, "", {}])
            body = self.replace_body(task_id, version=version)
            if self.rng.random() < 0.2:
                body.pop("version")
            return self.replace("wrong_types", task_id, dumps(body), statuses(400))
        other = self.rng.choice([self.absent(), 1, None, "", task_id + " ", task_id.upper() + "x"])
        return self.replace("wrong_types", task_id, dumps(self.replace_body(task_id, id=other)), statuses(400))

    def huge_strings(self) -> Case:
        length = self.rng.choice([201, 256, 1000, 2001, 10_000, 16_000, 40_000, 70_000, 200_000])
        name = self.rng.choice(["title", "description", "status", "due_date", "unknown"])
        value = self.text(length)
        body = {**self.fields(), **({name: value} if name != "unknown" else {value[:30_000]: 1})}
        if name == "description" and length <= 2000:
            body["description"] = self.text(2001)
        raw = dumps(body, ascii_only=self.rng.random() < 0.3)
        if name != "unknown" or self.rng.random() < 0.5:
            expected = statuses(413) if len(raw) > BODY_LIMIT else statuses(400)
            return self.write("huge_strings", raw, expected)
        # a huge Idempotency-Key header on an otherwise valid create: refused before any write
        header = ("Idempotency-Key", "k" * self.rng.choice([129, 1000, 8000]))
        return self.create("huge_strings", dumps(self.fields()), statuses(400), headers=[header])

    def deep_nesting(self) -> Case:
        depth = self.rng.choice([50, 500, 1000, 3000, 10_000, 30_000, 40_000])
        opener, closer = self.rng.choice([("[", "]"), ('{"a":', "}")])
        nested = opener * depth + "1" + closer * depth
        shape = self.rng.choice(["bare", "title", "description", "unclosed"])
        text = {
            "bare": nested,
            "title": '{"title": ' + nested + "}",
            "description": '{"title": "t", "description": ' + nested + "}",
            "unclosed": '{"title": ' + opener * depth,
        }[shape]
        raw = text.encode()
        return self.write("deep_nesting", raw, statuses(413) if len(raw) > BODY_LIMIT else statuses(400))

    def unicode(self) -> Case:
        pieces = self.rng.choices(UNICODE_PIECES, k=self.rng.randint(1, 8))
        title = "".join(pieces)
        kind = self.rng.choice(["title", "title", "overlong", "surrogate", "surrogate", "cesu", "header", "put"])
        if kind == "overlong":
            title = self.rng.choice(["\U0001f600", "e\u0301", "任", "\u202e"]) * self.rng.choice([100, 101, 200, 201])
        if kind == "surrogate":
            lone = self.rng.choice(["\ud800", "\udc00", "\udbff", "\udc00\ud800"])
            name = self.rng.choice(["title", "description", "status", "due_date", "key"])
            body = {"title": title}
            if name == "key":
                body[lone] = 1
            else:
                body[name] = title + lone if name in ("title", "description") else lone
            return self.write("unicode", dumps(body, ascii_only=True), statuses(400))
        if kind == "cesu":
            raw = dumps({"title": title + "\ud83d"})  # a raw surrogate: not UTF-8
            return self.write("unicode", raw, statuses(400))
        if kind == "header":
            clean = title.replace("\r", "").replace("\n", "")  # no header injection
            header = ("Idempotency-Key", ("\u00e9" + clean).encode("utf-8"))  # non-ASCII bytes: not printable
            return self.create("unicode", dumps({"title": "t"}), statuses(400), headers=[header])
        body = {"title": title, "description": "".join(reversed(pieces))}
        valid = is_valid_text(title, 200, 1) and is_valid_text(body["description"], 2000)
        raw = dumps(body, ascii_only=self.rng.random() < 0.5)
        if kind == "put" and self.model:
            task_id = self.existing()
            raw = dumps({**body, "version": self.model[task_id]["version"]}, ascii_only=self.rng.random() < 0.5)
            return self.replace("unicode", task_id, raw, statuses(200) if valid else statuses(400))
        return self.create("unicode", raw, statuses(201) if valid else statuses(400))

    def invalid_ids(self) -> Case:
        real = self.existing()
        segment = self.rng.choice(
            [
                "not-a-uuid",
                real.replace("-", ""),
                "{" + real + "}",
                real + "x",
                real[:-1],
                real + "%0A",
                "%20" + real,
                real.replace("a", "g", 1) if "a" in real else "g" + real[1:],
                quote(real.replace("1", "\u0661", 1) if "1" in real else "\u0661" + real[1:]),
                "..",
                "%2e%2e",
                "%00",
                "%ff",
                "%F0%9F%98%80",
                "%2Ftasks",
                "a%2Fb",
                "'%20OR%201=1%20--",
                "null",
                "0",
                "-1",
                "%25",
                "x" * self.rng.choice([37, 1000, 4000]),
                self.absent(),
                self.absent().upper(),
                real.upper(),
                quote("é" * 36),
            ]
        )
        decoded = unquote(segment)
        method = self.rng.choice(["GET", "GET", "PUT", "DELETE"])
        path = f"/tasks/{segment}"
        if self.rng.random() < 0.1:
            return Case("invalid_ids", method, self.url(path + "/extra"), statuses(403))
        if not UUID.fullmatch(decoded):
            expected = statuses(400)
        elif decoded.lower() in self.model:
            expected = {"GET": statuses(200), "PUT": statuses(400), "DELETE": statuses(204)}[method]
        else:
            expected = statuses(404)
        if method == "DELETE" and expected == statuses(204):
            method, expected = "GET", statuses(200)  # deletes are the valid category's
        body = b""
        if method == "PUT":
            task_id = decoded.lower()
            version = self.model[task_id]["version"] if task_id in self.model else 1
            body = dumps({**self.fields(), "version": version + (1 if task_id in self.model else 0)})
            if task_id in self.model:
                expected = statuses(409)  # a stale version: refused
        return Case("invalid_ids", method, self.url(path), expected, body)

    def next_token(self) -> Case:
        token = self.real_token or forge_token(self.table_name, b'{"id":"x"}')
        payload_part, signature_part = token.split(".")
        position = self.rng.randrange(len(payload_part) - 1)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        flipped = self.rng.choice(alphabet.replace(payload_part[position], ""))
        bad = self.rng.choice(
            [
                "",
                ".",
                "..",
                "garbage",
                "a.b",
                "a.b.c",
                token + ".",
                token + "x",
                token[:-3],
                "." + signature_part,
                payload_part + ".",
                payload_part[:position] + flipped + payload_part[position + 1 :] + "." + signature_part,
                signature_part + "." + payload_part,
                token.replace(".", "%2E"),
                "é" + token,
                "\x00" + token,
                token + " ",
                "=" * 8 + "." + "=" * 8,
                "x" * 1025,
                base64.urlsafe_b64encode(os.urandom(self.rng.randint(1, 60))).decode() + "." + signature_part,
                forge_token("another-table", b'{"id":"' + self.existing().encode() + b'"}'),
                forge_token(self.table_name, b"not json"),
                forge_token(self.table_name, b"[1, 2]"),
                forge_token(self.table_name, b'{"id": ""}'),
                forge_token(self.table_name, b'{"id": 7}'),
                forge_token(self.table_name, b'{"id": null}'),
                forge_token(self.table_name, b"\xff\xfe"),
                forge_token(self.table_name, b'{"id": "\\ud800"}'),
                forge_token(self.table_name, b'{"id": "' + b"x" * 2100 + b'"}'),
            ]
        )
        query = "next_token=" + quote(bad, safe="")
        if self.rng.random() < 0.3:
            query = f"limit={self.rng.randint(1, 5)}&" + query
        return Case("next_token", "GET", self.url("/tasks", query), statuses(400))

    def bad_limit(self) -> Case:
        value = self.rng.choice(
            [
                "0",
                "-1",
                "101",
                "1000",
                "1e2",
                "abc",
                "",
                " 5",
                "5 ",
                "\u0661",
                "99999999999999999999",
                "1.5",
                "0x10",
                "+5",
                "005",
                "100",
                "1",
                "%00",
                "5%00",
                "null",
                "[]",
                str(self.rng.randint(-(10**6), 10**6)),
            ]
        )
        query = "limit=" + (value if value.startswith("%") else quote(value, safe="+"))
        return Case("bad_limit", "GET", self.url("/tasks", query), self.list_expectation(query))

    def list_expectation(self, query: str) -> frozenset[int]:
        """What GET /tasks answers to ``query``, parsed as the front parses it (the last value of a name wins)."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        limit = params.get("limit")
        if limit is not None and not (re.fullmatch(r"[0-9]{1,3}", limit) and 1 <= int(limit) <= 100):
            return statuses(400)
        if "next_token" in params and params["next_token"] != self.real_token:
            return statuses(400)
        return statuses(200)

    def api_key(self, real_key: str) -> Case:
        key = self.rng.choice(
            [
                None,
                "wrong-key-" + "x" * 30,
                real_key[:-1],
                real_key + "x",
                real_key[::-1],
                real_key.swapcase(),
                real_key[:-1] + ("A" if real_key[-1] != "A" else "B"),
                "x" * 2000,
            ]
        )
        headers = []
        if key is None and self.rng.random() < 0.5:
            headers = [self.rng.choice([("Authorization", f"Bearer {real_key}"), ("X-Api-Token", real_key)])]
        target = self.rng.choice(["list", "create", "get", "put", "delete"])
        task_id = self.existing()
        case = {
            "list": Case("api_key", "GET", self.url("/tasks"), statuses(403)),
            "create": Case("api_key", "POST", self.url("/tasks"), statuses(403), dumps(self.fields())),
            "get": Case("api_key", "GET", self.url(f"/tasks/{task_id}"), statuses(403)),
            "put": Case("api_key", "PUT", self.url(f"/tasks/{task_id}"), statuses(403), dumps(self.fields())),
            "delete": Case("api_key", "DELETE", self.url(f"/tasks/{task_id}"), statuses(403)),
        }[target]
        if target == "list" and self.rng.random() < 0.3:
            case.path += "?x-api-key=" + quote(real_key)
        case.key, case.headers = key, headers
        return case

    def oversized(self) -> Case:
        kind = self.rng.choice(["padded", "padded", "description", "binary", "gateway"])
        if kind == "gateway":  # only the length is sent: the front refuses from the header
            length = str(GATEWAY_LIMIT + self.rng.choice([1, 1000, 10**9]))
            case = self.create("oversized", b"", statuses(413), headers=[("Content-Length", length)])
            case.framed = True
            return case
        size = self.rng.choice([BODY_LIMIT + 1, BODY_LIMIT + 100, 100_000, 1_000_000, 3_000_000])
        if kind == "padded":  # valid JSON, but too large: must not be written
            core = dumps(self.fields())
            raw = core[:-1] + b" " * (size - len(core)) + b"}"
        elif kind == "description":
            raw = dumps({"title": "t", "description": "d" * size})
        else:  # not UTF-8: base64 in the event
            raw = b"\xff" * size
        return self.write("oversized", raw, statuses(413))

    def wrong_methods(self) -> Case:
        task_id = self.existing()
        method, path = self.rng.choice(
            [
                ("PATCH", "/tasks"),
                ("PATCH", f"/tasks/{task_id}"),
                ("HEAD", "/tasks"),
                ("HEAD", f"/tasks/{task_id}"),
                ("OPTIONS", "/tasks"),
                ("OPTIONS", f"/tasks/{task_id}"),
                ("DELETE", "/tasks"),
                ("PUT", "/tasks"),
                ("POST", f"/tasks/{task_id}"),
                ("GET", "/"),
                ("GET", ""),
                ("GET", "/task"),
                ("GET", "/TASKS"),
                ("GET", f"/tasks/{task_id}/{task_id}"),
                ("POST", "/"),
            ]
        )
        body = dumps(self.fields()) if method in ("PATCH", "PUT", "POST") else b""
        case = Case("wrong_methods", method, self.url(path), statuses(403), body)
        if self.rng.random() < 0.2:
            case.path = self.rng.choice(["/prod", "/LOCAL", "/", "/%2e%2e"]) + "/tasks"
        return case

    def content_types(self) -> Case:
        content_type = self.rng.choice(CONTENT_TYPES)
        headers = [("Content-Type", content_type)] if content_type else []
        kind = self.rng.choice(["json", "json", "form", "xml", "utf16"])
        if kind == "json":
            return self.create("content_types", dumps(self.fields()), statuses(201), headers=headers)
        raw = {
            "form": b"title=a&status=todo",
            "xml": b"<task><title>a</title></task>",
            "utf16": '{"title": "a"}'.encode(self.rng.choice(["utf-16", "utf-16-le", "utf-32"])),
        }[kind]
        return (
            self.write("content_types", raw, statuses(400))
            if not headers
            else self.create("content_types", raw, statuses(400), headers=headers)
        )

    def odd_queries(self) -> Case:
        token = quote(self.real_token or "", safe="")
        query = self.rng.choice(
            [
                "",
                "&&&",
                "=",
                "==",
                "=1",
                "limit",
                "limit=",
                "limit=5&limit=500",
                "limit=500&limit=5",
                "%zz=1",
                "limit=%35",
                "limit=5;next_token=x",
                "a=b&" * 500,
                "next_token",
                f"next_token={token}",
                f"next_token={token}&next_token=x",
                f"next_token=x&next_token={token}",
                "%C3%A9=1&limit=2",
                "limit=2&%00=%00",
                "LIMIT=abc",
                "limit[]=5",
                "limit=5&limit",
                "q=" + "x" * 6000,
                "filter=" + quote("' OR 1=1"),
                "limit=%F0%9F%98%80",
            ]
        )
        if self.rng.random() < 0.2 and self.model:
            task_id = self.existing()  # a query on a route that reads none
            return Case("odd_queries", "GET", self.url(f"/tasks/{task_id}", query), statuses(200))
        return Case("odd_queries", "GET", self.url("/tasks", query), self.list_expectation(query))

    def framing(self) -> Case:
        kind = self.rng.choice(["length", "length", "negative", "chunked-bad", "chunked"])
        if kind == "length":
            value = self.rng.choice(["abc", "1e3", "0x10", "5, 5", "", "1.5", "99999999999999999999999x"])
            case = self.create("framing", b"", statuses(400), headers=[("Content-Length", value)])
        elif kind == "negative":
            case = self.create("framing", b"", statuses(400), headers=[("Content-Length", "-5")])
        elif kind == "chunked-bad":
            raw = self.rng.choice([b"zz\r\nabc\r\n0\r\n\r\n", b"-1\r\n\r\n", b"0x5\r\nhello\r\n0\r\n\r\n"])
            case = self.create("framing", raw, statuses(400), headers=[("Transfer-Encoding", "chunked")])
        else:
            text = dumps(self.fields())
            raw = b"%x\r\n%s\r\n0\r\n\r\n" % (len(text), text)
            case = self.create("framing", raw, statuses(201), headers=[("Transfer-Encoding", "chunked")])
        case.framed = True
        return case

    def valid(self) -> Case:
        kind = self.rng.choice(["create", "create", "idempotent", "replay", "get", "list", "replace", "delete"])
        if kind == "create" or not self.model:
            return self.create("valid", dumps(self.fields()), statuses(201))
        if kind == "idempotent":
            key = f"fuzz-{self.rng.getrandbits(64):x}"
            body = dumps(self.fields())
            self.idempotency[key] = body
            return self.create("valid", body, statuses(201), headers=[("Idempotency-Key", key)], idempotency_key=key)
        if kind == "replay" and self.idempotency:
            key = self.rng.choice(list(self.idempotency))
            same = self.rng.random() < 0.6
            body = self.idempotency[key] if same else dumps(self.fields())
            expected = statuses(201) if same or body == self.idempotency[key] else statuses(409)
            case = self.create("valid", body, expected, headers=[("Idempotency-Key", key)], idempotency_key=key)
            case.mutation = ""  # a replay answers from the record: nothing new in the table
            return case
        task_id = self.existing()
        if kind == "get":
            return Case("valid", "GET", self.url(f"/tasks/{task_id}"), statuses(200))
        if kind == "list":
            return Case("valid", "GET", self.url("/tasks", f"limit={self.rng.randint(1, 100)}"), statuses(200))
        if kind == "delete":
            return Case("valid", "DELETE", self.url(f"/tasks/{task_id}"), statuses(204), mutation="delete")
        return self.replace("valid", task_id, dumps(self.replace_body(task_id)), statuses(200))


PLAN = {  # category -> requests
    "broken_json": 220,
    "wrong_types": 260,
    "huge_strings": 120,
    "deep_nesting": 100,
    "unicode": 260,
    "invalid_ids": 240,
    "next_token": 200,
    "bad_limit": 160,
    "api_key": 160,
    "oversized": 60,
    "wrong_methods": 120,
    "content_types": 100,
    "odd_queries": 120,
    "framing": 40,
    "valid": 140,
}


# The stack and the front ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(local_endpoint, tmp_path_factory):
    local_endpoint.reset()
    outputs_dir = tmp_path_factory.mktemp("outputs")
    run = converge_site(local_endpoint.url, outputs_dir, LAYERS)
    assert run.returncode == 0, run.describe()
    outputs = read_outputs(outputs_dir)
    parameter = outputs["api"]["api_key_parameter_name"]
    key = local_endpoint.client("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    front = Front(local_endpoint.url, tmp_path_factory.mktemp("front") / "front.log", "--api-id", outputs["api"]["id"])
    yield SimpleNamespace(
        endpoint=local_endpoint,
        front=front,
        key=key,
        stage=outputs["api"]["stage_name"],
        table=outputs["storage"]["table_name"],
    )
    front.stop()


def send(port: int, case: Case, real_key: str) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=ANSWER_TIMEOUT)
    try:
        connection.putrequest(case.method, case.path, skip_host=False, skip_accept_encoding=True)
        key = real_key if case.key == "" else case.key
        headers = [*case.headers, *([("x-api-key", key)] if key is not None else [])]
        for name, value in headers:
            connection.putheader(name, value)
        if not case.framed:
            connection.putheader("Content-Length", str(len(case.body)))
        connection.endheaders()
        if case.body:
            connection.send(case.body)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def scan(client, table: str) -> tuple[dict[str, dict], set[str]]:
    """The tasks (by id, as the API shows them) and the ids of the idempotency records."""
    tasks, records, start = {}, set(), None
    while True:
        page = client.scan(TableName=table, ConsistentRead=True, **({"ExclusiveStartKey": start} if start else {}))
        for item in page["Items"]:
            data = {name: int(v["N"]) if "N" in v else v.get("S") for name, v in item.items()}
            if "record_type" in item:
                records.add(data["id"])
            else:
                tasks[data["id"]] = {name: data.get(name) for name in TASK_FIELDS}
        start = page.get("LastEvaluatedKey")
        if not start:
            return tasks, records


def problems_of(case: Case, reply: Reply) -> list[str]:
    found = []
    if reply.status >= 500:
        found.append(f"{reply.status} (a handler crash or a front fault)")
    if reply.status not in case.expected:
        found.append(f"status {reply.status}, expected {sorted(case.expected)}")
    if reply.status < 400 or case.method == "HEAD":
        return found
    request_id = reply.headers.get("x-amzn-RequestId")
    try:
        body = reply.json()
    except ValueError:
        return [*found, f"error body is not JSON: {reply.raw[:200]!r}"]
    if reply.headers.get("Content-Type") != "application/json":
        found.append(f"error Content-Type {reply.headers.get('Content-Type')!r}")
    if reply.headers.get("X-Request-Id") is None:  # API Gateway's own answer: its {"message": ...} shape
        allowed = GATEWAY_ERRORS.get(reply.status, ())
        if set(body) != {"message"} or body["message"] not in allowed or not request_id:
            found.append(f"gateway answer {reply.status} {body!r}")
        return found
    error = body.get("error") if isinstance(body, dict) and set(body) == {"error"} else None
    if not isinstance(error, dict) or set(error) != {"code", "message", "request_id"}:
        return [*found, f"not the error envelope: {body!r:.300}"]
    if error["code"] not in ERROR_CODES.get(reply.status, ()):
        found.append(f"code {error['code']!r} with status {reply.status}")
    if not isinstance(error["message"], str) or not error["message"]:
        found.append("empty error message")
    if error["request_id"] != request_id or reply.headers.get("X-Request-Id") != request_id:
        found.append(f"request_id {error['request_id']!r} is not the request's {request_id!r}")
    return found


def apply(model: dict[str, dict], records: set[str], case: Case, reply: Reply) -> None:
    """Follow the table: what a valid case's 2xx answer did."""
    if reply.status >= 300 or not case.mutation:
        return
    if case.mutation == "delete":
        model.pop(case.path.rsplit("/", 1)[-1], None)
        return
    task = reply.json()
    model[task["id"]] = task
    if case.mutation == "create" and case.idempotency_key:
        records.add("idempotency#" + case.idempotency_key)


def test_hostile_requests_get_no_5xx_the_error_envelope_and_leave_the_table_alone(stack):
    rng = random.Random(SEED)
    dynamodb = stack.endpoint.client("dynamodb")
    model, records = scan(dynamodb, stack.table)
    before = (dict(model), set(records))
    fuzzer = Fuzzer(rng, stack.stage, stack.table, model)
    port, started = stack.front.port, time.perf_counter()

    def run(case: Case) -> Reply | None:
        try:
            reply = send(port, case, stack.key)
        except (OSError, http.client.HTTPException) as error:  # a timeout, a reset: the front hung or crashed
            histogram["no answer"] += 1
            by_category[case.category]["no answer"] += 1
            failures.append(f"no answer: {type(error).__name__}: {error}\n    {case.describe()}")
            return None
        by_category[case.category][reply.status] += 1
        histogram[reply.status] += 1
        problems = problems_of(case, reply)
        if problems:
            failures.append(f"{'; '.join(problems)}\n    {case.describe()}\n    answer: {reply.raw[:300]!r}")
        apply(model, records, case, reply)
        return reply

    by_category: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    histogram: collections.Counter = collections.Counter()  # status (or "no answer") -> requests
    failures: list[str] = []
    for _ in range(3):  # some tasks to aim at, and a real next_token (limit 1 of 3+ tasks)
        run(fuzzer.create("valid", dumps(fuzzer.fields()), statuses(201)))
    page = send(port, Case("valid", "GET", fuzzer.url("/tasks", "limit=1"), statuses(200)), stack.key)
    fuzzer.real_token = page.json()["next_token"]
    assert fuzzer.real_token, page.raw

    plan = [category for category, count in PLAN.items() for _ in range(count)]
    rng.shuffle(plan)
    for category in plan:
        case = fuzzer.api_key(stack.key) if category == "api_key" else getattr(fuzzer, category)()
        run(case)
    elapsed = time.perf_counter() - started

    tasks_after, records_after = scan(dynamodb, stack.table)
    sent = sum(histogram.values())
    figures = {
        "seed": SEED,
        "requests": sent,
        "seconds": round(elapsed, 1),
        "statuses": dict(sorted(histogram.items(), key=str)),
        "by_category": {name: dict(sorted(counts.items(), key=str)) for name, counts in sorted(by_category.items())},
        "tasks_before": len(before[0]),
        "tasks_after": len(tasks_after),
    }
    print(f"\nfuzz figures: {json.dumps(figures)}")
    header = f"FUZZ_SEED={SEED}: {len(failures)} of {sent} requests went wrong"
    assert not failures, header + ":\n" + "\n".join(failures[:40])
    assert sent >= 1000
    assert not [status for status in histogram if status == "no answer" or status >= 500], header
    assert tasks_after == model, f"FUZZ_SEED={SEED}: the table differs from the valid requests' effects"
    assert records_after == records, f"FUZZ_SEED={SEED}: idempotency records differ"
