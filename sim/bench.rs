//! `dhcpfo bench`: the simulator's speed and memory on its benchmark day at several client
//! counts, and a sweep's seeds per second on one core and on all of them.
//!
//! The day is `scenarios/day-10000-clients.yaml`'s world (load balancing, 1 h leases, one
//! 20-minute partition of the failover link) at N clients, with a pool 1.2 × N spread over as
//! many segments as one /16 per segment needs. The simulator reads no clock: the caller times
//! each run and measures its memory (the binary does, at its edge).

use crate::scenario::{Scenario, Span};
use dhcpfo_engine::time::Duration;

/// The day at `clients` clients: the benchmark scenario's world, with a pool 1.2 × the
/// clients over enough segments (each holds at most 65 280 addresses).
pub fn day(clients: u32) -> Scenario {
    let text = include_str!("../scenarios/day-10000-clients.yaml");
    let mut s = Scenario::parse(text).unwrap_or_else(|e| panic!("the shipped day scenario: {e}"));
    let pool = clients.saturating_mul(6) / 5;
    s.name = format!("day-{clients}-clients");
    s.clients.count = clients;
    s.servers.pool_size = pool.max(1);
    s.clients.segments = pool.div_ceil(60_000).max(1);
    s
}

/// One size's measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayResult {
    /// Clients.
    pub clients: u32,
    /// Simulator events.
    pub events: u64,
    /// Wall time of the run, in seconds.
    pub wall_s: f64,
    /// Peak resident memory of the process, in kilobytes (0 if unknown).
    pub peak_kb: u64,
    /// The virtual duration, in seconds.
    pub virtual_s: f64,
}

impl DayResult {
    /// Events per wall second.
    pub fn events_per_s(&self) -> f64 {
        self.events as f64 / self.wall_s.max(1e-9)
    }

    /// Virtual seconds per wall second.
    pub fn speedup(&self) -> f64 {
        self.virtual_s / self.wall_s.max(1e-9)
    }

    /// Peak memory per client, in kilobytes.
    pub fn kb_per_client(&self) -> f64 {
        self.peak_kb as f64 / f64::from(self.clients.max(1))
    }
}

/// The virtual length of the day, in seconds.
pub fn day_virtual_s(s: &Scenario) -> f64 {
    let Span(d) = s.duration;
    d.as_millis() as f64 / Duration::from_secs(1).as_millis() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_scales_its_pool_and_segments_with_its_clients_and_validates() {
        for (clients, segments) in [(1_000, 1), (10_000, 1), (100_000, 2)] {
            let s = day(clients);
            assert_eq!(s.clients.count, clients);
            assert_eq!(s.servers.pool_size, clients / 5 * 6);
            assert_eq!(s.clients.segments, segments);
            s.validate().unwrap();
        }
    }
}
