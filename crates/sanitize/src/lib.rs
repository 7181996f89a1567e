//! Input that cannot hurt you: phone numbers in E.164, path joins that stay in their base,
//! text without control characters or bidi overrides, JSON within limits and without
//! MongoDB operators.
//!
//! ```
//! use palisade_sanitize::phone::{PhoneNumber, Region};
//!
//! let us = Region::new("US")?;
//! assert_eq!(PhoneNumber::parse("(415) 555-0123", Some(us))?.e164(), "+14155550123");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod phone;
