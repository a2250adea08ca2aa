//! Streaming JUnit XML reader for pytest's `--junitxml` files (xunit1 and
//! xunit2) and the usual variants: a `<testsuites>` or bare `<testsuite>` root,
//! nested suites, `<failure>`, `<error>`, `<skipped>`, properties, CDATA and
//! entities.
//!
//! Memory stays flat: element buffers are reused, failure text is kept up to
//! a bound, and test cases are handed to a [`JunitSink`] one at a time.
//! Consecutive test cases with the same id are rerun attempts
//! (pytest-rerunfailures writes one per attempt): they are merged into one
//! case whose outcome is the last attempt's. Entities declared in a DOCTYPE
//! are never expanded.

use std::borrow::Cow;
use std::io::Read;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use crate::inputs::utf8::Utf8Lossy;
use crate::model::{CaseOutcome, MAX_DETAILS, MAX_MESSAGE, MAX_TEST_ID, is_plausible_env_name};

/// One test case, borrowed from the reader's buffers.
#[derive(Debug, Clone, Copy)]
pub struct JunitCase<'a> {
    /// Name of the innermost enclosing `<testsuite>` (pytest: `junit_suite_name`).
    pub suite: Option<&'a str>,
    /// The `classname` attribute.
    pub classname: &'a str,
    /// The `name` attribute.
    pub name: &'a str,
    /// The `file` attribute (xunit1).
    pub file: Option<&'a str>,
    /// Outcome of the last attempt.
    pub outcome: CaseOutcome,
    /// The `message` attribute of the failure, error or skip.
    pub message: &'a str,
    /// The text of the failure, error or skip (traceback), bounded.
    pub details: &'a str,
    /// Attempts: consecutive duplicates and `<rerunFailure>`/`<flakyFailure>` children.
    pub attempts: u32,
}

impl JunitCase<'_> {
    /// The pytest node id, rebuilt from `classname`, `name` and `file` (see [`node_id`]).
    pub fn test_id(&self) -> String {
        let mut out = String::new();
        node_id(self.classname, self.name, self.file, &mut out);
        out
    }
}

/// Receives the test cases of a file as they are read.
pub trait JunitSink {
    /// One test case.
    fn case(&mut self, case: &JunitCase<'_>);
}

impl<F: FnMut(&JunitCase<'_>)> JunitSink for F {
    fn case(&mut self, case: &JunitCase<'_>) {
        self(case)
    }
}

/// What reading one file found, besides its cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JunitSummary {
    /// Distinct `<testsuite name>` values, in order (at most 100 kept).
    pub suite_names: Vec<String>,
    /// Test cases handed to the sink.
    pub cases: u64,
    /// The root element was `<testsuites>` or `<testsuite>`.
    pub is_junit: bool,
    /// Invalid UTF-8 sequences replaced.
    pub replaced_bytes: u64,
    /// The file declared a DOCTYPE (its entities are not expanded).
    pub had_doctype: bool,
    /// The problem that stopped reading early, if any.
    pub problem: Option<JunitProblem>,
}

/// Why a file was not read to its end, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JunitProblem {
    /// Byte offset in the (UTF-8 repaired) input.
    pub position: u64,
    /// What was wrong.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Suites,
    Suite,
    Case,
    /// `<failure>`, `<error>`, `<skipped>`: text is captured.
    Result,
    /// `<rerunFailure>`, `<flakyFailure>` and friends: an earlier attempt.
    Rerun,
    Other,
}

/// An owned, reusable copy of one test case.
#[derive(Debug, Default)]
struct CaseBuf {
    has_suite: bool,
    suite: String,
    classname: String,
    name: String,
    has_file: bool,
    file: String,
    outcome: Option<CaseOutcome>,
    message: String,
    details: String,
    attempts: u32,
}

impl CaseBuf {
    fn reset(&mut self) {
        self.has_suite = false;
        self.suite.clear();
        self.classname.clear();
        self.name.clear();
        self.has_file = false;
        self.file.clear();
        self.outcome = None;
        self.message.clear();
        self.details.clear();
        self.attempts = 1;
    }

    fn same_test(&self, other: &CaseBuf) -> bool {
        self.has_suite == other.has_suite
            && self.name == other.name
            && self.classname == other.classname
            && self.suite == other.suite
            && self.file == other.file
    }
}

