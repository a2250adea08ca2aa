//! Regression or suspected flake: per failing target, with the signals a
//! person can check.
//!
//! First the facts, from the whole matrix and the tox.ini files: on which
//! Pythons the same suite+version failed and passed, whether the version was
//! newly added (in the head envlist, not the base one), the last version that
//! worked, the package and pin. Then the failure categories of each failing
//! test ([`categories`]). Then the rules, first match wins:
//!
//! 1. the same suite+version fails on two or more Pythons: consistent, so a
//!    **regression**, whatever the categories (a crash on every Python is a bug);
//! 2. a suite or test listed as known-flaky in `.github/tox-triage.yml`: **suspected flake**;
//! 3. a newly added version that fails: **regression**, unless every failure is
//!    network, timeout or resource;
//! 4. failed in one run and passed in another: flaky by observation, **suspected flake**;
//! 5. a version that is not new and fails on one Python while passing on
//!    another, or whose failures are all network, timeout, resource or
//!    worker crashes: **suspected flake**;
//! 6. otherwise **undetermined**.

use std::borrow::Cow;
use std::collections::BTreeSet;

use foldhash::HashMap;
use hashbrown::hash_table::{Entry, HashTable};
use std::hash::BuildHasher;
use std::sync::Arc;
use thin_vec::{ThinVec, thin_vec};

use crate::analysis::categories;
use crate::inputs::config::Config;
use crate::inputs::toxini::ToxIni;
use crate::model::{
    Category, Facts, Link, PackageVersion, Pin, Pythons, Report, Signal, Target, TargetName,
    TargetParts, TargetStatus, Verdict, python_order,
};

/// What the verdicts may use besides the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The tox.ini of the change under test.
    pub head: Option<&'a ToxIni>,
    /// The tox.ini of the base the change is compared with.
    pub base: Option<&'a ToxIni>,
    /// Known flakes.
    pub config: Option<&'a Config>,
}

/// A suite+version across Pythons, borrowed from a target name:
/// `("redis", "6.4.0")`, `("redis", "latest")`, `("common", "")`; an
/// unconventional name is its own key.
type Key<'a> = (&'a str, Cow<'a, str>);

fn key_of(name: &TargetName) -> Key<'_> {
    key_from(name.as_str(), name.parts())
}

/// [`key_of`] a name and its parts, worked out once.
fn key_from<'a>(name: &'a str, parts: Option<TargetParts<'a>>) -> Key<'a> {
    match parts {
        Some(p) => {
            let v = match (p.version, p.latest) {
                (Some(v), _) if v.is_normal() => Cow::Borrowed(v.as_str()),
                (Some(v), _) => Cow::Owned(v.version().to_string()),
                (None, true) => Cow::Borrowed("latest"),
                (None, false) => Cow::Borrowed(""),
            };
            (p.suite, v)
        }
        None => (name, Cow::Borrowed("")),
    }
}

fn parse_all(envlist: &[String]) -> Vec<TargetName> {
    envlist.iter().map(|n| TargetName::parse(n)).collect()
}

fn keys_of(names: &[TargetName]) -> foldhash::HashSet<Key<'_>> {
    names.iter().map(key_of).collect()
}

/// The suite+version pairs in `head`'s envlist and not in `base`'s: what a
/// toxgen pull request added (`("redis", "6.4.0")`, `("mcp", "latest")`).
pub fn added_suite_versions(head: &ToxIni, base: &ToxIni) -> BTreeSet<(String, String)> {
    let base = parse_all(&base.envlist);
    let base = keys_of(&base);
    parse_all(&head.envlist)
        .iter()
        .map(key_of)
        .filter(|k| !base.contains(k))
        .map(|(suite, version)| (suite.to_owned(), version.into_owned()))
        .collect()
}

/// Fills in categories, facts, verdicts, signals and links, on every core for
/// large reports, and puts the targets in the report's order
/// ([`Report::sort_targets`]).
pub fn apply(report: &mut Report, ctx: &Context<'_>) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    apply_on(report, ctx, threads);
}

