//! The `analyze` job: open every input, feed the aggregation, return the report.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::analysis::aggregate::Aggregator;
use crate::error::{Error, Result};
use crate::inputs::{discover, toxini};
use crate::model::{Report, Warning};
use crate::paths::Workspace;

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeInput {
    /// tox logs; `-` is stdin.
    pub logs: Vec<String>,
    /// JUnit arguments: files, directories, globs.
    pub junit: Vec<String>,
    /// JUnit files with an assigned target: `(target, path)`.
    pub junit_for: Vec<(String, String)>,
    /// tox.ini for the envlist.
    pub tox_ini: Option<PathBuf>,
    /// Where runner paths (`/home/runner/work/<repo>/<repo>/...`) are found here.
    pub workspace: Workspace,
}

/// Parses `TARGET=PATH`.
pub fn parse_junit_for(arg: &str) -> Result<(String, String)> {
    match arg.split_once('=') {
        Some((t, p)) if !t.is_empty() && !p.is_empty() => Ok((t.to_owned(), p.to_owned())),
        _ => Err(Error::Usage(format!(
            "--junit-for {arg:?}: expected TARGET=PATH"
        ))),
    }
}

/// Runs the analysis. Fails only on unusable arguments or unreadable named inputs;
/// problems inside inputs become warnings in the report.
pub fn analyze(input: &AnalyzeInput) -> Result<Report> {
    let mut agg = Aggregator::new();
    let mut warnings = Vec::new();
    for log in expand_logs(&input.logs, &input.workspace, &mut warnings)? {
        let result = if log == "-" {
            agg.add_log("<stdin>", std::io::stdin().lock())
        } else {
            let file = open(Path::new(&log))?;
            agg.add_log(&log, file)
        };
        result.map_err(|e| Error::Io {
            path: log.clone(),
            source: e,
        })?;
    }
    let junit: Vec<String> = input
        .junit
        .iter()
        .map(|j| input.workspace.local(j).display().to_string())
        .collect();
    let files = discover::junit_files(&junit, &mut warnings)?;
    for w in warnings {
        agg.warn(w);
    }
    for path in &files {
        let display = path.display().to_string();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match File::open(path) {
            Ok(f) => agg.add_junit(&display, &file_name, None, f),
            Err(e) => agg.warn(crate::model::Warning::in_file(
                &display,
                None,
                format!("cannot read: {e}"),
            )),
        }
    }
    for (target, path) in &input.junit_for {
        let file = open(Path::new(path))?;
        let file_name = Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        agg.add_junit(path, &file_name, Some(target), file);
    }
    let envlist = match &input.tox_ini {
        Some(p) => Some(toxini::envlist(open(p)?, &p.display().to_string())?),
        None => None,
    };
    Ok(agg.finish(envlist.as_deref()))
}

/// Log arguments: `-`, files (runner paths mapped onto the workspace), and globs.
fn expand_logs(
    args: &[String],
    ws: &Workspace,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for arg in args {
        if arg == "-" {
            out.push(arg.clone());
        } else if arg.contains(['*', '?', '[']) {
            let pattern = ws.local(arg).display().to_string();
            let paths =
                glob::glob(&pattern).map_err(|e| Error::Usage(format!("--log {arg}: {e}")))?;
            let before = out.len();
            out.extend(
                paths
                    .flatten()
                    .filter(|p| p.is_file())
                    .map(|p| p.display().to_string()),
            );
            if out.len() == before {
                warnings.push(Warning {
                    file: None,
                    line: None,
                    position: None,
                    message: format!("--log {arg}: the pattern matched no file"),
                });
            }
        } else {
            out.push(ws.local(arg).display().to_string());
        }
    }
    Ok(out)
}

fn open(path: &Path) -> Result<File> {
    let meta = std::fs::metadata(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    if meta.is_dir() {
        return Err(Error::Io {
            path: path.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "is a directory, expected a file",
            ),
        });
    }
    File::open(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })
}
