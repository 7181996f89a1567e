//! `palisade webhook verify` and `palisade webhook sign`.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use palisade_webhook::{
    AnyScheme, Message, Provider, Request, SecretString, Tolerance, Verifier, WebhookError,
};

use crate::{Outcome, parse_secret};

/// The providers offered on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ProviderArg {
    /// Standard Webhooks / Svix (`webhook-*` or `svix-*` headers).
    Standard,
    /// Stripe (`Stripe-Signature`).
    Stripe,
    /// GitHub (`X-Hub-Signature-256`).
    Github,
    /// Meta / WhatsApp Cloud API (`X-Hub-Signature-256`).
    Meta,
    /// Slack (`X-Slack-Signature`, `X-Slack-Request-Timestamp`).
    Slack,
    /// Twilio (`X-Twilio-Signature`; needs --url).
    Twilio,
    /// Shopify (`X-Shopify-Hmac-Sha256`).
    Shopify,
    /// Vapi's default HMAC credential (`x-signature`/`x-timestamp`); not `x-vapi-secret`.
    Vapi,
}

impl From<ProviderArg> for Provider {
    fn from(p: ProviderArg) -> Self {
        match p {
            ProviderArg::Standard => Self::Standard,
            ProviderArg::Stripe => Self::Stripe,
            ProviderArg::Github => Self::GitHub,
            ProviderArg::Meta => Self::Meta,
            ProviderArg::Slack => Self::Slack,
            ProviderArg::Twilio => Self::Twilio,
            ProviderArg::Shopify => Self::Shopify,
            ProviderArg::Vapi => Self::Vapi,
        }
    }
}

/// `palisade webhook …`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Verify a request: prints `valid` (exit 0) or `invalid: <reason>` (exit 1).
    Verify(VerifyArgs),
    /// Sign a body as the provider would: prints one `Name: value` header per line.
    Sign(SignArgs),
}

/// Where the secrets come from; at least one is required. The secrets are held as
/// [`SecretString`]s from parsing on, so `Debug` of the parsed arguments shows
/// `[REDACTED]`, never a secret.
#[derive(Debug, Args)]
pub(crate) struct SecretArgs {
    /// A webhook secret (repeat for rotation: any may match; signing uses the first).
    /// Visible to other local users in the process list: prefer --secret-env.
    #[arg(long = "secret", value_name = "S", value_parser = parse_secret)]
    secrets: Vec<SecretString>,
    /// Name of an environment variable holding a secret (repeatable).
    #[arg(long = "secret-env", value_name = "VAR")]
    secret_envs: Vec<String>,
}

/// Arguments of `palisade webhook verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The sender's signature scheme.
    #[arg(long, value_enum)]
    provider: ProviderArg,
    #[command(flatten)]
    secrets: SecretArgs,
    /// A request header, as `Name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The public URL the request was sent to (Twilio signs it).
    #[arg(long)]
    url: Option<String>,
    /// Verify as if the time were this, in Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<i64>,
    /// Accepted timestamp skew, in seconds, each way (default 300).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    tolerance: u64,
    /// Read the body from this file instead of standard input.
    #[arg(long, value_name = "PATH")]
    body_file: Option<PathBuf>,
}

/// Arguments of `palisade webhook sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The sender's signature scheme.
    #[arg(long, value_enum)]
    provider: ProviderArg,
    #[command(flatten)]
    secrets: SecretArgs,
    /// Sign at this time, in Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    timestamp: Option<i64>,
    /// The message id (Standard Webhooks `webhook-id`; default: a random `msg_…`).
    #[arg(long)]
    id: Option<String>,
    /// The public URL the request is sent to (required for Twilio).
    #[arg(long)]
    url: Option<String>,
    /// Read the body from this file instead of standard input.
    #[arg(long, value_name = "PATH")]
    body_file: Option<PathBuf>,
}

/// Runs a `webhook` subcommand.
pub(crate) fn run(cmd: Command) -> Outcome {
    let result = match cmd {
        Command::Verify(args) => verify(&args),
        Command::Sign(args) => sign(&args),
    };
    result.unwrap_or_else(|e| e)
}

