//! tox.ini reading: the `[tox]` envlist with tox's brace expansion
//! (`{py3.8,py3.12}-django-v{4.2.20,5.2.1}`, nested groups), multi-line
//! values and comments, and `[testenv]` deps with factor conditions
//! (`{py3.8,py3.9}-redis-v5.3.1: redis==5.3.1`, `redis-latest: redis`,
//! `!py38: x`), so that each suite+version maps to its package and pin.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use crate::error::Error;
use crate::model::TargetName;

/// Most alternatives one deps condition may expand to.
const MAX_CONDITION_ALTERNATIVES: usize = 1_024;
/// Most condition alternatives kept over a whole tox.ini.
const MAX_DEP_ALTERNATIVES: usize = 500_000;

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
    Ok(ToxIni::parse(input, path)?.envlist)
}

/// One `deps` line: under which factor conditions which requirement applies.
#[derive(Debug, Clone)]
struct DepLine {
    /// Alternatives (any may match); each a list of factors that must all be
    /// present (`true`) or absent (`false`, written `!f`). Empty: unconditional.
    alternatives: Vec<Vec<(bool, String)>>,
    /// Normalised package name (PEP 503).
    name: String,
    /// The name as written.
    written_name: String,
    /// The `==` version, when pinned.
    pin: Option<String>,
    /// Some alternative names the factor `latest`.
    mentions_latest: bool,
}

/// What tox-triage needs from a tox.ini: the envlist and the deps.
#[derive(Debug, Clone, Default)]
pub struct ToxIni {
    /// Expanded envlist, in order.
    pub envlist: Vec<String>,
    deps: Vec<DepLine>,
    /// Indices into `deps` by the version factor (`v5.3.1`) every alternative of a line requires.
    by_version: HashMap<String, Vec<usize>>,
    /// Indices of the other lines.
    unversioned: Vec<usize>,
}

impl ToxIni {
    /// Reads a tox.ini.
    pub fn parse<R: Read>(input: R, path: &str) -> Result<Self, Error> {
        let settings = read_settings(input, path)?;
        let mut ini = ToxIni::default();
        let mut alternatives = 0usize;
        if let Some(s) = settings.iter().find(|s| {
            matches!(s.section.as_str(), "tox" | "tox:tox")
                && matches!(s.key.as_str(), "envlist" | "env_list")
        }) {
            ini.envlist = expand_envlist(&s.value)
                .map_err(|e| Error::Usage(format!("{path}:{}: envlist: {e}", s.line)))?;
        }
        for s in settings
            .iter()
            .filter(|s| s.section == "testenv" && s.key == "deps")
        {
            for dep in s.value.lines().filter_map(parse_dep_line) {
                alternatives += dep.alternatives.len().max(1);
                if alternatives > MAX_DEP_ALTERNATIVES {
                    return Err(Error::Usage(format!(
                        "{path}:{}: deps expand to more than {MAX_DEP_ALTERNATIVES} conditions",
                        s.line
                    )));
                }
                ini.deps.push(dep);
            }
        }
        for (i, d) in ini.deps.iter().enumerate() {
            let version_of = |alt: &Vec<(bool, String)>| {
                alt.iter()
                    .find(|(pos, f)| *pos && is_version_factor(f))
                    .map(|(_, f)| f.clone())
            };
            let versions: Option<Vec<String>> = if d.alternatives.is_empty() {
                None
            } else {
                d.alternatives.iter().map(version_of).collect()
            };
            match versions {
                Some(vs) => {
                    for v in vs {
                        let slot = ini.by_version.entry(v).or_default();
                        if slot.last() != Some(&i) {
                            slot.push(i);
                        }
                    }
                }
                None => ini.unversioned.push(i),
            }
        }
        Ok(ini)
    }

    /// The package a target's suite+version pins, and the pinned version.
    ///
    /// The line whose condition matches the env and whose requirement pins the
    /// target's version (`redis-v5.3.1: redis==5.3.1`); for `-latest` targets the
    /// unpinned requirement under a `latest` condition; else a requirement named
    /// like the suite.
    pub fn package_for(&self, target: &TargetName) -> Option<(String, Option<String>)> {
        let parts = target.parts()?;
        let factors: Vec<&str> = target.as_str().split('-').collect();
        let version_factor = parts.version.map(|v| format!("v{}", v.as_str()));
        let candidates = version_factor
            .as_ref()
            .and_then(|v| self.by_version.get(v))
            .into_iter()
            .flatten()
            .chain(self.unversioned.iter())
            .map(|&i| &self.deps[i])
            .filter(|d| !d.alternatives.is_empty() && d.matches(&factors));
        let suite = normalize(parts.suite);
        let mut by_name = None;
        let mut latest = None;
        for d in candidates {
            if let (Some(v), Some(pin)) = (parts.version, &d.pin)
                && same_version(v.as_str(), pin)
            {
                return Some((d.written_name.clone(), Some(pin.clone())));
            }
            if parts.latest && d.mentions_latest && d.pin.is_none() && latest.is_none() {
                latest = Some((d.written_name.clone(), None));
            }
            if d.name == suite && by_name.is_none() {
                by_name = Some((d.written_name.clone(), d.pin.clone()));
            }
        }
        latest.or(by_name)
    }
}

impl DepLine {
    fn matches(&self, env_factors: &[&str]) -> bool {
        self.alternatives.iter().any(|alt| {
            alt.iter()
                .all(|(positive, f)| env_factors.contains(&f.as_str()) == *positive)
        })
    }
}

