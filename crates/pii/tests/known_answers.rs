//! Known answers of Palisade's own formats: with fixed root keys, a fixed KEK, a fixed nonce
//! sequence (`Keyring::with_test_nonces`, feature `testing`) and a fixed context, the
//! envelope (binary and text, AES-256-GCM and AES-256-GCM-SIV), the HKDF field keys and info
//! strings, the associated data, the wrapped keyset and the blind indexes must equal the
//! committed bytes below. They were computed by an independent implementation (Python's
//! `hmac`/`hashlib` and `cryptography`'s AES-GCM and AES-GCM-SIV) from the layouts in
//! `docs/formats.md`, and are that document's examples.
//!
//! Any change of a byte layout (header, associated data, HKDF info, labels, keyset wrapping
//! or MAC input, blind-index input) changes these bytes and fails this test: such a change
//! makes every stored value unreadable, so it needs a new format version, not an edit.
//!
//! Each derived key is checked twice: recomputed from its committed info string with HKDF
//! (RFC 5869, whose own vectors are checked at the end), and bound to what the library does
//! by opening the library's output under it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use palisade_pii::primitive::{open, seal};
use palisade_pii::{Algorithm, BlindIndex, Context, Envelope, Kek, Keyring, Normalizer, PiiError};
use secrecy::ExposeSecret;
use sha2::Sha256;

// ---- fixed inputs ----

/// The encryption root key (id 1): bytes 0x00 to 0x1f.
const ENC_ROOT: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// The index root key (id 1): bytes 0x20 to 0x3f.
const IDX_ROOT: &str = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
/// The key-encryption key: bytes 0x40 to 0x5f.
const KEK: &str = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";
/// Envelope nonces.
const NONCE_GCM: &str = "606162636465666768696a6b";
const NONCE_SIV: &str = "909192939495969798999a9b";
/// Key-wrapping nonces (encryption key, then index key).
const NONCE_WRAP_ENC: &str = "707172737475767778797a7b";
const NONCE_WRAP_IDX: &str = "808182838485868788898a8b";

const CTX: Context<'static> = Context::new("tenant-42", "leads", "phone", "lead-17");
const PLAINTEXT: &[u8] = b"+14389007409";

/// A keyring holding exactly `ENC_ROOT` (as a primary key of `algorithm`) and `IDX_ROOT`,
/// loaded from an unprotected keyset (the only way to give a keyring chosen keys).
fn keyring(algorithm: &str) -> Keyring {
    let json = format!(
        r#"{{"format":"palisade-pii-keyset","version":1,"protection":"none",
            "encryption_keys":[{{"id":1,"status":"primary","algorithm":"{algorithm}",
              "material":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}}],
            "index_keys":[{{"id":1,"status":"primary",
              "material":"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"}}]}}"#
    );
    Keyring::from_json_unprotected(&json).unwrap()
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn h12(s: &str) -> [u8; 12] {
    h(s).try_into().unwrap()
}

fn h32(s: &str) -> [u8; 32] {
    h(s).try_into().unwrap()
}

fn hkdf_sha256(ikm: &str, info: &str) -> String {
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(None, &h(ikm))
        .expand(&h(info), &mut okm)
        .unwrap();
    hex::encode(okm)
}

fn hmac_sha256(key: &str, input: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&h(key)).unwrap();
    mac.update(&h(input));
    hex::encode(mac.finalize().into_bytes())
}

// ---- committed answers ----

