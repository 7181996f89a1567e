//! `palisade url check`: would an outbound request to this URL be allowed (SSRF guard)?

use clap::{Args, Subcommand};
use palisade_sanitize::url::{IpLiterals, UrlError, UrlPolicy};

use crate::Outcome;

/// `palisade url …`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check a URL against the SSRF policy: prints `allowed` (exit 0) or `blocked: <reason>`
    /// (exit 1).
    ///
    /// The default policy: `https` and `http` on their default ports, any public host, public
    /// IP literals allowed; refused: every IANA special-purpose IPv4/IPv6 range (loopback,
    /// private, link-local and 169.254.169.254, CGNAT, documentation, multicast, reserved, …)
    /// in any spelling (decimal, octal, hex, short IPv4, IPv4 inside IPv6), `localhost`,
    /// `*.internal` and other internal names, single-label names, user info.
    ///
    /// With `--allow-host`, only the listed hosts pass (`api.example.com` exactly,
    /// `*.example.com` any name under it); IP literals then pass only when listed, or, with
    /// `--allow-ip-literals`, when public. Without `--allow-host`, `--allow-ip-literals`
    /// changes nothing: public IP literals already pass.
    ///
    /// Without `--resolve` no DNS is used: a name is checked as written. With it, the name is
    /// resolved and every address of the answer must pass.
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
}

/// Arguments of `palisade url check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The URL to check.
    url: String,
    /// Allow only these hosts (repeatable): `api.example.com`, `*.example.com`, `203.0.113.7`.
    #[arg(long = "allow-host", value_name = "HOST")]
    allow_host: Vec<String>,
    /// With `--allow-host`: let public IP literals through too.
    #[arg(long)]
    allow_ip_literals: bool,
    /// Resolve the host name (system resolver) and check every address of the answer.
    #[arg(long)]
    resolve: bool,
}

/// Runs `palisade url …`.
pub(crate) fn run(cmd: Command) -> Outcome {
    match cmd {
        Command::Check(args) => check(&args),
    }
}

fn check(args: &CheckArgs) -> Outcome {
    let mut policy = UrlPolicy::new();
    for host in &args.allow_host {
        policy = match policy.allow_host(host) {
            Ok(p) => p,
            Err(e) => return Outcome::Usage(format!("--allow-host: {e}")),
        };
    }
    if args.allow_ip_literals {
        policy = policy.ip_literals(IpLiterals::Allow);
    }
    let checked = match policy.check(&args.url) {
        Ok(c) => c,
        Err(e) => return Outcome::Blocked(reason(&e)),
    };
    if args.resolve {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
        {
            Ok(r) => r,
            Err(e) => return Outcome::Usage(format!("cannot start the resolver: {e}")),
        };
        let resolved = runtime.block_on(palisade_sanitize::resolve::resolve_and_check(
            &policy, &checked,
        ));
        if let Err(e) = resolved {
            return Outcome::Blocked(reason(&e));
        }
    }
    Outcome::Ok("allowed\n".to_owned())
}

/// The text after `blocked: `.
fn reason(e: &UrlError) -> String {
    match e {
        UrlError::Blocked { reason } => reason.to_string(),
        other => other.to_string(),
    }
}
