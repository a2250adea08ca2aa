#!/usr/bin/env python3
"""Generate a large, deterministic tox 4 log for benchmarks.

usage: gen_toxlog.py SIZE_MB OUT [--ansi] [--github] [--matrix N] [--seed N]

SIZE_MB is in MiB (1 MB = 1,048,576 bytes); the output is about that size
(measured after --ansi/--github are applied).  OUT may be "-" for stdout.

The log is what `tox run` (tox 4, sequential) prints for many environments
named like tox targets (py3.12-redis-v5.3.1, unique names):

  env: install_deps> python -I -m pip install ...
  env: freeze> python -m pip freeze --all
  env: commands[0]> python -m pytest ... --junitxml=...
  <pytest session: header, many progress lines, sometimes a warnings
   summary, FAILURES sections with tracebacks, the short test summary
   with `FAILED tests/...::test - msg` lines, the final `=== N failed ...` line>
  env: exit 1 (0.42 seconds) /cwd> python -m pytest ... pid=N      (failing envs)
  env: OK ✔ in 4.6 seconds   |   env: FAIL ✖ in 4.6 seconds

Some failing envs fail in install_deps (pip error), some exit with pytest
code 4/5/2, and ~1% are skipped (missing interpreter).  The log ends with tox's
summary block (`  env: OK (7.34=setup[6.86]+cmd[0.48] seconds)`,
`  env: FAIL code 1 (...)`, `  env: SKIP (0.23 seconds)`,
`  evaluation failed :( (N seconds)`).

--ansi   colours tox's own lines the way tox 4 does on a terminal (see
         tests/fixtures/tox4-colored/tox.log) and pytest's output the way
         `pytest --color=yes` does (one escape per progress character).
--github wraps the log like a GitHub Actions job log: a UTF-8 BOM, a
         `2026-11-20T10:11:12.1234567Z ` timestamp before every line, and
         ##[group] / ##[error] lines around the tox run.
--matrix N  a fixed matrix of N targets (sentry-python has about 840) run
         again and again: the log is one tox run of those N envs after
         another, each with its summary block, so that the number of
         distinct targets stays N however large the log.  Without it every
         env has a name of its own.  The expected counts are per distinct
         target, its most severe result over the runs (fail, then pass,
         then skip), as tox-triage reports it; `occurrences` and `runs` say
         how many envs and runs the log holds.

Output is streamed env by env (constant memory).  The expected counts are
printed to stdout as one JSON object: envs, failed, passed, skipped, lines,
bytes, failed_tests (FAILED lines in short test summaries).

Only the Python 3 standard library is used.
"""

import itertools
import json
import random
import sys

from genlib import version_stream

MB = 1024 * 1024
CWD = "/home/runner/work/sentry-python/sentry-python"

PYTHONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.14t"]
PYFULL = {"3.8": "3.8.18", "3.9": "3.9.19", "3.10": "3.10.14", "3.11": "3.11.7",
          "3.12": "3.12.1", "3.13": "3.13.0", "3.14": "3.14.0", "3.14t": "3.14.0"}
SUITES = {
    "redis": ("redis", ["5.3.1", "4.6.0", "6.0.0b2"]),
    "django": ("django", ["4.2.17", "5.1.4", "5.2a1"]),
    "openai-base": ("openai", ["1.58.1", "1.0.0rc1"]),
    "httpx2": ("httpx", ["0.28.1", "0.14"]),
    "flask": ("flask", ["3.1.0", "2.3.3"]),
    "celery": ("celery", ["5.4.0", "5.5.0rc3"]),
    "aiohttp": ("aiohttp", ["3.11.11", "4.0.0a1"]),
    "sqlalchemy": ("sqlalchemy", ["2.0.36", "1.4.54"]),
    "fastapi": ("fastapi", ["0.115.6", "0.79.1"]),
    "openai_agents": ("openai-agents", ["0.9.1"]),
    "anthropic": ("anthropic", ["0.42.0"]),
    "boto3": ("boto3", ["1.35.90"]),
    "grpc": ("grpcio", ["1.68.1"]),
    "huggingface_hub": ("huggingface_hub", ["0.27.0"]),
    "pymongo": ("pymongo", ["4.10.1", "3.13.0"]),
    "tornado": ("tornado", ["6.4.2"]),
    "common": (None, []),
    "gevent": ("gevent", []),
}
MODS = ["client", "integration", "spans", "breadcrumbs", "transactions",
        "async", "pipeline", "tracing", "basics", "middleware"]
