//! Browser sessions: the refresh token in an `HttpOnly` cookie that only the refresh route
//! receives, and the proof that a cookie-authenticated refresh comes from the console itself.
//!
//! Why this shape (OWASP's CSRF cheat sheet): the cookie is `SameSite=Strict`, so no other site
//! makes a browser send it; on top of that a refresh by cookie needs the custom header
//! `X-GrowDesk-CSRF`, which a page of another origin can only send after a CORS preflight that
//! this server never grants for it (its CORS list allows no such header and no credentials), and an
//! `Origin` (or `Sec-Fetch-Site`), when the browser sends one, must be this server's own. A custom
//! header needs no token kept by the server or readable by scripts, so nothing secret reaches the
//! page. Sign-out needs the bearer access token, which another site cannot send either.

use std::net::IpAddr;

use axum::http::header::{COOKIE, HOST, ORIGIN};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use growdesk_service::ServiceError;

use crate::error::ApiError;

/// The cookie that holds a browser's refresh token.
const NAME: &str = "growdesk_refresh";
/// The one route the cookie is sent to.
const PATH: &str = "/api/auth/refresh";
/// The header that proves a refresh by cookie was sent by a page of this server.
const CSRF_HEADER: HeaderName = HeaderName::from_static("x-growdesk-csrf");
const FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// `Set-Cookie` for `token`. A session cookie (no `Max-Age`): the session's own lifetime still
/// bounds it on the server. `Secure` unless the request was addressed to a loopback host
/// (`localhost`, `127.0.0.1`, `[::1]`): that is decided from the request's `Host`, since
/// GrowDesk is reached under whatever name its proxy gives it and a browser keeps a `Secure`
/// cookie from plain-HTTP only on its own machine.
pub(super) fn set(headers: &HeaderMap, token: &str) -> HeaderValue {
    header_value(&format!("{NAME}={token}{}", attributes(headers)))
}

/// `Set-Cookie` that removes the refresh cookie.
pub(super) fn clear(headers: &HeaderMap) -> HeaderValue {
    header_value(&format!("{NAME}=; Max-Age=0{}", attributes(headers)))
}

fn attributes(headers: &HeaderMap) -> String {
    let secure = if loopback_host(headers) {
        ""
    } else {
        "; Secure"
    };
    format!("; Path={PATH}; HttpOnly; SameSite=Strict{secure}")
}

fn header_value(text: &str) -> HeaderValue {
    // Tokens are base64url and the attributes constant: always a valid header value.
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The refresh token of a cookie-authenticated refresh, once the request proved it comes from a
/// page of this server.
///
/// # Errors
/// 403 without `X-GrowDesk-CSRF` or from another origin or site; 401 without the cookie.
pub(super) fn token(headers: &HeaderMap) -> Result<String, ApiError> {
    if !headers.contains_key(CSRF_HEADER) {
        return Err(ServiceError::Forbidden(
            "a refresh by cookie needs the X-GrowDesk-CSRF header",
        )
        .into());
    }
    if !same_origin(headers) {
        return Err(ServiceError::Forbidden(
            "a refresh by cookie must come from this server's own pages",
        )
        .into());
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == NAME && !value.is_empty())
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| {
            ServiceError::Unauthenticated("no refresh token in the body or cookie").into()
        })
}

/// Whether the browser, when it says, sent this from a page of this server: `Sec-Fetch-Site`
/// (when sent) is `same-origin`, and `Origin` (when sent) is this server's.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
    };
    if text(FETCH_SITE).is_some_and(|site| site != "same-origin") {
        return false;
    }
    let Some(origin) = text(ORIGIN) else {
        return true;
    };
    let host = text(HOST);
    host.is_some_and(|host| {
        origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            == Some(host)
    })
}

/// Whether the request's `Host` names this machine.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(HOST).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let name = if let Some(bracketed) = host.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(HeaderName, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn secure_except_on_a_loopback_host() {
        for host in [
            "127.0.0.1:8080",
            "localhost",
            "[::1]:80",
            "console.localhost:5173",
        ] {
            let value = set(&with(&[(HOST, host)]), "t");
            assert_eq!(
                value, "growdesk_refresh=t; Path=/api/auth/refresh; HttpOnly; SameSite=Strict",
                "{host}"
            );
        }
        for host in ["desk.example.com", "10.0.0.5:8080", "localhost.example.com"] {
            let value = set(&with(&[(HOST, host)]), "t");
            assert!(value.to_str().unwrap().ends_with("; Secure"), "{host}");
        }
        assert!(
            clear(&HeaderMap::new())
                .to_str()
                .unwrap()
                .starts_with("growdesk_refresh=; Max-Age=0;")
        );
    }

    #[test]
    fn a_cookie_refresh_needs_the_header_and_this_origin() {
        let own = [
            (HOST, "desk.example.com"),
            (COOKIE, "a=b; growdesk_refresh=tok"),
        ];
        assert!(token(&with(&own)).is_err());
        let mut proven = own.to_vec();
        proven.push((CSRF_HEADER, "1"));
        assert_eq!(token(&with(&proven)).unwrap(), "tok");
        for foreign in [
            (ORIGIN, "https://evil.example.com"),
            (ORIGIN, "null"),
            (FETCH_SITE, "cross-site"),
            (FETCH_SITE, "same-site"),
        ] {
            let mut request = proven.clone();
            request.push(foreign.clone());
            assert!(token(&with(&request)).is_err(), "{foreign:?}");
        }
        let mut same = proven.clone();
        same.push((ORIGIN, "https://desk.example.com"));
        same.push((FETCH_SITE, "same-origin"));
        assert_eq!(token(&with(&same)).unwrap(), "tok");
        assert!(token(&with(&[(HOST, "desk.example.com"), (CSRF_HEADER, "1")])).is_err());
    }
}
