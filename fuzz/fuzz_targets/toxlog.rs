//! The tox log parser, the aggregation and the verdicts on arbitrary bytes:
//! no panic, the same report when the log is parsed on a second thread, the
//! verdicts leave the targets in the report's order, and every rendering of
//! the result stays well-formed (the JSON report's strings read back as the
//! report's own).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tox_triage::analysis::aggregate::Aggregator;
use tox_triage::analysis::verdict::{Context, apply_on};
use tox_triage::outputs::{human, json, markdown};

fuzz_target!(|data: &[u8]| {
    let mut agg = Aggregator::new();
    agg.add_log("fuzz.log", data).expect("reading from memory cannot fail");
    let mut report = agg.finish(None);
    let mut threaded = Aggregator::new().with_reader_thread(true);
    threaded.add_log("fuzz.log", data).expect("reading from memory cannot fail");
    assert_eq!(report, threaded.finish(None), "a second thread changed the report");
    apply_on(&mut report, &Context::default(), 1);
    let mut sorted = report.clone();
    sorted.sort_targets();
    assert_eq!(sorted, report, "the verdicts left the targets out of order");
    let text = json::to_json(&report);
    let value: serde_json::Value = serde_json::from_str(&text).expect("the JSON report is valid JSON");
    // The targets' strings, escaped by hand, read back as they were.
    for (t, v) in report.targets.iter().zip(value["targets"].as_array().expect("targets")) {
        assert_eq!(v["name"].as_str(), Some(t.name.as_str()), "name");
        let lines: Vec<&str> = v["output"]["lines"]
            .as_array()
            .expect("output lines")
            .iter()
            .map(|l| l.as_str().expect("a line is a string"))
            .collect();
        assert_eq!(lines, t.output.lines().collect::<Vec<_>>(), "output lines");
        for (f, fv) in t.findings().failures.iter().zip(v["failures"].as_array().expect("failures")) {
            assert_eq!(fv["test"].as_str(), Some(f.test.as_str()), "test");
            assert_eq!(fv["message"].as_str(), Some(f.message.as_str()), "message");
        }
    }
    for line in human::render(&report, false).lines() {
        assert!(!line.trim_start().starts_with("::"), "stdout line could be a workflow command: {line}");
    }
    let _ = markdown::render(&report, &Default::default());
});
