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
            let paths = glob::glob(arg).map_err(|e| Error::Usage(format!("--junit {arg}: {e}")))?;
            let mut matched = false;
            for entry in paths {
                match entry {
                    Ok(p) => {
                        matched = true;
                        add_path(&p, true, &mut out, warnings)?;
                    }
                    Err(e) => warnings.push(Warning::in_file(
                        &e.path().display().to_string(),
                        None,
                        format!("cannot read while expanding {arg}: {}", e.error()),
                    )),
                }
            }
            if !matched {
                warnings.push(Warning {
                    file: None,
                    line: None,
                    position: None,
                    message: format!("--junit {arg}: the pattern matched no file"),
                });
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
