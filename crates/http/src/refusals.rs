//! problem+json for the answers hyper writes by itself, before any handler or middleware runs:
//! 400, 414 and 431 to an HTTP/1 request head it cannot parse.
//!
//! hyper offers no hook for those answers, so each connection's stream is wrapped: a write that
//! is exactly such an answer (a bare 4xx head with `content-length: 0` and nothing else but
//! `connection` and `date`) is swapped for the same status with a problem body. The app's own
//! error answers always carry a content type, so they never match.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::{PROBLEM_JSON, bare_problem};
use crate::middleware::bare_detail;

/// A connection's stream whose bare refusals from hyper leave as problem+json.
pub(crate) struct ProblemRefusals<S> {
    stream: S,
    /// A replacement answer not yet fully written, and how much of it was.
    pending: Option<(Vec<u8>, usize)>,
}

impl<S> ProblemRefusals<S> {
    pub(crate) fn new(stream: S) -> Self {
        Self {
            stream,
            pending: None,
        }
    }
}

impl<S: AsyncWrite + Unpin> ProblemRefusals<S> {
    /// Writes what is left of a replacement answer before anything else.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((answer, written)) = &mut self.pending {
            if *written == answer.len() {
                self.pending = None;
                break;
            }
            let count = ready!(Pin::new(&mut self.stream).poll_write(cx, &answer[*written..]))?;
            if count == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += count;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `buf` as written when it is one of hyper's bare refusals, queueing its
    /// replacement.
    fn replace_refusal(&mut self, buf: &[u8]) -> Option<usize> {
        let status = bare_refusal_status(buf)?;
        self.pending = Some((problem_answer(status), 0));
        Some(buf.len())
    }
}

/// Longest bare answer hyper writes (a status line, `content-length`, `connection` and `date`
/// take about 120 bytes): anything longer is passed on without being read.
const BARE_ANSWER_MAX_BYTES: usize = 256;

/// The status of `head` when it is a whole bare 4xx answer as hyper writes it by itself.
fn bare_refusal_status(head: &[u8]) -> Option<StatusCode> {
    if head.len() > BARE_ANSWER_MAX_BYTES || !head.starts_with(b"HTTP/1.1 4") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let lines = text.strip_prefix("HTTP/1.1 ")?.strip_suffix("\r\n\r\n")?;
    let mut lines = lines.split("\r\n");
    let code = lines.next()?.get(..3)?;
    let status = StatusCode::from_bytes(code.as_bytes()).ok()?;
    let mut has_empty_body = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => has_empty_body = value.trim() == "0",
            "connection" | "date" => {}
            _ => return None,
        }
    }
    (status.is_client_error() && has_empty_body).then_some(status)
}

/// The whole HTTP/1.1 answer for `status`, with a problem body, closing the connection (hyper
/// closes it after a head it could not parse).
fn problem_answer(status: StatusCode) -> Vec<u8> {
    let body = serde_json::to_vec(&bare_problem(status, bare_detail(status))).unwrap_or_default();
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\n\
         x-content-type-options: nosniff\r\nconnection: close\r\n\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or_default(),
        body.len(),
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}

impl<S: AsyncRead + Unpin> AsyncRead for ProblemRefusals<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ProblemRefusals<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(taken) = self.replace_refusal(buf) {
            return Poll::Ready(Ok(taken));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        // hyper queues a head as a buffer of its own, ahead of any body.
        if let Some(first) = bufs.iter().find(|buf| !buf.is_empty())
            && let Some(taken) = self.replace_refusal(first)
        {
            return Poll::Ready(Ok(taken));
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_refusals_are_replaced() {
        let hyper_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\
            date: Wed, 02 Dec 2026 03:00:00 GMT\r\n\r\n";
        assert_eq!(
            bare_refusal_status(hyper_431),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        let with_close =
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(
            bare_refusal_status(with_close),
            Some(StatusCode::BAD_REQUEST)
        );
        let app_problem = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/problem+json\r\n\
            content-length: 0\r\n\r\n";
        assert_eq!(bare_refusal_status(app_problem), None);
        let success = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(bare_refusal_status(success), None);
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}";
        assert_eq!(bare_refusal_status(with_body), None);
    }

    #[test]
    fn a_replacement_is_a_whole_problem_answer() {
        let answer = String::from_utf8(problem_answer(StatusCode::URI_TOO_LONG)).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}\r\n", body.len())));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 414);
    }
}
