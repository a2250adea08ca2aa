//! The data tox-triage reasons about: tox targets, their results, the failing
//! tests inside them, and the report that collects them. No I/O happens here;
//! parsers in [`crate::inputs`] produce these values and renderers in
//! [`crate::outputs`] consume them.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::{Prerelease, PrereleaseKind, Version};
use serde::{Serialize, Serializer};
use thin_vec::ThinVec;

/// Longest failure message kept (first line of the failure), in bytes.
pub const MAX_MESSAGE: usize = 1_000;
/// Longest failure details (traceback) kept, in bytes.
pub const MAX_DETAILS: usize = 8_000;
/// Longest test id kept, in bytes.
pub const MAX_TEST_ID: usize = 1_000;
/// Most failing tests recorded per target; the rest are only counted.
pub const MAX_FAILURES_PER_TARGET: usize = 50;
/// Output lines kept per failing target (the last ones: pytest ends with its summary).
pub const MAX_OUTPUT_LINES: usize = 80;
/// Longest output line kept, in bytes.
pub const MAX_OUTPUT_LINE: usize = 500;
/// Most warnings kept in one report; the rest are counted.
pub const MAX_WARNINGS: usize = 200;

/// A tox environment name, split into its factors where it follows the
/// `py{python}-{suite}[-v{version}]` convention.
///
/// A name that fits no pattern is kept whole, with no parts: it is still a
/// target, never dropped.
///
/// One string holds the name and, after it, the interpreter as jobs spell it
/// (`py312` is `3.12`); the suite and the version are places in the name.
/// Every distinct target has a name, so it is kept small: one allocation,
/// where a string per factor took four.
/// The default is the empty name, which has no parts (it allocates nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TargetName {
    /// The name as tox prints it, then the interpreter when there are parts.
    text: Box<str>,
    /// Where the name ends in `text`.
    raw_len: u32,
    parts: Option<Places>,
}

/// Where the factors of a conventional name are. A conventional name is at
/// most 200 bytes ([`is_plausible_env_name`]), so its offsets fit in `u16`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Places {
    suite_start: u16,
    suite_end: u16,
    /// The version runs from here to the end of the name.
    version: Option<(u16, VersionKey)>,
    latest: bool,
}

/// The factors of a conventional target name, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetParts<'a> {
    /// Interpreter as the job matrix spells it: `3.12`, `3.14t`, `pypy3.10`.
    pub python: &'a str,
    /// Test suite (integration): `redis`, `openai-base`, `openai_agents`.
    pub suite: &'a str,
    /// Package version the target pins, as written after `-v`.
    pub version: Option<PackageVersion<'a>>,
    /// The target tracks the newest release (`-latest`) instead of a pin.
    pub latest: bool,
}

/// A package version from a target name: the text as written and its PEP 440 value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PackageVersion<'a> {
    text: &'a str,
    key: &'a VersionKey,
}

/// What a version is ordered by. Most versions are plain releases
/// (`6.4.0`), which one number orders; a parsed PEP 440 version costs an
/// allocation of about 150 bytes, and a distinct target has one.
/// Pre-releases of such releases (`6.0.0b2`, `5.2a1`, `1.0.0rc1`), which a
/// matrix tests beside the releases, are two numbers too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum VersionKey {
    /// [`fast_key`] of the text.
    Release(u64),
    /// [`pre_key`] of the text: the release's [`fast_key`] and the pre-release.
    Pre(u64, u32),
    /// Any other version.
    Parsed(Version),
}

impl VersionKey {
    /// The key of a version in a name: two numbers where they order it.
    fn of(text: &str) -> Option<Self> {
        if let Some(key) = fast_key(text) {
            return Some(Self::Release(key));
        }
        if let Some((release, pre)) = pre_key(text) {
            return Some(Self::Pre(release, pre));
        }
        Version::from_str(text).ok().map(Self::Parsed)
    }
}

impl<'a> PackageVersion<'a> {
    /// The version as written in the target name.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The PEP 440 version: made from the release for a plain release
    /// (equal to it, trailing zeros aside, which PEP 440 ignores).
    pub fn version(&self) -> Cow<'a, Version> {
        match self.key {
            VersionKey::Release(key) => Cow::Owned(Version::new(release_parts(*key))),
            VersionKey::Pre(key, pre) => Cow::Owned(pre_version(*key, *pre)),
            VersionKey::Parsed(v) => Cow::Borrowed(v),
        }
    }

    /// The text is its own normal form, as most versions in names are: see
    /// `is_normal_form`.
    pub fn is_normal(&self) -> bool {
        matches!(self.key, VersionKey::Release(_) | VersionKey::Pre(..))
            || is_normal_form(self.text)
    }
}

/// PEP 440 order, then the text as written (`1.0` before `1.0.0`, which
/// PEP 440 holds equal).
impl Ord for PackageVersion<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let pep440 = match (self.key, other.key) {
            (VersionKey::Release(a), VersionKey::Release(b)) => a.cmp(b),
            // A pre-release comes before its release.
            (VersionKey::Pre(a, _), VersionKey::Release(b)) => a.cmp(b).then(Ordering::Less),
            (VersionKey::Release(a), VersionKey::Pre(b, _)) => a.cmp(b).then(Ordering::Greater),
            // Of the same release: alpha, beta, rc, then the number.
            (VersionKey::Pre(a, pa), VersionKey::Pre(b, pb)) => a.cmp(b).then(pa.cmp(pb)),
            (VersionKey::Release(a), VersionKey::Parsed(b)) => release_cmp(*a, b),
            (VersionKey::Parsed(a), VersionKey::Release(b)) => release_cmp(*b, a).reverse(),
            // Rare (a name whose version is neither form beside a
            // pre-release): the pre-release is made a `Version`.
            (VersionKey::Pre(a, pa), VersionKey::Parsed(b)) => pre_version(*a, *pa).cmp(b),
            (VersionKey::Parsed(a), VersionKey::Pre(b, pb)) => a.cmp(&pre_version(*b, *pb)),
            (VersionKey::Parsed(a), VersionKey::Parsed(b)) => a.cmp(b),
        };
        pep440.then_with(|| self.text.cmp(other.text))
    }
}

