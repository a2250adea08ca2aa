//! The JSON report: a stable, documented contract (`schema/report.schema.json`).
//! Field names are never renamed; later versions only add fields.

use std::borrow::Cow;
use std::io::Write as _;

use serde::Serialize;

use crate::model::{
    Durations, ExitReason, Facts, Failure, Forensics, JobRef, Link, OutputExcerpt, Report, Target,
    TargetStatus, TestCounts, Verdict,
};

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
    signals: &'a [String],
    links: &'a [Link],
    failure_kind: Option<ExitReason>,
    forensics: Option<&'a Forensics>,
    jobs: &'a [JobRef],
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
            failures: &t.failures,
            failures_omitted: t.failures_omitted,
            tests: &t.tests,
            durations: &t.durations,
            exit: t.exit.as_deref().map(|e| JsonExit {
                code: e.code,
                seconds: e.seconds,
                cwd: e.cwd.expand(t.name.as_str()),
                command: e.command.expand(t.name.as_str()),
                setup_step: e.setup_step,
            }),
            reason: t.reason.as_deref(),
            missing_paths: &t.missing_paths,
            output: &t.output,
            sources: &t.sources,
            conflicting: t.conflicting,
            facts: &t.facts,
            verdict: t.verdict,
            signals: &t.signals,
            links: &t.links,
            failure_kind: t.failure_kind,
            forensics: t.forensics.as_deref(),
            jobs: &t.jobs,
        }
    }
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
            value_at(buf, 2, &JsonTarget::from(t))?;
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
        let from = usize::from(first);
        match BREAK.get(from..2 + 2 * self.level) {
            Some(text) => w.write_all(text),
            None => {
                w.write_all(&BREAK[from..2])?;
                (0..self.level).try_for_each(|_| w.write_all(b"  "))
            }
        }
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
    use crate::model::{OutputExcerpt, TargetName, Warning};

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
                t.verdict = (i % 2 == 0).then_some(Verdict::SuspectedFlake);
                t.output = OutputExcerpt::new([format!("line \"{i}\"\t✔"), "next".into()], 2);
                t.signals.push(format!("signal {i}"));
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