/// [`apply`] on up to `threads` threads. Each target's verdict reads only its
/// own record and the facts gathered from all of them first, so the result
/// does not depend on `threads`.
pub fn apply_on(report: &mut Report, ctx: &Context<'_>, threads: usize) {
    each(
        &mut report.targets,
        threads,
        || (),
        |_, _, t| {
            classify_failures(t);
            // Only a target with findings has a kind of failure to set.
            if let Some(kind) = crate::analysis::exit::failure_kind(t) {
                t.findings_mut().failure_kind = Some(kind);
            } else if let Some(findings) = t.findings_if_any() {
                findings.failure_kind = None;
            }
        },
    );
    let (from, tables) = std::thread::scope(|scope| {
        let targets = &report.targets;
        // The report's order is worked out on another core meanwhile: the
        // tables are made on one.
        let order = || Report::order_of(targets.iter().map(|t| (t.status, t.name.as_str())));
        let sorting =
            (threads > 1 && targets.len() >= TARGETS_PER_THREAD).then(|| scope.spawn(order));
        let tables = Tables::new(targets, ctx, threads);
        let from = match sorting {
            Some(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            None => order(),
        };
        (from, tables)
    });
    fill(&mut report.targets, tables, ctx, threads);
    report.arrange(from);
}

/// What [`fill`] gives each target from all of them: owned, so that the
/// tables that borrow the targets' names are gone before the records are
/// written (the names stay in the records; no copy of them is made).
struct Tables {
    /// Per target, in the order of the targets: its key's number and its
    /// last working version.
    found: Vec<Found>,
    pythons: KeyPythons,
    /// Per key: whether it is newly added (`None` without a base).
    newly_added: Vec<Option<bool>>,
}

/// What the tables found for one target.
struct Found {
    key: u32,
    /// Shared by the targets a thread gives the same version (most targets
    /// have one, and the versions are few).
    last_working: Option<Arc<str>>,
}

impl Tables {
    /// Each distinct key once, by number: the targets keep the number, and
    /// the key's Pythons are listed once per key rather than once per target.
    fn new(targets: &[Target], ctx: &Context<'_>, threads: usize) -> Self {
        // Each key by its number and the first target that has it (whose
        // name gives the key again): 8 bytes a key, where the keys
        // themselves, borrowed, were 40.
        let hasher = foldhash::fast::RandomState::default();
        let key_at = |j: u32| key_of(&targets[j as usize].name);
        let mut ids: HashTable<(u32, u32)> = HashTable::with_capacity(targets.len());
        let mut ran: Vec<Run<'_>> = Vec::with_capacity(targets.len());
        let mut passed_versions: HashMap<&str, Versions<'_>> = HashMap::default();
        let mut found: Vec<Found> = Vec::with_capacity(targets.len());
        for (i, t) in (0u32..).zip(targets) {
            let parts = t.name.parts();
            let next = ids.len() as u32;
            let wanted = key_from(t.name.as_str(), parts);
            let key = match ids.entry(
                hasher.hash_one(&wanted),
                |&(_, j)| key_at(j) == wanted,
                |&(_, j)| hasher.hash_one(key_at(j)),
            ) {
                Entry::Occupied(e) => e.get().0,
                Entry::Vacant(e) => e.insert((next, i)).get().0,
            };
            let py = parts.map_or("?", |p| p.python);
            match t.status {
                TargetStatus::Fail => ran.push((key, false, py)),
                TargetStatus::Pass => ran.push((key, true, py)),
                _ => {}
            }
            if t.status == TargetStatus::Pass
                && let Some(p) = parts
                && let Some(v) = p.version
            {
                passed_versions.entry(p.suite).or_default().push(v);
            }
            found.push(Found {
                key,
                last_working: None,
            });
        }
        // Sorted once (fewer comparisons than an ordered set's inserts), each
        // version as written kept once however many Pythons it passed on.
        for versions in passed_versions.values_mut() {
            sort_versions(versions);
        }
        let pythons = KeyPythons::new(ran, ids.len());
        let head_names = ctx.head.map(|h| parse_all(&h.envlist));
        let base_names = ctx.base.map(|b| parse_all(&b.envlist));
        // Whether each key is newly added, looked up once per key: in the head
        // envlist (when given) and not in the base one. Without a base, unknown.
        let mut newly_added: Vec<Option<bool>> = vec![None; ids.len()];
        match base_names.as_deref().map(keys_of) {
            Some(base) => {
                let head = head_names.as_deref().map(keys_of);
                for (id, j) in ids {
                    let key = key_at(j);
                    let in_head = head.as_ref().is_none_or(|h| h.contains(&key));
                    newly_added[id as usize] = Some(in_head && !base.contains(&key));
                }
            }
            // The keys are done with before the versions are looked up.
            None => drop(ids),
        }
        let mut base_versions: HashMap<&str, Versions<'_>> = HashMap::default();
        for n in base_names.iter().flatten() {
            if let (Some(s), Some(v)) = (n.suite(), n.version()) {
                base_versions.entry(s).or_default().push(v);
            }
        }
        for versions in base_versions.values_mut() {
            sort_versions(versions);
        }
        let shared = HashMap::<&str, Arc<str>>::default;
        each(&mut found, threads, shared, |versions, i, f| {
            let name = &targets[i].name;
            if let (Some(suite), Some(v)) = (name.suite(), name.version()) {
                let passed = highest_below(passed_versions.get(suite), &v);
                let in_base = highest_below(base_versions.get(suite), &v);
                f.last_working = passed.into_iter().chain(in_base).max().map(|v| {
                    let v = v.as_str();
                    Arc::clone(versions.entry(v).or_insert_with(|| v.into()))
                });
            }
        });
        Self {
            found,
            pythons,
            newly_added,
        }
    }
}

/// The facts of every target, and the verdicts, signals and links of the
/// failing ones, from `tables` (whose last working versions move into the
/// records).
fn fill(targets: &mut [Target], tables: Tables, ctx: &Context<'_>, threads: usize) {
    let Tables {
        mut found,
        pythons,
        newly_added,
    } = tables;
    each_pair(targets, &mut found, threads, |t, f| {
        let [failed, passed] = pythons.of(f.key);
        let mut facts = Facts {
            newly_added: newly_added[f.key as usize],
            failed_on_pythons: failed.clone(),
            passed_on_pythons: passed.clone(),
            last_working_version: f.last_working.take(),
            ..Facts::default()
        };
        if let Some((package, pinned)) = ctx.head.and_then(|h| h.package_for(&t.name)) {
            facts.pin = Some(Box::new(Pin {
                package: package.into(),
                version: pinned.map(Into::into),
            }));
        }
        t.facts = facts;
        if t.status == TargetStatus::Fail {
            let (verdict, signals) = decide(t, &t.name, ctx.config);
            let links = release_links(&t.name, &t.facts, verdict);
            let findings = t.findings_mut();
            findings.links = links;
            findings.verdict = Some(verdict);
            findings.signals = signals;
        }
    });
}

/// A key that ran on a Python: the key's number, whether it passed there,
/// and the Python.
type Run<'a> = (u32, bool, &'a str);

