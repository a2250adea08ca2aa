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
use std::io::{BufRead, Read};

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;

use crate::inputs::utf8::Utf8Lossy;
use crate::model::{CaseOutcome, MAX_DETAILS, MAX_MESSAGE, MAX_TEST_ID, is_plausible_env_name};

/// One test case, borrowed from the reader's buffers.
#[derive(Debug, Clone, Copy)]
pub struct JunitCase<'a> {
    /// Name of the innermost enclosing `<testsuite>` (pytest: `junit_suite_name`).
    pub suite: Option<&'a str>,
    /// In a later piece of a split file (see [`parse_piece`]): the case's suite
    /// was opened before the piece began, so `suite` is not known here.
    pub inherited: bool,
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
    /// The first `<testsuite name>` value.
    pub first_suite: Option<String>,
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
#[derive(Debug, Default, Clone)]
pub struct CaseBuf {
    inherited: bool,
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
        self.inherited = false;
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

    /// Whether `other` is another attempt of this test (pytest-rerunfailures
    /// writes one `<testcase>` per attempt, one after another).
    pub fn same_test(&self, other: &CaseBuf) -> bool {
        self.inherited == other.inherited
            && self.has_suite == other.has_suite
            && self.name == other.name
            && self.classname == other.classname
            && self.suite == other.suite
            && self.file == other.file
    }

    /// An inherited case's suite, once the pieces before it are known.
    pub fn settle(&mut self, context: &Context) {
        if self.inherited {
            self.inherited = false;
            self.suite.clear();
            self.has_suite = false;
            if let Some(s) = context.suite() {
                self.has_suite = true;
                self.suite.push_str(s);
            }
        }
    }

    /// The case as handed to a sink.
    pub fn case(&self) -> JunitCase<'_> {
        JunitCase {
            suite: self.has_suite.then_some(self.suite.as_str()),
            inherited: self.inherited,
            classname: &self.classname,
            name: &self.name,
            file: self.has_file.then_some(self.file.as_str()),
            outcome: self.outcome.unwrap_or(CaseOutcome::Passed),
            message: &self.message,
            details: &self.details,
            attempts: self.attempts.max(1),
        }
    }

    /// `later` is another attempt of this case: this takes the later
    /// attempt's outcome and text, and the attempts of both; `later` keeps
    /// this one's buffers, for reuse.
    pub fn absorb(&mut self, later: &mut CaseBuf) {
        let attempts = self.attempts + later.attempts;
        std::mem::swap(self, later);
        self.attempts = attempts;
    }
}

/// Which part of a file a [`parse_piece`] call reads. A large file is split
/// before `<testcase` or `<testsuite` tags and its pieces read on several
/// threads; [`Seam`]s then join them, or say they cannot be joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Piece {
    /// The whole file.
    #[default]
    Whole,
    /// From the start of the file to a split.
    First,
    /// From a split to the next.
    Middle,
    /// From a split to the end of the file.
    Last,
}

impl Piece {
    /// The piece begins after a split.
    fn later(self) -> bool {
        matches!(self, Piece::Middle | Piece::Last)
    }

    /// The piece ends at a split, not at the end of the file.
    fn ends_at_split(self) -> bool {
        matches!(self, Piece::First | Piece::Middle)
    }
}

/// An element open at a split.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OpenElem {
    elem: Elem,
    /// Its qualified name, as end tags must repeat it.
    name: Vec<u8>,
    /// For a `<testsuite>`: the suite name in force inside it.
    suite: Option<String>,
}

/// What a piece leaves at its edges, for joining it to its neighbours.
#[derive(Debug, Default)]
pub struct Seam {
    /// End tags (qualified names) of elements opened before the piece, in order.
    underflow: Vec<Vec<u8>>,
    /// Elements still open where the piece ends.
    open: Vec<OpenElem>,
    /// A later piece's first case, held back: it may be another attempt of
    /// the previous piece's last case.
    pub first: Option<CaseBuf>,
    /// A `</testsuite>` ended the previous piece's last case before this
    /// piece's first case.
    pub suite_ended_first: bool,
    /// The piece's last case, not handed on: the next piece may hold more attempts of it.
    pub tail: Option<CaseBuf>,
    /// The piece holds a shape the join does not handle (the file is then read whole).
    pub complex: bool,
}

/// The elements open at a split, as known from the pieces before it.
#[derive(Debug, Default, Clone)]
pub struct Context {
    open: Vec<OpenElem>,
}