/// HKDF info of the AES-256-GCM key of `leads.phone`.
const FIELD_INFO_GCM: &str = concat!(
    "0000000000000019",                                   // length of the label: 25
    "70616c69736164652d7069692f76312f6669656c642d6b6579", // "palisade-pii/v1/field-key"
    "01",                                                 // algorithm id: AES-256-GCM
    "0000000000000005",                                   // length of the table: 5
    "6c65616473",                                         // "leads"
    "0000000000000005",                                   // length of the column: 5
    "70686f6e65",                                         // "phone"
);
/// `HKDF-SHA256(salt = none, IKM = ENC_ROOT, info = FIELD_INFO_GCM, L = 32)`.
const FIELD_KEY_GCM: &str = "2a86cc4c05cb1980ac244ffefe1cc3443e9a4aa2fa28dff38c456d786341ade2";
/// The same for AES-256-GCM-SIV: only the algorithm byte of the info differs.
const FIELD_INFO_SIV: &str = concat!(
    "0000000000000019",
    "70616c69736164652d7069692f76312f6669656c642d6b6579",
    "02", // algorithm id: AES-256-GCM-SIV
    "0000000000000005",
    "6c65616473",
    "0000000000000005",
    "70686f6e65",
);
const FIELD_KEY_SIV: &str = "a285252d05c187e6aa8083b7d632f641d40b1200507c36026474185031c5ca45";

/// Associated data of the AES-256-GCM envelope in `CTX`.
const AAD_GCM: &str = concat!(
    "010100000001",       // header: version 1, algorithm 1, key id 1 (big-endian u32)
    "0000000000000009",   // length of the tenant: 9
    "74656e616e742d3432", // "tenant-42"
    "0000000000000005",   // length of the table
    "6c65616473",         // "leads"
    "0000000000000005",   // length of the column
    "70686f6e65",         // "phone"
    "0000000000000007",   // length of the row: 7
    "6c6561642d3137",     // "lead-17"
);
const AAD_SIV: &str = concat!(
    "010200000001", // header: version 1, algorithm 2, key id 1
    "0000000000000009",
    "74656e616e742d3432",
    "0000000000000005",
    "6c65616473",
    "0000000000000005",
    "70686f6e65",
    "0000000000000007",
    "6c6561642d3137",
);

/// The envelope of `PLAINTEXT` in `CTX` under `ENC_ROOT` (AES-256-GCM) with `NONCE_GCM`.
const ENVELOPE_GCM: &str = concat!(
    "01",                               // version
    "01",                               // algorithm: AES-256-GCM
    "00000001",                         // key id 1
    "606162636465666768696a6b",         // nonce
    "3665fd5850eb2eb5ac8184a6",         // ciphertext (12 bytes, as the plaintext)
    "f399a02893d4bd25414f4ce144b79242", // tag
);
const TEXT_GCM: &str = "pii1.AQEAAAABYGFiY2RlZmdoaWprNmX9WFDrLrWsgYSm85mgKJPUvSVBT0zhRLeSQg";
const ENVELOPE_SIV: &str = concat!(
    "01",
    "02", // algorithm: AES-256-GCM-SIV
    "00000001",
    "909192939495969798999a9b",
    "32f9eb28fe3a846855fc6afe",
    "f3f9fc4fc89050a2a4ccb358c4ea9aa6",
);
const TEXT_SIV: &str = "pii1.AQIAAAABkJGSk5SVlpeYmZqbMvnrKP46hGhV_Gr-8_n8T8iQUKKkzLNYxOqapg";

/// HKDF info of the blind-index key of `leads.phone`.
const INDEX_INFO: &str = concat!(
    "000000000000001b", // length of the label: 27
    "70616c69736164652d7069692f76312f626c696e642d696e646578", // "palisade-pii/v1/blind-index"
    "0000000000000005",
    "6c65616473", // "leads"
    "0000000000000005",
    "70686f6e65", // "phone"
);
/// `HKDF-SHA256(salt = none, IKM = IDX_ROOT, info = INDEX_INFO, L = 32)`.
const INDEX_KEY: &str = "ad178a38869d269210d46361d36b732da80764c7b09bb93ad5aa7f322c316395";
/// HMAC input of `+1 (438) 900-7409` in `tenant-42`, normalized as a phone number.
const INDEX_INPUT: &str = concat!(
    "0000000000000009",
    "74656e616e742d3432", // "tenant-42"
    "000000000000000c",
    "2b3134333839303037343039", // "+14389007409"
);
/// `HMAC-SHA256(INDEX_KEY, INDEX_INPUT)`: the 256-bit index.
const INDEX_MAC: &str = "bde91d5e456826dfe678925e1a7dc1f27c6545075d406770db06151fb9ad9fd2";
/// Its first 32 bits (the default), and its first 12 bits (last 4 bits of the byte zero).
const INDEX_32: &str = "bde91d5e";
const INDEX_12: &str = "bde0";

