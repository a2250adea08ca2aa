//! The tox output parser: turns lines of tox 3 or tox 4 output (sequential,
//! `-p` or `-p -o`, possibly inside a GitHub job log) into [`LogEvent`]s.
//!
//! It is a line-at-a-time state machine that borrows from each line and
//! allocates only when a new environment name first appears. Which
//! environment an unprefixed line (pytest's output) belongs to is decided
//! here, see `ToxLogParser::attribute`.

use std::io::Read;

use crate::inputs::ghlog::{Cleaned, LineCleaner, Marker};
use crate::inputs::lines::LineReader;
use crate::model::is_plausible_env_name;

/// The result tox printed for one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvResult {
    /// `OK`, `commands succeeded`.
    Ok,
    /// `FAIL`, `commands failed`, `could not install deps`.
    Fail,
    /// `SKIP`, `InterpreterNotFound`.
    Skip,
}

/// Durations from a status line.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatusTimes {
    /// Whole environment.
    pub total: Option<f64>,
    /// Setup part (`setup[..]`).
    pub setup: Option<f64>,
    /// Commands part (`cmd[..]`).
    pub commands: Option<f64>,
}

/// Something tox (or the CI around it) said, with the text it borrowed from.
pub type LogEvent<'a> = Event<&'a str>;

/// Something tox (or the CI around it) said; its strings are `S` (borrowed
/// text in [`LogEvent`]; positions in a buffer where events are stored).
#[derive(Debug, Clone, PartialEq)]
pub enum Event<S> {
    /// A GitHub step began (`##[group]Run ...`): environments of earlier steps have ended.
    Step {
        /// The step title.
        title: S,
    },
    /// A GitHub `##[error]` line, such as `Process completed with exit code 1.`.
    StepError {
        /// Its text.
        message: S,
    },
    /// A tox command line naming its environments (`tox -p auto -o -e a,b,c`).
    Selection {
        /// The environments, in the order given.
        envs: Vec<S>,
    },
    /// A setup step (`install_deps>`, tox 3 `installdeps:`).
    Setup {
        /// Environment.
        env: S,
        /// The step's name.
        step: S,
        /// What it ran.
        detail: S,
    },
    /// A command from the env's `commands` started (`commands[0]> pytest ...`).
    Command {
        /// Environment.
        env: S,
        /// The command line.
        command: S,
    },
    /// A command ended: tox 4's `exit N (t seconds) cwd> cmd`, tox 3's `InvocationError`.
    Exit {
        /// Environment.
        env: S,
        /// Exit code.
        code: i32,
        /// Run time in seconds, when printed.
        seconds: Option<f64>,
        /// Working directory, when printed.
        cwd: S,
        /// The command line.
        command: S,
        /// tox said this failed while installing, before the commands ran.
        setup_step: bool,
    },
    /// An environment's result.
    Status {
        /// Environment.
        env: S,
        /// OK, FAIL or SKIP.
        result: EnvResult,
        /// `FAIL code N`, when printed.
        exit_code: Option<i32>,
        /// Durations, when printed.
        times: StatusTimes,
        /// Part of tox's final summary rather than a progress line.
        summary: bool,
        /// Why it was skipped or failed, when tox says (`InterpreterNotFound: python3.99`).
        reason: Option<S>,
    },
    /// Any other line, with the environment it belongs to when that is known.
    Output {
        /// Environment, when attributed.
        env: Option<S>,
        /// The line.
        text: S,
    },
}

/// Receives the events of a log, each with its line.
pub trait LogSink {
    /// One event. `line` is the 1-based line number in the input, `text` the
    /// cleaned line the event came from.
    fn event(&mut self, line: u64, text: &str, event: LogEvent<'_>);

    /// A line of output that names no env: the event `Event::Output { env,
    /// text }`, most of a log's lines. `same_env` says that `env` is the env
    /// of the previous call of `output` (a hint, which a sink may use to
    /// skip comparing it; it may be false when the env is the same).
    fn output(&mut self, line: u64, text: &str, env: Option<&str>, same_env: bool) {
        let _ = same_env;
        self.event(line, text, LogEvent::Output { env, text });
    }
}

impl<F: FnMut(u64, &str, LogEvent<'_>)> LogSink for F {
    fn event(&mut self, line: u64, text: &str, event: LogEvent<'_>) {
        self(line, text, event)
    }
}

/// Line-at-a-time tox output parser.
#[derive(Debug, Default)]
pub struct ToxLogParser {
    /// Env of the most recent line that named one.
    last_env: String,
    /// Envs whose commands have started and not yet exited, oldest first.
    running: Vec<String>,
    /// `last_env` is in `running`: kept up to date by the methods that change
    /// either, so that attributing a line of output compares no names.
    last_running: bool,
    /// tox's final summary has begun: lines are results, not output.
    in_summary: bool,
    /// tox 3's `___ summary ___` header was seen.
    tox3_summary: bool,
    /// Counts the lines that may have changed the state above (which env a
    /// line of output belongs to): the lines of output between two changes
    /// belong to the same env.
    state: u64,
    /// `state` at the last line of output.
    state_at_output: Option<u64>,
}

/// Reads a whole log from `input`, cleaning framing, and feeds `sink`.
/// Returns the number of lines read and how many were cut for length.
pub fn parse_log<R: Read, S: LogSink>(input: R, sink: &mut S) -> std::io::Result<LogStats> {
    let mut reader = LineReader::new(input);
    let mut cleaner = LineCleaner::new();
    let mut parser = ToxLogParser::new();
    let mut stats = LogStats::default();
    stats.lines = reader.for_each_line(|line| {
        if line.truncated {
            stats.truncated_lines += 1;
            if stats.first_truncated.is_none() {
                stats.first_truncated = Some(line.number);
            }
        }
        if line.controls && memchr::memchr(0, line.bytes).is_some() {
            stats.nul_lines += 1;
        }
        let cleaned = cleaner.clean_line(line);
        parser.feed(line.number, cleaned, line.tox, sink);
    })?;
    Ok(stats)
}

/// Counts from reading one log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Lines read.
    pub lines: u64,
    /// Lines longer than the limit, cut.
    pub truncated_lines: u64,
    /// The first such line.
    pub first_truncated: Option<u64>,
    /// Lines holding NUL bytes.
    pub nul_lines: u64,
}

