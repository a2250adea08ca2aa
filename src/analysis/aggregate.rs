//! Builds [`Target`]s from the events of every log and JUnit file read, merging
//! what several inputs say about the same target into one record.
//!
//! Rules: a log's tox result is authoritative for a target; JUnit decides only
//! for targets no log reports. Across logs, the most severe result wins
//! (fail > pass > skipped > not run) and a target that passed in one log and
//! failed in another is flagged `conflicting`. A target named by a run's `-e`
//! list that never reports a result is `not-run`.

use std::collections::{BTreeSet, HashSet};
use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;
use std::io::Read;
use thin_vec::ThinVec;

use crate::analysis::categories;
use crate::analysis::junit_file::{JunitFileResult, SMALL_RUN, read_junit};

use crate::inputs::logpipe::LogPipe;
use crate::inputs::pytest;
use crate::inputs::toxlog::{EnvResult, LogEvent, LogStats, parse_log};

use crate::model::{
    Category, CommandLine, CommandShapes, ExitLine, Failure, FailureSource, JobRef,
    MAX_FAILURES_PER_TARGET, MAX_MESSAGE, MAX_OUTPUT_LINE, MAX_OUTPUT_LINES, MAX_TEST_ID,
    MAX_WARNINGS, OutputExcerpt, Report, Target, TargetName, TargetStatus, TestCounts, Warning,
    push_truncated, truncate_str,
};

/// Longest command line kept.
const MAX_COMMAND: usize = 2_000;

/// A name's 32 hash bits as the table's 64: the table takes a slot from the
/// low bits and a tag from the high ones.
fn spread(hash: u32) -> u64 {
    (u64::from(hash) << 32) | u64::from(hash)
}

/// Collects inputs and produces the [`Report`].
#[derive(Debug, Default)]
pub struct Aggregator {
    /// Targets, in first-seen order; `index` finds one by name.
    builders: Vec<Builder>,
    /// Each builder's place and 32 bits of its name's hash, hashed by its
    /// name (the names are not copied). With the hash at hand, growing the
    /// table and ruling out other names do not reach into the builders.
    index: HashTable<(u32, u32)>,
    hasher: foldhash::fast::RandomState,
    /// The last target looked up: most events are about the same env as the one before.
    last: Option<(String, usize)>,
    /// Bytes of output excerpts and tracebacks kept, against a fixed budget.
    budget: Budget,
    /// Envs named by a run's `-e` list.
    selected: BTreeSet<String>,
    /// Names of the inputs read, shared with the targets they mention.
    sources: Vec<Arc<str>>,
    warnings: Vec<Warning>,
    warnings_omitted: u64,
    logs_read: usize,
    /// Logs are read and parsed on a second thread while this one aggregates.
    reader: Option<LogPipe>,
    /// The command lines' shapes, shared by the targets.
    commands: CommandShapes,
}

/// Test counts summed over a target's JUnit files.
#[derive(Debug, Default)]
struct JunitTally {
    counts: TestCounts,
    /// Test cases read (a file of none fails the target).
    cases: u64,
}

#[derive(Debug)]
struct Builder {
    /// Held inline, so that the finished targets can be collected in the
    /// builders' own buffer (no second copy of every target at the end).
    target: Target,
    /// Its result in each log that reported it.
    log_status: LogStatuses,
    /// What its JUnit files counted, when any were read (most targets in a
    /// log have none, so it is out of line). Until then the target's own
    /// counts are those of pytest's final line in a log.
    junit: Option<Box<JunitTally>>,
    /// The last step tox started for the env was a setup step.
    in_setup: bool,
    /// Output of the occurrence being read, and which source it is from.
    ring: Ring,
    /// Durations came from tox's summary (which has the setup/cmd split).
    summary_times: bool,
    /// The kinds of failure listed, once the failures budget is spent (see
    /// [`Builder::admit`]); a bit per [`Category`].
    listed_kinds: Option<u32>,
}

/// A target's result in each log that reported it, the most severe kept
/// per log. Most targets are in one log: that result is held in place,
/// where a list cost an allocation for every distinct target.
#[derive(Debug, Default)]
enum LogStatuses {
    #[default]
    None,
    /// The one log's place among the sources (when it fits in 32 bits).
    One(u32, TargetStatus),
    /// In the order the logs were read, so the current one is last.
    Many(ThinVec<(usize, TargetStatus)>),
}

impl LogStatuses {
    fn set(&mut self, source: usize, status: TargetStatus) {
        let keep_worse = |slot: &mut TargetStatus| {
            if status.severity() > slot.severity() {
                *slot = status;
            }
        };
        match self {
            LogStatuses::None => {
                *self = match u32::try_from(source) {
                    Ok(one) => LogStatuses::One(one, status),
                    Err(_) => LogStatuses::Many(ThinVec::from([(source, status)])),
                }
            }
            LogStatuses::One(one, slot) if *one as usize == source => keep_worse(slot),
            LogStatuses::One(one, slot) => {
                *self =
                    LogStatuses::Many(ThinVec::from([(*one as usize, *slot), (source, status)]));
            }
            LogStatuses::Many(list) => match list.iter_mut().rev().find(|(s, _)| *s == source) {
                Some((_, slot)) => keep_worse(slot),
                None => list.push((source, status)),
            },
        }
    }

    fn get(&self, source: usize) -> Option<TargetStatus> {
        match self {
            LogStatuses::None => None,
            LogStatuses::One(one, status) => (*one as usize == source).then_some(*status),
            LogStatuses::Many(list) => list
                .iter()
                .rev()
                .find_map(|&(s, status)| (s == source).then_some(status)),
        }
    }

    /// The results, one per log.
    fn statuses(&self) -> impl Iterator<Item = TargetStatus> + '_ {
        let (one, many) = match self {
            LogStatuses::None => (None, &[][..]),
            LogStatuses::One(_, status) => (Some(*status), &[][..]),
            LogStatuses::Many(list) => (None, &list[..]),
        };
        one.into_iter().chain(many.iter().map(|&(_, s)| s))
    }
}

impl Builder {
    fn new(name: &str) -> Self {
        Self {
            target: Target::new(TargetName::parse(name)),
            log_status: LogStatuses::None,
            junit: None,
            in_setup: false,
            ring: Ring::default(),
            summary_times: false,
            listed_kinds: None,
        }
    }

