#!/usr/bin/env python3
"""Peer: count test cases/failures/errors/skipped with junitparser (DOM, lxml-backed)."""
import json
import sys

from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite

xml = JUnitXml.fromfile(sys.argv[1])
suites = [xml] if isinstance(xml, TestSuite) else list(xml)
c = dict(suites=0, testcases=0, failures=0, errors=0, skipped=0)
for suite in suites:
    c["suites"] += 1
    for case in suite:
        c["testcases"] += 1
        for r in case.result:
            if isinstance(r, Failure):
                c["failures"] += 1
            elif isinstance(r, Error):
                c["errors"] += 1
            elif isinstance(r, Skipped):
                c["skipped"] += 1
print(json.dumps(c))
