//! What kind of failure a failing test shows: one table of patterns, read in
//! order; the first rule that matches a line of the failure gives the
//! category, and that line is kept as the evidence.
//!
//! To teach tox-triage a new failure, add a row to [`RULES`] (and a test with
//! the real line that prompted it). Rows are tried top to bottom, so put a
//! specific pattern above a general one.
//!
//! The lines a rule sees are the failure message and the traceback lines that
//! are not source code: pytest's `E ` lines, frame locations
//! (`tests/t.py:14: AssertionError`), and banners such as
//! `+++ Timeout +++`. Rules marked `source` also see the test's source lines,
//! where randomness and the clock show up.

use std::sync::LazyLock;

use regex::RegexSet;

use crate::model::{Category, Target};

/// One row of the table.
#[derive(Debug)]
pub struct Rule {
    /// The category it gives.
    pub category: Category,
    /// What it recognises, for people.
    pub name: &'static str,
    /// A regular expression tried against each line.
    pub pattern: &'static str,
    /// Also look at the test's source lines (pytest's indented code context).
    pub source: bool,
    /// Only when the traceback's last frame is inside an installed package
    /// (`site-packages`), i.e. the error was raised by the dependency.
    pub inside_package: bool,
}

const fn rule(category: Category, name: &'static str, pattern: &'static str) -> Rule {
    Rule {
        category,
        name,
        pattern,
        source: false,
        inside_package: false,
    }
}

/// The pattern table, most specific first.
pub static RULES: &[Rule] = &[
    rule(
        Category::WorkerCrash,
        "pytest-xdist worker crashed",
        r"crashed while running|\] node down|replacing crashed worker",
    ),
    rule(
        Category::Resource,
        "out of memory",
        r"\bMemoryError\b|Cannot allocate memory|\[Errno 12\]|Out of memory",
    ),
    rule(
        Category::Resource,
        "no space left on device",
        r"No space left on device|\[Errno 28\]|Disk quota exceeded",
    ),
    rule(
        Category::Resource,
        "killed by signal 9",
        r"SIGKILL|[Ss]ignal 9\b|exit(ed)? (with )?code -9\b|exit(ed)? (with )?code 137\b|\bKilled\b",
    ),
    rule(
        Category::Resource,
        "too many open files",
        r"Too many open files|\[Errno 24\]",
    ),
    rule(
        Category::Timeout,
        "pytest-timeout",
        r"\+{3,} Timeout \+{3,}|Failed: Timeout \(>",
    ),
    rule(
        Category::Timeout,
        "asyncio timeout",
        r"asyncio\.(exceptions\.)?TimeoutError|^E\s+TimeoutError\s*$|^TimeoutError$|^E\s+asyncio\.exceptions\.CancelledError",
    ),
    rule(
        Category::Network,
        "connection refused",
        r"ConnectionRefusedError|Connection refused|\[Errno 111\]|\[Errno 61\]",
    ),
    rule(
        Category::Network,
        "connection reset or aborted",
        r"ConnectionResetError|Connection reset by peer|\[Errno 104\]|ConnectionAbortedError|Connection aborted|RemoteDisconnected|BrokenPipeError|IncompleteRead",
    ),
    rule(
        Category::Network,
        "DNS failure",
        r"socket\.gaierror|Name or service not known|Temporary failure in name resolution|nodename nor servname|getaddrinfo failed|NameResolutionError|\[Errno -[235]\]",
    ),
    rule(
        Category::Network,
        "TLS error",
        r"SSLError|SSLEOFError|CERTIFICATE_VERIFY_FAILED|WRONG_VERSION_NUMBER|ssl\.SSL|TLSV1_ALERT",
    ),
    rule(
        Category::Network,
        "HTTP 5xx from a service",
        r"\b5\d\d Server Error|HTTP Error 5\d\d|HTTPError: 5\d\d|status[ _]code[=: ]+5\d\d|\b50[234] (Bad Gateway|Service Unavailable|Gateway Time-?out)",
    ),
    rule(
        Category::Network,
        "connect or read timeout",
        r"ConnectTimeout|ConnectTimeoutError|ReadTimeout|ReadTimeoutError|Read timed out|connect timed out|socket\.timeout",
    ),
    rule(
        Category::Network,
        "unreachable",
        r"Network is unreachable|No route to host|Max retries exceeded|\[Errno 11[013]\]",
    ),
    rule(
        Category::Async,
        "event loop closed",
        r"Event loop is closed|attached to a different (event )?loop|no running event loop|got Future .* attached to a different loop",
    ),
    rule(
        Category::Async,
        "coroutine never awaited",
        r"was never awaited|Task was destroyed but it is pending",
    ),
    rule(
        Category::Database,
        "database error",
        r"sqlite3\.\w*Error|database is locked|psycopg2?\.|asyncpg\.exceptions|pymysql\.err|MySQLdb|django\.db\.utils\.|sqlalchemy\.exc\.|pymongo\.errors|deadlock detected|UNIQUE constraint failed|could not connect to server|clickhouse_driver\.errors",
    ),
    rule(
        Category::Filesystem,
        "file not found",
        r"FileNotFoundError|No such file or directory|\[Errno 2\]|file or directory not found",
    ),
    rule(
        Category::Filesystem,
        "path error",
        r"IsADirectoryError|NotADirectoryError|PermissionError|\[Errno 13\]",
    ),
    rule(
        Category::DependencyApi,
        "import error",
        r"\bImportError\b|ModuleNotFoundError|cannot import name|No module named",
    ),
    rule(
        Category::DependencyApi,
        "deprecation turned into an error",
        r"^E?\s*(\w+\.)*(Deprecation|PendingDeprecation|Future)Warning\b",
    ),
    rule(
        Category::DependencyApi,
        "dependency cannot be installed",
        r"ResolutionImpossible|No matching distribution found|Could not find a version that satisfies|conflicting dependencies",
    ),
    Rule {
        category: Category::DependencyApi,
        name: "AttributeError or TypeError raised inside the package",
        pattern: r"\b(AttributeError|TypeError)\b",
        source: false,
        inside_package: true,
    },
    Rule {
        category: Category::TimeOrRandomness,
        name: "clock or random values",
        pattern: r"datetime\.(datetime\.)?(now|utcnow|today)\b|<built-in method (now|utcnow|today)\b|\btime\.time\(\)|\bdate\.today\(\)|freezegun|\brandom\.\w+\(|\bRandom\(|\buuid4\(\)",
        source: true,
        inside_package: false,
    },
    rule(
        Category::Assertion,
        "assertion in the project's test",
        r"^E?\s*(AssertionError\b|assert\s)",
    ),
];