    /// Ends the occurrence held in the ring: its lines are kept if it failed.
    fn settle_output(&mut self, budget: &mut Budget) {
        let Some(src) = self.ring.source() else {
            return;
        };
        if self.log_status.get(src) == Some(TargetStatus::Fail) && !self.ring.is_empty() {
            if let Some(findings) = self.target.findings_if_any() {
                complete_log_messages(&mut findings.failures, self.ring.lines());
                // Its failures are in (pytest's summary comes before tox's
                // result): give back the room the list grew by doubling.
                findings.failures.shrink_to_fit();
            }
            // Within the memory budget, the whole excerpt; past it, its last few lines.
            // A kept line costs its bytes and its newline (see OutputExcerpt).
            let bytes = self.ring.kept_text().len();
            // The excerpt of an earlier occurrence (the same env in an
            // earlier log, or an earlier run in this one) is replaced, and
            // its room given back: `retained` is what the targets hold.
            let replaced = self.target.output.bytes();
            let room = |budget: &Budget, kept: usize| budget.retained - replaced + kept;
            if room(budget, bytes) <= OUTPUT_BUDGET {
                self.target.output = self.ring.take();
            } else {
                self.ring.keep_last(SHORT_EXCERPT);
                let short = self.ring.kept_text().len();
                if room(budget, short) <= OUTPUT_BUDGET + SHORT_BUDGET {
                    budget.shortened += 1;
                    self.target.output = self.ring.take();
                } else {
                    // Past both: the lines its kind of failure is read from.
                    budget.reduced += 1;
                    self.target.output = OutputExcerpt::new(
                        categories::telling_lines(self.ring.kept_text()),
                        self.ring.total(),
                    );
                    self.ring.clear();
                }
            }
            budget.retained = budget.retained - replaced + self.target.output.bytes();
        } else {
            self.ring.clear();
        }
    }

    /// Whether the target may list the failure `f` (else it only counts it).
    /// Within the failures budget, any. Past it: a test it lists already
    /// (the records merge), its first failure, and a failure of a kind it
    /// lists none of. The verdict looks at the kinds of a target's failures
    /// and shows the first example of each, so those are kept.
    fn admit(&mut self, f: &Failure, budget: &mut Budget) -> bool {
        let listed = &self.target.findings().failures;
        if listed.len() >= MAX_FAILURES_PER_TARGET || listed.iter().any(|e| e.test == f.test) {
            // Merged, or counted by the target itself.
            return true;
        }
        // A message pytest cut may be completed later from the output (see
        // `complete_log_messages`), up to its limit: counted at that.
        let message = if f.source == FailureSource::Log
            && (f.message.is_empty() || f.message.ends_with("..."))
        {
            MAX_MESSAGE
        } else {
            f.message.len()
        };
        let cost = std::mem::size_of::<Failure>() + f.test.len() + message;
        if !listed.is_empty() && budget.failures + cost > FAILURES_BUDGET {
            let kinds = *self
                .listed_kinds
                .get_or_insert_with(|| listed.iter().fold(0, |k, e| k | kind_bit(e)));
            let kind = kind_bit(f);
            if kinds & kind != 0 {
                budget.failures_dropped += 1;
                return false;
            }
            self.listed_kinds = Some(kinds | kind);
        } else if let Some(kinds) = &mut self.listed_kinds {
            *kinds |= kind_bit(f);
        }
        budget.failures += cost;
        true
    }

    fn push_output(&mut self, source: usize, text: &str, budget: &mut Budget) {
        if self.ring.source() != Some(source) {
            self.settle_output(budget);
        }
        self.ring.push(source, text);
    }
}

/// Output excerpts and tracebacks kept in all, across targets: past this, the
/// rest are shortened so that memory stays flat however large the input.
/// This budget and the three after it add up to 16 MB, a quarter of the
/// memory the tool aims to stay under; a run of sentry-python's 840 targets all failing keeps
/// every excerpt whole in them (about 4 MB).
const OUTPUT_BUDGET: usize = 6 << 20;
/// Tracebacks kept in all; past it, failures keep their message only.
const DETAILS_BUDGET: usize = 6 << 20;
/// Lines an excerpt keeps once the budget is spent.
const SHORT_EXCERPT: usize = 5;
/// Short excerpts kept in all past [`OUTPUT_BUDGET`]; past this too, an
/// excerpt keeps only the lines that tell its kind of failure
/// ([`categories::telling_lines`]), so that the verdicts stay the same.
const SHORT_BUDGET: usize = 2 << 20;
/// Failing tests listed in all (their records, ids and messages); past it, a
/// target lists its first failure and one of each kind, and counts the
/// others in `failures_omitted` (see [`Builder::admit`]).
const FAILURES_BUDGET: usize = 2 << 20;

/// What the aggregation has kept so far.
#[derive(Debug, Default)]
struct Budget {
    /// Output bytes kept.
    retained: usize,
    /// Traceback bytes kept.
    details: usize,
    /// Excerpts shortened for want of room.
    shortened: u64,
    /// Excerpts cut to the lines that tell their kind of failure.
    reduced: u64,
    /// Tracebacks dropped for want of room.
    details_dropped: u64,
    /// Bytes of the failures listed.
    failures: usize,
    /// Failing tests counted but not listed for want of room.
    failures_dropped: u64,
}

impl Budget {
    /// Keeps a traceback if it fits.
    fn keep_details(&mut self, details: &str) -> String {
        if self.details + details.len() > DETAILS_BUDGET {
            self.details_dropped += 1;
            return String::new();
        }
        self.details += details.len();
        details.to_owned()
    }
}

/// A failure's kind as the verdict will first see it, as a bit.
fn kind_bit(f: &Failure) -> u32 {
    1 << categories::classify(&f.message, &f.details).0 as u32
}

/// Spare ring buffers, so that an env's output does not grow one.
const RING_POOL_MAX: usize = 16;

thread_local! {
    // Boxed as the rings hold them: a buffer moves between a ring and the
    // pool without a new allocation.
    #[allow(clippy::vec_box)]
    static RING_POOL: std::cell::RefCell<Vec<Box<RingBuf>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The last [`MAX_OUTPUT_LINES`] lines of output of the occurrence being
/// read. An idle target holds no buffer: it comes from a pool at the first
/// line and goes back when the occurrence is settled. What is known of the
/// occurrence (its input, its lines in all) is in the buffer too, so an
/// idle target's ring is one empty pointer.
#[derive(Debug, Default)]
struct Ring {
    buf: Option<Box<RingBuf>>,
}

/// A ring's lines, one after another in one text, each followed by `\n`
/// (as an [`OutputExcerpt`] holds them, so the lines kept are taken in one
/// copy): a line costs one copy and no allocation. Up to twice the lines
/// kept are held; then the older half is dropped at once.
#[derive(Debug, Default)]
struct RingBuf {
    text: String,
    /// Where each line held ends in `text`, after its `\n`.
    ends: Vec<u32>,
    /// Lines pushed since the ring was last emptied.
    total: u64,
    /// The input the lines are from.
    source: usize,
}

impl RingBuf {
    /// Drops the first `n` lines held.
    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.ends.len());
        if n == 0 {
            return;
        }
        let cut = self.ends[n - 1];
        self.text.drain(..cut as usize);
        self.ends.drain(..n);
        for end in &mut self.ends {
            *end -= cut;
        }
    }

    /// Where the lines kept start: the last [`MAX_OUTPUT_LINES`] held.
    fn kept_from(&self) -> (usize, usize) {
        let first = self.ends.len().saturating_sub(MAX_OUTPUT_LINES);
        let start = first.checked_sub(1).map_or(0, |i| self.ends[i] as usize);
        (first, start)
    }

    /// The lines kept, oldest first.
    fn lines(&self) -> impl Iterator<Item = &str> + Clone {
        let (first, mut start) = self.kept_from();
        self.ends[first..].iter().map(move |&end| {
            let line = self.text.get(start..end as usize - 1).unwrap_or("");
            start = end as usize;
            line
        })
    }

    /// The lines kept as one text, each followed by `\n`.
    fn kept_text(&self) -> &str {
        self.text.get(self.kept_from().1..).unwrap_or("")
    }
}