WORDS = ["captures", "breadcrumb", "span", "context", "pipeline", "retry",
         "timeout", "headers", "status", "transaction", "sampling", "unicode",
         "streaming", "cluster", "scope", "propagation", "large", "origin"]

# ANSI helpers (empty strings when colour is off).
ESC = "\x1b["


class Style:
    def __init__(self, on):
        c = (lambda code: ESC + code + "m") if on else (lambda code: "")
        self.on = on
        self.bold, self.magenta, self.cyan, self.nobold = c("1"), c("35"), c("36"), c("22")
        self.dim, self.reset, self.red, self.green = c("2"), c("0"), c("31"), c("32")
        self.yellow, self.fgreset = c("33"), c("39")


def env_names(rng):
    suites = list(SUITES)
    streams = {s: version_stream(SUITES[s][1]) for s in suites}
    plain_done = set()
    while True:
        s = suites[rng.randrange(len(suites))]
        py = PYTHONS[rng.randrange(len(PYTHONS))]
        pkg, seeds = SUITES[s]
        if (pkg is None or not seeds) and (py, s) not in plain_done:
            plain_done.add((py, s))
            yield py, s, pkg, None, f"py{py}-{s}"
            continue
        if pkg is None:
            continue
        v = next(streams[s])
        yield py, s, pkg, v, f"py{py}-{s}-v{v}"