/// A row's pattern as compiled: word boundaries and the classes `\w`, `\s`
/// and `\d` are ASCII ones. A Unicode `\b` makes the regex engine give up
/// its DFA on any non-ASCII line and fall back to a far slower one, and the
/// Unicode classes are most of the time the set takes to compile (which
/// every run pays, on a 10 MB log a tenth of its CPU); the words, spaces and
/// digits the table looks for in Python's messages are ASCII ones anyway.
/// (No pattern holds an escaped backslash, which this would misread: a
/// test checks it.)
fn compiled_pattern(pattern: &str) -> String {
    pattern
        .replace(r"\b", r"(?-u:\b)")
        .replace(r"\w", r"(?-u:\w)")
        .replace(r"\s", r"(?-u:\s)")
        .replace(r"\d", r"(?-u:\d)")
}

/// Every pattern at once (constants, checked by the unit tests below): one
/// scan of a line tells which rows match it, where trying the rows one by
/// one ran up to one regex per row on every line that matched any.
static RULE_SET: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new(RULES.iter().map(|r| compiled_pattern(r.pattern)))
        .expect("category patterns compile")
});

/// Longest evidence line kept.
const MAX_EVIDENCE: usize = 300;

/// Compiles the pattern table now (a few milliseconds), so that a caller
/// with a spare core can do it while the inputs are read rather than at the
/// first [`classify`].
pub fn prepare() {
    LazyLock::force(&RULE_SET);
}

/// Classifies one failure from its message and traceback: the category and the line that shows it.
pub fn classify(message: &str, details: &str) -> (Category, Option<String>) {
    let in_package = last_frame_in_package(details);
    let lines = message
        .lines()
        .map(|l| (l, false))
        .chain(details.lines().map(|l| (l, is_source_line(l))));
    top_line(lines, in_package).map_or((Category::Unknown, None), |(i, line)| {
        (RULES[i].category, Some(evidence(line)))
    })
}

