#!/usr/bin/env bash
# Walks every behaviour of examples/agent-platform over HTTP with curl, against a service
# started with --demo on a fresh schema (the demo tenants' daily quotas are spent by the last
# steps), one line per step: what it did, the HTTP status, the expected status, OK or
# UNEXPECTED. Exits 1 if any status was unexpected.
#
#   BASE=http://127.0.0.1:8090 LOG=/path/to/the/service.log scripts/demo.sh
#
# LOG is the service's log (stderr): the demo SMS provider, where one-time codes are read.
set -uo pipefail

BASE=${BASE:-http://127.0.0.1:8090}
LOG=${LOG:?LOG: the service log file (the SMS outbox is written there)}
VAPI_SECRET=${VAPI_SECRET:-palisade-demo-vapi-secret}
LEGACY_TOKEN=${LEGACY_TOKEN:-palisade-demo-legacy-shared-token}
PASSWORD=${PASSWORD:-correct horse battery staple}
REASON='X-Audit-Reason: ticket 4711, customer asked'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unexpected=0

# req METHOD PATH [curl args…]: sets $status, the body in $tmp/body, headers in $tmp/headers.
req() {
    local method=$1 path=$2
    shift 2
    status=$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$method" "$@" "$BASE$path")
}
body() { cat "$tmp/body"; }
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d"+sys.argv[2]))' "$tmp/body" "$1" 2>/dev/null; }
header() { grep -i "^$1:" "$tmp/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# step DESCRIPTION EXPECTED: prints the line for the last request.
step() {
    local verdict=OK
    if [ "$status" != "$2" ]; then verdict=UNEXPECTED; unexpected=$((unexpected + 1)); fi
    printf '%-74s %s expected %s %s\n' "$1" "$status" "$2" "$verdict"
}
# check DESCRIPTION CONDITION-EXIT-STATUS: a line for a fact about the last answer.
check() {
    local verdict=OK shown=yes
    if ! eval "$2"; then verdict=UNEXPECTED; shown=no; unexpected=$((unexpected + 1)); fi
    printf '%-74s %s expected %s %s\n' "$1" "$shown" yes "$verdict"
}
json=(-H 'content-type: application/json')
auth() { printf 'authorization: Bearer %s' "$1"; }
sign_in() { # tenant email
    req POST /auth/password "${json[@]}" -d "{\"tenant\":\"$1\",\"email\":\"$2\",\"password\":\"$PASSWORD\"}"
}
# The code of the last SMS to the masked number $1 in the log.
sms_code() { grep -a 'SMS: Your agent-platform code is' "$LOG" | grep -a -- "$1" | tail -1 | grep -oE 'code is [0-9]+' | grep -oE '[0-9]+$'; }

req GET /healthz
step "health: GET /healthz" 200
check "security headers (palisade-tower): X-Frame-Options DENY, CSP" '[ "$(header x-frame-options)" = DENY ] && [ -n "$(header content-security-policy)" ]'

# --- Sign-in: passwords (argon2id), 5 per minute per client IP on each auth route ---------
sign_in acme admin@acme.test;  step "password sign-in: acme admin" 200;  A_ADMIN=$(field '["token"]')
sign_in acme agent@acme.test;  step "password sign-in: acme agent" 200;  A_AGENT=$(field '["token"]')
sign_in acme alice@acme.test;  step "password sign-in: acme customer alice" 200; ALICE=$(field '["token"]')
sign_in acme bob@acme.test;    step "password sign-in: acme customer bob" 200;   BOB=$(field '["token"]')
req POST /auth/password "${json[@]}" -d '{"tenant":"acme","email":"admin@acme.test","password":"guess"}'
step "password sign-in: wrong password" 401
sign_in acme owner@acme.test
step "password sign-in: 6th attempt in a minute from one IP (auth 5/min)" 429
check "429 carries Retry-After and RateLimit headers" '[ -n "$(header retry-after)" ] && [ -n "$(header ratelimit-policy)" ]'

# --- Sign-in by SMS one-time code (outbox + log), attempts counted atomically -------------
req POST /auth/otp/start "${json[@]}" -d '{"tenant":"globex","phone":"(415) 555-0200"}'
step "SMS code: globex admin asks for a code" 202
code=$(sms_code '+1\*\*\*\*\*\*0200')
req POST /auth/otp/verify "${json[@]}" -d "{\"tenant\":\"globex\",\"phone\":\"+14155550200\",\"code\":\"$code\"}"
step "SMS code: the right code signs globex admin in" 200; B_ADMIN=$(field '["token"]')
req POST /auth/otp/start "${json[@]}" -d '{"tenant":"acme","phone":"415-555-0102"}'
step "SMS code: alice asks for a code" 202
code=$(sms_code '+1\*\*\*\*\*\*0102')
wrong=$([ "$code" = 000000 ] && echo 000001 || echo 000000)
for n in 1 2; do
    req POST /auth/otp/verify "${json[@]}" -d "{\"tenant\":\"acme\",\"phone\":\"4155550102\",\"code\":\"$wrong\"}"
    step "SMS code: wrong code #$n" 401
done
req POST /auth/otp/verify "${json[@]}" -d "{\"tenant\":\"acme\",\"phone\":\"4155550102\",\"code\":\"$wrong\"}"
step "SMS code: wrong code #3 (attempts_left 0: locked, otp.locked)" 401
check "third wrong attempt says attempts_left 0" '[ "$(field "[\"attempts_left\"]")" = 0 ]'
req POST /auth/otp/verify "${json[@]}" -d "{\"tenant\":\"acme\",\"phone\":\"4155550102\",\"code\":\"$code\"}"
step "SMS code: the right code after the lock is refused" 429
check "refused because the challenge is locked (not the route limit)" 'grep -q "code locked" "$tmp/body"'
check "log has otp.locked" 'grep -aq otp.locked "$LOG"'

# --- Who is calling: retired token, no credential, API keys with scopes -------------------
req GET /calls -H "$(auth "$LEGACY_TOKEN")"
step "retired shared (legacy) token" 401
check "log has auth.legacy_token_blocked" 'grep -aq legacy_token_blocked "$LOG"'
req GET /calls
step "no credential" 401
req POST /api-keys "${json[@]}" -H "$(auth "$A_ADMIN")" -d '{"client":"crm-sync","scopes":"calls:read"}'
step "admin issues an API key [calls:read]" 201; KEY_READ=$(field '["key"]')
req POST /api-keys "${json[@]}" -H "$(auth "$A_ADMIN")" -d '{"client":"ops-bot","scopes":"admin:*"}'
step "admin issues an API key [admin:*]" 201; KEY_ADMIN=$(field '["key"]')
req POST /api-keys "${json[@]}" -H "$(auth "$A_AGENT")" -d '{"client":"x","scopes":"admin:*"}'
step "agent cannot issue API keys" 403
req GET /calls -H "$(auth "$KEY_READ")"
step "API key [calls:read]: GET /calls" 200
req POST /calls "${json[@]}" -H "$(auth "$KEY_READ")" -d '{"caller_phone":"+14155550199"}'
step "API key [calls:read]: POST /calls (scope too narrow)" 403
req GET /calls -H "$(auth "$KEY_ADMIN")"
step "API key [admin:*]: GET /calls (admin:* is not calls:read)" 403
req GET "/calls?api_key=$KEY_READ"
step "credential in the query string" 400

# --- Assistants: provider key encrypted, masked; clear read = admin + reason, audited -----
req POST /assistants "${json[@]}" -H "$(auth "$A_ADMIN")" -d '{"name":"Riley","provider_api_key":"sk-acme-0123456789abcdef"}'
step "acme admin creates an assistant" 201; ASSIST_A=$(field '["id"]')
check "the answer shows the key masked" '! grep -q 0123456789abcdef "$tmp/body"'
req POST /assistants "${json[@]}" -H "$(auth "$B_ADMIN")" -d '{"name":"Sam","provider_api_key":"sk-globex-fedcba9876543210"}'
step "globex admin creates an assistant" 201; ASSIST_B=$(field '["id"]')
req GET "/assistants/$ASSIST_A" -H "$(auth "$A_AGENT")"
step "agent reads the assistant (key masked)" 200
req GET "/assistants/$ASSIST_A/credential" -H "$(auth "$A_AGENT")" -H "$REASON"
step "agent reads the key in clear" 403
req GET "/assistants/$ASSIST_A/credential" -H "$(auth "$A_ADMIN")"
step "admin reads the key in clear without a reason" 400
req GET "/assistants/$ASSIST_A/credential" -H "$(auth "$A_ADMIN")" -H "$REASON"
step "admin reads the key in clear with a reason (audited)" 200
check "the clear key is the stored one" 'grep -q sk-acme-0123456789abcdef "$tmp/body"'
req GET "/assistants/$ASSIST_B" -H "$(auth "$A_ADMIN")"
step "cross-tenant: acme admin reads globex's assistant" 404
req GET "/assistants/$ASSIST_B/credential" -H "$(auth "$A_ADMIN")" -H "$REASON"
step "cross-tenant: acme admin reads globex's key" 404

# --- Calls: E.164, encrypted, blind-indexed search; SSRF guard ----------------------------
req POST /calls "${json[@]}" -H "$(auth "$A_AGENT")" -d '{"caller_phone":"(415) 555-0199"}'
step "agent records a call from (415) 555-0199" 201; CALL_A=$(field '["id"]')
check "the phone is shown masked" 'grep -q "+1\*\*\*\*\*\*0199" "$tmp/body"'
req POST /calls "${json[@]}" -H "$(auth "$B_ADMIN")" -d '{"caller_phone":"+1 415 555 0199"}'
step "globex records a call from the same number" 201; CALL_B=$(field '["id"]')
req GET "/calls?phone=415.555.0199" -H "$(auth "$A_AGENT")"
step "search by phone written another way (blind index)" 200
check "search finds acme's call only" '[ "$(field "[\"calls\"][0][\"id\"]")" = "$CALL_A" ] && [ "$(field "[\"calls\"].__len__()")" = 1 ]'
req GET "/calls/$CALL_B" -H "$(auth "$A_AGENT")"
step "cross-tenant: acme agent guesses globex's call id" 404
req POST /calls "${json[@]}" -H "$(auth "$A_AGENT")" -d '{"caller_phone":"not a phone"}'
step "a phone that is not one" 400
for url in http://169.254.169.254/latest/meta-data/ http://10.0.0.5/rec.wav "http://[::ffff:127.0.0.1]/rec.wav" http://2130706433/rec.wav http://localhost/rec.wav http://metadata.google.internal/ http://8.8.8.8/rec.wav; do
    req POST /calls "${json[@]}" -H "$(auth "$A_AGENT")" -d "{\"caller_phone\":\"+14155550123\",\"audio_url\":\"$url\"}"
    step "SSRF: audio_url $url" 422
done
check "log has url.blocked" 'grep -aq url.blocked "$LOG"'
req POST /calls "${json[@]}" -H "$(auth "$A_AGENT")" -d '{"caller_phone":"+14155550124","audio_url":"https://recordings.example.net/a.wav"}'
step "a public recording URL is accepted" 201; CALL_REC=$(field '["id"]')
req GET "/calls/$CALL_REC/recording" -H "$(auth "$A_AGENT")"
step "recording without a reason" 400
req GET "/calls/$CALL_REC/recording" -H "$(auth "$A_AGENT")" -H "$REASON"
step "recording with a reason: fetched via the guard (host unreachable: 502), audited" 502

# --- Export and anonymization: admin + reason, audited --------------------------------------
req GET /calls/export -H "$(auth "$A_AGENT")" -H "$REASON"
step "agent exports calls" 403
req GET /calls/export -H "$(auth "$A_ADMIN")"
step "admin exports calls without a reason" 400
req GET /calls/export -H "$(auth "$A_ADMIN")" -H "$REASON"
step "admin exports calls with a reason (phones in clear, audited)" 200
check "the export has the phone in E.164" 'grep -q "+14155550199" "$tmp/body"'
req POST "/calls/$CALL_A/anonymize" -H "$(auth "$A_ADMIN")" -H "$REASON"
step "admin anonymizes a call (audited)" 200
req POST "/calls/$CALL_B/anonymize" -H "$(auth "$A_ADMIN")" -H "$REASON"
step "cross-tenant: acme admin anonymizes globex's call" 404

# --- Bookings: customers see only their own (authorize_owned) ------------------------------
req POST /bookings "${json[@]}" -H "$(auth "$ALICE")" -d '{"slot":"2026-12-08T10:00","note":"cleaning"}'
step "alice books a slot" 201; BK_ALICE=$(field '["id"]')
req GET "/bookings/$BK_ALICE" -H "$(auth "$ALICE")"
step "alice reads her booking" 200
req GET "/bookings/$BK_ALICE" -H "$(auth "$BOB")"
step "bob reads alice's booking" 404
req PATCH "/bookings/$BK_ALICE" "${json[@]}" -H "$(auth "$BOB")" -d '{"note":"cancel"}'
step "bob changes alice's booking" 404
req GET /bookings -H "$(auth "$BOB")"
step "bob lists bookings" 200
check "bob's list is empty" '[ "$(field "[\"bookings\"].__len__()")" = 0 ]'
req GET "/bookings/$BK_ALICE" -H "$(auth "$A_AGENT")"
step "agent (bookings:manage) reads alice's booking" 200
req GET "/bookings/$BK_ALICE" -H "$(auth "$B_ADMIN")"
step "cross-tenant: globex admin reads alice's booking" 404

# --- Vapi webhook: signature, replays, call created --------------------------------------
# vapi BODY-FILE [tamper]: signs as Vapi does (HMAC-SHA256 hex of "<x-timestamp>.<body>").
vapi() {
    ts=$(date +%s)
    sig=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), (sys.argv[2]+".").encode()+open(sys.argv[3],"rb").read(), hashlib.sha256).hexdigest())' "$VAPI_SECRET" "$ts" "$1")
    [ "${2:-}" = tamper ] && printf ' ' >> "$1"
    req POST /webhooks/vapi "${json[@]}" -H "x-timestamp: $ts" -H "x-signature: $sig" --data-binary "@$1"
}
printf '{"message":{"type":"end-of-call-report","call":{"id":"call-%s","metadata":{"tenant":"acme"},"customer":{"number":"+14155550177"}},"artifact":{"recordingUrl":"http://169.254.169.254/x.wav"}}}' "$$" > "$tmp/vapi.json"
cp "$tmp/vapi.json" "$tmp/vapi2.json"
vapi "$tmp/vapi.json"
step "Vapi webhook: signed end-of-call report creates a call" 200
check "its metadata recording URL was refused by the SSRF guard" '[ "$(field "[\"recording\"]")" = False ]'
req POST /webhooks/vapi "${json[@]}" -H "x-timestamp: $ts" -H "x-signature: $sig" --data-binary "@$tmp/vapi.json"
step "Vapi webhook: the same delivery again (replay claim: not handled twice)" 200
check "answered as a duplicate (Palisade-Webhook-Duplicate: completed)" '[ "$(header palisade-webhook-duplicate)" = completed ]'
req POST /webhooks/vapi "${json[@]}" -H "x-timestamp: $(date +%s)" -H "x-signature: $(printf '0%.0s' {1..64})" --data-binary "@$tmp/vapi.json"
step "Vapi webhook: bad signature" 401
vapi "$tmp/vapi2.json" tamper
step "Vapi webhook: body changed after signing" 401
req GET "/calls?phone=%2B14155550177" -H "$(auth "$A_AGENT")"
check "the webhook's call is found by phone" '[ "$(field "[\"calls\"].__len__()")" = 1 ]'

