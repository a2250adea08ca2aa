//! How fast the log pipeline's stages are on their own (for BENCHMARKS.md):
//! line splitting, then framing removal, then the tox parser, then the whole
//! aggregation.
//!
//!     cargo run --release --example pipeline_floor -- FILE
use std::time::Instant;

use tox_triage::analysis::aggregate::Aggregator;
use tox_triage::inputs::ghlog::LineCleaner;
use tox_triage::inputs::lines::LineReader;
use tox_triage::inputs::toxlog::{LogEvent, parse_log};

fn main() {
    let path = std::env::args().nth(1).expect("usage: pipeline_floor FILE");
    let size = std::fs::metadata(&path).unwrap().len() as f64 / (1 << 20) as f64;
    let report = |stage: &str, start: Instant| {
        let s = start.elapsed().as_secs_f64();
        println!("{stage:<28} {s:>7.3} s {:>8.0} MB/s", size / s);
    };
    let t = Instant::now();
    let mut r = LineReader::new(std::fs::File::open(&path).unwrap());
    let mut n = 0u64;
    while let Some(l) = r.next_line().unwrap() {
        n += l.bytes.len() as u64;
    }
    report("lines", t);
    let t = Instant::now();
    let mut r = LineReader::new(std::fs::File::open(&path).unwrap());
    let mut c = LineCleaner::new();
    while let Some(l) = r.next_line().unwrap() {
        if let tox_triage::inputs::ghlog::Cleaned::Text(s) = c.clean(l.bytes, l.number == 1) {
            n += s.len() as u64;
        }
    }
    report("lines + framing", t);
    let t = Instant::now();
    let mut events = 0u64;
    parse_log(std::fs::File::open(&path).unwrap(), &mut |_: u64,
                                                         _: &str,
                                                         e: LogEvent<
        '_,
    >| {
        events += matches!(e, LogEvent::Output { .. }) as u64;
    })
    .unwrap();
    report("lines + framing + tox parser", t);
    let t = Instant::now();
    let mut agg = Aggregator::new();
    agg.add_log(&path, std::fs::File::open(&path).unwrap())
        .unwrap();
    let r = agg.finish(None);
    report("+ aggregation", t);
    eprintln!(
        "({n} bytes, {events} output events, {} targets)",
        r.targets.len()
    );
}
