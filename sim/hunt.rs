//! `dhcpfo hunt`: how quickly a scenario finds each catalogued bug, and how small the find
//! shrinks.
//!
//! For each bug hunted, the scenario (by default `scenarios/swarm.yaml`) runs with that bug
//! switched on in both servers over seeds 0, 1, 2… on every core, as a sweep runs them
//! ([`crate::sweep::first_violation`]), until the first seed that violates a property the same
//! seed does not violate with the correct engine, or `--max-seeds` without one. (A seed that
//! violates the property without the bug too, an open finding of the correct engine's, is
//! passed over and counted: it is no evidence of the bug.) The first seed is the first in seed order, whatever `--jobs` is:
//! results are judged in seed order and the seeds after the find that were already running are
//! discarded. Its repro is then shrunk ([`crate::shrink::shrink`]); with `--finds K`, when it
//! does not shrink to at most [`TARGET_CLIENTS`] clients and [`TARGET_EPISODES`] fault
//! episodes, the next finds are shrunk too, up to K in all, and the smallest is reported. The wall clock is read at
//! this edge only to report how long each step took; it decides nothing.
//!
//! Out: a markdown table on stdout (one row per bug: seeds to the first find, the wall time to
//! it, the property, the shrunk size, the shrink's runs and time), progress on stderr, and with
//! `--out DIR` `DIR/hunt.json` (the same rows) and, per bug found, `DIR/<bug>/repro.yaml` (the
//! first find) and `DIR/<bug>/shrunk/repro.yaml`. Exit 0 when every bug hunted was found, 1
//! when one was not found within the bound, 2 when an output cannot be written.

use std::io::Write;
use std::path::PathBuf;

use dhcpfo_engine::bugs::Bug;
use serde_json::json;

use crate::exit;
use crate::run::{Repro, write_repro};
use crate::scenario::Scenario;
use crate::shrink::{Size, shrink};
use crate::sweep::{SeedResult, Wall, first_violation, run_seed};

/// What `hunt` was asked to do.
#[derive(Debug, Clone)]
pub struct HuntArgs {
    /// The bugs, in the order of their rows.
    pub bugs: Vec<Bug>,
    /// Seeds 0 up to this (exclusive) are tried for each bug.
    pub max_seeds: u64,
    /// How many seeds run at once.
    pub jobs: usize,
    /// Up to this many finds are shrunk, in seed order, until one shrinks within
    /// [`TARGET_CLIENTS`] clients and [`TARGET_EPISODES`] fault episodes (at least 1).
    pub finds: usize,
    /// Where hunt.json and the repros go, if anywhere.
    pub out: Option<PathBuf>,
    /// The scenario's file, as the rows name it.
    pub scenario_path: String,
}

/// A bug's first find and its shrink.
#[derive(Debug, Clone)]
pub struct Found {
    /// The first seed that violated a property.
    pub seed: u64,
    /// The property it violated first.
    pub property: String,
    /// What happened.
    pub detail: String,
    /// Wall seconds from the start of this bug's hunt to the find.
    pub find_s: f64,
    /// The first find's run as found.
    pub before: Size,
    /// The find whose shrink is the smallest (the first, unless `--finds` shrank more).
    pub shrunk_seed: u64,
    /// Its shrunk run.
    pub after: Size,
    /// The shrinks' runs, all finds shrunk together.
    pub shrink_runs: usize,
    /// The shrinks' wall seconds, all finds shrunk together.
    pub shrink_s: f64,
    /// How many finds were shrunk.
    pub finds_shrunk: usize,
}

/// One bug's row.
#[derive(Debug, Clone)]
pub struct Hunted {
    /// The bug.
    pub bug: Bug,
    /// Seeds judged up to and including the find (all of them when there was none).
    pub seeds_run: u64,
    /// Seeds passed over before the find: they violated the same property without the bug.
    pub passed_over: Vec<u64>,
    /// The find, or none within the bound.
    pub found: Option<Found>,
    /// Why the find could not be shrunk, if it could not.
    pub shrink_error: Option<String>,
}

impl Hunted {
    fn to_json(&self) -> serde_json::Value {
        let size = |s: &Size| {
            json!({"clients": s.clients, "faults": s.faults, "episodes": s.episodes,
                   "events": s.events,
                   "duration_ms": s.duration.as_millis(),
                   "violated_at_ms": s.violation_at.as_millis()})
        };
        json!({
            "bug": self.bug.name(),
            "catalogued_property": self.bug.property(),
            "found": self.found.is_some(),
            "seeds_run": self.seeds_run,
            "passed_over": self.passed_over,
            "first_seed": self.found.as_ref().map(|f| f.seed),
            "property": self.found.as_ref().map(|f| f.property.clone()),
            "detail": self.found.as_ref().map(|f| f.detail.clone()),
            "find_wall_s": self.found.as_ref().map(|f| f.find_s),
            "before": self.found.as_ref().map(|f| size(&f.before)),
            "shrunk": self.found.as_ref().map(|f| size(&f.after)),
            "shrunk_seed": self.found.as_ref().map(|f| f.shrunk_seed),
            "finds_shrunk": self.found.as_ref().map(|f| f.finds_shrunk),
            "within_target": self.found.as_ref().map(|f| within_target(&f.after)),
            "shrink_runs": self.found.as_ref().map(|f| f.shrink_runs),
            "shrink_wall_s": self.found.as_ref().map(|f| f.shrink_s),
            "shrink_error": self.shrink_error,
        })
    }
}

