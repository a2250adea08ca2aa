//! The JSON report: a stable, documented contract (`schema/report.schema.json`).
//! Field names are never renamed; later versions only add fields.

use std::borrow::Cow;
use std::io::Write as _;

use serde::Serialize;

use crate::model::{Report, Target, Verdict};

/// Version of the report's shape.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    targets: usize,
    failed: usize,
    passed: usize,
    skipped: usize,
    not_run: usize,
}

impl Tool {
    const THIS: Tool = Tool {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
    };
}

impl Summary {
    fn of(report: &Report) -> Self {
        let counts = report.counts();
        Self {
            targets: report.targets.len(),
            failed: counts.failed,
            passed: counts.passed,
            skipped: counts.skipped,
            not_run: counts.not_run,
        }
    }
}

/// [`crate::model::ExitLine`] with its directory and command expanded for the target.
#[derive(Serialize)]
struct JsonExit<'a> {
    code: i32,
    seconds: Option<f64>,
    cwd: Cow<'a, str>,
    command: Cow<'a, str>,
    setup_step: bool,
}

/// A target's exit line with its directory and command expanded.
fn json_exit(t: &Target) -> Option<JsonExit<'_>> {
    t.findings().exit.as_ref().map(|e| JsonExit {
        code: e.code,
        seconds: e.seconds,
        cwd: e.cwd.expand(t.name.as_str()),
        command: e.command.expand(t.name.as_str()),
        setup_step: e.setup_step,
    })
}

/// Serialises the report as pretty-printed JSON (always valid UTF-8).
pub fn to_json(report: &Report) -> String {
    let mut out = Vec::new();
    // Writing plain structs of strings and numbers into memory cannot fail.
    match write_json(report, &mut out) {
        Ok(()) => String::from_utf8(out).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}\n")),
        Err(e) => format!("{{\"error\":\"{e}\"}}\n"),
    }
}

/// Writes the report as pretty-printed JSON to `out` (serde_json's layout),
/// as it is serialised: memory does not grow with the size of the report
/// text. The targets are serialised a block at a time, two blocks at once.
pub fn write_json<W: std::io::Write>(report: &Report, out: W) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(64 << 10, out);
    out.write_all(b"{")?;
    key(&mut out, "schema_version", true)?;
    value_at(&mut out, 1, &SCHEMA_VERSION)?;
    field(&mut out, "tool", &Tool::THIS)?;
    field(&mut out, "summary", &Summary::of(report))?;
    let regressions = report.with_verdict(Verdict::Regression);
    field(&mut out, "regressions", &regressions)?;
    let flakes = report.with_verdict(Verdict::SuspectedFlake);
    field(&mut out, "suspected_flakes", &flakes)?;
    field(&mut out, "runs", &report.runs)?;
    field(&mut out, "reruns", &report.reruns)?;
    key(&mut out, "targets", false)?;
    write_targets(&mut out, &report.targets)?;
    field(&mut out, "warnings", &report.warnings)?;
    field(&mut out, "warnings_omitted", &report.warnings_omitted)?;
    out.write_all(b"\n}\n")?;
    out.flush()
}

/// A field of the report's object after its first: its key, then its value one level in.
fn field<W: std::io::Write, T: Serialize + ?Sized>(
    out: &mut W,
    name: &str,
    value: &T,
) -> std::io::Result<()> {
    key(out, name, false)?;
    value_at(out, 1, value)
}

/// `"name": ` on a line of its own, after a comma unless it is the `first` key.
fn key<W: std::io::Write>(out: &mut W, name: &str, first: bool) -> std::io::Result<()> {
    out.write_all(if first { b"\n  \"" } else { b",\n  \"" })?;
    out.write_all(name.as_bytes())?;
    out.write_all(b"\": ")
}

