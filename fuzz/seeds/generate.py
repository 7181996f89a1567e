#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target from the published vectors.

Usage: python3 fuzz/seeds/generate.py [path/to/webhooks.json]
(default: ../shared/vectors/webhooks.json beside the work tree, i.e. /work/shared/...).

Each seed is in its target's input format (fields separated by '\n', body last; see the
comment at the top of each fuzz_targets/<name>.rs). The published vectors are written as
published (their timestamps are long past the targets' fixed `now`, so they exercise the
tolerance check), and re-signed at `now` with the same payloads (so the signature comparison
and the accepting path are reached from the first run). Ed25519 seeds need the `cryptography`
package; without it they are skipped.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import urllib.parse

NOW = 1_700_000_000  # palisade_fuzz::NOW
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VECTORS = os.path.join(HERE, "..", "..", "..", "shared", "vectors", "webhooks.json")


def mac(alg, key, msg):
    return hmac.new(key, msg, alg).digest()


def b64(b):
    return base64.b64encode(b).decode()


def write(target, name, *fields):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    data = b"\n".join(f if isinstance(f, bytes) else f.encode() for f in fields)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def standard(vectors):
    for v in vectors["standard_webhooks"]:
        sig = v.get("expected") or v["expected_invalid"]
        write("standard_signature", v["id"], v["msg_id"], str(v["timestamp"]), sig, v["payload"])
        key = base64.b64decode(v["secret"].removeprefix("whsec_"))
        signed = f'{v["msg_id"]}.{NOW}.{v["payload"]}'.encode()
        good = "v1," + b64(mac(hashlib.sha256, key, signed))
        if "expected" in v and v["secret"] == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw":  # the target's secret
            write("standard_signature", v["id"] + "-at-now", v["msg_id"], str(NOW), good, v["payload"])
        # Several entries, unknown versions, a v1a entry.
        write(
            "standard_signature",
            v["id"] + "-multi",
            v["msg_id"],
            str(NOW),
            f"v2,abc v1,{b64(b'x' * 32)} v1a,{b64(b'y' * 64)} {good}",
            v["payload"],
        )
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        sk = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))  # the target's whsk_
        v = vectors["standard_webhooks"][0]
        msg = f'{v["msg_id"]}.{NOW}.{v["payload"]}'.encode()
        write("standard_signature", "v1a-at-now", v["msg_id"], str(NOW), "v1a," + b64(sk.sign(msg)), v["payload"])
    except ImportError:
        pass


def stripe(vectors):
    secret = b"whsec_test_secret_0123456789"  # the target's first secret
    payloads = [v["payload"] for v in vectors["standard_webhooks"]] + [v["payload"] for v in vectors["github"]]
    for i, p in enumerate(payloads):
        sig = mac(hashlib.sha256, secret, f"{NOW}.{p}".encode()).hex()
        write("stripe_signature", f"signed-{i}", f"t={NOW},v1={sig}", p)
    p = payloads[0]
    sig = mac(hashlib.sha256, secret, f"{NOW}.{p}".encode()).hex()
    write("stripe_signature", "rolling", f" t={NOW}, v1={'0' * 64} ,v1={sig},v0={'f' * 64},x", p)
    write("stripe_signature", "stale", f"t=1614265330,v1={sig}", p)
    write("stripe_signature", "two-t", f"t={NOW},t={NOW},v1={sig}", p)


def hub(vectors):
    for v in vectors["github"]:
        key, body = v["secret"].encode(), v["payload"].encode()
        sha1 = "sha1=" + mac(hashlib.sha1, key, body).hex()
        write("hub_signature", v["id"], v["expected"], sha1, body)
        write("hub_signature", v["id"] + "-upper", v["expected"].upper(), "", body)
        write("hub_signature", v["id"] + "-sha1-only", "", sha1, body)


def slack(vectors):
    for v in vectors["slack"]:
        write("slack_signature", v["id"], v["expected"], v["timestamp"], v["payload"])
        sig = "v0=" + mac(hashlib.sha256, v["secret"].encode(), f'v0:{NOW}:{v["payload"]}'.encode()).hex()
        write("slack_signature", v["id"] + "-at-now", sig, str(NOW), v["payload"])


