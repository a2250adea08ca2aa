//! A log read on a second thread: [`LogPipe::parse`] runs the line
//! splitting, cleaning and tox parsing of [`parse_log`] on its own thread and
//! hands the events over in batches, so that the caller's sink (the
//! aggregation) runs on another core at the same time.
//!
//! The sink receives exactly the events [`parse_log`] would give it, in the
//! same order, with the same text: a batch copies each event's line once and
//! records the event's fields as spans of it. Consecutive lines of output of
//! one env share a record (the parser says when the env is unchanged, see
//! [`LogSink::output`]), so most lines cost the reading thread no record.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread::{Scope, ScopedJoinHandle};

use crate::inputs::toxlog::{Event, LogEvent, LogSink, LogStats, Part, parse_log};

/// A batch is handed over once its text reaches this size...
const BATCH_TEXT: usize = 256 << 10;
/// ...or it holds this many events.
const BATCH_EVENTS: usize = 4096;
/// Batches parsed and not yet consumed: with [`BATCH_TEXT`], what bounds the
/// memory the hand-over adds (about 1 MB).
const IN_FLIGHT: usize = 4;

/// Spare batches kept for the next log: two logs in flight, each with its
/// queue and the batch being filled.
const SPARE_MAX: usize = 2 * (IN_FLIGHT + 2);

/// Reads logs on threads of their own, keeping its batches from one log to
/// the next: a run of many small logs does not allocate (and fault in) fresh
/// buffers for each.
#[derive(Debug, Default)]
pub struct LogPipe {
    spare: Mutex<Vec<Batch>>,
}

/// A log being read and parsed on its own thread, its events waiting in a
/// bounded queue for [`LogPipe::finish`].
#[derive(Debug)]
pub struct Running<'scope> {
    full: mpsc::Receiver<Batch>,
    reader: ScopedJoinHandle<'scope, std::io::Result<LogStats>>,
}

impl LogPipe {
    /// Like [`parse_log`], with the reading and parsing on a second thread:
    /// `sink` receives the same events in the same order.
    pub fn parse<R: Read + Send, S: LogSink>(
        &self,
        input: R,
        sink: &mut S,
    ) -> std::io::Result<LogStats> {
        std::thread::scope(|scope| {
            let running = self.start(scope, input)?;
            self.finish(running, sink)
        })
    }

    /// Starts reading and parsing `input` on a thread of `scope`. It runs
    /// ahead of [`LogPipe::finish`] by at most a few batches.
    pub fn start<'scope, 'env, R: Read + Send + 'scope>(
        &'env self,
        scope: &'scope Scope<'scope, 'env>,
        input: R,
    ) -> std::io::Result<Running<'scope>> {
        let (full_tx, full) = mpsc::sync_channel::<Batch>(IN_FLIGHT);
        let reader = std::thread::Builder::new()
            .name("log reader".to_owned())
            .spawn_scoped(scope, move || {
                let abandoned = AtomicBool::new(false);
                let input = Abandonable {
                    inner: input,
                    abandoned: &abandoned,
                };
                let mut filling = Filling {
                    pipe: self,
                    batch: self.take_spare(),
                    full: full_tx,
                    abandoned: &abandoned,
                };
                let stats = parse_log(input, &mut filling);
                let Filling { batch, full, .. } = filling;
                if batch.records.is_empty() {
                    self.give_back(batch);
                } else {
                    let _ = full.send(batch);
                }
                stats
            })?;
        Ok(Running { full, reader })
    }

    /// Gives the events of a started log to `sink`, in order, and returns
    /// what [`parse_log`] would have.
    pub fn finish<S: LogSink>(
        &self,
        running: Running<'_>,
        sink: &mut S,
    ) -> std::io::Result<LogStats> {
        // Ends when the reader is done and has dropped its sender.
        for mut batch in running.full.iter() {
            batch.replay(sink);
            batch.clear();
            self.give_back(batch);
        }
        match running.reader.join() {
            Ok(stats) => stats,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    fn take_spare(&self) -> Batch {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        spare.pop().unwrap_or_default()
    }

    fn give_back(&self, batch: Batch) {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        if spare.len() < SPARE_MAX {
            spare.push(batch);
        }
    }
}

/// The reading thread's sink: events go into a batch, handed over when full.
struct Filling<'a> {
    pipe: &'a LogPipe,
    batch: Batch,
    full: mpsc::SyncSender<Batch>,
    abandoned: &'a AtomicBool,
}