/// `value` as serde_json lays it out `level` levels in.
fn value_at<W: std::io::Write, T: Serialize + ?Sized>(
    out: &mut W,
    level: usize,
    value: &T,
) -> std::io::Result<()> {
    let pretty = Pretty {
        level,
        has_value: false,
    };
    let mut ser = serde_json::Serializer::with_formatter(out, pretty);
    value.serialize(&mut ser).map_err(std::io::Error::from)
}

/// Targets per block serialised in one go.
const TARGETS_PER_BLOCK: usize = 256;

/// The array of targets, each shaped for the report as it is written. Two
/// blocks are serialised at once (the second on a scoped thread) and
/// written in order, so the text is that of one pass.
fn write_targets<W: std::io::Write>(out: &mut W, targets: &[Target]) -> std::io::Result<()> {
    if targets.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let render = |block: &[Target], first: bool, buf: &mut Vec<u8>| -> std::io::Result<()> {
        buf.clear();
        for (i, t) in block.iter().enumerate() {
            buf.extend_from_slice(if first && i == 0 {
                b"\n    "
            } else {
                b",\n    "
            });
            write_target(buf, 2, t)?;
        }
        Ok(())
    };
    let (mut own, mut other) = (Vec::new(), Vec::new());
    let mut blocks = targets.chunks(TARGETS_PER_BLOCK);
    let mut first = true;
    while let Some(one) = blocks.next() {
        other.clear();
        let two = blocks.next();
        std::thread::scope(|scope| {
            let helper = two.map(|two| scope.spawn(|| render(two, false, &mut other)));
            render(one, first, &mut own)?;
            match helper {
                Some(helper) => helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                None => Ok(()),
            }
        })?;
        out.write_all(&own)?;
        out.write_all(&other)?;
        first = false;
    }
    out.write_all(b"\n  ]")
}

/// A target, `level` levels in, written by hand as serde_json lays out the
/// struct of its fields that serde derives (the tests' `JsonTarget`, which
/// they compare with this byte for byte): most of the report's text is the
/// targets' strings, which serde_json escapes a byte at a time where
/// [`push_str`] skips to the next byte to escape eight at a time. The
/// values with numbers or enums in them go through serde_json.
fn write_target(buf: &mut Vec<u8>, level: usize, t: &Target) -> std::io::Result<()> {
    let name = t.name.as_str();
    let mut o = Obj::open(buf, level);
    o.str("name", name);
    o.opt_str("python", t.name.python());
    o.opt_str("suite", t.name.suite());
    o.opt_str("version", t.name.version().map(|v| v.as_str()));
    o.bool("latest", t.name.parts().is_some_and(|p| p.latest));
    o.str("status", t.status.as_str());
    o.value("exit_code", &t.exit_code)?;
    o.opt_str("command", t.command_line().as_deref());
    o.key("reproduce");
    if crate::model::is_plausible_env_name(name) {
        // `tox -e ` needs no escaping: the name's escaping is the whole's.
        push_str_with(o.buf, "tox -e ", name);
    } else {
        o.buf.extend_from_slice(b"null");
    }
    o.strs("junit_files", t.junit_files.iter().map(String::as_str))?;
    o.key("failures");
    let at = o.level;
    array(o.buf, at, &t.findings().failures, |buf, f| {
        let mut fo = Obj::open(buf, at + 1);
        fo.str("test", &f.test);
        fo.value("kind", &f.kind)?;
        fo.str("message", &f.message);
        fo.str("details", &f.details);
        fo.value("attempts", &f.attempts)?;
        fo.value("source", &f.source)?;
        fo.str("category", f.category.as_str());
        fo.opt_str("evidence", f.evidence.as_deref());
        fo.close();
        Ok(())
    })?;
    o.value("failures_omitted", &t.findings().failures_omitted)?;
    o.value("tests", &t.tests)?;
    o.value("durations", &t.durations)?;
    o.value("exit", &json_exit(t))?;
    o.opt_str("reason", t.findings().reason.as_deref());
    o.strs(
        "missing_paths",
        t.findings().missing_paths.iter().map(String::as_str),
    )?;
    o.key("output");
    let mut out = Obj::open(o.buf, at);
    out.strs("lines", t.output.lines())?;
    out.value("total_lines", &t.output.total_lines)?;
    out.close();
    o.strs("sources", t.sources.iter().map(|s| &**s))?;
    o.bool("conflicting", t.conflicting);
    let facts = &t.facts;
    o.value("newly_added", &facts.newly_added)?;
    o.strs(
        "failed_on_pythons",
        facts.failed_on_pythons.iter().map(String::as_str),
    )?;
    o.strs(
        "passed_on_pythons",
        facts.passed_on_pythons.iter().map(String::as_str),
    )?;
    o.opt_str(
        "last_working_version",
        facts.last_working_version.as_deref(),
    );
    o.opt_str("package", facts.package());
    o.opt_str("pinned", facts.pinned());
    o.opt_str("verdict", t.findings().verdict.map(Verdict::as_str));
    o.strs("signals", t.findings().signals.iter().map(|s| &**s))?;
    o.value("links", &t.findings().links)?;
    o.value("failure_kind", &t.findings().failure_kind)?;
    o.value("forensics", &t.findings().forensics)?;
    o.value("jobs", &t.jobs)?;
    o.close();
    Ok(())
}

