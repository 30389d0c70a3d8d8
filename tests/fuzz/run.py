"""Runs one fuzz target with atheris: python -m tests.fuzz.run TARGET [libFuzzer options, e.g. -max_total_time=300].

Run it from a scratch directory: the seeds (the real fixtures of the target's families) are copied into a
corpus directory there, so a run never writes into tests/data, and libFuzzer ends the process with exit(),
so nothing is cleaned up afterwards. Exit status 0: nothing found; otherwise libFuzzer prints the input that
failed and writes it as crash-* in the current directory (turn it into a regression test).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import atheris

from tests.fuzz.targets import TARGETS

MAX_SEED = 256 * 1024  # larger fixtures slow every mutation down and add little


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: python -m tests.fuzz.run TARGET [libFuzzer options]; targets: {', '.join(TARGETS)}")
    target, seed_dirs = TARGETS[argv[1]]
    corpus = Path(tempfile.mkdtemp(prefix=f"corpus-{argv[1]}-", dir=Path.cwd()))
    for directory in seed_dirs:
        for seed in sorted(directory.rglob("*")):
            if seed.is_file() and seed.stat().st_size <= MAX_SEED:
                name = str(seed.relative_to(directory.parent)).replace("/", "_")
                if argv[1] == "walker":  # the walker's first byte picks the file name (the format hint)
                    (corpus / name).write_bytes(_name_byte(seed.name) + seed.read_bytes())
                else:
                    shutil.copyfile(seed, corpus / name)
    atheris.Setup([argv[0], *argv[2:], str(corpus)], target)
    atheris.Fuzz()


def _name_byte(name: str) -> bytes:
    lower = name.lower()
    for index, suffix in enumerate((".json", ".json.gz", ".zip", ".tar.gz", ".csv", ".xml")):
        if lower.endswith(suffix) and not (suffix == ".json" and lower.endswith(".gz")):
            return bytes([index])
    return b"\x00"


if __name__ == "__main__":
    main(sys.argv)
