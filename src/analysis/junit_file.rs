//! One JUnit file read into a self-contained result: its test cases grouped by
//! tox target, ready to be merged into the aggregation. Reading needs no
//! shared state, so files are read on several threads (see [`read_all`]) and
//! merged in order, with the same report whatever the thread count.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crate::inputs::junit::{
    CaseBuf, Context, JunitCase, JunitSummary, Piece, Seam, parse_piece, target_from_file_name,
};
use crate::model::{
    CaseOutcome, Category, Failure, FailureKind, FailureSource, MAX_FAILURES_PER_TARGET,
    MAX_MESSAGE, TargetName, TestCounts, is_plausible_env_name, truncate_str,
};

/// A JUnit file with at most this many test cases is a "run alone" (a test
/// re-run on its own), whose passes are kept as order-or-state evidence.
pub const SMALL_RUN: usize = 20;
/// Failure text (tracebacks) read from one file, in file order, before its
/// later failures keep only their message.
const DETAILS_PER_FILE: u64 = 4 << 20;

/// The test cases of one target in one file.
#[derive(Debug, Default)]
pub struct TargetCases {
    /// The tox target.
    pub target: String,
    /// Counts of its cases' final outcomes.
    pub counts: TestCounts,
    /// Its cases.
    pub cases: u64,
    /// Failing cases (at most [`MAX_FAILURES_PER_TARGET`]).
    pub failures: Vec<Failure>,
    /// Failing cases not kept.
    pub failures_omitted: u64,
    /// Passing test ids, kept when the file is a small run.
    pub passes: Vec<String>,
    /// For each failure: the file's failure text up to and including it.
    text_ends: Vec<u64>,
}

/// What one JUnit file holds.
#[derive(Debug)]
pub struct JunitFileResult {
    /// How the report names the file.
    pub display: String,
    /// Targets in first-seen order.
    pub targets: Vec<TargetCases>,
    /// Cases whose target could not be told.
    pub unmapped: u64,
    /// The testsuite name of the first such case.
    pub first_unmapped_suite: Option<String>,
    /// The target the unmappable cases were put under.
    pub fallback: String,
    /// Problems and facts from reading the file.
    pub summary: JunitSummary,
    /// For a file with no test case: the target it belongs to.
    pub empty_target: Option<String>,
}

/// Which target a test case belongs to: the user's assignment, else a
/// testsuite name that is a conventional target name or one the logs know,
/// else the file name, else a non-default testsuite name.
pub fn pick_target<'a>(
    explicit: Option<&'a str>,
    suite: Option<&'a str>,
    file_target: Option<&'a str>,
    known: &HashSet<String>,
) -> Option<&'a str> {
    if explicit.is_some() {
        return explicit;
    }
    let suite = suite.filter(|s| is_plausible_env_name(s));
    if let Some(s) = suite
        && (TargetName::parse(s).parts().is_some() || known.contains(s))
    {
        return Some(s);
    }
    file_target.or(suite.filter(|s| *s != "pytest"))
}

/// The target for cases no rule places: `junit:<file stem>`.
pub fn fallback_target(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".xml").unwrap_or(file_name);
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("junit:{}", clean.trim_start_matches('.'))
}

fn first_line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|l| !l.is_empty())
}

/// pytest tracebacks end with `E   SomeError: ...` lines; the first such line is the message.
fn last_error_line(details: &str) -> Option<&str> {
    details
        .lines()
        .find_map(|l| l.strip_prefix("E ").map(str::trim))
        .filter(|l| !l.is_empty())
}

/// How a file's cases are placed under targets: the same for all its pieces.
pub struct Placement<'a> {
    explicit: Option<&'a str>,
    file_target: Option<&'a str>,
    fallback: String,
    known: &'a HashSet<String>,
}

impl<'a> Placement<'a> {
    /// For the file `file_name`, assigned to `explicit` or not; `known` are
    /// the target names the logs reported.
    pub fn new(file_name: &'a str, explicit: Option<&'a str>, known: &'a HashSet<String>) -> Self {
        Self {
            explicit,
            file_target: target_from_file_name(file_name),
            fallback: fallback_target(file_name),
            known,
        }
    }
}

/// Test cases grouped by target, as a file (or a piece of one) is read.
#[derive(Default)]
struct Cases {
    targets: Vec<TargetCases>,
    index: HashMap<String, usize>,
    /// A later piece's cases whose suite began before the piece: placed at the join.
    head: TargetCases,
    unmapped: u64,
    first_unmapped_suite: Option<String>,
    /// Bytes of failure text read so far, kept or not: the file's budget is
    /// spent in file order, so pieces can be joined exactly.
    failure_text: u64,
    /// The suite of the last case, and where it was placed.
    last_suite: Option<Option<String>>,
    current: usize,
    mapped: bool,
}

