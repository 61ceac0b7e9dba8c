//! `dhcpfo shrink`: make a failing run smaller while it still violates the same property.
//!
//! A repro names a scenario and a seed; a run of it violates a property P first. The shrinker
//! tries smaller versions of the scenario, one change at a time, and keeps each change after
//! which the same seed still violates P first: fewer nemesis faults (a nemesis draws its faults
//! in order, so fewer is a prefix of the same list), the nemesis's faults written out as
//! scheduled faults, faults removed (in halves, then one by one, then with the fault that
//! undoes them), fewer clients, a run cut short after the violation, and simpler settings (no
//! loss, duplication or jitter, one segment, no departures, no flood, no client clocks, no ARP
//! probes, a smaller pool, fault times on whole minutes). It repeats until a whole pass changes
//! nothing, or its bound of runs is spent.
//!
//! Every candidate is checked with [`Scenario::validate`] (a shrunk repro must load like any
//! other) and run from scratch; the order of tries is fixed, so shrinking is deterministic.

use dhcpfo_engine::time::Duration;

use crate::run::Repro;
use crate::scenario::{Scenario, Span, Verb};
use crate::world::{Outcome, START, World, nemesis_faults};

/// The most runs one shrink makes (a bound on its work).
pub const MAX_RUNS: usize = 400;

/// How big a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Clients.
    pub clients: u32,
    /// Faults (a nemesis's counted as it would draw them).
    pub faults: usize,
    /// Scheduled duration.
    pub duration: Duration,
    /// Simulator events until the violation.
    pub events: u64,
    /// When the property broke.
    pub violation_at: Duration,
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} clients, {} faults, {} long, {} events, violated at {}",
            self.clients,
            self.faults,
            Span(self.duration),
            self.events,
            crate::world::fmt_at(START + self.violation_at)
        )
    }
}

/// A finished shrink.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The smallest scenario found (same seed).
    pub scenario: Scenario,
    /// The property it violates.
    pub property: &'static str,
    /// The size before and after.
    pub before: Size,
    /// See `before`.
    pub after: Size,
    /// Runs made.
    pub runs: usize,
    /// The trace hash of the smallest run.
    pub trace_hash: u64,
}

/// What one run of a candidate showed.
struct Tried {
    size: Size,
    hash: u64,
    /// The violation's clients.
    clients: Vec<u32>,
}

/// The clients that run: `clients.only`, or all of them.
fn running(s: &Scenario) -> Vec<u32> {
    match &s.clients.only {
        Some(o) => o.clone(),
        None => (0..s.clients.count).collect(),
    }
}

/// The shrinker's state.
struct Shrinker<'a> {
    seed: u64,
    property: &'static str,
    best: Scenario,
    best_size: Size,
    best_hash: u64,
    best_clients: Vec<u32>,
    runs: usize,
    progress: &'a mut dyn FnMut(&str),
}

fn faults_of(s: &Scenario) -> usize {
    s.faults.len() + s.nemesis.as_ref().map_or(0, |n| 2 * n.faults as usize)
}

