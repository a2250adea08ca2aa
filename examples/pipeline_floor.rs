//! How fast the log pipeline's stages are on their own (for BENCHMARKS.md):
//! line splitting, then framing removal, then the tox parser (alone, then as
//! the reading thread runs it, handing its events over in batches), then the
//! whole aggregation; then what runs after the logs, each stage on its own and the
//! best of several rounds (they take tens of milliseconds, where this VM's
//! noise is of the same size): finishing the targets, verdicts, and the
//! human, Markdown and JSON outputs.
//!
//!     cargo run --release --example pipeline_floor -- FILE
use std::time::{Duration, Instant};

use tox_triage::analysis::aggregate::Aggregator;
use tox_triage::analysis::verdict;
use tox_triage::inputs::ghlog::LineCleaner;
use tox_triage::inputs::lines::LineReader;
use tox_triage::inputs::logpipe::LogPipe;
use tox_triage::inputs::toxlog::{LogEvent, parse_log};
use tox_triage::outputs::markdown::{self, MarkdownOptions};
use tox_triage::outputs::{human, json};

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
    r.for_each_line(|l| n += l.bytes.len() as u64).unwrap();
    report("lines", t);
    let t = Instant::now();
    let mut r = LineReader::new(std::fs::File::open(&path).unwrap());
    let mut c = LineCleaner::new();
    r.for_each_line(|l| {
        if let tox_triage::inputs::ghlog::Cleaned::Text(s) = c.clean_line(l) {
            n += s.len() as u64;
        }
    })
    .unwrap();
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
    // The same on the reading thread, its events handed over in batches to
    // a sink that only counts them: what the reading thread costs in
    // `analyze`, where it runs beside the aggregation.
    let t = Instant::now();
    let mut handed = 0u64;
    LogPipe::default()
        .parse(std::fs::File::open(&path).unwrap(), &mut |_: u64,
                                                          _: &str,
                                                          e: LogEvent<
            '_,
        >| {
            handed += matches!(e, LogEvent::Output { .. }) as u64;
        })
        .unwrap();
    assert_eq!(handed, events);
    report("+ batches to a 2nd thread", t);
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
    after_logs(&path);
}

/// Rounds of each stage after the logs; the best is printed.
const ROUNDS: usize = 7;

/// Prints the best of [`ROUNDS`] runs of `f`, which times its own stage.
fn best(stage: &str, mut f: impl FnMut() -> Duration) {
    let s = (0..ROUNDS).map(|_| f()).min().unwrap_or_default();
    println!("{stage:<28} {:>7.1} ms", s.as_secs_f64() * 1e3);
}

/// How long `f` takes.
fn timed<T>(f: impl FnOnce() -> T) -> Duration {
    let t = Instant::now();
    std::hint::black_box(f());
    t.elapsed()
}

fn after_logs(path: &str) {
    let aggregated = || {
        let mut agg = Aggregator::new();
        agg.add_log(path, std::fs::File::open(path).unwrap())
            .unwrap();
        agg
    };
    best("finish targets", || {
        let agg = aggregated();
        let t = Instant::now();
        let r = agg.finish(None);
        let d = t.elapsed();
        std::mem::forget(r);
        d
    });
    let ctx = verdict::Context {
        head: None,
        base: None,
        config: None,
    };
    // Each round on a report as `analyze` builds it: a clone of one would be
    // laid out afresh in memory, and the verdicts on it measured faster than
    // they run (see BENCHMARKS.md, "The work per distinct target").
    best("verdicts, then sort", || {
        let mut r = aggregated().finish_unordered(None);
        let d = timed(|| {
            verdict::apply(&mut r, &ctx);
            r.sort_targets();
        });
        std::mem::forget(r);
        d
    });
    let mut done = aggregated().finish(None);
    verdict::apply(&mut done, &ctx);
    best("human output", || timed(|| human::render(&done, false)));
    best("markdown summary", || {
        timed(|| markdown::render(&done, &MarkdownOptions::default()))
    });
    best("JSON report", || {
        timed(|| json::write_json(&done, std::io::sink()).unwrap())
    });
}