/// The compound index `leads.country_last4` over (`Text`, `LastDigits(4)`).
const COMPOUND_INFO: &str = concat!(
    "000000000000001b",
    "70616c69736164652d7069692f76312f626c696e642d696e646578",
    "0000000000000005",
    "6c65616473", // "leads"
    "000000000000000d",
    "636f756e7472795f6c61737434", // "country_last4"
);
const COMPOUND_KEY: &str = "0672506a62aab0377c69fec1aa56d197a57de63220267631b3707849542fc404";
const COMPOUND_INPUT: &str = concat!(
    "0000000000000009",
    "74656e616e742d3432", // "tenant-42"
    "0000000000000002",
    "6361", // "ca" (from "CA")
    "0000000000000004",
    "37343039", // "7409"
);
const COMPOUND_32: &str = "d1852d75";

/// Subkeys of the KEK.
const WRAP_INFO: &str = concat!(
    "000000000000001b",
    "70616c69736164652d7069692f76312f6b65797365742d77726170", // "palisade-pii/v1/keyset-wrap"
);
const WRAP_KEY: &str = "71a833d0e828bab16786ae6ae5a8c804f52fc48cee7a2c09868c7460a76d176f";
const MAC_INFO: &str = concat!(
    "000000000000001a",
    "70616c69736164652d7069692f76312f6b65797365742d6d6163", // "palisade-pii/v1/keyset-mac"
);
const MAC_KEY: &str = "8201ac2a0eb2f87209e084c9399fa4553ed1bcb2c06885b40eb1307df4771d86";
/// Associated data of the wrapped encryption key and index key.
const WRAP_AAD_ENC: &str = concat!(
    "000000000000001a",
    "70616c69736164652d7069692f76312f6b65797365742d6b6579", // "palisade-pii/v1/keyset-key"
    "01",                                                   // purpose: encryption
    "00000001",                                             // key id 1
    "01",                                                   // algorithm: AES-256-GCM
);
const WRAP_AAD_IDX: &str = concat!(
    "000000000000001a",
    "70616c69736164652d7069692f76312f6b65797365742d6b6579",
    "02",       // purpose: index
    "00000001", // key id 1
    "00",       // no algorithm
);
/// Wrapped keys: nonce (12), `ENC_ROOT`/`IDX_ROOT` encrypted (32), tag (16).
const WRAPPED_ENC: &str = concat!(
    "707172737475767778797a7b",
    "ec80ff1bc520086bc0b2c20f1c65b8d0b244c3685a7dfe0284ee1675c2f2dceb",
    "7ee4b07e52c86480292cd94045bee152",
);
const WRAPPED_IDX: &str = concat!(
    "808182838485868788898a8b",
    "aa8155f047f14a6c896fcefa5ca2113b6f9eaac249ee505e18294f0eaacc84c7",
    "f9e2d87beecdfb4441432030d8107497",
);
/// The bytes the keyset MAC covers.
const MAC_INPUT: &str = concat!(
    "0000000000000016",
    "70616c69736164652d7069692f76312f6b6579736574", // "palisade-pii/v1/keyset"
    "00000001",                                     // keyset version 1
    "0000000000000001",                             // one encryption key
    "00000001",                                     // id 1
    "01",                                           // status: primary
    "01",                                           // algorithm: AES-256-GCM
    "000000000000003c",                             // 60 bytes of wrapped key
    "707172737475767778797a7bec80ff1bc520086bc0b2c20f1c65b8d0b244c3685a7dfe0284ee1675c2f2dceb7ee4b07e52c86480292cd94045bee152",
    "0000000000000001", // one index key
    "00000001",         // id 1
    "01",               // status: primary
    "00",               // no algorithm
    "000000000000003c",
    "808182838485868788898a8baa8155f047f14a6c896fcefa5ca2113b6f9eaac249ee505e18294f0eaacc84c7f9e2d87beecdfb4441432030d8107497",
);
const MAC: &str = "51a1c71143638bef6a6fd39ea7a3835a5433ce7d1c9011fbbca82916dac4d8ca";
/// The whole keyset document, as `Keyring::to_json` writes it.
const KEYSET_JSON: &str = r#"{
  "format": "palisade-pii-keyset",
  "version": 1,
  "protection": "kek",
  "encryption_keys": [
    {
      "id": 1,
      "status": "primary",
      "algorithm": "aes-256-gcm",
      "material": "cHFyc3R1dnd4eXp77ID_G8UgCGvAssIPHGW40LJEw2haff4ChO4WdcLy3Ot-5LB-UshkgCks2UBFvuFS"
    }
  ],
  "index_keys": [
    {
      "id": 1,
      "status": "primary",
      "material": "gIGCg4SFhoeIiYqLqoFV8EfxSmyJb876XKIRO2-eqsJJ7lBeGClPDqrMhMf54th77s37REFDIDDYEHSX"
    }
  ],
  "mac": "UaHHEUNji-9qb9Oep6ODWlQzzn0ckBH7vKgpFtrE2Mo"
}"#;

