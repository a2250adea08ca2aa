#!/usr/bin/env python3
"""Generate a large, deterministic, pytest-style JUnit XML file for benchmarks.

usage: gen_junit.py SIZE_MB OUT [--seed N]

SIZE_MB is in MiB (1 MB = 1,048,576 bytes); the output is about that size
(it stops after the first <testsuite> that reaches it, so it overshoots by at
most one suite, a few hundred KB).  OUT may be "-" for stdout.

The file is one <testsuites> with many <testsuite name="py3.12-redis-v5.3.1">
suites named like tox targets (unique names), each holding pytest-style
<testcase> elements.  About 2% of test cases fail (<failure> with a multi-line
traceback), ~0.4% error (<error>, some of them pytest-xdist worker crashes),
~3% are skipped; some carry <system-out>/<system-err> with entity escapes,
CDATA sections and non-ASCII text (é, ✔, emoji), some <properties>, and some
use the xunit1 `file`/`line` attributes.  Test case names are unique within a
suite (so no consumer mistakes them for pytest-rerunfailures reruns).

Output is streamed suite by suite: memory use is bounded by one suite.
The expected counts are printed to stdout as one JSON object.

Only the Python 3 standard library is used.
"""

import json
import random
import sys

from genlib import version_stream

MB = 1024 * 1024

PYTHONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.14t"]
PYVERSIONS = {
    "3.8": "3.8.18", "3.9": "3.9.19", "3.10": "3.10.14", "3.11": "3.11.7",
    "3.12": "3.12.1", "3.13": "3.13.0", "3.14": "3.14.0", "3.14t": "3.14.0",
}
# suite -> PEP 440 version seeds (more are derived when these run out).
SUITES = {
    "redis": ["5.3.1", "4.6.0", "5.0.8", "6.0.0b2"],
    "django": ["4.2.17", "5.1.4", "5.2a1", "3.2.25"],
    "openai-base": ["1.58.1", "1.0.0rc1", "1.99.9"],
    "openai-notiktoken": ["1.58.1", "1.12.0"],
    "httpx2": ["0.28.1", "0.14", "0.27.0.post1"],
    "flask": ["3.1.0", "2.3.3", "1.1.4"],
    "celery": ["5.4.0", "5.5.0rc3", "4.4.7"],
    "aiohttp": ["3.11.11", "3.8.6", "4.0.0a1"],
    "sqlalchemy": ["2.0.36", "1.4.54", "2.1.0b1"],
    "fastapi": ["0.115.6", "0.79.1"],
    "starlette": ["0.45.2", "0.16.0"],
    "openai_agents": ["0.9.1", "0.0.19"],
    "anthropic": ["0.42.0", "0.16.0"],
    "boto3": ["1.35.90", "1.12.49"],
    "grpc": ["1.68.1", "1.32.0"],
    "huggingface_hub": ["0.27.0", "0.22.2"],
    "langchain-notiktoken": ["0.3.13", "0.1.20"],
    "pymongo": ["4.10.1", "3.13.0"],
    "rq": ["2.1.0", "1.16.2"],
    "tornado": ["6.4.2", "6.0.4"],
    "graphene": ["3.4.3", "3.3"],
    "common": [],
    "gevent": [],
    "asgi": [],
}

MODULE_WORDS = ["client", "integration", "spans", "breadcrumbs", "transactions",
                "async", "pipeline", "tracing", "basics", "middleware", "errors"]
TEST_WORDS = ["captures", "breadcrumb", "span", "context", "pipeline", "retry",
              "timeout", "headers", "status", "transaction", "sampling",
              "unicode", "streaming", "cluster", "scope", "propagation",
              "async", "sync", "large", "payload", "name", "origin"]
PARAMS = ["", "", "", "", "[True]", "[False]", "[None]", "[asyncio]", "[trio]",
          "[1-2]", "[utf-8-é]", "[0.5]", "[with_pii-✔]", "[🚀]", "[a&b]",
          "[<lambda>]", "['x\"y']"]
SKIP_REASONS = [
    "could not import 'numpy': No module named 'numpy'",
    "requires python >= 3.10",
    "flaky on free-threaded builds (3.14t) — see #4242",
    "Redis cluster not available & TT_REDIS_CLUSTER unset",
    "unconditional skip",
]
EXC_TYPES = ["AssertionError", "KeyError", "TypeError", "ValueError",
             "ConnectionRefusedError", "ImportError", "AttributeError",
             "RuntimeError"]


def esc_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "&#10;"))