/// Most end tags of elements opened before a piece that it may close.
const MAX_UNDERFLOW: usize = 64;

impl Context {
    /// The suite name in force at the split: an inherited case's suite.
    pub fn suite(&self) -> Option<&str> {
        self.open
            .iter()
            .rev()
            .find(|o| o.elem == Elem::Suite)
            .and_then(|o| o.suite.as_deref())
    }

    /// Nothing is open: the document is complete.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Whether the piece after this split can be joined: the split is not
    /// inside a test case, and the piece's end tags close what is open here
    /// (the check quick-xml makes on a whole file).
    pub fn can_join(&self, seam: &Seam) -> bool {
        if seam.complex
            || self
                .open
                .iter()
                .any(|o| matches!(o.elem, Elem::Case | Elem::Result | Elem::Rerun))
            || seam.underflow.len() > self.open.len()
        {
            return false;
        }
        seam.underflow
            .iter()
            .zip(self.open.iter().rev())
            .all(|(closed, open)| *closed == open.name)
    }

    /// The elements open after the piece (call after [`Context::can_join`]).
    pub fn advance(&mut self, seam: &Seam) {
        let keep = self.open.len().saturating_sub(seam.underflow.len());
        self.open.truncate(keep);
        self.open.extend(seam.open.iter().cloned());
    }
}

/// Reads one JUnit document from `input`, passing each case to `sink`.
/// Never fails: a fault ends reading and is described in [`JunitSummary::problem`],
/// after every case read before it has been passed on.
pub fn parse_junit<R: Read, S: JunitSink>(input: R, sink: &mut S) -> JunitSummary {
    parse_piece(input, Piece::Whole, sink).0
}

/// Reads one piece of a JUnit document (see [`Piece`]). A later piece begins
/// inside elements it has not seen: their end tags are recorded in the
/// [`Seam`], and its cases before any suite of its own are marked
/// [`JunitCase::inherited`]. A piece that does not reach the end of the file
/// keeps its last case in the seam, unread elements open.
pub fn parse_piece<R: Read, S: JunitSink>(
    input: R,
    piece: Piece,
    sink: &mut S,
) -> (JunitSummary, Seam) {
    read_piece(input, piece, sink, true)
}