// ---- tests ----

/// One algorithm's envelope: the library's binary and text forms, both encryption paths.
fn check_envelope(
    algorithm: Algorithm,
    nonce: &str,
    envelope: &str,
    text: &str,
) -> (Vec<u8>, Vec<u8>) {
    let keyring = || {
        keyring(algorithm.as_str())
            .with_test_nonces([h12(nonce)])
            .unwrap()
    };
    let env = keyring().encrypt(&CTX, PLAINTEXT).unwrap();
    assert_eq!(hex::encode(env.as_bytes()), envelope, "{algorithm} binary");
    assert_eq!(env.to_text(), text, "{algorithm} text");
    assert_eq!(env.to_string(), text);
    // `encrypt_to_text` builds the text form on another path (stack buffer): same answer.
    let k = keyring();
    assert_eq!(k.encrypt_to_text(&CTX, PLAINTEXT).unwrap(), text);
    // The committed answers decrypt, and parse to each other.
    assert_eq!(Envelope::parse(text).unwrap(), env);
    assert_eq!(Envelope::from_bytes(&h(envelope)).unwrap(), env);
    assert_eq!(
        k.decrypt_text(&CTX, text).unwrap().expose_secret(),
        PLAINTEXT
    );
    assert_eq!(
        k.decrypt_bytes(&CTX, &h(envelope)).unwrap().expose_secret(),
        PLAINTEXT
    );
    let bytes = h(envelope);
    (bytes[..18].to_vec(), bytes[18..].to_vec())
}

#[test]
fn envelope_aes_256_gcm() {
    check_envelope(Algorithm::Aes256Gcm, NONCE_GCM, ENVELOPE_GCM, TEXT_GCM);
}

#[test]
fn envelope_aes_256_gcm_siv() {
    check_envelope(Algorithm::Aes256GcmSiv, NONCE_SIV, ENVELOPE_SIV, TEXT_SIV);
}

