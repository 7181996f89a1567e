//! `palisade-audit` benchmarks, side by side in one run:
//!
//! - `append`: one event appended to the memory sink (policy check, canonical encoding,
//!   HMAC-SHA256, store under the mutex), to the JSONL sink without fsync (the same plus one
//!   `write`), next to the raw primitive (one HMAC-SHA256 of the same canonical bytes).
//!   Appends per second = 1 / time per iteration.
//! - `verify`: a chain of 10 000 events verified (events per second = 10 000 / time), next
//!   to parsing the same chain from JSON lines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use palisade_audit::{
    Action, Actor, AuditSink, ChainKey, ChainKeys, Event, EventDraft, FsyncPolicy, Head, JsonlSink,
    MemorySink, Reason, Resource, Sealer, SecretBox, verify,
};
use palisade_rbac::TenantId;
use sha2::Sha256;

fn keys() -> ChainKeys {
    ChainKeys::new(ChainKey::new(1, SecretBox::new(Box::new([7; 32]))).unwrap())
}

fn draft(tenant: &TenantId, i: u64) -> EventDraft {
    EventDraft::new(
        tenant.clone(),
        Actor::parse("u-7").unwrap(),
        Action::READ,
        Resource::parse(&format!("lead:lead-{i}")).unwrap(),
    )
    .with_reason(Reason::new("support ticket 4411").unwrap())
    .at(1_764_972_000_000 + i)
}

fn append(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let tenant = TenantId::new("tenant-1").unwrap();
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(1));

    let sample = Sealer::new(keys())
        .seal(&Head::GENESIS, draft(&tenant, 1))
        .unwrap()
        .pop()
        .unwrap()
        .canonical();
    let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[7; 32]).unwrap();
    g.bench_function("hmac_sha256_of_canonical_bytes", |b| {
        b.iter(|| {
            let mut m = mac.clone();
            m.update(black_box(&sample));
            black_box(m.finalize())
        });
    });

    let memory = MemorySink::new(Sealer::new(keys()));
    let mut i = 0;
    g.bench_function("memory_sink", |b| {
        b.iter(|| {
            i += 1;
            black_box(rt.block_on(memory.append(draft(&tenant, i))).unwrap())
        });
    });

    let dir = tempfile::tempdir().unwrap();
    let jsonl = JsonlSink::open(
        dir.path().join("bench.jsonl"),
        Sealer::new(keys()),
        FsyncPolicy::Never,
    )
    .unwrap();
    g.bench_function("jsonl_sink_no_fsync", |b| {
        b.iter(|| {
            i += 1;
            black_box(rt.block_on(jsonl.append(draft(&tenant, i))).unwrap())
        });
    });
    g.finish();
}

fn verify_chain(c: &mut Criterion) {
    const N: u64 = 10_000;
    let tenant = TenantId::new("tenant-1").unwrap();
    let sealer = Sealer::new(keys());
    let mut head = Head::GENESIS;
    let mut events: Vec<Event> = Vec::new();
    for i in 0..N {
        for e in sealer.seal(&head, draft(&tenant, i)).unwrap() {
            head = Head::after(&e);
            events.push(e);
        }
    }
    let lines: Vec<String> = events.iter().map(Event::to_json_line).collect();
    let keys = keys();
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(N));
    g.bench_function("chain_10k_events", |b| {
        b.iter(|| black_box(verify(&keys, &tenant, Head::GENESIS, &events).unwrap()));
    });
    g.bench_function("parse_10k_json_lines", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(Event::from_json_line(l).unwrap());
            }
        });
    });
    g.finish();
}

criterion_group!(benches, append, verify_chain);
criterion_main!(benches);
