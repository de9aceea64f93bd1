"""A longer Schemathesis run than CI's, against a live `atelier serve` on SQLite.

    python -m bench.fuzz [--examples 500] [--workers 1]

Every operation, in positive and negative generation modes, each with a token of a role it
accepts (user, admin, worker); prints each operation's statuses seen, then every failure (a
5xx, an answer outside its documented schema or headers, an undocumented status) with a curl
line to reproduce it. Exits 1 on any failure. The CI test (tests/integration/test_fuzzing.py)
runs the same with 25 examples.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from infrastructure.tokens import mint_token
from tests.support.builders import TEST_SECRET
from tests.support.fuzzing import fuzz
from tests.support.servers import atelier_server, run_cli


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="per operation and mode")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        env = {"DATA_DIR": str(Path(directory) / "var"), "AUTH_SECRET": TEST_SECRET}
        with atelier_server(env, workers=args.workers) as server:
            run_cli(env, "accounts", "open", "fuzzer", "--tokens", "100000")
            tokens = {
                role: mint_token(TEST_SECRET, name, role, 24 * 3600)
                for role, name in (("user", "fuzzer"), ("admin", "root"), ("worker", "w"))
            }
            report = fuzz(server.base_url, tokens, args.examples, progress=print)
            tracebacks = server.log.read_text().count("Traceback")
    print(
        f"{report.cases} cases over {len(report.statuses)} operations in {report.seconds:.0f} s "
        f"({report.cases / report.seconds:.0f} cases/s); {len(report.failures)} failures; "
        f"{tracebacks} tracebacks in the server log"
    )
    for failure in report.failures:
        print("\n" + failure)
    return 1 if report.failures or tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
