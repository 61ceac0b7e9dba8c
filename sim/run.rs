//! `dhcpfo run`, `replay`, `check` and `scenarios`: one seeded run of a scenario, its summary,
//! its output files, and the one line that reproduces it.
//!
//! A run writes to its output directory `trace.jsonl` (the lean trace), `summary.json`, and on
//! a violation `repro.yaml` (scenario, seed, dhcpfo version), which `dhcpfo replay` reruns
//! exactly, and `messages.jsonl`: every message about the violation's addresses and clients,
//! from a second, following replay of the same run (`crate::watch`). Exit codes: 0 every check held, 1 a property was violated, 2 bad usage or input,
//! 3 the run did not finish within its event bound.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;

use dhcpfo_engine::time::Time;

use crate::exit;
use crate::scenario::{Expect, Scenario};
use crate::watch::Watch;
use crate::world::{Outcome, World};

/// What `run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunArgs {
    /// The seed.
    pub seed: u64,
    /// Where to write the output files; `out/<name>-seed<N>` by default.
    pub out: Option<PathBuf>,
    /// The command line that reproduces the run (printed).
    pub reproduce: String,
    /// Keep running after the first violation, recording each in the trace.
    pub keep_going: bool,
    /// Write every packet of the run to `run.pcap` in the output directory.
    pub pcap: bool,
}

/// A run's result, for callers that want more than the exit code.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// How it ended.
    pub outcome: Outcome,
    /// The trace hash.
    pub trace_hash: u64,
    /// Events processed.
    pub events: u64,
}

/// The file `dhcpfo replay` reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repro {
    /// The dhcpfo version that found it.
    pub dhcpfo_version: String,
    /// The seed.
    pub seed: u64,
    /// The whole scenario, so the file stands alone (with every `--set` applied and every
    /// `--bug` in its `bugs:`).
    pub scenario: Scenario,
    /// The run went on after its first violation (`--continue`).
    #[serde(default)]
    pub keep_going: bool,
    /// The trace hash the run ended with: `dhcpfo replay` must end with the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_hash: Option<String>,
}

impl Repro {
    /// The repro of `seed` of `scenario`, run with `--continue` or not, that ended with
    /// `trace_hash` (`None`: the run did not end, it panicked).
    pub fn new(scenario: &Scenario, seed: u64, keep_going: bool, trace_hash: Option<u64>) -> Repro {
        Repro {
            dhcpfo_version: env!("CARGO_PKG_VERSION").into(),
            seed,
            scenario: scenario.clone(),
            keep_going,
            trace_hash: trace_hash.map(|h| format!("{h:016x}")),
        }
    }
}

/// A display that follows a long run (`dhcpfo run` shows one on stderr when it is a terminal).
/// It only ever sees the world read-only, so it cannot change a result. Every method does
/// nothing by default; `()` is the display that shows nothing.
pub trait Progress {
    /// A pass over the run starts: `what` names it (the run, or the replay that follows a
    /// violation's messages) and `end` is the virtual time it runs to at most.
    fn begin(&mut self, what: &str, end: Time) {
        let _ = (what, end);
    }
    /// The pass has reached `world.now()` (called every
    /// [`PROGRESS_EVERY_EVENTS`](crate::world::PROGRESS_EVERY_EVENTS) events).
    fn update(&mut self, world: &World) {
        let _ = world;
    }
    /// The pass has ended: clear the display before anything else is written.
    fn finish(&mut self) {}
}

impl Progress for () {}

