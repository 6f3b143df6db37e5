//! `growdesk-bench`: seeds a help desk with realistic data, loads the running server beside the
//! floor of the stack on the same machine, and writes the figures (BENCHMARKS.md).

mod corpus;
mod database;
mod floor;
mod load;
mod mail;
mod measure;
mod plans;
mod report;
mod seed;
mod sockets;

use clap::{Parser, Subcommand};

/// The server's allocator (C's `malloc` included), so that the floor is the same stack as the
/// server it is compared with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(version, about = "Seeds, loads and measures a GrowDesk instance")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fill an empty database with tickets, messages, agents and customers.
    Seed(seed::Args),
    /// Serve the floor: a constant, one indexed SELECT and one INSERT on the same database.
    Floor(floor::Args),
    /// Run the HTTP scenarios at several concurrency levels against a server and the floor.
    Load(load::Args),
    /// Write the database's plan for the ticket list under each filter.
    Plans(plans::Args),
    /// Find the highest rate of a desk's mix of requests whose p99 holds, with sockets open.
    Mixed(load::mixed::Args),
    /// Create tickets through one server process, then through several on one database.
    Scale(load::scale::Args),
    /// Hold idle WebSocket connections and time a message's fan-out to subscribers.
    Sockets(sockets::Args),
    /// Time the email channel: a big mailbox's import, and mail's delay to a staff socket.
    Mail(mail::Args),
    /// Turn result files into the tables and the plot of BENCHMARKS.md.
    Report(report::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // One TLS provider for the whole process (reqwest's rustls), chosen before any client.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    match Cli::parse().command {
        Command::Seed(args) => seed::run(args).await,
        Command::Floor(args) => floor::run(args).await,
        Command::Load(args) => load::run(args).await,
        Command::Mixed(args) => load::mixed::run(args).await,
        Command::Scale(args) => load::scale::run(args).await,
        Command::Plans(args) => plans::run(args).await,
        Command::Sockets(args) => sockets::run(args).await,
        Command::Mail(args) => mail::run(args).await,
        Command::Report(args) => report::run(&args),
    }
}
