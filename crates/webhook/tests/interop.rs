//! Interop with the providers' official SDKs: each SDK signs and palisade-webhook verifies,
//! and palisade-webhook signs and the SDK verifies; a tampered body fails on both sides.
//!
//! | provider | SDK (registry, version pinned in `tests/interop/`) | functions |
//! |---|---|---|
//! | Stripe | `stripe` (npm) | `webhooks.generateTestHeaderString`, `webhooks.signature.verifyHeader` |
//! | Stripe | `stripe` (PyPI) | `WebhookSignature.generate_signature_header`, `WebhookSignature.verify_header` |
//! | GitHub | `@octokit/webhooks-methods` (npm) | `sign`, `verify` |
//! | Standard Webhooks | `standardwebhooks` (npm and PyPI, the specification's reference libraries) | `Webhook.sign`, `Webhook.verify` |
//! | Twilio | `twilio` (PyPI) | `RequestValidator.compute_signature`, `RequestValidator.validate` |
//! | Slack | `slack_sdk` (PyPI) | `SignatureVerifier.generate_signature`, `SignatureVerifier.is_valid` |
//!
//! Meta, Shopify and Vapi ship no SDK function that signs or verifies a webhook on its own.
//! Meta's scheme is GitHub's and runs GitHub's published vectors (`tests/vectors.rs`); Shopify
//! and Vapi are checked against their documented formats (`tests/providers.rs`).
//!
//! The drivers (`tests/interop/sdk.mjs`, `tests/interop/sdk.py`) read a JSON array of cases
//! on stdin and answer one result per case. The SDKs are installed on first use, from the
//! pinned `package.json` and `requirements.txt`, into `node-<digest>` and `python-<digest>`
//! (digests of the pin files) under `<target>/interop/`, or under `PALISADE_INTEROP_DIR` when
//! it is set (`npm install`, `pip install --target`; the package registries are needed once
//! per pin). These tests fail, never skip, when `node`, `npm` or `python3`
//! is missing or the install fails. The SDKs verify against their own clocks, so messages
//! are signed at the current time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use palisade_webhook::{
    GitHub, Message, Request, Scheme, SecretString, SignedHeaders, Slack, StandardWebhooks, Stripe,
    Twilio, Verifier, WebhookError,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const STRIPE_SECRET: &str = "whsec_palisade_interop_0123456789abcdef";
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TWILIO_TOKEN: &str = "12345678901234567890123456789012";
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// A JSON body with non-ASCII text: the bytes signed are the UTF-8 bytes on every side.
const JSON_BODY: &str =
    r#"{"id":"evt_1","type":"payment_intent.succeeded","note":"café ☕ 東京","amount":4200}"#;
const TWILIO_FORM: &str = "CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212&Body=Hello+w%C3%B6rld";
const TWILIO_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const SLACK_BODY: &str =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather&text=94070";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The body with its last byte changed: still valid UTF-8.
fn tampered(body: &str) -> String {
    let mut s = body.to_owned();
    let last = s.pop().unwrap();
    s.push(if last == '}' { ']' } else { 'X' });
    s
}

// --- the SDKs ----------------------------------------------------------------------------------

struct Sdks {
    /// Holds `node_modules` and a copy of `sdk.mjs` (Node resolves packages from the script).
    node: PathBuf,
    /// The `pip install --target` directory, put on `PYTHONPATH`.
    python: PathBuf,
}

fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// `PALISADE_INTEROP_DIR`, or `interop/` in the target directory that holds this test binary
/// (`<target>/debug/deps/interop-…`).
fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os("PALISADE_INTEROP_DIR") {
        return dir.into();
    }
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .expect("the test binary sits in <target>/<profile>/deps")
        .join("interop")
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| {
        format!("{what}: cannot run ({e}); node, npm and python3 must be installed")
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Installs `what` into `dir` unless it is there: into a scratch directory first, renamed
/// into place when complete, so an interrupted install is never taken for a finished one.
fn install_once(
    dir: &Path,
    what: &str,
    fill: impl Fn(&Path) -> Result<(), String>,
) -> Result<(), String> {
    if dir.exists() {
        return Ok(());
    }
    let scratch = dir.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{what}: {e}"))?;
    fill(&scratch)?;
    match std::fs::rename(&scratch, dir) {
        Ok(()) => Ok(()),
        // Another test process finished the same install first.
        Err(_) if dir.exists() => {
            let _ = std::fs::remove_dir_all(&scratch);
            Ok(())
        }
        Err(e) => Err(format!("{what}: {e}")),
    }
}

fn install() -> Result<Sdks, String> {
    let src = sources();
    let read = |name: &str| std::fs::read(src.join(name)).map_err(|e| format!("{name}: {e}"));
    let package = read("package.json")?;
    let requirements = read("requirements.txt")?;
    let digest = |bytes: &[u8]| hex::encode(&Sha256::digest(bytes)[..8]);
    let root = root();
    let node = root.join(format!("node-{}", digest(&package)));
    let python = root.join(format!("python-{}", digest(&requirements)));

    install_once(&node, "npm install", |dir| {
        std::fs::write(dir.join("package.json"), &package).map_err(|e| e.to_string())?;
        run(
            Command::new("npm")
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--no-package-lock",
                    "--silent",
                ])
                .current_dir(dir),
            "npm install (tests/interop/package.json)",
        )
    })?;
    install_once(&python, "pip install", |dir| {
        run(
            Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(["--no-warn-script-location", "--target"])
                .arg(dir)
                .arg("-r")
                .arg(src.join("requirements.txt"))
                .env("PIP_ROOT_USER_ACTION", "ignore"),
            "pip install (tests/interop/requirements.txt)",
        )
    })?;
    // Installs for other pins are stale: removed (best effort), so they do not pile up.
    if let Ok(entries) = std::fs::read_dir(&root) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path != node && path != python && !path.to_string_lossy().contains(".partial-") {
                let _ = std::fs::remove_dir_all(path);
            }
        }
    }
    // The driver itself is copied on every run of the tests, so an edit takes effect.
    std::fs::copy(src.join("sdk.mjs"), node.join("sdk.mjs"))
        .map_err(|e| format!("sdk.mjs: {e}"))?;
    Ok(Sdks { node, python })
}

fn sdks() -> &'static Sdks {
    static SDKS: OnceLock<Sdks> = OnceLock::new();
    SDKS.get_or_init(|| install().unwrap_or_else(|e| panic!("the providers' SDKs: {e}")))
}

/// Sends `cases` to a driver and returns its results, one per case.
fn drive(mut cmd: Command, cases: &[Value]) -> Vec<Value> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "SDK driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), cases.len());
    results
}

fn node(cases: &[Value]) -> Vec<Value> {
    let sdks = sdks();
    let mut cmd = Command::new("node");
    cmd.arg(sdks.node.join("sdk.mjs"));
    drive(cmd, cases)
}

fn python(cases: &[Value]) -> Vec<Value> {
    let sdks = sdks();
    let mut cmd = Command::new("python3");
    cmd.arg(sources().join("sdk.py"))
        .env("PYTHONPATH", &sdks.python)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    drive(cmd, cases)
}

// --- the two directions ------------------------------------------------------------------------

