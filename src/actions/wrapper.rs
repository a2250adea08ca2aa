//! `tox-triage run -- <command...>`: runs a test command (in a tox env:
//! `commands = tox-triage run -- pytest {posargs}`), retries it when pytest
//! exits 4 because a path was not found, and, when exit 4 survives, records
//! forensics of the filesystem and git.
//!
//! Guarantees:
//! - output is unchanged: stdout is inherited (pytest still sees a terminal
//!   when there is one); stderr passes through byte for byte as it arrives,
//!   scanned for pytest's `ERROR: file or directory not found: <path>`;
//! - the exit code is passed through exactly; a child killed by a signal
//!   kills this process with the same signal, after saying so on stderr;
//! - SIGINT, SIGTERM, SIGHUP and SIGQUIT are forwarded to the child;
//! - forensics run under a time bound and never change the exit code.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use crate::analysis::forensics::{self, Request};
use crate::inputs::pytest::missing_path;
use crate::model::{Attempt, Forensics, is_plausible_env_name};
use crate::outputs::forensics as render;

/// Signals passed on to the child.
const FORWARDED: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The command and its arguments.
    pub command: Vec<OsString>,
    /// Delays before each retry; their number is the number of retries.
    pub retry_delays: Vec<Duration>,
    /// Where to write `forensics-<target>.json` and `.md`.
    pub forensics_dir: Option<PathBuf>,
    /// Time allowed for forensics.
    pub forensics_budget: Duration,
    /// The workspace paths are confined to.
    pub workspace: PathBuf,
    /// What HEAD should be (`$GITHUB_SHA`).
    pub expected_head: Option<String>,
    /// The base revision for "added by the PR".
    pub base: Option<String>,
    /// The tox target (`$TOX_ENV_NAME`).
    pub target: Option<String>,
}

/// How the command ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// The last attempt's status.
    pub status: ExitStatus,
    /// Every attempt.
    pub attempts: Vec<Attempt>,
    /// Forensics, when exit 4 survived the retries.
    pub forensics: Option<Forensics>,
}

/// Runs the command as described in the module docs. Errors only when the
/// command cannot be started at all.
pub fn run(opts: &RunOptions) -> std::io::Result<RunOutcome> {
    let child_pid = Arc::new(AtomicI32::new(0));
    let _forwarder = forward_signals(Arc::clone(&child_pid));
    let cwd = std::env::current_dir()?;
    let mut attempts = Vec::new();
    let total = opts.retry_delays.len() + 1;
    let status = loop {
        let number = attempts.len() as u32 + 1;
        let (status, missing) = run_once(&opts.command, &child_pid)?;
        let existed_after = missing.iter().map(|m| exists(&cwd, m)).collect();
        attempts.push(Attempt {
            number,
            exit_code: status.code(),
            missing: missing.clone(),
            existed_after,
        });
        let retry = status.code() == Some(4) && !missing.is_empty() && attempts.len() < total;
        if !retry {
            break status;
        }
        let delay = opts.retry_delays[attempts.len() - 1];
        eprintln!(
            "[tox-triage] exit 4, file or directory not found: {}; retrying in {:.1} s (attempt {} of {total})",
            crate::outputs::escape::terminal(&missing.join(", "), 1_000),
            delay.as_secs_f64(),
            number + 1
        );
        std::thread::sleep(delay);
    };
    if attempts.len() > 1 && status.code() != Some(4) {
        eprintln!(
            "[tox-triage] after {} exit-4 attempt(s) the command ran (exit {}): the missing path came back",
            attempts.len() - 1,
            status
                .code()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "by signal".to_owned())
        );
    }
    let missing: Vec<String> = attempts
        .last()
        .map(|a| a.missing.clone())
        .unwrap_or_default();
    let forensics = (status.code() == Some(4) && !missing.is_empty()).then(|| {
        let req = Request {
            taken: "at-failure",
            target: opts.target.clone(),
            command: opts
                .command
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            exit_code: status.code(),
            attempts: attempts.clone(),
            missing,
            cwd: cwd.clone(),
            workspace: opts.workspace.clone(),
            expected_head: opts.expected_head.clone(),
            base: opts.base.clone(),
            budget: opts.forensics_budget,
        };
        let f = collect_bounded(req, opts.forensics_budget);
        let files = opts
            .forensics_dir
            .as_ref()
            .map(|dir| write_files(dir, &f))
            .unwrap_or_default();
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(render::text_block(&f, &files).as_bytes());
        let _ = out.flush();
        f
    });
    Ok(RunOutcome {
        status,
        attempts,
        forensics,
    })
}

fn exists(cwd: &std::path::Path, printed: &str) -> bool {
    let file = printed.split("::").next().unwrap_or(printed);
    std::fs::symlink_metadata(cwd.join(file)).is_ok()
}

