//! Exit-4 forensics: what the filesystem and git looked like when pytest said
//! a path on its command line does not exist.
//!
//! Collection never fails and never takes long: every step runs under one
//! deadline (git is killed when it is reached), every problem is written into
//! [`Forensics::problems`], and directories are listed up to a bound. Paths
//! are resolved inside the workspace only: one that escapes it (`../`, an
//! absolute path elsewhere, a symlink pointing out) is named, not inspected.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::model::{Attempt, Forensics, GitState, PathForensics};

/// Entries of a directory counted before giving up.
const MAX_ENTRIES: u64 = 100_000;
/// Similar names listed per missing path.
const MAX_SIMILAR: usize = 5;
/// `git status` entries kept.
const MAX_DIRTY: usize = 10;
/// Reflog entries kept.
const MAX_REFLOG: usize = 5;

/// What to collect forensics about.
#[derive(Debug, Clone)]
pub struct Request {
    /// `at-failure` or `after-the-fact`.
    pub taken: &'static str,
    /// The tox target.
    pub target: Option<String>,
    /// The command.
    pub command: Vec<String>,
    /// Its exit code.
    pub exit_code: Option<i32>,
    /// Its runs.
    pub attempts: Vec<Attempt>,
    /// Paths pytest said were not found (as printed).
    pub missing: Vec<String>,
    /// Where the command ran (paths are relative to it).
    pub cwd: PathBuf,
    /// The workspace root.
    pub workspace: PathBuf,
    /// The expected HEAD (`$GITHUB_SHA`).
    pub expected_head: Option<String>,
    /// The base revision to compare with.
    pub base: Option<String>,
    /// Time allowed.
    pub budget: Duration,
}

/// A point in time after which nothing more is started.
#[derive(Debug, Clone, Copy)]
struct Deadline(Instant);

impl Deadline {
    fn remaining(&self) -> Option<Duration> {
        self.0
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }
}