impl Ring {
    /// Adds a line of `source`'s; an idle ring takes a buffer for it.
    fn push(&mut self, source: usize, text: &str) {
        let buf = self.buf.get_or_insert_with(|| {
            let mut buf = RING_POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default();
            buf.source = source;
            buf
        });
        buf.total += 1;
        if buf.ends.len() >= 2 * MAX_OUTPUT_LINES {
            buf.drop_front(MAX_OUTPUT_LINES);
        }
        push_truncated(&mut buf.text, text, MAX_OUTPUT_LINE);
        buf.text.push('\n');
        // A ring holds at most 2 x 80 lines of at most 500 bytes.
        buf.ends.push(buf.text.len() as u32);
    }

    /// The lines kept, oldest first.
    fn lines(&self) -> impl Iterator<Item = &str> + Clone {
        self.buf.iter().flat_map(|b| b.lines())
    }

    /// The input of the lines held, when the ring holds any.
    fn source(&self) -> Option<usize> {
        self.buf.as_ref().map(|b| b.source)
    }

    /// Lines pushed since the ring was last emptied.
    fn total(&self) -> u64 {
        self.buf.as_ref().map_or(0, |b| b.total)
    }

    /// The lines kept as one text, each followed by `\n`.
    fn kept_text(&self) -> &str {
        self.buf.as_ref().map_or("", |b| b.kept_text())
    }

    fn is_empty(&self) -> bool {
        self.buf.as_ref().is_none_or(|b| b.ends.is_empty())
    }

    /// Drops all but the last `n` lines kept.
    fn keep_last(&mut self, n: usize) {
        if let Some(buf) = &mut self.buf {
            let held = buf.ends.len();
            buf.drop_front(held - held.min(MAX_OUTPUT_LINES).min(n));
        }
    }

    fn clear(&mut self) {
        // The buffer goes back to the pool: the next env's output reuses it,
        // and an idle env holds none.
        if let Some(mut buf) = self.buf.take() {
            buf.text.clear();
            buf.ends.clear();
            buf.total = 0;
            RING_POOL.with(|p| {
                let mut pool = p.borrow_mut();
                if pool.len() < RING_POOL_MAX {
                    pool.push(buf);
                }
            });
        }
    }

    fn take(&mut self) -> OutputExcerpt {
        // Copied into one exact-size buffer: a pooled buffer is as large as
        // the most it ever held, and what the budget counts is what stays.
        let out = OutputExcerpt::from_text(self.kept_text(), self.total());
        self.clear();
        out
    }
}

impl Aggregator {
    /// An empty aggregation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads logs on a second thread ([`LogPipe`]) while this one
    /// aggregates their events; the report is the same either way.
    pub fn with_reader_thread(mut self, on: bool) -> Self {
        self.reader = on.then(LogPipe::default);
        self
    }

