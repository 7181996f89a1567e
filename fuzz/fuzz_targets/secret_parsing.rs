//! `Verifier::new` with secrets from the input, for Standard Webhooks and every provider
//! through `AnyScheme`: it returns `Ok` or `Err`, never panics; an accepted secret signs and
//! verifies; an error names a secret that exists; `Debug` does not depend on the secret.
//!
//! Input: one or more secrets separated by `\n` (read as lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::{NOW, SEP, fixed};
use palisade_webhook::{
    AnyScheme, Encoding, GitHub, HmacAlgorithm, HmacScheme, Message, Provider, Request, Scheme,
    StandardWebhooks, Verifier, WebhookError,
};
use secrecy::SecretString;

const URL: &str = "https://example.com/hooks";

fn check<S: Scheme + std::fmt::Debug + Clone>(scheme: S, secrets: &[String]) {
    let result = Verifier::new(
        scheme.clone(),
        secrets.iter().map(|s| SecretString::from(s.as_str())),
    );
    match result {
        Ok(v) => {
            // Debug shows no secret: it is the same as with a stand-in secret, when one is
            // accepted.
            if let Ok(other) = Verifier::new(
                scheme,
                secrets
                    .iter()
                    .map(|_| SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
            ) {
                assert_eq!(format!("{v:?}"), format!("{other:?}"));
            }
            let v = fixed(v);
            let body = br#"{"fuzz":true}"#;
            // Signing may be refused (an Ed25519 public key cannot sign); what is signed
            // verifies.
            if let Ok(signed) = v.sign(&Message::new(body).url(URL).method("POST")) {
                let req = Request::new(&signed, body)
                    .with_url(URL)
                    .with_method("POST");
                let ok = v.verify_at(&req, NOW).expect("own signature verifies");
                assert!(ok.secret_index < secrets.len());
            }
        }
        Err(
            WebhookError::InvalidSecret { index, .. } | WebhookError::SecretTooShort { index, .. },
        ) => assert!(index < secrets.len()),
        Err(WebhookError::NoSecrets) => assert!(secrets.is_empty()),
        Err(e) => panic!("unexpected error from Verifier::new: {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let secrets: Vec<String> = data
        .split(|b| *b == SEP)
        .take(4)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();

    check(StandardWebhooks, &secrets);
    for provider in Provider::ALL {
        if let Ok(scheme) = AnyScheme::for_provider(provider) {
            check(scheme, &secrets);
        }
    }
    check(AnyScheme::from(GitHub::with_legacy_sha1()), &secrets);
    let base64_secrets = HmacScheme::builder("X-Signature", HmacAlgorithm::Sha256, Encoding::Hex)
        .secret_is_base64(true)
        .build()
        .expect("valid scheme");
    check(AnyScheme::from(base64_secrets), &secrets);
});
