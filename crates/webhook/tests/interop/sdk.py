"""Providers' official Python SDKs, driven by palisade-webhook's interop test (tests/interop.rs).

Reads a JSON array of cases on stdin; writes a JSON array of results, one per case, on stdout.
  {"op": "sign", "provider", "secret", "body", "timestamp", "url", "id"}  -> {"headers": {...}}
  {"op": "verify", "provider", "secret", "body", "headers", "url"}  -> {"valid": bool}
Twilio signs the URL and, for a form body, its parameters; a JSON body is bound by the
`bodySHA256` query parameter instead. A Twilio case with "algorithm": "HMAC_SHA256" signs as a
SharedKey webhook does (`X-Twilio-Webhooks-Signature-Settings: algorithm=HMAC_SHA256`); the
verifier reads the algorithm from that header, as the SDK documents. Slack's verifier uses its
own clock (300 s), as do Stripe's and Standard Webhooks' (300 s).
"""

import json
import sys
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import stripe
from slack_sdk.signature import SignatureVerifier
from standardwebhooks import Webhook, WebhookVerificationError
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)


def twilio_params(case):
    """The form parameters, or the raw body when the URL binds it with bodySHA256."""
    if "bodySHA256" in dict(parse_qsl(urlsplit(case["url"]).query)):
        return case["body"]
    return dict(parse_qsl(case["body"], keep_blank_values=True))


def sign(case):
    provider = case["provider"]
    if provider == "twilio":
        validator = RequestValidator(case["secret"])
        params = twilio_params(case)
        algorithm = case.get("algorithm")
        # compute_signature takes parameters; a bodySHA256-bound request signs the URL alone.
        signature = validator.compute_signature(
            case["url"], params if isinstance(params, dict) else {}, algorithm
        )
        headers = {"X-Twilio-Signature": signature}
        if algorithm:
            headers[SIGNATURE_SETTINGS_HEADER] = f"algorithm={algorithm}"
        if isinstance(params, dict) and params:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return headers
    if provider == "slack":
        timestamp = str(case["timestamp"])
        verifier = SignatureVerifier(case["secret"])
        return {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=case["body"]),
        }
    if provider == "stripe":
        header = stripe.WebhookSignature.generate_signature_header(
            case["body"], case["secret"], case["timestamp"]
        )
        return {"Stripe-Signature": header}
    if provider == "standard-webhooks":
        when = datetime.fromtimestamp(case["timestamp"], tz=timezone.utc)
        return {
            "webhook-id": case["id"],
            "webhook-timestamp": str(case["timestamp"]),
            "webhook-signature": Webhook(case["secret"]).sign(case["id"], when, case["body"]),
        }
    raise ValueError(f"no Python SDK for {provider}")


def verify(case):
    provider = case["provider"]
    headers = case["headers"]
    if provider == "twilio":
        return RequestValidator(case["secret"]).validate(
            case["url"],
            twilio_params(case),
            headers["X-Twilio-Signature"],
            get_signature_algorithm(headers.get(SIGNATURE_SETTINGS_HEADER)),
        )
    if provider == "slack":
        return SignatureVerifier(case["secret"]).is_valid(
            body=case["body"],
            timestamp=headers["X-Slack-Request-Timestamp"],
            signature=headers["X-Slack-Signature"],
        )
    if provider == "stripe":
        try:
            stripe.WebhookSignature.verify_header(
                case["body"], headers["Stripe-Signature"], case["secret"], tolerance=300
            )
        except stripe.SignatureVerificationError:
            return False
        return True
    if provider == "standard-webhooks":
        try:
            Webhook(case["secret"]).verify(case["body"], headers, json_parse=False)
        except WebhookVerificationError:
            return False
        return True
    raise ValueError(f"no Python SDK for {provider}")


def main():
    out = []
    for case in json.load(sys.stdin):
        if case["op"] == "sign":
            out.append({"headers": sign(case)})
        else:
            out.append({"valid": bool(verify(case))})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