/// Hunt each bug of `args` in `scenario`: one [`Hunted`] per bug, in order. `err` hears the
/// progress.
pub fn hunt_all(scenario: &Scenario, args: &HuntArgs, err: &mut dyn Write) -> Vec<Hunted> {
    args.bugs
        .iter()
        .map(|&bug| hunt_one(scenario, bug, args, err))
        .collect()
}

fn hunt_one(scenario: &Scenario, bug: Bug, args: &HuntArgs, err: &mut dyn Write) -> Hunted {
    let mut buggy = scenario.clone();
    buggy.bugs = buggy.bugs.showing(bug);
    let wall = Wall::start();
    let mut last_line_at = 0;
    let mut passed_over = Vec::new();
    // Both closures write progress: they share the writer, one at a time.
    let shared = std::cell::RefCell::new(&mut *err);
    let mut accept = |r: &SeedResult| {
        if needs_the_bug(scenario, r) {
            return true;
        }
        let _ = writeln!(
            shared.borrow_mut(),
            "hunt: {}: seed {} passed over: it violates {} without the bug too",
            bug.name(),
            r.seed,
            r.property.as_deref().unwrap_or_default()
        );
        passed_over.push(r.seed);
        false
    };
    let mut progress = |n: u64| {
        // A line every 500 seeds: a long hunt shows it is alive.
        if n >= last_line_at + 500 {
            last_line_at = n;
            let _ = writeln!(
                shared.borrow_mut(),
                "hunt: {}: {n} seeds, none yet",
                bug.name()
            );
        }
    };
    let (found, seeds_run) = first_violation(
        &buggy,
        &(0..args.max_seeds),
        args.jobs,
        &mut accept,
        &mut progress,
    );
    let find_s = wall.elapsed_s();
    let Some(r) = found else {
        let _ = writeln!(
            err,
            "hunt: {}: not found in seeds 0..{} ({find_s:.2} s)",
            bug.name(),
            args.max_seeds
        );
        return Hunted {
            bug,
            seeds_run,
            passed_over: passed_over.clone(),
            found: None,
            shrink_error: None,
        };
    };
    let property = r.property.clone().unwrap_or_default();
    let _ = writeln!(
        err,
        "hunt: {}: seed {} violates {property} ({find_s:.2} s); shrinking",
        bug.name(),
        r.seed
    );
    let dir = args.out.as_ref().map(|o| o.join(bug.name()));
    let mut found = Found {
        seed: r.seed,
        property,
        detail: r.detail.clone().unwrap_or_default(),
        find_s,
        before: Size::default(),
        shrunk_seed: r.seed,
        after: Size::default(),
        shrink_runs: 0,
        shrink_s: 0.0,
        finds_shrunk: 0,
    };
    let mut shrink_error = None;
    let mut best: Option<Size> = None;
    let mut next = Some(r);
    // The first find, then (with --finds) the next ones, until one shrinks within the target.
    while let Some(r) = next.take() {
        found.finds_shrunk += 1;
        let hash = r
            .trace_hash
            .as_deref()
            .and_then(|h| u64::from_str_radix(h, 16).ok());
        let repro = Repro::new(&buggy, r.seed, false, hash);
        let first = found.finds_shrunk == 1;
        if first
            && let Some(dir) = &dir
            && let Err(e) = write_repro(dir, &repro)
        {
            let _ = writeln!(err, "hunt: writing {}: {e}", dir.display());
        }
        let shrink_wall = Wall::start();
        let mut runs = 0usize;
        let shrunk = shrink(&repro, &mut |line| {
            runs += 1;
            // Only what was kept, and every hundredth run: the whole story is `dhcpfo shrink`'s.
            if line.contains("still violates") || runs.is_multiple_of(100) {
                let _ = writeln!(err, "hunt: {} seed {}: shrink {line}", bug.name(), r.seed);
            }
        });
        found.shrink_s += shrink_wall.elapsed_s();
        match shrunk {
            Ok(s) => {
                found.shrink_runs += s.runs;
                let _ = writeln!(
                    err,
                    "hunt: {} seed {}: shrunk to {} in {} runs",
                    bug.name(),
                    r.seed,
                    s.after,
                    s.runs
                );
                if first {
                    found.before = s.before;
                }
                // Within the target first, then the fewest clients, episodes, faults, events.
                let key = |z: &Size| (!within_target(z), z.clients, z.episodes, z.faults, z.events);
                if best.is_none_or(|b| key(&s.after) < key(&b)) {
                    best = Some(s.after);
                    found.after = s.after;
                    found.shrunk_seed = r.seed;
                    if let Some(dir) = &dir {
                        let r = Repro::new(&s.scenario, r.seed, false, Some(s.trace_hash));
                        if let Err(e) = write_repro(&dir.join("shrunk"), &r) {
                            let _ = writeln!(err, "hunt: writing {}: {e}", dir.display());
                        }
                    }
                }
            }
            Err(e) => {
                if first {
                    shrink_error = Some(e);
                    break;
                }
            }
        }
        let small = best.is_some_and(|b| within_target(&b));
        if small || found.finds_shrunk >= args.finds || r.seed + 1 >= args.max_seeds {
            break;
        }
        let (later, _) = first_violation(
            &buggy,
            &(r.seed + 1..args.max_seeds),
            args.jobs,
            &mut |v: &SeedResult| needs_the_bug(scenario, v),
            &mut |_| {},
        );
        if let Some(l) = &later {
            let _ = writeln!(
                err,
                "hunt: {}: not within {TARGET_CLIENTS} clients and {TARGET_EPISODES} fault \
                 episodes; the next find, seed {}, shrinks too",
                bug.name(),
                l.seed
            );
        }
        next = later;
    }
    Hunted {
        bug,
        seeds_run,
        passed_over,
        found: Some(found),
        shrink_error,
    }
}