/// Reads one JUnit document from `input`, passing each case to `sink`.
/// Never fails: a fault ends reading and is described in [`JunitSummary::problem`],
/// after every case read before it has been passed on.
pub fn parse_junit<R: Read, S: JunitSink>(input: R, sink: &mut S) -> JunitSummary {
    let mut reader = quick_xml::Reader::from_reader(Utf8Lossy::new(input));
    {
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        config.check_end_names = true;
    }
    let mut state = State::default();
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                state.problem = Some(JunitProblem {
                    position: reader.error_position(),
                    message: format!("malformed XML: {e}"),
                });
                break;
            }
        };
        match event {
            Event::Start(e) => state.open(&e, false, sink),
            Event::Empty(e) => state.open(&e, true, sink),
            Event::End(_) => state.close(sink),
            Event::Text(t) => state.text(&t),
            Event::CData(t) => state.text(&t),
            Event::GeneralRef(r) => {
                if r.is_char_ref() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        state.push_char(c);
                    }
                } else if let Some(s) = resolve_predefined_entity(&r) {
                    state.text(s);
                } else {
                    // Declared in a DOCTYPE or unknown: shown as written, never expanded.
                    state.text("&");
                    state.text(&r);
                    state.text(";");
                }
            }
            Event::DocType(_) => state.summary.had_doctype = true,
            Event::Eof => {
                if let Some(open) = state.stack.last() {
                    state.problem = Some(JunitProblem {
                        position: reader.buffer_position(),
                        message: format!(
                            "file ends inside <{}>: truncated",
                            match open {
                                Elem::Suites => "testsuites",
                                Elem::Suite => "testsuite",
                                Elem::Case => "testcase",
                                Elem::Result => "failure",
                                Elem::Rerun | Elem::Other => "element",
                            }
                        ),
                    });
                }
                break;
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
        if state.problem.is_some() {
            break;
        }
    }
    state.flush(sink);
    let mut summary = state.summary;
    summary.problem = state.problem.or_else(|| {
        (!summary.is_junit).then(|| JunitProblem {
            position: 0,
            message: "no <testsuites> or <testsuite> element: not a JUnit report".to_owned(),
        })
    });
    summary.replaced_bytes = reader.get_ref().replaced();
    summary
}

#[derive(Default)]
struct State {
    stack: Vec<Elem>,
    /// The suite name in force for each open `<testsuite>` (its own, or inherited).
    suites: Vec<Option<String>>,
    current: CaseBuf,
    pending: CaseBuf,
    has_pending: bool,
    seen_root: bool,
    summary: JunitSummary,
    problem: Option<JunitProblem>,
}

impl State {
    fn open<S: JunitSink>(&mut self, e: &BytesStart<'_>, empty: bool, sink: &mut S) {
        let name = e.local_name();
        let name = name.as_ref();
        if !self.seen_root {
            self.seen_root = true;
            if name != "testsuites" && name != "testsuite" {
                self.problem = Some(JunitProblem {
                    position: 0,
                    message: format!(
                        "root element is <{}>, not <testsuites> or <testsuite>: not a JUnit report",
                        name.chars().take(40).collect::<String>()
                    ),
                });
                return;
            }
            self.summary.is_junit = true;
        }
        let in_case = self.stack.contains(&Elem::Case);
        let elem = match name {
            "testsuites" => Elem::Suites,
            "testsuite" => {
                let own = attr(e, "name").map(|n| {
                    self.note_suite(&n);
                    n.into_owned()
                });
                let inherited = self.suites.last().cloned().flatten();
                if !empty {
                    self.suites.push(own.or(inherited));
                }
                Elem::Suite
            }
            "testcase" => {
                self.current.reset();
                if let Some(Some(s)) = self.suites.last() {
                    self.current.has_suite = true;
                    self.current.suite.push_str(s);
                }
                // One pass over the attributes, copying into reused buffers.
                let c = &mut self.current;
                for a in e.attributes().with_checks(false).flatten() {
                    let slot = match a.key.local_name().as_ref() {
                        "classname" => &mut c.classname,
                        "name" => &mut c.name,
                        "file" => {
                            c.has_file = true;
                            &mut c.file
                        }
                        _ => continue,
                    };
                    match a.normalized_value(XmlVersion::Implicit1_0) {
                        Ok(v) => push_bounded(slot, &v, MAX_TEST_ID),
                        Err(_) => push_bounded(slot, &a.value, MAX_TEST_ID),
                    }
                }
                if empty {
                    self.current.outcome = Some(CaseOutcome::Passed);
                    self.end_case(sink);
                }
                Elem::Case
            }
            "failure" | "error" | "skipped" if in_case => {
                let outcome = match name {
                    "failure" => CaseOutcome::Failed,
                    "error" => CaseOutcome::Errored,
                    _ => CaseOutcome::Skipped,
                };
                // A failure outranks a skip; an error during teardown after a failure keeps the failure.
                let keep = matches!(
                    self.current.outcome,
                    Some(CaseOutcome::Failed | CaseOutcome::Errored)
                );
                if !keep {
                    self.current.outcome = Some(outcome);
                    self.current.message.clear();
                    self.current.details.clear();
                    if let Some(m) = attr(e, "message") {
                        push_bounded(&mut self.current.message, &m, MAX_MESSAGE);
                    }
                }
                Elem::Result
            }
            "rerunFailure" | "rerunError" | "flakyFailure" | "flakyError" if in_case => {
                self.current.attempts += 1;
                Elem::Rerun
            }
            _ => Elem::Other,
        };
        if !empty {
            self.stack.push(elem);
        }
    }