/// An object being written in serde_json's pretty layout, its keys at `level`.
struct Obj<'b> {
    buf: &'b mut Vec<u8>,
    level: usize,
    first: bool,
}

impl<'b> Obj<'b> {
    /// `{`, as a value `level` levels in.
    fn open(buf: &'b mut Vec<u8>, level: usize) -> Self {
        buf.push(b'{');
        Self {
            buf,
            level: level + 1,
            first: true,
        }
    }

    /// The next key, on a line of its own.
    fn key(&mut self, name: &str) {
        line(self.buf, self.level, self.first);
        self.first = false;
        self.buf.push(b'"');
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(b"\": ");
    }

    fn str(&mut self, name: &str, value: &str) {
        self.key(name);
        push_str(self.buf, value);
    }

    fn opt_str(&mut self, name: &str, value: Option<&str>) {
        self.key(name);
        match value {
            Some(value) => push_str(self.buf, value),
            None => self.buf.extend_from_slice(b"null"),
        }
    }

    fn bool(&mut self, name: &str, value: bool) {
        self.key(name);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// An array of strings.
    fn strs<'s>(
        &mut self,
        name: &str,
        items: impl Iterator<Item = &'s str>,
    ) -> std::io::Result<()> {
        self.key(name);
        array(self.buf, self.level, items, |buf, item| {
            push_str(buf, item);
            Ok(())
        })
    }

    /// Any other value, laid out by serde_json.
    fn value<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> std::io::Result<()> {
        self.key(name);
        value_at(self.buf, self.level, value)
    }

    /// `}`, on a line of its own unless the object is empty.
    fn close(self) {
        if !self.first {
            line(self.buf, self.level - 1, true);
        }
        self.buf.push(b'}');
    }
}

/// An array `level` levels in, each item written by `item` one level further in.
fn array<T>(
    buf: &mut Vec<u8>,
    level: usize,
    items: impl IntoIterator<Item = T>,
    mut item: impl FnMut(&mut Vec<u8>, T) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut items = items.into_iter().peekable();
    if items.peek().is_none() {
        buf.extend_from_slice(b"[]");
        return Ok(());
    }
    buf.push(b'[');
    for (i, x) in items.enumerate() {
        line(buf, level + 1, i == 0);
        item(buf, x)?;
    }
    line(buf, level, true);
    buf.push(b']');
    Ok(())
}

/// A line break (after a comma unless `first`) and the indentation of `level`.
fn line(buf: &mut Vec<u8>, level: usize, first: bool) {
    let (text, more) = line_break(level, first);
    buf.extend_from_slice(text);
    (0..more).for_each(|_| buf.extend_from_slice(b"  "));
}