/// The lines of `details` that [`classify`] decides by: the first line
/// that shows the top category among them, and the last frame location
/// (which says whether the error came from a package). With any message,
/// these lines alone classify as all the lines do; they are what is kept
/// of an output when there is no room for more.
pub fn telling_lines(details: &str) -> impl Iterator<Item = &str> + Clone {
    let in_package = last_frame_in_package(details);
    let top = top_line(details.lines().map(|l| (l, is_source_line(l))), in_package);
    let (top, frame) = (
        top.map(|(_, l)| l.as_ptr()),
        last_frame(details).map(str::as_ptr),
    );
    details
        .lines()
        .filter(move |l| Some(l.as_ptr()) == top || Some(l.as_ptr()) == frame)
}

fn last_frame_in_package(details: &str) -> bool {
    last_frame(details).is_some_and(|f| f.contains("site-packages") || f.contains("dist-packages"))
}

/// The top rule that matches one of `lines` (each with whether it is a
/// source line) and applies to it, with the first line it matches.
fn top_line<'a>(
    lines: impl Iterator<Item = (&'a str, bool)>,
    last_frame_in_package: bool,
) -> Option<(usize, &'a str)> {
    let applies = |rule: &Rule| {
        !(rule.inside_package && !last_frame_in_package
            || rule.category == Category::Assertion && last_frame_in_package)
    };
    // The top rule that matches a line that it applies to wins, with the
    // first such line. Rows match in the set's order, so the first applicable
    // match of a line is its best.
    let mut best: Option<(usize, &str)> = None;
    for (line, src) in lines {
        // Most lines match no row: telling so is a cheaper search than which rows match.
        if !RULE_SET.is_match(line) {
            continue;
        }
        let top = RULE_SET.matches(line).into_iter().find(|&i| {
            let rule = &RULES[i];
            (!src || rule.source) && applies(rule)
        });
        if let Some(i) = top
            && best.is_none_or(|(b, _)| i < b)
        {
            best = Some((i, line));
        }
        // No later line can beat the top rule.
        if best.is_some_and(|(b, _)| b == 0) {
            break;
        }
    }
    best
}

/// Classifies a target whose failure has no failing test (setup failed, pytest
/// exited 4 or 5, the process was killed) from its exit code and output.
pub fn classify_target(t: &Target) -> (Category, Option<String>) {
    if let Some(p) = t.findings().missing_paths.first() {
        return (
            Category::Filesystem,
            Some(evidence(&format!(
                "ERROR: file or directory not found: {p}"
            ))),
        );
    }
    match t.exit_code {
        Some(4) => {
            return (
                Category::Filesystem,
                Some("pytest exit 4: usage error or path not found".to_owned()),
            );
        }
        Some(-9 | 137) => {
            return (
                Category::Resource,
                Some(format!(
                    "exit {}: killed by signal 9 (out of memory?)",
                    t.exit_code.unwrap_or(0)
                )),
            );
        }
        _ => {}
    }
    let reason = t.findings().reason.as_deref().unwrap_or("");
    let (c, e) = classify(reason, t.output.text());
    if c != Category::Unknown {
        return (c, e);
    }
    (Category::Unknown, None)
}

/// pytest prints the test's source indented (`    x = f()`) and marks the
/// failing line with `>`; everything else is messages and locations.
fn is_source_line(l: &str) -> bool {
    l.starts_with("    ") || l.starts_with('>')
}

/// The last frame location of a pytest traceback (`path.py:12: ExcType`).
fn last_frame(details: &str) -> Option<&str> {
    details.lines().rev().find(|l| {
        !l.starts_with(' ')
            && l.split_once(".py:")
                .is_some_and(|(_, r)| r.starts_with(|c: char| c.is_ascii_digit()))
    })
}