    /// Records a warning (bounded; the overflow is counted).
    pub fn warn(&mut self, w: Warning) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w);
        } else {
            self.warnings_omitted += 1;
        }
    }

    fn source_id(&mut self, name: &str) -> usize {
        self.sources.push(Arc::from(name));
        self.sources.len() - 1
    }

    fn builder(&mut self, env: &str) -> &mut Builder {
        self.entry(env).0
    }

    /// A target's builder, created on first sight, with the shared memory budget.
    fn entry(&mut self, env: &str) -> (&mut Builder, &mut Budget) {
        let i = self.slot(env);
        (&mut self.builders[i], &mut self.budget)
    }

    /// A command line or directory of env `env`, shortened to
    /// [`MAX_COMMAND`], as a shape shared with the other envs'.
    fn keep_command(&mut self, line: &str, env: &str) -> CommandLine {
        if line.len() <= MAX_COMMAND {
            self.commands.keep(line, env)
        } else {
            self.commands.keep(&truncate_str(line, MAX_COMMAND), env)
        }
    }

    /// [`Aggregator::entry`] for an event of log `src`, which the target
    /// records as one of its sources.
    fn mentioned(&mut self, src: usize, env: &str) -> (&mut Builder, &mut Budget) {
        let i = self.slot(env);
        let b = &mut self.builders[i];
        b.target.add_source(&self.sources[src]);
        (b, &mut self.budget)
    }

    /// Where a target's builder is, created on first sight.
    fn slot(&mut self, env: &str) -> usize {
        if let Some((name, i)) = &self.last
            && name == env
        {
            return *i;
        }
        let hash = self.hash(env);
        let i = match self.find(env, hash) {
            Some(i) => i,
            None => {
                self.builders.push(Builder::new(env));
                let i = self.builders.len() - 1;
                // (Four billion targets would not fit in memory.)
                self.index
                    .insert_unique(spread(hash), (i as u32, hash), |&(_, h)| spread(h));
                i
            }
        };
        match &mut self.last {
            Some((name, idx)) => {
                name.clear();
                name.push_str(env);
                *idx = i;
            }
            None => self.last = Some((env.to_owned(), i)),
        }
        i
    }

    /// The place of the target named `env`, whose [`Aggregator::hash`] is
    /// `hash`, if seen.
    fn find(&self, env: &str, hash: u32) -> Option<usize> {
        let builders = &self.builders;
        self.index
            .find(spread(hash), |&(i, h)| {
                h == hash && builders[i as usize].target.name.as_str() == env
            })
            .map(|&(i, _)| i as usize)
    }

    /// 32 bits of the hash of `env` (the high ones, the better mixed).
    fn hash(&self, env: &str) -> u32 {
        (self.hasher.hash_one(env) >> 32) as u32
    }

    /// Whether any target was reported by the job with this id.
    pub fn job_has_targets(&self, job_id: u64) -> bool {
        self.builders
            .iter()
            .any(|b| b.target.jobs.iter().any(|j| j.id == job_id))
    }

    /// Reads one job's log (API mode): like [`Aggregator::add_log`], and every
    /// target the log mentions records the job.
    pub fn add_job_log<R: Read + Send>(
        &mut self,
        name: &str,
        job: &JobRef,
        input: R,
    ) -> std::io::Result<LogStats> {
        let stats = self.add_log(name, input)?;
        for b in self.builders.iter_mut() {
            if b.target.sources.iter().any(|s| &**s == name)
                && !b.target.jobs.iter().any(|j| j.id == job.id)
            {
                b.target.jobs.push(job.clone());
            }
        }
        Ok(stats)
    }

    /// Reads one tox log (plain, or a GitHub job log). `name` is how warnings and
    /// the report refer to it.
    pub fn add_log<R: Read + Send>(&mut self, name: &str, input: R) -> std::io::Result<LogStats> {
        let src = self.begin_log(name);
        let reader = self.reader.take();
        let mut sink =
            |line: u64, text: &str, ev: LogEvent<'_>| self.on_log_event(src, line, text, ev);
        let stats = match &reader {
            Some(pipe) => pipe.parse(input, &mut sink),
            None => parse_log(input, &mut sink),
        };
        self.reader = reader;
        let stats = stats?;
        self.end_log(src, name, stats);
        Ok(stats)
    }

    /// Reads logs in order, as [`Aggregator::add_log`] one after another
    /// would, with the same result. With a reader thread, the next log is
    /// read and parsed while the current one is aggregated, so a run of many
    /// small logs keeps both cores busy. Each log is opened when the one
    /// before it starts to be aggregated; the first that cannot be opened or
    /// read ends the reading with its error.
    pub fn add_logs<R: Read + Send>(
        &mut self,
        logs: impl IntoIterator<Item = (String, crate::error::Result<R>)>,
    ) -> crate::error::Result<()> {
        let read_error = |name: &str, source| crate::error::Error::Io {
            path: name.to_owned(),
            source,
        };
        let Some(pipe) = self.reader.take() else {
            for (name, input) in logs {
                self.add_log(&name, input?)
                    .map_err(|e| read_error(&name, e))?;
            }
            return Ok(());
        };
        let result = std::thread::scope(|scope| {
            let mut logs = logs.into_iter();
            let mut start = || {
                logs.next().map(|(name, input)| {
                    let running =
                        input.and_then(|r| pipe.start(scope, r).map_err(|e| read_error(&name, e)));
                    (name, running)
                })
            };
            let mut next = start();
            // On an error, the log read ahead is dropped with `next`: its
            // reader stops queueing and ends before the scope does.
            while let Some((name, running)) = next.take() {
                let running = running?;
                next = start();
                let src = self.begin_log(&name);
                let mut sink = |line: u64, text: &str, ev: LogEvent<'_>| {
                    self.on_log_event(src, line, text, ev)
                };
                let stats = pipe
                    .finish(running, &mut sink)
                    .map_err(|e| read_error(&name, e))?;
                self.end_log(src, &name, stats);
            }
            Ok(())
        });
        self.reader = Some(pipe);
        result
    }

    /// A new log source.
    fn begin_log(&mut self, name: &str) -> usize {
        self.logs_read += 1;
        self.source_id(name)
    }

    /// A log read to its end: its envs' pending output is settled.
    fn end_log(&mut self, src: usize, name: &str, stats: LogStats) {
        for b in self.builders.iter_mut() {
            if b.ring.source() == Some(src) {
                b.settle_output(&mut self.budget);
            }
        }
        if let Some(line) = stats.first_truncated {
            self.warn(Warning::in_file(
                name,
                Some(line),
                format!(
                    "{} line(s) longer than 64 KiB were cut; the first is here",
                    stats.truncated_lines
                ),
            ));
        }
        if stats.lines == 0 {
            self.warn(Warning::in_file(
                name,
                None,
                "empty log: no tox output in it",
            ));
        }
    }

    fn on_log_event(&mut self, src: usize, line: u64, text: &str, ev: LogEvent<'_>) {
        match ev {
            LogEvent::Selection { envs } => {
                for env in envs {
                    self.selected.insert(env.to_owned());
                    self.mentioned(src, env);
                }
            }
            LogEvent::Setup { env, .. } => {
                let (b, budget) = self.mentioned(src, env);
                b.in_setup = true;
                b.push_output(src, text, budget);
            }
            LogEvent::Command { env, command } => {
                // Only the last one is reported; its shape is kept once for
                // all the envs whose line has it.
                let line = self.keep_command(command, env);
                let (b, budget) = self.mentioned(src, env);
                b.in_setup = false;
                b.target.last_command = Some(line);
                b.push_output(src, text, budget);
            }
            LogEvent::Exit {
                env,
                code,
                seconds,
                cwd,
                command,
                setup_step,
            } => {
                let exit = (code != 0).then(|| ExitLine {
                    code,
                    seconds,
                    cwd: self.keep_command(cwd, env),
                    command: self.keep_command(command, env),
                    setup_step,
                });
                let (b, budget) = self.mentioned(src, env);
                b.push_output(src, text, budget);
                if let Some(mut exit) = exit {
                    b.log_status.set(src, TargetStatus::Fail);
                    b.target.exit_code = Some(code);
                    exit.setup_step |= b.in_setup;
                    b.target.findings_mut().exit = Some(exit);
                }
            }
            LogEvent::Status {
                env,
                result,
                exit_code,
                times,
                summary,
                reason,
            } => {
                let (b, budget) = self.mentioned(src, env);
                let status = match result {
                    EnvResult::Ok => TargetStatus::Pass,
                    EnvResult::Fail => TargetStatus::Fail,
                    EnvResult::Skip => TargetStatus::Skipped,
                };
                b.log_status.set(src, status);
                if let Some(code) = exit_code {
                    b.target.exit_code = Some(code);
                }
                if let Some(reason) = reason {
                    b.target.findings_mut().reason = Some(truncate_str(reason, MAX_MESSAGE).into());
                }
                if summary || !b.summary_times {
                    if times.total.is_some() {
                        b.target.durations.set_total(times.total);
                    }
                    if times.setup.is_some() || times.commands.is_some() {
                        b.target.durations.set_split(times.setup, times.commands);
                    }
                    b.summary_times |= summary;
                }
                if b.ring.source() == Some(src) {
                    if result == EnvResult::Ok {
                        b.ring.clear();
                    } else if result == EnvResult::Fail {
                        // Its output is complete: keep it now, within the
                        // budget, rather than hold every failed env's ring to the end.
                        b.settle_output(budget);
                    }
                }
            }
            LogEvent::Output {
                env: Some(env),
                text,
            } => {
                let (b, budget) = self.entry(env);
                b.push_output(src, text, budget);
                if let Some(s) = pytest::short_summary(text) {
                    let f = Failure {
                        test: truncate_str(s.test, MAX_TEST_ID),
                        kind: s.kind,
                        message: truncate_str(s.message, MAX_MESSAGE),
                        details: String::new(),
                        attempts: 1,
                        source: FailureSource::Log,
                        category: Category::Unknown,
                        evidence: None,
                    };
                    if b.admit(&f, budget) {
                        b.target.add_failure(f);
                    } else {
                        b.target.findings_mut().failures_omitted += 1;
                    }
                } else if let Some(path) = pytest::missing_path(text) {
                    let missing = &mut b.target.findings_mut().missing_paths;
                    if missing.len() < 20 && !missing.iter().any(|p| p == path) {
                        missing.push(truncate_str(path, MAX_COMMAND));
                    }
                } else if let Some(c) = pytest::result_counts(text) {
                    // The last one is the env's (JUnit counts replace it at the end).
                    b.target.tests =
                        TestCounts::from_outcomes(c.passed, c.failed, c.errors, c.skipped);
                }
            }
            LogEvent::Output { env: None, .. } | LogEvent::Step { .. } => {}
            LogEvent::StepError { .. } => {
                let _ = line;
            }
        }
    }

    /// Reads one JUnit file. `display` names it in the report; `explicit_target`
    /// is the target the user assigned to it, if any.
    pub fn add_junit<R: Read>(
        &mut self,
        display: &str,
        file_name: &str,
        explicit_target: Option<&str>,
        input: R,
    ) {
        let known = self.target_names();
        let result = read_junit(display, file_name, explicit_target, input, &known);
        self.apply_junit(result);
    }

    /// Names of the targets seen so far (JUnit suites named after them map to them).
    pub fn target_names(&self) -> HashSet<String> {
        self.builders
            .iter()
            .map(|b| b.target.name.as_str().to_owned())
            .collect()
    }

    /// Merges what one JUnit file held.
    pub fn apply_junit(&mut self, r: JunitFileResult) {
        let display = r.display.as_str();
        let source: Arc<str> = Arc::from(display);
        let small_run = r.summary.cases as usize <= SMALL_RUN;
        for tc in r.targets {
            let (b, budget) = self.entry(&tc.target);
            b.target.add_source(&source);
            b.target.add_junit_file(display);
            let junit = b.junit.get_or_insert_default();
            junit.counts.merge(&tc.counts);
            junit.cases += tc.cases;
            for mut f in tc.failures {
                if b.admit(&f, budget) {
                    f.details = budget.keep_details(&f.details);
                    b.target.add_failure(f);
                } else {
                    b.target.findings_mut().failures_omitted += 1;
                }
            }
            if tc.failures_omitted > 0 {
                b.target.findings_mut().failures_omitted += tc.failures_omitted;
            }
            if small_run && !tc.passes.is_empty() {
                let alone = &mut b.target.findings_mut().passed_alone;
                for test in tc.passes {
                    if !alone.iter().any(|(t, _)| *t == test) {
                        alone.push((test, r.summary.cases));
                    }
                }
            }
        }
        // A file with suites but no cases still belongs to its target: pytest found nothing to run.
        if let Some(target) = &r.empty_target {
            let b = self.builder(target);
            b.target.add_source(&source);
            b.target.add_junit_file(display);
            // Read, with no case: that fails it.
            b.junit.get_or_insert_default();
        }
        if r.unmapped > 0 {
            self.warn(Warning::in_file(
                display,
                None,
                format!(
                    "cannot tell which tox target {} test case(s) belong to (testsuite name {:?}); \
                     they are reported under {:?}. Name the file .junitxml-<target> or junit-<target>.xml, \
                     pass -o junit_suite_name={{envname}} to pytest, or use --junit-for TARGET=PATH",
                    r.unmapped,
                    r.first_unmapped_suite.unwrap_or_default(),
                    r.fallback
                ),
            ));
        }
        let summary = r.summary;
        if let Some(p) = summary.problem {
            self.warn(Warning {
                file: Some(display.to_owned()),
                line: None,
                position: Some(p.position),
                message: format!(
                    "{}; kept the {} test case(s) read before it",
                    p.message, summary.cases
                ),
            });
        }
        if summary.replaced_bytes > 0 {
            self.warn(Warning::in_file(
                display,
                None,
                format!(
                    "{} invalid UTF-8 sequence(s) replaced with U+FFFD",
                    summary.replaced_bytes
                ),
            ));
        }
        if summary.had_doctype {
            self.warn(Warning::in_file(
                display,
                None,
                "the file declares a DOCTYPE; its entities were not expanded",
            ));
        }
    }

    /// Ends the aggregation. `envlist`, when given, lists the targets the run was
    /// expected to produce if no log named its `-e` selection. The targets
    /// are in the report's order ([`Report::sort_targets`]).
    pub fn finish(self, envlist: Option<&[String]>) -> Report {
        let mut report = self.finish_unordered(envlist);
        report.sort_targets();
        report
    }

    /// [`Aggregator::finish`], with the targets in the order the inputs first
    /// named them: the order their records were made in. Work that reads
    /// every target (the verdicts) runs faster in it, because each target's
    /// strings lie near each other in memory in that order and in no other;
    /// [`verdict::apply`](crate::analysis::verdict::apply) sorts the report
    /// at its end.
    pub fn finish_unordered(mut self, envlist: Option<&[String]>) -> Report {
        let expected: Vec<String> = if !self.selected.is_empty() {
            self.selected.iter().cloned().collect()
        } else if self.logs_read > 0 {
            envlist.map(<[String]>::to_vec).unwrap_or_default()
        } else {
            Vec::new()
        };
        for env in &expected {
            self.builder(env);
        }
        let mut budget = std::mem::take(&mut self.budget);
        let mut targets: Vec<Target> = self
            .builders
            .into_iter()
            .map(|mut b| {
                b.settle_output(&mut budget);
                finish_target(b)
            })
            .collect();
        // Collected in the builders' buffer, which is larger (a builder is a
        // target and its reading state, and the buffer grew by doubling):
        // give the rest back before the verdicts, the peak of memory.
        targets.shrink_to_fit();
        if budget.shortened + budget.reduced + budget.details_dropped + budget.failures_dropped > 0
        {
            let w = Warning::general(format!(
                "memory budget reached: {} output excerpt(s) shortened to their last {SHORT_EXCERPT} lines and {} to the lines that tell their kind of failure, {} traceback(s) not kept and {} failing test(s) counted but not listed; the inputs have them",
                budget.shortened, budget.reduced, budget.details_dropped, budget.failures_dropped
            ));
            if self.warnings.len() < MAX_WARNINGS {
                self.warnings.push(w);
            } else {
                self.warnings_omitted += 1;
            }
        }
        Report {
            targets,
            warnings: self.warnings,
            warnings_omitted: self.warnings_omitted,
            runs: Vec::new(),
            reruns: Vec::new(),
        }
    }
}

