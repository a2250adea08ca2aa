"""Checks a tox-triage JSON report against tox's own --result-json.

    python3 check_report.py TOX_RESULT_JSON TOX_TRIAGE_REPORT_JSON

tox's result file is the independent truth: for every env tox ran, the report
must have the same status (pass / fail / skipped) and, for failures, the same
exit code. Exits non-zero and prints every difference otherwise.
"""
import json
import sys


def expected(result):
    if result.get("skipped"):
        return "skipped", None
    if result.get("success"):
        return "pass", 0
    return "fail", result.get("exit_code")


def main() -> int:
    tox = json.load(open(sys.argv[1]))["testenvs"]
    report = {t["name"]: t for t in json.load(open(sys.argv[2]))["targets"]}
    problems = []
    for env, data in tox.items():
        if env.startswith("."):
            continue
        want_status, want_code = expected(data["result"])
        got = report.get(env)
        if got is None:
            problems.append(f"{env}: missing from the report")
            continue
        if got["status"] != want_status:
            problems.append(f"{env}: status {got['status']!r}, tox says {want_status!r}")
        if want_status != "skipped" and got["exit_code"] != want_code:
            problems.append(f"{env}: exit_code {got['exit_code']!r}, tox says {want_code!r}")
    extra = set(report) - set(tox)
    for env in sorted(extra):
        problems.append(f"{env}: in the report but tox ran no such env")
    for p in problems:
        print("MISMATCH", p)
    print(f"checked {len(tox)} envs against tox's result json: {len(problems)} mismatch(es)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