/// The Pythons each key failed and passed on, in Python order. Keys that
/// ran on the same Pythons share one list ([`Pythons`]): with as many keys as
/// targets, a list of its own per key was two allocations per target, and
/// the distinct lists are few.
struct KeyPythons {
    /// Per key: where it failed, and where it passed.
    lists: Vec<[Pythons; 2]>,
}

impl KeyPythons {
    /// The table of `runs` of `keys` keys (numbered from 0).
    fn new(mut runs: Vec<Run<'_>>, keys: usize) -> Self {
        // Each key's runs next to each other, failed then passed, each in
        // Python order; a Python once per key and outcome.
        runs.sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| python_order(a.2, b.2))
        });
        runs.dedup();
        let mut lists = vec![[Pythons::default(), Pythons::default()]; keys];
        let mut shared: HashMap<Vec<&str>, Pythons> = HashMap::default();
        let mut list: Vec<&str> = Vec::new();
        for group in runs.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let (id, passed, _) = group[0];
            list.clear();
            list.extend(group.iter().map(|r| r.2));
            let pythons = match shared.get(list.as_slice()) {
                Some(p) => p.clone(),
                None => {
                    let p: Pythons = list.iter().copied().collect();
                    shared.insert(list.clone(), p.clone());
                    p
                }
            };
            lists[id as usize][usize::from(passed)] = pythons;
        }
        Self { lists }
    }

    /// Where key `id` failed, and where it passed.
    fn of(&self, id: u32) -> &[Pythons; 2] {
        &self.lists[id as usize]
    }
}

/// A suite's versions in PEP 440 order.
type Versions<'a> = Vec<PackageVersion<'a>>;

fn sort_versions(versions: &mut Versions<'_>) {
    versions.sort_unstable();
    versions.dedup_by(|a, b| a.as_str() == b.as_str());
}