impl ToxLogParser {
    /// A parser at the start of a log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one cleaned line. `tox`: the line may hold `tox` (see
    /// [`Line::tox`](crate::inputs::lines::Line::tox)); only such a line
    /// can run tox on a selection of envs.
    pub fn feed<S: LogSink>(&mut self, line: u64, cleaned: Cleaned<'_>, tox: bool, sink: &mut S) {
        if let Cleaned::Marker(_) = cleaned {
            self.state += 1;
        }
        match cleaned {
            Cleaned::Marker(Marker::Group(title)) => {
                if title.starts_with("Run ") {
                    self.new_run();
                    sink.event(line, title, LogEvent::Step { title });
                }
            }
            Cleaned::Marker(Marker::Error(message)) => {
                sink.event(line, message, LogEvent::StepError { message });
            }
            Cleaned::Marker(_) => {}
            Cleaned::Text(text) => self.text_line(line, text, tox, sink),
        }
    }

    fn new_run(&mut self) {
        self.running.clear();
        self.last_env.clear();
        self.last_running = false;
        self.in_summary = false;
        self.tox3_summary = false;
    }

    fn text_line<S: LogSink>(&mut self, line: u64, text: &str, tox: bool, sink: &mut S) {
        let lead = Lead::of(text);
        if let Some(ev) = self.tox4_line(lead).or_else(|| self.tox3_line(text, lead)) {
            self.state += 1;
            if ev.env() == Some(CURRENT_ENV) {
                // A tox 3 line that refers to the env being worked on without naming it.
                let current = self.last_env.clone();
                let ev = ev.with_env(&current);
                self.track(&ev);
                sink.event(line, text, ev);
            } else {
                self.track(&ev);
                sink.event(line, text, ev);
            }
            return;
        }
        if tox && let Some(envs) = selection(text) {
            self.state += 1;
            self.new_run();
            sink.event(line, text, LogEvent::Selection { envs });
            return;
        }
        if !self.in_summary
            && let Some(env) = pytest_env_hint(text)
        {
            // pytest is running in that env: its output follows.
            self.state += 1;
            self.set_last_env(env);
            self.start_running(env);
        }
        let same_env = self.state_at_output == Some(self.state);
        self.state_at_output = Some(self.state);
        let env = if self.in_summary {
            None
        } else {
            self.attribute()
        };
        sink.output(line, text, env, same_env);
    }

    /// Which environment an unprefixed line belongs to. The env of the last
    /// line that named one, unless that env is not running commands while
    /// others are; then the most recently started running env. In `-p -o`
    /// mode, output of envs running at once interleaves and this is a best
    /// guess; pytest's `cachedir: .tox/<env>/` line re-anchors it.
    fn attribute(&self) -> Option<&str> {
        debug_assert_eq!(self.last_running, self.running.contains(&self.last_env));
        let last = (!self.last_env.is_empty()).then_some(self.last_env.as_str());
        match last {
            Some(env) if self.running.is_empty() || self.last_running => Some(env),
            _ => self.running.last().map(String::as_str).or(last),
        }
    }

    fn set_last_env(&mut self, env: &str) {
        if self.last_env != env {
            self.last_env.clear();
            self.last_env.push_str(env);
            self.last_running = self.running.iter().any(|r| r == env);
        }
    }

    /// `env`'s commands have started.
    fn start_running(&mut self, env: &str) {
        if !self.running.iter().any(|r| r == env) {
            self.running.push(env.to_owned());
            self.last_running |= self.last_env == env;
        }
    }

    /// `env`'s commands have ended.
    fn stop_running(&mut self, env: &str) {
        self.running.retain(|r| r != env);
        self.last_running &= self.last_env != env;
    }