/// The field keys come from the committed info strings, and the envelopes are exactly the
/// AEAD of the plaintext under them with the committed associated data.
#[test]
fn field_keys_and_associated_data() {
    for (algorithm, info, key, nonce, aad, envelope) in [
        (
            Algorithm::Aes256Gcm,
            FIELD_INFO_GCM,
            FIELD_KEY_GCM,
            NONCE_GCM,
            AAD_GCM,
            ENVELOPE_GCM,
        ),
        (
            Algorithm::Aes256GcmSiv,
            FIELD_INFO_SIV,
            FIELD_KEY_SIV,
            NONCE_SIV,
            AAD_SIV,
            ENVELOPE_SIV,
        ),
    ] {
        assert_eq!(hkdf_sha256(ENC_ROOT, info), key, "{algorithm} field key");
        let envelope = h(envelope);
        let (header_and_nonce, sealed) = envelope.split_at(18);
        // The associated data starts with the envelope's header.
        assert_eq!(&h(aad)[..6], &header_and_nonce[..6]);
        assert_eq!(&header_and_nonce[6..], h12(nonce));
        let (key, nonce, aad) = (h32(key), h12(nonce), h(aad));
        assert_eq!(
            seal(algorithm, &key, &nonce, &aad, PLAINTEXT).unwrap(),
            sealed
        );
        assert_eq!(
            open(algorithm, &key, &nonce, &aad, sealed).unwrap(),
            PLAINTEXT
        );
        // One byte of associated data more or less, and it does not open.
        let mut other = aad.clone();
        other.push(0);
        assert_eq!(
            open(algorithm, &key, &nonce, &other, sealed),
            Err(PiiError::Decryption)
        );
    }
}

#[test]
fn blind_indexes() {
    assert_eq!(hkdf_sha256(IDX_ROOT, INDEX_INFO), INDEX_KEY);
    assert_eq!(hmac_sha256(INDEX_KEY, INDEX_INPUT), INDEX_MAC);
    assert_eq!(&INDEX_MAC[..8], INDEX_32);
    assert_eq!(hkdf_sha256(IDX_ROOT, COMPOUND_INFO), COMPOUND_KEY);
    assert_eq!(&hmac_sha256(COMPOUND_KEY, COMPOUND_INPUT)[..8], COMPOUND_32);

    let k = keyring("aes-256-gcm");
    let phone = BlindIndex::new("leads", "phone", Normalizer::Phone);
    let v = k
        .blind_index(&phone, "tenant-42", "+1 (438) 900-7409")
        .unwrap();
    assert_eq!(v.to_hex(), INDEX_32);
    assert_eq!(v.to_string(), INDEX_32);
    assert_eq!(v.as_u64(), Some(0xbde9_1d5e));
    let full = phone.clone().with_bits(256).unwrap();
    let v = k.blind_index(&full, "tenant-42", "+14389007409").unwrap();
    assert_eq!(v.to_hex(), INDEX_MAC);
    let short = phone.with_bits(12).unwrap();
    let v = k.blind_index(&short, "tenant-42", "+14389007409").unwrap();
    assert_eq!(v.to_hex(), INDEX_12);
    assert_eq!(v.as_u64(), Some(0xbde));

    let compound = BlindIndex::compound(
        "leads",
        "country_last4",
        [Normalizer::Text, Normalizer::LastDigits(4)],
    )
    .unwrap();
    let v = k
        .compound_index(&compound, "tenant-42", &["CA", "+1 438 900 7409"])
        .unwrap();
    assert_eq!(v.to_hex(), COMPOUND_32);
}