class Gen:
    def __init__(self, seed, ansi):
        self.rng = random.Random(seed)
        self.st = Style(ansi)
        self.counts = dict(envs=0, failed=0, passed=0, skipped=0,
                           failed_tests=0, lines=0, bytes=0)
        self.pid = 10000
        self.worst = {}  # env name -> most severe result: 3 fail, 2 pass, 1 skip
        self.summary = []  # (env, text) for the final block
        self.total_seconds = 0.0

    # --- tox lines -----------------------------------------------------
    def tox_cmd(self, env, step, cmd):
        s = self.st
        if s.on:
            return f"{s.bold}{s.magenta}{env}:{s.reset}{s.cyan} {step}{s.nobold}{s.dim}>{s.reset} {cmd}{s.reset}"
        return f"{env}: {step}> {cmd}"

    def tox_exit(self, env, code, secs, cmd):
        s = self.st
        self.pid += self.rng.randint(3, 120)
        text = f"exit {code} ({secs:.2f} seconds) {CWD}> {cmd} pid={self.pid}"
        if s.on:
            return f"{s.bold}{s.magenta}{env}:{s.reset}{s.red} {text}{s.reset}"
        return f"{env}: {text}"

    def tox_result(self, env, ok, secs):
        s = self.st
        if ok:
            return f"{s.green}{env}: OK ✔ in {secs:g} seconds{s.fgreset}"
        return f"{s.red}{env}: FAIL ✖ in {secs:g} seconds{s.fgreset}"

    # --- pytest output -------------------------------------------------
    def rule(self, title, fill="="):
        title = f" {title} "
        left = (80 - len(title)) // 2
        return fill * left + title + fill * (80 - left - len(title))

    def progress(self, path, results, done_before, total):
        """pytest's progress lines for one test file (wrapped at 80 columns)."""
        s = self.st
        out = []
        first = True
        i = 0
        while i < len(results) or first:
            prefix = path + " " if first else ""
            room = max(10, 80 - len(prefix) - 7)
            chunk = results[i:i + room]
            i += len(chunk)
            pct = (done_before + i) * 100 // total
            pad = " " * (80 - len(prefix) - len(chunk) - 7)
            if s.on:
                colored = "".join(
                    (s.red if ch in "FE" else s.yellow if ch in "sx" else s.green) + ch + s.reset
                    for ch in chunk)
                colr = s.red if "F" in results or "E" in results else s.green
                out.append(f"{prefix}{colored}{pad}{colr} [{pct:3d}%]{s.reset}")
            else:
                out.append(f"{prefix}{chunk}{pad} [{pct:3d}%]")
            first = False
        return out

    def failure_section(self, path, test, env, py):
        rng = self.rng
        s = self.st
        lines = [f"{s.red}{s.bold}{self.rule(test, '_')}{s.reset}", ""]
        for _ in range(rng.randint(0, 3)):
            lines += [
                f"    def {test.split('[')[0]}(sentry_init, capture_events):",
                "        sentry_init(integrations=[Integration()], traces_sample_rate=1.0)",
                "        events = capture_events()",
                f">       response = client.get(\"/message?x={rng.randint(1, 99)}&y=é\")",
                "",
                f"{path}:{rng.randint(10, 900)}: ",
                "_ " * 39 + "_",
                f"{CWD}/.tox/{env}/lib/python{py.rstrip('t')}/site-packages/pkg/client.py:{rng.randint(10, 2000)}: in get",
                "    return self.request(\"GET\", url, **kwargs)",
            ]
        exc = rng.choice(["AssertionError", "KeyError", "ConnectionRefusedError", "TypeError"])
        if exc == "AssertionError":
            msg = "assert 500 == 200"
            lines += [">       assert response.status_code == 200",
                      f"{s.red}{s.bold}E       AssertionError: assert 500 == 200{s.reset}",
                      f"{s.red}{s.bold}E        +  where 500 = <Response [500]>.status_code{s.reset}"]
        elif exc == "KeyError":
            msg = "'transaction'"
            lines += [">       assert event[\"transaction\"] == \"/message\"",
                      f"{s.red}{s.bold}E       KeyError: 'transaction'{s.reset}"]
        elif exc == "ConnectionRefusedError":
            msg = "[Errno 111] Connection refused"
            lines += [f"{s.red}{s.bold}E       ConnectionRefusedError: [Errno 111] Connection refused{s.reset}"]
        else:
            msg = "unsupported operand type(s) for +: 'int' and 'str'"
            lines += [f"{s.red}{s.bold}E       TypeError: {msg}{s.reset}"]
        lines += ["", f"{path}:{rng.randint(10, 900)}: {exc}"]
        if rng.random() < 0.3:
            lines += [self.rule("Captured stdout call", "-"),
                      "DEBUG sentry: sending event ✔ (café 🚀)",
                      "DEBUG sentry: <Response [500]> & retrying"]
        short = f"{exc}: {msg}"
        return lines, short

    def pytest_session(self, env, py, suite):
        """Returns (lines, exit_code)."""
        rng = self.rng
        s = self.st
        sdir = suite.replace("-", "_")
        nfiles = rng.randint(1, 12)
        files = [f"tests/integrations/{sdir}/test_{MODS[i % len(MODS)]}{'' if i < len(MODS) else i}.py"
                 for i in range(nfiles)]
        sizes = [rng.choice([rng.randint(1, 30), rng.randint(30, 400), rng.randint(400, 2500)])
                 for _ in files]
        total = sum(sizes)
        mode = rng.random()
        bad = mode < 0.25           # this env has failing tests
        # A failing env has a few failing tests, now and then dozens.
        nfail = rng.choice([1, 1, 2, 3, 5, rng.randint(10, 60)])
        fail_rate = nfail / total
        lines = [
            f"{s.bold}{self.rule('test session starts')}{s.reset}",
            f"platform linux -- Python {PYFULL[py]}, pytest-8.3.4, pluggy-1.5.0",
            f"cachedir: .tox/{env}/.pytest_cache",
            f"rootdir: {CWD}",
            "configfile: pytest.ini",
            "plugins: asyncio-0.24.0, forked-1.6.0, localserver-0.9.0, rerunfailures-11.1.2, cov-6.0.0",
        ]
        if mode > 0.985:   # pytest exit 4: missing path
            lines += [f"{s.bold}{s.red}ERROR: file or directory not found: tests/integrations/{sdir}/test_new.py{s.reset}", ""]
            lines.append(f"{s.yellow}{self.rule('no tests ran in 0.01s')}{s.reset}")
            return lines, 4
        if mode > 0.975:   # pytest exit 5: nothing collected
            lines += [f"{s.bold}collected 0 items{s.reset}", ""]
            lines.append(f"{s.yellow}{self.rule('no tests ran in 0.02s')}{s.reset}")
            return lines, 5
        lines += [f"{s.bold}collected {total} items{s.reset}", ""]
        fails = []
        npass = nskip = 0
        done = 0
        for path, n in zip(files, sizes):
            res = []
            for i in range(n):
                r = rng.random()
                if bad and r < fail_rate:
                    res.append("F")
                    fails.append((path, f"test_{WORDS[rng.randrange(len(WORDS))]}_{i}"))
                elif r < 0.05:
                    res.append("s")
                    nskip += 1
                else:
                    res.append(".")
                    npass += 1
            lines += self.progress(path, "".join(res), done, total)
            done += n
        if bad and not fails:
            res_path = files[0]
            fails.append((res_path, "test_always_fails"))
            npass -= 1
        lines.append("")
        if rng.random() < 0.2:
            lines += [f"{s.yellow}{self.rule('warnings summary')}{s.reset}",
                      f"{files[0]}::test_deprecated",
                      f"  {CWD}/.tox/{env}/lib/python{py.rstrip('t')}/site-packages/pkg/__init__.py:12: DeprecationWarning: 'old_api' is deprecated — use new_api()",
                      "    warnings.warn(",
                      "",
                      "-- Docs: https://docs.pytest.org/en/stable/how-to/capture-warnings.html"]
        shorts = []
        if fails:
            lines.append(f"{s.red}{self.rule('FAILURES')}{s.reset}")
            for path, test in fails:
                sec, short = self.failure_section(path, test, env, py)
                lines += sec
                shorts.append((path, test, short))
        lines.append(f"- generated xml file: {CWD}/.junitxml-{env} -")
        if shorts:
            lines.append(f"{s.cyan}{self.rule('short test summary info')}{s.reset}")
            for path, test, short in shorts:
                if len(short) > 40:
                    short = short[:37] + "..."
                lines.append(f"{s.red}FAILED{s.reset} {path}::{s.bold}{test}{s.reset} - {short}")
            self.counts["failed_tests"] += len(shorts)
        secs = rng.random() * 30
        parts = []
        if fails:
            parts.append(f"{len(fails)} failed")
        parts.append(f"{npass} passed")
        if nskip:
            parts.append(f"{nskip} skipped")
        colr = s.red if fails else (s.yellow if nskip else s.green)
        lines.append(f"{colr}{self.rule(', '.join(parts) + f' in {secs:.2f}s')}{s.reset}")
        return lines, (1 if fails else 0)

    def result(self, env, severity):
        self.worst[env] = max(self.worst.get(env, 0), severity)

    def env(self, py, suite, pkg, ver, env):
        rng = self.rng
        s = self.st
        self.counts["envs"] += 1
        setup = rng.uniform(2.0, 12.0)
        deps = (f"{pkg}=={ver} " if ver else (f"{pkg} " if pkg else "")) + "pytest==8.3.4 pytest-asyncio==0.24.0 -r requirements-testing.txt"
        if rng.random() < 0.01:
            self.counts["skipped"] += 1
            self.result(env, 1)
            line = f"skipped because could not find python interpreter with spec(s): python{py}"
            lines = [f"{s.bold}{s.magenta}{env}:{s.reset}{s.cyan} {line}{s.reset}" if s.on else f"{env}: {line}"]
            self.summary.append(f"  {env}: SKIP ({rng.uniform(0.1, 0.5):.2f} seconds)")
            return lines
        install = f"python -I -m pip install {deps}"
        lines = [self.tox_cmd(env, "install_deps", install)]
        if rng.random() < 0.01:   # dependency install fails
            lines += ["Looking in links: /opt/wheels",
                      f"ERROR: Could not find a version that satisfies the requirement {pkg or 'pytest'}=={ver or '9.9'} (from versions: none)",
                      f"ERROR: No matching distribution found for {pkg or 'pytest'}=={ver or '9.9'}"]
            lines.append(self.tox_exit(env, 1, setup - 0.5, install))
            lines.append(self.tox_result(env, False, round(setup, 2)))
            self.counts["failed"] += 1
            self.result(env, 3)
            self.summary.append(f"  {env}: FAIL code 1 ({setup:.2f} seconds)")
            self.total_seconds += setup
            return lines
        lines.append(self.tox_cmd(env, "freeze", "python -m pip freeze --all"))
        pytest_cmd = (f"python -m pytest -rfEs --durations=5 tests/integrations/{suite.replace('-', '_')} "
                      f"-o junit_suite_name={env} --junitxml={CWD}/.junitxml-{env}")
        lines.append(self.tox_cmd(env, "commands[0]", pytest_cmd))
        body, code = self.pytest_session(env, py, suite)
        lines += body
        cmd = rng.uniform(0.3, 40.0)
        total = setup + cmd
        self.total_seconds += total
        if code:
            lines.append(self.tox_exit(env, code, cmd - 0.01, pytest_cmd))
            lines.append(self.tox_result(env, False, round(total, 2)))
            self.counts["failed"] += 1
            self.result(env, 3)
            self.summary.append(f"  {env}: FAIL code {code} ({total:.2f}=setup[{setup:.2f}]+cmd[{cmd:.2f}] seconds)")
        else:
            lines.append(self.tox_result(env, True, round(total, 2)))
            self.counts["passed"] += 1
            self.result(env, 2)
            self.summary.append(f"  {env}: OK ({total:.2f}=setup[{setup:.2f}]+cmd[{cmd:.2f}] seconds)")
        return lines


