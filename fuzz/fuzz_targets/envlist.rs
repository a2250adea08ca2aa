//! tox.ini reading and envlist brace expansion on arbitrary text: no panic, no blow-up.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tox_triage::inputs::toxini::{ToxIni, expand_envlist};
use tox_triage::model::TargetName;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(names) = expand_envlist(text) {
            assert!(names.len() <= 100_000 * 64);
        }
    }
    if let Ok(ini) = ToxIni::parse(data, "fuzz.ini") {
        for name in ini.envlist.iter().take(50) {
            let _ = ini.package_for(&TargetName::parse(name));
        }
    }
});