fn headers_from_json(value: &Value) -> Vec<(String, String)> {
    value["headers"]
        .as_object()
        .unwrap_or_else(|| panic!("no headers in {value}"))
        .iter()
        .map(|(n, v)| (n.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn headers_to_json(headers: &SignedHeaders) -> Value {
    Value::Object(
        headers
            .iter()
            .map(|(n, v)| (n.to_owned(), Value::String(v.to_owned())))
            .collect(),
    )
}

/// One provider's round: our verifier (and one with another secret), the case fields both
/// sides share, and the SDK driver.
struct Round<'a, S: Scheme> {
    verifier: Verifier<S>,
    other: Verifier<S>,
    /// `provider`, `secret`, and the fields of the message (`id`, `url`, `algorithm`).
    case: Value,
    body: &'a str,
    sdk: fn(&[Value]) -> Vec<Value>,
}

/// Another secret, valid for every scheme (a Standard Webhooks key is base64 of 24–64 bytes).
const OTHER_SECRET: &str = "whsec_QW5vdGhlciBzZWNyZXQsIDI0IGJ5dGVzIGxvbmc=";

impl<'a, S: Scheme + Copy> Round<'a, S> {
    fn new(
        scheme: S,
        provider: &str,
        key: &str,
        body: &'a str,
        sdk: fn(&[Value]) -> Vec<Value>,
    ) -> Self {
        Self {
            verifier: Verifier::new(scheme, [secret(key)]).unwrap(),
            other: Verifier::new(scheme, [secret(OTHER_SECRET)]).unwrap(),
            case: json!({"provider": provider, "secret": key}),
            body,
            sdk,
        }
    }

    fn url(mut self, url: &str) -> Self {
        self.case["url"] = json!(url);
        self
    }

    fn id(mut self, id: &str) -> Self {
        self.case["id"] = json!(id);
        self
    }

    fn both_ways(&self) {
        self.sdk_signs();
        self.we_sign();
    }
}

impl<S: Scheme> Round<'_, S> {
    fn case(&self, op: &str, body: &str) -> Value {
        let mut case = self.case.clone();
        case["op"] = json!(op);
        case["body"] = json!(body);
        case["timestamp"] = json!(now());
        case
    }

    /// A string field of the case (`url`, `id`).
    fn field(&self, name: &str) -> Option<&str> {
        self.case.get(name).and_then(Value::as_str)
    }

    fn verify_with(
        &self,
        verifier: &Verifier<S>,
        headers: &[(String, String)],
        body: &str,
    ) -> Result<(), WebhookError> {
        let mut request = Request::new(&headers, body.as_bytes());
        if let Some(url) = self.field("url") {
            request = request.with_url(url);
        }
        verifier.verify(&request).map(|_| ())
    }

    /// The SDK signs; we verify the body, and refuse a tampered body and another secret.
    fn sdk_signs(&self) {
        let signed = (self.sdk)(&[self.case("sign", self.body)]);
        let headers = headers_from_json(&signed[0]);
        if let Err(e) = self.verify_with(&self.verifier, &headers, self.body) {
            panic!(
                "{}: the SDK's signature is refused: {e:?} ({headers:?})",
                self.case
            );
        }
        // A body bound by Twilio's `bodySHA256` fails its hash before any signature.
        assert!(matches!(
            self.verify_with(&self.verifier, &headers, &tampered(self.body)),
            Err(WebhookError::NoMatchingSignature | WebhookError::BodyHashMismatch)
        ));
        assert!(matches!(
            self.verify_with(&self.other, &headers, self.body),
            Err(WebhookError::NoMatchingSignature)
        ));
    }

    /// We sign; the SDK accepts the body and refuses a tampered one.
    fn we_sign(&self) {
        let mut message = Message::new(self.body.as_bytes()).timestamp(now());
        if let Some(url) = self.field("url") {
            message = message.url(url);
        }
        if let Some(id) = self.field("id") {
            message = message.id(id);
        }
        let headers = headers_to_json(&self.verifier.sign(&message).unwrap());
        let mut good = self.case("verify", self.body);
        good["headers"] = headers.clone();
        let mut bad = self.case("verify", &tampered(self.body));
        bad["headers"] = headers;
        let results = (self.sdk)(&[good, bad]);
        assert_eq!(
            results[0]["valid"],
            json!(true),
            "{}: the SDK refuses our signature: {}",
            self.case,
            results[0]
        );
        assert_eq!(results[1]["valid"], json!(false), "{}", self.case);
    }
}

// --- the providers -----------------------------------------------------------------------------

#[test]
fn stripe_node_sdk() {
    Round::new(Stripe, "stripe", STRIPE_SECRET, JSON_BODY, node).both_ways();
}

#[test]
fn stripe_python_sdk() {
    Round::new(Stripe, "stripe", STRIPE_SECRET, JSON_BODY, python).both_ways();
}

#[test]
fn github_octokit_webhooks_methods() {
    Round::new(GitHub::new(), "github", GITHUB_SECRET, JSON_BODY, node).both_ways();
}

#[test]
fn standard_webhooks_reference_library() {
    let provider = "standard-webhooks";
    Round::new(StandardWebhooks, provider, STANDARD_SECRET, JSON_BODY, node)
        .id("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
        .both_ways();
}

#[test]
fn standard_webhooks_python_library() {
    let provider = "standard-webhooks";
    Round::new(
        StandardWebhooks,
        provider,
        STANDARD_SECRET,
        JSON_BODY,
        python,
    )
    .id("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
    .both_ways();
}

#[test]
fn twilio_python_sdk_form_body() {
    Round::new(
        Twilio::default(),
        "twilio",
        TWILIO_TOKEN,
        TWILIO_FORM,
        python,
    )
    .url(TWILIO_URL)
    .both_ways();
}

#[test]
fn twilio_python_sdk_form_body_hmac_sha256() {
    // A SharedKey webhook: `X-Twilio-Webhooks-Signature-Settings: algorithm=HMAC_SHA256`.
    let mut round = Round::new(
        Twilio::signing_sha256(),
        "twilio",
        TWILIO_TOKEN,
        TWILIO_FORM,
        python,
    )
    .url(TWILIO_URL);
    round.case["algorithm"] = json!("HMAC_SHA256");
    round.both_ways();
}

#[test]
fn twilio_python_sdk_json_body_bound_by_body_sha256() {
    let url = format!(
        "https://mycompany.com/myapp?bodySHA256={}",
        hex::encode(Sha256::digest(JSON_BODY.as_bytes()))
    );
    Round::new(Twilio::default(), "twilio", TWILIO_TOKEN, JSON_BODY, python)
        .url(&url)
        .both_ways();
}

#[test]
fn slack_python_sdk() {
    Round::new(Slack, "slack", SLACK_SECRET, SLACK_BODY, python).both_ways();
}