impl Filling<'_> {
    /// Checked after every event: inlined, with the hand-over out of line.
    #[inline]
    fn hand_over_if_full(&mut self) {
        if self.batch.is_full() {
            self.hand_over();
        }
    }

    #[cold]
    #[inline(never)]
    fn hand_over(&mut self) {
        let next = self.pipe.take_spare();
        // The receiver is gone only if the log is no longer wanted (an
        // earlier log failed): stop reading it.
        if self
            .full
            .send(std::mem::replace(&mut self.batch, next))
            .is_err()
        {
            self.abandoned.store(true, Ordering::Relaxed);
        }
    }
}

impl LogSink for Filling<'_> {
    fn event(&mut self, line: u64, text: &str, ev: LogEvent<'_>) {
        self.batch.push(line, text, ev);
        self.hand_over_if_full();
    }

    fn output(&mut self, line: u64, text: &str, env: Option<&str>, same_env: bool) {
        self.batch.push_output(line, text, env, same_env);
        self.hand_over_if_full();
    }
}

/// An input that ends early once nobody wants the rest of it.
struct Abandonable<'a, R> {
    inner: R,
    abandoned: &'a AtomicBool,
}

impl<R: Read> Read for Abandonable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.abandoned.load(Ordering::Relaxed) {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

/// Where a string is in a batch's text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

/// An event with its strings as spans of the batch's text.
#[derive(Debug, Clone)]
struct Record {
    line: u64,
    text: Span,
    kind: Kind,
}

const _: () = assert!(std::mem::size_of::<Record>() <= 32);

/// Most events are a line of output whose text is the whole line: those are
/// held in the record itself (a record is 32 bytes where a whole event is
/// over 100), and consecutive ones of the same env in one record, the
/// others in the batch's list.
#[derive(Debug, Clone)]
enum Kind {
    /// `Event::Output` of each of `lines` consecutive lines, which are the
    /// record's text, joined by `\n` (a line holds none); `env` is
    /// [`NO_ENV`] for none.
    Output { env: Span, lines: u32 },
    /// Any other event: its place in [`Batch::events`].
    Other(u32),
}

/// The env of lines of output that have none.
const NO_ENV: Span = Span {
    start: u32::MAX,
    len: 0,
};

/// Events of consecutive lines and the text they borrow.
#[derive(Debug, Default)]
struct Batch {
    text: String,
    records: Vec<Record>,
    /// The events that are not plain output, in order.
    events: Vec<Event<Span>>,
    /// The env most recently copied into `text` for an event that does not
    /// name it on its line (pytest's output): the next such event reuses it.
    last_env: Option<Span>,
    /// The last record is lines of output given by [`Batch::push_output`],
    /// which the next one may join when it has the same env.
    run_open: bool,
}

impl Batch {
    fn is_full(&self) -> bool {
        self.text.len() >= BATCH_TEXT || self.records.len() >= BATCH_EVENTS
    }

    fn clear(&mut self) {
        self.text.clear();
        self.records.clear();
        self.events.clear();
        self.last_env = None;
        self.run_open = false;
    }

    fn get(&self, s: Span) -> &str {
        let start = s.start as usize;
        self.text.get(start..start + s.len as usize).unwrap_or("")
    }

    /// Copies `s` into the text.
    fn copy(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        span(start, s.len())
    }

    /// `s` as a span: inside the line (at `base` in the text) when it is part
    /// of it, else a copy.
    fn field(&mut self, base: usize, line: &str, s: &str) -> Span {
        match within(line, s) {
            Some(offset) => span(base + offset, s.len()),
            None => self.copy(s),
        }
    }

    /// An env: inside its line (at `base` in the text) when it is part of
    /// it, else the parser's memory of the current env ([`Batch::kept_env`]).
    fn env(&mut self, base: usize, line: &str, env: &str) -> Span {
        match within(line, env) {
            Some(offset) => span(base + offset, env.len()),
            None => self.kept_env(env),
        }
    }

    /// An env that is not on its line, as the last one kept when it is the
    /// same (lines of output of one env follow each other), else a copy.
    fn kept_env(&mut self, env: &str) -> Span {
        if let Some(last) = self.last_env
            && self.get(last) == env
        {
            return last;
        }
        let s = self.copy(env);
        self.last_env = Some(s);
        s
    }