#[test]
fn wrapped_keyset() {
    let kek = Kek::from_bytes(&h(KEK)).unwrap();
    let json = keyring("aes-256-gcm")
        .with_test_nonces([h12(NONCE_WRAP_ENC), h12(NONCE_WRAP_IDX)])
        .unwrap()
        .to_json(&kek)
        .unwrap();
    assert_eq!(json, KEYSET_JSON);

    // The KEK's subkeys, the wrapped keys and the MAC, from their committed inputs.
    assert_eq!(hkdf_sha256(KEK, WRAP_INFO), WRAP_KEY);
    assert_eq!(hkdf_sha256(KEK, MAC_INFO), MAC_KEY);
    for (wrapped, aad, root) in [
        (WRAPPED_ENC, WRAP_AAD_ENC, ENC_ROOT),
        (WRAPPED_IDX, WRAP_AAD_IDX, IDX_ROOT),
    ] {
        let wrapped = h(wrapped);
        let (nonce, sealed) = wrapped.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().unwrap();
        let key = open(
            Algorithm::Aes256Gcm,
            &h32(WRAP_KEY),
            &nonce,
            &h(aad),
            sealed,
        )
        .unwrap();
        assert_eq!(hex::encode(key), root);
    }
    assert_eq!(hmac_sha256(MAC_KEY, MAC_INPUT), MAC);
    let doc: serde_json::Value = serde_json::from_str(KEYSET_JSON).unwrap();
    let b64 = |v: &serde_json::Value| {
        use base64::Engine as _;
        let s = v.as_str().unwrap();
        hex::encode(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
    };
    assert_eq!(b64(&doc["encryption_keys"][0]["material"]), WRAPPED_ENC);
    assert_eq!(b64(&doc["index_keys"][0]["material"]), WRAPPED_IDX);
    assert_eq!(b64(&doc["mac"]), MAC);

    // The committed keyset loads, and holds the committed keys.
    let loaded = Keyring::from_json(KEYSET_JSON, &kek).unwrap();
    assert_eq!(
        loaded.decrypt_text(&CTX, TEXT_GCM).unwrap().expose_secret(),
        PLAINTEXT
    );
    let phone = BlindIndex::new("leads", "phone", Normalizer::Phone);
    assert_eq!(
        loaded
            .blind_index(&phone, "tenant-42", "+14389007409")
            .unwrap()
            .to_hex(),
        INDEX_32
    );
}

/// The test-only nonce sequence never repeats a nonce and never falls back to another
/// source; a keyring using one says so in `Debug`.
#[test]
fn test_nonces_are_used_once() {
    let n = h12(NONCE_GCM);
    assert_eq!(
        keyring("aes-256-gcm").with_test_nonces([n, n]).err(),
        Some(PiiError::Random)
    );
    let k = keyring("aes-256-gcm").with_test_nonces([n]).unwrap();
    assert!(format!("{k:?}").contains("test_nonces: true"), "{k:?}");
    assert!(!format!("{:?}", keyring("aes-256-gcm")).contains("test_nonces"));
    k.encrypt(&CTX, PLAINTEXT).unwrap();
    assert_eq!(k.encrypt(&CTX, PLAINTEXT).err(), Some(PiiError::Random));
    assert_eq!(
        k.encrypt_to_text(&CTX, PLAINTEXT).err(),
        Some(PiiError::Random)
    );
    // A keyring made without it draws fresh random nonces.
    let k = keyring("aes-256-gcm");
    let a = k.encrypt(&CTX, PLAINTEXT).unwrap();
    let b = k.encrypt(&CTX, PLAINTEXT).unwrap();
    assert_ne!(a.as_bytes()[6..18], b.as_bytes()[6..18]);
}

/// RFC 5869 Appendix A, test cases 1 and 3 (SHA-256), through `hkdf` called as the crate
/// calls it (`Hkdf::new(None, …)` is test case 3's empty salt: HashLen zero bytes).
#[test]
fn rfc5869_hkdf_sha256() {
    let ikm = h("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
    let mut okm = [0u8; 42];
    Hkdf::<Sha256>::new(Some(&h("000102030405060708090a0b0c")), &ikm)
        .expand(&h("f0f1f2f3f4f5f6f7f8f9"), &mut okm)
        .unwrap();
    assert_eq!(
        hex::encode(okm),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    );
    Hkdf::<Sha256>::new(None, &ikm)
        .expand(&[], &mut okm)
        .unwrap();
    assert_eq!(
        hex::encode(okm),
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    );
}