/// Collects forensics on a thread; past the budget (plus a grace period for
/// killing git) a block saying so is returned instead.
fn collect_bounded(req: Request, budget: Duration) -> Forensics {
    let (tx, rx) = mpsc::channel();
    let fallback = Forensics {
        taken: req.taken.to_owned(),
        timestamp: forensics::rfc3339(std::time::SystemTime::now()),
        target: req.target.clone(),
        command: req.command.clone(),
        exit_code: req.exit_code,
        attempts: req.attempts.clone(),
        cwd: req.cwd.display().to_string(),
        workspace: req.workspace.display().to_string(),
        ..Forensics::default()
    };
    std::thread::spawn(move || {
        let _ = tx.send(forensics::collect(&req));
    });
    match rx.recv_timeout(budget + Duration::from_secs(1)) {
        Ok(f) => f,
        Err(_) => Forensics {
            problems: vec![format!("forensics did not finish within {budget:?}")],
            ..fallback
        },
    }
}

/// Writes `forensics-<target or timestamp>.json` and `.md`; returns the paths
/// written, and a note for each failure.
pub fn write_files(dir: &std::path::Path, f: &Forensics) -> Vec<String> {
    let stem = match &f.target {
        Some(t) if is_plausible_env_name(t) => t.clone(),
        _ => f.timestamp.replace(':', "-"),
    };
    let mut written = Vec::new();
    if let Err(e) = std::fs::create_dir_all(dir) {
        written.push(format!(
            "(not written: cannot create {}: {e})",
            dir.display()
        ));
        return written;
    }
    let json = serde_json::to_string_pretty(f).unwrap_or_default();
    for (ext, text) in [("json", json), ("md", render::markdown(f))] {
        let path = dir.join(format!("forensics-{stem}.{ext}"));
        match std::fs::write(&path, text) {
            Ok(()) => written.push(path.display().to_string()),
            Err(e) => written.push(format!("(not written: {}: {e})", path.display())),
        }
    }
    written
}

/// Runs the command once: stdout inherited, stderr passed through and scanned.
fn run_once(
    command: &[OsString],
    child_pid: &AtomicI32,
) -> std::io::Result<(ExitStatus, Vec<String>)> {
    let (program, args) = command.split_first().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no command given after --",
        )
    })?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot run {}: {e}", program.to_string_lossy()),
            )
        })?;
    child_pid.store(child.id() as i32, Ordering::SeqCst);
    let stderr = child.stderr.take();
    let scanner = std::thread::spawn(move || pass_through_stderr(stderr));
    let status = child.wait();
    child_pid.store(0, Ordering::SeqCst);
    let missing = scanner.join().unwrap_or_default();
    Ok((status?, missing))
}

/// Copies the child's stderr to ours as it arrives, and collects the paths
/// pytest says are not found (bounded).
fn pass_through_stderr(pipe: Option<std::process::ChildStderr>) -> Vec<String> {
    let Some(mut pipe) = pipe else {
        return Vec::new();
    };
    let mut buf = [0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    let mut missing = Vec::new();
    let mut err = std::io::stderr();
    let scan = |line: &[u8], missing: &mut Vec<String>| {
        let text = String::from_utf8_lossy(line);
        if let Some(p) = missing_path(text.trim_end_matches('\r'))
            && missing.len() < 20
            && !missing.iter().any(|m| m == p)
        {
            missing.push(crate::model::truncate_str(p, 1_000));
        }
    };
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let _ = err.write_all(&buf[..n]);
        let _ = err.flush();
        for &b in &buf[..n] {
            if b == b'\n' {
                scan(&line, &mut missing);
                line.clear();
            } else if line.len() < 64 * 1024 {
                line.push(b);
            }
        }
    }
    if !line.is_empty() {
        scan(&line, &mut missing);
    }
    missing
}

/// Forwards signals to the running child, if any.
fn forward_signals(child_pid: Arc<AtomicI32>) -> Option<std::thread::JoinHandle<()>> {
    let mut signals = signal_hook::iterator::Signals::new(FORWARDED.map(|s| s as i32)).ok()?;
    Some(std::thread::spawn(move || {
        for sig in signals.forever() {
            let pid = child_pid.load(Ordering::SeqCst);
            if pid > 0
                && let Ok(s) = Signal::try_from(sig)
            {
                let _ = signal::kill(Pid::from_raw(pid), s);
            }
        }
    }))
}

/// Ends this process the way the child ended: its exit code, or its signal.
pub fn exit_like(status: ExitStatus) -> ! {
    if let Some(code) = status.code() {
        std::process::exit(code);
    }
    if let Some(sig) = status.signal() {
        let name = Signal::try_from(sig)
            .map(|s| s.as_str())
            .unwrap_or("unknown");
        eprintln!("[tox-triage] the command was killed by signal {sig} ({name})");
        let _ = std::io::stderr().flush();
        let _ = std::io::stdout().flush();
        if let Ok(s) = Signal::try_from(sig) {
            // Restore the default action so the signal ends this process as it ended the child.
            // SAFETY: setting a signal's disposition to SIG_DFL is async-signal-safe and affects
            // only this process, which is about to end.
            unsafe {
                let _ = signal::signal(s, signal::SigHandler::SigDfl);
            }
            let _ = signal::raise(s);
        }
        std::process::exit(128 + sig);
    }
    std::process::exit(1)
}
