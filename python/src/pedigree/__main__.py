"""`python -m pedigree --version`: this library's version and the binary's it records through."""
from __future__ import annotations

import argparse
import subprocess
import sys

from . import __version__, _delivery


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pedigree", description="Lineage capture from inside Python code.")
    parser.add_argument("--version", action="store_true", help="print this library's version and the pedigree binary's")
    arguments = parser.parse_args(argv)
    if not arguments.version:
        parser.print_help()
        return 0
    print(f"pedigree (python) {__version__}")
    command = _delivery.binary()
    if command is None:
        print("pedigree binary: not found (put it on the PATH or set PEDIGREE_BIN)")
        return 1
    completed = subprocess.run([command, "--version"], capture_output=True, text=True, check=False)
    print(f"pedigree binary: {command} {completed.stdout.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
