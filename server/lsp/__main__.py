"""``python -m server.lsp [--tcp HOST:PORT]``: the language server without the CLI."""

from __future__ import annotations

import argparse

from server.lsp.app import start


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m server.lsp", description=__doc__)
    parser.add_argument(
        "--tcp", type=_address, metavar="HOST:PORT", help="listen on TCP instead of stdio"
    )
    args = parser.parse_args(argv)
    start(args.tcp)


if __name__ == "__main__":
    main()
