"""Unit tests of the deterministic DEFLATE encoder: zlib inflates what it writes, and what it writes is fixed."""

import hashlib
import random
import zlib

import pytest

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import deflate

PYTHON_TEXT = b"".join(
    f"def handler_{n}(event, context):\n    return {{'statusCode': {200 + n % 5}, 'body': 'task {n * 7}'}}\n\n".encode()
    for n in range(200)
)


def hashed_bytes(count: int) -> bytes:
    """``count`` * 32 incompressible bytes that do not depend on the random module."""
    return b"".join(hashlib.sha256(number.to_bytes(4, "big")).digest() for number in range(count))


def random_bytes(size: int, seed: int = 10) -> bytes:
    return random.Random(seed).randbytes(size)


def block_type(raw: bytes) -> int:
    """BTYPE of the first block: 0 stored, 1 fixed Huffman, 2 dynamic Huffman."""
    return (raw[0] >> 1) & 3


def distances_and_lengths(data: bytes) -> tuple[list[int], list[int]]:
    matches = [token for token in deflate._lz77(data) if not isinstance(token, int)]
    return [distance for _length, distance in matches], [length for length, _distance in matches]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"x", id="one byte"),
        pytest.param(b"ab", id="two bytes"),
        pytest.param(b"abcabcabc", id="overlapping match"),
        pytest.param(PYTHON_TEXT, id="python source"),
        pytest.param(b"tasks " * 5000, id="repetitive"),
        pytest.param(random_bytes(5000), id="random"),
        pytest.param(random_bytes(70_000, seed=3), id="random over 64 KiB, stored blocks split"),
        pytest.param(PYTHON_TEXT * 8 + random_bytes(40_000) + PYTHON_TEXT, id="over 64 KiB, the window slides"),
        pytest.param(bytes(random.Random(4).choice(b"acgt") for _letter in range(20_000)), id="four letters"),
        pytest.param(b"\0" * 100_000, id="long run"),
    ],
)
def test_zlib_inflates_the_output_to_the_input(data):
    raw = deflate.compress(data)
    assert zlib.decompress(raw, -15) == data
    assert deflate.compress(data) == raw


def test_blocks_take_the_smallest_form():
    assert block_type(deflate.compress(b"")) == 1  # an empty fixed block: 3 + 7 bits
    assert deflate.compress(b"") == b"\x03\x00"
    assert block_type(deflate.compress(b"x")) == 1
    assert block_type(deflate.compress(PYTHON_TEXT)) == 2
    random_data = random_bytes(1000)
    assert block_type(deflate.compress(random_data)) == 0
    assert len(deflate.compress(random_data)) == 1000 + 5


def test_text_compresses_like_zlib_at_its_best():
    ours = len(deflate.compress(PYTHON_TEXT))
    best = zlib.compressobj(9, zlib.DEFLATED, -15)
    theirs = len(best.compress(PYTHON_TEXT) + best.flush())
    assert ours <= theirs * 1.05, (ours, theirs)


def test_a_long_run_uses_matches_of_258_bytes():
    distances, lengths = distances_and_lengths(b"a" * 10_000)
    assert max(lengths) == deflate.MAX_MATCH
    assert set(distances) == {1}
    assert sum(lengths) == 10_000 - 1


def test_matches_reach_back_32768_bytes_and_not_further():
    window = random_bytes(32_768)
    distances, lengths = distances_and_lengths(window + window[:300])
    assert (deflate.MAX_MATCH, 32_768) in zip(lengths, distances, strict=True)
    assert zlib.decompress(deflate.compress(window + window[:300]), -15) == window + window[:300]

    too_far = random_bytes(32_769)
    distances, _lengths = distances_and_lengths(too_far + too_far[:300])
    assert max(distances, default=0) <= 32_768
    assert 32_769 not in distances


def test_the_output_is_pinned():
    """The encoder's every choice is fixed: these digests are the same under any Python and zlib."""
    assert hashlib.sha256(deflate.compress(PYTHON_TEXT)).hexdigest() == (
        "a042ca33a651d0a353110cac5c8f13efc89f1123930bcd753182a6884120c764"
    )
    assert hashlib.sha256(deflate.compress(hashed_bytes(100) * 3 + PYTHON_TEXT[:5000])).hexdigest() == (
        "be7d671d3535821bbf2987694e469c092902b81904e5ce85c83d7461316573a9"
    )


def test_code_lengths_are_limited_to_15_bits_and_complete():
    fibonacci = [1, 1]
    while len(fibonacci) < 30:
        fibonacci.append(fibonacci[-1] + fibonacci[-2])
    lengths = deflate._limited_lengths(fibonacci, 15)
    assert max(lengths) == 15  # an unlimited Huffman code would give 29 bits
    assert sum(2.0**-length for length in lengths) == 1.0
    assert lengths == deflate._limited_lengths(fibonacci, 15)


def test_equal_counts_get_lengths_by_symbol_order():
    assert deflate._limited_lengths([5, 5, 5], 15) == [2, 2, 1]
    assert deflate._limited_lengths([0, 7, 0], 15) == [0, 1, 0]
