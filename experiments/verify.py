"""``gridledger-verify RUN_DIR``: re-verify the ledger exported by a run.

Exit status: 0 if the ledger is valid, 1 if it is invalid, 2 if RUN_DIR is not
a ``gridledger-ledger/1`` run directory (or the arguments are wrong).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from chain.verify import NotARunDirectory, verify_run

PROG = "gridledger-verify"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Re-verify the blockchain ledger exported by a gridledger run.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run directory holding genesis.json")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the verdict line")
    parser.add_argument(
        "--max-problems",
        type=int,
        default=20,
        metavar="N",
        help="number of problems to list when the ledger is invalid (default: 20)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier CLI.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` if None.

    Returns:
        The exit status (0 valid, 1 invalid, 2 not a run directory).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.max_problems < 1:
        parser.error(f"--max-problems must be >= 1 (got {args.max_problems})")
    try:
        report = verify_run(args.run_dir, max_problems=args.max_problems)
    except NotARunDirectory as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        for chain_id, info in report.chains.items():
            print(
                f"chain {chain_id}: {info['blocks']} blocks, {info['transactions']} txs, "
                f"head {str(info['head_hash'])[:16]}"
            )
        if report.layout:
            details = ", ".join(
                f"{key} {value}" for key, value in report.layout.items() if key != "layout"
            )
            print(f"layout {report.layout['layout']}: {details}")
        if report.settlement:
            print(
                f"net settlement: {report.settlement['windows']} windows, "
                f"{report.settlement['net_transactions']} txs checked against trades.parquet"
            )
    if report.ok:
        print("ledger OK")
        return 0
    print(f"ledger INVALID ({report.n_problems} problems)")
    if not args.quiet:
        for problem in report.problems:
            print(f"  - {problem}")
        hidden = report.n_problems - len(report.problems)
        if hidden > 0:
            print(f"  ... and {hidden} more")
    return 1


if __name__ == "__main__":
    sys.exit(main())