impl Shrinker<'_> {
    /// Run `s`: its size if it still violates the property first.
    fn run(&mut self, s: &Scenario) -> Option<Tried> {
        self.runs += 1;
        let mut w = World::new(s.clone(), self.seed);
        match w.run() {
            Outcome::Violation(v) if v.property == self.property => Some(Tried {
                size: Size {
                    clients: running(s).len() as u32,
                    faults: faults_of(s),
                    duration: s.duration.0,
                    events: w.counts.events,
                    violation_at: v.at.saturating_since(START),
                },
                hash: w.trace.hash(),
                clients: v.clients.iter().map(|&c| c as u32).collect(),
            }),
            _ => None,
        }
    }

    /// Try a candidate: keep it if it is valid, smaller, and still violates. `what` says what
    /// changed, for the progress line.
    fn try_candidate(&mut self, what: &str, candidate: Scenario) -> bool {
        if self.runs >= MAX_RUNS || candidate == self.best || candidate.validate().is_err() {
            return false;
        }
        let Some(t) = self.run(&candidate) else {
            (self.progress)(&format!("run {}: {what}: no longer violates", self.runs));
            return false;
        };
        (self.progress)(&format!(
            "run {}: {what}: still violates {} ({} events)",
            self.runs, self.property, t.size.events
        ));
        self.best = candidate;
        self.best_size = t.size;
        self.best_hash = t.hash;
        self.best_clients = t.clients;
        true
    }

    /// One pass of every kind of change; whether any was kept.
    fn pass(&mut self) -> bool {
        let mut changed = false;
        changed |= self.fewer_nemesis_faults();
        changed |= self.write_out_nemesis();
        changed |= self.shorter();
        changed |= self.fewer_faults();
        changed |= self.fewer_clients();
        changed |= self.only_some_clients();
        changed |= self.simpler();
        changed
    }

    fn fewer_nemesis_faults(&mut self) -> bool {
        let Some(n) = self.best.nemesis.clone() else {
            return false;
        };
        // The smallest prefix of the drawn faults that still violates, smallest first.
        for k in [
            0,
            1,
            2,
            3,
            5,
            8,
            n.faults / 4,
            n.faults / 2,
            n.faults * 3 / 4,
        ] {
            if k >= n.faults {
                continue;
            }
            let mut c = self.best.clone();
            if k == 0 {
                c.nemesis = None;
            } else if let Some(cn) = c.nemesis.as_mut() {
                cn.faults = k;
            }
            if self.try_candidate(&format!("nemesis faults {} -> {k}", n.faults), c) {
                return true;
            }
        }
        false
    }

    /// The nemesis's faults written out as scheduled faults (the same run, if they are valid
    /// as scheduled faults: drawn faults may overlap, which scheduled ones may not).
    fn write_out_nemesis(&mut self) -> bool {
        let Some(n) = self.best.nemesis.clone() else {
            return false;
        };
        let mut c = self.best.clone();
        c.faults.extend(nemesis_faults(&n, self.seed));
        c.nemesis = None;
        self.try_candidate("the nemesis's faults written out", c)
    }

    /// The run cut short a minute after the violation, and the faults after it dropped.
    fn shorter(&mut self) -> bool {
        let at = self.best_size.violation_at.as_millis();
        let minute = 60_000;
        let end = Duration::from_millis((at / minute + 2) * minute);
        if end >= self.best.duration.0 {
            return false;
        }
        let mut c = self.best.clone();
        c.duration = Span(end);
        c.faults.retain(|f| f.at.0 <= end);
        c.checks.converge_within = Span(c.checks.converge_within.0.min(end));
        self.try_candidate(&format!("duration -> {}", Span(end)), c)
    }

    fn fewer_faults(&mut self) -> bool {
        let mut changed = false;
        // Halves, quarters… then single faults; each with the fault that undoes it too.
        let mut chunk = self.best.faults.len() / 2;
        while chunk >= 1 {
            let mut i = 0;
            while i < self.best.faults.len() {
                let mut c = self.best.clone();
                let end = (i + chunk).min(c.faults.len());
                c.faults.drain(i..end);
                let what = format!("faults {}..{} removed", i + 1, end);
                if self.try_candidate(&what, c) {
                    changed = true;
                } else {
                    if chunk == 1
                        && let Some(j) = undoing(&self.best, i)
                    {
                        let mut c = self.best.clone();
                        let text = c.faults[i].to_string();
                        c.faults.remove(j);
                        c.faults.remove(i);
                        if self.try_candidate(&format!("{text} and its undo removed"), c) {
                            changed = true;
                            continue;
                        }
                    }
                    i += chunk;
                }
            }
            chunk /= 2;
        }
        changed
    }

    fn fewer_clients(&mut self) -> bool {
        let n = self.best.clients.count;
        for k in [1, 2, 3, 5, 8, n / 4, n / 2, n * 3 / 4, n.saturating_sub(1)] {
            if k == 0 || k >= n {
                continue;
            }
            let mut c = self.best.clone();
            c.clients.count = k;
            if self.try_candidate(&format!("clients {n} -> {k}"), c) {
                return true;
            }
        }
        false
    }

    /// Only some clients run (`clients.only`): first only the violation's own, then the
    /// others removed in halves, quarters… down to one at a time.
    fn only_some_clients(&mut self) -> bool {
        let mut changed = false;
        let mut own = self.best_clients.clone();
        own.sort_unstable();
        own.dedup();
        if own.len() < running(&self.best).len() {
            let mut c = self.best.clone();
            c.clients.only = Some(own.clone());
            if self.try_candidate(&format!("only clients {own:?}"), c) {
                return true;
            }
        }
        let mut chunk = running(&self.best).len() / 2;
        while chunk >= 1 {
            let mut i = 0;
            loop {
                let run = running(&self.best);
                if i >= run.len() {
                    break;
                }
                let end = (i + chunk).min(run.len());
                // Never the violation's own clients: without them it cannot happen.
                let removed: Vec<u32> = run[i..end]
                    .iter()
                    .copied()
                    .filter(|c| !self.best_clients.contains(c))
                    .collect();
                if removed.is_empty() || self.runs >= MAX_RUNS {
                    i += chunk;
                    continue;
                }
                let mut c = self.best.clone();
                c.clients.only = Some(run.into_iter().filter(|x| !removed.contains(x)).collect());
                let what = match removed.len() {
                    1 => format!("client {} removed", removed[0]),
                    n => format!("{n} clients removed"),
                };
                if self.try_candidate(&what, c) {
                    changed = true;
                } else {
                    i += chunk;
                }
            }
            chunk /= 2;
        }
        changed
    }

    fn simpler(&mut self) -> bool {
        type Change = Box<dyn Fn(&mut Scenario)>;
        let mut changes: Vec<(&str, Change)> = vec![
            (
                "no loss, duplication or jitter",
                Box::new(|c| {
                    c.network.loss_probability = 0.0;
                    c.network.duplicate_probability = 0.0;
                    c.network.jitter_ms = 0;
                }),
            ),
            ("one segment", Box::new(|c| c.clients.segments = 1)),
            ("no departures", Box::new(|c| c.clients.stay = None)),
            ("no flood", Box::new(|c| c.clients.flood = None)),
            ("no ARP probes", Box::new(|c| c.clients.arp_probe = false)),
            (
                "client clocks true",
                Box::new(|c| {
                    c.clients.clock_offset_max = Span(Duration::ZERO);
                    c.clients.clock_drift_max_ppm = 0;
                }),
            ),
            (
                "clients arrive at once",
                Box::new(|c| c.clients.arrive_over = Span(Duration::from_secs(1))),
            ),
            (
                "fault times on whole minutes",
                Box::new(|c| {
                    for f in &mut c.faults {
                        let m = 60_000;
                        f.at = Span(Duration::from_millis(f.at.0.as_millis() / m * m));
                    }
                }),
            ),
        ];
        let n = running(&self.best).len() as u32;
        for (what, size) in [
            ("pool one more than the clients", n + 1),
            ("pool twice the clients", 2 * n),
            ("pool halved", self.best.servers.pool_size / 2),
        ] {
            if (1..self.best.servers.pool_size).contains(&size) {
                changes.push((
                    what,
                    Box::new(move |c: &mut Scenario| {
                        c.servers.pool_size = c.servers.pool_size.min(size)
                    }),
                ));
            }
        }
        let mut changed = false;
        // Each change applies to the best so far, so the ones kept add up.
        for (what, change) in changes {
            let mut c = self.best.clone();
            change(&mut c);
            if self.try_candidate(what, c) {
                changed = true;
            }
        }
        changed
    }
}

