//! The JUnit reader on arbitrary bytes: no panic, bounded fields, and a file
//! read in pieces (split before `<testcase`/`<testsuite` tags, as large files
//! are) gives exactly what the whole read gives, or is refused.
#![no_main]
use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use tox_triage::analysis::junit_file::{read_junit, read_junit_pieces, split_candidates};
use tox_triage::inputs::junit::{JunitCase, parse_junit};
use tox_triage::model::{MAX_DETAILS, MAX_MESSAGE, MAX_TEST_ID};

fuzz_target!(|data: &[u8]| {
    let _summary = parse_junit(data, &mut |c: &JunitCase<'_>| {
        assert!(c.test_id().len() <= MAX_TEST_ID);
        assert!(c.message.len() <= MAX_MESSAGE);
        assert!(c.details.len() <= MAX_DETAILS);
        assert!(c.attempts >= 1);
    });
    let tags: Vec<usize> = split_candidates(data).collect();
    if tags.is_empty() {
        return;
    }
    let known = HashSet::new();
    let whole = format!("{:?}", read_junit("f", "report.xml", None, data, &known));
    let splits = [
        vec![tags[tags.len() / 2]],
        vec![tags[0], tags[tags.len() - 1]],
        tags.iter().copied().step_by(3).collect(),
    ];
    for s in splits {
        if let Some(r) = read_junit_pieces("f", "report.xml", data, &s, &known) {
            assert_eq!(format!("{r:?}"), whole, "split at {s:?}");
        }
    }
});
