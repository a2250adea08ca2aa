//! Turns `--junit` arguments (files, directories, globs) into a sorted list of
//! files, without following symbolic links out of directories.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::model::Warning;

/// How deep a directory search goes.
const MAX_DEPTH: usize = 32;

/// Whether a file found inside a directory is a JUnit candidate: `*.xml` or `.junitxml-*`.
pub fn is_junit_file_name(name: &str) -> bool {
    name.ends_with(".xml") || name.starts_with(".junitxml-")
}

/// Expands JUnit arguments. A named path that does not exist is an error;
/// a glob that matches nothing is a warning.
pub fn junit_files(args: &[String], warnings: &mut Vec<Warning>) -> Result<Vec<PathBuf>, Error> {
    let mut out = BTreeSet::new();
    for arg in args {
        if arg.contains(['*', '?', '[']) {
            let matches = glob_paths(arg, warnings)
                .map_err(|e| Error::Usage(format!("--junit {arg}: {e}")))?;
            let matched = !matches.is_empty();
            for p in matches {
                add_path(&p, true, &mut out, warnings)?;
            }
            if !matched {
                warnings.push(Warning::general(format!(
                    "--junit {arg}: the pattern matched no file"
                )));
            }
        } else {
            let p = Path::new(arg);
            if fs::symlink_metadata(p).is_err() {
                return Err(Error::Io {
                    path: arg.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such file or directory",
                    ),
                });
            }
            add_path(p, false, &mut out, warnings)?;
        }
    }
    Ok(out.into_iter().collect())
}

/// Expands a glob without following symbolic links (a link is neither
/// searched nor matched) and without `..`-escapes from its literal directory;
/// directories are walked one at a time, so no file handle is held for long.
pub fn glob_paths(
    pattern: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<PathBuf>, glob::PatternError> {
    let pat = glob::Pattern::new(pattern)?;
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let base = glob_base(pattern);
    // Without `**`, a match is at most as deep as the pattern.
    let max_depth = if pattern.contains("**") {
        MAX_DEPTH
    } else {
        Path::new(pattern)
            .components()
            .count()
            .saturating_sub(base.components().count())
    };
    let mut out = Vec::new();
    let mut stack = vec![(base, 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        if depth >= max_depth {
            continue;
        }
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                if depth == 0 && dir.exists() {
                    warnings.push(Warning::in_file(
                        &dir.display().to_string(),
                        None,
                        format!("cannot list directory: {e}"),
                    ));
                }
                continue;
            }
        };
        let mut subdirs = Vec::new();
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            let path = entry.path();
            if ft.is_symlink() {
                if pat.matches_path_with(&path, options) {
                    warnings.push(Warning::in_file(
                        &path.display().to_string(),
                        None,
                        "not read: a symbolic link (links are not followed)",
                    ));
                }
                continue;
            }
            if pat.matches_path_with(&path, options) {
                out.push(path.clone());
            }
            if ft.is_dir() {
                subdirs.push(path);
            }
        }
        for d in subdirs {
            stack.push((d, depth + 1));
        }
    }
    out.sort();
    Ok(out)
}

/// The directory part of a glob before its first wildcard (`junit/a` for `junit/a/*/x.xml`).
fn glob_base(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    for comp in Path::new(pattern).components() {
        if comp.as_os_str().to_string_lossy().contains(['*', '?', '[']) {
            break;
        }
        base.push(comp.as_os_str());
    }
    if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    }
}

fn add_path(
    p: &Path,
    from_glob: bool,
    out: &mut BTreeSet<PathBuf>,
    warnings: &mut Vec<Warning>,
) -> Result<(), Error> {
    let meta = fs::metadata(p).map_err(|e| Error::Io {
        path: p.display().to_string(),
        source: e,
    })?;
    if meta.is_dir() {
        walk(p, 0, out, warnings);
    } else if !from_glob || meta.is_file() {
        out.insert(p.to_path_buf());
    }
    Ok(())
}

fn walk(dir: &Path, depth: usize, out: &mut BTreeSet<PathBuf>, warnings: &mut Vec<Warning>) {
    if depth > MAX_DEPTH {
        warnings.push(Warning::in_file(
            &dir.display().to_string(),
            None,
            format!("not searched: deeper than {MAX_DEPTH} directories"),
        ));
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            warnings.push(Warning::in_file(
                &dir.display().to_string(),
                None,
                format!("cannot list directory: {e}"),
            ));
            return;
        }
    };
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        // `file_type` does not follow symlinks: a link is neither searched nor read.
        let Ok(ft) = entry.file_type() else { continue };
        let path = entry.path();
        if ft.is_dir() {
            subdirs.push(path);
        } else if ft.is_file() && is_junit_file_name(&entry.file_name().to_string_lossy()) {
            out.insert(path);
        }
    }
    // The directory handle is closed before descending: open handles stay at one.
    subdirs.sort();
    for sub in subdirs {
        walk(&sub, depth + 1, out, warnings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_globs_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("a/.junitxml-py3.12-x"), "x").unwrap();
        fs::write(root.join("a/b/report.xml"), "x").unwrap();
        fs::write(root.join("a/b/notes.txt"), "x").unwrap();
        fs::write(root.join("top.xml"), "x").unwrap();
        let mut w = Vec::new();
        let files = junit_files(&[root.join("a").display().to_string()], &mut w).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![".junitxml-py3.12-x", "report.xml"]);

        let files = junit_files(&[format!("{}/*.xml", root.display())], &mut w).unwrap();
        assert_eq!(files.len(), 1);
        assert!(w.is_empty());

        let files = junit_files(&[format!("{}/none-*.xml", root.display())], &mut w).unwrap();
        assert!(files.is_empty());
        assert_eq!(w.len(), 1);

        let err =
            junit_files(&[root.join("missing.xml").display().to_string()], &mut w).unwrap_err();
        assert!(err.to_string().contains("missing.xml"));
    }

    #[cfg(unix)]
    #[test]
    fn globs_do_not_follow_symlinks_out_of_their_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("ws/junit")).unwrap();
        fs::create_dir_all(root.join("secret")).unwrap();
        fs::write(root.join("secret/creds.xml"), "x").unwrap();
        fs::write(root.join("ws/junit/a.xml"), "x").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), root.join("ws/junit/evil")).unwrap();
        std::os::unix::fs::symlink(
            root.join("secret/creds.xml"),
            root.join("ws/junit/link.xml"),
        )
        .unwrap();
        std::os::unix::fs::symlink(root.join("ws/junit"), root.join("ws/junit/loop")).unwrap();
        let mut w = Vec::new();
        let files =
            junit_files(&[format!("{}/ws/junit/**/*.xml", root.display())], &mut w).unwrap();
        assert_eq!(files, vec![root.join("ws/junit/a.xml")]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("symbolic link"), "{w:?}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_inside_directories_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("d")).unwrap();
        fs::write(root.join("outside.xml"), "x").unwrap();
        std::os::unix::fs::symlink(root.join("outside.xml"), root.join("d/link.xml")).unwrap();
        std::os::unix::fs::symlink(root.join("d"), root.join("d/loop")).unwrap();
        let mut w = Vec::new();
        let files = junit_files(&[root.join("d").display().to_string()], &mut w).unwrap();
        assert!(files.is_empty(), "{files:?}");
    }
}