def target_names(rng):
    """Endless stream of unique tox-target names, in a shuffled order."""
    suites = list(SUITES)
    streams = {s: version_stream(SUITES[s]) for s in suites}
    latest_done = set()
    while True:
        s = suites[rng.randrange(len(suites))]
        py = PYTHONS[rng.randrange(len(PYTHONS))]
        if not SUITES[s] and (py, s) not in latest_done:
            latest_done.add((py, s))
            yield py, s, f"py{py}-{s}"
            continue
        if s not in latest_done and rng.random() < 0.05:
            latest_done.add(s)
            yield py, s, f"py{py}-{s}-latest"
            continue
        yield py, s, f"py{py}-{s}-v{next(streams[s])}"


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.counts = dict(suites=0, testcases=0, passed=0, failures=0,
                           errors=0, skipped=0, failed_suites=0,
                           with_system_out=0, cdata_sections=0, bytes=0)

    def traceback(self, env, py, modpath, test, exc, msg):
        rng = self.rng
        lines = []
        for _ in range(rng.randint(1, 3)):
            lineno = rng.randint(10, 900)
            lines.append(f"    def {test.split('[')[0]}(sentry_init, capture_events):")
            lines.append(f"        client = make_client(url=\"http://localhost:{rng.randint(1024, 65000)}/?a=1&b=2\")")
            lines.append(f">       assert client.request(\"GET\", path) == {{\"status\": {rng.choice([200, 500])}}}")
            lines.append("")
            lines.append(f"{modpath}:{lineno}: ")
            lines.append("_ " * 39 + "_")
            lines.append("")
            lines.append(f"/home/runner/work/sentry-python/sentry-python/.tox/{env}/lib/python{py.rstrip('t')}/site-packages/pkg/client.py:{rng.randint(10, 2000)}: in request")
            lines.append("    return self._send(<Request 'GET'>, timeout=self.timeout)")
        lines.append(f"E       {exc}: {msg}")
        if exc == "AssertionError":
            lines.append("E         ")
            lines.append("E         Differing items:")
            lines.append("E         {'status': 500} != {'status': 200}")
            lines.append("E         Use -v to get more diff")
        lines.append("")
        lines.append(f"{modpath}:{rng.randint(10, 900)}: {exc}")
        return "\n".join(lines)

    def message(self, exc):
        rng = self.rng
        if exc == "AssertionError":
            return ("assert {'status': 500} == {'status': 200}\n  \n"
                    "  Differing items:\n  {'status': 500} != {'status': 200}\n"
                    "  Use -v to get more diff")
        if exc == "ConnectionRefusedError":
            return "[Errno 111] Connection refused"
        if exc == "ImportError":
            return "cannot import name 'soft_unicode' from 'markupsafe' (/x/.tox/lib/markupsafe/__init__.py)"
        if exc == "KeyError":
            return "'sentry.origin' — clé absente ✘"
        return f"unexpected value <{rng.randint(0, 99)}> & more"

    def system_out(self):
        rng = self.rng
        parts = []
        for i in range(rng.randint(1, 12)):
            parts.append(esc_text(
                f"DEBUG sentry: event {rng.getrandbits(64):016x} sent ✔ "
                f"(café, naïve, 🚀) <span op=\"db\"> a&b {i}\n"))
        body = "".join(parts)
        if rng.random() < 0.3:
            self.counts["cdata_sections"] += 1
            body += ("<![CDATA[raw <html> & \"quotes\" — ünïcødé 🎉 "
                     "</not-a-tag> ]] ]>\n]]>")
        return body

    def testcase(self, env, py, suite, modidx, idx, out, bad):
        rng = self.rng
        c = self.counts
        mod = MODULE_WORDS[modidx % len(MODULE_WORDS)]
        modname = f"tests.integrations.{suite.replace('-', '_')}.test_{mod}"
        modpath = modname.replace(".", "/") + ".py"
        name = (f"test_{TEST_WORDS[rng.randrange(len(TEST_WORDS))]}_"
                f"{TEST_WORDS[rng.randrange(len(TEST_WORDS))]}_{idx}"
                f"{PARAMS[rng.randrange(len(PARAMS))]}")
        t = rng.random()
        time_s = f"{t * t * t * 2:.3f}"
        attrs = f'classname="{modname}" name="{esc_attr(name)}"'
        if rng.random() < 0.3:  # xunit1 family
            attrs += f' file="{modpath}" line="{rng.randint(1, 1500)}"'
        attrs += f' time="{time_s}"'
        c["testcases"] += 1
        r = rng.random()
        children = []
        kind = "passed"
        if r < 0.02 * bad:
            kind = "failures"
            exc = EXC_TYPES[rng.randrange(len(EXC_TYPES))]
            msg = self.message(exc)
            children.append(
                f'<failure message="{esc_attr(exc + ": " + msg)}">'
                f"{esc_text(self.traceback(env, py, modpath, name, exc, msg))}</failure>")
        elif r < 0.024 * bad:
            kind = "errors"
            if rng.random() < 0.4:
                crash = (f"worker 'gw{rng.randrange(4)}' crashed while running "
                         f"'{modpath}::{name}'")
                children.append(
                    f'<error message="{esc_attr("failed on setup with " + chr(34) + crash + chr(34))}">'
                    f"{esc_text(crash)}</error>")
            else:
                children.append(
                    '<error message="failed on setup with &quot;fixture &apos;redis_cluster&apos; not found&quot;">'
                    + esc_text(f"file {modpath}, line 12\n  def {name.split('[')[0]}(redis_cluster):\n"
                               "E       fixture 'redis_cluster' not found\n"
                               ">       available fixtures: cache, capfd, capsys, sentry_init\n"
                               ">       use 'pytest --fixtures [testpath]' for help on them.")
                    + "</error>")
        elif 0.1 <= r < 0.13:
            kind = "skipped"
            reason = SKIP_REASONS[rng.randrange(len(SKIP_REASONS))]
            children.append(
                f'<skipped type="pytest.skip" message="{esc_attr(reason)}">'
                f"{esc_text(modpath)}:{rng.randint(1, 900)}: {esc_text(reason)}</skipped>")
        c[kind] += 1
        if rng.random() < 0.01:
            children.insert(0, '<properties><property name="sentry_dsn" '
                               'value="https://k@o1.ingest.example/1?x=1&amp;y=2" />'
                               '<property name="note" value="naïve ✔" /></properties>')
        if rng.random() < (0.5 if kind != "passed" else 0.03):
            c["with_system_out"] += 1
            children.append(f"<system-out>{self.system_out()}</system-out>")
            if rng.random() < 0.3:
                children.append("<system-err>WARNING: résumé &lt;stderr&gt; ⚠\n</system-err>")
        if children:
            out.append(f"<testcase {attrs}>{''.join(children)}</testcase>")
        else:
            out.append(f"<testcase {attrs} />")
        return kind

    def suite(self, py, suite, env, max_bytes):
        rng = self.rng
        body = []
        n = {"passed": 0, "failures": 0, "errors": 0, "skipped": 0}
        ntests = rng.choice([rng.randint(5, 60), rng.randint(100, 800),
                             rng.randint(800, 3000)])
        est = 0
        idx = 0
        nmods = rng.randint(1, 8)
        # 60% of suites are healthy; the others fail 2.5x as often, so ~2%
        # of all test cases fail and ~0.4% error.
        bad = 0.0 if rng.random() < 0.6 else 2.5
        while idx < ntests and est < max_bytes:
            before = len(body)
            n[self.testcase(env, py, suite, idx % nmods, idx, body, bad)] += 1
            est += len(body[before])
            idx += 1
        total_time = sum(0.001 * (i % 7) for i in range(idx)) + rng.random()
        head = (f'<testsuite name="{env}" errors="{n["errors"]}" failures="{n["failures"]}" '
                f'skipped="{n["skipped"]}" tests="{idx}" time="{total_time:.3f}" '
                f'timestamp="2026-11-20T10:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(10**6):06d}+00:00" '
                f'hostname="fv-az{rng.randrange(1000)}-{rng.randrange(1000)}">')
        self.counts["suites"] += 1
        if n["failures"] or n["errors"]:
            self.counts["failed_suites"] += 1
        return head + "".join(body) + "</testsuite>"


def main(argv):
    args = [a for a in argv[1:]]
    seed = 20261120
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    size = int(float(args[0]) * MB)
    gen = Gen(seed)
    names = target_names(gen.rng)
    out = sys.stdout.buffer if args[1] == "-" else open(args[1], "wb", buffering=1 << 20)
    written = 0

    def emit(s):
        nonlocal written
        b = s.encode("utf-8")
        out.write(b)
        written += len(b)

    emit('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">')
    tail = "</testsuites>\n"
    while written + len(tail) < size:
        py, suite, env = next(names)
        emit(gen.suite(py, suite, env, size - written))
    emit(tail)
    if out is not sys.stdout.buffer:
        out.close()
    gen.counts["bytes"] = written
    gen.counts["seed"] = seed
    json.dump(gen.counts, sys.stdout if args[1] != "-" else sys.stderr)
    (sys.stdout if args[1] != "-" else sys.stderr).write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
