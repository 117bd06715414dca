"""A deterministic DEFLATE encoder (RFC 1951) in plain Python: the output is a function of the input only.

zlib's output is not: zlib, zlib-ng (Fedora's zlib-ng-compat, CPython 3.14 on Windows) and their versions
choose other matches and blocks, so the same file deflates to other bytes on another machine. Every choice
this encoder makes is fixed here, so ``compress(data)`` gives the same bytes under any Python and zlib;
any standard inflater (``zlib.decompress(raw, -15)``) reads them. Changing a constant or a rule below
changes the output, so the package hashes pinned by the tests change with it.

LZ77 (one pass, zlib's "lazy" strategy):

- candidates: every earlier position whose next 3 bytes equal the current 3 bytes (an exact dict key, no
  hash collisions), most recent first, within the 32 KiB window (distance <= 32768);
- at most ``MAX_CHAIN`` candidates per search; a match is ``MIN_MATCH`` (3) to ``MAX_MATCH`` (258) bytes;
  the longest wins, the nearest among equally long ones; the search stops at a match of ``NICE_MATCH``;
- lazy evaluation: a match shorter than ``LAZY_MATCH`` at position i is kept only when the match at i + 1
  is not longer; otherwise the byte at i goes out as a literal and the match at i + 1 is considered the
  same way, its search walking a quarter of ``MAX_CHAIN`` when the match at i has ``GOOD_MATCH`` bytes
  or more; every position inside an emitted match is added to the candidates.

Blocks: the tokens are cut into blocks of ``BLOCK_TOKENS`` tokens. Each block is written in the smallest
of its three forms, ties going to the first: dynamic Huffman (BTYPE=10), fixed Huffman (BTYPE=01), stored
(BTYPE=00, split at 65535 bytes, its byte-alignment padding counted at 7 bits). Dynamic code lengths are
optimal length-limited Huffman codes (package-merge, limit 15 for literals/lengths and distances, 7 for
the code length code), ties between equal weights broken by symbol number; a code with fewer than two used
symbols gets the lowest unused ones counted once (inflaters reject a one-symbol code; zlib does the same
for distances). Code lengths are run-length coded with symbols 16, 17 and 18, longest runs first.

Speed: about 30-60 ms for the 32 KB of ``lambda_src/``, about 2 s per MB of Python source (CPython 3.11
on a busy 2-core machine); the sizes are within 1 % of zlib's best level.
"""

from __future__ import annotations

MIN_MATCH = 3
MAX_MATCH = 258
WINDOW_SIZE = 32768
MAX_CHAIN = 128
NICE_MATCH = 258
LAZY_MATCH = 32
GOOD_MATCH = 8
BLOCK_TOKENS = 16384
MAX_STORED = 65535
MAX_CODE_LENGTH = 15
MAX_CODE_LENGTH_CODE_LENGTH = 7
END_OF_BLOCK = 256

# RFC 1951 3.2.5: length codes 257..285 and distance codes 0..29 with their extra bits.
_LENGTH_BASES = (3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115)
_LENGTH_BASES += (131, 163, 195, 227, 258)
_LENGTH_EXTRA = (0,) * 8 + (1,) * 4 + (2,) * 4 + (3,) * 4 + (4,) * 4 + (5,) * 4 + (0,)
_DISTANCE_BASES = (1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537)
_DISTANCE_BASES += (2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577)
_DISTANCE_EXTRA = (0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13)
# RFC 1951 3.2.7: the order in which the code length code lengths are sent.
_CODE_LENGTH_ORDER = (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15)


def _code_table(bases: tuple[int, ...], extras: tuple[int, ...], last: int) -> list[tuple[int, int, int]]:
    """``table[value]`` = (code index, extra bit count, extra bits value) for ``bases[0] <= value <= last``."""
    table = [(0, 0, 0)] * (last + 1)
    for index, (base, extra) in enumerate(zip(bases, extras, strict=True)):
        for value in range(base, min(base + (1 << extra), last + 1)):
            table[value] = (index, extra, value - base)
    return table


_LENGTH_CODES = _code_table(_LENGTH_BASES, _LENGTH_EXTRA, MAX_MATCH)
# 258 has its own code (285, no extra bits), although 284 with 31 extra bits would also reach it.
_LENGTH_CODES[MAX_MATCH] = (28, 0, 0)
_DISTANCE_CODES = _code_table(_DISTANCE_BASES, _DISTANCE_EXTRA, WINDOW_SIZE)