/// Collects forensics. Never panics on I/O, never exceeds `budget` by more than
/// the time to kill a git process.
pub fn collect(req: &Request) -> Forensics {
    let started = Instant::now();
    let deadline = Deadline(started + req.budget);
    let mut problems = Vec::new();
    let workspace = std::fs::canonicalize(&req.workspace).unwrap_or_else(|_| req.workspace.clone());
    let cwd = std::fs::canonicalize(&req.cwd).unwrap_or_else(|_| req.cwd.clone());
    let git = Git {
        dir: workspace.clone(),
        deadline,
    };
    let mut paths = Vec::new();
    for p in &req.missing {
        if deadline.remaining().is_none() {
            problems.push(format!(
                "time limit of {:?} reached before inspecting {p}",
                req.budget
            ));
            break;
        }
        paths.push(inspect_path(
            p,
            &cwd,
            &workspace,
            &git,
            req.base.as_deref(),
            &mut problems,
        ));
    }
    let git_state = if deadline.remaining().is_some() {
        Some(git_state(
            &git,
            req.expected_head.as_deref(),
            req.base.as_deref(),
            &mut problems,
        ))
    } else {
        problems.push("time limit reached before reading git state".to_owned());
        None
    };
    let disk_free_bytes = match nix::sys::statvfs::statvfs(&cwd) {
        Ok(s) => Some(s.blocks_available().saturating_mul(s.fragment_size())),
        Err(e) => {
            problems.push(format!("free disk space: {e}"));
            None
        }
    };
    Forensics {
        taken: req.taken.to_owned(),
        timestamp: rfc3339(SystemTime::now()),
        target: req.target.clone(),
        command: req.command.clone(),
        exit_code: req.exit_code,
        attempts: req.attempts.clone(),
        cwd: cwd.display().to_string(),
        workspace: workspace.display().to_string(),
        paths,
        git: git_state,
        disk_free_bytes,
        problems,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

/// `path` joined to `cwd` with `.` and `..` removed, without touching the disk.
fn lexical(cwd: &Path, path: &str) -> PathBuf {
    let joined = cwd.join(path);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// pytest node ids and `path::test` arguments name a file before `::`.
fn file_part(path: &str) -> &str {
    path.split("::").next().unwrap_or(path)
}

fn inspect_path(
    printed: &str,
    cwd: &Path,
    workspace: &Path,
    git: &Git,
    base: Option<&str>,
    problems: &mut Vec<String>,
) -> PathForensics {
    let mut f = PathForensics {
        path: printed.to_owned(),
        ..PathForensics::default()
    };
    let target = lexical(cwd, file_part(printed));
    let Ok(rel) = target.strip_prefix(workspace) else {
        f.escapes = Some(format!(
            "{} is outside the workspace {}",
            target.display(),
            workspace.display()
        ));
        return f;
    };
    // The deepest existing ancestor, resolved through symlinks, must stay inside too.
    let mut ancestor = target.clone();
    while !ancestor.exists() && ancestor.pop() {}
    match std::fs::canonicalize(&ancestor) {
        Ok(real) if !real.starts_with(workspace) => {
            f.escapes = Some(format!(
                "{} leads outside the workspace (to {})",
                ancestor.display(),
                real.display()
            ));
            return f;
        }
        Ok(_) => {}
        Err(e) => problems.push(format!("{}: {e}", ancestor.display())),
    }
    let rel_str = rel.display().to_string();
    f.resolved = Some(rel_str.clone());
    f.exists_now = Some(std::fs::symlink_metadata(&target).is_ok());
    f.nearest_existing_ancestor = ancestor.strip_prefix(workspace).ok().map(|a| {
        if a.as_os_str().is_empty() {
            ".".to_owned()
        } else {
            a.display().to_string()
        }
    });
    if let Some(parent) = target.parent() {
        f.parent_exists = Some(parent.is_dir());
        if parent.is_dir() {
            match list_similar(parent, &target) {
                Ok((count, similar)) => {
                    f.parent_entries = Some(count);
                    f.similar = similar;
                }
                Err(e) => problems.push(format!("listing {}: {e}", parent.display())),
            }
        }
    }
    match git.run(&["ls-files", "--", &rel_str]) {
        Ok(out) => f.tracked_at_head = Some(!out.trim().is_empty()),
        Err(e) => problems.push(format!("git ls-files: {e}")),
    }
    if let Some(base) = base {
        match git.run(&[
            "diff",
            "--name-status",
            "--no-renames",
            base,
            "HEAD",
            "--",
            &rel_str,
        ]) {
            Ok(out) => {
                f.change_vs_base = Some(
                    match out.lines().next().and_then(|l| l.chars().next()) {
                        Some('A') => "added",
                        Some('M') => "modified",
                        Some('D') => "deleted",
                        Some('R') => "renamed",
                        Some(_) => "changed",
                        None => "unchanged",
                    }
                    .to_owned(),
                )
            }
            Err(e) => problems.push(format!("git diff against {base}: {e}")),
        }
    }
    f
}

/// Counts a directory's entries (up to a bound) and lists those whose name
/// looks like `target`'s: same suffix and a shared stem prefix.
fn list_similar(dir: &Path, target: &Path) -> std::io::Result<(u64, Vec<String>)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, suffix) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name.as_str(), ""),
    };
    let mut count = 0u64;
    let mut scored: Vec<(usize, String)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        count += 1;
        if count > MAX_ENTRIES {
            break;
        }
        let Ok(entry) = entry else { continue };
        let other = entry.file_name().to_string_lossy().into_owned();
        if other == name {
            continue;
        }
        let (ostem, osuffix) = match other.rfind('.') {
            Some(i) if i > 0 => (&other[..i], &other[i..]),
            _ => (other.as_str(), ""),
        };
        if osuffix != suffix {
            continue;
        }
        let common = stem
            .chars()
            .zip(ostem.chars())
            .take_while(|(a, b)| a == b)
            .count();
        // At least 4 characters, or half the stem, in common.
        if common >= 4.min(stem.chars().count()).max(stem.chars().count() / 2) && common > 0 {
            scored.push((common, other));
        }
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    Ok((
        count,
        scored
            .into_iter()
            .take(MAX_SIMILAR)
            .map(|(_, n)| n)
            .collect(),
    ))
}

fn git_state(
    git: &Git,
    expected: Option<&str>,
    base: Option<&str>,
    problems: &mut Vec<String>,
) -> GitState {
    let mut s = GitState {
        expected_head: expected.map(str::to_owned),
        base: base.map(str::to_owned),
        ..GitState::default()
    };
    match git.run(&["rev-parse", "HEAD"]) {
        Ok(out) => s.head = Some(out.trim().to_owned()),
        Err(e) => {
            problems.push(format!("git rev-parse HEAD: {e}"));
            return s;
        }
    }
    s.head_as_expected = match (&s.head, expected) {
        (Some(h), Some(e)) => Some(h == e),
        _ => None,
    };
    match git.run(&["symbolic-ref", "--quiet", "--short", "HEAD"]) {
        Ok(out) => s.branch = Some(evidence(&out)),
        Err(GitError::Exit(1, _)) => s.detached = true,
        Err(e) => problems.push(format!("git symbolic-ref: {e}")),
    }
    match git.run_bytes(&["status", "--porcelain=v1", "-z", "--untracked-files=normal"]) {
        Ok(out) => {
            let entries = parse_porcelain_z(&out);
            s.dirty_count = Some(entries.len() as u64);
            s.dirty = entries.into_iter().take(MAX_DIRTY).collect();
        }
        Err(e) => problems.push(format!("git status: {e}")),
    }
    match git.run(&["reflog", "-n", &MAX_REFLOG.to_string(), "--format=%h %gs"]) {
        Ok(out) => s.reflog = out.lines().map(evidence).collect(),
        Err(e) => problems.push(format!("git reflog: {e}")),
    }
    match git.run(&["stash", "list"]) {
        Ok(out) => s.stash_count = Some(out.lines().count() as u64),
        Err(e) => problems.push(format!("git stash list: {e}")),
    }
    s
}