impl Cases {
    /// The target for cases of `suite` (and whether a rule placed it).
    fn slot(&mut self, place: &Placement<'_>, suite: Option<&str>) -> (usize, bool) {
        if self
            .last_suite
            .as_ref()
            .is_none_or(|s| s.as_deref() != suite)
        {
            self.last_suite = Some(suite.map(str::to_owned));
            let target = match pick_target(place.explicit, suite, place.file_target, place.known) {
                Some(t) => {
                    self.mapped = true;
                    t
                }
                None => {
                    self.mapped = false;
                    if self.first_unmapped_suite.is_none() {
                        self.first_unmapped_suite = Some(truncate_str(suite.unwrap_or(""), 200));
                    }
                    place.fallback.as_str()
                }
            };
            self.current = self.index_of(target);
        }
        (self.current, self.mapped)
    }

    fn index_of(&mut self, target: &str) -> usize {
        if let Some(&i) = self.index.get(target) {
            return i;
        }
        self.targets.push(TargetCases {
            target: target.to_owned(),
            ..TargetCases::default()
        });
        self.index.insert(target.to_owned(), self.targets.len() - 1);
        self.targets.len() - 1
    }

    fn add(&mut self, place: &Placement<'_>, case: &JunitCase<'_>) {
        let t = if case.inherited {
            &mut self.head
        } else {
            let (i, mapped) = self.slot(place, case.suite);
            if !mapped {
                self.unmapped += 1;
            }
            &mut self.targets[i]
        };
        t.counts.add(case.outcome, case.attempts);
        t.cases += 1;
        if case.outcome == CaseOutcome::Passed && t.passes.len() <= SMALL_RUN {
            t.passes.push(case.test_id());
        }
        let kind = match case.outcome {
            CaseOutcome::Failed => FailureKind::Failure,
            CaseOutcome::Errored => FailureKind::Error,
            CaseOutcome::Passed | CaseOutcome::Skipped => return,
        };
        self.failure_text += case.details.len() as u64;
        if t.failures.len() >= MAX_FAILURES_PER_TARGET {
            t.failures_omitted += 1;
            return;
        }
        let message = first_line(case.message)
            .or_else(|| last_error_line(case.details))
            .unwrap_or("");
        let details = if self.failure_text <= DETAILS_PER_FILE {
            case.details.to_owned()
        } else {
            String::new()
        };
        t.failures.push(Failure {
            test: case.test_id(),
            kind,
            message: truncate_str(message, MAX_MESSAGE),
            details,
            attempts: case.attempts,
            source: FailureSource::Junit,
            category: Category::Unknown,
            evidence: None,
        });
        t.text_ends.push(self.failure_text);
    }
}

/// Adds `src`'s cases to `dst`'s: `src` came after `text_before` bytes of failure text.
fn absorb(dst: &mut TargetCases, src: TargetCases, text_before: u64) {
    dst.counts.merge(&src.counts);
    dst.cases += src.cases;
    for (mut f, end) in src.failures.into_iter().zip(src.text_ends) {
        if dst.failures.len() >= MAX_FAILURES_PER_TARGET {
            dst.failures_omitted += 1;
            continue;
        }
        let end = text_before + end;
        if end > DETAILS_PER_FILE {
            f.details = String::new();
        }
        dst.failures.push(f);
        dst.text_ends.push(end);
    }
    dst.failures_omitted += src.failures_omitted;
    for test in src.passes {
        if dst.passes.len() <= SMALL_RUN {
            dst.passes.push(test);
        }
    }
}

/// One piece of a file, read: its cases, what reading found, and its seam.
pub struct PieceResult {
    cases: Cases,
    summary: JunitSummary,
    seam: Seam,
}

/// Reads one piece of a file (the whole file is one piece).
pub fn read_piece<R: Read>(place: &Placement<'_>, input: R, piece: Piece) -> PieceResult {
    let mut cases = Cases::default();
    let (summary, seam) = parse_piece(input, piece, &mut |case: &JunitCase<'_>| {
        cases.add(place, case)
    });
    PieceResult {
        cases,
        summary,
        seam,
    }
}

/// The pieces of a file joined so far, in file order.
pub struct Joined {
    cases: Cases,
    summary: JunitSummary,
    context: Context,
    /// The last case read, which the next piece may hold more attempts of.
    tail: Option<CaseBuf>,
}

impl Joined {
    /// Starts from the file's first piece.
    pub fn new(first: PieceResult) -> Self {
        let mut context = Context::default();
        context.advance(&first.seam);
        Self {
            cases: first.cases,
            summary: first.summary,
            context,
            tail: first.seam.tail,
        }
    }

