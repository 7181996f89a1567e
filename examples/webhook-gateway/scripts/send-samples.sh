#!/usr/bin/env bash
# Sends every sample to a running webhook-gateway on its demo configuration, signed with the
# demo secret of its route by `palisade webhook sign` as the provider would sign it, then for
# each route a tampered copy (401), the same request again (a duplicate of a handled delivery:
# 200, marked `Palisade-Webhook-Duplicate: completed`, not stored again) and the request with
# `?token=` in its URL (400); then floods one route past its rate limit (429). One line per
# request (the flood: one line for all of it): route, case, HTTP status, and the value of the
# `Palisade-Webhook-Duplicate` header when the answer has one.
#
#   cargo run -p webhook-gateway &            # the demo configuration, on 127.0.0.1:8080
#   examples/webhook-gateway/scripts/send-samples.sh
#
# GATEWAY (default http://127.0.0.1:8080), PALISADE (default: the workspace's CLI through
# cargo) and EVENTS_TOKEN (the bearer token of GET /events; default: the demo token of the
# README) can be overridden.
set -euo pipefail

GATEWAY=${GATEWAY:-http://127.0.0.1:8080}
EVENTS_TOKEN=${EVENTS_TOKEN:-palisade-demo-events-token}
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

# sign ROUTE FILE CONTENT-TYPE [EXTRA-HEADER…]: sets `headers` (curl -H arguments) to what the
# provider would send.
sign() {
    local route=$1 file=$2 ctype=$3
    shift 3
    local args=(--provider "$route" --secret-env GATEWAY_DEMO_SECRET --body-file "$here/samples/$file")
    if [[ $route == twilio ]]; then
        args+=(--url "https://hooks.example.com/webhooks/twilio")
    fi
    headers=()
    local line has_ctype=
    while IFS= read -r line; do
        [[ -z $line ]] && continue
        headers+=(-H "$line")
        [[ ${line,,} == content-type:* ]] && has_ctype=1
    done < <(GATEWAY_DEMO_SECRET=${secret[$route]} "${palisade[@]}" webhook sign "${args[@]}")
    [[ -z $has_ctype ]] && headers+=(-H "Content-Type: $ctype")
    for extra in "$@"; do headers+=(-H "$extra"); done
}

# post ROUTE CASE QUERY BODY-FILE: sends with the current `headers`, prints the line.
post() {
    local route=$1 case=$2 query=$3 file=$4 out status duplicate
    # The response head, then the status code on a line of its own.
    out=$(curl -s -o /dev/null -D - -w '\n%{http_code}' -X POST "${headers[@]}" \
        --data-binary "@$file" "$GATEWAY/webhooks/$route$query")
    status=${out##*$'\n'}
    duplicate=$(printf '%s\n' "$out" | tr -d '\r' | grep -i '^palisade-webhook-duplicate:' \
        | cut -d: -f2 | tr -d ' ' || true)
    printf '%-9s %-12s %s\n' "$route" "$case" "$status${duplicate:+ $duplicate}"
}

# cases ROUTE FILE CONTENT-TYPE [EXTRA-HEADER…]: valid, tampered, duplicate, query token.
cases() {
    local route=$1 file=$2
    sign "$@"
    local sample="$here/samples/$file" tampered
    tampered=$(mktemp)
    # One byte more than was signed: a form body gains a parameter, a JSON body a space.
    if [[ $file == *.form ]]; then
        { cat "$sample"; printf '&Tampered=1'; } >"$tampered"
    else
        { cat "$sample"; printf ' '; } >"$tampered"
    fi
    post "$route" valid "" "$sample"
    post "$route" tampered "" "$tampered"
    post "$route" duplicate "" "$sample"
    post "$route" query-token "?token=secret-in-url" "$sample"
    rm -f "$tampered"
}

cases stripe stripe-payment_intent.succeeded.json "$json"
cases github github-push.json "$json" "X-GitHub-Event: push" "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958"
cases meta whatsapp-message.json "$json"
cases twilio twilio-voice-status.form "$form"
cases slack slack-slash-command.form "$form"
cases shopify shopify-orders-create.json "$json" "X-Shopify-Topic: orders/create" "X-Shopify-Webhook-Id: b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
cases vapi vapi-end-of-call-report.json "$json"
cases standard standard-webhooks-message.json "$json"

# A flood: the Stripe request, 120 more times from this client, against a limit of 100 per
# minute. Requests within the limit reach the signature check (a duplicate: 200); the rest are
# refused before it (429, with Retry-After and the RateLimit fields).
sign stripe stripe-payment_intent.succeeded.json "$json"
declare -A seen=()
first429=
for i in $(seq 1 120); do
    status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${headers[@]}" \
        --data-binary "@$here/samples/stripe-payment_intent.succeeded.json" "$GATEWAY/webhooks/stripe")
    seen[$status]=$(( ${seen[$status]:-0} + 1 ))
    [[ $status == 429 && -z $first429 ]] && first429=$i
done
summary=
for status in $(printf '%s\n' "${!seen[@]}" | sort); do summary+=" ${seen[$status]}x$status"; done
printf '%-9s %-12s %s (120 requests:%s; first 429 at #%s)\n' stripe flood "${first429:+429}" "$summary" "${first429:-none}"

if [[ -z ${QUIET:-} ]]; then
    echo "GET /events:"
    curl -s -H "Authorization: Bearer $EVENTS_TOKEN" "$GATEWAY/events"
    echo
fi
