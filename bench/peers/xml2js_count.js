// Peer: read the whole file, parse with xml2js (as JUnit GitHub actions do), count.
'use strict';
const fs = require('fs');
const xml2js = require('xml2js');

const text = fs.readFileSync(process.argv[2], 'utf8');
xml2js.parseString(text, (err, doc) => {
  if (err) { console.error(err.message); process.exit(1); }
  const c = { suites: 0, testcases: 0, failures: 0, errors: 0, skipped: 0 };
  const root = doc.testsuites || { testsuite: [doc.testsuite] };
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
});