    fn deliver(&mut self, place: &Placement<'_>, case: &CaseBuf) {
        self.cases.add(place, &case.case());
        self.summary.cases += 1;
    }

    /// Adds the next piece, as if the file had been read whole; `false` when
    /// it cannot be joined (the file is then read whole).
    pub fn join(&mut self, place: &Placement<'_>, next: PieceResult) -> bool {
        let PieceResult {
            cases,
            summary,
            mut seam,
        } = next;
        // A later piece is read as inside the root: the first piece must have begun it.
        if !self.summary.is_junit
            || self.summary.problem.is_some()
            || summary.problem.is_some()
            || !self.context.can_join(&seam)
        {
            tracing::debug!(
                before = ?self.summary.problem,
                piece = ?summary.problem,
                complex = seam.complex,
                "a piece does not join"
            );
            return false;
        }
        // The cases at the split: the previous piece's last, this piece's first.
        let mut carry = self.tail.take();
        if seam.suite_ended_first
            && let Some(c) = carry.take()
        {
            self.deliver(place, &c);
        }
        if let Some(first) = seam.first.as_mut() {
            first.settle(&self.context);
        }
        if let Some(tail) = seam.tail.as_mut() {
            tail.settle(&self.context);
        }
        match (seam.first.take(), seam.tail.take()) {
            (Some(mut first), tail) => {
                match carry {
                    Some(mut c) if c.same_test(&first) => {
                        c.absorb(&mut first);
                        self.deliver(place, &c);
                    }
                    Some(c) => {
                        self.deliver(place, &c);
                        self.deliver(place, &first);
                    }
                    None => self.deliver(place, &first),
                }
                self.tail = tail;
            }
            (None, Some(mut tail)) => match carry {
                Some(mut c) if c.same_test(&tail) => {
                    c.absorb(&mut tail);
                    self.tail = Some(c);
                }
                Some(c) => {
                    self.deliver(place, &c);
                    self.tail = Some(tail);
                }
                None => self.tail = Some(tail),
            },
            (None, None) => self.tail = carry,
        }
        // Then the piece's cases, in its order: those of the suite open at the split first.
        let text_before = self.cases.failure_text;
        let Cases {
            targets,
            head,
            unmapped,
            first_unmapped_suite,
            failure_text,
            ..
        } = cases;
        if head.cases > 0 {
            let (i, mapped) = self.cases.slot(place, self.context.suite());
            if !mapped {
                self.cases.unmapped += head.cases;
            }
            absorb(&mut self.cases.targets[i], head, text_before);
        }
        for t in targets {
            let i = self.cases.index_of(&t.target);
            absorb(&mut self.cases.targets[i], t, text_before);
        }
        self.cases.unmapped += unmapped;
        if self.cases.first_unmapped_suite.is_none() {
            self.cases.first_unmapped_suite = first_unmapped_suite;
        }
        self.cases.failure_text += failure_text;
        let s = &mut self.summary;
        s.cases += summary.cases;
        s.replaced_bytes += summary.replaced_bytes;
        s.had_doctype |= summary.had_doctype;
        if s.first_suite.is_none() {
            s.first_suite = summary.first_suite;
        }
        self.context.advance(&seam);
        true
    }

    /// The file's result, once its last piece is joined; `None` if the
    /// pieces did not make a whole document.
    pub fn finish(self, place: &Placement<'_>, display: &str) -> Option<JunitFileResult> {
        (self.summary.is_junit && self.context.is_empty() && self.tail.is_none())
            .then(|| file_result(place, display, self.cases, self.summary))
    }
}

fn file_result(
    place: &Placement<'_>,
    display: &str,
    cases: Cases,
    summary: JunitSummary,
) -> JunitFileResult {
    let mut targets = cases.targets;
    let empty_target = (summary.cases == 0 && summary.is_junit).then(|| {
        pick_target(
            place.explicit,
            summary.first_suite.as_deref(),
            place.file_target,
            place.known,
        )
        .map(str::to_owned)
        .unwrap_or_else(|| place.fallback.clone())
    });
    if summary.cases as usize > SMALL_RUN {
        for t in &mut targets {
            t.passes.clear();
        }
    }
    JunitFileResult {
        display: display.to_owned(),
        targets,
        unmapped: cases.unmapped,
        first_unmapped_suite: cases.first_unmapped_suite,
        fallback: place.fallback.clone(),
        summary,
        empty_target,
    }
}

