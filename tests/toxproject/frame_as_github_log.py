"""Frame a captured tox log the way GitHub's job-log endpoint returns it.

GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs serves the job's log as
UTF-8 text that starts with a byte-order mark; every line carries an ISO-8601
timestamp with 7 fractional digits, steps open with ``##[group]Run <script>``
and the failing step ends with ``##[error]Process completed with exit code N.``
The tox output itself is passed through byte for byte (ANSI codes included).

Usage: python3 frame_as_github_log.py TOX_LOG [CANCEL_AFTER_LINES] > job.log

With CANCEL_AFTER_LINES, the tox output stops after that many lines and the
step ends the way GitHub ends a job that hit its timeout or was cancelled
(``##[error]The operation was canceled.``): the envs that had not reported a
result by then are the ones tox-triage must call not-run.
"""
import datetime
import re
import sys

START = datetime.datetime(2026, 11, 20, 10, 11, 12, 123456)


def main() -> None:
    tox_log = open(sys.argv[1], "rb").read()
    # The envs of tox's own summary become the -e list, as runtox.sh builds it
    # (`tox -l | grep ... | tr '\n' ','`, hence the trailing comma).
    names = [
        m.group(1).decode()
        for m in re.finditer(rb"^  ([A-Za-z0-9_.-]+): (?:OK|FAIL|SKIP)\b", tox_log, re.M)
    ]
    env_list = ",".join(names)
    out = sys.stdout.buffer
    t = START
    step = datetime.timedelta(microseconds=1234)

    def emit(line: bytes) -> None:
        nonlocal t
        stamp = t.strftime("%Y-%m-%dT%H:%M:%S.%f").encode() + b"0Z "
        out.write(stamp + line + b"\n")
        t += step

    out.write(b"\xef\xbb\xbf")
    for line in [
        b"##[group]Runner Image Provisioner",
        b"Hosted Compute Agent",
        b"Version: 20261105.431",
        b"##[endgroup]",
        b"##[group]Operating System",
        b"Ubuntu",
        b"22.04.5",
        b"LTS",
        b"##[endgroup]",
        b"##[group]Run actions/checkout@v4",
        b"with:",
        b"  repository: example/toxproject",
        b"##[endgroup]",
        b"Syncing repository: example/toxproject",
        b'##[group]Run ./scripts/runtox.sh "py3.1"',
        b'\x1b[36;1m./scripts/runtox.sh "py3.1"\x1b[0m',
        b"shell: /usr/bin/bash -e {0}",
        b"##[endgroup]",
        b"+ searchstring=py3.1",
        b"+ exec uv run tox -p auto -o -e " + env_list.encode() + b",",
    ]:
        emit(line)
    lines = tox_log.splitlines()
    cancel_after = int(sys.argv[2]) if len(sys.argv) > 2 else None
    for line in lines[:cancel_after]:
        emit(line)
    if cancel_after is not None:
        emit(b"##[error]The operation was canceled.")
    else:
        emit(b"##[error]Process completed with exit code 1.")
    emit(b"Post job cleanup.")
    emit(b"Cleaning up orphan processes")


if __name__ == "__main__":
    main()
