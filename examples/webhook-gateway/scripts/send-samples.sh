#!/usr/bin/env bash
# Sends every sample to a running webhook-gateway on its demo configuration, each signed with
# the demo secret of its route by `palisade webhook sign`, as the provider would sign it; then
# sends the Stripe one again (a replay: 409) and prints GET /events.
#
#   cargo run -p webhook-gateway &            # the demo configuration, on 127.0.0.1:8080
#   examples/webhook-gateway/scripts/send-samples.sh
#
# GATEWAY (default http://127.0.0.1:8080) and PALISADE (default: the workspace's CLI through
# cargo) can be overridden.
set -euo pipefail

GATEWAY=${GATEWAY:-http://127.0.0.1:8080}
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${PALISADE:-} ]]; then
    read -r -a palisade <<<"$PALISADE"
else
    palisade=(cargo run -q --manifest-path "$here/../../Cargo.toml" -p palisade-cli --)
fi

# The demo secrets of the README (public: never use them for a real route). They are passed
# to the CLI in the environment, not on its command line.
declare -A secret=(
    [standard]="whsec_cGFsaXNhZGUtZGVtby1zdGFuZGFyZC1zZWNyZXQtMzI="
    [stripe]="whsec_palisade_demo_stripe"
    [github]="palisade-demo-github"
    [meta]="palisade-demo-meta-app-secret"
    [slack]="palisade-demo-slack-signing-secret"
    [twilio]="palisade-demo-twilio-auth-token"
    [shopify]="palisade-demo-shopify-client-secret"
    [vapi]="palisade-demo-vapi-secret"
)
json=application/json
form=application/x-www-form-urlencoded

# send ROUTE FILE CONTENT-TYPE [EXTRA-HEADER…]
send() {
    local route=$1 file=$2 ctype=$3
    shift 3
    local args=(--provider "$route" --secret-env GATEWAY_DEMO_SECRET --body-file "$here/samples/$file")
    if [[ $route == twilio ]]; then
        args+=(--url "https://hooks.example.com/webhooks/twilio")
    fi
    local headers=() line has_ctype=
    while IFS= read -r line; do
        [[ -z $line ]] && continue
        headers+=(-H "$line")
        [[ ${line,,} == content-type:* ]] && has_ctype=1
    done < <(GATEWAY_DEMO_SECRET=${secret[$route]} "${palisade[@]}" webhook sign "${args[@]}")
    [[ -z $has_ctype ]] && headers+=(-H "Content-Type: $ctype")
    for extra in "$@"; do headers+=(-H "$extra"); done
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${headers[@]}" \
        --data-binary "@$here/samples/$file" "$GATEWAY/webhooks/$route")
    printf '%-9s %-40s %s\n' "$route" "$file" "$status"
}

send stripe stripe-payment_intent.succeeded.json "$json"
send github github-push.json "$json" "X-GitHub-Event: push" "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958"
send meta whatsapp-message.json "$json"
send twilio twilio-voice-status.form "$form"
send slack slack-slash-command.form "$form"
send shopify shopify-orders-create.json "$json" "X-Shopify-Topic: orders/create" "X-Shopify-Webhook-Id: b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
send vapi vapi-end-of-call-report.json "$json"
send standard standard-webhooks-message.json "$json"
echo "GitHub again (same body and signature: a replay, 409):"
send github github-push.json "$json" "X-GitHub-Event: push" "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958"

echo "GET /events:"
curl -s "$GATEWAY/events"
echo
