//! The JSON report: a stable, documented contract (`schema/report.schema.json`).
//! Field names are never renamed; later versions only add fields.

use std::borrow::Cow;
use std::io::Write as _;

use serde::Serialize;

use crate::model::{
    Durations, ExitReason, Facts, Failure, Forensics, JobRef, Link, OutputExcerpt, Report, Rerun,
    RunRef, Target, TargetStatus, TestCounts, Verdict, Warning,
};

/// Version of the report's shape.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    tool: Tool,
    summary: Summary,
    regressions: Vec<&'a str>,
    suspected_flakes: Vec<&'a str>,
    runs: &'a [RunRef],
    reruns: &'a [Rerun],
    targets: Targets<'a>,
    warnings: &'a [Warning],
    warnings_omitted: u64,
}

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

/// The targets, each shaped for the report as it is written: no copy of
/// the whole list is built.
struct Targets<'a>(&'a [Target]);

impl Serialize for Targets<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(JsonTarget::from))
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

/// Writes the report as pretty-printed JSON to `out`, as it is serialised:
/// memory does not grow with the size of the report text.
pub fn write_json<W: std::io::Write>(report: &Report, out: W) -> std::io::Result<()> {
    let doc = JsonReport {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: Summary {
            targets: report.targets.len(),
            failed: report.count(TargetStatus::Fail),
            passed: report.count(TargetStatus::Pass),
            skipped: report.count(TargetStatus::Skipped),
            not_run: report.count(TargetStatus::NotRun),
        },
        regressions: report.with_verdict(Verdict::Regression),
        suspected_flakes: report.with_verdict(Verdict::SuspectedFlake),
        runs: &report.runs,
        reruns: &report.reruns,
        targets: Targets(&report.targets),
        warnings: &report.warnings,
        warnings_omitted: report.warnings_omitted,
    };
    let mut out = std::io::BufWriter::with_capacity(64 << 10, out);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
    doc.serialize(&mut ser).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
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
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(b"]")
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
        self.level += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(b"}")
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
