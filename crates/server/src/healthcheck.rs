//! `growdesk-server healthcheck`: asks the running server's `/api/health` whether it answers,
//! for a container's `HEALTHCHECK` (a slim image has no curl).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Longest the probe may take: an orchestrator's own timeout is usually a few seconds more.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The first bytes of the answer, enough for its status line.
const STATUS_LINE_BYTES: usize = 64;

/// Succeeds when the server listening on `addr` answers `GET /api/health` with 200.
///
/// # Errors
/// Says why the server is not healthy: no connection, no answer in time, another status.
pub(crate) async fn probe(addr: SocketAddr) -> Result<(), String> {
    let target = reachable(addr);
    tokio::time::timeout(PROBE_TIMEOUT, ask_health(target))
        .await
        .map_err(|_| {
            format!("http://{target}/api/health did not answer within {PROBE_TIMEOUT:?}")
        })?
}

/// A server listening on every address (`0.0.0.0`, `::`) is reached through loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

async fn ask_health(target: SocketAddr) -> Result<(), String> {
    let url = format!("http://{target}/api/health");
    let mut stream = TcpStream::connect(target)
        .await
        .map_err(|error| format!("cannot connect to {url}: {error}"))?;
    let request =
        format!("GET /api/health HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| format!("cannot send to {url}: {error}"))?;
    let mut answer = Vec::with_capacity(STATUS_LINE_BYTES);
    (&mut stream)
        .take(STATUS_LINE_BYTES as u64)
        .read_to_end(&mut answer)
        .await
        .map_err(|error| format!("no answer from {url}: {error}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let status_line = answer.lines().next().unwrap_or_default();
    let status = status_line.split_whitespace().nth(1);
    if status == Some("200") {
        Ok(())
    } else {
        Err(format!("{url} answered {status_line:?}, not 200"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_listener_is_probed_on_loopback() {
        let any_v4: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let any_v6: SocketAddr = "[::]:8080".parse().unwrap();
        let given: SocketAddr = "192.0.2.7:9000".parse().unwrap();
        assert_eq!(reachable(any_v4), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(reachable(any_v6), "[::1]:8080".parse().unwrap());
        assert_eq!(reachable(given), given);
    }
}
