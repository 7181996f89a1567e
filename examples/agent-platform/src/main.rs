//! `agent-platform`: serves the multi-tenant API on Postgres (see the README).

use std::path::PathBuf;
use std::process::ExitCode;

use agent_platform::{Config, build, serve, shutdown_signal};
use clap::Parser;

/// A multi-tenant voice-agent, booking, messaging and CRM API built from the Palisade crates.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The Postgres server (`postgres://postgres@127.0.0.1:5432/test`).
    #[arg(long)]
    database_url: String,
    /// The configuration file (TOML); without it, the demo configuration and its public
    /// demo secrets (loopback addresses only).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The address to listen on (default: the file's `listen`, else 127.0.0.1:8090).
    #[arg(long)]
    listen: Option<String>,
    /// The Postgres schema of every table (default: the file's `schema`, else
    /// `agent_platform`).
    #[arg(long)]
    schema: Option<String>,
    /// Creates two demo tenants with users and API keys, and prints how to use them.
    #[arg(long)]
    demo: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "agent-platform stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = match &args.config {
        Some(path) => Config::from_toml(&std::fs::read_to_string(path)?)?,
        None => {
            tracing::warn!(
                "no --config: the demo configuration and its public secrets (loopback only; \
                 data encrypted now is unreadable after a restart)"
            );
            Config::demo()
        }
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(schema) = args.schema {
        config.schema = schema;
    }
    let platform = build(&config, &args.database_url).await?;
    if args.demo {
        let text = platform.seed_demo().await?;
        println!("{}", text.replace("<listen>", &config.listen));
    }
    let listener = tokio::net::TcpListener::bind(&config.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, schema = %config.schema, "listening");
    serve(listener, platform.router, shutdown_signal()).await?;
    Ok(())
}