    /// A line of output (see [`LogSink::output`]): added to the last record
    /// when that holds the lines of output just before it, of the same env.
    fn push_output(&mut self, line: u64, text: &str, env: Option<&str>, same_env: bool) {
        debug_assert!(!text.contains('\n'));
        if same_env
            && self.run_open
            && let Some(last) = self.records.last_mut()
            && let Kind::Output { lines, .. } = &mut last.kind
            && last.line + u64::from(*lines) == line
            && last.text.start as usize + last.text.len as usize == self.text.len()
        {
            self.text.push('\n');
            self.text.push_str(text);
            last.text.len += 1 + text.len() as u32;
            *lines += 1;
            return;
        }
        // An env that is not on the line is found or copied first, so that
        // the line ends the text and the next lines of the run can follow it.
        let env = match env {
            None => NO_ENV,
            Some(e) => self.env(self.text.len(), text, e),
        };
        let base = self.text.len();
        self.text.push_str(text);
        self.records.push(Record {
            line,
            text: span(base, text.len()),
            kind: Kind::Output { env, lines: 1 },
        });
        self.run_open = true;
    }

    fn push(&mut self, line: u64, text: &str, ev: LogEvent<'_>) {
        self.run_open = false;
        let base = self.text.len();
        self.text.push_str(text);
        let kind = match ev {
            LogEvent::Output { env, text: out }
                if out.as_ptr() == text.as_ptr() && out.len() == text.len() =>
            {
                Kind::Output {
                    env: env.map_or(NO_ENV, |e| self.env(base, text, e)),
                    lines: 1,
                }
            }
            ev => {
                let event = ev.map(|part, s| match part {
                    Part::Env => self.env(base, text, s),
                    Part::Text => self.field(base, text, s),
                });
                self.events.push(event);
                // At most BATCH_EVENTS events in a batch.
                Kind::Other((self.events.len() - 1) as u32)
            }
        };
        self.records.push(Record {
            line,
            text: span(base, text.len()),
            kind,
        });
    }

