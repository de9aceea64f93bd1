"""A longer Schemathesis run than CI's, against a live `atelier serve` on SQLite.

    python -m bench.fuzz [--examples 300] [--workers 1] [--roles admin user worker]

The served document is split by role; each part runs through `schemathesis run` (examples,
coverage, fuzzing and stateful phases) with a token of that role. Prints each run's cases,
time and verdict, then the report of every run that failed (a 5xx, an answer outside its
documented schema, headers or content type, an undocumented status), each failure with a curl
line to reproduce it. Exits 1 on any failure. tests/integration/test_fuzzing.py runs the same
with 25 examples.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx

from infrastructure.tokens import mint_token
from tests.support.builders import TEST_SECRET
from tests.support.fuzzing import fuzz
from tests.support.servers import atelier_server, run_cli


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="per operation and phase")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--roles", nargs="+", default=["admin", "user", "worker"], help="whose operations"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        env = {"DATA_DIR": str(Path(directory) / "var"), "AUTH_SECRET": TEST_SECRET}
        with atelier_server(env, workers=args.workers) as server:
            run_cli(env, "accounts", "open", "fuzzer", "--tokens", "100000")
            tokens = {
                role: mint_token(TEST_SECRET, name, role, 24 * 3600)
                for role, name in (("user", "fuzzer"), ("admin", "root"), ("worker", "w"))
            }
            document = httpx.get(f"{server.base_url}/openapi.json").json()
            runs = fuzz(
                server.base_url,
                tokens,
                document,
                args.examples,
                Path(directory),
                tuple(args.roles),
            )
            tracebacks = server.log.read_text().count("Traceback")
    for run in runs:
        verdict = "passed" if run.passed else "FAILED"
        print(
            f"{run.role:>6}: {run.tested}/{run.operations} operations, {run.cases} cases in "
            f"{run.seconds:.0f} s: {verdict}"
        )
    print(f"{tracebacks} tracebacks in the server log (2 shared cores, 8 sessions running)")
    for run in runs:
        if not run.passed:
            print(f"\n=== {run.role}\n{run.output}")
    return 0 if all(run.passed for run in runs) and not tracebacks else 1


if __name__ == "__main__":
    sys.exit(main())
