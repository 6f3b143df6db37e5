//! Hiding the credentials in a URL before it is logged or shown: the password of its userinfo
//! and the values of secret-looking query parameters.

/// What stands in for a hidden value.
const HIDDEN: &str = "***";

/// Parts of query parameter names whose values are secrets or lead to one (`password`,
/// `sslpassword`, `passfile`, `sslkey`, `api_key`, `token`, …).
const SECRET_NAME_PARTS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "auth",
    "credential",
    "signature",
];

fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// `url` with the password in its userinfo and the values of secret-looking query parameters
/// replaced by `***`; the user, host, path and other parameters stay, so the log still says
/// where. Works on any `scheme://…` text, parseable or not (`sqlite://./data/x.db` included).
pub fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let (before_query, query) = match before_fragment.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (before_fragment, None),
    };
    let mut redacted = redact_userinfo(before_query);
    if let Some(query) = query {
        redacted.push('?');
        let parameters: Vec<String> = query
            .split('&')
            .map(|parameter| match parameter.split_once('=') {
                Some((name, _)) if is_secret_name(&percent_decoded(name)) => {
                    format!("{name}={HIDDEN}")
                }
                _ => parameter.to_owned(),
            })
            .collect();
        redacted.push_str(&parameters.join("&"));
    }
    if let Some(fragment) = fragment {
        redacted.push('#');
        redacted.push_str(fragment);
    }
    redacted
}

/// `scheme://user:password@host/path` with the password hidden. The userinfo ends at the last
/// `@` (a password may hold a raw `/` or `@`), so a path with an `@` and a `:` before it may be
/// hidden too: showing too little is the safe mistake.
fn redact_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|index| index + 3) else {
        return url.to_owned();
    };
    let Some(at) = url[start..].rfind('@').map(|index| start + index) else {
        return url.to_owned();
    };
    match url[start..at].split_once(':') {
        Some((user, _)) => format!("{}{user}:{HIDDEN}{}", &url[..start], &url[at..]),
        None => url.to_owned(),
    }
}

/// `text` with its `%XX` escapes decoded, so that an escaped name is recognised too.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = bytes
            .get(index + 1..index + 3)
            .filter(|_| bytes[index] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_form_is_hidden() {
        for (url, redacted) in [
            ("postgres://u:hunter2@db/app", "postgres://u:***@db/app"),
            (
                "postgres://u@db/app?password=hunter2",
                "postgres://u@db/app?password=***",
            ),
            (
                "postgresql://u@db/app?sslmode=verify-full&sslpassword=hunter2&sslkey=/k.pem&passfile=/p",
                "postgresql://u@db/app?sslmode=verify-full&sslpassword=***&sslkey=***&passfile=***",
            ),
            (
                "postgres://u:p%40ss@h1:5432,h2/app?PassWord=x&application_name=growdesk",
                "postgres://u:***@h1:5432,h2/app?PassWord=***&application_name=growdesk",
            ),
            ("postgres://u:pa/ss@db/app", "postgres://u:***@db/app"),
            ("postgres://u:p@ss@db/app", "postgres://u:***@db/app"),
            (
                "https://zendesk.example?api%5Fkey=x&page=2",
                "https://zendesk.example?api%5Fkey=***&page=2",
            ),
            (
                "https://h.example/x?access_token=t#frag",
                "https://h.example/x?access_token=***#frag",
            ),
            (
                "postgres://u@db/app?password",
                "postgres://u@db/app?password",
            ),
        ] {
            assert_eq!(redact_url(url), redacted, "{url}");
        }
    }

    #[test]
    fn urls_without_credentials_are_unchanged() {
        for url in [
            "sqlite://./data/growdesk.db",
            "sqlite::memory:",
            "sqlite://./data/growdesk.db?mode=rwc",
            "postgres://growdesk@db:5432/growdesk?sslmode=require",
            "https://acme.zendesk.com/api/v2/users.json?page=2",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }
}