    fn track(&mut self, ev: &LogEvent<'_>) {
        if matches!(ev, LogEvent::Command { .. } | LogEvent::Setup { .. }) {
            // An env steps again after a summary: a new tox run began, with
            // nothing between them to say so (two runs in one log).
            self.in_summary = false;
            self.tox3_summary = false;
        }
        match ev {
            LogEvent::Command { env, .. } => {
                self.set_last_env(env);
                self.start_running(env);
            }
            LogEvent::Exit { env, .. } => {
                self.set_last_env(env);
                self.stop_running(env);
            }
            LogEvent::Status { env, summary, .. } => {
                if *summary {
                    self.in_summary = true;
                } else {
                    self.set_last_env(env);
                }
                self.stop_running(env);
            }
            LogEvent::Setup { env, .. } => self.set_last_env(env),
            LogEvent::Output { env: Some(env), .. } => self.set_last_env(env),
            _ => {}
        }
    }

    /// tox 4: `env: step> cmd`, `env: exit N (...)`, `env: OK ✔ in ...`, and
    /// the summary `  env: FAIL code 1 (...)`.
    fn tox4_line<'a>(&self, lead: Option<Lead<'a>>) -> Option<LogEvent<'a>> {
        let Lead {
            indented,
            env,
            sep: b':',
            rest,
        } = lead?
        else {
            return None;
        };
        let rest = rest.strip_prefix(' ')?;
        if NOT_ENVS.contains(&env) {
            return None;
        }
        if let Some(ev) = parse_status(env, rest, indented) {
            return Some(ev);
        }
        if indented {
            return None;
        }
        if let Some(after) = rest.strip_prefix("exit ") {
            return parse_tox4_exit(env, after);
        }
        if let Some(reason) = rest.strip_prefix("skipped because ") {
            return Some(LogEvent::Status {
                env,
                result: EnvResult::Skip,
                exit_code: None,
                times: StatusTimes::default(),
                summary: false,
                reason: Some(reason),
            });
        }
        let (step, detail) = tox4_step(rest)?;
        if step.starts_with("commands") {
            Some(LogEvent::Command {
                env,
                command: detail,
            })
        } else {
            Some(LogEvent::Setup { env, step, detail })
        }
    }

    /// tox 3: `env run-test: commands[0] | cmd`, `ERROR: InvocationError ...`,
    /// and the `___ summary ___` block.
    fn tox3_line<'a>(&mut self, text: &'a str, lead: Option<Lead<'a>>) -> Option<LogEvent<'a>> {
        // `____ summary ____`, and not pytest's `____ test_x[a summary] ____`.
        if is_tox3_summary_rule(text) {
            self.tox3_summary = true;
            self.in_summary = true;
            return Some(LogEvent::Output { env: None, text });
        }
        if self.tox3_summary
            && let Some(ev) = parse_tox3_summary(text)
        {
            return Some(ev);
        }
        // Most lines are ruled out by their first byte.
        let first = text.as_bytes().first().copied();
        if first == Some(b'E')
            && let Some(rest) = text.strip_prefix("ERROR: ")
        {
            return self.tox3_error(rest);
        }
        if first == Some(b'S')
            && let Some(reason) = text.strip_prefix("SKIPPED: ")
        {
            let env = self.current_env_for_tox3()?;
            return Some(LogEvent::Status {
                env,
                result: EnvResult::Skip,
                exit_code: None,
                times: StatusTimes::default(),
                summary: false,
                reason: Some(reason),
            });
        }
        if let Some(ev) = parse_tox3_parallel_status(text) {
            return Some(ev);
        }
        let Lead {
            indented: false,
            env,
            sep: b' ',
            rest,
        } = lead?
        else {
            return None;
        };
        // The action is the word before `: ` (actions are written with the
        // bytes of `is_action_byte` only), looked up whole.
        let word = rest.bytes().take_while(|&b| is_action_byte(b)).count();
        let detail = rest[word..].strip_prefix(": ")?;
        let action = *TOX3_ACTIONS.iter().find(|a| **a == &rest[..word])?;
        if action == "run-test" {
            let command = detail
                .split_once(" | ")
                .filter(|(head, _)| head.starts_with("commands["))
                .map_or(detail, |(_, cmd)| cmd);
            return Some(LogEvent::Command { env, command });
        }
        Some(LogEvent::Setup {
            env,
            step: action,
            detail,
        })
    }

    /// The env a tox 3 line without a name refers to (the last one named), as
    /// the [`CURRENT_ENV`] placeholder that `text_line` replaces.
    fn current_env_for_tox3<'a>(&self) -> Option<&'a str> {
        (!self.last_env.is_empty()).then_some(CURRENT_ENV)
    }

    fn tox3_error<'a>(&self, rest: &'a str) -> Option<LogEvent<'a>> {
        if let Some(after) = rest.strip_prefix("InvocationError for command ") {
            let (command, code) = after.rsplit_once(" (exited with code ")?;
            let code: i32 = code.strip_suffix(')')?.trim().parse().ok()?;
            let env = env_from_tox_path(command).or_else(|| self.current_env_for_tox3())?;
            return Some(LogEvent::Exit {
                env,
                code,
                seconds: None,
                cwd: "",
                command,
                setup_step: false,
            });
        }
        if let Some(after) = rest.strip_prefix("invocation failed (exit code ") {
            let (code, tail) = after.split_once(')')?;
            let code: i32 = code.trim().parse().ok()?;
            let env = env_from_tox_path(tail).or_else(|| self.current_env_for_tox3())?;
            return Some(LogEvent::Exit {
                env,
                code,
                seconds: None,
                cwd: "",
                command: "",
                setup_step: true,
            });
        }
        if let Some(after) = rest.strip_prefix("could not install deps ") {
            let env = env_from_tox_path(after).or_else(|| self.current_env_for_tox3())?;
            return Some(LogEvent::Status {
                env,
                result: EnvResult::Fail,
                exit_code: None,
                times: StatusTimes::default(),
                summary: false,
                reason: Some(rest),
            });
        }
        None
    }
}

