#!/usr/bin/env python3
"""Compare a tool's counts with a generator's expected counts (used by run.sh).

usage: check_counts.py peer  EXPECTED.json PEER_STDOUT
       check_counts.py junit EXPECTED.json TOX_TRIAGE_REPORT.json
       check_counts.py log   EXPECTED.json TOX_TRIAGE_REPORT.json

Prints "ok", or what differs.  Always exits 0 (a mismatch is reported, not fatal).
"""

import json
import sys


def main(kind, expected_path, got_path):
    with open(expected_path) as f:
        exp = json.load(f)
    try:
        with open(got_path) as f:
            text = f.read()
        doc = json.loads(text.strip().splitlines()[-1] if kind == "peer" else text)
    except (OSError, ValueError, IndexError) as e:
        return f"unreadable output ({e})"
    if kind == "peer":
        want = {k: exp[k] for k in ("suites", "testcases", "failures", "errors", "skipped")}
        got = {k: doc.get(k) for k in want}
    elif kind == "junit":
        want = {"targets": exp["suites"], "failed targets": exp["failed_suites"],
                "tests": exp["testcases"], "failed": exp["failures"],
                "errors": exp["errors"], "skipped": exp["skipped"]}
        got = {"targets": doc["summary"]["targets"], "failed targets": doc["summary"]["failed"],
               "tests": 0, "failed": 0, "errors": 0, "skipped": 0}
        for t in doc["targets"]:
            tests = t.get("tests") or {}
            got["tests"] += tests.get("total", 0)
            got["failed"] += tests.get("failed", 0)
            got["errors"] += tests.get("errors", 0)
            got["skipped"] += tests.get("skipped", 0)
    elif kind == "log":
        want = {"targets": exp["envs"], "failed": exp["failed"],
                "passed": exp["passed"], "skipped": exp["skipped"],
                "failed tests": exp["failed_tests"]}
        s = doc["summary"]
        # Failing tests listed, and those counted but not listed (the
        # per-target limit and the memory budget). Where an env runs more
        # than once, a test that fails again is listed once: then the FAILED
        # lines are not the count to compare with.
        failed_tests = sum(len(t.get("failures") or []) + t.get("failures_omitted", 0)
                           for t in doc["targets"])
        got = {"targets": s["targets"], "failed": s["failed"],
               "passed": s["passed"], "skipped": s["skipped"],
               "failed tests": failed_tests}
        if exp.get("occurrences", exp["envs"]) != exp["envs"]:
            del want["failed tests"], got["failed tests"]
    else:
        return f"unknown kind {kind}"
    bad = [f"{k} {got[k]} (expected {want[k]})" for k in want if got[k] != want[k]]
    return "ok" if not bad else "MISMATCH: " + ", ".join(bad)


if __name__ == "__main__":
    print(main(*sys.argv[1:4]))