/// The highest version below `v` in `sorted`.
fn highest_below<'a>(
    sorted: Option<&Versions<'a>>,
    v: &PackageVersion<'a>,
) -> Option<PackageVersion<'a>> {
    let sorted = sorted?;
    let below = sorted.partition_point(|x| x < v);
    below.checked_sub(1).and_then(|i| sorted.get(i)).copied()
}

/// Targets per thread below which one thread does the work: starting a
/// thread costs more than a few hundred verdicts.
const TARGETS_PER_THREAD: usize = 2048;

/// The items each thread takes of `len`: at least [`TARGETS_PER_THREAD`].
fn part_size(len: usize, threads: usize) -> usize {
    let n = threads.min(len / TARGETS_PER_THREAD).max(1);
    len.div_ceil(n).max(1)
}

/// Runs `f` on every item and its place, the slice cut into one run of
/// neighbours per thread; the calling thread takes the first run. Each run
/// has a state of its own, made by `state`.
fn each<T: Send, S>(
    items: &mut [T],
    threads: usize,
    state: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, usize, &mut T) + Sync,
) {
    let size = part_size(items.len(), threads);
    let (here, rest) = items.split_at_mut(size.min(items.len()));
    let (f, state) = (&f, &state);
    let run = move |start: usize, part: &mut [T]| {
        let mut s = state();
        for (i, item) in part.iter_mut().enumerate() {
            f(&mut s, start + i, item);
        }
    };
    std::thread::scope(|scope| {
        for (k, part) in rest.chunks_mut(size).enumerate() {
            scope.spawn(move || run(size * (k + 1), part));
        }
        run(0, here);
    });
}

/// [`each`] on the items of two slices of the same length, side by side.
fn each_pair<A: Send, B: Send>(
    a: &mut [A],
    b: &mut [B],
    threads: usize,
    f: impl Fn(&mut A, &mut B) + Sync,
) {
    assert_eq!(a.len(), b.len(), "two slices side by side");
    let size = part_size(a.len(), threads);
    let f = &f;
    let run = move |a: &mut [A], b: &mut [B]| a.iter_mut().zip(b).for_each(|(a, b)| f(a, b));
    let (a_here, a_rest) = a.split_at_mut(size.min(a.len()));
    let (b_here, b_rest) = b.split_at_mut(size.min(b.len()));
    std::thread::scope(|scope| {
        for (a, b) in a_rest.chunks_mut(size).zip(b_rest.chunks_mut(size)) {
            scope.spawn(move || run(a, b));
        }
        run(a_here, b_here);
    });
}

/// Sets each failing test's category; order-or-state when the same test passed
/// in a much smaller run of the same target.
fn classify_failures(t: &mut Target) {
    let total = u64::from(t.tests.total);
    let Some(findings) = t.findings_if_any() else {
        return;
    };
    for f in &mut findings.failures {
        if let Some((_, size)) = findings
            .passed_alone
            .iter()
            .find(|(test, _)| *test == f.test)
            && total > 2 * size
        {
            f.category = Category::OrderOrState;
            f.evidence = Some(format!(
                "passed in a run of {size} test(s), failed in the full run of {total}"
            ));
            continue;
        }
        let (c, e) = categories::classify(&f.message, &f.details);
        f.category = c;
        f.evidence = e;
    }
}

/// The categories of a failing target, with their evidence: its tests', or
/// its own (`own`, worked out here) when no test failed.
fn target_categories<'a>(
    t: &'a Target,
    own: &'a mut Option<(Category, Option<String>)>,
) -> Vec<(Category, Option<&'a str>)> {
    if t.findings().failures.is_empty() {
        let (c, e) = own.insert(categories::classify_target(t));
        vec![(*c, e.as_deref())]
    } else {
        t.findings()
            .failures
            .iter()
            .map(|f| (f.category, f.evidence.as_deref()))
            .collect()
    }
}

fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", init.join(", "), last.as_ref())
        }
    }
}

