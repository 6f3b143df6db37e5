//! `sockets`: what WebSocket connections cost the server. First it holds many idle connections
//! and divides the server's added resident memory by their number; then it opens a set of
//! subscribers and times each posted message from the request to its arrival at every one.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::StreamExt as _;
use reqwest::Client;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::load::setup::sign_in;
use crate::measure::{Figures, Latencies, resident_kib};
use crate::seed::agent_email;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[arg(long)]
    label: String,
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    #[arg(long)]
    server_pid: u32,
    #[arg(long, default_value = "bench-password-1")]
    password: String,
    /// Idle connections to hold for the memory figure.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Connections that receive every posted message.
    #[arg(long, default_value_t = 1_000)]
    subscribers: usize,
    /// Messages posted, one after another.
    #[arg(long, default_value_t = 50)]
    messages: usize,
    #[arg(long)]
    out: std::path::PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SocketResults {
    pub(crate) label: String,
    pub(crate) connections: usize,
    pub(crate) rss_before_kib: u64,
    pub(crate) rss_holding_kib: u64,
    pub(crate) kib_per_connection: f64,
    pub(crate) subscribers: usize,
    pub(crate) messages: usize,
    /// From the POST being sent to the message's frame arriving, over every delivery.
    pub(crate) fan_out: Figures,
    pub(crate) missed_deliveries: usize,
}

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens one socket on each of `urls`, 200 at a time, each past its `ready` frame.
pub(crate) async fn open_each(urls: &[String]) -> anyhow::Result<Vec<Socket>> {
    let mut sockets = Vec::with_capacity(urls.len());
    for batch in urls.chunks(200) {
        let opened = futures_util::future::join_all(batch.iter().map(|url| async move {
            let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
            loop {
                match socket.next().await {
                    Some(Ok(Message::Text(text))) if text.contains("\"ready\"") => break,
                    Some(Ok(_)) => {}
                    other => anyhow::bail!("no ready frame: {other:?}"),
                }
            }
            Ok::<_, anyhow::Error>(socket)
        }))
        .await;
        for socket in opened {
            sockets.push(socket?);
        }
    }
    Ok(sockets)
}

/// Opens `count` sockets on `url`.
async fn open(url: &str, count: usize) -> anyhow::Result<Vec<Socket>> {
    open_each(&vec![url.to_owned(); count]).await
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let client = Client::new();
    let listener_token = sign_in(&client, &args.target, &agent_email(0), &args.password).await?;
    let poster_token = sign_in(&client, &args.target, &agent_email(1), &args.password).await?;
    let url = format!(
        "{}/api/ws?access_token={listener_token}",
        args.target.replace("http://", "ws://")
    );

    let rss_before_kib = resident_kib(args.server_pid)?;
    let started = Instant::now();
    let idle = open(&url, args.connections).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_holding_kib = resident_kib(args.server_pid)?;
    let kib_per_connection =
        rss_holding_kib.saturating_sub(rss_before_kib) as f64 / args.connections.max(1) as f64;
    println!(
        "{} idle connections opened in {:.1} s: server {:.1} → {:.1} MiB, {kib_per_connection:.1} KiB each",
        args.connections,
        started.elapsed().as_secs_f64(),
        rss_before_kib as f64 / 1024.0,
        rss_holding_kib as f64 / 1024.0
    );
    drop(idle);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let ticket: Value = client
        .post(format!("{}/api/tickets", args.target))
        .bearer_auth(&poster_token)
        .json(&json!({"subject": "Fan-out", "description": "timing messages to every subscriber"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let ticket_id = ticket["id"].as_str().context("no ticket id")?.to_owned();
    let subscribers = open(&url, args.subscribers).await?;
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(String, Instant)>();
    for mut socket in subscribers {
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                if let Message::Text(text) = frame {
                    let at = Instant::now();
                    let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                        continue;
                    };
                    if let Some(id) = frame["message"]["id"].as_str()
                        && arrivals.send((id.to_owned(), at)).is_err()
                    {
                        break;
                    }
                }
            }
        });
    }
    drop(arrivals);

    let mut latencies = Latencies::new();
    let mut missed = 0;
    let measured = Instant::now();
    for index in 0..args.messages {
        let sent = Instant::now();
        let posted: Value = client
            .post(format!("{}/api/tickets/{ticket_id}/messages", args.target))
            .bearer_auth(&poster_token)
            .json(&json!({"body": format!("message {index}")}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = posted["id"].as_str().context("no message id")?.to_owned();
        let mut waiting = args.subscribers;
        let deadline = sent + Duration::from_secs(10);
        while waiting > 0 {
            match tokio::time::timeout_at(deadline.into(), arrived.recv()).await {
                Ok(Some((arrival, at))) if arrival == id => {
                    latencies.record(at - sent);
                    waiting -= 1;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        missed += waiting;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fan_out = latencies.figures(measured.elapsed(), missed as u64);
    println!(
        "{} messages to {} subscribers: p50 {:.1} ms, p99 {:.1} ms, {missed} deliveries missed",
        args.messages, args.subscribers, fan_out.p50_ms, fan_out.p99_ms
    );
    let results = SocketResults {
        label: args.label,
        connections: args.connections,
        rss_before_kib,
        rss_holding_kib,
        kib_per_connection,
        subscribers: args.subscribers,
        messages: args.messages,
        fan_out,
        missed_deliveries: missed,
    };
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&results)?)?;
    Ok(())
}