/// Reads one JUnit file whole. `known` are target names the logs reported.
pub fn read_junit<R: Read>(
    display: &str,
    file_name: &str,
    explicit: Option<&str>,
    input: R,
    known: &HashSet<String>,
) -> JunitFileResult {
    let place = Placement::new(file_name, explicit, known);
    let r = read_piece(&place, input, Piece::Whole);
    file_result(&place, display, r.cases, r.summary)
}

/// Reads `data` in pieces split at `splits` (increasing offsets) and joins
/// them: `None` when they cannot be joined. With the same arguments,
/// [`read_junit`] gives the same result whenever this gives one (tested, and
/// checked by the `junit` fuzz target).
pub fn read_junit_pieces(
    display: &str,
    file_name: &str,
    data: &[u8],
    splits: &[usize],
    known: &HashSet<String>,
) -> Option<JunitFileResult> {
    let splits: Vec<u64> = splits
        .iter()
        .filter(|&&s| s > 0 && s < data.len())
        .map(|&s| s as u64)
        .collect();
    if splits.is_empty() {
        return Some(read_junit(display, file_name, None, data, known));
    }
    let place = Placement::new(file_name, None, known);
    let mut joining = Joining::default();
    for (piece, start, end) in piece_ranges(&splits) {
        let end = end.map_or(data.len(), |e| e as usize);
        let r = data
            .get(start as usize..end)
            .map(|d| read_piece(&place, d, piece));
        joining.add(&place, piece, r);
    }
    joining.finish(&place, display)
}

/// The pieces of one file as they arrive, in order: joined as they come.
#[derive(Default)]
struct Joining {
    joined: Option<Joined>,
    /// A piece was missing or did not join.
    broken: bool,
}

impl Joining {
    /// The next piece, or `None` when it could not be read.
    fn add(&mut self, place: &Placement<'_>, piece: Piece, result: Option<PieceResult>) {
        match (result, piece) {
            (Some(p), Piece::First) => {
                self.joined = Some(Joined::new(p));
                self.broken = false;
            }
            (Some(p), _) if !self.broken => {
                self.broken = !self.joined.as_mut().is_some_and(|j| j.join(place, p));
            }
            _ => self.broken = true,
        }
    }

    /// The file's result after its last piece; `None` if the pieces did not join.
    fn finish(&mut self, place: &Placement<'_>, display: &str) -> Option<JunitFileResult> {
        let joined = self.joined.take();
        let broken = std::mem::take(&mut self.broken);
        joined
            .filter(|_| !broken)
            .and_then(|j| j.finish(place, display))
    }
}

/// A file split at `splits` (increasing offsets) as pieces: which part each
/// is, where it starts, and where it ends (`None`: at the end of the file).
fn piece_ranges(splits: &[u64]) -> Vec<(Piece, u64, Option<u64>)> {
    if splits.is_empty() {
        return vec![(Piece::Whole, 0, None)];
    }
    let mut out = Vec::with_capacity(splits.len() + 1);
    let mut start = 0;
    for (i, &at) in splits.iter().enumerate() {
        let piece = if i == 0 { Piece::First } else { Piece::Middle };
        out.push((piece, start, Some(at)));
        start = at;
    }
    out.push((Piece::Last, start, None));
    out
}

/// A file to read: its path, how the report names it, and its assigned target.
#[derive(Debug, Clone)]
pub struct JunitJob {
    /// Where it is.
    pub path: PathBuf,
    /// How the report names it.
    pub display: String,
    /// The target the user assigned to it.
    pub explicit: Option<String>,
}

impl JunitJob {
    /// A file found by a path, glob or directory walk: named by its path.
    pub fn found(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            display: path.display().to_string(),
            explicit: None,
        }
    }
}

/// When a file is split into pieces read on several threads.
#[derive(Debug, Clone, Copy)]
struct Splitting {
    /// Files at least this large are split.
    at: u64,
    /// Into pieces about this large (at least).
    piece: u64,
}

impl Splitting {
    /// A file of 4 MB or more is read in as many pieces as there are
    /// threads, or more of 16 MB or more when it is that large (a 10 MB
    /// file: 40 -> 30 ms; only files of 32 MB or more were split before).
    const DEFAULT: Splitting = Splitting {
        at: 4 << 20,
        piece: 16 << 20,
    };
}

/// Most pieces a file is split into.
const MAX_PIECES: u64 = 256;
/// How far past a nominal split point a tag to split before is looked for.
const SPLIT_SEARCH: u64 = 4 << 20;