/// The verdict on a failing target and its signals. `name` is the target's
/// (lent out of the record while the verdicts run).
fn decide(t: &Target, name: &TargetName, config: Option<&Config>) -> (Verdict, ThinVec<Signal>) {
    let f = &t.facts;
    let what = name.subject(f.package());
    let mut own = None;
    let cats = target_categories(t, &mut own);
    let all = |pred: fn(Category) -> bool| !cats.is_empty() && cats.iter().all(|(c, _)| pred(*c));
    let mut signals = Said::default();

    // What the failures look like, once per category (a bit per category
    // seen, in the categories' order).
    let mut seen = 0u32;
    let mut category_signals = Said::default();
    for (c, e) in &cats {
        let bit = 1 << *c as u32;
        if seen & bit == 0 {
            seen |= bit;
            if let Some(e) = e {
                category_signals.push(format!("{}: {e}", c.as_str()));
            }
        }
    }

    if f.failed_on_pythons.len() >= 2 {
        signals.push(format!(
            "{what} fails on {}: a consistent failure, not a flake",
            and_list(&f.failed_on_pythons)
        ));
        if f.newly_added == Some(true) {
            signals.push(format!("{what} was newly added to tox.ini by this change"));
        }
        push_last_working(f, &mut signals);
        signals.append(category_signals);
        return (Verdict::Regression, signals.0);
    }

    if let Some(config) = config {
        let suite_reason = name
            .suite()
            .and_then(|s| config.suite_reason(s, name.python()));
        let test_reasons: Vec<&str> = t
            .findings()
            .failures
            .iter()
            .filter_map(|x| config.test_reason(&x.test))
            .collect();
        // Every failing test, so none counted but not listed.
        let listed = t.findings();
        let all_tests_known = !listed.failures.is_empty()
            && listed.failures_omitted == 0
            && test_reasons.len() == listed.failures.len();
        if let Some(reason) = suite_reason.or(all_tests_known.then(|| test_reasons[0])) {
            signals.push(format!("known flaky (.github/tox-triage.yml): {reason}"));
            signals.append(category_signals);
            signals.push("rerun candidate");
            return (Verdict::SuspectedFlake, signals.0);
        }
    }

    if f.newly_added == Some(true) {
        if all(Category::is_environmental) {
            signals.push(format!(
                "{what} was newly added, but every failure is network, timeout or resource"
            ));
        } else {
            signals.push(format!(
                "{what} was newly added to tox.ini by this change and fails"
            ));
            push_last_working(f, &mut signals);
            signals.append(category_signals);
            return (Verdict::Regression, signals.0);
        }
    }

    if t.conflicting {
        signals.push("failed in one run and passed in another: flaky by observation");
        signals.append(category_signals);
        signals.push("rerun candidate");
        return (Verdict::SuspectedFlake, signals.0);
    }

    let not_new = f.newly_added != Some(true);
    let one_python_only = f.failed_on_pythons.len() == 1 && !f.passed_on_pythons.is_empty();
    let flaky_kinds = all(|c| c.is_environmental() || c == Category::WorkerCrash);
    if not_new && (one_python_only || flaky_kinds) {
        if one_python_only {
            signals.push(format!(
                "fails on {} only; {what} passes on {}",
                and_list(&f.failed_on_pythons),
                and_list(&f.passed_on_pythons)
            ));
        }
        if flaky_kinds {
            let kinds: Vec<&str> = Category::ALL
                .iter()
                .filter(|c| seen & (1 << **c as u32) != 0)
                .map(|c| c.as_str())
                .collect();
            signals.push(format!("every failure is {}", and_list(&kinds)));
        }
        if f.newly_added == Some(false) {
            signals.push(format!("{what} was already in the base tox.ini"));
        }
        signals.append(category_signals);
        signals.push("rerun candidate");
        return (Verdict::SuspectedFlake, signals.0);
    }

    if f.failed_on_pythons.len() == 1 && f.passed_on_pythons.is_empty() {
        signals.push(format!(
            "ran on {} only: no other Python to compare with",
            and_list(&f.failed_on_pythons)
        ));
    }
    if f.newly_added.is_none() && name.version().is_some() {
        signals.push("no base tox.ini: cannot tell whether the version is new (give --base-ref or --base-tox-ini)");
    }
    signals.append(category_signals);
    (Verdict::Undetermined, signals.0)
}

fn push_last_working(facts: &Facts, signals: &mut Said) {
    if let Some(v) = &facts.last_working_version {
        signals.push(format!("last working version: {v}"));
    }
}

/// The signals [`decide`] gathers: a fixed sentence is kept as the
/// program's text, a formatted one as made.
#[derive(Default)]
struct Said(ThinVec<Signal>);

impl Said {
    fn push(&mut self, signal: impl Into<Signal>) {
        self.0.push(signal.into());
    }

