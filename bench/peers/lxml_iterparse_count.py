#!/usr/bin/env python3
"""Peer: count with lxml.etree.iterparse, streaming (elements freed as they end)."""
import json
import sys

from lxml import etree

c = dict(suites=0, testcases=0, failures=0, errors=0, skipped=0)
for _, el in etree.iterparse(sys.argv[1], events=("end",),
                             tag=("testcase", "testsuite"), huge_tree=True):
    if el.tag == "testsuite":
        c["suites"] += 1
    else:
        c["testcases"] += 1
        for child in el:
            if child.tag == "failure":
                c["failures"] += 1
            elif child.tag == "error":
                c["errors"] += 1
            elif child.tag == "skipped":
                c["skipped"] += 1
    el.clear(keep_tail=True)
    while el.getprevious() is not None:
        del el.getparent()[0]
print(json.dumps(c))