/// Placeholder env name for tox 3 lines that do not name their env; never
/// reaches a sink (a NUL cannot be in an env name).
const CURRENT_ENV: &str = "\u{0}current";

impl<'a> LogEvent<'a> {
    /// The environment the event is about, if any.
    pub fn env(&self) -> Option<&'a str> {
        match self {
            LogEvent::Setup { env, .. }
            | LogEvent::Command { env, .. }
            | LogEvent::Exit { env, .. }
            | LogEvent::Status { env, .. } => Some(env),
            LogEvent::Output { env, .. } => *env,
            LogEvent::Step { .. } | LogEvent::StepError { .. } | LogEvent::Selection { .. } => None,
        }
    }

    /// The same event about another environment.
    fn with_env<'b>(self, new_env: &'b str) -> LogEvent<'b>
    where
        'a: 'b,
    {
        self.map(|part, s| if part == Part::Env { new_env } else { s })
    }
}

/// Which part of an event a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// An environment name (`env`, an entry of `envs`).
    Env,
    /// Any other text.
    Text,
}

impl<S> Event<S> {
    /// The same event with each string replaced by `f(part, string)`, every
    /// other field kept.
    pub fn map<T>(self, mut f: impl FnMut(Part, S) -> T) -> Event<T> {
        use Part::{Env, Text};
        match self {
            Event::Step { title } => Event::Step {
                title: f(Text, title),
            },
            Event::StepError { message } => Event::StepError {
                message: f(Text, message),
            },
            Event::Selection { envs } => Event::Selection {
                envs: envs.into_iter().map(|e| f(Env, e)).collect(),
            },
            Event::Setup { env, step, detail } => Event::Setup {
                env: f(Env, env),
                step: f(Text, step),
                detail: f(Text, detail),
            },
            Event::Command { env, command } => Event::Command {
                env: f(Env, env),
                command: f(Text, command),
            },
            Event::Exit {
                env,
                code,
                seconds,
                cwd,
                command,
                setup_step,
            } => Event::Exit {
                env: f(Env, env),
                code,
                seconds,
                cwd: f(Text, cwd),
                command: f(Text, command),
                setup_step,
            },
            Event::Status {
                env,
                result,
                exit_code,
                times,
                summary,
                reason,
            } => Event::Status {
                env: f(Env, env),
                result,
                exit_code,
                times,
                summary,
                reason: reason.map(|r| f(Text, r)),
            },
            Event::Output { env, text } => Event::Output {
                env: env.map(|e| f(Env, e)),
                text: f(Text, text),
            },
        }
    }
}

/// Words that precede `: ` in tox's and pytest's own lines but are not envs.
const NOT_ENVS: &[&str] = &[
    "ROOT", "ERROR", "SKIPPED", "WARNING", "E", "FAILED", "PASSED",
];

const TOX3_ACTIONS: &[&str] = &[
    "create",
    "recreate",
    "installdeps",
    "inst",
    "inst-nodeps",
    "installed",
    "develop-inst",
    "develop-inst-noop",
    "develop-inst-nodeps",
    "reusing",
    "run-test-pre",
    "run-test",
    "commands_pre",
    "commands_post",
];

/// The bytes tox 3's action names are written with.
fn is_action_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b == b'-' || b == b'_'
}

/// A tox 4 step line's step and detail, after `env: `: the step's name (of
/// `[A-Za-z0-9_\-\[\]]`), then `> ` and the detail, or a `>` that ends the
/// line (`commands[0]> pytest`, `install_deps> pip install x`, `freeze>`).
fn tox4_step(rest: &str) -> Option<(&str, &str)> {
    let step_chars = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'[' | b']');
    let (step, after) =
        rest.split_at_checked(rest.bytes().take_while(|&b| step_chars(b)).count())?;
    let detail = match after.strip_prefix('>')? {
        "" => "",
        d => d.strip_prefix(' ')?,
    };
    (!step.is_empty()).then_some((step, detail))
}