/// PEP 440's order of the plain release with [`fast_key`] `key` and `v`,
/// without making a [`Version`] of the release.
fn release_cmp(key: u64, v: &Version) -> Ordering {
    if v.min().is_some() || v.max().is_some() {
        // Bounds used by specifiers; a name never holds one.
        return Version::new(release_parts(key)).cmp(v);
    }
    if v.epoch() > 0 {
        return Ordering::Less;
    }
    let mut own = release_parts(key);
    let mut theirs = v.release().iter().copied();
    // Compared part by part, a missing part being a zero.
    loop {
        match (own.next(), theirs.next()) {
            (None, None) => break,
            (a, b) => match a.unwrap_or(0).cmp(&b.unwrap_or(0)) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
    // The same release: pre-releases, and development releases of the
    // release itself, come before it; post-releases (and their development
    // releases) and local versions after it.
    if v.pre().is_some() || (v.dev().is_some() && v.post().is_none()) {
        Ordering::Greater
    } else if v.post().is_some() || !v.local().is_empty() {
        Ordering::Less
    } else {
        Ordering::Equal
    }
}

/// The four parts of a [`fast_key`].
fn release_parts(key: u64) -> impl Iterator<Item = u64> {
    (0..4u32).map(move |i| (key >> (48 - 16 * i)) & 0xffff)
}

/// A release of at most four parts below 65,536, written in normal form
/// (`6.4.0`), as one number of 16 bits a part: ordered as PEP 440 orders
/// such releases (a missing part is a zero, so `1.0` equals `1.0.0`).
fn fast_key(text: &str) -> Option<u64> {
    if !is_normal_release(text) {
        return None;
    }
    let mut key = 0u64;
    for (i, part) in text.split('.').enumerate() {
        let n: u16 = part.parse().ok()?;
        let shift = 48u32.checked_sub(16 * u32::try_from(i).ok()?)?;
        key |= u64::from(n) << shift;
    }
    Some(key)
}

/// A pre-release of a [`fast_key`] release, in normal form (`6.0.0b2`,
/// `1.0rc1`; not `1.0-rc1`, `1.0c1` or `1.0a01`), as two numbers: the
/// release's key, and the kind (alpha, beta, rc: 0, 1, 2) in the top two
/// bits above the number, so that the second orders pre-releases of the same
/// release as PEP 440 does.
fn pre_key(text: &str) -> Option<(u64, u32)> {
    let at = text.find(['a', 'b', 'r'])?;
    let (release, pre) = text.split_at(at);
    let (kind, number) = [("a", 0u32), ("b", 1), ("rc", 2)]
        .into_iter()
        .find_map(|(tag, kind)| Some((kind, pre.strip_prefix(tag)?)))?;
    // At most nine digits: below 2^30.
    if !is_normal_number(number) || number.len() > 9 {
        return None;
    }
    Some((fast_key(release)?, kind << 30 | number.parse::<u32>().ok()?))
}

/// The [`Version`] of a [`pre_key`].
fn pre_version(release: u64, pre: u32) -> Version {
    let kind = match pre >> 30 {
        0 => PrereleaseKind::Alpha,
        1 => PrereleaseKind::Beta,
        _ => PrereleaseKind::Rc,
    };
    Version::new(release_parts(release)).with_pre(Some(Prerelease {
        kind,
        number: u64::from(pre & ((1 << 30) - 1)),
    }))
}

/// A release written in PEP 440 normal form (`6.4.0`, not `6.04` or
/// `6.4rc1`), as most target names write their version: its normal form is
/// itself, without formatting the parsed version.
fn is_normal_release(text: &str) -> bool {
    // (An empty text is one empty part, which is not digits.)
    text.split('.').all(is_normal_number)
}

/// A number as PEP 440's normal form writes it: digits, no leading zero.
fn is_normal_number(n: &str) -> bool {
    is_digits(n) && (n == "0" || !n.starts_with('0'))
}

/// A version written in PEP 440 normal form, so that its normal form is
/// itself without formatting the parsed version: a normal release, then at
/// most a pre-release (`a1`, `b2`, `rc3`), a `.postN` and a `.devN`, in that
/// order, each number without leading zeros (`6.4.0rc1`, `1.0.post2`; not
/// `1.0-rc1`, `1.0c1` or `1.0.post01`). No epoch and no local part.
fn is_normal_form(text: &str) -> bool {
    // The release: digits, and dots between digits.
    let b = text.as_bytes();
    let mut end = 0;
    while end < b.len()
        && (b[end].is_ascii_digit()
            || b[end] == b'.' && b.get(end + 1).is_some_and(u8::is_ascii_digit))
    {
        end += 1;
    }
    let (release, mut rest) = text.split_at(end);
    if !is_normal_release(release) {
        return false;
    }
    fn number(s: &str) -> Option<&str> {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (n, rest) = s.split_at(end);
        is_normal_number(n).then_some(rest)
    }
    for tags in [&["a", "b", "rc"][..], &[".post"], &[".dev"]] {
        if let Some(tail) = tags.iter().find_map(|t| rest.strip_prefix(t)) {
            match number(tail) {
                Some(after) => rest = after,
                None => return false,
            }
        }
    }
    rest.is_empty()
}

impl PartialOrd for PackageVersion<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PackageVersion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

impl TargetName {
    /// Parses a tox environment name. Never fails: unconventional names are opaque.
    pub fn parse(raw: &str) -> Self {
        let opaque = || Self {
            text: raw.into(),
            raw_len: raw.len() as u32,
            parts: None,
        };
        let Some((python, places)) = parse_parts(raw) else {
            return opaque();
        };
        let mut text = String::with_capacity(raw.len() + python.len());
        text.push_str(raw);
        python.write_to(&mut text);
        Self {
            text: text.into_boxed_str(),
            raw_len: raw.len() as u32,
            parts: Some(places),
        }
    }

    /// The name exactly as tox prints it.
    pub fn as_str(&self) -> &str {
        self.text.get(..self.raw_len as usize).unwrap_or(&self.text)
    }

    /// The factors, when the name follows the convention.
    pub fn parts(&self) -> Option<TargetParts<'_>> {
        let p = self.parts.as_ref()?;
        let raw = self.as_str();
        let at = |start: u16, end: usize| raw.get(start as usize..end).unwrap_or("");
        Some(TargetParts {
            python: self.text.get(raw.len()..).unwrap_or(""),
            suite: at(p.suite_start, p.suite_end as usize),
            version: p.version.as_ref().map(|(start, key)| PackageVersion {
                text: at(*start, raw.len()),
                key,
            }),
            latest: p.latest,
        })
    }

    /// Interpreter factor (`3.12`), when the name has one.
    pub fn python(&self) -> Option<&str> {
        self.parts().map(|p| p.python)
    }

    /// Suite factor (`redis`), when the name has one.
    pub fn suite(&self) -> Option<&str> {
        self.parts().map(|p| p.suite)
    }

    /// Pinned package version, when the name has one.
    pub fn version(&self) -> Option<PackageVersion<'_>> {
        self.parts().and_then(|p| p.version)
    }

    /// What the target tests, for a sentence: `redis 6.4.0`, `redis latest`,
    /// `common`, or the whole name; `package` (from tox.ini) names the
    /// package in place of the suite.
    pub fn subject(&self, package: Option<&str>) -> String {
        match self.parts() {
            Some(p) => {
                let name = package.unwrap_or(p.suite);
                match (p.version, p.latest) {
                    (Some(v), _) => format!("{name} {v}"),
                    (None, true) => format!("{name} latest"),
                    (None, false) => p.suite.to_owned(),
                }
            }
            None => self.as_str().to_owned(),
        }
    }
}

impl fmt::Display for TargetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TargetName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Whether `name` could be a tox environment name as tox prints it in logs.
pub fn is_plausible_env_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'))
}

/// An interpreter factor in pieces of the factor: written out as jobs name
/// it without a `format!` per target.
#[derive(Debug, Clone, Copy)]
struct Python<'a> {
    pypy: bool,
    major: &'a str,
    minor: &'a str,
    threaded: bool,
}

impl<'a> Python<'a> {
    /// Parses the interpreter factor: `py3`, `py3.12`, `py312`, `py3.14t`,
    /// `pypy3.10`, `pypy310`; written out as jobs name it (`3.12`, `3.14t`,
    /// `pypy3.10`).
    fn parse(factor: &'a str) -> Option<Self> {
        let (pypy, rest) = if let Some(rest) = factor.strip_prefix("pypy") {
            (true, rest)
        } else if let Some(rest) = factor.strip_prefix("py") {
            (false, rest)
        } else {
            return None;
        };
        let (digits, threaded) = match rest.strip_suffix('t') {
            Some(d) => (d, true),
            None => (rest, false),
        };
        let (major, minor) = match digits.split_once('.') {
            Some((major, minor)) => {
                if !is_digits(major) || !is_digits(minor) {
                    return None;
                }
                (major, minor)
            }
            None => {
                if !is_digits(digits) {
                    return None;
                }
                // `py312` means 3.12; `py3` is just the major version.
                digits.split_at(1)
            }
        };
        Some(Self {
            pypy,
            major,
            minor,
            threaded,
        })
    }

    fn len(&self) -> usize {
        4 * self.pypy as usize
            + self.major.len()
            + if self.minor.is_empty() {
                0
            } else {
                1 + self.minor.len()
            }
            + self.threaded as usize
    }

    fn write_to(&self, out: &mut String) {
        if self.pypy {
            out.push_str("pypy");
        }
        out.push_str(self.major);
        if !self.minor.is_empty() {
            out.push('.');
            out.push_str(self.minor);
        }
        if self.threaded {
            out.push('t');
        }
    }
}

/// `s` is one or more ASCII digits.
pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_parts(raw: &str) -> Option<(Python<'_>, Places)> {
    if !is_plausible_env_name(raw) {
        return None;
    }
    let (py, rest) = raw.split_once('-')?;
    let python = Python::parse(py)?;
    if rest.is_empty() {
        return None;
    }
    // Offsets in `raw`, which is at most 200 bytes long.
    let at = |i: usize| i as u16;
    let suite_start = py.len() + 1;
    let places = |suite_len: usize, version, latest| Places {
        suite_start: at(suite_start),
        suite_end: at(suite_start + suite_len),
        version,
        latest,
    };
    if let Some(suite) = rest.strip_suffix("-latest").filter(|s| !s.is_empty()) {
        return Some((python, places(suite.len(), None, true)));
    }
    // The version follows the last `-v` whose remainder is a PEP 440 version,
    // so suites such as `aiohttp-vcr` keep their name.
    let mut search_end = rest.len();
    while let Some(pos) = rest[..search_end].rfind("-v") {
        let candidate = &rest[pos + 2..];
        if candidate.starts_with(|c: char| c.is_ascii_digit())
            && pos > 0
            && let Some(key) = VersionKey::of(candidate)
        {
            let start = at(suite_start + pos + 2);
            return Some((python, places(pos, Some((start, key)), false)));
        }
        search_end = pos;
    }
    Some((python, places(rest.len(), None, false)))
}

/// The outcome of one tox target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetStatus {
    /// Named by the run (its `-e` list or envlist) but no result was printed.
    NotRun,
    /// tox skipped it (typically: interpreter not found).
    Skipped,
    /// Its commands succeeded.
    Pass,
    /// Setup or a command failed.
    Fail,
}

impl TargetStatus {
    /// How strongly this status describes a target seen several times: a failure
    /// anywhere outweighs a pass elsewhere, which outweighs a skip.
    pub fn severity(self) -> u8 {
        match self {
            TargetStatus::NotRun => 0,
            TargetStatus::Skipped => 1,
            TargetStatus::Pass => 2,
            TargetStatus::Fail => 3,
        }
    }

    /// The JSON / human spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetStatus::NotRun => "not-run",
            TargetStatus::Skipped => "skipped",
            TargetStatus::Pass => "pass",
            TargetStatus::Fail => "fail",
        }
    }
}

/// JUnit's two kinds of non-success: a failure is an assertion that did not hold,
/// an error an unexpected problem (exception in setup, crashed worker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The test ran and an assertion or exception failed it.
    Failure,
    /// The test could not run properly (setup/teardown error, collection error, crash).
    Error,
}

/// Where a failure record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureSource {
    /// A `<failure>` or `<error>` element in a JUnit file.
    Junit,
    /// pytest's `FAILED`/`ERROR` short-summary line in a tox log.
    Log,
}

/// One failing test of a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// pytest node id where it can be rebuilt (`tests/test_x.py::TestA::test_b[1]`).
    pub test: String,
    /// Failure or error.
    pub kind: FailureKind,
    /// First line of the failure message.
    pub message: String,
    /// Traceback or longer text, truncated to [`MAX_DETAILS`].
    pub details: String,
    /// How many times the test ran (more than one under pytest-rerunfailures).
    pub attempts: u32,
    /// Which input reported it.
    pub source: FailureSource,
    /// What kind of failure it looks like (set by the analysis).
    pub category: Category,
    /// The line of the message or traceback the category was read from.
    pub evidence: Option<String>,
}

/// What kind of failure a failing test shows, read from its message and traceback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Connection refused/reset, DNS, TLS, HTTP 5xx from a service, connect timeouts.
    Network,
    /// pytest-timeout's banner, asyncio timeouts.
    Timeout,
    /// MemoryError, no space left on device, killed by signal 9.
    Resource,
    /// FileNotFoundError, pytest exit 4.
    Filesystem,
    /// A pytest-xdist worker crashed.
    WorkerCrash,
    /// ImportError, ModuleNotFoundError, errors raised inside the upgraded package,
    /// DeprecationWarning turned into an error, dependencies that cannot be installed.
    DependencyApi,
    /// Event loop closed, never-awaited coroutine.
    Async,
    /// Database errors (locked, constraint, connection to the database).
    Database,
    /// Passes alone, fails in the full run (only when both were seen).
    OrderOrState,
    /// Depends on the clock or on random values.
    TimeOrRandomness,
    /// A plain assertion in the project's own test.
    Assertion,
    /// None of the above.
    Unknown,
}

