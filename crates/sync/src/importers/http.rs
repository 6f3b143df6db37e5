//! Pulling other help desks' APIs: basic authentication, timeouts, and patience with `429`.

use std::time::Duration;

use growdesk_store::redact::redact_url;
use serde_json::Value;

/// Longest wait a 429 may ask for before the import gives up on the source.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// How many `429`s in a row one request waits out before the import gives up on the source.
const MAX_THROTTLED: u32 = 10;
/// The largest API answer or saved page file an import reads: a page's records are held
/// together, so this bounds the memory one page takes.
pub(crate) const MAX_PAGE_BYTES: usize = 64 * 1024 * 1024;

/// A help desk's API with the credentials to read it.
#[derive(Debug, Clone)]
pub(crate) struct ApiClient {
    client: reqwest::Client,
    pub(crate) base: String,
    user: String,
    password: String,
}

impl ApiClient {
    /// A client for `base` with basic-authentication credentials.
    pub(crate) fn new(base: &str, user: String, password: String) -> Self {
        let client = reqwest::Client::builder()
            .user_agent(concat!("growdesk-sync/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_default();
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            user,
            password,
        }
    }

    /// Whether `url` has the base URL's scheme, host and port.
    fn serves(&self, url: &str) -> bool {
        match (url::Url::parse(url), url::Url::parse(&self.base)) {
            (Ok(url), Ok(base)) => url.origin() == base.origin(),
            _ => false,
        }
    }

    /// The JSON at `url`; a `429` is waited out as its `Retry-After` asks, then retried, up to
    /// `MAX_THROTTLED` times in a row.
    ///
    /// # Errors
    /// `url` is on another host than the base URL, the request fails, the answer is not a
    /// success or is larger than `MAX_PAGE_BYTES`, or the source keeps refusing or asks for an
    /// unreasonable wait.
    pub(crate) async fn get(&self, url: &str) -> anyhow::Result<Value> {
        // The URL may carry credentials (userinfo, a token parameter): messages show it redacted,
        // and reqwest's errors, which would show it whole, without it.
        let shown = redact_url(url);
        let failed = |error: reqwest::Error| anyhow::anyhow!("{shown}: {}", error.without_url());
        if !self.serves(url) {
            // A page's next link comes from the source: its credentials go to its own host alone.
            anyhow::bail!(
                "{shown} is not on {}, the source's host",
                redact_url(&self.base)
            );
        }
        for _ in 0..=MAX_THROTTLED {
            let mut response = self
                .client
                .get(url)
                .basic_auth(&self.user, Some(&self.password))
                .send()
                .await
                .map_err(failed)?;
            if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<u64>().ok())
                    .map_or(Duration::from_secs(1), Duration::from_secs);
                if wait > MAX_RETRY_AFTER {
                    anyhow::bail!("the source asks to wait {wait:?}; try again later");
                }
                tracing::info!(?wait, "rate limited by the source; waiting");
                tokio::time::sleep(wait).await;
                continue;
            }
            let status = response.status();
            if !status.is_success() {
                anyhow::bail!("{shown} answered {status}");
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(failed)? {
                if body.len() + chunk.len() > MAX_PAGE_BYTES {
                    anyhow::bail!("{shown} answered more than {}", page_limit());
                }
                body.extend_from_slice(&chunk);
            }
            return serde_json::from_slice(&body)
                .map_err(|error| anyhow::anyhow!("{shown} answered no JSON: {error}"));
        }
        anyhow::bail!("{shown} still answers 429 after {MAX_THROTTLED} waits; try again later")
    }
}

fn page_limit() -> String {
    format!(
        "{} MiB, the most a page may hold",
        MAX_PAGE_BYTES / (1024 * 1024)
    )
}

/// The JSON in the saved API answer at `path`.
///
/// # Errors
/// The file cannot be read, is larger than `MAX_PAGE_BYTES`, or is not JSON.
pub(crate) fn saved_page(path: &std::path::Path) -> anyhow::Result<Value> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_PAGE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
    if bytes.len() > MAX_PAGE_BYTES {
        anyhow::bail!("{} is larger than {}", path.display(), page_limit());
    }
    serde_json::from_slice(&bytes).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))
}

/// The arrays (or the `key` arrays) of every `<prefix>*.json` file in `dir`, in file-name order.
///
/// # Errors
/// A file cannot be read or is not JSON.
pub(crate) fn saved_pages(
    dir: &std::path::Path,
    prefix: &str,
    key: Option<&str>,
) -> anyhow::Result<Vec<Value>> {
    let unreadable =
        |error: std::io::Error| anyhow::anyhow!("cannot read {}: {error}", dir.display());
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?
        .into_iter()
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
                && path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with(prefix))
        })
        .collect();
    names.sort();
    let mut items = Vec::new();
    for name in names {
        let page = saved_page(&name)?;
        let list = match key {
            Some(key) => page[key].as_array().cloned(),
            None => page.as_array().cloned(),
        };
        items.extend(list.unwrap_or_default());
    }
    Ok(items)
}