fn finish_target(mut b: Builder) -> Target {
    let t = &mut b.target;
    let statuses = || b.log_status.statuses();
    t.conflicting =
        statuses().any(|s| s == TargetStatus::Fail) && statuses().any(|s| s == TargetStatus::Pass);
    // Severities differ from status to status: the most severe is one status.
    t.status = if let Some(worst) = statuses().max_by_key(|s| s.severity()) {
        worst
    } else if let Some(junit) = &b.junit {
        junit_status(&junit.counts, junit.cases)
    } else {
        TargetStatus::NotRun
    };
    if let Some(junit) = b.junit {
        t.tests = junit.counts;
    }
    if t.status == TargetStatus::NotRun && t.findings().reason.is_none() && t.last_command.is_some()
    {
        t.findings_mut().reason = Some("its commands started but the log ends before its result: the step was cancelled, timed out, or tox crashed".into());
    }
    match t.status {
        TargetStatus::Pass => {
            t.exit_code = Some(0);
            if let Some(findings) = t.findings_if_any() {
                findings.exit = None;
            }
        }
        TargetStatus::Skipped | TargetStatus::NotRun => t.exit_code = None,
        TargetStatus::Fail => {}
    }
    if t.status != TargetStatus::Fail {
        t.output = OutputExcerpt::default();
    }
    b.target
}