    fn append(&mut self, more: Said) {
        self.0.extend(more.0);
    }
}

/// PyPI release pages of the failing and the last working version (offline:
/// the pages are where PyPI always puts them; not checked).
fn release_links(name: &TargetName, facts: &Facts, verdict: Verdict) -> ThinVec<Link> {
    let (Some(package), Some(v)) = (facts.package(), name.version()) else {
        return ThinVec::new();
    };
    if verdict != Verdict::Regression {
        return ThinVec::new();
    }
    let mut links = thin_vec![Link {
        label: format!("PyPI {package} {v}"),
        url: format!("https://pypi.org/project/{package}/{v}/"),
        verified: false,
    }];
    if let Some(last) = &facts.last_working_version {
        links.push(Link {
            label: format!("PyPI {package} {last}"),
            url: format!("https://pypi.org/project/{package}/{last}/"),
            verified: false,
        });
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known flaky tests make a suspected flake only when every failing test
    /// is known: not when some were counted but not listed.
    #[test]
    fn known_flaky_tests_need_every_failing_test_listed() {
        let config = Config::parse(
            "known-flaky:\n  - test: \"tests/test_net*\"\n    reason: the server is slow\n",
            "tox-triage.yml",
        )
        .unwrap();
        let name = TargetName::parse("py3.12-requests");
        let mut t = Target::new(name.clone());
        t.status = TargetStatus::Fail;
        t.add_failure(crate::model::Failure {
            test: "tests/test_net.py::test_get".to_owned(),
            kind: crate::model::FailureKind::Failure,
            message: "AssertionError".to_owned(),
            details: String::new(),
            attempts: 1,
            source: crate::model::FailureSource::Log,
            category: Category::Assertion,
            evidence: None,
        });
        let known = "known flaky (.github/tox-triage.yml): the server is slow";
        let (verdict, signals) = decide(&t, &name, Some(&config));
        assert_eq!((verdict, &*signals[0]), (Verdict::SuspectedFlake, known));
        t.findings_mut().failures_omitted = 1;
        let (_, signals) = decide(&t, &name, Some(&config));
        assert!(signals.iter().all(|s| s != known), "{signals:?}");
    }

    /// A target whose failures are all of flaky kinds names each kind once,
    /// in the categories' order, with its evidence once per category.
    #[test]
    fn flaky_kinds_are_named_once_each_in_order() {
        let name = TargetName::parse("py3.12-redis-v5.0.0");
        let mut t = Target::new(name.clone());
        t.status = TargetStatus::Fail;
        let failure = |test: &str, category: Category, evidence: &str| crate::model::Failure {
            test: test.to_owned(),
            kind: crate::model::FailureKind::Failure,
            message: evidence.to_owned(),
            details: String::new(),
            attempts: 1,
            source: crate::model::FailureSource::Log,
            category,
            evidence: Some(evidence.to_owned()),
        };
        t.add_failure(failure(
            "t.py::a",
            Category::Timeout,
            "Failed: Timeout (>10s)",
        ));
        t.add_failure(failure("t.py::b", Category::Network, "Connection refused"));
        t.add_failure(failure(
            "t.py::c",
            Category::Timeout,
            "Failed: Timeout (>20s)",
        ));
        let (verdict, signals) = decide(&t, &name, None);
        assert_eq!(verdict, Verdict::SuspectedFlake);
        assert_eq!(
            signals.as_slice(),
            [
                "every failure is network and timeout",
                "timeout: Failed: Timeout (>10s)",
                "network: Connection refused",
                "rerun candidate",
            ]
        );
    }

    /// Each key's Pythons, failed then passed, each in Python order and once,
    /// whatever order the runs came in; a key that ran nowhere has none.
    #[test]
    fn each_key_lists_its_pythons_once_in_order() {
        let runs = vec![
            (2, true, "3.10"),
            (0, false, "pypy3.10"),
            (0, false, "3.10"),
            (2, false, "3.14t"),
            (0, true, "3.9"),
            (0, false, "3.9"),
            (0, false, "3.10"),
            (2, true, "3.9"),
            (0, false, "3.14"),
        ];
        let table = KeyPythons::new(runs, 4);
        let [failed, passed] = table.of(0);
        assert_eq!(**failed, ["3.9", "3.10", "3.14", "pypy3.10"]);
        assert_eq!(**passed, ["3.9"]);
        for empty in [1, 3] {
            assert!(table.of(empty).iter().all(|p| p.is_empty()));
        }
        let [failed, passed] = table.of(2);
        assert_eq!(**failed, ["3.14t"]);
        assert_eq!(**passed, ["3.9", "3.10"]);
    }

    /// Keys that ran on the same Pythons hold one list between them.
    #[test]
    fn keys_on_the_same_pythons_share_a_list() {
        let runs = vec![
            (0, false, "3.12"),
            (1, true, "3.9"),
            (1, false, "3.12"),
            (2, true, "3.9"),
        ];
        let table = KeyPythons::new(runs, 3);
        assert_eq!(*table.of(0)[0], ["3.12"]);
        assert!(std::ptr::eq(
            table.of(0)[0].as_slice(),
            table.of(1)[0].as_slice()
        ));
        assert!(std::ptr::eq(
            table.of(1)[1].as_slice(),
            table.of(2)[1].as_slice()
        ));
        assert!(table.of(2)[0].is_empty());
    }

    /// The highest version below each is the one a scan of all of them
    /// finds, with plain releases and other versions mixed.
    #[test]
    fn the_highest_version_below_is_found_in_the_sorted_list() {
        let texts = [
            "1.0",
            "1.0.0",
            "1.2",
            "1.10",
            "1.2rc1",
            "1.2.0.post1",
            "2024.1.15",
            "20240115",
            "1.2.3.4",
            "1.2.3.4.5",
            "0",
            "4.0.0b2",
            "0.9.1",
            "1.0a1",
            "1.0.dev3",
            "2.0",
        ];
        let names = crate::testing::names_with_versions(&texts);
        let versions: Vec<PackageVersion<'_>> =
            names.iter().map(|n| n.version().unwrap()).collect();
        let mut sorted = versions.clone();
        sort_versions(&mut sorted);
        for v in &versions {
            let scan = versions.iter().filter(|x| *x < v).max().map(|x| x.as_str());
            let found = highest_below(Some(&sorted), v).map(|x| x.as_str());
            assert_eq!(found, scan, "below {v}");
        }
    }

    /// A version taken as written must be its PEP 440 normal form, and every
    /// other one is formatted: the key is the same either way.
    #[test]
    fn a_version_is_taken_as_written_only_when_that_is_its_normal_form() {
        let normal = [
            "0",
            "6.4.0",
            "0.0.2",
            "10.20.30",
            "2024.1.15",
            "1.0",
            "1.10.100",
            "1.0rc1",
            "1.0.post1",
            "1.0.dev0",
            "0.5.1b0",
            "2.0a12",
            "1.0rc1.post2.dev3",
            "11.12.1.post3",
        ];
        let not = [
            "",
            "6.04",
            "06.4",
            "1..2",
            "1.",
            ".1",
            "1.0-rc1",
            "1.0RC1",
            "1.0c1",
            "1.0alpha1",
            "1.0pre1",
            "1.0.rc1",
            "1.0rc",
            "1.0rc01",
            "1.0.post",
            "1.0.post01",
            "1.0post1",
            "1.0-1",
            "1.0a1b2",
            "1.0.dev1.post1",
            "1.0.post1rc1",
            "1.0.",
            "1!2.0",
            "v1.0",
            "1.0+local",
            "1_0",
            "1.0a",
        ];
        let version = |text: &str| {
            let name = TargetName::parse(&format!("py3.12-x-v{text}"));
            name.version()
                .map(|v| (v.is_normal(), v.version().to_string()))
        };
        // Taken as written, it must be the normal form.
        for text in normal {
            let parsed: pep440_rs::Version = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
            assert_eq!(version(text).map(|v| v.0), Some(true), "{text}");
        }
        for text in not {
            assert!(version(text).is_none_or(|v| !v.0), "{text}");
        }
        // The same version written two ways has one key.
        let (a, b) = (
            TargetName::parse("py3.12-redis-v1.0rc1"),
            TargetName::parse("py3.13-redis-v1.0-rc1"),
        );
        assert_eq!(key_of(&a), key_of(&b));
        assert_eq!(key_of(&a), ("redis", Cow::Borrowed("1.0rc1")));
        let c = TargetName::parse("py3.12-redis-v6.4.0");
        assert!(matches!(key_of(&c), ("redis", Cow::Borrowed("6.4.0"))));
    }
}
