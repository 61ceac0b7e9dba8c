//! The swarm as a gate: its first seeds, each a different drawn world with its own faults, hold
//! every property with the correct engine. Small enough for every test run (1 000 seeds, about
//! 45 s of one core in the test profile, spread over the cores); it is also the fixed sweep
//! `cargo mutants` judges the failover core's mutants by (README, "Mutants").

use std::path::Path;

use dhcpfo::scenario::Scenario;
use dhcpfo::world::{Outcome, World};

/// How many of the swarm's seeds, from 0, the gate runs; `DHCPFO_SWARM_GATE_SEEDS` sets
/// another count.
const SEEDS: u64 = 1000;

fn seeds() -> u64 {
    match std::env::var("DHCPFO_SWARM_GATE_SEEDS") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("DHCPFO_SWARM_GATE_SEEDS={v:?} is not a seed count")),
        Err(_) => SEEDS,
    }
}

#[test]
fn the_swarm_holds_on_its_first_seeds() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/swarm.yaml");
    let swarm = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let n = seeds();
    // Seed s runs on thread s % threads; the failures are listed in seed order.
    let mut failed: Vec<(u64, String)> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..threads)
            .map(|t| {
                let swarm = &swarm;
                scope.spawn(move || {
                    (t..n)
                        .step_by(threads as usize)
                        .filter_map(|seed| match World::new(swarm.clone(), seed).run() {
                            Outcome::Pass => None,
                            other => Some((seed, format!("seed {seed}: {other:?}"))),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        runs.into_iter()
            .flat_map(|r| r.join().expect("a gate thread panicked"))
            .collect()
    });
    failed.sort();
    let failed: Vec<String> = failed.into_iter().map(|(_, f)| f).collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
