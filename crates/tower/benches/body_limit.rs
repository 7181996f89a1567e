//! The per-request cost `BodyRateLimitLayer` adds before its store call: extracting the key
//! field from a verified body (a Twilio voice form of ~600 bytes; a Stripe-like JSON event of
//! ~1.2 kB) and building the key, next to building a key from a value already at hand.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use palisade_ratelimit::KeyBuilder;
use palisade_tower::BodyField;

const TWILIO: &str = "AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01&CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=ringing&Called=%2B14155550100&CalledCity=SAN+FRANCISCO&CalledCountry=US&CalledState=CA&CalledZip=94105&Caller=%2B14155550123&CallerCity=OAKLAND&CallerCountry=US&CallerState=CA&CallerZip=94612&Direction=inbound&From=%2B14155550123&FromCity=OAKLAND&FromCountry=US&FromState=CA&FromZip=94612&To=%2B14155550100&ToCity=SAN+FRANCISCO&ToCountry=US&ToState=CA&ToZip=94105";

fn json_event() -> String {
    let items: Vec<String> = (0..12)
        .map(|i| {
            format!(
                r#"{{"id":"li_{i:04}","amount":{},"currency":"usd","description":"item {i}"}}"#,
                i * 100
            )
        })
        .collect();
    format!(
        r#"{{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"order.updated","data":{{"object":{{"id":"ord_42","driver_id":"drv_8813","status":"en_route","lines":[{}]}}}}}}"#,
        items.join(",")
    )
}

fn extract(c: &mut Criterion) {
    let mut g = c.benchmark_group("body-limit");
    let form = BodyField::form("From");
    let pointer = BodyField::json_pointer("/data/object/driver_id");
    let json = json_event();
    g.bench_function(format!("form-field/{}-bytes", TWILIO.len()), |b| {
        b.iter(|| {
            let v = form.extract(black_box(TWILIO.as_bytes())).unwrap();
            black_box(KeyBuilder::new("twilio-from").str("body").str(&v).build())
        });
    });
    g.bench_function(format!("json-pointer/{}-bytes", json.len()), |b| {
        b.iter(|| {
            let v = pointer.extract(black_box(json.as_bytes())).unwrap();
            black_box(KeyBuilder::new("driver").str("body").str(&v).build())
        });
    });
    g.bench_function("key-only (baseline)", |b| {
        b.iter(|| {
            black_box(
                KeyBuilder::new("twilio-from")
                    .str("body")
                    .str(black_box("+14155550123"))
                    .build(),
            )
        });
    });
    g.finish();
}

criterion_group!(benches, extract);
criterion_main!(benches);