_FIXED_LITERAL_LENGTHS = [8] * 144 + [9] * 112 + [7] * 24 + [8] * 8
_FIXED_DISTANCE_LENGTHS = [5] * 30


def compress(data: bytes) -> bytes:
    """Raw DEFLATE stream of ``data`` (no zlib or gzip wrapper): ``zlib.decompress(result, -15) == data``."""
    data = bytes(data)
    tokens = _lz77(data)
    writer = _BitWriter()
    blocks = [tokens[start : start + BLOCK_TOKENS] for start in range(0, len(tokens), BLOCK_TOKENS)] or [[]]
    position = 0
    for number, block in enumerate(blocks):
        size = sum(1 if isinstance(token, int) else token[0] for token in block)
        _write_block(writer, block, data[position : position + size], number == len(blocks) - 1)
        position += size
    return writer.getvalue()


# A token is a literal byte (an int) or a match (length, distance).
Token = int | tuple[int, int]


def _lz77(data: bytes) -> list[Token]:
    size = len(data)
    if size < MIN_MATCH:
        return list(data)
    keys = [(a << 16) | (b << 8) | c for a, b, c in zip(data, data[1:], data[2:], strict=False)]
    last_key = len(keys)  # positions with 3 bytes ahead, the only ones that can start a match
    head: dict[int, int] = {}
    previous = [-1] * last_key

    def insert(position: int) -> None:
        if position < last_key:
            key = keys[position]
            previous[position] = head.get(key, -1)
            head[key] = position

    def longest_match(position: int, chain: int) -> tuple[int, int]:
        """(length, distance) of the longest match at ``position``, (0, 0) when none; then insert it."""
        if position >= last_key:
            return 0, 0
        candidate = head.get(keys[position], -1)
        limit = min(MAX_MATCH, size - position)
        lowest = max(position - WINDOW_SIZE, 0)
        # Every candidate matches 3 bytes (its key); one that can beat best_length matches at best_length.
        best_length = MIN_MATCH - 1
        best_distance = 0
        wanted = data[position + best_length]
        for _link in range(chain):
            if candidate < lowest:
                break
            if data[candidate + best_length] == wanted:
                length = _common_length(data, candidate, position, limit)
                if length > best_length:
                    best_length, best_distance = length, position - candidate
                    if length >= NICE_MATCH or length == limit:
                        break
                    wanted = data[position + length]
            candidate = previous[candidate]
        if best_distance == 0:
            best_length = 0
        insert(position)
        return best_length, best_distance

    tokens: list[Token] = []
    append = tokens.append
    position = 0
    pending: tuple[int, int] | None = None
    while position < size:
        length, distance = pending if pending is not None else longest_match(position, MAX_CHAIN)
        pending = None
        if length < MIN_MATCH:
            append(data[position])
            position += 1
            continue
        first_unsearched = position + 1
        if length < LAZY_MATCH and position + 1 < size:
            following = longest_match(position + 1, MAX_CHAIN >> 2 if length >= GOOD_MATCH else MAX_CHAIN)
            if following[0] > length:
                append(data[position])
                position += 1
                pending = following
                continue
            first_unsearched = position + 2
        append((length, distance))
        for inside in range(first_unsearched, position + length):
            insert(inside)
        position += length
    return tokens


def _common_length(data: bytes, earlier: int, position: int, limit: int) -> int:
    """How many bytes from ``earlier`` equal those from ``position``, at most ``limit`` (the match may overlap)."""
    length = MIN_MATCH  # the keys matched
    while (
        length + 16 <= limit
        and data[earlier + length : earlier + length + 16] == data[position + length : position + length + 16]
    ):
        length += 16
    while length < limit and data[earlier + length] == data[position + length]:
        length += 1
    return length