/// tox 3's `____ summary ____` rule: underscores around ` summary ` (at
/// least three before it), and not pytest's `____ test_x[a summary] ____`.
/// Looked at byte by byte: pytest's section headers also start with
/// underscores, and there are many of them.
fn is_tox3_summary_rule(text: &str) -> bool {
    let b = text.as_bytes();
    let lead = b.iter().take_while(|&&c| c == b'_').count();
    lead >= 3
        && b[lead..].starts_with(b" summary ")
        && b[lead + b" summary ".len()..].iter().all(|&c| c == b'_')
}

/// `env` inside a path such as `/w/.tox/py3.12-x/bin/python` or `.tox/py3.12-x/log/...`.
fn env_from_tox_path(text: &str) -> Option<&str> {
    let at = memchr::memmem::find(text.as_bytes(), b".tox/")? + 5;
    let rest = text.get(at..)?;
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b' ' | b'\'' | b')'))
        .unwrap_or(rest.len());
    let env = rest.get(..end)?;
    is_plausible_env_name(env).then_some(env)
}

/// pytest names the env it runs in: `cachedir: .tox/<env>/.pytest_cache`.
fn pytest_env_hint(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("cachedir: ")?;
    env_from_tox_path(rest)
}

/// The result word tox starts a status with (`OK`, `FAIL`, `SKIP`), and what follows it.
fn result_word(text: &str) -> Option<(EnvResult, &str)> {
    [
        ("OK", EnvResult::Ok),
        ("FAIL", EnvResult::Fail),
        ("SKIP", EnvResult::Skip),
    ]
    .into_iter()
    .find_map(|(word, result)| Some((result, text.strip_prefix(word)?)))
}

/// `OK ✔ in 4.6 seconds`, `FAIL code 1 (3.66=setup[3.31]+cmd[0.35] seconds)`, `SKIP (0.24 seconds)`.
fn parse_status<'a>(env: &'a str, rest: &'a str, indented: bool) -> Option<LogEvent<'a>> {
    let (result, after) = result_word(rest)?;
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    let mut after = after.trim_start();
    let mut exit_code = None;
    if let Some(a) = after.strip_prefix("code ") {
        let end = a
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(a.len());
        exit_code = a[..end].parse().ok();
        after = a[end..].trim_start();
    }
    // Skip the ✔ / ✖ / ⚠ symbol tox 4 prints on progress lines.
    after = after
        .trim_start_matches(|c: char| !c.is_ascii())
        .trim_start();
    // Progress lines end `in 4.6 seconds`; summary lines `(3.66=setup[..]+cmd[..] seconds)`.
    // Anything else (`result: OK` printed by a test) is not tox's.
    let mut times = StatusTimes::default();
    let summary = if let Some(a) = after.strip_prefix("in ") {
        times.total = Some(a.strip_suffix(" seconds")?.trim().parse().ok()?);
        indented
    } else if let Some(a) = after.strip_prefix('(') {
        parse_summary_times(a.strip_suffix(" seconds)")?, &mut times);
        times.total?;
        true
    } else {
        return None;
    };
    Some(LogEvent::Status {
        env,
        result,
        exit_code,
        times,
        summary,
        reason: None,
    })
}

/// `3.66=setup[3.31]+cmd[0.35]` or `2.00`.
fn parse_summary_times(inner: &str, times: &mut StatusTimes) {
    let (total, parts) = match inner.split_once('=') {
        Some((t, p)) => (t, Some(p)),
        None => (inner, None),
    };
    times.total = total.trim().parse().ok();
    for part in parts.into_iter().flat_map(|p| p.split('+')) {
        let Some((name, value)) = part.split_once('[') else {
            continue;
        };
        let value = value.strip_suffix(']').and_then(|v| v.parse().ok());
        match name {
            "setup" => times.setup = value,
            "cmd" => times.commands = value,
            _ => {}
        }
    }
}

/// `exit 1 (0.37 seconds) /cwd> python -m pytest ... pid=3742`
fn parse_tox4_exit<'a>(env: &'a str, after: &'a str) -> Option<LogEvent<'a>> {
    let (code, rest) = after.split_once(' ')?;
    let code: i32 = code.parse().ok()?;
    let (seconds, rest) = match rest.strip_prefix('(') {
        Some(r) => {
            let (secs, tail) = r.split_once(" seconds)")?;
            (secs.parse().ok(), tail.trim_start())
        }
        None => (None, rest),
    };
    let (cwd, command) = rest.split_once("> ").unwrap_or(("", rest));
    let command = match command.rsplit_once(" pid=") {
        Some((c, pid)) if pid.bytes().all(|b| b.is_ascii_digit()) => c,
        _ => command,
    };
    Some(LogEvent::Exit {
        env,
        code,
        seconds,
        cwd,
        command,
        setup_step: false,
    })
}

