"""`python -m tools.mutation [MODULE ...]`: mutation scores of the modules, each against its own tests.

Each module is mutated in one pytest process running only the test files that exercise it (TESTS below);
a mutant is killed when one of them fails (or the mutant hangs past the timeout). Prints a table of
killed/total per module, and writes each module's surviving mutants to .mutation/<module>.survivors.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# module -> the test files that exercise it (only these run for its mutants)
TESTS: dict[str, list[str]] = {
    "storage/clickhouse/spans.py": ["tests/test_span_merge.py", "tests/test_span_reads.py",
                                    "tests/test_ingest_formats.py"],
    "ingest/vellum.py": ["tests/test_vellum_adapter.py", "tests/test_vellum_usual_path.py",
                         "tests/test_ingest_formats.py"],
    "ingest/honeyhive.py": ["tests/test_honeyhive_adapter.py", "tests/test_ingest_formats.py"],
    "ingest/audit.py": ["tests/test_audit_adapter.py", "tests/test_ingest_formats.py"],
    "ingest/canonical.py": ["tests/test_canonical_adapter.py", "tests/test_ingest_formats.py",
                            "tests/test_ingest_guarantees.py"],
    "ingest/otlp.py": ["tests/test_otlp_adapter.py", "tests/test_otlp.py"],
    "graph/limits.py": ["tests/test_security.py", "tests/test_hardening.py"],
}  # fmt: skip
OUT = Path(".mutation")


def run_module(module: str, timeout: float, only: list[str] | None = None, start: int = 0) -> dict[str, object]:
    tests = only or [t for t in TESTS[module] if Path(t).exists()]
    OUT.mkdir(exist_ok=True)
    results = OUT / (module.replace("/", ".") + ".jsonl")
    # resuming at `start` keeps the results of the mutants before it (the module must not have changed there)
    kept = (
        [line for line in results.read_text().splitlines() if _before(line, start)]
        if start and results.exists()
        else []
    )
    results.write_text("".join(f"{line}\n" for line in kept))
    while True:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tools.mutation.plugin",
                   f"--mutate={module}", f"--mutate-out={results}", f"--mutate-from={start}",
                   f"--mutate-timeout={timeout}", *tests]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        records = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
        if any("baseline_failed" in r for r in records):
            return {"error": f"tests fail without mutation: {records[-1]['baseline_failed']}"}
        head = next((r for r in reversed(records) if "mutants" in r), None)
        if head is None:
            return {"error": f"pytest exited {done.returncode}: {(done.stdout + done.stderr)[-2000:]}"}
        finished = {r["index"] for r in records if "index" in r}
        started = [r["started"] for r in records if "started" in r]
        if started and started[-1] not in finished:  # the watchdog ended the process: a hang kills the mutant
            with results.open("a") as f:
                f.write(json.dumps({"index": started[-1], "killed": True, "by": ["timeout"]}) + "\n")
            finished.add(started[-1])
        start = max(finished, default=-1) + 1
        if start >= head["mutants"] or done.returncode not in (0, 3):
            break
    records = [json.loads(line) for line in results.read_text().splitlines()]
    outcomes = {r["index"]: r for r in records if "index" in r}
    survivors = [r for r in outcomes.values() if not r["killed"]]
    (OUT / (module.replace("/", ".") + ".survivors")).write_text(
        "".join(f"{module}:{r['line']}: {r['description']}\n" for r in sorted(survivors, key=lambda r: r["index"]))
    )
    return {"killed": len(outcomes) - len(survivors), "total": head["mutants"], "ran": len(outcomes),
            "tests": " ".join(tests)}  # fmt: skip


def _before(line: str, start: int) -> bool:
    record = json.loads(line)
    return "mutants" in record or record.get("index", record.get("started", start)) < start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", default=list(TESTS))
    parser.add_argument("--timeout", type=float, default=0.0, help="seconds per mutant (0: 5x the baseline run)")
    parser.add_argument("--tests", nargs="+", help="run these test files instead of the mapped ones")
    parser.add_argument(
        "--from",
        dest="start",
        type=int,
        default=0,
        help="resume at this mutant index, keeping the earlier results of a single module",
    )
    args = parser.parse_args()
    rows = []
    for module in args.modules:
        if module not in TESTS:
            parser.error(f"{module}: no tests mapped for it in tools/mutation/__main__.py")
        result = run_module(module, args.timeout, args.tests, args.start)
        rows.append((module, result))
        print(_row(module, result), flush=True)
    print("\n" + _table(rows))
    return 1 if any("error" in r for _, r in rows) else 0


def _row(module: str, result: dict[str, object]) -> str:
    if "error" in result:
        return f"{module}: ERROR {result['error']}"
    return f"{module}: {result['killed']}/{result['total']} killed (tests: {result['tests']})"


def _table(rows: list[tuple[str, dict[str, object]]]) -> str:
    lines = [f"{'module':<32} {'killed':>7} {'total':>6} {'score':>6}", "-" * 54]
    for module, r in rows:
        if "error" in r:
            lines.append(f"{module:<32} {'error':>7}")
            continue
        killed, total = int(r["killed"]), int(r["total"])  # type: ignore[call-overload]
        lines.append(f"{module:<32} {killed:>7} {total:>6} {100 * killed / max(total, 1):>5.0f}%")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