    fn close<S: JunitSink>(&mut self, sink: &mut S) {
        match self.stack.pop() {
            Some(Elem::Case) => {
                if self.current.outcome.is_none() {
                    self.current.outcome = Some(CaseOutcome::Passed);
                }
                self.end_case(sink);
            }
            Some(Elem::Suite) => {
                self.suites.pop();
                self.flush(sink);
            }
            _ => {}
        }
    }

    fn text(&mut self, t: &str) {
        // Only a failure's own text is kept: a capped traceback.
        if self.stack.last() == Some(&Elem::Result) {
            push_bounded(&mut self.current.details, t, MAX_DETAILS);
        }
    }

    fn push_char(&mut self, c: char) {
        let mut tmp = [0u8; 4];
        self.text(c.encode_utf8(&mut tmp));
    }

    /// Remembers a suite name for the summary (the first 100 distinct ones).
    fn note_suite(&mut self, name: &str) {
        let names = &mut self.summary.suite_names;
        if names.len() < 100 && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }

    /// A case is complete: merge it into the pending one if it is another attempt
    /// of the same test, else hand the pending one on and hold this one.
    fn end_case<S: JunitSink>(&mut self, sink: &mut S) {
        if self.has_pending && self.pending.same_test(&self.current) {
            let attempts = self.pending.attempts + self.current.attempts;
            std::mem::swap(&mut self.pending, &mut self.current);
            self.pending.attempts = attempts;
            return;
        }
        self.flush(sink);
        std::mem::swap(&mut self.pending, &mut self.current);
        self.has_pending = true;
    }

    fn flush<S: JunitSink>(&mut self, sink: &mut S) {
        if !self.has_pending {
            return;
        }
        self.has_pending = false;
        let p = &self.pending;
        let case = JunitCase {
            suite: p.has_suite.then_some(p.suite.as_str()),
            classname: &p.classname,
            name: &p.name,
            file: p.has_file.then_some(p.file.as_str()),
            outcome: p.outcome.unwrap_or(CaseOutcome::Passed),
            message: &p.message,
            details: &p.details,
            attempts: p.attempts.max(1),
        };
        sink.case(&case);
        self.summary.cases += 1;
    }
}

/// An attribute's value with entities resolved; undeclared entities are kept as written.
fn attr<'e>(e: &'e BytesStart<'_>, key: &str) -> Option<Cow<'e, str>> {
    for a in e.attributes().with_checks(false).flatten() {
        if a.key.local_name().as_ref() == key {
            return Some(match a.normalized_value(XmlVersion::Implicit1_0) {
                Ok(v) => v,
                Err(_) => a.value,
            });
        }
    }
    None
}

/// Appends up to `max` bytes in all (cut on a char boundary).
fn push_bounded(out: &mut String, s: &str, max: usize) {
    let room = max.saturating_sub(out.len());
    if room == 0 {
        return;
    }
    if s.len() <= room {
        out.push_str(s);
    } else {
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&s[..end]);
    }
}