def shopify(vectors):
    secret = b"shpss_0123456789abcdef"  # the target's first secret
    payloads = [v["payload"] for v in vectors["standard_webhooks"]] + [v["payload"] for v in vectors["github"]]
    for i, p in enumerate(payloads):
        write("shopify_signature", f"signed-{i}", b64(mac(hashlib.sha256, secret, p.encode())), p)
    write("shopify_signature", "unpadded", b64(mac(hashlib.sha256, secret, b"{}")).rstrip("="), "{}")


def twilio(vectors):
    t = vectors["twilio"]
    form = "application/x-www-form-urlencoded"
    for c in t["cases"]:
        if c.get("params_override_empty"):
            body = c["body"]
            ctype = "application/json"
        elif "params_list" in c:
            body = urllib.parse.urlencode([tuple(p) for p in c["params_list"]])
            ctype = form
        else:
            params = dict(t["params"], **c.get("params_override", {}))
            body = urllib.parse.urlencode(params)
            ctype = form
        write("twilio_request", c["id"], c["expected"], "", ctype, c["signed_url"], body)
    # HMAC-SHA256 announced in the settings header, and a URL with an explicit port.
    params = urllib.parse.urlencode(t["params"])
    url = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    parsed = sorted(urllib.parse.parse_qsl(params, keep_blank_values=True))
    signed = (url + "".join(k + v for k, v in parsed)).encode()
    sig = b64(mac(hashlib.sha256, t["auth_token"].encode(), signed))
    write("twilio_request", "sha256-port", sig, "algorithm=HMAC_SHA256", form + "; charset=utf-8", url, params)


def vapi(vectors):
    secret = b"my-server-secret"  # the target's secret
    write("vapi_request", "server-secret", "my-server-secret", "", "", '{"message":{"type":"end-of-call-report"}}')
    for i, v in enumerate(vectors["standard_webhooks"]):
        p = v["payload"]
        sig = mac(hashlib.sha256, secret, f"{NOW}.{p}".encode()).hex()
        # No x-vapi-secret line content: the HMAC plan decides.
        write("vapi_request", f"hmac-{i}", "", sig, str(NOW), p)


def hmac_template(vectors):
    # Config byte bits: 0-1 algorithm, 2 base64, 3 timestamp header, 4 id header,
    # 5 milliseconds, 6 base64 secret, 7 `sha256=` prefix.
    body = vectors["slack"][0]["payload"]
    seeds = {
        "body-only": (0x01, "{body}"),
        "vapi-default": (0x09, "{timestamp}.{body}"),
        "slack-like": (0x89, "v0:{timestamp}:{body}"),
        "svix-like": (0x1D, "{id}.{timestamp}.{body}"),
        "method-url-ms": (0x2A, "{method} {url} {timestamp} {body}"),
        "braces": (0x40, "{{literal}}{body}}}"),
        "unknown-placeholder": (0x01, "{nope}{body}"),
        "svix-id": (0x11, "{svix-id}.{body}"),
    }
    for name, (config, template) in seeds.items():
        write("hmac_template", name, bytes([config]) + template.encode(), body)


def secret_parsing(vectors):
    write("secret_parsing", "standard", vectors["standard_webhooks"][0]["secret"])
    write("secret_parsing", "rotation", vectors["standard_webhooks"][1]["secret"], vectors["standard_webhooks"][0]["secret"])
    write("secret_parsing", "github", vectors["github"][0]["secret"])
    write("secret_parsing", "slack", vectors["slack"][0]["secret"])
    write("secret_parsing", "twilio", vectors["twilio"]["auth_token"])
    write("secret_parsing", "short-whsec", "whsec_c2hvcnQ=")
    write("secret_parsing", "whsk-seed", "whsk_" + b64(bytes(range(1, 33))))
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives import serialization

        sk = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
        pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        write("secret_parsing", "whpk", "whpk_" + b64(pk))
        write("secret_parsing", "whsk-64", "whsk_" + b64(bytes(range(1, 33)) + pk))
    except ImportError:
        pass


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_VECTORS
    with open(path) as f:
        vectors = json.load(f)
    for gen in (standard, stripe, hub, slack, shopify, twilio, vapi, hmac_template, secret_parsing):
        gen(vectors)


if __name__ == "__main__":
    main()