/// `git status --porcelain=v1 -z`: `XY path\0`, and for renames a second
/// `orig\0`. The two status columns are kept as they are (a leading space is
/// meaningful: ` M` is modified in the worktree, `M ` staged).
pub fn parse_porcelain_z(out: &[u8]) -> Vec<String> {
    let mut entries = Vec::new();
    let mut fields = out.split(|b| *b == 0).filter(|f| !f.is_empty());
    while let Some(f) = fields.next() {
        if f.len() < 4 {
            continue;
        }
        let status = String::from_utf8_lossy(&f[..2]).into_owned();
        let path = String::from_utf8_lossy(&f[3..]).into_owned();
        if status.starts_with('R') || status.starts_with('C') {
            let from = fields
                .next()
                .map(|o| String::from_utf8_lossy(o).into_owned())
                .unwrap_or_default();
            entries.push(evidence(&format!("{status} {from} -> {path}")));
        } else {
            entries.push(crate::model::truncate_str(&format!("{status} {path}"), 300));
        }
    }
    entries
}

/// Why a git command gave no answer.
#[derive(Debug)]
enum GitError {
    /// git ran and exited non-zero.
    Exit(i32, String),
    /// git could not be run, was killed at the deadline, or printed non-UTF-8.
    Other(String),
}

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitError::Exit(code, err) => write!(f, "git exited {code}: {}", err.trim()),
            GitError::Other(m) => f.write_str(m),
        }
    }
}

struct Git {
    dir: PathBuf,
    deadline: Deadline,
}

impl Git {
    fn run(&self, args: &[&str]) -> Result<String, GitError> {
        let out = self.run_bytes(args)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Runs git with a deadline; its own exit code is checked.
    fn run_bytes(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let Some(remaining) = self.deadline.remaining() else {
            return Err(GitError::Other("time limit reached".to_owned()));
        };
        let mut child = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(["-c", "core.quotepath=off"])
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| GitError::Other(format!("cannot run git: {e}")))?;
        // Both pipes are drained at once so that neither can fill and stall git.
        let drain = |pipe: Option<Box<dyn Read + Send>>, limit: u64| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(p) = pipe {
                    let _ = p.take(limit).read_to_end(&mut buf);
                }
                buf
            })
        };
        let out_reader = drain(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            16 << 20,
        );
        let err_reader = drain(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            64 << 10,
        );
        let end = Instant::now() + remaining;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= end => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(GitError::Other(format!(
                        "git {} killed at the time limit",
                        args.join(" ")
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(GitError::Other(e.to_string())),
            }
        };
        let out = out_reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        match status.code() {
            Some(0) => Ok(out),
            Some(code) => Err(GitError::Exit(
                code,
                String::from_utf8_lossy(&err).into_owned(),
            )),
            None => Err(GitError::Other("git was killed by a signal".to_owned())),
        }
    }
}

/// A line from git or the filesystem (branch names, paths, reflog messages
/// come from the code under test), trimmed and bounded.
fn evidence(s: &str) -> String {
    crate::model::truncate_str(s.trim(), 300)
}

/// RFC 3339 UTC with seconds (`2026-11-23T09:18:51Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm), for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_425_531)),
            "2026-11-23T09:18:51Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn porcelain_keeps_status_columns() {
        let out = b" M tox.ini\0?? junit/\0R  new.py\0old.py\0M  staged.py\0";
        assert_eq!(
            parse_porcelain_z(out),
            vec![
                " M tox.ini",
                "?? junit/",
                "R  old.py -> new.py",
                "M  staged.py"
            ]
        );
    }

    #[test]
    fn lexical_resolution() {
        assert_eq!(
            lexical(Path::new("/w/a"), "../b/./c.py"),
            PathBuf::from("/w/b/c.py")
        );
        assert_eq!(
            lexical(Path::new("/w"), "/etc/passwd"),
            PathBuf::from("/etc/passwd")
        );
        assert_eq!(file_part("tests/t.py::test_x"), "tests/t.py");
    }

    #[test]
    fn similar_names() {
        let d = tempfile::tempdir().unwrap();
        for n in [
            "test_added.py",
            "test_adder.py",
            "test_added_by_pr.txt",
            "conftest.py",
            "test_other.py",
        ] {
            std::fs::write(d.path().join(n), "").unwrap();
        }
        let (count, similar) =
            list_similar(d.path(), &d.path().join("test_added_by_pr.py")).unwrap();
        assert_eq!(count, 5);
        // `test_other.py` shares only `test_`: under half of `test_added_by_pr`.
        assert_eq!(similar, vec!["test_added.py", "test_adder.py"]);
    }
}