/// The text of a line break (after a comma unless `first`) at `level`: a
/// piece of [`BREAK`], then `more` levels of two spaces where it is too short.
fn line_break(level: usize, first: bool) -> (&'static [u8], usize) {
    let from = usize::from(first);
    match BREAK.get(from..2 + 2 * level) {
        Some(text) => (text, 0),
        None => (&BREAK[from..2], level),
    }
}

/// `s` as a JSON string, escaped as serde_json escapes it.
fn push_str(buf: &mut Vec<u8>, s: &str) {
    push_str_with(buf, "", s);
}

/// `prefix` then `s` as one JSON string; `prefix` must need no escaping.
fn push_str_with(buf: &mut Vec<u8>, prefix: &str, s: &str) {
    debug_assert!(prefix.bytes().all(|b| escape_of(b).is_none()));
    buf.reserve(s.len() + prefix.len() + 2);
    buf.push(b'"');
    buf.extend_from_slice(prefix.as_bytes());
    let bytes = s.as_bytes();
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        // Eight bytes at a time while none needs escaping.
        if let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            if !needs_escape(word) {
                i += 8;
                continue;
            }
        }
        if let Some(escape) = escape_of(bytes[i]) {
            buf.extend_from_slice(&bytes[run..i]);
            buf.extend_from_slice(escape.as_bytes());
            run = i + 1;
        }
        i += 1;
    }
    buf.extend_from_slice(&bytes[run..]);
    buf.push(b'"');
}

/// Whether one of the eight bytes of `word` may need escaping: a control
/// byte, `"` or a backslash. The lowest such byte is never missed; a byte
/// above it may be a false alarm, which costs a check of that byte.
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = u64::MAX / 255;
    // The high bit of each byte below `n` (Mycroft's test for a zero byte).
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x;
    let hits = below(word, 0x20)
        | below(word ^ (ONES * u64::from(b'"')), 1)
        | below(word ^ (ONES * u64::from(b'\\')), 1);
    hits & (ONES << 7) != 0
}

/// How serde_json escapes byte `b`, if it does.
fn escape_of(b: u8) -> Option<&'static str> {
    const CONTROLS: [&str; 32] = [
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011",
        "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019",
        "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    ];
    match b {
        b'"' => Some("\\\""),
        b'\\' => Some("\\\\"),
        _ => CONTROLS.get(usize::from(b)).copied(),
    }
}

/// serde_json's pretty layout (two spaces a level), byte for byte, with each
/// line break and its indentation written at once rather than two bytes at a
/// time: the report has a line per output line kept, many levels deep.
#[derive(Default)]
struct Pretty {
    level: usize,
    has_value: bool,
}

/// `,` then a line break and the indentation of the deepest level written at once.
const BREAK: &[u8; 2 + 2 * 32] =
    b",\n                                                                ";