# --- Origins ------------------------------------------------------------------------------
req POST /calls "${json[@]}" -H "$(auth "$A_AGENT")" -H 'origin: https://evil.example' -d '{"caller_phone":"+14155550123"}'
step "a foreign browser origin (CSRF)" 403

# --- Audit ---------------------------------------------------------------------------------
req GET /audit -H "$(auth "$A_ADMIN")"
step "admin reads the audit log" 200
check "credential read, recording, export, anonymization recorded with reasons" 'for a in credential.read export anonymize; do grep -q "\"$a\"" "$tmp/body" || exit 1; done; grep -q "recording:" "$tmp/body" && grep -q "ticket 4711" "$tmp/body"'
req GET /audit -H "$(auth "$KEY_ADMIN")"
step "API key [admin:*] reads the audit log" 200
req GET /audit -H "$(auth "$A_AGENT")"
step "agent reads the audit log" 403
req GET /audit/verify -H "$(auth "$A_ADMIN")"
step "the audit chain verifies (GET /audit/verify)" 200
check "valid: true" '[ "$(field "[\"valid\"]")" = True ]'
req GET /audit -H "$(auth "$B_ADMIN")"
step "globex admin reads its audit log" 200
check "cross-tenant: no acme event in globex's log" '! grep -q "credential.read\|anonymize\|export" "$tmp/body"'

# --- Tier quota: globex is on the free tier (10 requests a day) ---------------------------
req GET /me -H "$(auth "$B_ADMIN")"
check "tier headers: RateLimit-Policy names the free tier" 'grep -qi "^ratelimit-policy: \"free\"" "$tmp/headers"'
for _ in $(seq 1 10); do
    req GET /me -H "$(auth "$B_ADMIN")"
    [ "$status" = 429 ] && break
done
step "free tier: requests past 10 a day" 429

req GET /metrics
step "metrics: GET /metrics" 200
check "auth failures counted (palisade_auth_failures_total)" 'grep -q palisade_auth_failures_total "$tmp/body"'

if [ "$unexpected" -ne 0 ]; then
    echo "$unexpected unexpected answer(s)" >&2
    exit 1
fi
echo "every answer as expected"