/// pytest cuts short-summary messages to the terminal width (`ImportEr...`).
/// Where the target's output shows the test's FAILURES section, its first
/// `E ` line is the whole message: use it instead.
/// `output` is the env's output as read, before the budget shortens it.
fn complete_log_messages<'a>(
    failures: &mut [Failure],
    output: impl Iterator<Item = &'a str> + Clone,
) {
    let is_cut = |f: &Failure| {
        f.source == FailureSource::Log && (f.message.is_empty() || f.message.ends_with("..."))
    };
    if !failures.iter().any(is_cut) {
        return;
    }
    // pytest's section headers (`____ TestA.test_b ____`), found once for
    // all the failures: where each is, and its title.
    let headers: Vec<(usize, &str)> = output
        .clone()
        .enumerate()
        .filter(|(_, l)| l.starts_with('_'))
        .map(|(i, l)| (i, l.trim_matches(|c| c == '_' || c == ' ')))
        .collect();
    for f in failures {
        if !is_cut(f) {
            continue;
        }
        let Some((_, head)) = f.test.split_once("::") else {
            continue;
        };
        let head = head.replace("::", ".");
        let Some(&(at, _)) = headers.iter().find(|(_, title)| *title == head) else {
            continue;
        };
        let found = output
            .clone()
            .skip(at + 1)
            .take_while(|l| !(l.starts_with("____") || l.starts_with("====")))
            .find_map(|l| {
                l.strip_prefix("E ")
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
            });
        // The cut message is the start of the whole one; an `E ` line that
        // does not start with it belongs to something else.
        let cut = f.message.strip_suffix("...").unwrap_or(&f.message);
        if let Some(m) = found.filter(|m| m.starts_with(cut)) {
            f.message = truncate_str(m, MAX_MESSAGE);
        }
    }
}

