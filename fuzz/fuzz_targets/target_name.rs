//! Target names: parsing never fails, keeps the name, and a conventional
//! name's parts rebuild it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tox_triage::model::TargetName;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let t = TargetName::parse(s);
    assert_eq!(t.as_str(), s);
    if let Some(p) = t.parts() {
        assert!(!p.suite.is_empty() && !p.python.is_empty());
        // The suite comes right after the interpreter factor.
        assert!(s.split_once('-').is_some_and(|(_, rest)| rest.starts_with(p.suite)));
        if let Some(v) = p.version {
            assert!(s.ends_with(&format!("-v{}", v.as_str())));
        }
    }
});