/// tox 3 summary lines: `  env: commands succeeded`, `ERROR:   env: commands failed`,
/// `SKIPPED:  env: InterpreterNotFound: python3.99`.
fn parse_tox3_summary(text: &str) -> Option<LogEvent<'_>> {
    let (default, body) = if let Some(b) = text.strip_prefix("ERROR:") {
        (EnvResult::Fail, b)
    } else if let Some(b) = text.strip_prefix("SKIPPED:") {
        (EnvResult::Skip, b)
    } else if let Some(b) = text.strip_prefix("  ") {
        (EnvResult::Ok, b)
    } else {
        return None;
    };
    let (env, reason) = body.trim_start().split_once(": ")?;
    if !is_plausible_env_name(env) {
        return None;
    }
    let result = match (default, reason) {
        (EnvResult::Ok, "commands succeeded") => EnvResult::Ok,
        (EnvResult::Ok, r) if r.starts_with("skipped") => EnvResult::Skip,
        (EnvResult::Ok, _) => return None,
        (r, _) => r,
    };
    let exit_code = reason.rsplit_once("exit code ").and_then(|(_, c)| {
        c.trim_end_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .ok()
    });
    Some(LogEvent::Status {
        env,
        result,
        exit_code,
        times: StatusTimes::default(),
        summary: true,
        reason: (result != EnvResult::Ok).then_some(reason),
    })
}

/// tox 3 `-p` progress: `✔ OK py3.11-common in 4.321 seconds`, `✖ FAIL py3.12-x in 5.1 seconds`.
fn parse_tox3_parallel_status(text: &str) -> Option<LogEvent<'_>> {
    // The line starts with the symbol or white space: most lines are ruled
    // out by their first byte.
    let first = *text.as_bytes().first()?;
    if first.is_ascii() && !first.is_ascii_whitespace() {
        return None;
    }
    let body = text
        .trim_start_matches(|c: char| !c.is_ascii())
        .trim_start();
    if body.len() == text.len() {
        return None;
    }
    let (result, rest) = result_word(body)?;
    let rest = rest.strip_prefix(' ')?;
    let (env, secs) = rest.split_once(" in ")?;
    if !is_plausible_env_name(env) {
        return None;
    }
    Some(LogEvent::Status {
        env,
        result,
        exit_code: None,
        times: StatusTimes {
            total: secs.strip_suffix(" seconds").and_then(|s| s.parse().ok()),
            ..StatusTimes::default()
        },
        summary: false,
        reason: None,
    })
}

/// The env-name-like token a line starts with (after the two-space indent of
/// tox 4's summary lines) and the byte after it: tox 4 lines have `env:`, tox 3
/// lines `env `. Scanned once per line for both.
#[derive(Debug, Clone, Copy)]
struct Lead<'a> {
    /// The line began with two spaces.
    indented: bool,
    /// The token.
    env: &'a str,
    /// The byte that ended it.
    sep: u8,
    /// What follows that byte.
    rest: &'a str,
}

impl<'a> Lead<'a> {
    /// Stops at the first byte an env name cannot hold, so most output lines
    /// are rejected after a byte or a few (pytest's progress lines at once).
    fn of(text: &'a str) -> Option<Self> {
        const fn table() -> [bool; 256] {
            let mut t = [false; 256];
            let mut i = 0;
            while i < 256 {
                let b = i as u8;
                t[i] =
                    b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-' || b == b'+';
                i += 1;
            }
            t
        }
        static ENV_BYTE: [bool; 256] = table();
        let (indented, body) = match text.strip_prefix("  ") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let bytes = body.as_bytes();
        if matches!(bytes.first(), None | Some(b'.' | b'-')) {
            return None;
        }
        // A name is at most 200 bytes; a separator must follow within 201.
        let limit = bytes.len().min(201);
        let mut end = 0;
        while end < limit && ENV_BYTE[bytes[end] as usize] {
            end += 1;
        }
        if end == 0 || end == limit {
            return None;
        }
        // `end` is a char boundary (the bytes before it are ASCII); when the
        // byte there starts a multi-byte char, `end + 1` is not one, and the
        // line has no lead: neither pattern wants such a separator.
        Some(Self {
            indented,
            env: &body[..end],
            sep: bytes[end],
            rest: body.get(end + 1..)?,
        })
    }
}