impl Category {
    /// Every category, in their order (each at its own number, `c as usize`).
    pub const ALL: [Category; 12] = [
        Category::Network,
        Category::Timeout,
        Category::Resource,
        Category::Filesystem,
        Category::WorkerCrash,
        Category::DependencyApi,
        Category::Async,
        Category::Database,
        Category::OrderOrState,
        Category::TimeOrRandomness,
        Category::Assertion,
        Category::Unknown,
    ];

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Network => "network",
            Category::Timeout => "timeout",
            Category::Resource => "resource",
            Category::Filesystem => "filesystem",
            Category::WorkerCrash => "worker-crash",
            Category::DependencyApi => "dependency-api",
            Category::Async => "async",
            Category::Database => "database",
            Category::OrderOrState => "order-or-state",
            Category::TimeOrRandomness => "time-or-randomness",
            Category::Assertion => "assertion",
            Category::Unknown => "unknown",
        }
    }

    /// Failures of this kind come and go with the environment (the network,
    /// the machine's load or memory), not with the code.
    pub fn is_environmental(self) -> bool {
        matches!(
            self,
            Category::Network | Category::Timeout | Category::Resource
        )
    }
}

/// What a failing target's exit code (and its failures) say happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitReason {
    /// pytest exit 1: tests failed.
    TestsFailed,
    /// pytest exit 2: interrupted (Ctrl-C, collection errors).
    Interrupted,
    /// pytest exit 3: internal error.
    InternalError,
    /// pytest exit 4: usage error, typically a path on the command line not found.
    MissingPath,
    /// pytest exit 5: no tests collected.
    NoTests,
    /// Killed by signal 9 (`exit -9`, 137): likely out of memory.
    Killed,
    /// The environment could not be set up (dependencies did not install).
    SetupFailed,
    /// A timeout: pytest-timeout, `timeout`'s 124, or SIGTERM.
    Timeout,
    /// A pytest-xdist worker crashed.
    WorkerCrash,
    /// None of the above.
    Unknown,
}

/// Did the new release break us, or is this noise?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A real failure: consistent across Pythons, or a newly added version that fails.
    Regression,
    /// Looks like noise: one Python only on a version that is not new, failures of
    /// the environment (network, timeout, resource, crashed worker), or seen to pass on a rerun.
    SuspectedFlake,
    /// Not enough evidence either way.
    Undetermined,
}

impl Verdict {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regression => "regression",
            Verdict::SuspectedFlake => "suspected-flake",
            Verdict::Undetermined => "undetermined",
        }
    }
}

/// What the analysis knows about a target beyond its own result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Its suite+version is in the head envlist but not the base one; `None` without a base tox.ini.
    pub newly_added: Option<bool>,
    /// Pythons on which the same suite+version failed, across every input.
    pub failed_on_pythons: Pythons,
    /// Pythons on which the same suite+version passed.
    pub passed_on_pythons: Pythons,
    /// The highest lower version of the suite that passed here or was in the base tox.ini.
    pub last_working_version: Option<Arc<str>>,
    /// The package the suite+version pins in tox.ini's deps, when tox.ini
    /// was read (out of line: a record of every target is kept, and the
    /// report of logs alone has none).
    pub pin: Option<Box<Pin>>,
}

impl Facts {
    /// The package the suite+version pins, from tox.ini's deps.
    pub fn package(&self) -> Option<&str> {
        self.pin.as_ref().map(|p| &*p.package)
    }

    /// The pinned version (`==X`) of that package.
    pub fn pinned(&self) -> Option<&str> {
        self.pin.as_ref().and_then(|p| p.version.as_deref())
    }
}

/// The package a suite+version pins in tox.ini's deps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The package.
    pub package: Box<str>,
    /// Its pinned version (`==X`), if pinned to one.
    pub version: Option<Box<str>>,
}

impl Serialize for Facts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Facts", 6)?;
        s.serialize_field("newly_added", &self.newly_added)?;
        s.serialize_field("failed_on_pythons", &self.failed_on_pythons)?;
        s.serialize_field("passed_on_pythons", &self.passed_on_pythons)?;
        s.serialize_field("last_working_version", &self.last_working_version)?;
        s.serialize_field("package", &self.package())?;
        s.serialize_field("pinned", &self.pinned())?;
        s.end()
    }
}

/// Pythons (`3.11`, `pypy3.10`) as the jobs spell them, in Python order.
///
/// A list is shared: every target of a suite+version holds the same one, and
/// lists are few however many targets there are (most name one Python), so
/// a target holds a pointer where it held a string per Python. The empty
/// list allocates nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pythons(Option<Arc<Vec<String>>>);

impl Pythons {
    /// The Pythons, in order.
    pub fn as_slice(&self) -> &[String] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl std::ops::Deref for Pythons {
    type Target = [String];

    fn deref(&self) -> &[String] {
        self.as_slice()
    }
}

impl<S: Into<String>> FromIterator<S> for Pythons {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let list: Vec<String> = iter.into_iter().map(Into::into).collect();
        Self((!list.is_empty()).then(|| Arc::new(list)))
    }
}

impl Serialize for Pythons {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.as_slice())
    }
}

/// Counts of JUnit test cases for a target.
///
/// 32 bits each (a record of every target is kept), and saturating: four
/// billion test cases in one target would take inputs of some 100 GB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TestCounts {
    /// Distinct test cases (rerun attempts count once).
    pub total: u32,
    /// Passed on their last attempt.
    pub passed: u32,
    /// Failed (assertion) on their last attempt.
    pub failed: u32,
    /// Errored on their last attempt.
    pub errors: u32,
    /// Skipped.
    pub skipped: u32,
    /// Passed only after one or more reruns: flaky by observation.
    pub flaky: u32,
}

impl TestCounts {
    /// Counts as a log reports them (pytest's final line), the total their
    /// sum; a count past `u32::MAX` is held at it.
    pub fn from_outcomes(passed: u64, failed: u64, errors: u64, skipped: u64) -> Self {
        let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let total = passed
            .saturating_add(failed)
            .saturating_add(errors)
            .saturating_add(skipped);
        Self {
            total: count(total),
            passed: count(passed),
            failed: count(failed),
            errors: count(errors),
            skipped: count(skipped),
            flaky: 0,
        }
    }

    /// Adds one test case's final outcome; keeps every count consistent.
    pub fn add(&mut self, outcome: CaseOutcome, attempts: u32) {
        let one = |n: &mut u32| *n = n.saturating_add(1);
        one(&mut self.total);
        match outcome {
            CaseOutcome::Passed => {
                one(&mut self.passed);
                if attempts > 1 {
                    one(&mut self.flaky);
                }
            }
            CaseOutcome::Failed => one(&mut self.failed),
            CaseOutcome::Errored => one(&mut self.errors),
            CaseOutcome::Skipped => one(&mut self.skipped),
        }
    }

    /// Sums two sets of counts.
    pub fn merge(&mut self, other: &TestCounts) {
        self.total = self.total.saturating_add(other.total);
        self.passed = self.passed.saturating_add(other.passed);
        self.failed = self.failed.saturating_add(other.failed);
        self.errors = self.errors.saturating_add(other.errors);
        self.skipped = self.skipped.saturating_add(other.skipped);
        self.flaky = self.flaky.saturating_add(other.flaky);
    }
}

/// The final outcome of one JUnit test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseOutcome {
    /// No failure, error or skip.
    Passed,
    /// `<failure>`.
    Failed,
    /// `<error>`.
    Errored,
    /// `<skipped>`.
    Skipped,
}

/// Durations tox printed for a target, in seconds: the whole target, its
/// environment setup (venv, dependency install) and its commands, each a
/// number or none.
///
/// None is held as NaN: a record of every target is kept, and three floats
/// are 24 bytes where three `Option<f64>` are 48. A NaN read from a log is
/// none too (the JSON report, which has no NaN, wrote it as `null` anyway).
#[derive(Debug, Clone, Copy)]
pub struct Durations {
    total: f64,
    setup: f64,
    commands: f64,
}

impl Durations {
    /// Durations from their values.
    pub fn new(total: Option<f64>, setup: Option<f64>, commands: Option<f64>) -> Self {
        let held = |v: Option<f64>| v.unwrap_or(f64::NAN);
        Self {
            total: held(total),
            setup: held(setup),
            commands: held(commands),
        }
    }

    /// The whole target's.
    pub fn total(&self) -> Option<f64> {
        given(self.total)
    }

    /// The environment setup's.
    pub fn setup(&self) -> Option<f64> {
        given(self.setup)
    }

    /// The commands'.
    pub fn commands(&self) -> Option<f64> {
        given(self.commands)
    }

    /// Sets the whole target's.
    pub fn set_total(&mut self, total: Option<f64>) {
        *self = Self::new(total, self.setup(), self.commands());
    }

    /// Sets the setup's and the commands' (tox prints them together).
    pub fn set_split(&mut self, setup: Option<f64>, commands: Option<f64>) {
        *self = Self::new(self.total(), setup, commands);
    }
}

/// A duration as held in [`Durations`]: NaN is none.
fn given(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

impl Default for Durations {
    fn default() -> Self {
        Self::new(None, None, None)
    }
}

impl PartialEq for Durations {
    fn eq(&self, other: &Self) -> bool {
        (self.total(), self.setup(), self.commands())
            == (other.total(), other.setup(), other.commands())
    }
}

impl Serialize for Durations {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Durations", 3)?;
        s.serialize_field("total", &self.total())?;
        s.serialize_field("setup", &self.setup())?;
        s.serialize_field("commands", &self.commands())?;
        s.end()
    }
}