/// Status from JUnit alone: any failure or error fails; no test case at all
/// fails too (pytest exits 4 or 5 when it runs nothing).
fn junit_status(c: &TestCounts, cases: u64) -> TargetStatus {
    if c.failed + c.errors > 0 || cases == 0 {
        TargetStatus::Fail
    } else if c.passed > 0 {
        TargetStatus::Pass
    } else {
        TargetStatus::Skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target's results per log: the most severe one of each log kept,
    /// one log held in place and a second one making a list, in order.
    #[test]
    fn log_statuses_keep_the_worst_result_of_each_log() {
        use TargetStatus::*;
        let mut s = LogStatuses::default();
        assert_eq!(s.get(0), None);
        s.set(3, Pass);
        s.set(3, Skipped);
        assert!(matches!(s, LogStatuses::One(3, Pass)));
        s.set(3, Fail);
        assert_eq!((s.get(3), s.get(0)), (Some(Fail), None));
        s.set(7, Pass);
        s.set(7, Fail);
        s.set(9, Skipped);
        assert_eq!(
            (s.get(3), s.get(7), s.get(9)),
            (Some(Fail), Some(Fail), Some(Skipped))
        );
        assert_eq!(s.statuses().collect::<Vec<_>>(), [Fail, Fail, Skipped]);
        let mut far = LogStatuses::default();
        far.set(usize::MAX, NotRun);
        assert_eq!(far.get(usize::MAX), Some(NotRun));
        assert_eq!(far.statuses().collect::<Vec<_>>(), [NotRun]);
    }

    /// A ring keeps the last lines pushed, in order, through the drops of
    /// its older half; a line past the longest kept is cut; the excerpt it
    /// gives counts every line pushed.
    #[test]
    fn a_ring_keeps_the_last_lines() {
        let mut ring = Ring::default();
        assert!(ring.is_empty());
        for n in 1..=1000u32 {
            ring.push(0, &format!("line {n}"));
            let kept: Vec<String> = ring.lines().map(str::to_owned).collect();
            let first = n.saturating_sub(MAX_OUTPUT_LINES as u32) + 1;
            let want: Vec<String> = (first..=n).map(|i| format!("line {i}")).collect();
            assert_eq!(kept, want, "after {n} lines");
        }
        ring.push(0, &"x".repeat(2 * MAX_OUTPUT_LINE));
        let last = ring.lines().last().unwrap();
        assert!(
            last.len() <= MAX_OUTPUT_LINE && last.ends_with('…'),
            "{}",
            last.len()
        );
        ring.keep_last(SHORT_EXCERPT);
        let kept: Vec<&str> = ring.lines().collect();
        assert_eq!(kept.len(), SHORT_EXCERPT);
        assert_eq!(kept[0], "line 997");
        let excerpt = ring.take();
        assert_eq!((excerpt.len(), excerpt.total_lines), (SHORT_EXCERPT, 1001));
        assert!(ring.is_empty() && ring.buf.is_none() && ring.total() == 0);
        // The buffer went back to the pool, emptied, and the next ring takes it.
        let mut next = Ring::default();
        next.push(1, "again");
        assert_eq!(next.lines().collect::<Vec<_>>(), ["again"]);
        assert_eq!((next.source(), next.total()), (Some(1), 1));
        assert!(next.buf.as_ref().unwrap().text.capacity() > 100);
    }

    /// A failed env's excerpt is settled (kept within the budget, its ring
    /// emptied) at its result line, not held until the end of the input.
    #[test]
    fn failed_env_output_is_settled_at_its_result_line() {
        let log = include_str!("../../tests/fixtures/tox4-sequential/tox.log");
        let failed = "py3.11-markupsafe-v2.1.5";
        // Everything up to and including that env's `FAIL ✖` line, and the next line.
        let end = log
            .find(&format!("{failed}: FAIL ✖"))
            .expect("fixture has the FAIL line");
        let end = end + log[end..].find('\n').unwrap() + 1;
        let end = end + log[end..].find('\n').unwrap() + 1;
        let mut agg = Aggregator::new();
        let src = agg.source_id("tox.log");
        parse_log(
            &log.as_bytes()[..end],
            &mut |line: u64, text: &str, ev: LogEvent<'_>| agg.on_log_event(src, line, text, ev),
        )
        .unwrap();
        let b = &agg.builders[agg.find(failed, agg.hash(failed)).unwrap()];
        assert!(
            b.ring.is_empty(),
            "ring still holds {} lines",
            b.ring.lines().count()
        );
        assert!(b.ring.source().is_none());
        assert!(
            b.target
                .output
                .lines()
                .any(|l| l.contains("FAILED tests/test_markupsafe.py")),
            "{:?}",
            b.target.output
        );
        let kept: usize = b.target.output.lines().map(|l| l.len() + 1).sum();
        assert_eq!(agg.budget.retained, kept, "the budget counts what was kept");
    }

    /// The budget counts the excerpts held: when an env fails again later in
    /// the log (a second run), its new excerpt replaces the first and the
    /// first's room is given back.
    #[test]
    fn a_replaced_excerpt_gives_its_room_back() {
        let once = include_str!("../../tests/fixtures/tox4-sequential/tox.log");
        let held = |agg: &Aggregator| -> usize {
            agg.builders.iter().map(|b| b.target.output.bytes()).sum()
        };
        let mut agg = Aggregator::new();
        agg.add_log("tox.log", once.as_bytes()).unwrap();
        let first = agg.budget.retained;
        assert!(first > 0);
        assert_eq!(first, held(&agg));
        let mut agg = Aggregator::new();
        agg.add_log("tox.log", format!("{once}{once}").as_bytes())
            .unwrap();
        assert_eq!(agg.budget.retained, held(&agg));
        assert_eq!(agg.budget.retained, first, "the same excerpts, held once");
    }

    /// Past the failures budget, a target lists its first failure, a test it
    /// lists already, and one failure of each kind; the others are counted.
    #[test]
    fn past_the_failures_budget_each_kind_keeps_one_failure() {
        let failure = |test: &str, message: &str| Failure {
            test: test.to_owned(),
            kind: crate::model::FailureKind::Failure,
            message: message.to_owned(),
            details: String::new(),
            attempts: 1,
            source: FailureSource::Junit,
            category: Category::Unknown,
            evidence: None,
        };
        let assertion = |t: &str| failure(t, "AssertionError: assert 1 == 2");
        let network = |t: &str| {
            failure(
                t,
                "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='x', port=443): Max retries exceeded",
            )
        };
        let mut budget = Budget::default();
        let mut within = Builder::new("py3.12-a");
        for i in 0..3 {
            assert!(within.admit(&assertion(&format!("t{i}")), &mut budget));
        }
        assert_eq!(budget.failures_dropped, 0);
        budget.failures = FAILURES_BUDGET;
        let mut b = Builder::new("py3.12-b");
        let mut add = |b: &mut Builder, f: Failure| {
            let admitted = b.admit(&f, &mut budget);
            if admitted {
                b.target.add_failure(f);
            } else {
                b.target.findings_mut().failures_omitted += 1;
            }
            admitted
        };
        assert!(add(&mut b, assertion("t1")), "a target's first failure");
        assert!(add(&mut b, assertion("t1")), "the same test merges");
        assert!(!add(&mut b, assertion("t2")), "a kind listed already");
        assert!(add(&mut b, network("t3")), "a new kind");
        assert!(!add(&mut b, network("t4")));
        let listed: Vec<&str> = b
            .target
            .findings()
            .failures
            .iter()
            .map(|f| f.test.as_str())
            .collect();
        assert_eq!(listed, ["t1", "t3"]);
        assert_eq!(b.target.findings().failures_omitted, 2);
        assert_eq!(budget.failures_dropped, 2);
    }

    /// The failure messages of `target` after aggregating `log`, with the
    /// output budget already spent when `budget_spent`, and its excerpt's size.
    fn messages_of(log: &str, target: &str, budget_spent: bool) -> (Vec<String>, usize) {
        let mut agg = Aggregator::new();
        if budget_spent {
            agg.budget.retained = OUTPUT_BUDGET;
        }
        agg.add_log("tox.log", log.as_bytes()).unwrap();
        let report = agg.finish(None);
        let t = report
            .targets
            .iter()
            .find(|t| t.name.as_str() == target)
            .expect("target in report");
        let messages = t
            .findings()
            .failures
            .iter()
            .map(|f| f.message.clone())
            .collect();
        (messages, t.output.len())
    }

    /// pytest cuts the short-summary message (`ImportEr...`); the env's
    /// FAILURES section has the whole one. It is completed from the output as
    /// read, even when the memory budget shortens the excerpt kept.
    #[test]
    fn cut_messages_are_completed_even_when_the_excerpt_is_shortened() {
        let log = include_str!("../../tests/fixtures/tox4-sequential/tox.log");
        let whole = "ImportError: cannot import name 'soft_unicode' from 'markupsafe' (/home/runner/work/toxproject/toxproject/.tox/py3.11-markupsafe-v2.1.5/lib/python3.11/site-packages/markupsafe/__init__.py)";
        let target = "py3.11-markupsafe-v2.1.5";
        let (messages, lines) = messages_of(log, target, false);
        assert_eq!(messages, [whole]);
        assert!(lines > SHORT_EXCERPT, "{lines}");
        let (messages, lines) = messages_of(log, target, true);
        assert_eq!(messages, [whole], "completed before the excerpt is cut");
        assert_eq!(lines, SHORT_EXCERPT);
    }

    /// Past the short excerpts' budget too, a failed target keeps only
    /// the lines of its last few that tell its kind of failure: a target
    /// with no failing test is classified from them as from all of them.
    /// On every fixture log.
    #[test]
    fn past_both_budgets_an_excerpt_keeps_what_tells_its_kind() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut logs = Vec::new();
        for sub in std::fs::read_dir(&dir).unwrap() {
            let sub = sub.unwrap().path();
            for f in std::fs::read_dir(&sub).into_iter().flatten() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "log" || e == "txt") {
                    logs.push(std::fs::read(f).unwrap());
                }
            }
        }
        let report = |log: &[u8], spent: usize| {
            let mut agg = Aggregator::new();
            agg.budget.retained = spent;
            agg.add_log("job.log", log).unwrap();
            agg.finish(None)
        };
        let (mut failed, mut reduced, mut known) = (0, 0, 0);
        for log in &logs {
            let cut = reduced;
            let short = report(log, OUTPUT_BUDGET);
            let least = report(log, OUTPUT_BUDGET + SHORT_BUDGET);
            for (s, l) in short.targets.iter().zip(&least.targets) {
                assert_eq!(s.name, l.name);
                if s.status != TargetStatus::Fail {
                    continue;
                }
                failed += 1;
                assert!(s.output.len() <= SHORT_EXCERPT && l.output.len() <= 2);
                assert!(l.output.lines().all(|x| s.output.lines().any(|y| x == y)));
                assert_eq!(l.output.total_lines, s.output.total_lines);
                assert_eq!(
                    categories::classify_target(l),
                    categories::classify_target(s),
                    "{}",
                    s.name
                );
                reduced += usize::from(l.output.len() < s.output.len());
                known += usize::from(categories::classify_target(l).0 != Category::Unknown);
            }
            // Every failed target's excerpt was cut (the budget was spent
            // from the start), and the warning counts them.
            let said = format!(" and {} to the lines that tell", reduced - cut);
            assert_eq!(
                least.warnings.iter().any(|w| w.message.contains(&said)),
                reduced > cut,
                "{said}"
            );
        }
        assert!(
            failed > 20 && reduced > 20 && known > 10,
            "{failed} failed, {reduced} reduced, {known} of a known kind"
        );
    }

    /// An `E ` line that does not start with the cut message is about
    /// something else: the cut message stays.
    #[test]
    fn a_cut_message_is_not_replaced_by_a_different_error() {
        let log = include_str!("../../tests/fixtures/tox4-sequential/tox.log").replacen(
            "E       ImportError: cannot import name 'soft_unicode'",
            "E       KeyError: 'soft_unicode'",
            1,
        );
        let (messages, _) = messages_of(&log, "py3.11-markupsafe-v2.1.5", false);
        assert_eq!(messages, ["ImportEr..."]);
    }
}

