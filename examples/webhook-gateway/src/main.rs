//! `webhook-gateway`: serves the routes of a TOML configuration file, or the demo
//! configuration (see the README).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use webhook_gateway::{Config, build_gateway, serve, shutdown_signal};

/// mimalloc rather than the system allocator: each delivery's parsed JSON tree is often freed
/// on another worker thread than the one that built it, which glibc's per-thread arenas make
/// costly (measured in `docs/benchmarks.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A webhook gateway built from the Palisade crates.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The configuration file (TOML); without it, the demo configuration and its public demo
    /// secrets are used.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The address to listen on, overriding the file's `listen` (default 127.0.0.1:8080). With
    /// the demo configuration, only a loopback address is accepted.
    #[arg(long)]
    listen: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "webhook-gateway stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = match &args.config {
        Some(path) => Config::from_toml(&std::fs::read_to_string(path)?)?,
        None => {
            tracing::warn!(
                "no --config: demo configuration with the public demo secrets of the README \
                 (loopback addresses only; GET /events takes the README's demo token)"
            );
            Config::demo()
        }
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    // `build` refuses the demo secrets on a non-loopback `listen`; the bound address is
    // checked again, as it is what clients reach.
    let gateway = build_gateway(&config).await?;
    // `kill -HUP <pid>`: the routes' secrets are read again from the `[secrets]` source and
    // swapped in, without a restart.
    #[cfg(unix)]
    let _sighup = webhook_gateway::reload_on_sighup(gateway.reloader.clone())?;
    let listener = tokio::net::TcpListener::bind(&config.listen).await?;
    let addr = listener.local_addr()?;
    config.check_listen(addr)?;
    tracing::info!(%addr, "listening");
    serve(listener, gateway.router, shutdown_signal()).await?;
    Ok(())
}