/// tox's `exit N (t seconds) <cwd>> <cmd>` line for a command that failed.
/// The directory and the command are kept as shapes that many targets share
/// ([`CommandShapes`]): expand them with the target's name.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitLine {
    /// The command's exit code (negative for a signal, as tox prints it).
    pub code: i32,
    /// How long the command ran.
    pub seconds: Option<f64>,
    /// Working directory.
    pub cwd: CommandLine,
    /// The command line.
    pub command: CommandLine,
    /// Whether the command was a setup step (dependency install) rather than `commands`.
    pub setup_step: bool,
}

/// The last output lines that tox printed for a target, bounded.
///
/// The lines are kept in one buffer, each ended by a newline: a kept line
/// costs its bytes and one more, where a string per line cost twice that for
/// the short lines of pytest's output. Every distinct target has an
/// excerpt, most of them empty, so it is kept small: the text and the total
/// (the count of kept lines is the text's newlines). Serialised as
/// `{"lines": [...], "total_lines": N}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputExcerpt {
    /// The kept lines, oldest first, each followed by `\n`.
    text: Box<str>,
    /// How many lines the target printed in all.
    pub total_lines: u64,
}

impl OutputExcerpt {
    /// An excerpt of `lines` (oldest first) out of `total_lines`. A line
    /// holding a newline counts as the lines it holds.
    pub fn new<S: AsRef<str>, I>(lines: I, total_lines: u64) -> Self
    where
        I: IntoIterator<Item = S>,
        I::IntoIter: Clone,
    {
        let lines = lines.into_iter();
        // The exact size, allocated once: a line and its newline, and a
        // newline inside a line becomes one ending a kept line.
        let size = lines.clone().map(|l| l.as_ref().len() + 1).sum();
        let mut text = String::with_capacity(size);
        for line in lines {
            for part in line.as_ref().split('\n') {
                text.push_str(part);
                text.push('\n');
            }
        }
        Self {
            text: text.into_boxed_str(),
            total_lines,
        }
    }

    /// An excerpt of the lines of `text`, each followed by `\n` (the last
    /// one too), out of `total_lines`: copied as it is.
    pub fn from_text(text: &str, total_lines: u64) -> Self {
        debug_assert!(text.is_empty() || text.ends_with('\n'));
        Self {
            text: text.into(),
            total_lines,
        }
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &str> + Clone + '_ {
        ExcerptLines(&self.text)
    }

    /// The kept lines as one text, each followed by a newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// How many lines are kept.
    pub fn len(&self) -> usize {
        memchr::memchr_iter(b'\n', self.text.as_bytes()).count()
    }

    /// No line is kept.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Bytes the kept lines take.
    pub fn bytes(&self) -> usize {
        self.text.len()
    }
}

/// The lines of an excerpt's text, each ended by `\n`: `split_terminator`'s
/// lines, found with `memchr` (the standard library's search for a `char`
/// is several times slower on lines as short as most output lines).
#[derive(Clone)]
struct ExcerptLines<'a>(&'a str);

impl<'a> Iterator for ExcerptLines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let end = memchr::memchr(b'\n', self.0.as_bytes())?;
        let (line, rest) = (self.0.get(..end)?, self.0.get(end + 1..)?);
        self.0 = rest;
        Some(line)
    }
}

impl<'a> DoubleEndedIterator for ExcerptLines<'a> {
    fn next_back(&mut self) -> Option<&'a str> {
        let body = self.0.strip_suffix('\n')?;
        let start = memchr::memrchr(b'\n', body.as_bytes()).map_or(0, |i| i + 1);
        self.0 = self.0.get(..start)?;
        body.get(start..)
    }
}

impl Serialize for OutputExcerpt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Lines<'a>(&'a OutputExcerpt);
        impl Serialize for Lines<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.lines())
            }
        }
        let mut s = serializer.serialize_struct("OutputExcerpt", 2)?;
        s.serialize_field("lines", &Lines(self))?;
        s.serialize_field("total_lines", &self.total_lines)?;
        s.end()
    }
}

/// Everything known about one tox target after all inputs were read.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The tox environment.
    pub name: TargetName,
    /// Pass, fail, skipped or not run.
    pub status: TargetStatus,
    /// Exit code of the failing command, or of tox's summary `FAIL code N`.
    pub exit_code: Option<i32>,
    /// Durations from tox's summary.
    pub durations: Durations,
    /// The last command line tox ran for it (`commands[N]>`): what
    /// [`Target::command_line`] falls back on when no command failed.
    pub last_command: Option<CommandLine>,
    /// The last output lines attributed to it.
    pub output: OutputExcerpt,
    /// JUnit files read for it.
    pub junit_files: ThinVec<String>,
    /// JUnit test counts.
    pub tests: TestCounts,
    /// Inputs (log or JUnit files) that mentioned the target: each name is
    /// shared by all the targets it mentions.
    pub sources: Sources,
    /// Inputs disagreed about its result (e.g. pass in one log, fail in another).
    pub conflicting: bool,
    /// Facts from the whole matrix and tox.ini (set by the analysis).
    pub facts: Facts,
    /// The CI jobs whose logs reported it (API mode).
    pub jobs: ThinVec<JobRef>,
    /// What is known beyond the result, the counts and the durations: see
    /// [`Findings`]. Most targets pass and have none, so it is out of line
    /// and made at its first use ([`Target::findings_mut`]).
    findings: FindingsBox,
}

/// A target's [`Findings`], out of line; none and empty ones are equal.
#[derive(Debug, Clone, Default)]
struct FindingsBox(Option<Box<Findings>>);

impl FindingsBox {
    fn get(&self) -> &Findings {
        self.0.as_deref().unwrap_or(&NO_FINDINGS)
    }
}

impl PartialEq for FindingsBox {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

/// A reason for a verdict, a sentence a person can check. A fixed sentence
/// (`rerun candidate`) is held as it is in the program, one that names
/// things is made for the target: every failing target has a few.
pub type Signal = Cow<'static, str>;

/// What the inputs and the analysis found about a target beyond its result,
/// counts and durations: why it failed or was skipped, its failing tests,
/// the verdict and its grounds. A target that simply passed has none of it;
/// it is held out of line (a record of every target is kept, most of them
/// passing ones), read by [`Target::findings`] and written through
/// [`Target::findings_mut`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    /// The exit line of the command that failed, when printed.
    pub exit: Option<ExitLine>,
    /// Failing tests, at most [`MAX_FAILURES_PER_TARGET`].
    pub failures: ThinVec<Failure>,
    /// Failing tests not recorded in `failures` for want of room.
    pub failures_omitted: u64,
    /// pytest reported that a path on its command line does not exist (exit 4).
    pub missing_paths: ThinVec<String>,
    /// Why tox skipped or failed it, in tox's words (`could not find python interpreter ...`).
    pub reason: Option<Box<str>>,
    /// Regression or suspected flake, for failing targets.
    pub verdict: Option<Verdict>,
    /// The reasons for the verdict, each a sentence a person can check.
    pub signals: ThinVec<Signal>,
    /// Where to look: release pages and a compare link, for a regression.
    pub links: ThinVec<Link>,
    /// Why it failed, from pytest's and tox's exit codes (for failing targets).
    pub failure_kind: Option<ExitReason>,
    /// Exit-4 forensics: what the filesystem and git looked like.
    pub forensics: Option<Box<Forensics>>,
    /// Tests that passed in a run of only a few tests (a test run alone), with
    /// that run's size: with a failure of the same test in a larger run,
    /// evidence of order or state dependence.
    pub passed_alone: ThinVec<(String, u64)>,
}

/// What a target with no findings reads.
static NO_FINDINGS: Findings = Findings {
    exit: None,
    failures: ThinVec::new(),
    failures_omitted: 0,
    missing_paths: ThinVec::new(),
    reason: None,
    verdict: None,
    signals: ThinVec::new(),
    links: ThinVec::new(),
    failure_kind: None,
    forensics: None,
    passed_alone: ThinVec::new(),
};

/// A command line tox ran for a target, kept in a form that many targets
/// share. tox's commands differ from one env to the next mostly by the env's
/// name (`-o junit_suite_name=<env> --junitxml=.../.junitxml-<env>`): with
/// the name cut out, the rest is the same for every env of a suite, and is
/// kept once ([`CommandShapes`]). Its text is given back by
/// [`CommandLine::expand`] with the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// The line as printed: one that holds the [`CommandShapes::NAME`] mark,
    /// which a shape cannot tell from a cut-out name, or one made without
    /// shapes.
    Own(Box<str>),
    /// The line with each occurrence of the name replaced by the mark.
    Shaped(Arc<str>),
}

impl CommandLine {
    /// The line is empty (so is its shape, and only then).
    pub fn is_empty(&self) -> bool {
        match self {
            CommandLine::Own(line) => line.is_empty(),
            CommandLine::Shaped(shape) => shape.is_empty(),
        }
    }

    /// The line as printed, for the target of that name.
    pub fn expand(&self, name: &str) -> Cow<'_, str> {
        match self {
            CommandLine::Own(line) => Cow::Borrowed(line),
            CommandLine::Shaped(shape) if shape.contains(CommandShapes::NAME) => {
                Cow::Owned(shape.replace(CommandShapes::NAME, name))
            }
            CommandLine::Shaped(shape) => Cow::Borrowed(shape),
        }
    }
}

/// The distinct shapes of command lines seen (see [`CommandLine`]), each
/// kept once for all the targets whose line has it.
#[derive(Debug, Default)]
pub struct CommandShapes {
    shapes: foldhash::HashSet<Arc<str>>,
    /// The shapes last kept, newest at `next - 1`: an env's failing
    /// command is the command it just started, and its directory the one
    /// the env before printed, so most lines are one of these.
    recent: [Option<Arc<str>>; Self::RECENT],
    next: usize,
    scratch: String,
}

