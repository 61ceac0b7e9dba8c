//! `dhcpfo run`, `replay`, `check` and `scenarios`: one seeded run of a scenario, its summary,
//! its output files, and the one line that reproduces it.
//!
//! A run writes its trace to `trace.jsonl` in its output directory as it goes (lean, or full
//! with every message when asked), and everything else is then read from that trace:
//! `summary.json`, the story of a violation on stdout, with `--pcap` the packets in
//! `run.pcap`, and on a violation `repro.yaml` (scenario, seed, flags, trace hash), which
//! `dhcpfo replay` reruns exactly, and `messages.jsonl`: every message about the violation's
//! addresses and clients, which a second, following replay of a lean run writes in the same
//! schema. Exit codes: 0 every check held, 1 a property was violated, 2 bad usage or input, 3
//! the run did not finish within its event bound.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;

use dhcpfo_engine::time::Time;

use dhcpfo_reports::event::{End, Violation as ViolationEvent};
use dhcpfo_reports::story::{Subjects, story};
use dhcpfo_reports::time::fmt_ms;
use dhcpfo_reports::{Event, Level, Record, Trace, TraceWriter};

use crate::exit;
use crate::scenario::{Expect, Scenario};
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
    /// Write every packet of the run to `run.pcap` in the output directory (from a full
    /// trace).
    pub pcap: bool,
    /// Write the full trace (every message, with its bytes) instead of the lean one.
    pub full_trace: bool,
    /// Keep only the messages sent in this window (milliseconds since the start, both ends
    /// included): a full trace around a violation, without the whole run's messages.
    pub window: Option<(u64, u64)>,
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
    /// The command line of the run that found it: a replay shows it as the run's reproduce
    /// command, so that its summary and report are byte-identical to the run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
}

impl Repro {
    /// The repro of `seed` of `scenario`, run with `--continue` or not, that ended with
    /// `trace_hash` (`None`: the run did not end, it panicked).
    pub fn new(scenario: &Scenario, seed: u64, keep_going: bool, trace_hash: Option<u64>) -> Repro {
        Repro {
            dhcpfo_version: env!("CARGO_PKG_VERSION").into(),
            seed,
            // A swarm seed's repro holds the world it drew: replay and shrink run it as it is.
            scenario: crate::swarm::concrete(scenario, seed),
            keep_going,
            trace_hash: trace_hash.map(|h| format!("{h:016x}")),
            reproduce: None,
        }
    }

