//! `palisade phone normalize`: a phone number's E.164 form, validated against
//! libphonenumber's metadata (`palisade-sanitize`).

use clap::{Args, Subcommand};
use palisade_sanitize::phone::{PhoneNumber, Region};

use crate::Outcome;

/// `palisade phone …`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print a phone number's E.164 form (`+14155550123`), or `invalid: <reason>` (exit 1)
    /// when it is not a valid number of its country's numbering plan.
    ///
    /// International forms (`+1 (415) 555-0123`) are read without a region; national forms
    /// (`(415) 555-0123`) and the region's international prefix (`001 …` in FR, `011 …` in
    /// US) need `--region`. An extension (`ext. 12`) is accepted and not printed.
    #[command(verbatim_doc_comment)]
    Normalize(NormalizeArgs),
}

/// Arguments of `palisade phone normalize`.
#[derive(Debug, Args)]
pub(crate) struct NormalizeArgs {
    /// The phone number, as written (quote it if it has spaces).
    #[arg(value_name = "INPUT", allow_hyphen_values = true)]
    input: String,
    /// Default region for national numbers: an ISO 3166-1 alpha-2 code (`CA`, `US`, `FR`).
    #[arg(long, value_name = "CC")]
    region: Option<String>,
}

pub(crate) fn run(cmd: Command) -> Outcome {
    match cmd {
        Command::Normalize(args) => normalize(&args),
    }
}

fn normalize(args: &NormalizeArgs) -> Outcome {
    let region = match args.region.as_deref().map(Region::new).transpose() {
        Ok(region) => region,
        Err(e) => return Outcome::Usage(format!("--region: {e}")),
    };
    match PhoneNumber::parse(&args.input, region) {
        Ok(number) => Outcome::Ok(format!("{}\n", number.e164())),
        Err(e) => Outcome::Invalid(e.to_string()),
    }
}
