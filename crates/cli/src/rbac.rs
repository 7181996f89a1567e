//! `palisade rbac check | lint`: a permission against a policy file's roles or a list of
//! scopes, and a policy file's problems.
//!
//! ```text
//! palisade rbac check --policy FILE --roles r1,r2 --permission P
//! palisade rbac check --scopes s1,s2 --permission P
//!     `allow` (exit 0) or `deny: <why>` (exit 1); a policy or syntax error: located message on
//!     stderr (exit 2)
//! palisade rbac lint --policy FILE
//!     one problem per line (unknown roles, cycles, unreachable denies, invalid names or
//!     scopes), exit 1; `ok` and exit 0 when there is none
//! ```
//!
//! A policy file ending in `.json` is read as JSON, any other as TOML.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand};
use palisade_rbac::{Permission, Policy, PolicyError, RoleName, ScopeSet, lint_json, lint_toml};

/// `palisade rbac …`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check a permission against roles of a policy file, or against scopes.
    Check(CheckArgs),
    /// List a policy file's problems: unknown roles, cycles, unreachable denies.
    Lint(LintArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["policy", "scopes"])))]
pub(crate) struct CheckArgs {
    /// The policy file (TOML, or JSON for a `.json` file).
    #[arg(long, value_name = "FILE", requires = "roles")]
    policy: Option<PathBuf>,
    /// The roles held, comma-separated (with --policy).
    #[arg(long, value_name = "R1,R2", requires = "policy")]
    roles: Option<String>,
    /// The scopes held, comma- or space-separated (instead of --policy).
    #[arg(long, value_name = "S1,S2", conflicts_with_all = ["policy", "roles"])]
    scopes: Option<String>,
    /// The permission asked for, such as `bookings:read`.
    #[arg(long, value_name = "P")]
    permission: String,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// The policy file (TOML, or JSON for a `.json` file).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
}

/// What a command ends with: text for stdout and the exit code, or an error for stderr.
enum End {
    Out(String, u8),
    Error(String),
}

pub(crate) fn run(cmd: Command) -> ExitCode {
    let end = match cmd {
        Command::Check(args) => check(&args),
        Command::Lint(args) => lint(&args),
    };
    match end {
        End::Out(text, code) => {
            println!("{text}");
            ExitCode::from(code)
        }
        End::Error(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn check(args: &CheckArgs) -> End {
    let permission: Permission = match args.permission.parse() {
        Ok(p) => p,
        Err(e) => return End::Error(format!("--permission: {e}")),
    };
    if let Some(scopes) = &args.scopes {
        let scopes = match ScopeSet::parse_list(scopes) {
            Ok(s) => s,
            Err(e) => return End::Error(format!("--scopes: {e}")),
        };
        return match scopes.matching(&permission) {
            Some(_) => End::Out("allow".into(), 0),
            None => End::Out(format!("deny: no scope matches `{permission}`"), 1),
        };
    }
    let (Some(path), Some(roles)) = (&args.policy, &args.roles) else {
        return End::Error("--policy FILE --roles R1,R2 or --scopes S1,S2 is required".into());
    };
    let policy = match Policy::load(path) {
        Ok(p) => p,
        Err(e) => return End::Error(e.to_string()),
    };
    let mut names = Vec::new();
    for name in roles.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        let role = match RoleName::new(name) {
            Ok(r) => r,
            Err(e) => return End::Error(format!("--roles: `{name}`: {e}")),
        };
        if policy.role_id(role.as_str()).is_none() {
            return End::Error(format!(
                "--roles: `{name}` is not a role of {}",
                path.display()
            ));
        }
        names.push(role);
    }
    let decision = policy.check_roles(&policy.role_set(&names), &permission);
    if decision.is_allowed() {
        End::Out("allow".into(), 0)
    } else {
        End::Out(format!("deny: {}", decision.explain(&policy)), 1)
    }
}

fn lint(args: &LintArgs) -> End {
    let name = args.policy.display().to_string();
    let text = match std::fs::read_to_string(&args.policy) {
        Ok(t) => t,
        Err(e) => {
            return End::Error(
                PolicyError::Io {
                    file: name,
                    reason: e.to_string(),
                }
                .to_string(),
            );
        }
    };
    let json = args
        .policy
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let problems = if json {
        lint_json(&text, Some(&name))
    } else {
        lint_toml(&text, Some(&name))
    };
    match problems {
        Err(e) => End::Error(e.to_string()),
        Ok(problems) if problems.is_empty() => End::Out("ok".into(), 0),
        Ok(problems) => End::Out(
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            1,
        ),
    }
}