    /// The same, naming the command line of the run that found it.
    pub fn with_reproduce(mut self, command: &str) -> Repro {
        self.reproduce = Some(command.to_string());
        self
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

/// A trace written to `path`, buffered.
fn trace_file(path: &Path, level: Level) -> std::io::Result<TraceWriter> {
    let file = std::fs::File::create(path)?;
    Ok(TraceWriter::new(
        Box::new(std::io::BufWriter::with_capacity(1 << 16, file)),
        level,
    ))
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
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("out/{}-seed{}", scenario.name, args.seed)));
    let trace_path = dir.join("trace.jsonl");
    let level = if args.pcap || args.full_trace || args.window.is_some() {
        Level::Full
    } else {
        Level::Lean
    };
    let trace = match std::fs::create_dir_all(&dir).and_then(|()| trace_file(&trace_path, level)) {
        Ok(t) => match args.window {
            Some((from, to)) => t.keeping(Box::new(move |r| {
                !r.event.is_message() || (from..=to).contains(&r.t_ms)
            })),
            None => t,
        },
        Err(e) => {
            let _ = writeln!(err, "dhcpfo run: writing {}: {e}", trace_path.display());
            return (exit::BAD_INPUT, None);
        }
    };
    if scenario.swarm.is_some() {
        let _ = writeln!(out, "swarm seed {}:", args.seed);
        for line in crate::swarm::describe(&crate::swarm::concrete(&scenario, args.seed)) {
            let _ = writeln!(out, "  {line}");
        }
    }
    let started = wall_s();
    let mut world = World::with_trace(scenario.clone(), args.seed, trace);
    progress.begin("run", crate::world::START + scenario.duration.0);
    let outcome = world.run_with_progress(args.keep_going, &mut |w| progress.update(w));
    progress.finish();
    let wall = (wall_s() - started).max(1e-9);
    if let Err(e) = world.trace.finish() {
        let _ = writeln!(err, "dhcpfo run: writing {}: {e}", trace_path.display());
        return (exit::BAD_INPUT, None);
    }
    let hash = world.trace.hash();
    let events = world.counts.events;
    // What the run reached: the world's observation, not the trace's (the lean trace holds no
    // messages), and the same in a replay of the run.
    let coverage = world.coverage();
    drop(world);
    // Everything below reads the trace the run wrote: each output is a function of it. The
    // first pass keeps all but what there is one of per lease (leases, losses, bindings); a
    // violation's story takes a second pass that keeps those about it too. A big run's trace
    // is never held whole.
    let base = per_run;
    let mut trace = match Trace::load_where(&trace_path, base) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "dhcpfo run: {e}");
            return (exit::BAD_INPUT, None);
        }
    };
    let first = trace.violations().next().map(|(t, v)| (t, v.clone()));
    if let Some((_, v)) = &first {
        let subjects = Subjects::of(v);
        let about = |r: &Record| base(r) || subjects.about(&r.event);
        trace = match Trace::load_where(&trace_path, about) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(err, "dhcpfo run: {e}");
                return (exit::BAD_INPUT, None);
            }
        };
    }
    // The messages about a violation, which a replay of the same run follows (the replay must
    // end the same way, or they are not this run's).
    let messages_path = dir.join("messages.jsonl");
    let messages = match &first {
        Some((_, v)) if level == Level::Lean => {
            follow(&scenario, args, v, hash, &messages_path, progress)
                .and_then(|()| Trace::read_records(&messages_path).map_err(|e| e.to_string()))
        }
        // A full trace holds them already.
        Some((_, v)) => {
            let subjects = Subjects::of(v);
            let kept: Vec<Record> = trace
                .records
                .iter()
                .filter(|r| r.event.is_message() && subjects.about(&r.event))
                .cloned()
                .collect();
            write_records(&messages_path, &kept)
                .map(|()| kept)
                .map_err(|e| e.to_string())
        }
        None => remove_file(&messages_path)
            .map(|()| Vec::new())
            .map_err(|e| e.to_string()),
    };
    let messages = messages.unwrap_or_else(|e| {
        let _ = writeln!(err, "dhcpfo run: {e}");
        Vec::new()
    });
    let end = trace.end().cloned().unwrap_or_default();
    let verdict = match end.outcome.as_str() {
        "pass" => "PASS",
        "violation" => "VIOLATION",
        _ => "UNFINISHED",
    };
    let _ = writeln!(
        out,
        "{verdict}  {} seed={} (expected {}){}",
        trace.header.scenario,
        args.seed,
        trace.header.expect,
        if end.matches { "" } else { "  MISMATCH" }
    );
    if let Some(why) = &end.mismatch {
        let _ = writeln!(out, "  MISMATCH: {why}");
    }
    if let Some(why) = &end.unfinished {
        let _ = writeln!(out, "  unfinished: {why}");
    }
    let history = match &first {
        Some((at, v)) => story(&trace, &messages, *at, v),
        None => Vec::new(),
    };
    if let Some((at, v)) = &first {
        let _ = writeln!(out, "  {} at {}: {}", v.property, fmt_ms(*at), v.detail);
        let _ = writeln!(
            out,
            "  what led to it (faults, state changes, and the last events and messages about it):"
        );
        for l in &history {
            let _ = writeln!(out, "    {l}");
        }
        if !messages.is_empty() {
            let _ = writeln!(
                out,
                "  {} messages about it -> {}",
                messages.len(),
                messages_path.display()
            );
        }
    }
    let virtual_s = end_ms(&trace) as f64 / 1000.0;
    let _ = writeln!(
        out,
        "  {virtual_s:.0} s virtual in {wall:.3} s wall: {:.0}x real time, {} events ({:.0} events/s)",
        virtual_s / wall,
        end.events,
        end.events as f64 / wall
    );
    let violations = trace.violations().count();
    if violations > 1 {
        let _ = writeln!(out, "  {violations} violations in all (see the trace)");
    }
    let _ = writeln!(
        out,
        "  {} clients, {} leases, {} DHCP and {} failover messages, {} faults, {} ACKs checked against the MCLT",
        trace.header.clients,
        end.leases,
        end.dhcp_messages,
        end.failover_messages,
        end.faults,
        end.mclt_checked
    );
    let _ = writeln!(out, "  properties:");
    for p in trace.properties() {
        let _ = writeln!(out, "    {:<26} {:<11} {}", p.property, p.status, p.basis);
    }
    if !end.rejects.is_empty() {
        let list: Vec<String> = end
            .rejects
            .iter()
            .map(|(r, n)| format!("{n} × {r}"))
            .collect();
        let _ = writeln!(
            out,
            "  binding updates rejected by the partner: {} ({})",
            end.rejects.values().sum::<u64>(),
            list.join(", ")
        );
    }
    if end.durable_checked + end.duplicates_declined > 0 {
        let _ = writeln!(
            out,
            "  {} leases checked in restarted servers' databases, {} duplicate grants caught by \
             ARP probes",
            end.durable_checked, end.duplicates_declined
        );
    }
    let _ = writeln!(out, "  {}", coverage.line());
    for ((from, to), _) in coverage.off_table() {
        let _ = writeln!(
            out,
            "  FINDING: {} -> {} is not in the draft-12 §4.2 transition table",
            from.name(),
            to.name()
        );
    }
    let _ = writeln!(out, "  trace {hash:016x} -> {}", trace_path.display());
    let _ = writeln!(out, "  report -> {}", dir.join("report.html").display());
    let _ = writeln!(out, "reproduce: {}", args.reproduce);
    let mut summary = summary(
        &trace,
        &end,
        first.as_ref(),
        messages.len(),
        hash,
        &history,
        args,
    );
    summary["coverage"] = coverage.to_json();
    let repro = (first.is_some() || !end.matches).then(|| {
        Repro::new(&scenario, args.seed, args.keep_going, Some(hash))
            .with_reproduce(&args.reproduce)
    });
    let written = write_outputs(&dir, &trace, &messages, level, &summary, repro.as_ref());
    if let Err(e) = written {
        let _ = writeln!(err, "dhcpfo run: writing {}: {e}", dir.display());
        return (exit::BAD_INPUT, None);
    }
    // The report reads the trace again, in its own bounded selection.
    drop(trace);
    let report_path = dir.join("report.html");
    match write_report(
        &trace_path,
        Some(&messages_path),
        Some(&args.reproduce),
        &report_path,
    ) {
        Ok(_) => {}
        Err(e) => {
            let _ = writeln!(err, "dhcpfo run: {e}");
            return (exit::BAD_INPUT, None);
        }
    }
    // A run that passed where a violation was expected is a failure of the testbed: it must
    // not exit 0.
    let code = match end.outcome.as_str() {
        "pass" if !end.matches => exit::VIOLATION,
        "pass" => exit::OK,
        "violation" => exit::VIOLATION,
        _ => exit::UNFINISHED,
    };
    let report = RunReport {
        outcome,
        trace_hash: hash,
        events,
    };
    (code, Some(report))
}

