//! tox.ini reading: the `[tox]` envlist with tox's brace expansion
//! (`{py3.8,py3.12}-django-v{4.2.20,5.2.1}`, nested groups), multi-line
//! values and comments.

use std::io::{BufRead, BufReader, Read};

use crate::error::Error;

/// Most names one envlist entry may expand to (a guard against `{a,b}` x 40).
const MAX_EXPANSION: usize = 100_000;

/// One `key = value` setting of an ini section, with continuation lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Section name without brackets (`tox`, `testenv`, `testenv:lint`).
    pub section: String,
    /// Key.
    pub key: String,
    /// Value: the first line's remainder and every continuation line, comments removed.
    pub value: String,
    /// 1-based line of the key.
    pub line: u64,
}

/// Reads every setting of an ini file, in order.
pub fn read_settings<R: Read>(input: R, path: &str) -> Result<Vec<Setting>, Error> {
    let mut out: Vec<Setting> = Vec::new();
    let mut section = String::new();
    let mut reader = BufReader::new(input);
    let mut raw = Vec::new();
    let mut line_no = 0u64;
    loop {
        raw.clear();
        let n = reader.read_until(b'\n', &mut raw).map_err(|e| Error::Io {
            path: path.to_owned(),
            source: e,
        })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let text = String::from_utf8_lossy(&raw);
        let text = text.trim_end_matches(['\n', '\r']);
        let trimmed = text.trim_start();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let continuation = text.starts_with([' ', '\t']);
        if continuation {
            if let Some(last) = out.last_mut().filter(|s| s.section == section) {
                let v = strip_inline_comment(trimmed).trim_end();
                if !v.is_empty() {
                    if !last.value.is_empty() {
                        last.value.push('\n');
                    }
                    last.value.push_str(v);
                }
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        if let Some(name) = trimmed
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map(|(n, _)| n)
        {
            section = name.trim().to_owned();
            continue;
        }
        if let Some((key, value)) = trimmed.split_once('=') {
            out.push(Setting {
                section: section.clone(),
                key: key.trim().to_owned(),
                value: strip_inline_comment(value).trim().to_owned(),
                line: line_no,
            });
        }
    }
    Ok(out)
}

/// tox treats ` #` (whitespace then `#`) as the start of a comment.
fn strip_inline_comment(s: &str) -> &str {
    let bytes = s.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &s[..i];
        }
    }
    s
}

/// The expanded envlist of a tox.ini, in order, without duplicates.
pub fn envlist<R: Read>(input: R, path: &str) -> Result<Vec<String>, Error> {
    let settings = read_settings(input, path)?;
    let Some(s) = settings.iter().find(|s| {
        matches!(s.section.as_str(), "tox" | "tox:tox")
            && matches!(s.key.as_str(), "envlist" | "env_list")
    }) else {
        return Ok(Vec::new());
    };
    expand_envlist(&s.value).map_err(|e| Error::Usage(format!("{path}:{}: envlist: {e}", s.line)))
}

/// Expands an envlist value: entries split on commas and newlines outside braces.
pub fn expand_envlist(value: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in split_top_level(value, &[',', '\n']) {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        for name in expand(entry)? {
            let name = name.trim().to_owned();
            if !name.is_empty() && seen.insert(name.clone()) {
                out.push(name);
            }
        }
    }
    Ok(out)
}

/// Splits on any of `seps` at brace depth 0.
fn split_top_level<'a>(s: &'a str, seps: &[char]) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            c if depth == 0 && seps.contains(&c) => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Brace expansion: `a{b,c}d{e,f}` → `abde, abdf, acde, acdf`; groups nest.
pub fn expand(s: &str) -> Result<Vec<String>, String> {
    let mut results = vec![String::new()];
    let mut rest = s;
    while !rest.is_empty() {
        let Some(open) = rest.find('{') else {
            for r in &mut results {
                r.push_str(rest);
            }
            break;
        };
        for r in &mut results {
            r.push_str(&rest[..open]);
        }
        let close =
            matching_brace(rest, open).ok_or_else(|| format!("unbalanced '{{' in {s:?}"))?;
        let inner = &rest[open + 1..close];
        let mut alternatives = Vec::new();
        for alt in split_top_level(inner, &[',']) {
            alternatives.extend(expand(alt.trim())?);
        }
        if results.len().saturating_mul(alternatives.len()) > MAX_EXPANSION {
            return Err(format!("{s:?} expands to more than {MAX_EXPANSION} names"));
        }
        results = results
            .iter()
            .flat_map(|r| alternatives.iter().map(move |a| format!("{r}{a}")))
            .collect();
        rest = &rest[close + 1..];
    }
    if s.contains('}') && !s.contains('{') {
        return Err(format!("unbalanced '}}' in {s:?}"));
    }
    Ok(results)
}

fn matching_brace(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brace_expansion() {
        assert_eq!(
            expand("{py3.8,py3.12}-django-v{4.2.20,5.2.1}").unwrap(),
            vec![
                "py3.8-django-v4.2.20",
                "py3.8-django-v5.2.1",
                "py3.12-django-v4.2.20",
                "py3.12-django-v5.2.1"
            ]
        );
        assert_eq!(
            expand("py3.{8,{9,10}}-x").unwrap(),
            vec!["py3.8-x", "py3.9-x", "py3.10-x"]
        );
        assert!(expand("{a,b").is_err());
    }

    #[test]
    fn envlist_with_comments_and_lines() {
        let ini = "[tox]\nrequires =\n    tox-uv\nenvlist =\n    # === Common ===\n    {py3.6,py3.7}-common\n\n    py3.12-gevent, lint  # inline\n[testenv]\ndeps = x\n";
        assert_eq!(
            envlist(ini.as_bytes(), "tox.ini").unwrap(),
            vec!["py3.6-common", "py3.7-common", "py3.12-gevent", "lint"]
        );
    }

    #[test]
    fn settings_keep_sections() {
        let ini = "[testenv]\ndeps =\n    a: x==1\n    {b,c}: y\ncommands = pytest {posargs}\n";
        let s = read_settings(ini.as_bytes(), "tox.ini").unwrap();
        assert_eq!(s[0].value, "a: x==1\n{b,c}: y");
        assert_eq!(s[1].key, "commands");
        assert_eq!(s[1].line, 5);
    }
}
