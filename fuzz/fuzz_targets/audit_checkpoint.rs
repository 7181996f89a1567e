//! The checkpoint parser of `palisade-audit` (`Checkpoint::from_json_line`) on arbitrary
//! input: `Ok` or `Err`, never a panic; a checkpoint that parses prints back to a line that
//! parses to the same checkpoint, and checking its signature never panics.
//!
//! Input: one line (read as lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_audit::Checkpoint;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(cp) = Checkpoint::from_json_line(&text) else {
        return;
    };
    let again =
        Checkpoint::from_json_line(&cp.to_json_line()).expect("a printed checkpoint parses");
    assert_eq!(again, cp);
    let _ = cp.verify(&cp.public_key);
    let _ = cp.head();
});