#[cfg(test)]
mod read_ahead_tests {
    use super::*;
    use crate::error::Error;

    type Input = Box<dyn Read + Send>;

    const LOGS: &[&str] = &[
        "tests/fixtures/github-job/job-cancelled.log",
        "tests/fixtures/github-job/job-flakes.log",
        "tests/fixtures/github-job/job-regression.log",
        "tests/fixtures/github-job/job.log",
        "tests/fixtures/tox3/tox.log",
        "tests/fixtures/tox4-colored/tox.log",
        "tests/fixtures/tox4-job-flakes/tox.log",
        "tests/fixtures/tox4-job-regression/tox.log",
        "tests/fixtures/tox4-parallel-live/tox.log",
        "tests/fixtures/tox4-parallel/tox.log",
        "tests/fixtures/tox4-sequential/tox.log",
    ];

    fn input(path: &str) -> crate::error::Result<Input> {
        let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        Ok(Box::new(std::fs::File::open(full).unwrap()))
    }

    /// Real logs of every shape, each twice (the same targets in several
    /// sources), and an empty one, read one at a time on one thread and read
    /// ahead on two.
    #[test]
    fn logs_read_ahead_give_the_report_of_one_at_a_time() {
        let names: Vec<&str> = LOGS
            .iter()
            .chain(&["empty.log"])
            .chain(LOGS)
            .copied()
            .collect();
        let open = |name: &str| match name {
            "empty.log" => Ok(Box::new(&b""[..]) as Input),
            _ => input(name),
        };
        let mut one = Aggregator::new();
        for name in &names {
            one.add_log(name, open(name).unwrap()).unwrap();
        }
        let mut ahead = Aggregator::new().with_reader_thread(true);
        ahead
            .add_logs(names.iter().map(|n| ((*n).to_owned(), open(n))))
            .unwrap();
        let (one, ahead) = (one.finish(None), ahead.finish(None));
        assert!(one.targets.len() > 10, "{} targets", one.targets.len());
        assert!(!one.warnings.is_empty());
        assert_eq!(one, ahead);
    }

    /// Fails after some bytes, as a broken pipe or disk would.
    struct Failing(&'static [u8]);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// The first log that cannot be read ends the reading with its error,
    /// after the logs before it; the log being read ahead (large enough to
    /// fill its queue) is dropped without hanging.
    #[test]
    fn a_read_error_ends_the_reading_after_the_logs_before_it() {
        let big: Vec<u8> =
            include_bytes!("../../tests/fixtures/tox4-sequential/tox.log").repeat(400);
        assert!(big.len() > 8 * (256 << 10));
        let logs: Vec<(String, crate::error::Result<Input>)> = vec![
            ("first.log".into(), input(LOGS[10])),
            (
                "broken.log".into(),
                Ok(Box::new(Failing(b"py3.12-a: commands[0]> pytest\n"))),
            ),
            ("big.log".into(), Ok(Box::new(std::io::Cursor::new(big)))),
            ("never.log".into(), Err(Error::Usage("not opened".into()))),
        ];
        let mut agg = Aggregator::new().with_reader_thread(true);
        let err = agg.add_logs(logs).unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if path == "broken.log"),
            "{err}"
        );
        assert_eq!(
            agg.sources,
            [Arc::from("first.log"), Arc::from("broken.log")]
        );
        // The pipe is kept for later logs.
        agg.add_log("after.log", &b"py3.12-b: OK (1.00 seconds)\n"[..])
            .unwrap();
    }

    /// Output lines without end.
    struct Endless;

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            for pair in buf.chunks_mut(2) {
                pair[0] = b'.';
                if let Some(b) = pair.get_mut(1) {
                    *b = b'\n';
                }
            }
            Ok(buf.len())
        }
    }

    /// A log read ahead that nobody wants any more stops being read: after
    /// an error in the log before it, an endless log does not keep the
    /// reading from returning.
    #[test]
    fn a_log_read_ahead_is_abandoned_after_an_error() {
        let logs: Vec<(String, crate::error::Result<Input>)> = vec![
            (
                "broken.log".into(),
                Ok(Box::new(Failing(b"py3.12-a: commands[0]> pytest\n"))),
            ),
            ("endless.log".into(), Ok(Box::new(Endless))),
        ];
        let mut agg = Aggregator::new().with_reader_thread(true);
        let err = agg.add_logs(logs).unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if path == "broken.log"),
            "{err}"
        );
    }

    /// A log that cannot be opened ends the reading at its turn.
    #[test]
    fn an_open_error_ends_the_reading_at_its_turn() {
        for threaded in [false, true] {
            let logs: Vec<(String, crate::error::Result<Input>)> = vec![
                ("first.log".into(), input(LOGS[10])),
                (
                    "missing.log".into(),
                    Err(Error::Usage("no such file".into())),
                ),
                ("third.log".into(), input(LOGS[0])),
            ];
            let mut agg = Aggregator::new().with_reader_thread(threaded);
            let err = agg.add_logs(logs).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{err}");
            assert_eq!(agg.sources, [Arc::from("first.log")]);
        }
    }
}
