//! Named secrets from environment variables, Docker/Kubernetes secret files, or `.env` files
//! in development; cached with a TTL, validated at startup (every missing secret named in one
//! error), rotated without a restart (values rebuilt and swapped behind `arc-swap` when the
//! secrets change), with a key-age check that warns and sets a gauge.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// Emits one event named `$name` (also in its `event` field) with target `palisade_secrets`
/// (in scope for the modules declared below it).
macro_rules! emit {
    ($level:expr, $name:expr, $($fields:tt)+) => {
        ::tracing::event!(name: $name, target: "palisade_secrets", $level, event = $name, $($fields)+)
    };
}

mod age;
mod cache;
mod dir;
mod dotenv;
mod env;
mod error;
mod rotation;
mod secret;
mod source;

pub use age::{QUARTERLY, check_ages};
pub use cache::{CachedSource, DEFAULT_TTL};
pub use dir::DirectorySource;
pub use dotenv::{DotenvSource, ENVIRONMENT_VAR, Environment};
pub use env::{CREATED_AT_SUFFIX, EnvSource};
pub use error::SecretsError;
pub use rotation::{Reload, Rotation};
pub use secret::{MAX_NAME_LEN, MAX_SECRET_LEN, Secret, SecretSet, check_name};
pub use source::{SecretSource, require};

/// `arc-swap`'s [`ArcSwap`], which a [`Rotation`] stores its value in.
pub use arc_swap::ArcSwap;
/// The secret types values are held in, and the trait that exposes them.
pub use secrecy::{ExposeSecret, SecretString};