class Writer:
    """Writes lines, adding the GitHub timestamp prefix when asked."""

    def __init__(self, out, github):
        self.out = out
        self.github = github
        self.bytes = 0
        self.lines = 0
        self.tick = 0  # units of 100 ns after 2026-11-20T10:11:12Z
        if github:
            self._write(b"\xef\xbb\xbf")

    def _write(self, b):
        self.out.write(b)
        self.bytes += len(b)

    def stamp(self):
        self.tick += 12340  # 1.234 ms per line, like tests/fixtures/github-job
        t = self.tick
        frac = t % 10_000_000
        secs = 12 + t // 10_000_000
        mins = 11 + secs // 60
        hours = 10 + mins // 60
        return f"2026-11-20T{hours % 24:02d}:{mins % 60:02d}:{secs % 60:02d}.{frac:07d}Z "

    def write_lines(self, lines):
        self.lines += len(lines)
        if self.github:
            text = "".join(self.stamp() + line + "\n" for line in lines)
        else:
            text = "\n".join(lines) + "\n"
        self._write(text.encode("utf-8"))


def option(args, flag, default):
    """Removes `flag VALUE` from args; returns VALUE as an int, or default."""
    if flag not in args:
        return default
    i = args.index(flag)
    value = int(args[i + 1])
    del args[i:i + 2]
    return value