/// [`parse_piece`], passing over captured output without the XML reader
/// when `skip_output` (as it always does; the tests compare the two).
fn read_piece<R: Read, S: JunitSink>(
    input: R,
    piece: Piece,
    sink: &mut S,
    skip_output: bool,
) -> (JunitSummary, Seam) {
    let mut reader = quick_xml::Reader::from_reader(Utf8Lossy::new(input));
    {
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        // A later piece closes elements it never saw: State checks its end tags.
        config.check_end_names = !piece.later();
        config.allow_unmatched_ends = piece.later();
    }
    let mut state = State {
        piece,
        seen_root: piece.later(),
        ..State::default()
    };
    let mut buf = Vec::with_capacity(64 * 1024);
    // Bytes of captured output passed over without the XML reader (see
    // [`skip_captured_output`]), which its positions do not count.
    let mut skipped = 0;
    loop {
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                state.problem = Some(JunitProblem {
                    position: reader.error_position() + skipped,
                    message: format!("malformed XML: {e}"),
                });
                break;
            }
        };
        match event {
            Event::Start(e) => {
                state.open(&e, false, sink);
                if skip_output && matches!(local_name(e.name().0), "system-out" | "system-err") {
                    skipped += skip_captured_output(reader.get_mut());
                }
            }
            Event::Empty(e) => state.open(&e, true, sink),
            Event::End(e) => state.close(e.name().as_ref().as_bytes(), sink),
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
            Event::DocType(_) => {
                state.summary.had_doctype = true;
                state.seam.complex |= piece.later();
            }
            Event::Eof if piece.ends_at_split() => {
                state.seam.open = state.open_elems();
                break;
            }
            Event::Eof => {
                if let Some(open) = state.stack.last() {
                    state.problem = Some(JunitProblem {
                        position: reader.buffer_position() + skipped,
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
            Event::Decl(_) => state.seam.complex |= piece.later(),
            Event::Comment(_) | Event::PI(_) => {}
        }
        if state.problem.is_some() {
            break;
        }
    }
    if piece.ends_at_split() && state.problem.is_none() {
        if state.has_pending {
            state.has_pending = false;
            state.seam.tail = Some(state.pending.clone());
        }
    } else {
        state.flush(sink);
    }
    let mut summary = state.summary;
    // In a split file, the joined pieces tell (a first piece may end before the root).
    summary.problem = state.problem.or_else(|| {
        (!summary.is_junit && piece == Piece::Whole).then(|| JunitProblem {
            position: 0,
            message: "no <testsuites> or <testsuite> element: not a JUnit report".to_owned(),
        })
    });
    summary.replaced_bytes = reader.get_ref().replaced();
    (summary, state.seam)
}

#[derive(Default)]
struct State {
    piece: Piece,
    stack: Vec<Elem>,
    /// In a piece: the qualified names of the open elements, concatenated, and where each starts.
    names: Vec<u8>,
    name_starts: Vec<usize>,
    seam: Seam,
    /// In a later piece: a case of a suite of its own was read, or an
    /// inherited `</testsuite>`: later inherited cases are not joined.
    left_inherited: bool,
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
        let name = local_name(e.name().0);
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
                    if self.summary.first_suite.is_none() {
                        self.summary.first_suite = Some(n.clone().into_owned());
                    }
                    n.into_owned()
                });
                // An unnamed suite inside one the piece did not see: its name is not known here.
                self.seam.complex |= self.piece.later() && own.is_none() && self.suites.is_empty();
                let inherited = self.suites.last().cloned().flatten();
                if !empty {
                    self.suites.push(own.or(inherited));
                }
                Elem::Suite
            }
            "testcase" => {
                self.current.reset();
                if self.piece.later() && self.suites.is_empty() {
                    self.current.inherited = true;
                    self.seam.complex |= self.left_inherited;
                } else {
                    self.left_inherited |= self.piece.later();
                }
                if let Some(Some(s)) = self.suites.last() {
                    self.current.has_suite = true;
                    self.current.suite.push_str(s);
                }
                // One pass over the attributes, copying into reused buffers.
                let c = &mut self.current;
                for a in attributes(e) {
                    let slot = match local_name(a.key.0) {
                        "classname" => &mut c.classname,
                        "name" => &mut c.name,
                        "file" => {
                            c.has_file = true;
                            &mut c.file
                        }
                        _ => continue,
                    };
                    push_bounded(slot, &value(a), MAX_TEST_ID);
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
            if self.piece != Piece::Whole {
                self.name_starts.push(self.names.len());
                self.names.extend_from_slice(e.name().as_ref().as_bytes());
            }
        }
    }

    fn close<S: JunitSink>(&mut self, name: &[u8], sink: &mut S) {
        if self.piece != Piece::Whole {
            match self.name_starts.pop() {
                Some(start) => {
                    if self.names[start..] != *name {
                        self.problem = Some(JunitProblem {
                            position: 0,
                            message: "malformed XML: mismatched end tag".to_owned(),
                        });
                        return;
                    }
                    self.names.truncate(start);
                }
                // Closes an element opened before this piece.
                None if self.piece.later() => {
                    self.seam.underflow.push(name.to_vec());
                    self.seam.complex |= self.seam.underflow.len() > MAX_UNDERFLOW;
                    match name.rsplit(|&b| b == b':').next() {
                        Some(b"testsuite") => {
                            self.left_inherited = true;
                            self.suite_ends(sink);
                        }
                        Some(b"testsuites") => {}
                        _ => self.seam.complex = true,
                    }
                    return;
                }
                None => {
                    self.problem = Some(JunitProblem {
                        position: 0,
                        message: "malformed XML: end tag without a start".to_owned(),
                    });
                    return;
                }
            }
        }
        match self.stack.pop() {
            Some(Elem::Case) => {
                if self.current.outcome.is_none() {
                    self.current.outcome = Some(CaseOutcome::Passed);
                }
                self.end_case(sink);
            }
            Some(Elem::Suite) => {
                self.suites.pop();
                self.suite_ends(sink);
            }
            _ => {}
        }
    }

    /// A `</testsuite>`: the pending case cannot have more attempts.
    fn suite_ends<S: JunitSink>(&mut self, sink: &mut S) {
        if !self.has_pending && self.seam.first.is_none() && self.summary.cases == 0 {
            self.seam.suite_ended_first = true;
        }
        self.flush(sink);
    }

    /// The elements open at the end of a piece.
    fn open_elems(&self) -> Vec<OpenElem> {
        let mut suites = self.suites.iter();
        self.stack
            .iter()
            .zip(&self.name_starts)
            .enumerate()
            .map(|(i, (&elem, &start))| {
                let end = self
                    .name_starts
                    .get(i + 1)
                    .copied()
                    .unwrap_or(self.names.len());
                OpenElem {
                    elem,
                    name: self.names[start..end].to_vec(),
                    suite: if elem == Elem::Suite {
                        suites.next().cloned().flatten()
                    } else {
                        None
                    },
                }
            })
            .collect()
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

    /// A case is complete: merge it into the pending one if it is another attempt
    /// of the same test, else hand the pending one on and hold this one.
    fn end_case<S: JunitSink>(&mut self, sink: &mut S) {
        if self.has_pending && self.pending.same_test(&self.current) {
            self.pending.absorb(&mut self.current);
            return;
        }
        if self.has_pending {
            self.flush(sink);
        }
        std::mem::swap(&mut self.pending, &mut self.current);
        self.has_pending = true;
    }

    fn flush<S: JunitSink>(&mut self, sink: &mut S) {
        if !self.has_pending {
            return;
        }
        self.has_pending = false;
        // A later piece's first case waits for the join: it may continue the previous piece's last.
        if self.piece.later() && self.seam.first.is_none() && self.summary.cases == 0 {
            self.seam.first = Some(self.pending.clone());
            return;
        }
        sink.case(&self.pending.case());
        self.summary.cases += 1;
    }
}