/// Run a scenario once. `wall_s` measures the run's wall time for the summary (the caller owns
/// the clock: the simulator never reads one).
pub fn run_scenario(
    scenario: Scenario,
    args: &RunArgs,
    wall_s: &mut dyn FnMut() -> f64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> (u8, Option<RunReport>) {
    run_scenario_with_progress(scenario, args, wall_s, &mut (), out, err)
}

/// [`run_scenario`], showing the run's progress on `progress`.
pub fn run_scenario_with_progress(
    scenario: Scenario,
    args: &RunArgs,
    wall_s: &mut dyn FnMut() -> f64,
    progress: &mut dyn Progress,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> (u8, Option<RunReport>) {
    let started = wall_s();
    let mut world = if args.pcap {
        World::with_capture(scenario.clone(), args.seed)
    } else {
        World::new(scenario.clone(), args.seed)
    };
    progress.begin("run", crate::world::START + scenario.duration.0);
    let outcome = world.run_with_progress(args.keep_going, &mut |w| progress.update(w));
    progress.finish();
    let wall = (wall_s() - started).max(1e-9);
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("out/{}-seed{}", scenario.name, args.seed)));
    let hash = world.trace.hash();
    let virtual_s = world
        .now()
        .saturating_since(crate::world::START)
        .as_millis() as f64
        / 1000.0;
    let verdict = match &outcome {
        Outcome::Pass => "PASS",
        Outcome::Violation(_) => "VIOLATION",
        Outcome::Unfinished(_) => "UNFINISHED",
    };
    let expected = expected(&scenario);
    let matched = judge_expectation(&scenario, &outcome);
    let _ = writeln!(
        out,
        "{verdict}  {} seed={} (expected {expected}){}",
        scenario.name,
        args.seed,
        if matched.is_ok() { "" } else { "  MISMATCH" }
    );
    if let Err(why) = &matched {
        let _ = writeln!(out, "  MISMATCH: {why}");
    }
    if let Outcome::Unfinished(why) = &outcome {
        let _ = writeln!(out, "  unfinished: {why}");
    }
    // A violation's story: the lean trace's lines about it, and the messages about it, which a
    // replay of the same run follows (the replay must end the same way, or the story is not
    // this run's).
    let messages = match &outcome {
        Outcome::Violation(v) => follow(&scenario, args, v, hash, progress),
        _ => Ok(Vec::new()),
    };
    let messages = messages.unwrap_or_else(|e| {
        let _ = writeln!(err, "dhcpfo run: {e}");
        Vec::new()
    });
    let history = match &outcome {
        Outcome::Violation(v) => {
            let mut lines = world.trace.history(&v.subjects(), 40);
            let recent = &messages[messages.len().saturating_sub(40)..];
            lines.extend(recent.iter().cloned());
            // Stable: at one instant, the trace's line comes before the message's.
            lines.sort_by_key(|l| crate::watch::line_time(l));
            lines
        }
        _ => Vec::new(),
    };
    if let Outcome::Violation(v) = &outcome {
        let at = crate::world::fmt_at(v.at);
        let _ = writeln!(out, "  {} at {at}: {}", v.property, v.detail);
        let _ = writeln!(
            out,
            "  what led to it (faults, state changes, and the last lines and messages about it):"
        );
        let is_context =
            |l: &String| l.contains("\"kind\":\"state\"") || l.contains("\"kind\":\"fault\"");
        let is_message = |l: &String| l.contains("\"kind\":\"message\"");
        let last = |keep: &dyn Fn(&String) -> bool, n: usize| -> Vec<&String> {
            let all: Vec<&String> = history.iter().filter(|l| keep(l)).collect();
            all[all.len().saturating_sub(n)..].to_vec()
        };
        let recent_lines = last(&|l| !is_context(l) && !is_message(l), 6);
        let recent_messages = last(&|l| is_message(l), 8);
        for l in history
            .iter()
            .filter(|l| is_context(l) || recent_lines.contains(l) || recent_messages.contains(l))
        {
            let _ = writeln!(out, "    {l}");
        }
        if !messages.is_empty() {
            let _ = writeln!(
                out,
                "  {} messages about it -> {}",
                messages.len(),
                dir.join("messages.jsonl").display()
            );
        }
    }
    let c = world.counts;
    let _ = writeln!(
        out,
        "  {virtual_s:.0} s virtual in {wall:.3} s wall: {:.0}x real time, {} events ({:.0} events/s)",
        virtual_s / wall,
        c.events,
        c.events as f64 / wall
    );
    if world.checker.violations.len() > 1 {
        let _ = writeln!(
            out,
            "  {} violations in all (see the trace)",
            world.checker.violations.len()
        );
    }
    let _ = writeln!(
        out,
        "  {} clients, {} leases, {} DHCP and {} failover messages, {} faults, {} ACKs checked against the MCLT",
        scenario.clients.count,
        world.checker.leases,
        c.dhcp_messages,
        c.failover_messages,
        c.faults,
        world.checker.mclt_checked
    );
    let judgements = world.judgements();
    let _ = writeln!(out, "  properties:");
    for j in &judgements {
        let _ = writeln!(
            out,
            "    {:<26} {:<11} {}",
            j.property,
            j.status.word(),
            j.basis
        );
    }
    let rejects = &world.checker.rejects;
    if !rejects.is_empty() {
        let list: Vec<String> = rejects
            .iter()
            .map(|(r, n)| format!("{n} × {}", reject_name(*r)))
            .collect();
        let _ = writeln!(
            out,
            "  binding updates rejected by the partner: {} ({})",
            rejects.values().sum::<u64>(),
            list.join(", ")
        );
    }
    let (durable, declined) = (
        world.checker.durable_checked,
        world.checker.duplicates_declined,
    );
    if durable + declined > 0 {
        let _ = writeln!(
            out,
            "  {durable} leases checked in restarted servers' databases, {declined} duplicate \
             grants caught by ARP probes"
        );
    }
    let _ = writeln!(
        out,
        "  trace {hash:016x} -> {}",
        dir.join("trace.jsonl").display()
    );
    let _ = writeln!(out, "reproduce: {}", args.reproduce);
    let summary = json!({
        "scenario": scenario.name,
        "seed": args.seed,
        "outcome": verdict.to_lowercase(),
        "expected": expected,
        "violation": match &outcome {
            Outcome::Violation(v) => json!({"property": v.property, "detail": v.detail,
                "at_ms": v.at.saturating_since(crate::world::START).as_millis(),
                "addresses": v.addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "clients": v.clients,
                "messages": messages.len()}),
            _ => serde_json::Value::Null,
        },
        "matches": matched.is_ok(),
        "mismatch": matched.as_ref().err(),
        "unfinished": match &outcome {
            Outcome::Unfinished(why) => serde_json::Value::from(why.as_str()),
            _ => serde_json::Value::Null,
        },
        "properties": judgements.iter().map(|j| json!({
            "property": j.property,
            "status": j.status.word(),
            "basis": j.basis,
        })).collect::<Vec<_>>(),
        "rejects": rejects.iter().map(|(r, n)| (reject_name(*r), *n)).collect::<std::collections::BTreeMap<_, _>>(),
        "trace_hash": format!("{hash:016x}"),
        "virtual_s": virtual_s,
        "events": c.events,
        "dhcp_messages": c.dhcp_messages,
        "failover_messages": c.failover_messages,
        "leases": world.checker.leases,
        "durable_leases_checked": world.checker.durable_checked,
        "duplicates_declined": world.checker.duplicates_declined,
        "faults": c.faults,
        "reproduce": args.reproduce,
        "history": history,
    });
    let repro = (matches!(outcome, Outcome::Violation(_)) || matched.is_err())
        .then(|| Repro::new(&scenario, args.seed, args.keep_going, Some(hash)));
    let written = write_outputs(&dir, &mut world, &summary, repro.as_ref())
        .and_then(|()| write_messages(&dir, &messages));
    if let Err(e) = written {
        let _ = writeln!(err, "dhcpfo run: writing {}: {e}", dir.display());
        return (exit::BAD_INPUT, None);
    }
    // A run that passed where a violation was expected is a failure of the testbed: it must
    // not exit 0.
    let code = match outcome {
        Outcome::Pass if matched.is_err() => exit::VIOLATION,
        Outcome::Pass => exit::OK,
        Outcome::Violation(_) => exit::VIOLATION,
        Outcome::Unfinished(_) => exit::UNFINISHED,
    };
    let report = RunReport {
        outcome,
        trace_hash: hash,
        events: c.events,
    };
    (code, Some(report))
}