GITHUB_STEP = ["##[group]Run ./scripts/runtox.sh \"py3\"",
               f"{ESC}36;1m./scripts/runtox.sh \"py3\"{ESC}0m",
               "shell: /usr/bin/bash -e {0}",
               "##[endgroup]"]


def end_run(gen, w, github, last):
    """tox's summary block for the run (uncoloured, see tests/fixtures/tox4-colored)."""
    final = list(gen.summary)
    failed = any("FAIL" in line for line in gen.summary)
    if failed:
        final.append(f"  evaluation failed :( ({gen.total_seconds:.2f} seconds)")
    else:
        final.append(f"  congratulations :) ({gen.total_seconds:.2f} seconds)")
    if github:
        if failed:
            final.append("##[error]Process completed with exit code 1.")
        if last:
            final.append("Post job cleanup.")
    w.write_lines(final)
    gen.summary = []
    gen.total_seconds = 0.0


def main(argv):
    args = list(argv[1:])
    ansi = "--ansi" in args
    github = "--github" in args
    args = [a for a in args if a not in ("--ansi", "--github")]
    seed = option(args, "--seed", 20261120)
    matrix = option(args, "--matrix", 0)
    if len(args) != 2 or matrix < 0:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    size = int(float(args[0]) * MB)
    gen = Gen(seed, ansi)
    names = env_names(gen.rng)
    if matrix:
        fixed = [next(names) for _ in range(matrix)]
        names = (fixed[i % matrix] for i in itertools.count())
    to_stdout = args[1] == "-"
    out = sys.stdout.buffer if to_stdout else open(args[1], "wb", buffering=1 << 20)
    w = Writer(out, github)
    if github:
        w.write_lines(GITHUB_STEP)
    # Leave room for the summary block (~90 bytes an env) and the footer.
    per_line = 90 + (29 if github else 0)
    runs = 1
    while w.bytes + per_line * len(gen.summary) + 300 < size:
        if matrix and gen.counts["envs"] == runs * matrix:
            end_run(gen, w, github, last=False)
            runs += 1
            if github:
                w.write_lines(GITHUB_STEP)
        w.write_lines(gen.env(*next(names)))
    end_run(gen, w, github, last=True)
    if not to_stdout:
        out.close()
    c = gen.counts
    c["occurrences"] = c["envs"]
    c["runs"] = runs
    # Per distinct target, as tox-triage counts them.
    c["envs"] = len(gen.worst)
    c["failed"] = sum(1 for v in gen.worst.values() if v == 3)
    c["passed"] = sum(1 for v in gen.worst.values() if v == 2)
    c["skipped"] = sum(1 for v in gen.worst.values() if v == 1)
    c["lines"] = w.lines
    c["bytes"] = w.bytes
    c["seed"] = seed
    c["ansi"] = ansi
    c["github"] = github
    if matrix:
        c["matrix"] = matrix
    dst = sys.stderr if to_stdout else sys.stdout
    json.dump(c, dst)
    dst.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