impl CommandShapes {
    /// What stands for the name in a shape: a character no command line or
    /// env name is expected to hold (one that does is kept as it is).
    pub const NAME: char = '\0';

    const RECENT: usize = 4;

    /// `line`, run by the target `name`, as a [`CommandLine`] that gives it back.
    pub fn keep(&mut self, line: &str, name: &str) -> CommandLine {
        if line.contains(Self::NAME) || name.contains(Self::NAME) {
            return CommandLine::Own(line.into());
        }
        // Newest first.
        for i in (0..Self::RECENT).map(|i| (self.next + Self::RECENT - 1 - i) % Self::RECENT) {
            if let Some(shape) = &self.recent[i]
                && shape_matches(shape, line, name)
            {
                return CommandLine::Shaped(Arc::clone(shape));
            }
        }
        self.scratch.clear();
        let mut end = 0;
        if let Some(&lead) = name.as_bytes().first() {
            // Occurrences do not overlap, and each ends on a char boundary
            // (as the name does). A name is short: its first byte, then the
            // rest, costs less than building a substring searcher per line.
            let bytes = line.as_bytes();
            for at in memchr::memchr_iter(lead, bytes) {
                if at >= end && bytes[at..].starts_with(name.as_bytes()) {
                    self.scratch.push_str(&line[end..at]);
                    self.scratch.push(Self::NAME);
                    end = at + name.len();
                }
            }
        }
        self.scratch.push_str(&line[end..]);
        let shape = match self.shapes.get(self.scratch.as_str()) {
            Some(shape) => Arc::clone(shape),
            None => {
                let shape: Arc<str> = Arc::from(self.scratch.as_str());
                self.shapes.insert(Arc::clone(&shape));
                shape
            }
        };
        self.recent[self.next] = Some(Arc::clone(&shape));
        self.next = (self.next + 1) % Self::RECENT;
        CommandLine::Shaped(shape)
    }
}

/// `line` is `shape` with each [`CommandShapes::NAME`] mark replaced by
/// `name`: the shape gives the line back, so it may stand for it.
fn shape_matches(shape: &str, line: &str, name: &str) -> bool {
    let mut pieces = shape.split(CommandShapes::NAME);
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    for piece in pieces {
        match rest.strip_prefix(name).and_then(|r| r.strip_prefix(piece)) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// A link worth following for a failing target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// What it is (`PyPI 2.1.5`, `compare 2.0.1...2.1.5`).
    pub label: String,
    /// Where it goes.
    pub url: String,
    /// Whether the link was checked to exist (tags looked up).
    pub verified: bool,
}

impl Target {
    /// A target with no result yet.
    pub fn new(name: TargetName) -> Self {
        Self {
            name,
            status: TargetStatus::NotRun,
            exit_code: None,
            durations: Durations::default(),
            last_command: None,
            output: OutputExcerpt::default(),
            junit_files: ThinVec::new(),
            tests: TestCounts::default(),
            sources: Sources::default(),
            conflicting: false,
            facts: Facts::default(),
            jobs: ThinVec::new(),
            findings: FindingsBox::default(),
        }
    }

    /// What is known beyond its result ([`Findings::NONE`] when nothing is).
    pub fn findings(&self) -> &Findings {
        self.findings.get()
    }

    /// Its findings, to write: made, empty, at the first call.
    pub fn findings_mut(&mut self) -> &mut Findings {
        self.findings.0.get_or_insert_with(Box::default)
    }

    /// Its findings once it has some: `None` for a target that has none,
    /// so that a writer that may have nothing to write can avoid making them.
    pub fn findings_if_any(&mut self) -> Option<&mut Findings> {
        self.findings.0.as_deref_mut()
    }

    /// The command that reproduces it locally; `None` for a name tox could not take
    /// (a JUnit file that names no target).
    pub fn reproduce(&self) -> Option<String> {
        is_plausible_env_name(self.name.as_str()).then(|| format!("tox -e {}", self.name.as_str()))
    }

    /// The command that matters: the failing one, else the last one tox ran.
    pub fn command_line(&self) -> Option<Cow<'_, str>> {
        match &self.findings().exit {
            Some(e) if !e.setup_step && !e.command.is_empty() => {
                Some(e.command.expand(self.name.as_str()))
            }
            _ => {
                let c = self.last_command.as_ref()?;
                Some(c.expand(self.name.as_str()))
            }
        }
    }

    /// Records a failing test, merging with a record of the same test from another
    /// input (JUnit details win over a log's one-line summary).
    pub fn add_failure(&mut self, failure: Failure) {
        let findings = self.findings_mut();
        if let Some(existing) = findings
            .failures
            .iter_mut()
            .find(|f| f.test == failure.test)
        {
            let better =
                existing.source == FailureSource::Log && failure.source == FailureSource::Junit;
            if better {
                let attempts = existing.attempts.max(failure.attempts);
                *existing = failure;
                existing.attempts = attempts;
            } else {
                existing.attempts = existing.attempts.max(failure.attempts);
                if existing.details.is_empty() && !failure.details.is_empty() {
                    existing.details = failure.details;
                }
            }
            return;
        }
        if findings.failures.len() < MAX_FAILURES_PER_TARGET {
            findings.failures.push(failure);
        } else {
            findings.failures_omitted += 1;
        }
    }

    /// Records that `source` mentioned this target (once per source).
    pub fn add_source(&mut self, source: &Arc<str>) {
        self.sources.add(source);
    }

    /// Records a JUnit file read for this target (once per file).
    pub fn add_junit_file(&mut self, file: &str) {
        push_listed(&mut self.junit_files, file, || file.to_owned());
    }
}

/// The inputs (logs, JUnit files) that mentioned a target, each name shared
/// by every target it mentions; at most [`MAX_LISTED`]. Most targets are in
/// one input, whose name is held in place: a list is made for a second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources(SourceList);

#[derive(Debug, Clone, Default, PartialEq)]
enum SourceList {
    #[default]
    None,
    One(Arc<str>),
    Many(ThinVec<Arc<str>>),
}

impl Sources {
    /// The inputs, in the order they first mentioned the target.
    pub fn as_slice(&self) -> &[Arc<str>] {
        match &self.0 {
            SourceList::None => &[],
            SourceList::One(one) => std::slice::from_ref(one),
            SourceList::Many(list) => list,
        }
    }

    /// Adds `source` unless it is listed or the list is full.
    fn add(&mut self, source: &Arc<str>) {
        match &mut self.0 {
            SourceList::None => self.0 = SourceList::One(Arc::clone(source)),
            SourceList::One(one) if **one == **source => {}
            SourceList::One(one) => {
                let mut list = ThinVec::with_capacity(2);
                list.push(Arc::clone(one));
                list.push(Arc::clone(source));
                self.0 = SourceList::Many(list);
            }
            SourceList::Many(list) => push_listed(list, source, || Arc::clone(source)),
        }
    }
}

impl std::ops::Deref for Sources {
    type Target = [Arc<str>];

    fn deref(&self) -> &[Arc<str>] {
        self.as_slice()
    }
}

/// Most inputs listed per target (sources, JUnit files); a target fed by
/// thousands of files lists the first ones.
pub const MAX_LISTED: usize = 100;

/// Adds `item` unless it is already listed or the list is full. Inputs are
/// read one after another, so a repeat is almost always the last item: that
/// is checked first, and the bounded list keeps the full check cheap.
fn push_listed<T: std::ops::Deref<Target = str>>(
    list: &mut ThinVec<T>,
    item: &str,
    make: impl FnOnce() -> T,
) {
    if list.last().is_some_and(|l| &**l == item)
        || list.len() >= MAX_LISTED
        || list.iter().any(|l| &**l == item)
    {
        return;
    }
    push_sparing(list, make());
}

/// Pushes `item`, with room for only it when `list` is empty (a first push
/// makes room for four): for the lists most targets hold one item in, such
/// as the inputs that named them.
pub(crate) fn push_sparing<T>(list: &mut ThinVec<T>, item: T) {
    if list.capacity() == 0 {
        list.reserve_exact(1);
    }
    list.push(item);
}

/// What the filesystem and git looked like when pytest said a path it was
/// given does not exist (exit 4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Forensics {
    /// `at-failure` (taken by `tox-triage run` right after pytest exited) or
    /// `after-the-fact` (taken by `analyze` later, against the workspace as it is then).
    pub taken: String,
    /// When, RFC 3339 UTC.
    pub timestamp: String,
    /// The tox target (`$TOX_ENV_NAME`), when known.
    pub target: Option<String>,
    /// The command that exited 4.
    pub command: Vec<String>,
    /// Its final exit code.
    pub exit_code: Option<i32>,
    /// Every run of the command: the first and each retry.
    pub attempts: Vec<Attempt>,
    /// The working directory.
    pub cwd: String,
    /// The workspace root paths are confined to.
    pub workspace: String,
    /// One entry per missing path.
    pub paths: Vec<PathForensics>,
    /// The checkout's git state.
    pub git: Option<GitState>,
    /// Free space on the working directory's filesystem.
    pub disk_free_bytes: Option<u64>,
    /// What could not be collected, and why (never fatal).
    pub problems: Vec<String>,
    /// How long collecting took.
    pub duration_ms: u64,
}

/// One run of the wrapped command.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Attempt {
    /// 1 for the first run.
    pub number: u32,
    /// Its exit code (`None` when killed by a signal).
    pub exit_code: Option<i32>,
    /// Paths pytest said were not found.
    pub missing: Vec<String>,
    /// For each of those, whether it existed right after the attempt ended.
    pub existed_after: Vec<bool>,
}