/// `v5.3.1`, `v0.14`, `v4.0.0b2`.
fn is_version_factor(f: &str) -> bool {
    f.strip_prefix('v')
        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
}

/// PEP 503 name normalisation (`Foo_Bar.baz` → `foo-bar-baz`).
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !dash {
                out.push('-');
            }
            dash = true;
        } else {
            out.push(c.to_ascii_lowercase());
            dash = false;
        }
    }
    out
}

fn same_version(a: &str, b: &str) -> bool {
    use std::str::FromStr;
    match (
        pep440_rs::Version::from_str(a),
        pep440_rs::Version::from_str(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// `cond: requirement` or a bare requirement.
fn parse_dep_line(line: &str) -> Option<DepLine> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('-') {
        return None;
    }
    let (cond, req) = match line.split_once(": ") {
        Some((c, r)) if !c.contains(' ') && !c.contains("://") => (Some(c), r.trim()),
        _ => (None, line),
    };
    let alternatives = match cond {
        Some(c) => expand_limited(c, MAX_CONDITION_ALTERNATIVES, 0)
            .ok()?
            .into_iter()
            .map(|alt| {
                alt.split('-')
                    .filter(|f| !f.is_empty())
                    .map(|f| match f.strip_prefix('!') {
                        Some(neg) => (false, neg.to_owned()),
                        None => (true, f.to_owned()),
                    })
                    .collect()
            })
            .collect(),
        None => Vec::new(),
    };
    let req = req.split(';').next().unwrap_or(req).trim();
    let name_end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let written_name = &req[..name_end];
    if written_name.is_empty() {
        return None;
    }
    let pin = req[name_end..]
        .split_once("==")
        .map(|(_, v)| {
            v.split([',', ' ', ';'])
                .next()
                .unwrap_or(v)
                .trim()
                .to_owned()
        })
        .filter(|v| !v.is_empty() && !v.contains('*'));
    let mentions_latest =
        cond.is_some_and(|c| c.split(['-', '{', '}', ',']).any(|f| f == "latest"));
    Some(DepLine {
        alternatives,
        name: normalize(written_name),
        written_name: written_name.to_owned(),
        pin,
        mentions_latest,
    })
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
        if out.len() > MAX_EXPANSION {
            return Err(format!(
                "the envlist expands to more than {MAX_EXPANSION} names"
            ));
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
    expand_limited(s, MAX_EXPANSION, 0)
}

/// Most nested brace groups.
const MAX_DEPTH: usize = 32;
/// Most bytes one expansion may produce.
const MAX_EXPANSION_BYTES: usize = 16 << 20;

fn expand_limited(s: &str, max_names: usize, depth: usize) -> Result<Vec<String>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("braces nested more than {MAX_DEPTH} deep"));
    }
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
            alternatives.extend(expand_limited(alt.trim(), max_names, depth + 1)?);
            if alternatives.len() > max_names {
                return Err(format!("an entry expands to more than {max_names} names"));
            }
        }
        let count = results.len().saturating_mul(alternatives.len());
        let longest = |v: &[String]| v.iter().map(String::len).max().unwrap_or(0);
        let bytes = count.saturating_mul(longest(&results) + longest(&alternatives));
        if count > max_names || bytes > MAX_EXPANSION_BYTES {
            return Err(format!(
                "an entry expands to more than {max_names} names or {MAX_EXPANSION_BYTES} bytes"
            ));
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
        // 2^20 names, or nesting deeper than 32: refused, not expanded.
        assert!(expand(&"{a,b}".repeat(20)).is_err());
        assert!(expand(&format!("{}x{}", "{".repeat(40), "}".repeat(40))).is_err());
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
    fn deps_map_suite_versions_to_packages() {
        let ini = "[tox]\nenvlist = {py3.8,py3.9}-redis-v{5.3.1,6.4.0}\n[testenv]\ndeps =\n    pytest\n    {py3.8,py3.9}-redis-v5.3.1: redis==5.3.1\n    redis-v6.4.0: redis==6.4.0\n    redis-latest: redis\n    py3.8-redis: fakeredis<2\n    openai-base-v2.32.0: openai==2.32.0\n    openai_agents-v0.14.2: openai-agents==0.14.2\n    !py3.8-gevent: gevent>=22\n";
        let t = ToxIni::parse(ini.as_bytes(), "tox.ini").unwrap();
        let pkg = |n: &str| t.package_for(&TargetName::parse(n));
        assert_eq!(
            pkg("py3.9-redis-v5.3.1"),
            Some(("redis".into(), Some("5.3.1".into())))
        );
        assert_eq!(
            pkg("py3.12-redis-v6.4.0"),
            Some(("redis".into(), Some("6.4.0".into())))
        );
        assert_eq!(pkg("py3.12-redis-latest"), Some(("redis".into(), None)));
        assert_eq!(
            pkg("py3.9-openai-base-v2.32.0"),
            Some(("openai".into(), Some("2.32.0".into())))
        );
        assert_eq!(
            pkg("py3.13-openai_agents-v0.14.2"),
            Some(("openai-agents".into(), Some("0.14.2".into())))
        );
        assert_eq!(pkg("py3.9-gevent"), Some(("gevent".into(), None)));
        assert_eq!(pkg("py3.8-gevent"), None, "negated factor");
        assert_eq!(pkg("lint"), None);
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
