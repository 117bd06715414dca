#!/usr/bin/env python3
"""Print (or return) a TCP port that is free on 127.0.0.1 right now."""

import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    print(free_port())
