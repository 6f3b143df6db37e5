//! Pulling other help desks' APIs: basic authentication, timeouts, and patience with `429`.

use std::time::Duration;

use serde_json::Value;

/// Longest wait a 429 may ask for before the import gives up on the source.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

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

    /// The JSON at `url`; a `429` is waited out as its `Retry-After` asks, then retried.
    ///
    /// # Errors
    /// The request fails, the answer is not a success, or the wait asked for is unreasonable.
    pub(crate) async fn get(&self, url: &str) -> anyhow::Result<Value> {
        loop {
            let response = self
                .client
                .get(url)
                .basic_auth(&self.user, Some(&self.password))
                .send()
                .await?;
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
                anyhow::bail!("{url} answered {status}");
            }
            return Ok(response.json().await?);
        }
    }
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
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
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
        let page: Value = serde_json::from_slice(&std::fs::read(&name)?)
            .map_err(|error| anyhow::anyhow!("{}: {error}", name.display()))?;
        let list = match key {
            Some(key) => page[key].as_array().cloned(),
            None => page.as_array().cloned(),
        };
        items.extend(list.unwrap_or_default());
    }
    Ok(items)
}