/// Whether the violation of `r` (a seed run with a bug) needs the bug: the same seed of the
/// correct `scenario` does not violate the same property.
fn needs_the_bug(scenario: &Scenario, r: &SeedResult) -> bool {
    let correct = run_seed(scenario, r.seed);
    correct.property.is_none() || correct.property != r.property
}

/// The size a shrunk find should reach (issue 15): at most this many clients…
pub const TARGET_CLIENTS: u32 = 5;
/// …and this many fault episodes.
pub const TARGET_EPISODES: usize = 2;

/// Whether `s` is within the target size.
pub fn within_target(s: &Size) -> bool {
    s.clients <= TARGET_CLIENTS && s.episodes <= TARGET_EPISODES
}

/// The markdown table of `rows`.
pub fn write_table(rows: &[Hunted], args: &HuntArgs, out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "| bug | first seed (seeds run) | wall time to the find | property | found as: clients/faults (episodes)/events | shrunk to: clients/faults (episodes)/events | shrink runs (time) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---|---:|---:|---:|");
    for h in rows {
        let name = h.bug.name();
        match &h.found {
            None => {
                let passed = match h.passed_over.len() {
                    0 => String::new(),
                    n => format!(" ({n} passed over)"),
                };
                let _ = writeln!(
                    out,
                    "| `{name}` | not in 0..{}{passed} | - | - | - | - | - |",
                    args.max_seeds
                );
            }
            Some(f) => {
                let size =
                    |s: &Size| format!("{}/{} ({})/{}", s.clients, s.faults, s.episodes, s.events);
                let (after, runs) = match &h.shrink_error {
                    Some(e) => (format!("not shrunk: {e}"), "-".to_string()),
                    None => {
                        let seed = if f.shrunk_seed == f.seed {
                            String::new()
                        } else {
                            format!("seed {}: ", f.shrunk_seed)
                        };
                        let finds = if f.finds_shrunk > 1 {
                            format!(", {} finds", f.finds_shrunk)
                        } else {
                            String::new()
                        };
                        (
                            format!("{seed}{}", size(&f.after)),
                            format!("{} ({:.2} s{finds})", f.shrink_runs, f.shrink_s),
                        )
                    }
                };
                let passed = match h.passed_over.len() {
                    0 => String::new(),
                    n => format!("; {n} passed over"),
                };
                let _ = writeln!(
                    out,
                    "| `{name}` | {} ({}{passed}) | {:.2} s | {} | {} | {after} | {runs} |",
                    f.seed,
                    h.seeds_run,
                    f.find_s,
                    f.property,
                    size(&f.before)
                );
            }
        }
    }
    let found = rows.iter().filter(|h| h.found.is_some()).count();
    let small = rows
        .iter()
        .filter(|h| {
            h.shrink_error.is_none() && h.found.as_ref().is_some_and(|f| within_target(&f.after))
        })
        .count();
    let _ = writeln!(
        out,
        "\n{found} of {} bugs found in `{}`, seeds 0..{} at most, {} jobs; {small} shrunk to at \
         most {TARGET_CLIENTS} clients and {TARGET_EPISODES} fault episodes ({} finds at most \
         shrunk per bug).",
        rows.len(),
        args.scenario_path,
        args.max_seeds,
        args.jobs,
        args.finds
    );
}

/// Write `DIR/hunt.json`.
pub fn write_json(rows: &[Hunted], args: &HuntArgs) -> std::io::Result<()> {
    let Some(dir) = &args.out else {
        return Ok(());
    };
    let value = json!({
        "scenario": args.scenario_path,
        "max_seeds": args.max_seeds,
        "finds": args.finds,
        "jobs": args.jobs,
        "bugs": rows.iter().map(Hunted::to_json).collect::<Vec<_>>(),
    });
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("hunt.json"), format!("{value:#}\n"))
}

/// The exit code: 0 when every bug was found, 1 when one was not.
pub fn code(rows: &[Hunted]) -> u8 {
    if rows.iter().all(|h| h.found.is_some()) {
        exit::OK
    } else {
        exit::VIOLATION
    }
}