/// Where to split a file of `size` bytes into about `pieces` pieces: before
/// `<testcase` or `<testsuite` tags. A split that falls inside a comment or
/// CDATA section is found out when the pieces are joined.
pub fn split_points<F: Read + Seek>(file: &mut F, size: u64, pieces: u64) -> Vec<u64> {
    let mut splits: Vec<u64> = Vec::new();
    let mut window = vec![0u8; 64 << 10];
    for k in 1..pieces {
        let nominal = size / pieces * k;
        let from = splits.last().map_or(nominal, |&p| nominal.max(p + 1));
        if let Ok(Some(at)) = find_tag(file, from, &mut window)
            && at < size
            && splits.last().is_none_or(|&p| at > p)
        {
            splits.push(at);
        }
    }
    splits
}

/// Where `data` has a `<testcase` or `<testsuite` start tag: the offsets a
/// piece may begin at.
pub fn split_candidates(data: &[u8]) -> impl Iterator<Item = usize> + '_ {
    const TAGS: [&[u8]; 2] = [b"<testcase", b"<testsuite"];
    memchr::memmem::find_iter(data, b"<test").filter(move |&at| {
        TAGS.iter().any(|tag| {
            data[at..]
                .strip_prefix(*tag)
                .and_then(|r| r.first())
                .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'))
        })
    })
}

/// The first `<testcase` or `<testsuite` start tag at or after `from`.
fn find_tag<F: Read + Seek>(
    file: &mut F,
    from: u64,
    window: &mut [u8],
) -> std::io::Result<Option<u64>> {
    let mut pos = from;
    while pos < from + SPLIT_SEARCH {
        file.seek(SeekFrom::Start(pos))?;
        let mut len = 0;
        while len < window.len() {
            match file.read(&mut window[len..])? {
                0 => break,
                n => len += n,
            }
        }
        if let Some(at) = split_candidates(&window[..len]).next() {
            return Ok(Some(pos + at as u64));
        }
        if len < window.len() {
            return Ok(None);
        }
        // Overlap windows so that a tag across their edge is seen.
        pos += (len - 16) as u64;
    }
    Ok(None)
}

/// One unit of work: a file, or a piece of one.
struct Unit {
    job: usize,
    piece: Piece,
    start: u64,
    end: Option<u64>,
}

/// What reading a unit gave.
enum UnitResult {
    Whole(std::io::Result<JunitFileResult>),
    Piece(std::io::Result<Box<PieceResult>>),
}

