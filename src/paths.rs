//! Paths as the runner printed them, and where they are here.
//!
//! A log written on a GitHub-hosted runner names files under the runner's
//! checkout (`/home/runner/work/<repo>/<repo>/tests/x.py`, on self-hosted
//! runners `.../_work/<repo>/<repo>/...`, on Windows `D:\a\<repo>\<repo>\...`).
//! Inside the action's container the same checkout is `$GITHUB_WORKSPACE`
//! (`/github/workspace`). [`repo_relative`] recovers the repository-relative
//! part; [`Workspace::local`] maps it onto the checkout at hand.

use std::path::{Path, PathBuf};

/// The checkout tox-triage runs in (`$GITHUB_WORKSPACE`, else the current directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

impl Default for Workspace {
    /// The current directory.
    fn default() -> Self {
        Self::new(".")
    }
}

impl Workspace {
    /// A workspace rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `$GITHUB_WORKSPACE` when set, else the current directory.
    pub fn from_env() -> Self {
        match std::env::var_os("GITHUB_WORKSPACE").filter(|v| !v.is_empty()) {
            Some(w) => Self::new(w),
            None => Self::new(std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a path from a log or an input is on this machine: a runner path is
    /// re-rooted at the workspace when it does not exist as written; a relative
    /// path is left relative (to the current directory, the workspace in the action).
    pub fn local(&self, path: &str) -> PathBuf {
        let as_written = Path::new(path);
        if as_written.is_relative() {
            return as_written.to_path_buf();
        }
        let Some(rel) = repo_relative(path) else {
            return as_written.to_path_buf();
        };
        // The checkout here wins; a runner path that exists as written (a
        // self-hosted runner, this very machine) is kept only when the
        // workspace has no such file.
        let mapped = self.root.join(rel);
        if mapped.exists() || !as_written.exists() {
            mapped
        } else {
            as_written.to_path_buf()
        }
    }

    /// A path relative to the repository root, for annotations (`file=`):
    /// runner paths and paths under this workspace are made relative; other
    /// absolute paths (site-packages, /usr/lib) give `None`.
    pub fn relative(&self, path: &str) -> Option<String> {
        if let Some(rel) = repo_relative(path) {
            return (!rel.is_empty()).then(|| rel.replace('\\', "/"));
        }
        let p = Path::new(path);
        if p.is_relative() {
            let s = path.trim_start_matches("./");
            return (!s.starts_with("../") && !s.is_empty()).then(|| s.to_owned());
        }
        p.strip_prefix(&self.root)
            .ok()
            .map(|r| r.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
    }
}

/// The repository-relative part of a runner path: after `<work|_work>/<repo>/<repo>/`
/// (Linux, macOS, self-hosted) or `<drive>:\a\<repo>\<repo>\` (Windows).
pub fn repo_relative(path: &str) -> Option<&str> {
    let sep = if path.contains('\\') && !path.contains('/') {
        '\\'
    } else {
        '/'
    };
    let parts: Vec<(usize, &str)> = path
        .match_indices(sep)
        .map(|(i, _)| i)
        .zip(path.split(sep).skip(1))
        .collect();
    // parts[k] = (offset of the separator before segment k+1, segment k+1)
    for (k, w) in parts.windows(3).enumerate() {
        let (_, marker) = w[0];
        let (_, a) = w[1];
        let (b_at, b) = w[2];
        let is_marker = matches!(marker, "work" | "_work") || (sep == '\\' && marker == "a");
        if is_marker && !a.is_empty() && a == b {
            // Everything after `<repo>/<repo>`: empty for the checkout's root itself.
            let rest = match parts.get(k + 3) {
                Some((rest_at, _)) => &path[rest_at + 1..],
                None => &path[b_at + 1 + b.len()..],
            };
            if !rest.split(sep).any(|s| s == "..") {
                return Some(rest);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_paths_are_recognised() {
        assert_eq!(
            repo_relative("/home/runner/work/sentry-python/sentry-python/tests/test_x.py"),
            Some("tests/test_x.py")
        );
        assert_eq!(
            repo_relative("/opt/actions-runner/_work/toxproject/toxproject/tox.ini"),
            Some("tox.ini")
        );
        assert_eq!(
            repo_relative("/Users/runner/work/r/r/a/b.py"),
            Some("a/b.py")
        );
        assert_eq!(repo_relative(r"D:\a\r\r\tests\t.py"), Some(r"tests\t.py"));
        assert_eq!(repo_relative("/home/runner/work/a/b/tests/x.py"), None);
        assert_eq!(repo_relative("/home/runner/work/r/r"), Some(""));
        assert_eq!(repo_relative("/home/runner/work/r/r/"), Some(""));
        assert_eq!(repo_relative("/usr/lib/python3.12/socket.py"), None);
        assert_eq!(
            repo_relative("/home/runner/work/r/r/../../etc/passwd"),
            None
        );
    }

    #[test]
    fn runner_paths_map_onto_the_workspace() {
        let ws = Workspace::new("/github/workspace");
        assert_eq!(
            ws.local("/home/runner/work/toxproject/toxproject/junit/a.xml"),
            PathBuf::from("/github/workspace/junit/a.xml")
        );
        assert_eq!(ws.local("junit/a.xml"), PathBuf::from("junit/a.xml"));
        assert_eq!(
            ws.relative("/github/workspace/tests/t.py").as_deref(),
            Some("tests/t.py")
        );
        assert_eq!(
            ws.relative("/home/runner/work/r/r/tests/t.py").as_deref(),
            Some("tests/t.py")
        );
        assert_eq!(ws.relative("tests/t.py").as_deref(), Some("tests/t.py"));
        assert_eq!(ws.relative("/usr/lib/python3.12/socket.py"), None);
        assert_eq!(ws.relative("../outside.py"), None);
    }
}
