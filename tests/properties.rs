//! Property tests: rendering then parsing gives back what was rendered, for
//! target names and for envlists with tox's brace expansion.

use proptest::prelude::*;
use tox_triage::inputs::toxini::expand_envlist;
use tox_triage::model::TargetName;

fn python() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (3u32..4, 6u32..15, any::<bool>()).prop_map(|(ma, mi, t)| {
            let t = if t { "t" } else { "" };
            (format!("py{ma}.{mi}{t}"), format!("{ma}.{mi}{t}"))
        }),
        (3u32..4, 8u32..12)
            .prop_map(|(ma, mi)| (format!("pypy{ma}.{mi}"), format!("pypy{ma}.{mi}"))),
    ]
}

/// Suites as toxgen names them: words joined by `_` or `-`, no word that looks like a version.
fn suite() -> impl Strategy<Value = String> {
    proptest::collection::vec("[a-uw-z][a-z0-9_]{0,8}", 1..4)
        .prop_map(|words| words.join("-"))
        .prop_filter("not the -latest marker", |s| {
            !s.ends_with("-latest") && s != "latest"
        })
}

fn version() -> impl Strategy<Value = String> {
    (
        0u32..30,
        0u32..200,
        proptest::option::of(0u32..50),
        proptest::option::of(("(a|b|rc)", 0u32..5)),
    )
        .prop_map(|(a, b, c, pre)| {
            let mut v = format!("{a}.{b}");
            if let Some(c) = c {
                v.push_str(&format!(".{c}"));
            }
            if let Some((kind, n)) = pre {
                v.push_str(&format!("{kind}{n}"));
            }
            v
        })
}

proptest! {
    #[test]
    fn target_names_round_trip((py, py_parsed) in python(), suite in suite(), version in proptest::option::of(version())) {
        let name = match &version {
            Some(v) => format!("{py}-{suite}-v{v}"),
            None => format!("{py}-{suite}"),
        };
        let t = TargetName::parse(&name);
        prop_assert_eq!(t.as_str(), name.as_str());
        let p = t.parts().expect("a conventional name has parts");
        prop_assert_eq!(p.python, py_parsed.as_str());
        prop_assert_eq!(p.suite, suite.as_str());
        prop_assert_eq!(p.version.map(|v| v.as_str().to_owned()), version);
    }

    #[test]
    fn latest_names_round_trip((py, _) in python(), suite in suite()) {
        let t = TargetName::parse(&format!("{py}-{suite}-latest"));
        let p = t.parts().unwrap();
        prop_assert!(p.latest);
        prop_assert_eq!(p.suite, suite.as_str());
    }

    #[test]
    fn envlists_round_trip(
        groups in proptest::collection::vec(
            (proptest::collection::btree_set(python().prop_map(|p| p.0), 1..4), suite(), proptest::collection::btree_set(version(), 1..4)),
            1..5,
        ),
        newline in any::<bool>(),
    ) {
        let mut rendered = Vec::new();
        let mut want = Vec::new();
        for (pys, suite, versions) in &groups {
            let pys: Vec<&String> = pys.iter().collect();
            let versions: Vec<&String> = versions.iter().collect();
            rendered.push(format!(
                "{{{}}}-{suite}-v{{{}}}",
                pys.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","),
                versions.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
            ));
            for p in &pys {
                for v in &versions {
                    let n = format!("{p}-{suite}-v{v}");
                    if !want.contains(&n) {
                        want.push(n);
                    }
                }
            }
        }
        let sep = if newline { "\n    # a comment line is not an entry\n" } else { ", " };
        let text = rendered.join(sep);
        let text = text.replace("    # a comment line is not an entry\n", "");
        prop_assert_eq!(expand_envlist(&text).unwrap(), want);
    }
}
