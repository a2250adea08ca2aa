//! Helpers for the unit tests.

/// A deterministic picker of numbers below `n`, from `seed` (a 64-bit
/// linear congruential generator): generated inputs that are the same on
/// every run.
pub(crate) fn picker(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    }
}

/// Target names of the form `py3.12-x-v<version>`, one per version.
pub(crate) fn names_with_versions(versions: &[&str]) -> Vec<crate::model::TargetName> {
    versions
        .iter()
        .map(|v| crate::model::TargetName::parse(&format!("py3.12-x-v{v}")))
        .collect()
}
