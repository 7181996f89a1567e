//! Helpers shared by the fuzz targets of `palisade-webhook`.
//!
//! Every target reads its input as fields separated by [`SEP`] (`\n`): header values first,
//! the raw body last. The last field keeps everything after the previous separator, so bodies
//! may contain `\n` and arbitrary bytes. A field the input is too short to reach is an absent
//! header (or an empty body).

use std::sync::Arc;

use palisade_webhook::{ManualClock, Scheme, Timestamp, Verifier};

/// The byte that separates fields.
pub const SEP: u8 = b'\n';

/// The fixed "now" of every target, in Unix seconds (2023-11-14T22:13:20Z).
pub const NOW: i64 = 1_700_000_000;

/// Splits `data` into at most `N` fields on [`SEP`]; the last field keeps the rest.
pub fn fields<const N: usize>(data: &[u8]) -> [Option<&[u8]>; N] {
    let mut out = [None; N];
    let mut parts = data.splitn(N, |b| *b == SEP);
    for slot in &mut out {
        *slot = parts.next();
    }
    out
}

/// `(name, value)` pairs for the fields that are present.
pub fn pairs<'a>(
    names: &[&'static str],
    values: &[Option<&'a [u8]>],
) -> Vec<(&'static str, &'a [u8])> {
    names
        .iter()
        .zip(values)
        .filter_map(|(n, v)| v.map(|v| (*n, v)))
        .collect()
}

/// The same headers as an [`http::HeaderMap`], when every value is a valid HTTP field value.
pub fn header_map(pairs: &[(&'static str, &[u8])]) -> Option<http::HeaderMap> {
    let mut map = http::HeaderMap::new();
    for (n, v) in pairs {
        let name = http::HeaderName::from_bytes(n.as_bytes()).ok()?;
        let value = http::HeaderValue::from_bytes(v).ok()?;
        map.append(name, value);
    }
    Some(map)
}

/// Lossy UTF-8 view of a field, for APIs that take `&str`.
pub fn text(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
}

/// A verifier whose clock is fixed at [`NOW`], so `sign` and `verify` agree.
pub fn fixed<S: Scheme>(v: Verifier<S>) -> Verifier<S> {
    v.with_clock(Arc::new(ManualClock::new(Timestamp::from_unix_secs(
        NOW.unsigned_abs(),
    ))))
}