/// Splits the jobs into units: large files into pieces when there are threads to read them.
fn plan(jobs: &[JunitJob], threads: usize, split: Splitting) -> Vec<Unit> {
    let mut units = Vec::new();
    for (job, j) in jobs.iter().enumerate() {
        let splits = match std::fs::File::open(&j.path) {
            Ok(mut f) if threads > 1 => {
                let size = f.metadata().map_or(0, |m| m.len());
                if size >= split.at {
                    // Many pieces: fewer results wait in memory, and the threads finish together.
                    let pieces = (size / split.piece).clamp(threads as u64, MAX_PIECES);
                    split_points(&mut f, size, pieces)
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        };
        units.extend(
            piece_ranges(&splits)
                .into_iter()
                .map(|(piece, start, end)| Unit {
                    job,
                    piece,
                    start,
                    end,
                }),
        );
    }
    units
}

fn file_name(job: &JunitJob) -> String {
    job.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_whole(job: &JunitJob, known: &HashSet<String>) -> std::io::Result<JunitFileResult> {
    let f = std::fs::File::open(&job.path)?;
    Ok(read_junit(
        &job.display,
        &file_name(job),
        job.explicit.as_deref(),
        f,
        known,
    ))
}

fn read_unit(unit: &Unit, job: &JunitJob, known: &HashSet<String>) -> UnitResult {
    if unit.piece == Piece::Whole {
        return UnitResult::Whole(read_whole(job, known));
    }
    let read = || -> std::io::Result<PieceResult> {
        let mut f = std::fs::File::open(&job.path)?;
        f.seek(SeekFrom::Start(unit.start))?;
        let name = file_name(job);
        let place = Placement::new(&name, job.explicit.as_deref(), known);
        Ok(match unit.end {
            Some(end) => read_piece(&place, f.take(end - unit.start), unit.piece),
            None => read_piece(&place, f, unit.piece),
        })
    };
    UnitResult::Piece(read().map(Box::new))
}

/// At most this many units are read ahead of the one applied next.
struct Window {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Window {
    fn take(&self) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
    }

    fn give(&self) {
        *self.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.freed.notify_one();
    }
}

/// Reads files on `threads` threads and hands each result to `apply` in the
/// files' order (the report does not depend on the thread count). A large
/// file is read in pieces on every thread and joined; if its pieces cannot
/// be joined it is read again whole. A file that cannot be opened gives
/// `Err` with the OS's message.
pub fn read_all(
    jobs: &[JunitJob],
    known: &HashSet<String>,
    threads: usize,
    apply: impl FnMut(&JunitJob, Result<JunitFileResult, std::io::Error>),
) {
    read_all_with(jobs, known, threads, Splitting::DEFAULT, apply);
}

fn read_all_with(
    jobs: &[JunitJob],
    known: &HashSet<String>,
    threads: usize,
    split: Splitting,
    mut apply: impl FnMut(&JunitJob, Result<JunitFileResult, std::io::Error>),
) {
    let threads = threads.clamp(1, 16);
    let units = plan(jobs, threads, split);
    let threads = threads.min(units.len().max(1));
    // Pieces joined so far of the file being applied.
    let mut joining = Joining::default();
    let mut collect = |unit: &Unit, result: UnitResult| {
        let job = &jobs[unit.job];
        let piece = match result {
            UnitResult::Whole(r) => return apply(job, r),
            UnitResult::Piece(r) => r,
        };
        let name = file_name(job);
        let place = Placement::new(&name, job.explicit.as_deref(), known);
        joining.add(&place, unit.piece, piece.ok().map(|p| *p));
        if unit.piece == Piece::Last {
            match joining.finish(&place, &job.display) {
                Some(r) => apply(job, Ok(r)),
                None => {
                    tracing::debug!(file = %job.display, "pieces do not join: reading the file whole");
                    apply(job, read_whole(job, known));
                }
            }
        }
    };
    if threads == 1 {
        for unit in &units {
            collect(unit, read_unit(unit, &jobs[unit.job], known));
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let window = Window {
        free: Mutex::new(threads + 1),
        freed: Condvar::new(),
    };
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, window, units) = (&next, &window, &units);
            scope.spawn(move || {
                loop {
                    // Bounded: a worker waits while results pile up ahead of the one applied next.
                    window.take();
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(unit) = units.get(i) else {
                        window.give();
                        break;
                    };
                    if tx
                        .send((i, read_unit(unit, &jobs[unit.job], known)))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting = BTreeMap::new();
        let mut expected = 0;
        for (i, result) in rx {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&expected) {
                collect(&units[expected], result);
                window.give();
                expected += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_file_order_whatever_the_thread_count() {
        let mut paths: Vec<PathBuf> = std::fs::read_dir("tests/fixtures/tox4-sequential/junit")
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        let jobs: Vec<JunitJob> = paths.iter().map(|p| JunitJob::found(p)).collect();
        let run = |threads| {
            let mut seen = Vec::new();
            read_all(&jobs, &HashSet::new(), threads, |job, r| {
                let r = r.unwrap();
                seen.push((
                    job.display.clone(),
                    r.targets
                        .iter()
                        .map(|t| (t.target.clone(), t.cases))
                        .collect::<Vec<_>>(),
                ));
            });
            seen
        };
        let one = run(1);
        assert_eq!(one.len(), jobs.len());
        assert_eq!(run(4), one);
    }

    /// Every offset a piece may begin at: before `<testcase` and `<testsuite` tags.
    fn candidates(xml: &str) -> Vec<usize> {
        let mut cursor = std::io::Cursor::new(xml.as_bytes());
        let mut window = vec![0u8; 64];
        let mut out = Vec::new();
        let mut from = 0;
        while let Ok(Some(at)) = find_tag(&mut cursor, from, &mut window) {
            out.push(at as usize);
            from = at + 1;
        }
        out
    }

    fn whole(xml: &str) -> String {
        format!(
            "{:?}",
            read_junit("f", "report.xml", None, xml.as_bytes(), &HashSet::new())
        )
    }

    fn pieces(xml: &str, splits: &[usize]) -> Option<String> {
        read_junit_pieces("f", "report.xml", xml.as_bytes(), splits, &HashSet::new())
            .map(|r| format!("{r:?}"))
    }

    /// Splits `xml` at every candidate (and every pair of them when there are
    /// few): the joined pieces equal the whole read, or do not join. Returns
    /// the splits that did not join.
    fn check_splits(xml: &str) -> Vec<Vec<usize>> {
        let expected = whole(xml);
        let cands = candidates(xml);
        let mut sets: Vec<Vec<usize>> = cands.iter().map(|&c| vec![c]).collect();
        if cands.len() <= 40 {
            for (i, &a) in cands.iter().enumerate() {
                for &b in &cands[i + 1..] {
                    sets.push(vec![a, b]);
                }
            }
        }
        let mut refused = Vec::new();
        for set in sets {
            match pieces(xml, &set) {
                Some(got) => assert_eq!(got, expected, "split at {set:?}"),
                None => refused.push(set),
            }
        }
        refused
    }

    /// pytest's shape: one suite, reruns (consecutive attempts), failures with
    /// tracebacks, entities and CDATA.
    const PYTEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="py3.12-redis-v6.4.0" errors="1" failures="2" skipped="1" tests="9">
<testcase classname="tests.test_a" name="test_ok" time="0.1"/>
<testcase classname="tests.test_a" name="test_flaky" time="0.1"><failure message="first &amp; worst">E   boom</failure></testcase>
<testcase classname="tests.test_a" name="test_flaky" time="0.1"/>
<testcase classname="tests.test_a.TestK" name="test_f[&lt;1&gt;]" time="0.2"><failure message="assert 1 == 2"><![CDATA[def test_f():
>       assert 1 == 2
E       assert 1 == 2]]></failure></testcase>
<testcase classname="tests.test_a.TestK" name="test_f[&lt;1&gt;]" time="0.2"><failure message="assert 1 == 2">again</failure></testcase>
<testcase classname="tests.test_b" name="test_skip"><skipped type="pytest.skip" message="no redis">skip</skipped></testcase>
<testcase classname="tests.test_b" name="test_err"><error message="fixture failed">E   ConnectionError: refused</error><system-out>out &lt;x&gt;</system-out></testcase>
<testcase classname="tests.test_b" name="test_z"><properties><property name="k" value="v"/></properties></testcase>
<testcase classname="tests.test_b" name="test_last"/>
</testsuite></testsuites>
"#;

    #[test]
    fn pytest_files_split_anywhere_read_as_whole() {
        assert_eq!(check_splits(PYTEST), Vec::<Vec<usize>>::new());
        let bare = PYTEST
            .replace("<testsuites name=\"pytest tests\">", "")
            .replace("</testsuites>", "");
        // Only a split before the root element is refused (the file is then read whole).
        let root = bare.find("<testsuite").unwrap();
        let refused = check_splits(&bare);
        assert!(!refused.is_empty());
        assert!(refused.iter().all(|s| s[0] == root), "{refused:?}");
    }

    #[test]
    fn suites_named_after_targets_split_anywhere_read_as_whole() {
        let xml = r#"<testsuites>
<testsuite name="py3.11-a"><testcase classname="t" name="a"/><testcase classname="t" name="b"><failure message="x">tb</failure></testcase></testsuite>
<testsuite name="py3.12-a"><testcase classname="t" name="a"/><testcase classname="t" name="a"/></testsuite>
<testsuite name="py3.11-a"><testcase classname="t" name="c"><error message="e"/></testcase></testsuite>
<testsuite name="py3.12-a" tests="0"/>
<testsuite name="pytest"><testcase classname="t" name="d"/></testsuite>
</testsuites>"#;
        assert_eq!(check_splits(xml), Vec::<Vec<usize>>::new());
    }

    #[test]
    fn odd_shapes_join_exactly_or_not_at_all() {
        let docs = [
            // Nested suites, named and not, with cases after the inner one.
            r#"<testsuites><testsuite name="outer"><testcase classname="t" name="a"/><testsuite name="inner"><testcase classname="t" name="b"/></testsuite><testsuite><testcase classname="t" name="c"/></testsuite><testcase classname="t" name="d"><failure/></testcase></testsuite></testsuites>"#,
            // Cases outside any suite, and an unnamed root suite.
            r#"<testsuites><testcase classname="t" name="a"/><testcase classname="t" name="a"/><testsuite name="s"><testcase classname="t" name="a"/></testsuite><testcase classname="t" name="z"/></testsuites>"#,
            r#"<testsuite><testcase classname="t" name="a"/><testcase classname="t" name="b"><failure message="m"/></testcase></testsuite>"#,
            // Tags inside CDATA and comments are not tags.
            r#"<testsuites><testsuite name="s"><testcase classname="t" name="a"><failure><![CDATA[<testcase name="x"> <testsuite >]]></failure></testcase><!-- <testcase a="1"> --><testcase classname="t" name="b"/></testsuite></testsuites>"#,
            // Broken: mismatched end tag after a split, end tags with no start, truncated.
            r#"<testsuites><testsuite name="s"><testcase classname="t" name="a"/><testcase classname="t" name="b"></testsuite></testcase></testsuites>"#,
            r#"<testsuites><testsuite name="s"><testcase classname="t" name="a"/></testsuite></testsuites></testsuites><testcase classname="t" name="q"/>"#,
            r#"<testsuites><testsuite name="s"><testcase classname="t" name="a"/><testcase classname="t" name="b"><failure message="x">trace"#,
            // A DOCTYPE, a second declaration, a testcase in a testcase.
            r#"<!DOCTYPE x [<!ENTITY e "v">]><testsuites><testsuite name="s"><testcase classname="t" name="a">&e;</testcase><testcase classname="t" name="b"/></testsuite></testsuites>"#,
            r#"<testsuites><testsuite name="s"><testcase classname="t" name="a"/><?xml version="1.0"?><testcase classname="t" name="b"/></testsuite></testsuites>"#,
            r#"<testsuites><testsuite name="s"><testcase classname="t" name="a"><testcase classname="t" name="b"/></testcase></testsuite></testsuites>"#,
        ];
        for doc in docs {
            check_splits(doc);
        }
    }

    #[test]
    fn splits_inside_cdata_or_comments_do_not_join() {
        let xml = r#"<testsuites><testsuite name="s"><testcase classname="t" name="a"><failure><![CDATA[<testcase name="x">]]></failure></testcase><!-- <testsuite > --><testcase classname="t" name="b"/></testsuite></testsuites>"#;
        let inside = [
            xml.find("<testcase name=").unwrap(),
            xml.find("<testsuite >").unwrap(),
        ];
        for at in inside {
            assert!(candidates(xml).contains(&at));
            assert_eq!(pieces(xml, &[at]), None, "split at {at}");
        }
    }

    #[test]
    fn the_failure_text_budget_is_spent_in_file_order_across_pieces() {
        // 20 targets, 700 failures of 7 KB: the 4 MB budget runs out part way.
        let tb = "E   x\n".repeat(1200);
        let mut xml = String::from("<testsuites>");
        for i in 0..700 {
            xml.push_str(&format!(
                r#"<testsuite name="py3.12-t{}"><testcase classname="t" name="c{i}"><failure message="m">{tb}</failure></testcase></testsuite>"#,
                i % 20
            ));
        }
        xml.push_str("</testsuites>");
        let expected = whole(&xml);
        let r = read_junit("f", "report.xml", None, xml.as_bytes(), &HashSet::new());
        let with_details = r
            .targets
            .iter()
            .flat_map(|t| &t.failures)
            .filter(|f| !f.details.is_empty())
            .count();
        assert!(with_details > 500 && with_details < 700, "{with_details}");
        let cands = candidates(&xml);
        for n in [2, 3, 7] {
            let splits: Vec<usize> = (1..n).map(|k| cands[cands.len() * k / n]).collect();
            assert_eq!(pieces(&xml, &splits).as_deref(), Some(expected.as_str()));
        }
    }

    #[test]
    fn real_fixture_files_split_anywhere_read_as_whole() {
        let mut checked = 0;
        for dir in [
            "tests/fixtures/tox4-sequential/junit",
            "tests/fixtures/tox4-parallel-live/junit",
            "tests/fixtures/tox3/junit",
        ] {
            for e in std::fs::read_dir(dir).unwrap() {
                let path = e.unwrap().path();
                let Ok(xml) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if candidates(&xml).len() > 400 {
                    continue;
                }
                let refused = check_splits(&xml);
                let pytest = xml.contains("<testsuites") && !xml.contains("DOCTYPE");
                assert!(
                    !pytest || refused.is_empty(),
                    "{}: splits refused: {refused:?}",
                    path.display()
                );
                checked += 1;
            }
        }
        assert!(checked >= 30, "{checked}");
    }

    #[test]
    fn a_large_file_read_in_pieces_on_threads_gives_the_whole_result() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.xml");
        let mut xml = String::from("<testsuites><testsuite name=\"py3.12-x\">");
        for i in 0..4000 {
            let body = match i % 50 {
                0 => r#"><failure message="boom">E   AssertionError</failure></testcase>"#,
                1 => r#"><skipped message="s"/></testcase>"#,
                _ => "/>",
            };
            xml.push_str(&format!(
                r#"<testcase classname="tests.test_m{}" name="t{i}"{body}"#,
                i / 100
            ));
        }
        xml.push_str("</testsuite></testsuites>");
        std::fs::write(&path, &xml).unwrap();
        let jobs = vec![JunitJob::found(&path)];
        let read = |threads, split| {
            let mut out = Vec::new();
            read_all_with(&jobs, &HashSet::new(), threads, split, |_, r| {
                out.push(format!("{:?}", r.unwrap()))
            });
            out
        };
        let split = Splitting {
            at: 1024,
            piece: 4096,
        };
        let units = plan(&jobs, 4, split);
        assert!(units.len() > 8, "{}", units.len());
        assert!(units.iter().all(|u| u.piece != Piece::Whole));
        assert_eq!(read(4, split), read(1, Splitting::DEFAULT));
        assert_eq!(read(2, split), read(1, Splitting::DEFAULT));
    }

    #[test]
    fn fallback_names() {
        assert_eq!(fallback_target("report.xml"), "junit:report");
        assert_eq!(fallback_target(".junitxml-x y"), "junit:junitxml-x_y");
    }
}