    /// Gives each event to `sink`, as the parser gave it.
    fn replay<S: LogSink>(&self, sink: &mut S) {
        for r in &self.records {
            let text = self.get(r.text);
            match r.kind {
                Kind::Output { env, lines } => {
                    let env = (env != NO_ENV).then(|| self.get(env));
                    if lines == 1 {
                        sink.event(r.line, text, LogEvent::Output { env, text });
                    } else {
                        // (`memchr`: `str::split` costs some 150 instructions a line.)
                        let ends = memchr::memchr_iter(b'\n', text.as_bytes());
                        let mut from = 0;
                        for (line, end) in (r.line..).zip(ends.chain([text.len()])) {
                            let text = text.get(from..end).unwrap_or("");
                            sink.event(line, text, LogEvent::Output { env, text });
                            from = end + 1;
                        }
                    }
                }
                Kind::Other(i) => {
                    if let Some(e) = self.events.get(i as usize) {
                        sink.event(r.line, text, e.clone().map(|_, s| self.get(s)));
                    }
                }
            }
        }
    }
}

/// Where `s` starts in `line`, when it is a part of it.
fn within(line: &str, s: &str) -> Option<usize> {
    let offset = (s.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
    (offset <= line.len() && s.len() <= line.len() - offset).then_some(offset)
}

/// Offsets fit in `u32`: a batch is handed over at [`BATCH_TEXT`] bytes, and
/// a line is at most 64 KiB.
fn span(start: usize, len: usize) -> Span {
    Span {
        start: start as u32,
        len: len as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of a log, as text, line by line; read on a second thread
    /// when given a pipe.
    fn events(log: &[u8], pipe: Option<&LogPipe>) -> (Vec<String>, LogStats) {
        let mut out = Vec::new();
        let mut sink = |line: u64, text: &str, ev: LogEvent<'_>| {
            out.push(format!("{line} {text:?} {ev:?}"));
        };
        let stats = match pipe {
            Some(pipe) => pipe.parse(log, &mut sink).unwrap(),
            None => parse_log(log, &mut sink).unwrap(),
        };
        (out, stats)
    }

    /// Real tox 3 and tox 4 logs (sequential, parallel, coloured, GitHub job
    /// logs), and a long one made of them, which spans many batches.
    #[test]
    fn threaded_reading_gives_the_same_events() {
        let mut logs = fixture_logs();
        assert!(logs.len() >= 8, "{} logs", logs.len());
        let mut long = Vec::new();
        while long.len() < 3 * BATCH_TEXT {
            for l in &logs {
                long.extend_from_slice(l);
            }
        }
        logs.push(long);
        let mut total = 0;
        // One pipe for all, as for a run's logs: batches are reused from one
        // log to the next.
        let pipe = LogPipe::default();
        for log in &logs {
            let direct = events(log, None);
            let threaded = events(log, Some(&pipe));
            assert_eq!(direct.1, threaded.1);
            assert_eq!(direct.0.len(), threaded.0.len());
            for (a, b) in direct.0.iter().zip(&threaded.0) {
                assert_eq!(a, b);
            }
            total += direct.0.len();
        }
        assert!(total > 3 * BATCH_EVENTS, "{total} events");
        assert!(
            !pipe.spare.lock().unwrap().is_empty(),
            "batches kept for the next log"
        );
    }

    /// Every fixture log (`.log` and `.txt` files under tests/fixtures).
    fn fixture_logs() -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        walk(&dir)
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log" || e == "txt"))
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    /// The parser's hint that a line of output has the env of the one
    /// before is never wrong, and it is given for most lines.
    #[test]
    fn the_same_env_hint_holds() {
        struct Check {
            last: Option<Option<String>>,
            hinted: usize,
            lines: usize,
        }
        impl LogSink for Check {
            fn event(&mut self, _: u64, _: &str, _: LogEvent<'_>) {}
            fn output(&mut self, line: u64, _: &str, env: Option<&str>, same_env: bool) {
                let env = env.map(str::to_owned);
                if same_env {
                    assert_eq!(self.last.as_ref(), Some(&env), "line {line}");
                    self.hinted += 1;
                }
                self.lines += 1;
                self.last = Some(env);
            }
        }
        let mut check = Check {
            last: None,
            hinted: 0,
            lines: 0,
        };
        for log in fixture_logs() {
            check.last = None;
            parse_log(&log[..], &mut check).unwrap();
        }
        assert!(check.lines > 5000, "{} lines", check.lines);
        assert!(
            2 * check.hinted > check.lines,
            "{} of {}",
            check.hinted,
            check.lines
        );
    }

    /// Lines of output of one env go into one record only when they follow
    /// each other with nothing between them; they come back one by one.
    #[test]
    fn runs_of_output_lines_come_back_line_by_line() {
        let mut b = Batch::default();
        b.push_output(1, "a", Some("py3.12-x"), false);
        b.push_output(2, "", Some("py3.12-x"), true);
        b.push_output(3, "b", Some("py3.12-x"), true);
        // A line without an event between: not the same run.
        b.push_output(5, "c", Some("py3.12-x"), true);
        b.push(
            6,
            "py3.12-x: exit 1 (0.1 seconds)",
            LogEvent::StepError { message: "x" },
        );
        b.push_output(7, "d", Some("py3.12-x"), true);
        // An output event given as an event is a record of its own, which
        // the next line of output does not join (whatever the hint says).
        let f = "py3.12-y: f";
        b.push(
            8,
            f,
            LogEvent::Output {
                env: Some(&f[..8]),
                text: f,
            },
        );
        b.push_output(9, "g", Some("py3.12-z"), true);
        b.push_output(10, "e", None, false);
        b.push_output(11, "", None, true);
        assert_eq!(b.records.len(), 7);
        let mut got = Vec::new();
        b.replay(&mut |line: u64, text: &str, ev: LogEvent<'_>| {
            got.push(format!("{line} {text:?} {:?}", ev.env()));
        });
        let env = "Some(\"py3.12-x\")";
        assert_eq!(
            got,
            [
                format!("1 \"a\" {env}"),
                format!("2 \"\" {env}"),
                format!("3 \"b\" {env}"),
                format!("5 \"c\" {env}"),
                "6 \"py3.12-x: exit 1 (0.1 seconds)\" None".to_owned(),
                format!("7 \"d\" {env}"),
                "8 \"py3.12-y: f\" Some(\"py3.12-y\")".to_owned(),
                "9 \"g\" Some(\"py3.12-z\")".to_owned(),
                "10 \"e\" None".to_owned(),
                "11 \"\" None".to_owned(),
            ]
        );
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out.sort();
        out
    }

    /// An env copied for one event is reused by the next only when equal.
    #[test]
    fn env_copies_are_reused_only_for_the_same_env() {
        let mut b = Batch::default();
        b.push(
            1,
            "collected 1 item",
            LogEvent::Output {
                env: Some("py3.12-a"),
                text: "collected 1 item",
            },
        );
        b.push(
            2,
            "x",
            LogEvent::Output {
                env: Some("py3.12-b"),
                text: "x",
            },
        );
        let mut got = Vec::new();
        b.replay(&mut |_: u64, _: &str, ev: LogEvent<'_>| got.push(ev.env().map(str::to_owned)));
        assert_eq!(got, [Some("py3.12-a".into()), Some("py3.12-b".into())]);
    }
}