/// Whether a run ended as its scenario expects (issue 13, hole 12): `Ok` when it did, else
/// why not. An expected violation must be of the named property and come at or after
/// `violates_after`; an earlier violation, or one of another property, does not match.
pub fn judge_expectation(scenario: &Scenario, outcome: &Outcome) -> Result<(), String> {
    let expected = expected(scenario);
    match (scenario.expect, outcome) {
        (Expect::Pass, Outcome::Pass) => Ok(()),
        (_, Outcome::Unfinished(why)) => Err(format!("expected {expected}, but {why}")),
        (Expect::Pass, Outcome::Violation(v)) => Err(format!(
            "expected pass, but {} was violated at {}",
            v.property,
            crate::world::fmt_at(v.at)
        )),
        (Expect::Violation, Outcome::Pass) => Err(format!(
            "expected {expected}, but every property judged held: the testbed did not catch it"
        )),
        (Expect::Violation, Outcome::Violation(v)) => {
            let after = scenario
                .violates_after
                .map_or(crate::world::START, |a| crate::world::START + a.0);
            if scenario
                .violates
                .as_deref()
                .is_some_and(|p| p != v.property)
            {
                Err(format!(
                    "expected {expected}, but {} was violated first, at {}",
                    v.property,
                    crate::world::fmt_at(v.at)
                ))
            } else if v.at < after {
                Err(format!(
                    "expected {expected} from {} on, but it broke earlier, at {}: another cause",
                    crate::world::fmt_at(after),
                    crate::world::fmt_at(v.at)
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// A reject reason as summaries print it: its number and its draft-12 §12.21 name.
fn reject_name(r: u8) -> String {
    let name = dhcpfo_engine::wire::failover::RejectReason(r).name();
    format!("{r} {name}")
}

/// What a scenario expects, in words: `pass`, `violation`, or `violation of PROPERTY`.
pub fn expected(scenario: &Scenario) -> String {
    match (scenario.expect, &scenario.violates) {
        (Expect::Pass, _) => "pass".to_string(),
        (Expect::Violation, None) => "violation".to_string(),
        (Expect::Violation, Some(p)) => format!("violation of {p}"),
    }
}

/// Replay the run that found `v`, following the messages about its addresses and clients.
fn follow(
    scenario: &Scenario,
    args: &RunArgs,
    v: &crate::check::Violation,
    hash: u64,
    progress: &mut dyn Progress,
) -> Result<Vec<String>, String> {
    let mut world = World::new(scenario.clone(), args.seed);
    world.follow(Watch::of(v));
    // Without --continue the replay stops at the violation, as the run did.
    let end = if args.keep_going {
        crate::world::START + scenario.duration.0
    } else {
        v.at
    };
    progress.begin("replay following the violation", end);
    world.run_with_progress(args.keep_going, &mut |w| progress.update(w));
    progress.finish();
    if world.trace.hash() != hash {
        return Err(format!(
            "the replay that follows the violation's messages ended differently (trace {:016x}, \
             not {hash:016x}); messages.jsonl is not written",
            world.trace.hash()
        ));
    }
    Ok(world.watch.map(|w| w.lines).unwrap_or_default())
}

/// `messages.jsonl`: the messages about a violation, one JSON object per line (none: no file).
fn write_messages(dir: &Path, messages: &[String]) -> std::io::Result<()> {
    let path = dir.join("messages.jsonl");
    if messages.is_empty() {
        if path.exists() {
            std::fs::remove_file(&path)?;
        }
        return Ok(());
    }
    let mut text = messages.join("\n");
    text.push('\n');
    std::fs::write(path, text)
}

fn write_outputs(
    dir: &Path,
    world: &mut World,
    summary: &serde_json::Value,
    repro: Option<&Repro>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("trace.jsonl"), world.trace.text())?;
    std::fs::write(dir.join("summary.json"), format!("{summary:#}\n"))?;
    if let Some(r) = world.recorder.take() {
        std::fs::write(dir.join("run.pcap"), r.finish())?;
    }
    if let Some(r) = repro {
        write_repro(dir, r)?;
    } else {
        remove_repro(dir)?;
    }
    Ok(())
}

/// Write `dir/repro.yaml`, the file `dhcpfo replay` reads, for `seed` of `scenario`, and return
/// its path. The one place a [`Repro`] is built: `dhcpfo run` and `dhcpfo sweep` both call it,
/// so what a repro carries is decided here alone.
pub fn write_repro(dir: &Path, r: &Repro) -> std::io::Result<PathBuf> {
    let repro = dir.join("repro.yaml");
    let text = serde_yaml::to_string(r).map_err(std::io::Error::other)?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        &repro,
        format!(
            "# Rerun exactly with: dhcpfo replay {}\n{text}",
            repro.display()
        ),
    )?;
    Ok(repro)
}

/// Remove a `dir/repro.yaml` left by an earlier run of the same seed that failed, so that a
/// directory never holds a repro the latest run does not stand behind.
pub fn remove_repro(dir: &Path) -> std::io::Result<()> {
    let repro = dir.join("repro.yaml");
    if repro.exists() {
        std::fs::remove_file(&repro)?;
    }
    Ok(())
}

/// Read a `repro.yaml`.
pub fn load_repro(path: &Path) -> Result<Repro, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let r: Repro = serde_yaml::from_str(&text).map_err(|e| {
        let place = e
            .location()
            .map(|l| format!("line {}, column {}: ", l.line(), l.column()))
            .unwrap_or_default();
        format!("{}: {place}{e}", path.display())
    })?;
    r.scenario
        .validate()
        .map_err(|e| format!("{}: {}", path.display(), e.0))?;
    Ok(r)
}

/// The shipped scenarios of a directory, with their descriptions, sorted by file name.
pub fn list_scenarios(dir: &Path) -> Vec<(PathBuf, Result<Scenario, String>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let s = Scenario::load(&p).map_err(|e| e.0);
            (p, s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Violation;
    use crate::world::START;
    use dhcpfo_engine::time::Duration;

    fn violation(property: &'static str, at_s: u64) -> Outcome {
        Outcome::Violation(Violation {
            at: START + Duration::from_secs(at_s),
            property,
            detail: String::new(),
            addresses: Vec::new(),
            clients: Vec::new(),
        })
    }

    #[test]
    fn an_expected_violation_matches_only_its_property_from_its_time_on() {
        let text = "name: x\ndescription: d\nduration: 2h\nwhy: w\nexpect: violation\n\
                    violates: mclt\nviolates_after: 30m\n";
        let s = Scenario::parse(text).unwrap();
        assert_eq!(judge_expectation(&s, &violation("mclt", 1900)), Ok(()));
        let early = judge_expectation(&s, &violation("mclt", 600)).unwrap_err();
        assert!(early.contains("earlier"), "{early}");
        let other = judge_expectation(&s, &violation("liveness", 1900)).unwrap_err();
        assert!(other.contains("liveness"), "{other}");
        let missed = judge_expectation(&s, &Outcome::Pass).unwrap_err();
        assert!(missed.contains("did not catch"), "{missed}");
        let spun = judge_expectation(&s, &Outcome::Unfinished("spinning".into())).unwrap_err();
        assert!(spun.contains("spinning"), "{spun}");
    }
}