/// Rebuilds pytest's node id: `tests/test_x.py::TestA::test_b[1]`.
///
/// With xunit1's `file` attribute the module is known exactly; without it the
/// classname's dotted path is split at the first segment that looks like a
/// class (`Test...` or capitalised).
pub fn node_id(classname: &str, name: &str, file: Option<&str>, out: &mut String) {
    out.clear();
    let classname = classname.trim();
    if classname.is_empty() {
        push_bounded(out, name, MAX_TEST_ID);
        return;
    }
    let (module_path, classes): (String, &str) = match file {
        Some(f) if f.ends_with(".py") => {
            let module = f.trim_end_matches(".py").replace(['/', '\\'], ".");
            let classes = classname
                .strip_prefix(module.as_str())
                .map(|r| r.trim_start_matches('.'))
                .unwrap_or("");
            (f.to_owned(), classes)
        }
        _ => {
            let split = classname
                .split('.')
                .scan(0usize, |pos, seg| {
                    let start = *pos;
                    *pos += seg.len() + 1;
                    Some((start, seg))
                })
                .find(|(_, seg)| seg.starts_with(|c: char| c.is_ascii_uppercase()))
                .map(|(start, _)| start);
            match split {
                Some(0) => (String::new(), classname),
                Some(at) => (
                    format!("{}.py", classname[..at - 1].replace('.', "/")),
                    &classname[at..],
                ),
                None => (format!("{}.py", classname.replace('.', "/")), ""),
            }
        }
    };
    let mut id = module_path;
    for class in classes.split('.').filter(|c| !c.is_empty()) {
        if !id.is_empty() {
            id.push_str("::");
        }
        id.push_str(class);
    }
    if !id.is_empty() {
        id.push_str("::");
    }
    id.push_str(name);
    push_bounded(out, &id, MAX_TEST_ID);
}