class _BitWriter:
    """Bits packed least significant first, as DEFLATE wants."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.bits = 0
        self.count = 0

    def write(self, value: int, count: int) -> None:
        self.bits |= value << self.count
        self.count += count
        if self.count >= 32:
            self.buffer += (self.bits & 0xFFFFFFFF).to_bytes(4, "little")
            self.bits >>= 32
            self.count -= 32

    def align(self) -> None:
        """Pad with zero bits to the next byte boundary."""
        self.write(0, -self.count % 8)
        whole = self.count // 8
        self.buffer += self.bits.to_bytes(whole, "little")
        self.bits = 0
        self.count = 0

    def getvalue(self) -> bytes:
        self.align()
        return bytes(self.buffer)


def _write_block(writer: _BitWriter, block: list[Token], raw: bytes, final: bool) -> None:
    literal_counts = [0] * 286
    distance_counts = [0] * 30
    for token in block:
        if isinstance(token, int):
            literal_counts[token] += 1
        else:
            literal_counts[257 + _LENGTH_CODES[token[0]][0]] += 1
            distance_counts[_DISTANCE_CODES[token[1]][0]] += 1
    literal_counts[END_OF_BLOCK] += 1

    dynamic_literals = _limited_lengths(_at_least_two(literal_counts), MAX_CODE_LENGTH)
    dynamic_distances = _limited_lengths(_at_least_two(distance_counts), MAX_CODE_LENGTH)
    header = _DynamicHeader(dynamic_literals, dynamic_distances)
    dynamic_bits = 3 + header.bits + _data_bits(literal_counts, distance_counts, dynamic_literals, dynamic_distances)
    fixed_bits = 3 + _data_bits(literal_counts, distance_counts, _FIXED_LITERAL_LENGTHS, _FIXED_DISTANCE_LENGTHS)
    stored_chunks = max(1, -(-len(raw) // MAX_STORED))
    stored_bits = stored_chunks * (3 + 7 + 32) + 8 * len(raw)  # padding counted at its largest

    if dynamic_bits <= fixed_bits and dynamic_bits <= stored_bits:
        writer.write(int(final) | (2 << 1), 3)
        header.write(writer)
        _write_tokens(writer, block, dynamic_literals, dynamic_distances)
    elif fixed_bits <= stored_bits:
        writer.write(int(final) | (1 << 1), 3)
        _write_tokens(writer, block, _FIXED_LITERAL_LENGTHS, _FIXED_DISTANCE_LENGTHS)
    else:
        _write_stored(writer, raw, final)


def _at_least_two(counts: list[int]) -> list[int]:
    """``counts`` with the first unused symbols counted once until two are used."""
    counts = list(counts)
    for symbol in range(len(counts)):
        if sum(1 for count in counts if count) >= 2:
            break
        if not counts[symbol]:
            counts[symbol] = 1
    return counts


def _data_bits(literal_counts, distance_counts, literal_lengths, distance_lengths) -> int:
    bits = 0
    for symbol, count in enumerate(literal_counts):
        if count:
            extra = _LENGTH_EXTRA[symbol - 257] if symbol > END_OF_BLOCK else 0
            bits += count * (literal_lengths[symbol] + extra)
    for symbol, count in enumerate(distance_counts):
        if count:
            bits += count * (distance_lengths[symbol] + _DISTANCE_EXTRA[symbol])
    return bits


def _write_stored(writer: _BitWriter, raw: bytes, final: bool) -> None:
    chunks = [raw[start : start + MAX_STORED] for start in range(0, len(raw), MAX_STORED)] or [b""]
    for number, chunk in enumerate(chunks):
        writer.write(int(final and number == len(chunks) - 1), 3)
        writer.align()
        writer.buffer += len(chunk).to_bytes(2, "little") + (len(chunk) ^ 0xFFFF).to_bytes(2, "little") + chunk


def _write_tokens(writer: _BitWriter, block: list[Token], literal_lengths, distance_lengths) -> None:
    literal_codes = _canonical_codes(literal_lengths)
    distance_codes = _canonical_codes(distance_lengths)
    write = writer.write
    for token in block:
        if isinstance(token, int):
            write(literal_codes[token], literal_lengths[token])
            continue
        length, distance = token
        code, extra, value = _LENGTH_CODES[length]
        write(literal_codes[257 + code], literal_lengths[257 + code])
        if extra:
            write(value, extra)
        code, extra, value = _DISTANCE_CODES[distance]
        write(distance_codes[code], distance_lengths[code])
        if extra:
            write(value, extra)
    write(literal_codes[END_OF_BLOCK], literal_lengths[END_OF_BLOCK])


def _canonical_codes(lengths: list[int]) -> list[int]:
    """RFC 1951 3.2.2 codes for ``lengths``, bit-reversed so they can be written least significant bit first."""
    length_counts = [0] * (max(lengths, default=0) + 1)
    for length in lengths:
        length_counts[length] += 1
    length_counts[0] = 0
    next_code = [0] * len(length_counts)
    code = 0
    for length in range(1, len(length_counts)):
        code = (code + length_counts[length - 1]) << 1
        next_code[length] = code
    codes = [0] * len(lengths)
    for symbol, length in enumerate(lengths):
        if length:
            code = next_code[length]
            next_code[length] += 1
            codes[symbol] = int(f"{code:0{length}b}"[::-1], 2)
    return codes


def _limited_lengths(counts: list[int], limit: int) -> list[int]:
    """Optimal code lengths of at most ``limit`` bits for the symbols with a count (package-merge).

    Symbols are sorted by (count, symbol); at equal weight a leaf sorts before a package (stable sort).
    A single used symbol gets length 1.
    """
    lengths = [0] * len(counts)
    leaves = sorted((count, symbol) for symbol, count in enumerate(counts) if count)
    if len(leaves) == 1:
        lengths[leaves[0][1]] = 1
    if len(leaves) <= 1:
        return lengths
    if len(leaves) > 1 << limit:
        raise ValueError(f"{len(leaves)} symbols do not fit in codes of {limit} bits")
    # An item is (weight, symbol, None) for a leaf or (weight, -1, (item, item)) for a package.
    leaf_items = [(count, symbol, None) for count, symbol in leaves]
    items = leaf_items
    for _level in range(limit - 1):
        packages = [(items[i][0] + items[i + 1][0], -1, (items[i], items[i + 1])) for i in range(0, len(items) - 1, 2)]
        items = sorted(leaf_items + packages, key=lambda item: item[0])
    stack = list(items[: 2 * len(leaves) - 2])
    while stack:
        _weight, symbol, children = stack.pop()
        if children is None:
            lengths[symbol] += 1
        else:
            stack.extend(children)
    return lengths


class _DynamicHeader:
    """HLIT, HDIST, HCLEN and the run-length coded code lengths of a dynamic block (RFC 1951 3.2.7)."""

    def __init__(self, literal_lengths: list[int], distance_lengths: list[int]) -> None:
        self.literal_count = max(257, _used_length(literal_lengths))
        self.distance_count = max(1, _used_length(distance_lengths))
        self.runs = _run_lengths(literal_lengths[: self.literal_count] + distance_lengths[: self.distance_count])
        counts = [0] * 19
        for symbol, _bits, _value in self.runs:
            counts[symbol] += 1
        self.code_lengths = _limited_lengths(_at_least_two(counts), MAX_CODE_LENGTH_CODE_LENGTH)
        self.code_length_count = max(4, _used_length([self.code_lengths[symbol] for symbol in _CODE_LENGTH_ORDER]))
        extra = {16: 2, 17: 3, 18: 7}
        self.bits = 5 + 5 + 4 + 3 * self.code_length_count
        self.bits += sum(self.code_lengths[symbol] + extra.get(symbol, 0) for symbol, _bits, _value in self.runs)

    def write(self, writer: _BitWriter) -> None:
        writer.write(self.literal_count - 257, 5)
        writer.write(self.distance_count - 1, 5)
        writer.write(self.code_length_count - 4, 4)
        for symbol in _CODE_LENGTH_ORDER[: self.code_length_count]:
            writer.write(self.code_lengths[symbol], 3)
        codes = _canonical_codes(self.code_lengths)
        for symbol, extra_bits, extra_value in self.runs:
            writer.write(codes[symbol], self.code_lengths[symbol])
            if extra_bits:
                writer.write(extra_value, extra_bits)


def _used_length(lengths: list[int]) -> int:
    """The number of entries up to the last non-zero one."""
    used = len(lengths)
    while used and not lengths[used - 1]:
        used -= 1
    return used


def _run_lengths(lengths: list[int]) -> list[tuple[int, int, int]]:
    """(symbol, extra bit count, extra value) coding ``lengths`` with 0-15 and the repeat codes 16, 17, 18."""
    runs = []
    index = 0
    while index < len(lengths):
        length = lengths[index]
        run = 1
        while index + run < len(lengths) and lengths[index + run] == length:
            run += 1
        index += run
        if length == 0:
            while run >= 11:
                step = min(run, 138)
                runs.append((18, 7, step - 11))
                run -= step
            if run >= 3:
                runs.append((17, 3, run - 3))
                run = 0
        else:
            runs.append((length, 0, 0))
            run -= 1
            while run >= 3:
                step = min(run, 6)
                runs.append((16, 2, step - 3))
                run -= step
        runs.extend([(length, 0, 0)] * run)
    return runs
