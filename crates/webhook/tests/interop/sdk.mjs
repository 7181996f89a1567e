// Providers' official Node SDKs, driven by palisade-webhook's interop test (tests/interop.rs).
// Reads a JSON array of cases on stdin; writes a JSON array of results, one per case, on stdout.
//   {"op": "sign", "provider", "secret", "body", "timestamp", "id"}  -> {"headers": {...}}
//   {"op": "verify", "provider", "secret", "body", "headers"}        -> {"valid": bool, "error"?}
// Verification uses each SDK's own clock and default tolerance (Stripe and Standard Webhooks:
// 300 s), so the test signs with the current time.
import { sign as githubSign, verify as githubVerify } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';

// No request is ever made: only the webhook helpers, which work offline.
const stripe = new Stripe('sk_test_palisade_interop');

async function sign(c) {
  switch (c.provider) {
    case 'stripe':
      return {
        'Stripe-Signature': stripe.webhooks.generateTestHeaderString({
          payload: c.body,
          secret: c.secret,
          timestamp: c.timestamp,
        }),
      };
    case 'github':
      return { 'X-Hub-Signature-256': await githubSign(c.secret, c.body) };
    case 'standard-webhooks':
      return {
        'webhook-id': c.id,
        'webhook-timestamp': String(c.timestamp),
        'webhook-signature': new Webhook(c.secret).sign(c.id, new Date(c.timestamp * 1000), c.body),
      };
    default:
      throw new Error(`no Node SDK for ${c.provider}`);
  }
}

async function verify(c) {
  const h = c.headers;
  switch (c.provider) {
    case 'stripe':
      // Throws StripeSignatureVerificationError on any mismatch; tolerance 300 s.
      stripe.webhooks.signature.verifyHeader(c.body, h['Stripe-Signature'], c.secret, 300);
      return true;
    case 'github':
      return githubVerify(c.secret, c.body, h['X-Hub-Signature-256']);
    case 'standard-webhooks':
      // Throws WebhookVerificationError; tolerance 300 s.
      new Webhook(c.secret).verify(c.body, h);
      return true;
    default:
      throw new Error(`no Node SDK for ${c.provider}`);
  }
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const c of JSON.parse(input)) {
  if (c.op === 'sign') {
    out.push({ headers: await sign(c) });
  } else {
    try {
      out.push({ valid: await verify(c) });
    } catch (e) {
      out.push({ valid: false, error: String(e.message ?? e) });
    }
  }
}
process.stdout.write(JSON.stringify(out));