/// A shell line that runs tox on named envs: `+ exec uv run tox -p auto -o -e a,b, -- x`.
fn selection(text: &str) -> Option<Vec<&str>> {
    // A word that is `tox` or ends in `/tox` ends in "tox" before a space
    // or the line's end. Most lines have no such word (".tox/" paths are the
    // common "tox"), and an `x` is rare enough that looking for one first is
    // cheaper than a substring search on every line.
    let b = text.as_bytes();
    memchr::memchr_iter(b'x', b).find(|&i| {
        // (A byte past ASCII may start Unicode white space.)
        i >= 2 && &b[i - 2..i] == b"to" && b.get(i + 1).is_none_or(|&c| c <= b' ' || c >= 0x80)
    })?;
    let mut words = text.split_whitespace();
    words
        .by_ref()
        .find(|w| *w == "tox" || w.ends_with("/tox"))?;
    let mut list = None;
    let mut expecting = false;
    for w in words {
        if w == "--" {
            break;
        }
        if expecting {
            list = Some(w);
            expecting = false;
        } else if w == "-e" || w == "--env" {
            expecting = true;
        } else if let Some(v) = w.strip_prefix("--env=") {
            list = Some(v);
        } else if let Some(v) = w
            .strip_prefix("-e")
            .filter(|v| !v.is_empty() && !v.starts_with('-'))
        {
            list = Some(v);
        }
    }
    let list = list?.trim_matches(|c| c == '"' || c == '\'');
    let envs: Vec<&str> = list.split(',').filter(|s| !s.is_empty()).collect();
    (!envs.is_empty() && envs.iter().all(|e| is_plausible_env_name(e))).then_some(envs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines near the shapes of tox's step lines and of tox 3's summary rule.
    fn near_step_lines() -> Vec<String> {
        let parts = [
            "",
            "commands[0]",
            "install_deps",
            "freeze",
            "a-b_c",
            "x y",
            ">",
            "> ",
            ">>",
            "> >",
            " ",
            "pytest -x",
            "é",
            "___",
            " summary ",
            "_",
            "summary",
            "[",
            "]",
        ];
        let mut lines = Vec::new();
        for a in parts {
            for b in parts {
                for c in parts {
                    lines.push(format!("{a}{b}{c}"));
                }
            }
        }
        lines
    }

    #[test]
    fn a_step_is_split_as_the_first_prompt_of_a_name_would_split_it() {
        // The rule as first written: split at the first `> ` (or a `>` that
        // ends the line), then ask that the step be all name bytes.
        fn reference(rest: &str) -> Option<(&str, &str)> {
            let (step, detail) = rest
                .split_once("> ")
                .or_else(|| rest.strip_suffix('>').map(|s| (s, "")))?;
            let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'[' | b']');
            (!step.is_empty() && step.bytes().all(ok)).then_some((step, detail))
        }
        let lines = near_step_lines();
        let mut some = 0;
        for line in &lines {
            assert_eq!(tox4_step(line), reference(line), "{line:?}");
            some += usize::from(reference(line).is_some());
        }
        assert!(some > 100, "{some} of {} lines are steps", lines.len());
    }

    #[test]
    fn the_tox3_summary_rule_is_underscores_around_summary() {
        let reference = |t: &str| t.starts_with("___") && t.trim_matches('_') == " summary ";
        let lines = near_step_lines();
        let mut some = 0;
        for line in &lines {
            assert_eq!(is_tox3_summary_rule(line), reference(line), "{line:?}");
            some += usize::from(reference(line));
        }
        assert!(some > 0);
        assert!(is_tox3_summary_rule(
            "___________________ summary ____________________"
        ));
        assert!(!is_tox3_summary_rule("____ test_x[a summary] ____"));
    }

    #[test]
    fn an_env_is_read_from_a_tox_path() {
        assert_eq!(
            env_from_tox_path("cachedir: .tox/py3.12-x/.pytest_cache"),
            Some("py3.12-x")
        );
        assert_eq!(
            env_from_tox_path("/w/.tox/py3.12-x/bin/python -m pytest"),
            Some("py3.12-x")
        );
        assert_eq!(env_from_tox_path("'/w/.tox/py3.8-é'"), None);
        assert_eq!(env_from_tox_path("/w/.tox/py3.12-a b"), Some("py3.12-a"));
        assert_eq!(env_from_tox_path("/w/.tox/py3.12-a)"), Some("py3.12-a"));
        assert_eq!(env_from_tox_path("no tox here"), None);
        assert_eq!(env_from_tox_path("x.tox/"), None);
    }

    /// Parses `text` and renders each event compactly.
    fn events(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        parse_log(
            text.as_bytes(),
            &mut |_line: u64, _text: &str, ev: LogEvent<'_>| {
                out.push(match ev {
                    LogEvent::Output { env, text } => format!("out[{}] {text}", env.unwrap_or("-")),
                    other => format!("{other:?}"),
                })
            },
        )
        .unwrap();
        out
    }

    /// An action is found as its whole word, which holds only the bytes
    /// the lookup reads: every action, and no longer or shorter word.
    #[test]
    fn tox3_actions_are_whole_words() {
        for a in TOX3_ACTIONS {
            assert!(a.bytes().all(is_action_byte), "{a}");
            let ev = events(&format!("py27 {a}: detail\n"));
            assert!(!ev[0].starts_with("out["), "{a}: {ev:?}");
            for other in [format!("{a}x"), format!("x{a}"), format!("{a} ")] {
                let ev = events(&format!("py27 {other}: detail\n"));
                assert!(ev[0].starts_with("out["), "{other}: {ev:?}");
            }
        }
    }

    /// tox 3's summary starts at its own separator line, not at a pytest
    /// section header that holds the word.
    #[test]
    fn only_tox3s_separator_starts_its_summary() {
        let ev = events(
            "py3.12-a: commands[0]> pytest\n____ test_x[a summary b] ____\nE   assert 0\n___________ summary ___________\nafter\n",
        );
        assert_eq!(
            ev[1..],
            [
                "out[py3.12-a] ____ test_x[a summary b] ____",
                "out[py3.12-a] E   assert 0",
                "out[-] ___________ summary ___________",
                "out[-] after",
            ]
        );
    }

    #[test]
    fn tox4_exit_lines() {
        let ev = events("py3.12-x: exit -9 (12.50 seconds) /w> pytest tests pid=77\n");
        assert_eq!(
            ev,
            vec![
                r#"Exit { env: "py3.12-x", code: -9, seconds: Some(12.5), cwd: "/w", command: "pytest tests", setup_step: false }"#
            ]
        );
    }

    #[test]
    fn tox4_status_forms() {
        let ev = events(
            "py3.12-a: OK ✔ in 4.66 seconds\npy3.12-b: FAIL ✖ in 4.6 seconds\n  py3.12-b: FAIL code 3 (12.50=setup[3.10]+cmd[9.40] seconds)\n  py3.12-c: SKIP (0.24 seconds)\n",
        );
        assert!(
            ev[0].contains("result: Ok") && ev[0].contains("summary: false"),
            "{}",
            ev[0]
        );
        assert!(
            ev[2].contains("exit_code: Some(3)")
                && ev[2].contains("setup: Some(3.1)")
                && ev[2].contains("summary: true")
        );
        assert!(ev[3].contains("result: Skip"));
    }

    #[test]
    fn lines_that_only_look_like_tox_are_output() {
        let ev = events("result: OK\nrootdir: /w\nplatform: linux\nERROR: something\nFAILED: x\n");
        assert!(ev.iter().all(|e| e.starts_with("out[")), "{ev:?}");
    }

    #[test]
    fn selection_forms() {
        for line in [
            "+ exec uv run tox -p auto -o -e py3.12-a,py3.12-b, -- -x",
            "$ tox -e py3.12-a,py3.12-b",
            "python -m tox --env=py3.12-a,py3.12-b",
            "/usr/bin/tox -epy3.12-a,py3.12-b",
            "tox\u{a0}-e\u{2003}py3.12-a,py3.12-b",
        ] {
            let ev = events(line);
            assert_eq!(
                ev,
                vec![r#"Selection { envs: ["py3.12-a", "py3.12-b"] }"#],
                "{line}"
            );
        }
        assert!(
            events("echo tox is great -e")
                .iter()
                .all(|e| e.starts_with("out"))
        );
    }

    #[test]
    fn tox3_lines_that_do_not_name_their_env() {
        let ev = events(
            "py3.99-x create: /w/.tox/py3.99-x\nSKIPPED: InterpreterNotFound: python3.99\npy3.11-y run-test: commands[0] | pytest\nERROR: InvocationError for command /usr/bin/pytest (exited with code 2)\n",
        );
        assert!(
            ev[1].contains(r#"env: "py3.99-x""#) && ev[1].contains("Skip"),
            "{}",
            ev[1]
        );
        assert!(
            ev[3].contains(r#"env: "py3.11-y""#) && ev[3].contains("code: 2"),
            "{}",
            ev[3]
        );
    }

    #[test]
    fn tox3_parallel_progress() {
        let ev = events("✔ OK py3.11-common in 4.321 seconds\n✖ FAIL py3.12-x in 5.1 seconds\n");
        assert!(ev[0].contains("Ok") && ev[0].contains("py3.11-common"));
        assert!(ev[1].contains("Fail") && ev[1].contains("py3.12-x"));
    }

    #[test]
    fn parallel_live_output_follows_the_running_env() {
        let ev = events(
            "py3.11-a: commands[0]> pytest\npy3.12-b: install_deps> pip install x\nplain line of a\ncachedir: .tox/py3.12-b/.pytest_cache\nline of b\n",
        );
        assert_eq!(ev[2], "out[py3.11-a] plain line of a");
        assert_eq!(ev[4], "out[py3.12-b] line of b");
    }

    #[test]
    fn a_second_run_after_a_summary_is_output_again() {
        let ev = events(
            "a: commands[0]> pytest\nfailed line\na: FAIL ✖ in 1 seconds\n  a: FAIL code 1 (1.00 seconds)\n  evaluation failed :( (1.00 seconds)\nsummary tail\na: commands[0]> pytest\nagain\n",
        );
        assert_eq!(ev[5], "out[-] summary tail");
        assert_eq!(ev.last().unwrap(), "out[a] again");
    }

    #[test]
    fn a_new_github_step_forgets_the_previous_env() {
        let ev = events("py3.11-a: commands[0]> pytest\n##[group]Run next step\nsome output\n");
        assert_eq!(ev.last().unwrap(), "out[-] some output");
    }
}