/// The fault after `i` that undoes it: the restart of its crash, the heal of its cut.
fn undoing(s: &Scenario, i: usize) -> Option<usize> {
    let f = &s.faults[i];
    s.faults.iter().enumerate().skip(i + 1).find_map(|(j, g)| {
        let undoes = match (&f.verb, &g.verb) {
            (Verb::Crash { node: a, .. }, Verb::Restart { node: b }) => a == b,
            (Verb::Partition { cut: a }, Verb::Heal { cut: b }) => a == b,
            _ => false,
        };
        undoes.then_some(j)
    })
}

/// Shrink the run of `repro`. `progress` hears one line per run. An error if the repro's run
/// violates nothing.
pub fn shrink(repro: &Repro, progress: &mut dyn FnMut(&str)) -> Result<Shrunk, String> {
    let mut w = World::new(repro.scenario.clone(), repro.seed);
    let property = match w.run() {
        Outcome::Violation(v) => v.property,
        Outcome::Pass => {
            return Err("its run violates no property: there is nothing to shrink".into());
        }
        Outcome::Unfinished(why) => {
            return Err(format!(
                "its run did not finish ({why}): there is nothing to shrink"
            ));
        }
    };
    let mut s = Shrinker {
        seed: repro.seed,
        property,
        best: repro.scenario.clone(),
        best_size: Size {
            clients: 0,
            faults: 0,
            duration: Duration::ZERO,
            events: 0,
            violation_at: Duration::ZERO,
        },
        best_hash: 0,
        best_clients: Vec::new(),
        runs: 0,
        progress,
    };
    let first = s
        .run(&repro.scenario)
        .ok_or("its run is not deterministic")?;
    (s.progress)(&format!(
        "run 1: as found: violates {property} ({} events)",
        first.size.events
    ));
    s.best_size = first.size;
    s.best_hash = first.hash;
    s.best_clients = first.clients;
    let before = first.size;
    while s.runs < MAX_RUNS && s.pass() {}
    Ok(Shrunk {
        scenario: s.best,
        property,
        before,
        after: s.best_size,
        runs: s.runs,
        trace_hash: s.best_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_lease_shrinks_to_fewer_clients_and_faults_and_still_violates() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios/partner-down-while-partitioned.yaml"),
        )
        .unwrap();
        let scenario = Scenario::parse(&text).unwrap();
        let repro = Repro::new(&scenario, 1, false, None);
        let mut lines = Vec::new();
        let shrunk = shrink(&repro, &mut |l| lines.push(l.to_string())).unwrap();
        assert_eq!(shrunk.property, "no-duplicate-lease");
        assert!(shrunk.after.clients < shrunk.before.clients, "{lines:#?}");
        assert!(shrunk.after.events < shrunk.before.events);
        assert!(shrunk.scenario.validate().is_ok());
        // The shrunk scenario violates the same property when run again.
        match World::new(shrunk.scenario.clone(), 1).run() {
            Outcome::Violation(v) => assert_eq!(v.property, "no-duplicate-lease"),
            other => panic!("{other:?}"),
        }
        // Deterministic: the same shrink gives the same result.
        let again = shrink(&repro, &mut |_| {}).unwrap();
        assert_eq!(again.scenario, shrunk.scenario);
        assert_eq!(again.trace_hash, shrunk.trace_hash);
    }

    #[test]
    fn a_passing_run_has_nothing_to_shrink() {
        let text = "name: x\ndescription: d\nduration: 10m\nexpect: pass\nwhy: w\n";
        let repro = Repro::new(&Scenario::parse(text).unwrap(), 1, false, None);
        let e = shrink(&repro, &mut |_| {}).unwrap_err();
        assert!(e.contains("nothing to shrink"), "{e}");
    }
}