/// Write `report.html` at `out` from the trace at `trace_path` (and the messages file, if it
/// exists), with `reproduce` as its reproduce command; the page's size in bytes.
pub fn write_report(
    trace_path: &Path,
    messages_path: Option<&Path>,
    reproduce: Option<&str>,
    out: &Path,
) -> Result<usize, String> {
    let input = dhcpfo_reports::html::load(trace_path, messages_path).map_err(|e| e.to_string())?;
    let page = dhcpfo_reports::html::render(&input, reproduce);
    std::fs::write(out, &page).map_err(|e| format!("writing {}: {e}", out.display()))?;
    Ok(page.len())
}

/// Write `trace.perfetto.json` at `out` from the trace at `trace_path` (and the messages
/// file, if it exists); the file's size in bytes. Reads the trace as `dhcpfo run` does: all but
/// the per-lease events, and those about the first violation's clients and addresses.
pub fn write_perfetto(
    trace_path: &Path,
    messages_path: Option<&Path>,
    out: &Path,
) -> Result<usize, String> {
    let mut trace = Trace::load_where(trace_path, per_run).map_err(|e| e.to_string())?;
    let subjects = trace.violations().next().map(|(_, v)| Subjects::of(v));
    if let Some(subjects) = subjects {
        trace = Trace::load_where(trace_path, |r| per_run(r) || subjects.about(&r.event))
            .map_err(|e| e.to_string())?;
    }
    let messages = match messages_path.filter(|p| p.is_file()) {
        Some(p) => Trace::read_records(p).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let text = serde_json::to_string(&dhcpfo_reports::perfetto::render(&trace, &messages))
        .map_err(|e| e.to_string())?;
    std::fs::write(out, &text).map_err(|e| format!("writing {}: {e}", out.display()))?;
    Ok(text.len())
}

/// Whether a record is kept when a trace is read for the run's outputs: all but what there is
/// one of per lease (leases, losses, bindings, declines), which only a violation's story reads,
/// and only about its own clients and addresses.
fn per_run(r: &Record) -> bool {
    !matches!(
        r.event,
        Event::Lease { .. } | Event::Lost { .. } | Event::Binding { .. } | Event::Declined { .. }
    )
}

/// When the run ended: the time of its trace's last record.
fn end_ms(trace: &Trace) -> u64 {
    trace.records.last().map_or(0, |r| r.t_ms)
}

/// `summary.json`: the run at a glance, read from its trace.
fn summary(
    trace: &Trace,
    end: &End,
    first: Option<&(u64, ViolationEvent)>,
    messages: usize,
    hash: u64,
    history: &[String],
    args: &RunArgs,
) -> serde_json::Value {
    json!({
        "scenario": trace.header.scenario,
        "seed": trace.header.seed,
        "outcome": end.outcome,
        "expected": trace.header.expect,
        "violation": match first {
            Some((at, v)) => json!({"property": v.property, "detail": v.detail,
                "at_ms": at,
                "at": fmt_ms(*at),
                "addresses": v.addresses,
                "clients": v.clients,
                "messages": messages}),
            None => serde_json::Value::Null,
        },
        "matches": end.matches,
        "mismatch": end.mismatch,
        "unfinished": end.unfinished,
        "properties": trace.properties().collect::<Vec<_>>(),
        "rejects": end.rejects,
        "trace_hash": format!("{hash:016x}"),
        "virtual_s": end_ms(trace) as f64 / 1000.0,
        "events": end.events,
        "dhcp_messages": end.dhcp_messages,
        "failover_messages": end.failover_messages,
        "leases": end.leases,
        "durable_leases_checked": end.durable_checked,
        "duplicates_declined": end.duplicates_declined,
        "faults": end.faults,
        "reproduce": args.reproduce,
        "history": history,
    })
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
pub fn reject_name(r: u8) -> String {
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

/// Replay the run that found `v`, keeping the messages about its addresses and clients in
/// `path` (`messages.jsonl`).
fn follow(
    scenario: &Scenario,
    args: &RunArgs,
    v: &ViolationEvent,
    hash: u64,
    path: &Path,
    progress: &mut dyn Progress,
) -> Result<(), String> {
    let subjects = Subjects::of(v);
    let mut kept = 0usize;
    let trace = trace_file(path, Level::Full)
        .map_err(|e| format!("writing {}: {e}", path.display()))?
        .keeping(Box::new(move |r| {
            // Bound: a long run's story keeps at most MAX_MESSAGES messages.
            let keep = kept < MAX_MESSAGES && r.event.is_message() && subjects.about(&r.event);
            kept += usize::from(keep);
            keep
        }));
    let mut world = World::with_trace(scenario.clone(), args.seed, trace);
    progress.begin(
        "replay following the violation",
        crate::world::START + scenario.duration.0,
    );
    world.run_with_progress(args.keep_going, &mut |w| progress.update(w));
    progress.finish();
    world
        .trace
        .finish()
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    if world.trace.hash() != hash {
        let _ = std::fs::remove_file(path);
        return Err(format!(
            "the replay that follows the violation's messages ended differently (trace {:016x}, \
             not {hash:016x}); messages.jsonl is not written",
            world.trace.hash()
        ));
    }
    Ok(())
}

/// The most messages a violation's replay keeps (a bound on a long run's story).
pub const MAX_MESSAGES: usize = 200_000;

/// Write records, one JSON line each.
fn write_records(path: &Path, records: &[Record]) -> std::io::Result<()> {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    std::fs::write(path, text)
}

fn remove_file(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    Ok(())
}

fn write_outputs(
    dir: &Path,
    trace: &Trace,
    messages: &[Record],
    level: Level,
    summary: &serde_json::Value,
    repro: Option<&Repro>,
) -> std::io::Result<()> {
    std::fs::write(dir.join("summary.json"), format!("{summary:#}\n"))?;
    let perfetto = dhcpfo_reports::perfetto::render(trace, messages);
    let file = std::io::BufWriter::new(std::fs::File::create(dir.join("trace.perfetto.json"))?);
    serde_json::to_writer(file, &perfetto).map_err(std::io::Error::other)?;
    let pcap = dir.join("run.pcap");
    if level == Level::Full {
        std::fs::write(&pcap, crate::record::pcap(&trace.records))?;
    } else {
        remove_file(&pcap)?;
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
        // The parser quotes what it read: a file that is not a repro at all would be quoted
        // whole.
        let mut why = e.to_string();
        if why.chars().count() > 200 {
            why = why.chars().take(200).collect::<String>() + "…";
        }
        format!("{}: {place}{why} (not a repro.yaml?)", path.display())
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