fn evidence(line: &str) -> String {
    crate::model::truncate_str(line.trim(), MAX_EVIDENCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(RULE_SET.len(), RULES.len());
    }

    /// The lines `telling_lines` keeps of an output classify it as all of
    /// it does, with any message: outputs made of lines that match rules
    /// (inside a package or not, as source or not), frames and other text.
    #[test]
    fn the_telling_lines_classify_as_the_whole_output() {
        let pool = [
            "E   AttributeError: 'Client' object has no attribute 'send'",
            "/venv/lib/python3.12/site-packages/redis/connection.py:700: ConnectionError",
            "tests/integrations/redis/test_redis.py:41: AttributeError",
            "E   AssertionError: assert 1 == 2",
            "    assert datetime.now() > start",
            ">       x = random.random()",
            "E   ConnectionRefusedError: [Errno 111] Connection refused",
            "+++++++++++++++++++ Timeout +++++++++++++++++++",
            "E   TypeError: unsupported operand",
            "FAILED tests/test_a.py::test_b - ImportError: cannot import name 'x'",
            "================ 1 failed, 3 passed in 0.12s ================",
            "py3.12-redis-v5.3.1: exit 1 (0.52 seconds) /w> pytest tests",
            "",
            "    def test_b():",
            "E   MemoryError",
        ];
        let messages = [
            "",
            "AssertionError: assert False",
            "could not find python interpreter",
            "TypeError: x",
        ];
        let mut pick = crate::testing::picker(0x9e37_79b9_u64);
        let mut kept_fewer = 0;
        for _ in 0..4_000 {
            let lines: Vec<&str> = (0..1 + pick(8)).map(|_| pool[pick(pool.len())]).collect();
            let output = lines.join("\n");
            let telling: Vec<&str> = telling_lines(&output).collect();
            assert!(telling.len() <= 2, "{telling:?}");
            kept_fewer += usize::from(telling.len() < lines.len());
            let message = messages[pick(messages.len())];
            assert_eq!(
                classify(message, &telling.join("\n")),
                classify(message, &output),
                "{message:?} with {output:?}"
            );
        }
        assert!(kept_fewer > 2_000);
    }

    /// One real line per row, copied from tests/fixtures/categories and tests/fixtures/tox4-*.
    #[test]
    fn each_row_matches_its_real_line() {
        let cases: &[(&str, &str, Category)] = &[
            (
                "",
                "worker 'gw1' crashed while running 'test_crash.py::test_worker_crash_os_exit'",
                Category::WorkerCrash,
            ),
            ("MemoryError", "E           MemoryError", Category::Resource),
            (
                "OSError: [Errno 28] No space left on device",
                "",
                Category::Resource,
            ),
            (
                "subprocess.CalledProcessError: Command '['python', '-c', 'x']' died with <Signals.SIGKILL: 9>.",
                "",
                Category::Resource,
            ),
            (
                "Failed: Timeout (>1.0s) from pytest-timeout.",
                "+++++++++++++++++++++++++++++++++++ Timeout ++++++++++++++++++++++++++++++++++++",
                Category::Timeout,
            ),
            (
                "TimeoutError",
                "E           asyncio.exceptions.CancelledError\nE               TimeoutError",
                Category::Timeout,
            ),
            (
                "requests.exceptions.ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=42075): Max retries exceeded",
                "E               ConnectionRefusedError: [Errno 111] Connection refused",
                Category::Network,
            ),
            (
                "",
                "E               ConnectionResetError: [Errno 104] Connection reset by peer",
                Category::Network,
            ),
            (
                "",
                "E       socket.gaierror: [Errno -2] Name or service not known",
                Category::Network,
            ),
            (
                "",
                "E           ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)",
                Category::Network,
            ),
            (
                "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: http://127.0.0.1:43455/health",
                "",
                Category::Network,
            ),
            ("httpx.ConnectTimeout: timed out", "", Category::Network),
            ("RuntimeError: Event loop is closed", "", Category::Async),
            (
                "pytest.PytestUnraisableExceptionWarning: Exception ignored in: <coroutine object _fetch_items at 0x7f>",
                "E       RuntimeWarning: coroutine '_fetch_items' was never awaited",
                Category::Async,
            ),
            (
                "sqlite3.OperationalError: database is locked",
                "",
                Category::Database,
            ),
            (
                "sqlite3.IntegrityError: UNIQUE constraint failed: users.email",
                "",
                Category::Database,
            ),
            (
                "FileNotFoundError: [Errno 2] No such file or directory: '/w/data/expected_orders.json'",
                "",
                Category::Filesystem,
            ),
            (
                "ImportError: cannot import name 'soft_unicode' from 'markupsafe' (/w/.tox/py3.12/lib/python3.12/site-packages/markupsafe/__init__.py)",
                "",
                Category::DependencyApi,
            ),
            (
                "ModuleNotFoundError: No module named 'yaml'",
                "",
                Category::DependencyApi,
            ),
            (
                "DeprecationWarning: datetime.datetime.utcnow() is deprecated and scheduled for removal",
                "",
                Category::DependencyApi,
            ),
            (
                "AttributeError: 'str' object has no attribute 'url'",
                "E       AttributeError: 'str' object has no attribute 'url'\n\n/tmp/venv/lib/python3.12/site-packages/requests/utils.py:927: AttributeError",
                Category::DependencyApi,
            ),
            (
                "TypeError: Unexpected type for 'content', <class 'int'>",
                "/tmp/venv/lib/python3.12/site-packages/httpx/_content.py:133: TypeError",
                Category::DependencyApi,
            ),
            (
                "",
                "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/",
                Category::DependencyApi,
            ),
            (
                "AssertionError: assert False",
                "E        +    where datetime.datetime(2026, 11, 23, 9, 18, 51) = <built-in method now of type object at 0x7f>()",
                Category::TimeOrRandomness,
            ),
            (
                "assert [13, 30, 26] == [7, 23, 41]",
                "        rng = random.Random(20240101)\n>       assert winners == [7, 23, 41]\nE       assert [13, 30, 26] == [7, 23, 41]\n\ntest_time_randomness.py:18: AssertionError",
                Category::TimeOrRandomness,
            ),
            (
                "assert 850 == 849",
                "E       assert 850 == 849\n\ntest_assertion.py:9: AssertionError",
                Category::Assertion,
            ),
            ("something odd", "", Category::Unknown),
        ];
        for (message, details, want) in cases {
            let (got, evidence) = classify(message, details);
            assert_eq!(got, *want, "{message:?} / {details:?}");
            if got != Category::Unknown {
                assert!(evidence.is_some());
            }
        }
    }

    #[test]
    fn attribute_error_in_the_projects_own_code_is_not_the_dependency() {
        let (c, _) = classify(
            "AttributeError: 'Order' object has no attribute 'total'",
            "E       AttributeError: 'Order' object has no attribute 'total'\n\ntests/test_shop.py:12: AttributeError",
        );
        assert_eq!(c, Category::Unknown);
    }

    #[test]
    fn source_lines_do_not_count_except_for_the_clock_and_randomness() {
        // A test whose source talks about connections but fails on a plain assert.
        let (c, _) = classify(
            "assert 1 == 2",
            "    def test_x():\n        refused = 'Connection refused'\n>       assert 1 == 2\nE       assert 1 == 2\n\ntests/t.py:3: AssertionError",
        );
        assert_eq!(c, Category::Assertion);
    }

    /// Lines with non-ASCII text match as ASCII ones do (the table's word
    /// boundaries are compiled as ASCII ones for speed).
    #[test]
    fn non_ascii_lines_are_classified_too() {
        let details = "    def test_données():\n>       r = client.get(\"/é✔🚀\")\n\
            E       requests.exceptions.ConnectionError: échec ✔ Connection refused\n\
            tests/test_é.py:12: ConnectionError";
        let (c, e) = classify("ConnectionError: échec ✔", details);
        assert_eq!(c, Category::Network, "{e:?}");
        let (c, _) = classify(
            "",
            "E       asyncio.exceptions.TimeoutError: délai dépassé 🚀",
        );
        assert_eq!(c, Category::Timeout);
        // Every `\b`, `\w`, `\s` and `\d` is rewritten, nothing else is touched.
        assert_eq!(compiled_pattern(r"\bx\b"), r"(?-u:\b)x(?-u:\b)");
        assert_eq!(
            compiled_pattern(r"^E\s+\w*\d\.(a|b)$"),
            r"^E(?-u:\s)+(?-u:\w)*(?-u:\d)\.(a|b)$"
        );
        for rule in RULES {
            assert!(!rule.pattern.contains(r"\\"), "{}", rule.pattern);
        }
    }
}
