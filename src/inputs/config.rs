//! `.github/tox-triage.yml`: what a project knows about its own flakes.
//!
//! ```yaml
//! known-flaky:
//!   - test: "tests/integrations/redis/*::test_*"   # pytest node id, glob
//!     reason: "the redis service container is slow to start"
//!   - suite: aws_lambda                            # tox suite, glob
//!     python: "3.14t"                              # optional, glob
//!     reason: "Lambda emulator times out on free-threaded builds"
//! ```

use serde::Deserialize;

use crate::error::Error;

/// The whole config file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Tests and suites known to fail for reasons other than the code under test.
    #[serde(default, rename = "known-flaky")]
    pub known_flaky: Vec<KnownFlaky>,
}

/// One known-flaky entry: a test pattern, or a suite (and Python) pattern.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KnownFlaky {
    /// Glob on the pytest node id.
    pub test: Option<String>,
    /// Glob on the tox suite.
    pub suite: Option<String>,
    /// Glob on the Python factor (`3.14t`); only with `suite`.
    pub python: Option<String>,
    /// Why, in the maintainers' words; shown in the summary.
    pub reason: String,
}

impl Config {
    /// Parses the YAML text of `path`.
    pub fn parse(text: &str, path: &str) -> Result<Self, Error> {
        let config: Config = serde_yaml_ng::from_str(text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(":{}", l.line()))
                .unwrap_or_default();
            Error::Usage(format!("{path}{at}: {e}"))
        })?;
        for (i, k) in config.known_flaky.iter().enumerate() {
            if k.test.is_none() && k.suite.is_none() {
                return Err(Error::Usage(format!(
                    "{path}: known-flaky entry {}: give `test` or `suite`",
                    i + 1
                )));
            }
            for p in [&k.test, &k.suite, &k.python].into_iter().flatten() {
                glob::Pattern::new(p).map_err(|e| {
                    Error::Usage(format!(
                        "{path}: known-flaky entry {}: pattern {p:?}: {e}",
                        i + 1
                    ))
                })?;
            }
        }
        Ok(config)
    }

    /// The reason a failing test of a target is known to be flaky, if it is.
    pub fn test_reason(&self, test: &str) -> Option<&str> {
        self.known_flaky.iter().find_map(|k| {
            let pat = k.test.as_deref()?;
            glob_match(pat, test).then_some(k.reason.as_str())
        })
    }

    /// The reason a suite (on a Python) is known to be flaky, if it is.
    pub fn suite_reason(&self, suite: &str, python: Option<&str>) -> Option<&str> {
        self.known_flaky.iter().find_map(|k| {
            let pat = k.suite.as_deref()?;
            let python_ok = match (&k.python, python) {
                (None, _) => true,
                (Some(p), Some(py)) => glob_match(p, py),
                (Some(_), None) => false,
            };
            (python_ok && glob_match(pat, suite)).then_some(k.reason.as_str())
        })
    }
}

fn glob_match(pattern: &str, text: &str) -> bool {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: false,
        require_literal_leading_dot: false,
    };
    glob::Pattern::new(pattern).is_ok_and(|p| p.matches_with(text, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_flaky_tests_and_suites() {
        let c = Config::parse(
            "known-flaky:\n  - test: \"tests/redis/*::test_*\"\n    reason: slow container\n  - suite: aws_lambda\n    python: \"3.14*\"\n    reason: emulator\n",
            "tox-triage.yml",
        )
        .unwrap();
        assert_eq!(
            c.test_reason("tests/redis/test_r.py::test_get"),
            Some("slow container")
        );
        assert_eq!(c.test_reason("tests/other.py::test_get"), None);
        assert_eq!(
            c.suite_reason("aws_lambda", Some("3.14t")),
            Some("emulator")
        );
        assert_eq!(c.suite_reason("aws_lambda", Some("3.12")), None);
    }

    #[test]
    fn mistakes_name_the_file_and_line() {
        let e = Config::parse(
            "known-flaky:\n  - tests: x\n    reason: y\n",
            ".github/tox-triage.yml",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with(".github/tox-triage.yml:2"), "{e}");
        let e = Config::parse("known-flaky:\n  - reason: y\n", "c.yml").unwrap_err();
        assert!(e.to_string().contains("give `test` or `suite`"));
    }
}