/// Forensics of one missing path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct PathForensics {
    /// As pytest printed it.
    pub path: String,
    /// Relative to the workspace, when inside it.
    pub resolved: Option<String>,
    /// Why it was not inspected: it escapes the workspace (`..`, an absolute
    /// path elsewhere, a symlink out).
    pub escapes: Option<String>,
    /// Does it exist now.
    pub exists_now: Option<bool>,
    /// Does its parent directory exist.
    pub parent_exists: Option<bool>,
    /// Entries in the parent directory (counted up to a bound).
    pub parent_entries: Option<u64>,
    /// Up to 5 entries of the parent with a similar name (same stem prefix, same suffix).
    pub similar: Vec<String>,
    /// The nearest ancestor that exists, relative to the workspace.
    pub nearest_existing_ancestor: Option<String>,
    /// Tracked at HEAD (`git ls-files`).
    pub tracked_at_head: Option<bool>,
    /// What the change did to it against the base: `added`, `modified`,
    /// `deleted`, `renamed`, `unchanged`; `None` without a base.
    pub change_vs_base: Option<String>,
}

/// The checkout's git state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct GitState {
    /// `git rev-parse HEAD`.
    pub head: Option<String>,
    /// What HEAD should be (`$GITHUB_SHA`).
    pub expected_head: Option<String>,
    /// HEAD is the expected commit.
    pub head_as_expected: Option<bool>,
    /// The current branch; `None` when detached.
    pub branch: Option<String>,
    /// HEAD is detached.
    pub detached: bool,
    /// Entries of `git status --porcelain`.
    pub dirty_count: Option<u64>,
    /// The first 10, status columns kept (`" M tox.ini"`, `"?? junit/"`).
    pub dirty: Vec<String>,
    /// The last 5 reflog entries (`<sha> <message>`).
    pub reflog: Vec<String>,
    /// Stashed changes.
    pub stash_count: Option<u64>,
    /// The base the change is compared with.
    pub base: Option<String>,
}

/// A GitHub Actions job a target ran in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRef {
    /// Job id.
    pub id: u64,
    /// Job name (`DBs (3.12, ubuntu-22.04)`).
    pub name: String,
    /// Its page.
    pub url: String,
    /// The run's attempt the job belongs to.
    pub attempt: u64,
    /// The workflow run.
    pub run_id: u64,
    /// The workflow's name.
    pub workflow: String,
    /// The Python in the job name (`3.12`), when it names one.
    pub python: Option<String>,
    /// The job's conclusion (`failure`, `success`, `cancelled`).
    pub conclusion: Option<String>,
}

/// A workflow run that was triaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRef {
    /// Run id.
    pub id: u64,
    /// Workflow name.
    pub workflow: String,
    /// Attempt.
    pub attempt: u64,
    /// `completed`, `in_progress`, ...
    pub status: String,
    /// `failure`, `success`, ...
    pub conclusion: Option<String>,
    /// Its page.
    pub url: String,
    /// Commit.
    pub head_sha: String,
}

/// What happened to a job considered for a rerun.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rerun {
    /// Job id.
    pub job_id: u64,
    /// Job name.
    pub job_name: String,
    /// Its run.
    pub run_id: u64,
    /// `rerun` (requested), `planned` (dry run), `refused` (a guard said no), `failed` (GitHub said no).
    pub action: String,
    /// Why.
    pub reason: String,
    /// With `--wait-rerun`: whether the rerun passed (the flake cleared).
    pub cleared: Option<bool>,
}

/// A problem with an input that did not stop the analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The input file, when the problem is in one.
    pub file: Option<String>,
    /// 1-based line in the file, when known.
    pub line: Option<u64>,
    /// Byte offset in the file, when known (XML errors).
    pub position: Option<u64>,
    /// What went wrong and what was kept.
    pub message: String,
}

impl Warning {
    /// A warning about the run as a whole, not about one file.
    pub fn general(message: impl Into<String>) -> Self {
        Self {
            file: None,
            line: None,
            position: None,
            message: message.into(),
        }
    }

    /// A warning about `file` (at `line` when given).
    pub fn in_file(file: &str, line: Option<u64>, message: impl Into<String>) -> Self {
        Self {
            file: Some(file.to_owned()),
            line,
            position: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            if let Some(pos) = self.position {
                write!(f, " (byte {pos})")?;
            }
            write!(f, ": ")?;
        }
        f.write_str(&self.message)
    }
}

/// How many targets have each status ([`Report::counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// [`TargetStatus::Fail`].
    pub failed: usize,
    /// [`TargetStatus::Pass`].
    pub passed: usize,
    /// [`TargetStatus::Skipped`].
    pub skipped: usize,
    /// [`TargetStatus::NotRun`].
    pub not_run: usize,
}

/// The result of one analysis: every target, and what went wrong reading inputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Targets, failing first, then by name ([`Report::sort_targets`]; only
    /// an aggregation's unordered finish gives them in another order).
    pub targets: Vec<Target>,
    /// Input problems, at most [`MAX_WARNINGS`].
    pub warnings: Vec<Warning>,
    /// Warnings not kept for want of room.
    pub warnings_omitted: u64,
    /// Workflow runs triaged (API mode).
    pub runs: Vec<RunRef>,
    /// Jobs rerun or considered for a rerun.
    pub reruns: Vec<Rerun>,
}

impl Report {
    /// Puts the targets in the report's order: failing first, then not run,
    /// passed and skipped, each by name.
    pub fn sort_targets(&mut self) {
        let from = Report::order_of(self.targets.iter().map(|t| (t.status, t.name.as_str())));
        self.arrange(from);
    }

    /// The report's order of the targets whose statuses and names `targets`
    /// gives, in their present order: at place `k`, where the target to put
    /// there is now. For [`Report::arrange`]; [`Report::sort_targets`] is
    /// both, and this half can run where the names are lent out.
    pub fn order_of<'a>(targets: impl Iterator<Item = (TargetStatus, &'a str)>) -> Vec<u32> {
        fn rank(s: TargetStatus) -> u8 {
            match s {
                TargetStatus::Fail => 0,
                TargetStatus::NotRun => 1,
                TargetStatus::Pass => 2,
                TargetStatus::Skipped => 3,
            }
        }
        // Names are unique, so the order is total: no stable sort (and no
        // buffer of half the targets) needed. The keys are sorted, not the
        // targets, which are large.
        let mut keys: Vec<(u8, &str, u32)> = targets
            .enumerate()
            .map(|(i, (status, name))| (rank(status), name, i as u32))
            .collect();
        keys.sort_unstable();
        keys.into_iter().map(|(_, _, i)| i).collect()
    }

    /// Moves the targets so that the one at `from[k]` is at `k`; `from` is
    /// a permutation of the places ([`Report::order_of`]).
    pub fn arrange(&mut self, mut from: Vec<u32>) {
        assert_eq!(from.len(), self.targets.len(), "an order of every target");
        for start in 0..from.len() {
            // Each cycle of the permutation, by swaps; a place done points
            // at itself.
            let mut at = start;
            while from[at] as usize != start && from[at] as usize != at {
                let next = from[at] as usize;
                self.targets.swap(at, next);
                from[at] = at as u32;
                at = next;
            }
            from[at] = at as u32;
        }
    }

    /// Targets with the given status.
    pub fn with_status(&self, status: TargetStatus) -> impl Iterator<Item = &Target> {
        self.targets.iter().filter(move |t| t.status == status)
    }

    /// How many targets have each status, counted in one pass (a report can
    /// hold a hundred thousand targets).
    pub fn counts(&self) -> StatusCounts {
        let mut c = StatusCounts::default();
        for t in &self.targets {
            match t.status {
                TargetStatus::Fail => c.failed += 1,
                TargetStatus::Pass => c.passed += 1,
                TargetStatus::Skipped => c.skipped += 1,
                TargetStatus::NotRun => c.not_run += 1,
            }
        }
        c
    }

    /// Names of the targets with the given verdict.
    pub fn with_verdict(&self, verdict: Verdict) -> Vec<&str> {
        self.targets
            .iter()
            .filter(|t| t.findings().verdict == Some(verdict))
            .map(|t| t.name.as_str())
            .collect()
    }
}

/// Orders Python factors as people read them: 3.9 < 3.10 < 3.14 < 3.14t < pypy3.9.
pub fn python_order(a: &str, b: &str) -> Ordering {
    fn key(s: &str) -> (bool, Vec<u32>, bool, String) {
        let pypy = s.starts_with("pypy");
        let core = s.trim_start_matches("pypy");
        let threaded = core.ends_with('t');
        let nums = core
            .trim_end_matches('t')
            .split('.')
            .map(|n| n.parse().unwrap_or(u32::MAX))
            .collect();
        (pypy, nums, threaded, s.to_owned())
    }
    key(a).cmp(&key(b))
}

/// Cuts `s` to at most `max` bytes on a char boundary, marking the cut with `…`.
pub fn truncate_str(s: &str, max: usize) -> String {
    let mut out = String::new();
    push_truncated(&mut out, s, max);
    out
}

