//! The simulator's speed on its benchmark scenario: the 10 000-client day (1 h leases, load
//! balancing, one 20-minute partition), run to the end. `dhcpfo run` prints the same run's
//! events/s and virtual seconds per wall second. Run: `cargo bench --bench day`.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};

/// The same allocator as the `dhcpfo` binary, so the bench measures what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use dhcpfo::scenario::Scenario;
use dhcpfo::world::{Outcome, World};

fn day(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/day-10000-clients.yaml");
    let scenario = Scenario::load(&path).expect("the shipped scenario loads");
    let mut group = c.benchmark_group("simulator");
    group.sample_size(10);
    group.bench_function("day_10000_clients", |b| {
        b.iter(|| {
            let mut w = World::new(scenario.clone(), 1);
            assert_eq!(w.run(), Outcome::Pass);
            w.counts.events
        })
    });
    group.finish();
}

criterion_group!(benches, day);
criterion_main!(benches);
