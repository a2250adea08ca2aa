//! Where to look for a regression: the package's PyPI release pages and, when
//! its PyPI metadata names a GitHub repository, a compare link between the
//! last working and the failing release tags.
//!
//! Network use is optional and bounded (a handful of requests per package,
//! each with a timeout). Tags are checked against the repository (`v1.2.3`,
//! `1.2.3`, `<package>-1.2.3`, ...) only when a GitHub token is available;
//! otherwise the likely link is given and marked unverified.

use serde::Deserialize;

use crate::inputs::http::Http;
use crate::model::Link;

/// What the lookups found for one package version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseLinks {
    /// PyPI pages (failing version first), `verified` when PyPI answered for them.
    pub pypi: Vec<Link>,
    /// The compare link, when a GitHub repository is known.
    pub compare: Option<Link>,
    /// The repository, `owner/name`.
    pub repository: Option<String>,
}

#[derive(Deserialize)]
struct PypiRelease {
    info: PypiInfo,
}

#[derive(Deserialize)]
struct PypiInfo {
    #[serde(default)]
    project_urls: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    home_page: Option<String>,
}

/// `owner/name` from a GitHub URL (`https://github.com/o/r`, `.../o/r.git`, `.../o/r/tree/main`).
pub fn github_repository(url: &str) -> Option<String> {
    let rest = url
        .trim()
        .strip_prefix("https://github.com/")
        .or_else(|| url.trim().strip_prefix("http://github.com/"))
        .or_else(|| url.trim().strip_prefix("https://www.github.com/"))?;
    let mut parts = rest.split(['/', '#', '?']).filter(|p| !p.is_empty());
    let owner = parts.next()?;
    let name = parts.next()?.trim_end_matches(".git");
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (ok(owner) && ok(name)).then(|| format!("{owner}/{name}"))
}

fn pypi_page(package: &str, version: &str, verified: bool) -> Link {
    Link {
        label: format!("PyPI {package} {version}"),
        url: format!("https://pypi.org/project/{package}/{version}/"),
        verified,
    }
}

/// Looks up `package` on PyPI (for `version` and `last_working`) and, when its
/// metadata names a GitHub repository, the tags of both releases.
pub async fn look_up(
    http: &Http,
    package: &str,
    version: &str,
    last_working: Option<&str>,
) -> ReleaseLinks {
    let release = |v: &str| http.pypi_url(&format!("/pypi/{package}/{v}/json"));
    let current: Option<PypiRelease> = http.get_json(&release(version), None).await.ok();
    let mut pypi = vec![pypi_page(package, version, current.is_some())];
    if let Some(last) = last_working {
        let found = http
            .get(&release(last))
            .await
            .is_ok_and(|r| r.status.is_success());
        pypi.push(pypi_page(package, last, found));
    }
    let repository = current.and_then(|r| {
        let urls = r.info.project_urls.unwrap_or_default();
        let preferred = [
            "Source",
            "Source Code",
            "Repository",
            "Code",
            "GitHub",
            "Homepage",
        ];
        preferred
            .iter()
            .filter_map(|k| {
                urls.iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v)
            })
            .chain(urls.values())
            .chain(r.info.home_page.iter())
            .find_map(|u| github_repository(u))
    });
    let compare = match (&repository, last_working) {
        (Some(repo), Some(last)) => Some(compare_link(http, repo, package, last, version).await),
        _ => None,
    };
    ReleaseLinks {
        pypi,
        compare,
        repository,
    }
}

/// The tag spellings projects use for a release.
fn tag_candidates(package: &str, version: &str) -> Vec<String> {
    vec![
        format!("v{version}"),
        version.to_owned(),
        format!("{package}-{version}"),
        format!("{package}-v{version}"),
        format!("{package}@{version}"),
    ]
}

async fn find_tag(http: &Http, repo: &str, package: &str, version: &str) -> Option<String> {
    for tag in tag_candidates(package, version) {
        let url = http.github_url(&format!("/repos/{repo}/git/ref/tags/{tag}"));
        match http.get(&url).await {
            Ok(r) if r.status.is_success() => return Some(tag),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
    None
}

async fn compare_link(http: &Http, repo: &str, package: &str, old: &str, new: &str) -> Link {
    let label = format!("compare {old}...{new}");
    if http.has_token()
        && let (Some(old_tag), Some(new_tag)) = (
            find_tag(http, repo, package, old).await,
            find_tag(http, repo, package, new).await,
        )
    {
        return Link {
            label,
            url: format!("https://github.com/{repo}/compare/{old_tag}...{new_tag}"),
            verified: true,
        };
    }
    Link {
        label: format!("{label} (likely; tags not verified)"),
        url: format!("https://github.com/{repo}/compare/v{old}...v{new}"),
        verified: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_from_project_urls() {
        assert_eq!(
            github_repository("https://github.com/pallets/markupsafe/").as_deref(),
            Some("pallets/markupsafe")
        );
        assert_eq!(
            github_repository("https://github.com/redis/redis-py.git").as_deref(),
            Some("redis/redis-py")
        );
        assert_eq!(
            github_repository("https://github.com/o/r/tree/main/docs").as_deref(),
            Some("o/r")
        );
        assert_eq!(github_repository("https://gitlab.com/o/r"), None);
        assert_eq!(github_repository("https://github.com/o"), None);
        assert_eq!(
            github_repository("https://github.com/o/r)](javascript:x"),
            None
        );
    }
}