/// Appends `s` to `out`, shortened as by [`truncate_str`]: into a buffer
/// that is reused.
pub fn push_truncated(out: &mut String, s: &str, max: usize) {
    if s.len() <= max {
        out.push_str(s);
        return;
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.reserve(end + '…'.len_utf8());
    out.push_str(&s[..end]);
    out.push('…');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record of every target is kept (131,811 of them in the 1 GB
    /// benchmark log): its size is watched.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_target_record_stays_small() {
        let size = std::mem::size_of::<Target>();
        assert!(size <= 264, "a Target is {size} bytes");
    }

    /// Durations read back as they were set, none held as NaN (a NaN read
    /// from a log is none), and serialized as three optional numbers.
    #[test]
    fn durations_read_back_as_set() {
        let mut d = Durations::new(Some(1.5), None, Some(0.0));
        assert_eq!(
            (d.total(), d.setup(), d.commands()),
            (Some(1.5), None, Some(0.0))
        );
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"total":1.5,"setup":null,"commands":0.0}"#
        );
        d.set_split(Some(2.25), None);
        assert_eq!(
            (d.total(), d.setup(), d.commands()),
            (Some(1.5), Some(2.25), None)
        );
        d.set_total(None);
        assert_eq!(d, Durations::new(None, Some(2.25), None));
        assert_ne!(d, Durations::default());
        assert_eq!(
            Durations::new(Some(f64::NAN), None, None),
            Durations::default()
        );
        assert_eq!(std::mem::size_of::<Durations>(), 24);
    }

    /// Test counts saturate rather than wrap, and a log's counts sum to
    /// their total.
    #[test]
    fn test_counts_saturate() {
        let c = TestCounts::from_outcomes(3, 2, 1, u64::MAX);
        assert_eq!(
            (c.total, c.passed, c.failed, c.errors, c.skipped),
            (u32::MAX, 3, 2, 1, u32::MAX)
        );
        assert_eq!(TestCounts::from_outcomes(3, 2, 1, 4).total, 10);
        let mut m = c;
        m.merge(&c);
        m.add(CaseOutcome::Passed, 2);
        assert_eq!((m.total, m.passed, m.flaky), (u32::MAX, 7, 1));
    }

    /// A target's package and pinned version read through its pin, and are
    /// serialized as the two fields they were.
    #[test]
    fn facts_read_the_pin() {
        let mut f = Facts::default();
        assert_eq!((f.package(), f.pinned()), (None, None));
        f.pin = Some(Box::new(Pin {
            package: "redis".into(),
            version: Some("5.3.1".into()),
        }));
        assert_eq!((f.package(), f.pinned()), (Some("redis"), Some("5.3.1")));
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(
            (v["package"].as_str(), v["pinned"].as_str()),
            (Some("redis"), Some("5.3.1"))
        );
        assert_eq!(v.as_object().unwrap().len(), 6);
    }

    /// `Category::ALL` holds every category once, each at its number and in
    /// their order (the verdicts keep the categories seen as bits of a `u32`).
    #[test]
    fn every_category_is_listed_at_its_number() {
        for (i, c) in Category::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i, "{c:?}");
        }
        assert!(Category::ALL.is_sorted());
        // The last one declared is the last listed: none is missing.
        assert_eq!(Category::Unknown as usize, Category::ALL.len() - 1);
        assert!(Category::ALL.len() <= 32);
    }

    /// The report's order from any starting order (random permutations, with
    /// every status).
    #[test]
    fn targets_are_sorted_by_status_then_name() {
        let statuses = [
            TargetStatus::Pass,
            TargetStatus::Fail,
            TargetStatus::Skipped,
            TargetStatus::NotRun,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for n in [0, 1, 2, 3, 10, 257] {
            let mut targets: Vec<Target> = (0..n)
                .map(|i| {
                    let mut t = Target::new(TargetName::parse(&format!(
                        "py3.{}-suite{}-v1.{i}",
                        next() % 14,
                        next() % 9
                    )));
                    t.status = statuses[(next() % 4) as usize];
                    t
                })
                .collect();
            // Shuffled (Fisher-Yates).
            for i in (1..targets.len()).rev() {
                targets.swap(i, (next() % (i as u64 + 1)) as usize);
            }
            let mut expected: Vec<String> = targets.iter().map(|t| t.name.to_string()).collect();
            let by_name: std::collections::HashMap<String, TargetStatus> = targets
                .iter()
                .map(|t| (t.name.to_string(), t.status))
                .collect();
            // The report's order: fail, not run, pass, skipped; then name.
            let order = |s: TargetStatus| match s {
                TargetStatus::Fail => 0,
                TargetStatus::NotRun => 1,
                TargetStatus::Pass => 2,
                TargetStatus::Skipped => 3,
            };
            expected.sort_by(|a, b| {
                order(by_name[a])
                    .cmp(&order(by_name[b]))
                    .then_with(|| a.cmp(b))
            });
            let mut report = Report {
                targets,
                ..Report::default()
            };
            report.sort_targets();
            let got: Vec<String> = report.targets.iter().map(|t| t.name.to_string()).collect();
            assert_eq!(got, expected, "{n} targets");
            let c = report.counts();
            assert_eq!(
                [c.failed, c.not_run, c.passed, c.skipped],
                [0, 1, 2, 3].map(|k| by_name.values().filter(|s| order(**s) == k).count()),
                "{n} targets"
            );
        }
    }

    /// An excerpt is one buffer of exactly its size, a line holding a
    /// newline counting as the lines it holds.
    #[test]
    fn an_excerpt_is_one_exact_buffer() {
        let ex = OutputExcerpt::new(["first", "two\nlines", "", "é"], 9);
        assert_eq!(
            ex.lines().collect::<Vec<_>>(),
            ["first", "two", "lines", "", "é"]
        );
        assert_eq!((ex.len(), ex.total_lines), (5, 9));
        assert_eq!(ex.bytes(), ex.text().len());
        // The same lines as one text.
        let copied = OutputExcerpt::from_text("first\ntwo\nlines\n\né\n", 9);
        assert_eq!(copied, ex);
        assert!(OutputExcerpt::from_text("", 3).is_empty());
        assert_eq!(
            serde_json::to_string(&ex).unwrap(),
            r#"{"lines":["first","two","lines","","é"],"total_lines":9}"#
        );
        assert!(OutputExcerpt::new(Vec::<String>::new(), 0).is_empty());
        // Lines from either end, and both ends meeting, as `split_terminator` gives them.
        for text in [
            "",
            "\n",
            "\n\n",
            "a\n",
            "a\n\nb\n",
            "first\ntwo\nlines\n\né\n",
        ] {
            let ex = OutputExcerpt::from_text(text, 0);
            let want: Vec<&str> = text.split_terminator('\n').collect();
            assert_eq!(ex.lines().collect::<Vec<_>>(), want, "{text:?}");
            let back: Vec<&str> = ex.lines().rev().collect();
            assert_eq!(
                back,
                want.iter().rev().copied().collect::<Vec<_>>(),
                "{text:?}"
            );
            let mut both = ex.lines();
            let (mut front, mut rear) = (Vec::new(), Vec::new());
            while let Some(l) = both.next() {
                front.push(l);
                rear.extend(both.next_back());
            }
            front.extend(rear.into_iter().rev());
            assert_eq!(front, want, "{text:?}");
        }
    }

    fn parts(name: &str) -> (String, String, Option<String>, bool) {
        let t = TargetName::parse(name);
        let p = t.parts().expect(name);
        (
            p.python.to_owned(),
            p.suite.to_owned(),
            p.version.map(|v| v.as_str().to_owned()),
            p.latest,
        )
    }

    #[test]
    fn conventional_names() {
        let cases = [
            (
                "py3.14t-openai_agents-v0.9.1",
                "3.14t",
                "openai_agents",
                Some("0.9.1"),
            ),
            ("pypy3.9-redis-v5.3.1", "pypy3.9", "redis", Some("5.3.1")),
            ("pypy3.10-redis-v5.3.1", "pypy3.10", "redis", Some("5.3.1")),
            ("py3.12-common", "3.12", "common", None),
            ("py3-common", "3", "common", None),
            ("py312-common", "3.12", "common", None),
            (
                "py3.9-openai-base-v2.32.0",
                "3.9",
                "openai-base",
                Some("2.32.0"),
            ),
            ("py3.10-httpx2-v0.14", "3.10", "httpx2", Some("0.14")),
            ("py3.8-boto3-v1.40.0", "3.8", "boto3", Some("1.40.0")),
            (
                "py3.10-fastmcp-v4.0.0b2",
                "3.10",
                "fastmcp",
                Some("4.0.0b2"),
            ),
            ("py3.12-aiohttp-vcr", "3.12", "aiohttp-vcr", None),
            (
                "py3.12-langchain-base-v0.1.20",
                "3.12",
                "langchain-base",
                Some("0.1.20"),
            ),
        ];
        for (name, py, suite, version) in cases {
            let (p, s, v, latest) = parts(name);
            assert_eq!(
                (p.as_str(), s.as_str(), v.as_deref()),
                (py, suite, version),
                "{name}"
            );
            assert!(!latest);
        }
    }

    #[test]
    fn latest_names() {
        assert_eq!(
            parts("py3.13-mcp-latest"),
            ("3.13".into(), "mcp".into(), None, true)
        );
    }

    /// The interpreter is kept after the name in the same string: the name,
    /// its display and its serialisation are the name alone.
    #[test]
    fn a_name_is_one_string_with_its_python_after_it() {
        let t = TargetName::parse("pypy310t-redis-v6.4.0");
        assert_eq!(t.as_str(), "pypy310t-redis-v6.4.0");
        assert_eq!(t.to_string(), "pypy310t-redis-v6.4.0");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"pypy310t-redis-v6.4.0\""
        );
        assert_eq!(&*t.text, "pypy310t-redis-v6.4.0pypy3.10t");
        assert_eq!(t.python(), Some("pypy3.10t"));
        assert_eq!(t.suite(), Some("redis"));
        assert_eq!(t.version().map(|v| v.as_str()), Some("6.4.0"));
        assert_eq!(t.subject(None), "redis 6.4.0");
        assert_eq!(t.subject(Some("redis-py")), "redis-py 6.4.0");
        // An opaque name of any length holds only itself.
        let long = "x".repeat(70_000);
        let t = TargetName::parse(&long);
        assert_eq!((t.as_str(), t.parts()), (long.as_str(), None));
        assert_eq!(t.subject(None), long);
        // The longest conventional name: offsets at the end of 200 bytes.
        let name = format!("py3.12-{}-v1.0", "s".repeat(200 - 12));
        let t = TargetName::parse(&name);
        assert_eq!(name.len(), 200);
        assert_eq!(t.suite().map(str::len), Some(188));
        assert_eq!(t.version().map(|v| v.as_str()), Some("1.0"));
        assert_eq!(t.subject(None), format!("{} 1.0", "s".repeat(188)));
    }

    #[test]
    fn opaque_names_are_kept() {
        for name in [
            "lint",
            "docs",
            "py3.12",
            "python-x",
            "pyx.1-foo",
            "mypy-strict",
            "a b",
        ] {
            let t = TargetName::parse(name);
            assert_eq!(t.as_str(), name);
            assert!(t.parts().is_none(), "{name}");
        }
    }

    /// Plain releases are ordered by their fast keys, and against other
    /// versions without a parsed version of their own: every pair orders
    /// as PEP 440 orders the parsed versions, then by the text.
    #[test]
    fn versions_order_as_pep440_without_parsing_releases() {
        let texts = [
            "1.0",
            "1.0.0",
            "1.0.0.0",
            "1",
            "1.2",
            "1.10",
            "1.2rc1",
            "1.2.0.post1",
            "1.2.post1.dev2",
            "1.2.dev1",
            "1.2a1.dev1",
            "1.2+local",
            "1.2.0+local.7",
            "2024.1.15",
            "20240115",
            "1.2.3.4",
            "1.2.3.4.5",
            "1.2.3.4.0",
            "0",
            "0.0.1",
            "65535.1",
            "65536.1",
            "4.0.0b2",
            "0.9.1",
            "0.14",
            "1.0a1",
            "1.0.dev3",
            "2.0",
            "1.02",
            "6.04",
            "1.0-rc1",
            "4.0.0rc1",
            "4.0.0a1",
            "4.0.0b10",
            "4.0rc1",
            "4rc0",
            "1.0a01",
            "1.0c1",
            "1.0.0rc1.post1",
            "1.0rc999999999",
            "1.0rc1000000000",
            "65536.0a1",
        ];
        let names = crate::testing::names_with_versions(&texts);
        let (mut releases, mut pres) = (0, 0);
        for a in &names {
            let a = a.version().unwrap();
            releases += usize::from(matches!(a.key, VersionKey::Release(_)));
            pres += usize::from(matches!(a.key, VersionKey::Pre(..)));
            let pa = Version::from_str(a.as_str()).unwrap();
            for b in &names {
                let b = b.version().unwrap();
                let pb = Version::from_str(b.as_str()).unwrap();
                let want = pa.cmp(&pb).then_with(|| a.as_str().cmp(b.as_str()));
                assert_eq!(a.cmp(&b), want, "{a} vs {b}");
                assert_eq!(*a.version(), pa, "{a}");
            }
        }
        assert_eq!(releases, 14);
        // 1.2rc1, 4.0.0b2, 1.0a1, the five after 1.0-rc1 and 1.0rc999999999.
        assert_eq!(pres, 9);
        // An epoch (a name cannot hold one: `!` is not in env names).
        let epoch = Version::from_str("1!0.5").unwrap();
        assert_eq!(
            release_cmp(fast_key("2024.1").unwrap(), &epoch),
            Ordering::Less
        );
        assert_eq!(fast_key("1.2.3.4"), Some(0x0001_0002_0003_0004));
        assert_eq!(fast_key("1.0"), fast_key("1.0.0"));
        for none in [
            "1.2.3.4.5",
            "65536.1",
            "20240115",
            "1.2rc1",
            "1!0.5",
            "1.02",
            "",
        ] {
            assert_eq!(fast_key(none), None, "{none}");
        }
    }

    #[test]
    fn sources_are_listed_once_each_in_order_up_to_the_limit() {
        let names: Vec<Arc<str>> = (0..MAX_LISTED + 5)
            .map(|i| Arc::from(format!("job-{i}.log")))
            .collect();
        let mut sources = Sources::default();
        assert!(sources.is_empty());
        sources.add(&names[0]);
        sources.add(&Arc::from("job-0.log"));
        assert_eq!(*sources, names[..1]);
        assert!(matches!(sources.0, SourceList::One(_)));
        sources.add(&names[1]);
        sources.add(&names[0]);
        // The same name from another input's `Arc` is the same source.
        sources.add(&Arc::from("job-1.log"));
        assert_eq!(*sources, names[..2]);
        for name in names.iter().rev() {
            sources.add(name);
        }
        assert_eq!(sources.len(), MAX_LISTED);
        assert_eq!(sources[..2], names[..2]);
        assert_eq!(sources[2], names[MAX_LISTED + 4]);
    }

    #[test]
    fn versions_order_by_pep440() {
        let names = ["0.9.1", "0.14", "4.0.0b2", "4.0.0"]
            .map(|v| TargetName::parse(&format!("py3.12-x-v{v}")));
        let [a, b, c, d] = names.each_ref().map(|n| n.version().unwrap());
        assert!(a < b && b < c && c < d);
    }

    #[test]
    fn pythons_sort_numerically() {
        let mut v = vec!["pypy3.9", "3.14t", "3.10", "3.9", "3.14", "3"];
        v.sort_by(|a, b| python_order(a, b));
        assert_eq!(v, vec!["3", "3.9", "3.10", "3.14", "3.14t", "pypy3.9"]);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_str("héllo", 100), "héllo");
        let t = truncate_str("ééééé", 6);
        assert!(t.len() <= 6 && t.ends_with('…'), "{t}");
    }

    #[test]
    fn counts_stay_consistent() {
        let mut c = TestCounts::default();
        c.add(CaseOutcome::Passed, 2);
        c.add(CaseOutcome::Failed, 3);
        c.add(CaseOutcome::Skipped, 1);
        assert_eq!(
            (c.total, c.passed, c.failed, c.skipped, c.flaky),
            (3, 1, 1, 1, 1)
        );
    }

    /// A kept command line gives back the line as printed, whatever it holds;
    /// envs whose lines differ only by their name share one shape.
    #[test]
    fn command_lines_come_back_as_printed_and_share_their_shape() {
        let mut shapes = CommandShapes::default();
        let line = |env: &str| {
            format!(
                "python -m pytest tests/redis -o junit_suite_name={env} --junitxml=/w/.junitxml-{env}"
            )
        };
        let a = shapes.keep(&line("py3.8-redis-v5.3.1"), "py3.8-redis-v5.3.1");
        let b = shapes.keep(&line("py3.12-redis-v5.3.1"), "py3.12-redis-v5.3.1");
        match (&a, &b) {
            (CommandLine::Shaped(x), CommandLine::Shaped(y)) => assert!(Arc::ptr_eq(x, y)),
            other => panic!("{other:?}"),
        }
        assert_eq!(a.expand("py3.8-redis-v5.3.1"), line("py3.8-redis-v5.3.1"));
        assert_eq!(b.expand("py3.12-redis-v5.3.1"), line("py3.12-redis-v5.3.1"));
        let cases = [
            ("pytest tests", "py3.12-a"),
            ("aaaa", "aa"),
            ("aaa", "aa"),
            ("py3.12", "py3.12"),
            ("x py3.12py3.12 y py3.12", "py3.12"),
            ("pytest -k 'a\0b' py3", "py3"),
            ("tox -e é-py3 é", "é"),
            ("pytest", ""),
        ];
        for (line, name) in cases {
            let kept = shapes.keep(line, name);
            assert_eq!(kept.expand(name), line, "{line:?} for {name:?}");
        }
        assert!(matches!(
            shapes.keep("pytest -k 'a\0b'", "b"),
            CommandLine::Own(_)
        ));
        // Lines made of names and their pieces, kept one after another
        // (so that the shapes kept last are tried first): each comes back.
        let names = ["aa", "a", "py3", "py3.1", "", "x-aa"];
        let bits = ["aa", "a", "py3", ".1", " ", "x-", "é"];
        let mut pick = crate::testing::picker(0x2545_f491_u64);
        for _ in 0..5_000 {
            let name = names[pick(names.len())];
            let line: String = (0..pick(6)).map(|_| bits[pick(bits.len())]).collect();
            let kept = shapes.keep(&line, name);
            assert_eq!(kept.expand(name), line, "{line:?} for {name:?}");
        }
    }

    /// A shape stands for a line exactly when it gives the line back.
    #[test]
    fn a_shape_matches_the_lines_it_gives_back() {
        let yes = [
            ("\0", "py3", "py3"),
            ("a \0 b \0", "a py3 b py3", "py3"),
            ("\0\0", "aaaa", "aa"),
            ("abc", "abc", "x"),
            ("a\0b", "ab", ""),
            ("", "", "x"),
        ];
        let no = [
            ("\0\0", "aaa", "aa"),
            ("a \0", "a py3 ", "py3"),
            ("a \0", "a py", "py3"),
            ("abc", "abd", "x"),
            ("\0", "", "x"),
            ("", "x", "x"),
        ];
        for (shape, line, name) in yes {
            assert!(
                shape_matches(shape, line, name),
                "{shape:?} {line:?} {name:?}"
            );
            assert_eq!(CommandLine::Shaped(shape.into()).expand(name), line);
        }
        for (shape, line, name) in no {
            assert!(
                !shape_matches(shape, line, name),
                "{shape:?} {line:?} {name:?}"
            );
        }
    }

    #[test]
    fn a_text_taken_as_its_normal_form_is_one() {
        // Versions built from pieces, normal or not: whenever the text is
        // taken as its normal form, pep440_rs formats the version so.
        const PIECES: [&str; 22] = [
            "0", "1", "10", "01", "2024", ".", "..", "a", "b", "rc", "c", "alpha", "RC", "-",
            ".post", "post", ".dev", "dev", "+local", "!", "_", "pre",
        ];
        let mut pick = crate::testing::picker(11);
        let mut taken = 0;
        for _ in 0..50_000 {
            let mut text = String::new();
            for _ in 0..1 + pick(7) {
                text.push_str(PIECES[pick(PIECES.len())]);
            }
            if !is_normal_form(&text) {
                continue;
            }
            taken += 1;
            let parsed: Version = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed.to_string(), text);
        }
        assert!(taken > 1_000, "{taken}");
    }
}