/// The tox target a JUnit file name names: `.junitxml-<target>`,
/// `junit-<target>.xml`, `<target>.junit.xml`.
pub fn target_from_file_name(file_name: &str) -> Option<&str> {
    let candidate = if let Some(rest) = file_name.strip_prefix(".junitxml-") {
        rest.strip_suffix(".xml").unwrap_or(rest)
    } else if let Some(rest) = file_name.strip_prefix("junit-") {
        rest.strip_suffix(".xml")?
    } else {
        file_name.strip_suffix(".junit.xml")?
    };
    is_plausible_env_name(candidate).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Owned {
        suite: Option<String>,
        test: String,
        outcome: CaseOutcome,
        message: String,
        details: String,
        attempts: u32,
    }

    fn parse(xml: &str) -> (Vec<Owned>, JunitSummary) {
        let mut cases = Vec::new();
        let summary = parse_junit(xml.as_bytes(), &mut |c: &JunitCase<'_>| {
            cases.push(Owned {
                suite: c.suite.map(str::to_owned),
                test: c.test_id(),
                outcome: c.outcome,
                message: c.message.to_owned(),
                details: c.details.to_owned(),
                attempts: c.attempts,
            })
        });
        (cases, summary)
    }

    #[test]
    fn bare_testsuite_root_with_entities_and_cdata() {
        let (cases, s) = parse(
            r#"<?xml version="1.0"?><testsuite name="py3.12-x"><testcase classname="tests.test_a" name="test_ok"/>
            <testcase classname="tests.test_a.TestK" name="test_f[&lt;1&gt;]"><failure message="a &amp; b&#10;more"><![CDATA[line <1>]]> &amp; tail</failure></testcase></testsuite>"#,
        );
        assert!(s.problem.is_none(), "{:?}", s.problem);
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].test, "tests/test_a.py::test_ok");
        assert_eq!(cases[0].outcome, CaseOutcome::Passed);
        assert_eq!(cases[1].test, "tests/test_a.py::TestK::test_f[<1>]");
        assert_eq!(cases[1].message, "a & b\nmore");
        assert_eq!(cases[1].details, "line <1> & tail");
        assert_eq!(cases[1].suite.as_deref(), Some("py3.12-x"));
    }

    #[test]
    fn consecutive_duplicates_are_attempts() {
        let (cases, _) = parse(
            r#"<testsuites><testsuite name="s"><testcase classname="t" name="a"/><testcase classname="t" name="a"/>
            <testcase classname="t" name="b"/><testcase classname="t" name="b"/><testcase classname="t" name="b"><failure message="boom"/></testcase></testsuite></testsuites>"#,
        );
        assert_eq!(cases.len(), 2);
        assert_eq!(
            (cases[0].attempts, cases[0].outcome),
            (2, CaseOutcome::Passed)
        );
        assert_eq!(
            (cases[1].attempts, cases[1].outcome),
            (3, CaseOutcome::Failed)
        );
    }

    #[test]
    fn flaky_failure_children_count_as_attempts() {
        let (cases, _) = parse(
            r#"<testsuite name="s"><testcase classname="t" name="a"><flakyFailure message="x">tb</flakyFailure><flakyFailure message="y"/></testcase></testsuite>"#,
        );
        assert_eq!(
            (cases[0].attempts, cases[0].outcome),
            (3, CaseOutcome::Passed)
        );
        assert_eq!(cases[0].details, "");
    }

    #[test]
    fn nested_suites_use_innermost_name() {
        let (cases, s) = parse(
            r#"<testsuites><testsuite name="outer"><testsuite name="inner"><testcase classname="t" name="a"/></testsuite><testcase classname="t" name="b"/></testsuite></testsuites>"#,
        );
        assert_eq!(cases[0].suite.as_deref(), Some("inner"));
        assert_eq!(cases[1].suite.as_deref(), Some("outer"));
        assert_eq!(s.suite_names, vec!["outer", "inner"]);
    }

    #[test]
    fn truncated_file_keeps_cases_before_the_cut() {
        let (cases, s) = parse(
            r#"<testsuites><testsuite name="s"><testcase classname="t" name="a"/><testcase classname="t" name="b"><failure message="x">trace"#,
        );
        assert_eq!(cases.len(), 1);
        let p = s.problem.expect("problem");
        assert!(p.message.contains("truncated"), "{}", p.message);
    }

    #[test]
    fn mismatched_tags_are_reported_with_position() {
        let (cases, s) =
            parse(r#"<testsuite name="s"><testcase classname="t" name="a"></testsuite>"#);
        assert!(cases.is_empty());
        let p = s.problem.unwrap();
        assert!(p.message.starts_with("malformed XML"), "{}", p.message);
        assert!(p.position > 0);
    }

    #[test]
    fn html_is_not_junit() {
        let (cases, s) = parse("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>");
        assert!(cases.is_empty());
        assert!(!s.is_junit);
        assert!(s.problem.unwrap().message.contains("not a JUnit report"));
    }

    #[test]
    fn doctype_entities_are_never_expanded() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;"><!ENTITY ext SYSTEM "file:///etc/passwd">]>
        <testsuite name="s"><testcase classname="t" name="a"><failure message="&lol2;">&lol2; &ext;</failure></testcase></testsuite>"#;
        let (cases, s) = parse(xml);
        assert!(s.had_doctype);
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].details, "&lol2; &ext;");
        assert!(!cases[0].message.contains("lollol"));
    }

    #[test]
    fn failure_text_is_bounded() {
        let big = "x".repeat(MAX_DETAILS * 3);
        let xml = format!(
            r#"<testsuite name="s"><testcase classname="t" name="a"><failure message="m">{big}</failure></testcase></testsuite>"#
        );
        let (cases, _) = parse(&xml);
        assert_eq!(cases[0].details.len(), MAX_DETAILS);
    }

    #[test]
    fn node_ids() {
        let mut out = String::new();
        node_id(
            "tests.test_rerun",
            "test_a",
            Some("tests/test_rerun.py"),
            &mut out,
        );
        assert_eq!(out, "tests/test_rerun.py::test_a");
        node_id("tests.test_x.TestA.TestB", "test_b[1]", None, &mut out);
        assert_eq!(out, "tests/test_x.py::TestA::TestB::test_b[1]");
        node_id(
            "tests.integrations.redis.test_redis",
            "test_c",
            None,
            &mut out,
        );
        assert_eq!(out, "tests/integrations/redis/test_redis.py::test_c");
        node_id("", "collection", None, &mut out);
        assert_eq!(out, "collection");
    }

    #[test]
    fn file_names_name_targets() {
        assert_eq!(
            target_from_file_name(".junitxml-py3.12-redis-v6.4.0"),
            Some("py3.12-redis-v6.4.0")
        );
        assert_eq!(
            target_from_file_name("junit-py3.12-common.xml"),
            Some("py3.12-common")
        );
        assert_eq!(
            target_from_file_name("py3.12-common.junit.xml"),
            Some("py3.12-common")
        );
        assert_eq!(target_from_file_name("report.xml"), None);
    }
}