/// Passes over the text of a `<system-out>` or `<system-err>` just opened,
/// up to the next markup that is not a comment or a CDATA section (its end
/// tag, as a rule), which is left for the XML reader; returns the bytes
/// passed over. Nothing of the captured output is kept, and it is often
/// most of a report's events: every entity in it (`&lt;`, `&amp;`) is one
/// for the XML reader, with its text split around it. So a malformed entity
/// in captured output no longer ends the reading of the file.
///
/// A comment or CDATA section is passed over only when its end is in the
/// bytes at hand, else the reader reads it; so is any other markup.
fn skip_captured_output<R: BufRead>(input: &mut R) -> u64 {
    let mut total = 0;
    loop {
        let Ok(chunk) = input.fill_buf() else {
            // The reader meets the error again, and reports it.
            return total;
        };
        if chunk.is_empty() {
            return total;
        }
        let (stop, whole) = (text_end(chunk), chunk.len());
        input.consume(stop);
        total += stop as u64;
        if stop < whole {
            return total;
        }
    }
}

/// Where the text of `chunk` ends: at the first `<` that does not open a
/// comment or a CDATA section ending in `chunk`, else at its end.
fn text_end(chunk: &[u8]) -> usize {
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'<', &chunk[at..]) {
        let lt = at + i;
        let rest = &chunk[lt..];
        let end = if rest.starts_with(b"<!--") {
            memchr::memmem::find(&rest[4..], b"-->").map(|e| 4 + e + 3)
        } else if rest.starts_with(b"<![CDATA[") {
            memchr::memmem::find(&rest[9..], b"]]>").map(|e| 9 + e + 3)
        } else {
            None
        };
        match end {
            Some(len) => at = lt + len,
            None => return lt,
        }
    }
    chunk.len()
}

/// An attribute's value with entities resolved; undeclared entities are kept as written.
fn attr<'e>(e: &'e BytesStart<'_>, key: &str) -> Option<Cow<'e, str>> {
    attributes(e)
        .find(|a| local_name(a.key.0) == key)
        .map(value)
}

/// A name without its namespace prefix, as quick-xml's `local_name` gives
/// it; names are short, so a plain loop beats a vector search.
fn local_name(name: &str) -> &str {
    match name.bytes().position(|b| b == b':') {
        Some(colon) => name.get(colon + 1..).unwrap_or_default(),
        None => name,
    }
}

/// A value as quick-xml normalizes it (entities resolved, tab and line ends
/// as spaces); one it cannot normalize is kept as written.
fn value(a: Attribute<'_>) -> Cow<'_, str> {
    // Nothing to normalize: no entity, and no byte below a space.
    let plain = !a
        .value
        .bytes()
        .fold(false, |odd, b| odd | (b < b' ') | (b == b'&'));
    if plain {
        return a.value;
    }
    match a.normalized_value(XmlVersion::Implicit1_0) {
        Ok(v) => v,
        Err(_) => a.value,
    }
}

/// A start tag's attributes, in order, exactly as quick-xml's iterator gives
/// them without its duplicate check. The plain form every JUnit writer uses
/// (`name="value"`, after optional whitespace) is split here; from the first
/// attribute of any other form on, quick-xml's own iterator reads the rest.
fn attributes<'e>(e: &'e BytesStart<'_>) -> Attributes<'e> {
    Attributes {
        raw: e.attributes_raw(),
        at: 0,
        parsed: None,
    }
}

struct Attributes<'e> {
    /// The tag's text after its name.
    raw: &'e str,
    at: usize,
    parsed: Option<std::iter::Flatten<quick_xml::events::attributes::Attributes<'e>>>,
}