impl Pretty {
    /// A line break (after a comma unless `first`) and the current indentation.
    fn line<W: ?Sized + std::io::Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        let (text, more) = line_break(self.level, first);
        w.write_all(text)?;
        (0..more).try_for_each(|_| w.write_all(b"  "))
    }

    /// `[` or `{`: one level in, nothing in it yet.
    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, mark: &[u8]) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(mark)
    }

    /// `]` or `}`, on a line of its own unless the array or object is empty.
    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, mark: &[u8]) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(mark)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Category, Durations, ExitReason, Facts, Failure, FailureKind, FailureSource, Forensics,
        JobRef, Link, OutputExcerpt, Pin, Signal, TargetName, TargetStatus, TestCounts, Warning,
    };

    /// A target's fields as serde derives them: the reference that
    /// [`write_target`] writes by hand.
    #[derive(Serialize)]
    struct JsonTarget<'a> {
        name: &'a str,
        python: Option<&'a str>,
        suite: Option<&'a str>,
        version: Option<&'a str>,
        latest: bool,
        status: TargetStatus,
        exit_code: Option<i32>,
        command: Option<Cow<'a, str>>,
        reproduce: Option<String>,
        junit_files: &'a [String],
        failures: &'a [Failure],
        failures_omitted: u64,
        tests: &'a TestCounts,
        durations: &'a Durations,
        exit: Option<JsonExit<'a>>,
        reason: Option<&'a str>,
        missing_paths: &'a [String],
        output: &'a OutputExcerpt,
        sources: &'a [std::sync::Arc<str>],
        conflicting: bool,
        #[serde(flatten)]
        facts: &'a Facts,
        verdict: Option<Verdict>,
        signals: &'a [Signal],
        links: &'a [Link],
        failure_kind: Option<ExitReason>,
        forensics: Option<&'a Forensics>,
        jobs: &'a [JobRef],
    }

    impl<'a> JsonTarget<'a> {
        fn from(t: &'a Target) -> Self {
            let parts = t.name.parts();
            Self {
                name: t.name.as_str(),
                python: t.name.python(),
                suite: t.name.suite(),
                version: t.name.version().map(|v| v.as_str()),
                latest: parts.is_some_and(|p| p.latest),
                status: t.status,
                exit_code: t.exit_code,
                command: t.command_line(),
                reproduce: t.reproduce(),
                junit_files: &t.junit_files,
                failures: &t.findings().failures,
                failures_omitted: t.findings().failures_omitted,
                tests: &t.tests,
                durations: &t.durations,
                exit: json_exit(t),
                reason: t.findings().reason.as_deref(),
                missing_paths: &t.findings().missing_paths,
                output: &t.output,
                sources: &t.sources,
                conflicting: t.conflicting,
                facts: &t.facts,
                verdict: t.findings().verdict,
                signals: &t.findings().signals,
                links: &t.findings().links,
                failure_kind: t.findings().failure_kind,
                forensics: t.findings().forensics.as_deref(),
                jobs: &t.jobs,
            }
        }
    }

    /// The report as one serde value, laid out by serde_json itself.
    fn serde_json_pretty(report: &Report) -> String {
        #[derive(Serialize)]
        struct Whole<'a> {
            schema_version: u32,
            tool: Tool,
            summary: Summary,
            regressions: Vec<&'a str>,
            suspected_flakes: Vec<&'a str>,
            runs: &'a [crate::model::RunRef],
            reruns: &'a [crate::model::Rerun],
            targets: Vec<JsonTarget<'a>>,
            warnings: &'a [Warning],
            warnings_omitted: u64,
        }
        let whole = Whole {
            schema_version: SCHEMA_VERSION,
            tool: Tool::THIS,
            summary: Summary::of(report),
            regressions: report.with_verdict(Verdict::Regression),
            suspected_flakes: report.with_verdict(Verdict::SuspectedFlake),
            runs: &report.runs,
            reruns: &report.reruns,
            targets: report.targets.iter().map(JsonTarget::from).collect(),
            warnings: &report.warnings,
            warnings_omitted: report.warnings_omitted,
        };
        serde_json::to_string_pretty(&whole).unwrap() + "\n"
    }

    #[test]
    fn the_report_is_laid_out_as_serde_json_lays_it_out() {
        // No target, one, and blocks: one short, full, one over, an odd number.
        for count in [0, 1, 255, 256, 257, 3 * TARGETS_PER_BLOCK + 7] {
            let mut report = Report::default();
            for i in 0..count {
                let mut t = Target::new(TargetName::parse(&format!("py3.1{}-redis-v{i}.0", i % 3)));
                t.status = [TargetStatus::Fail, TargetStatus::Pass][i % 2];
                t.findings_mut().verdict = (i % 2 == 0).then_some(Verdict::SuspectedFlake);
                t.output = OutputExcerpt::new([format!("line \"{i}\"\t✔"), "next".into()], 2);
                t.findings_mut().signals.push(format!("signal {i}").into());
                if i % 7 == 3 {
                    fill_every_field(&mut t, i);
                }
                report.targets.push(t);
            }
            if count % 2 == 1 {
                report.warnings.push(Warning::general("a <b> & \"c\""));
            }
            assert_eq!(
                to_json(&report),
                serde_json_pretty(&report),
                "{count} targets"
            );
        }
    }

    /// Every field of `t` set, with text that needs escaping everywhere.
    fn fill_every_field(t: &mut Target, i: usize) {
        let odd = |what: &str| format!("{what} {i} \"q\" \\ \u{1b}[31m\u{0}\u{7f}\r\n\t✔ 🚀 é");
        t.name = TargetName::parse(&odd("not a plain name"));
        t.exit_code = Some(-9);
        t.junit_files.push(odd("junit"));
        for kind in [FailureKind::Failure, FailureKind::Error] {
            t.findings_mut().failures.push(Failure {
                test: odd("tests/t.py::test"),
                kind,
                message: odd("message"),
                details: odd("details\nline two"),
                attempts: 2,
                source: FailureSource::Junit,
                category: Category::Network,
                evidence: (kind == FailureKind::Error).then(|| odd("evidence")),
            });
        }
        t.findings_mut().failures_omitted = 3;
        t.tests.add(crate::model::CaseOutcome::Failed, 1);
        t.durations = Durations::new(Some(1.5), None, Some(0.1 + 0.2));
        t.findings_mut().reason = Some(odd("reason").into());
        t.findings_mut().missing_paths.push(odd("path"));
        t.add_source(&std::sync::Arc::from(odd("source")));
        t.conflicting = true;
        t.facts = Facts {
            newly_added: Some(true),
            failed_on_pythons: ["3.8", "pypy3.10"].into_iter().collect(),
            passed_on_pythons: [odd("3.12")].into_iter().collect(),
            last_working_version: Some(odd("1.0").into()),
            pin: Some(Box::new(Pin {
                package: odd("package").into(),
                version: None,
            })),
        };
        t.findings_mut().signals.push(odd("signal").into());
        t.findings_mut().links.push(Link {
            label: odd("label"),
            url: odd("url"),
            verified: true,
        });
        t.findings_mut().failure_kind = Some(ExitReason::Killed);
        t.findings_mut().forensics = Some(Box::new(Forensics {
            taken: odd("taken"),
            problems: vec![odd("problem")],
            ..Forensics::default()
        }));
        t.jobs.push(JobRef {
            id: 7,
            name: odd("job"),
            url: odd("url"),
            attempt: 1,
            run_id: 8,
            workflow: odd("workflow"),
            python: None,
            conclusion: Some(odd("failure")),
        });
    }

    /// Strings are escaped as serde_json escapes them: every byte value of
    /// one byte, runs of eight and more around each, and non-ASCII text.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut texts: Vec<String> = (0..=0x7f_u8).map(|b| char::from(b).to_string()).collect();
        for b in 0..=0x7f_u8 {
            for (before, after) in [(0, 0), (7, 0), (8, 1), (9, 16), (15, 3)] {
                let mut s = "a".repeat(before);
                s.push(char::from(b));
                s.push_str(&"é✔".repeat(after));
                texts.push(s);
            }
        }
        texts.push(String::new());
        texts.push("plain text longer than eight bytes, with no escape".into());
        for s in &texts {
            let mut ours = Vec::new();
            push_str(&mut ours, s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn pretty_is_serde_json_pretty_byte_for_byte() {
        // Empty and nested arrays and objects, escapes, and levels deeper than one break holds.
        let mut deep = serde_json::json!({"leaf": [1, "two\n\"", [], {}], "x": null});
        for level in 0..40 {
            deep = serde_json::json!({ format!("k{level}"): [deep, level, {"a": []}], "e": {} });
        }
        for value in [
            deep,
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!("s"),
        ] {
            let mut ours = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(&mut ours, Pretty::default());
            value.serialize(&mut ser).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string_pretty(&value).unwrap()
            );
        }
    }
}
