//! The swarm as a gate: its first seeds, each a different drawn world with its own faults, hold
//! every property with the correct engine. Small enough for every test run; it is also the
//! fixed sweep `cargo mutants` judges the failover core's mutants by (README, "Mutants").

use std::path::Path;

use dhcpfo::scenario::Scenario;
use dhcpfo::world::{Outcome, World};

/// How many of the swarm's seeds, from 0, the gate runs; `DHCPFO_SWARM_GATE_SEEDS` sets
/// another count (the mutants' second pass runs more).
const SEEDS: u64 = 48;

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
    let failed: Vec<String> = (0..seeds())
        .filter_map(|seed| match World::new(swarm.clone(), seed).run() {
            Outcome::Pass => None,
            other => Some(format!("seed {seed}: {other:?}")),
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