fn verify(args: &VerifyArgs) -> Result<Outcome, Outcome> {
    let verifier = verifier(args.provider, &args.secrets)?
        .with_tolerance(Tolerance::symmetric(args.tolerance));
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let body = read_body(args.body_file.as_ref())?;
    let mut request = Request::new(&headers, &body);
    if let Some(url) = &args.url {
        request = request.with_url(url);
    }
    let result = match args.now {
        Some(now) => verifier.verify_at(&request, now),
        None => verifier.verify(&request),
    };
    match result {
        Ok(_) => Ok(Outcome::Ok("valid\n".to_owned())),
        Err(e) if is_usage(&e) => Err(Outcome::Usage(e.to_string())),
        Err(e) => Ok(Outcome::Invalid(detail(&e))),
    }
}

/// The reason shown to the operator. The error's `Display` is made to be sent to a client and
/// hides the skew and tolerance; the operator checking a request wants them.
fn detail(e: &WebhookError) -> String {
    match e {
        WebhookError::TimestampOutsideTolerance {
            skew_secs,
            tolerance_secs,
        } => format!(
            "timestamp outside tolerance: signed {} s {} (tolerance {tolerance_secs} s)",
            skew_secs.unsigned_abs(),
            if *skew_secs >= 0 {
                "ago"
            } else {
                "in the future"
            }
        ),
        other => other.to_string(),
    }
}

fn sign(args: &SignArgs) -> Result<Outcome, Outcome> {
    let verifier = verifier(args.provider, &args.secrets)?;
    let body = read_body(args.body_file.as_ref())?;
    let mut message = Message::new(&body);
    if let Some(t) = args.timestamp {
        message = message.timestamp(t);
    }
    if let Some(id) = &args.id {
        message = message.id(id);
    }
    if let Some(url) = &args.url {
        message = message.url(url);
    }
    verifier
        .sign(&message)
        .map(|headers| Outcome::Ok(headers.to_string()))
        .map_err(|e| Outcome::Usage(e.to_string()))
}

/// Configuration problems, as opposed to a request that fails verification.
fn is_usage(e: &WebhookError) -> bool {
    matches!(
        e,
        WebhookError::InvalidSecret { .. }
            | WebhookError::SecretTooShort { .. }
            | WebhookError::NoSecrets
            | WebhookError::InvalidConfig { .. }
            | WebhookError::MissingUrl
            | WebhookError::InvalidUrl { .. }
            | WebhookError::MissingMethod
    )
}

fn verifier(provider: ProviderArg, args: &SecretArgs) -> Result<Verifier<AnyScheme>, Outcome> {
    let mut secrets: Vec<SecretString> = args.secrets.clone();
    for var in &args.secret_envs {
        let value = std::env::var(var).map_err(|_| {
            Outcome::Usage(format!(
                "environment variable `{var}` is not set or not UTF-8"
            ))
        })?;
        secrets.push(SecretString::from(value));
    }
    if secrets.is_empty() {
        return Err(Outcome::Usage(
            "give at least one --secret or --secret-env".to_owned(),
        ));
    }
    let scheme =
        AnyScheme::for_provider(provider.into()).map_err(|e| Outcome::Usage(e.to_string()))?;
    Verifier::new(scheme, secrets).map_err(|e| Outcome::Usage(e.to_string()))
}

fn parse_header(raw: &str) -> Result<(String, String), Outcome> {
    let (name, value) = raw
        .split_once(':')
        .filter(|(n, _)| !n.trim().is_empty())
        .ok_or_else(|| {
            Outcome::Usage(format!(
                "--header wants `Name: value`, got `{}`",
                truncate(raw)
            ))
        })?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

/// Header values may be long or odd; echo at most 40 characters back.
fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

fn read_body(path: Option<&PathBuf>) -> Result<Vec<u8>, Outcome> {
    match path {
        Some(p) => std::fs::read(p)
            .map_err(|e| Outcome::Usage(format!("cannot read {}: {e}", p.display()))),
        None => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .map_err(|e| Outcome::Usage(format!("cannot read standard input: {e}")))?;
            Ok(body)
        }
    }
}