impl<'e> Iterator for Attributes<'e> {
    type Item = Attribute<'e>;

    fn next(&mut self) -> Option<Attribute<'e>> {
        if let Some(parsed) = &mut self.parsed {
            return parsed.next();
        }
        let bytes = self.raw.as_bytes();
        let space = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        let mut at = self.at;
        while at < bytes.len() && space(bytes[at]) {
            at += 1;
        }
        if at == bytes.len() {
            self.at = at;
            return None;
        }
        let start = at;
        while at < bytes.len() && !space(bytes[at]) && bytes[at] != b'=' {
            at += 1;
        }
        let eq = at;
        if eq > start
            && bytes.get(eq) == Some(&b'=')
            && let Some(&quote @ (b'"' | b'\'')) = bytes.get(eq + 1)
            && let Some(len) = memchr::memchr(quote, &bytes[eq + 2..])
            // Every boundary is an ASCII byte: the slices are whole characters.
            && let (Some(key), Some(value)) = (
                self.raw.get(start..eq),
                self.raw.get(eq + 2..eq + 2 + len),
            )
        {
            self.at = eq + 3 + len;
            return Some(Attribute {
                key: QName(key),
                value: Cow::Borrowed(value),
            });
        }
        // Another form (spaces around `=`, no value, no quotes): quick-xml reads on from here.
        let mut parsed = quick_xml::events::attributes::Attributes::new(self.raw, start);
        parsed.with_checks(false);
        self.parsed.insert(parsed.flatten()).next()
    }
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
        parse_skipping(xml.as_bytes(), true)
    }

    /// Reads a whole document, with or without passing over captured output.
    fn parse_skipping(xml: &[u8], skip_output: bool) -> (Vec<Owned>, JunitSummary) {
        let mut cases = Vec::new();
        let sink = &mut |c: &JunitCase<'_>| {
            cases.push(Owned {
                suite: c.suite.map(str::to_owned),
                test: c.test_id(),
                outcome: c.outcome,
                message: c.message.to_owned(),
                details: c.details.to_owned(),
                attempts: c.attempts,
            })
        };
        let summary = read_piece(xml, Piece::Whole, sink, skip_output).0;
        (cases, summary)
    }

    /// Captured output of every shape the reader must not be misled by:
    /// entities, CDATA and comments holding end tags and `<testcase`, nested
    /// elements, empty elements, and text longer than the reader's buffer
    /// with markup across its edges. Each document reads the same with the
    /// output passed over as with every event of it read, positions of
    /// errors included.
    #[test]
    fn captured_output_passed_over_reads_as_read_event_by_event() {
        let parts = [
            "plain text",
            "a &lt;b&gt; &amp; &quot;q&quot; &#233; &#x1F680;",
            "<![CDATA[ </system-out> <testcase name=\"x\"/> ]]>",
            "<!-- </system-out> -->",
            "<![CDATA[ unfinished",
            "<!-- unfinished",
            "<inner>text</inner>",
            "<inner/>",
            "<?pi x?>",
            "]]> -->",
            "caf\u{e9} \u{1F680}\n",
        ];
        let mut pick = crate::testing::picker(0x00c0_ffee);
        let mut docs: Vec<String> = Vec::new();
        for _ in 0..400 {
            let mut out = String::new();
            for _ in 0..pick(4) {
                out.push_str(parts[pick(parts.len())]);
            }
            let tag = ["system-out", "system-err"][pick(2)];
            let ending = [
                "</testcase>",
                "</testcase></testsuite>",
                "",
                "</testcase><testcase name=\"b\"/></testsuite>",
            ][pick(4)];
            docs.push(format!(
                "<testsuite name=\"s\"><testcase classname=\"m\" name=\"a\"><failure message=\"m\">E  x &amp; y</failure><{tag}>{out}</{tag}>{ending}"
            ));
        }
        // Longer than a buffer of the reader: markup across every edge.
        let long_text = "x &lt; y <![CDATA[ <a> ]]> <!-- c --> ".repeat(20_000);
        for tail in 0..40 {
            docs.push(format!(
                "<testsuite><testcase name=\"a\"><system-out>{}{long_text}</system-out></testcase><testcase name=\"b\"/></testsuite>",
                "y".repeat(tail)
            ));
        }
        for doc in &docs {
            let skipping = parse_skipping(doc.as_bytes(), true);
            let reading = parse_skipping(doc.as_bytes(), false);
            assert_eq!(skipping, reading, "{doc:.300}");
        }
    }

    /// A malformed entity in captured output is passed over with it, where
    /// it ended the reading: the cases after it are read. One in a failure's
    /// text still ends it.
    #[test]
    fn a_broken_entity_in_captured_output_does_not_end_the_reading() {
        let doc = |inside: &str| {
            format!(
                "<testsuite name=\"s\"><testcase name=\"a\">{inside}</testcase><testcase name=\"b\"/></testsuite>"
            )
        };
        let (cases, summary) = parse(&doc("<system-out>a & b</system-out>"));
        assert_eq!(cases.len(), 2);
        assert_eq!(summary.problem, None);
        let (cases, summary) =
            parse_skipping(doc("<system-out>a & b</system-out>").as_bytes(), false);
        assert!(summary.problem.is_some() && cases.len() < 2);
        let (_, summary) = parse(&doc("<failure>a & b</failure>"));
        assert!(summary.problem.is_some());
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
        assert_eq!(s.first_suite.as_deref(), Some("outer"));
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

    /// What the reader did before: quick-xml's unchecked iterator, values
    /// normalized (or kept as written when they cannot be).
    fn quick_xml_attributes(e: &BytesStart<'_>) -> Vec<(String, String)> {
        let mut parsed = e.attributes();
        parsed.with_checks(false);
        parsed
            .flatten()
            .map(|a| {
                let key = a.key.local_name().as_ref().to_owned();
                let value = match a.normalized_value(XmlVersion::Implicit1_0) {
                    Ok(v) => v.into_owned(),
                    Err(_) => a.value.into_owned(),
                };
                (key, value)
            })
            .collect()
    }

    #[test]
    fn attributes_read_as_quick_xml_reads_them() {
        // Attributes of the plain form, with entities, tabs, line ends and Unicode in values.
        const PLAIN: [&str; 14] = [
            " name=\"x\"",
            "\tclassname='a.b'",
            "\nfile=\"f.py\"",
            " time=\"0.1\"",
            "name=\"a&amp;b\"",
            " x:name=\"n\"",
            " name=\"\"",
            " name=\"é\u{1F680}\"",
            " name=\"a\tb\r\nc\"",
            " m=\"&#65;&#x42;\"",
            " m=\"&bogus;\"",
            " m=\"&#xD800;\"",
            " q='a\"b'",
            "\r\n name=\"x\"  ",
        ];
        // Every way a tag may leave it.
        const ODD: [&str; 17] = [
            " ",
            "=",
            " = ",
            "\"",
            "'",
            "=v",
            "/",
            "é",
            " name = \"x\"",
            " name",
            " name=",
            " name=\"open",
            " =\"v\"",
            ":x=\"1\"",
            " a=b c=\"d\"",
            " name \"x\"",
            " name\t'x'",
        ];
        let mut pick = crate::testing::picker(7);
        let (mut split, mut handed_over) = (0, 0);
        for _ in 0..20_000 {
            let mut tag = String::from("testcase");
            for _ in 0..1 + pick(6) {
                tag.push_str(match pick(6) {
                    0 => ODD[pick(ODD.len())],
                    _ => PLAIN[pick(PLAIN.len())],
                });
            }
            let e = BytesStart::from_content(tag.as_str(), "testcase".len());
            let mut read = attributes(&e);
            let ours: Vec<(String, String)> = read
                .by_ref()
                .map(|a| (local_name(a.key.0).to_owned(), value(a).into_owned()))
                .collect();
            assert_eq!(ours, quick_xml_attributes(&e), "{tag:?}");
            match read.parsed {
                None => split += 1,
                Some(_) => handed_over += 1,
            }
        }
        // Both ways were taken often.
        assert!(
            split > 5_000 && handed_over > 5_000,
            "{split} {handed_over}"
        );
    }
}
