//! The JUnit reader on arbitrary bytes: no panic, bounded fields.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tox_triage::inputs::junit::{JunitCase, parse_junit};
use tox_triage::model::{MAX_DETAILS, MAX_MESSAGE, MAX_TEST_ID};

fuzz_target!(|data: &[u8]| {
    let _summary = parse_junit(data, &mut |c: &JunitCase<'_>| {
        assert!(c.test_id().len() <= MAX_TEST_ID);
        assert!(c.message.len() <= MAX_MESSAGE);
        assert!(c.details.len() <= MAX_DETAILS);
        assert!(c.attempts >= 1);
    });
});
