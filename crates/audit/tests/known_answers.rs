//! Known answers pinning the canonical encoding (version 1), the event MAC, the JSON line
//! and the checkpoint's signed message and signature (docs/formats.md shows the same bytes).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use palisade_audit::{
    Action, Actor, ChainKey, ChainKeys, CheckpointSigner, ClientAddress, EventDraft, Head, Reason,
    Resource, Sealer, SecretBox, verify,
};
use palisade_rbac::{RoleName, TenantId};

fn key() -> ChainKey {
    let bytes: [u8; 32] = std::array::from_fn(|i| u8::try_from(i).unwrap());
    ChainKey::new(1, SecretBox::new(Box::new(bytes))).unwrap()
}

fn event() -> palisade_audit::Event {
    let draft = EventDraft::new(
        TenantId::new("tenant-42").unwrap(),
        Actor::parse("u-7")
            .unwrap()
            .with_role(RoleName::new("agent").unwrap()),
        Action::EXPORT,
        Resource::parse("lead:lead-17").unwrap(),
    )
    .with_reason(Reason::new("customer asked for a copy").unwrap())
    .with_client(ClientAddress::truncated("203.0.113.77".parse().unwrap()))
    .at(1_764_972_000_000);
    let mut sealed = Sealer::new(ChainKeys::new(key()))
        .seal(&Head::GENESIS, draft)
        .unwrap();
    sealed.pop().unwrap()
}

// Cross-checked with Python's `hmac`/`hashlib` (the MAC) and `cryptography`'s Ed25519 (the
// signature, deterministic per RFC 8032) when the values were committed.
const CANONICAL_HEX: &str = "504155440100000000000000010000000100000000000000000000000000000000000000000000000000000000000000000000000974656e616e742d34320000019af087730000000003752d37000000056167656e74000000066578706f7274000000046c656164000000076c6561642d313700000019637573746f6d65722061736b656420666f72206120636f707900000000126e65743a3230332e302e3131332e302f3234";
const MAC_HEX: &str = "a7f1cb7a00e9ddae8fd195a34045732ffa215170b5e38400be98268737ab8a00";
const LINE: &str = r#"{"v":1,"tenant":"tenant-42","seq":1,"epoch":1,"time":1764972000000,"actor":"u-7","role":"agent","action":"export","resource":"lead:lead-17","reason":"customer asked for a copy","outcome":"success","client":"net:203.0.113.0/24","prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"a7f1cb7a00e9ddae8fd195a34045732ffa215170b5e38400be98268737ab8a00"}"#;
const CHECKPOINT_MESSAGE_HEX: &str = "70616c69736164652d61756469742f636865636b706f696e742f76310000000974656e616e742d3432000000000000000100000001a7f1cb7a00e9ddae8fd195a34045732ffa215170b5e38400be98268737ab8a000000019af0885d60";
const CHECKPOINT_LINE: &str = r#"{"v":1,"tenant":"tenant-42","seq":1,"epoch":1,"mac":"a7f1cb7a00e9ddae8fd195a34045732ffa215170b5e38400be98268737ab8a00","time":1764972060000,"public_key":"2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12","signature":"37161ba676d3af3c09f251ff27225cc1272f54e7efaa757e1e2cc17bc97fe22fe147d7e881dc7bdb98d5357a4238a57817eab463aead2d9540b0be9dfb8cfb07"}"#;

#[test]
fn canonical_encoding_and_mac_are_pinned() {
    let e = event();
    let signer = CheckpointSigner::from_seed(&SecretBox::new(Box::new([0x42; 32])));
    let cp = signer.sign(&e.tenant, &Head::after(&e), 1_764_972_060_000);
    assert_eq!(hex::encode(e.canonical()), CANONICAL_HEX);
    assert_eq!(e.mac.to_hex(), MAC_HEX);
    assert_eq!(e.to_json_line(), LINE);
    assert_eq!(hex::encode(cp.signed_message()), CHECKPOINT_MESSAGE_HEX);
    assert_eq!(cp.to_json_line(), CHECKPOINT_LINE);
    cp.verify(&signer.public_key()).unwrap();
    assert_eq!(
        palisade_audit::Checkpoint::from_json_line(CHECKPOINT_LINE).unwrap(),
        cp
    );
    assert_eq!(palisade_audit::Event::from_json_line(LINE).unwrap(), e);
    verify(&ChainKeys::new(key()), &e.tenant, Head::GENESIS, [&e]).unwrap();
}
