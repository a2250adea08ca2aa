// Peer: read the whole file, parse with fast-xml-parser (as JUnit GitHub actions do), count.
'use strict';
const fs = require('fs');
const { XMLParser } = require('fast-xml-parser');

const arrays = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  isArray: (name) => arrays.has(name),
});
const doc = parser.parse(fs.readFileSync(process.argv[2], 'utf8'));
const c = { suites: 0, testcases: 0, failures: 0, errors: 0, skipped: 0 };
const root = doc.testsuites || { testsuite: doc.testsuite };
for (const s of root.testsuite || []) {
  c.suites++;
  for (const tc of s.testcase || []) {
    c.testcases++;
    if (tc.failure) c.failures += tc.failure.length;
    if (tc.error) c.errors += tc.error.length;
    if (tc.skipped) c.skipped += tc.skipped.length;
  }
}
console.log(JSON.stringify(c));
