//! A minimal LMTP client (RFC 2033): one mail to one recipient per connection, which is all the
//! testkit needs to put mail into Dovecot the way a mail server does.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(30);

/// An LMTP server's refusal: its reply code and text.
#[derive(Debug)]
pub(crate) struct Refused {
    pub code: u16,
    pub text: String,
}

/// Delivers `raw` from `from` to `to` through the LMTP server on 127.0.0.1:`port`. `Ok(Err(_))`
/// is the server's refusal (an unknown user, say); `Err` is a broken conversation.
pub(crate) async fn deliver(
    port: u16,
    from: &str,
    to: &str,
    raw: &[u8],
) -> io::Result<Result<(), Refused>> {
    tokio::time::timeout(TIMEOUT, conversation(port, from, to, raw))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the LMTP server did not answer"))?
}

async fn conversation(
    port: u16,
    from: &str,
    to: &str,
    raw: &[u8],
) -> io::Result<Result<(), Refused>> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let steps: [(Option<String>, u16); 5] = [
        (None, 220),
        (Some("LHLO localhost".to_owned()), 250),
        (Some(format!("MAIL FROM:<{from}>")), 250),
        (Some(format!("RCPT TO:<{to}>")), 250),
        (Some("DATA".to_owned()), 354),
    ];
    for (command, expected) in steps {
        if let Some(command) = command {
            writer
                .write_all(format!("{command}\r\n").as_bytes())
                .await?;
        }
        let reply = read_reply(&mut reader).await?;
        if reply.code != expected {
            return Ok(Err(reply));
        }
    }
    writer.write_all(&dot_stuffed(raw)).await?;
    writer.write_all(b".\r\n").await?;
    let reply = read_reply(&mut reader).await?;
    writer.write_all(b"QUIT\r\n").await?;
    Ok(if reply.code == 250 {
        Ok(())
    } else {
        Err(reply)
    })
}

/// Reads one (possibly multi-line) reply.
async fn read_reply(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> io::Result<Refused> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the LMTP server closed the connection",
            ));
        }
        let line = line.trim_end();
        let code = line
            .get(..3)
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, line.to_owned()))?;
        text.push_str(line.get(4..).unwrap_or_default());
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(Refused { code, text });
        }
        text.push(' ');
    }
}

/// `raw` as DATA carries it: a line that starts with a dot gets another, and the last line ends
/// with CRLF so that the terminating dot stands on its own line.
fn dot_stuffed(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 64 + 3);
    let mut line_start = true;
    for &byte in raw {
        if line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        line_start = byte == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        if out.ends_with(b"\n") {
            out.pop();
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::dot_stuffed;

    #[test]
    fn lines_starting_with_a_dot_are_stuffed_and_the_end_is_a_crlf() {
        assert_eq!(
            dot_stuffed(b".a\r\nb\r\n..c"),
            b"..a\r\nb\r\n...c\r\n".to_vec()
        );
        assert_eq!(dot_stuffed(b"x\n"), b"x\r\n".to_vec());
        assert_eq!(dot_stuffed(b"x\r\n"), b"x\r\n".to_vec());
    }
}
