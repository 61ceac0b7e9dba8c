//! `dhcpfo sweep`: one scenario over a range of seeds, on every core.
//!
//! Each seed is one [`World`], run single-threaded exactly as `dhcpfo run` runs it; the sweep
//! only hands seeds out to threads. A seed's [`SeedResult`] is a pure function of (scenario,
//! seed), and the results are written in seed order whatever order they finish in, so
//! `seeds.jsonl` is the same byte for byte with one job or sixty-four, and the shards of a range
//! (`--shard K/N`) together hold exactly the range's lines.
//!
//! In the output directory: `seeds.jsonl` (one [`SeedResult`] per line, in seed order, no wall
//! time in it), `seed-<N>/repro.yaml` for every failing seed (the file `dhcpfo replay` reads),
//! `summary.json` (the closing table, with the wall time and the speed) and `coverage.json` (what
//! the seeds reached, merged over them: [`crate::coverage`]; also `summary.json`'s `coverage`).
//! Exit codes: 0 every seed passed as the scenario expects, 1 any violation or mismatch (a run
//! that hit its event bound, or panicked, is a mismatch) or a coverage below `--min-coverage`,
//! 2 bad usage or an output that cannot be written.
//!
//! Coverage is merged in seed order, but the merge is commutative and associative, so it does
//! not depend on `--jobs` either; the `coverage.json` of a range's shards add up to the
//! range's (`dhcpfo coverage SHARD-DIR…`).
//!
//! The wall clock and the threads live here, at the edge of the simulator, and nothing a seed
//! computes can see them: the clock only measures speed and paces the progress display, and a
//! thread only decides *when* a seed runs, never what it computes.

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::json;

use crate::coverage::{Coverage, Requirement};
use crate::exit;
use crate::run::expected;
use crate::scenario::Scenario;
use crate::world::{Outcome, START, World};

/// Bound on the results that wait for an earlier, slower seed before they can be written: a
/// worker that would run further ahead of the oldest unwritten seed waits for it.
pub const REORDER_WINDOW: u64 = 1024;

/// At most this many mismatches are announced as they happen; the rest are in `seeds.jsonl`
/// and the closing table.
const ANNOUNCED_MISMATCHES: u64 = 10;

/// Without a terminal, a progress line at every tenth of the sweep, and at the first seed to
/// finish after this long without one.
const PLAIN_LINE_EVERY_S: f64 = 10.0;

/// Parse `--seeds`: `A..B` (A up to B - 1), `A..=B` (A up to B), or one seed `N`.
pub fn parse_seeds(text: &str) -> Result<Range<u64>, String> {
    let seed = |s: &str| {
        s.trim().parse::<u64>().map_err(|_| {
            format!(
                "`{s}` is not a seed (a whole number from 0 to {})",
                u64::MAX
            )
        })
    };
    let range = if let Some((a, b)) = text.split_once("..=") {
        let (a, b) = (seed(a)?, seed(b)?);
        let end = b
            .checked_add(1)
            .ok_or_else(|| format!("{text}: the last seed is {}, at most", u64::MAX - 1))?;
        a..end
    } else if let Some((a, b)) = text.split_once("..") {
        seed(a)?..seed(b)?
    } else {
        let a = seed(text)?;
        let end = a
            .checked_add(1)
            .ok_or_else(|| format!("{text}: the last seed is {}, at most", u64::MAX - 1))?;
        a..end
    };
    if range.is_empty() {
        return Err(format!(
            "{text}: no seed in it (A..B runs A up to B - 1, so B must be greater than A)"
        ));
    }
    Ok(range)
}

/// Which share of the seeds this process runs (`--shard K/N`): seed `s` of `A..B` is shard
/// `(s - A) % N`'s, so the N shards split any range evenly and each seed falls in exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, from 0.
    pub index: u64,
    /// N, at least 1.
    pub count: u64,
}

impl Shard {
    /// The whole range: shard 0 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parse `K/N`, with K < N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let Some((k, n)) = text.split_once('/') else {
            return Err(format!(
                "`{text}`: expected K/N, shard K (from 0) of N, e.g. 0/4"
            ));
        };
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{text}`: `{s}` is not a whole number"))
        };
        let (index, count) = (number(k)?, number(n)?);
        if count == 0 {
            return Err(format!("`{text}`: N must be at least 1"));
        }
        if index >= count {
            return Err(format!(
                "`{text}`: K counts from 0, so it must be less than N (0 to {})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// How many seeds of `range` are this shard's.
    pub fn len(self, range: &Range<u64>) -> u64 {
        let n = range.end.saturating_sub(range.start);
        if n <= self.index {
            0
        } else {
            (n - self.index - 1) / self.count + 1
        }
    }

    /// The `i`-th seed of this shard (`i < self.len(range)`).
    pub fn seed(self, range: &Range<u64>, i: u64) -> u64 {
        range.start + self.index + i * self.count
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// How a seed's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedOutcome {
    /// Every check held.
    Pass,
    /// A property was violated.
    Violation,
    /// The run hit its event bound (`dhcpfo run` exits 3).
    Unfinished,
    /// The simulator panicked: an internal invariant broke.
    Panic,
}

impl SeedOutcome {
    /// The name `seeds.jsonl` uses.
    pub fn name(self) -> &'static str {
        match self {
            SeedOutcome::Pass => "pass",
            SeedOutcome::Violation => "violation",
            SeedOutcome::Unfinished => "unfinished",
            SeedOutcome::Panic => "panic",
        }
    }
}

/// One seed's result: a line of `seeds.jsonl`. Nothing in it depends on the machine, the
/// number of jobs or the wall clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// How the run ended.
    pub outcome: SeedOutcome,
    /// The property violated, if any.
    pub property: Option<String>,
    /// What happened (the violation's detail, or the panic's message).
    pub detail: Option<String>,
    /// When the violation was seen, in milliseconds of virtual time since the run's start.
    pub at_ms: Option<u64>,
    /// The trace hash, 16 hex digits (none after a panic).
    pub trace_hash: Option<String>,
    /// Events processed (none after a panic).
    pub events: Option<u64>,
    /// Whether the outcome is the one the scenario expects.
    pub matches: bool,
}

impl SeedResult {
    /// Whether the seed gets a repro file: it violated a property, or it did not end as the
    /// scenario expects (an unfinished run and a panic replay the same way too).
    pub fn failed(&self) -> bool {
        self.outcome != SeedOutcome::Pass || !self.matches
    }
}

/// Whether `outcome` is what `scenario` expects: a pass for `expect: pass`; a violation (of the
/// `violates:` property, when the scenario names one) for `expect: violation`.
pub fn matches_expectation(scenario: &Scenario, outcome: &Outcome) -> bool {
    crate::run::judge_expectation(scenario, outcome).is_ok()
}

/// Run one seed of `scenario`, as `dhcpfo run` would (without its output files).
pub fn run_seed(scenario: &Scenario, seed: u64) -> SeedResult {
    run_seed_covered(scenario, seed).0
}

/// [`run_seed`], with what the seed reached.
pub fn run_seed_covered(scenario: &Scenario, seed: u64) -> (SeedResult, Coverage) {
    let mut world = World::new(scenario.clone(), seed);
    let outcome = world.run();
    let (property, detail, at_ms) = match &outcome {
        Outcome::Violation(v) => (
            Some(v.property.to_string()),
            Some(v.detail.clone()),
            Some(v.at.saturating_since(START).as_millis()),
        ),
        Outcome::Unfinished(why) => (None, Some(why.clone()), None),
        Outcome::Pass => (None, None, None),
    };
    let result = SeedResult {
        seed,
        outcome: match outcome {
            Outcome::Pass => SeedOutcome::Pass,
            Outcome::Violation(_) => SeedOutcome::Violation,
            Outcome::Unfinished(_) => SeedOutcome::Unfinished,
        },
        property,
        detail,
        at_ms,
        trace_hash: Some(format!("{:016x}", world.trace.hash())),
        events: Some(world.counts.events),
        matches: matches_expectation(scenario, &outcome),
    };
    (result, world.coverage())
}

/// A seed's result and what it reached (nothing after a panic).
type Covered = (SeedResult, Option<Coverage>);

/// [`run_seed_covered`], with a panic turned into a [`SeedOutcome::Panic`] result (and no
/// coverage), so that one broken seed is reported like any other failure instead of ending the
/// sweep.
fn run_seed_caught(scenario: &Scenario, seed: u64) -> Covered {
    // The world is dropped with the unwinding, so no broken state is ever seen again.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (r, c) = run_seed_covered(scenario, seed);
        (r, Some(c))
    }))
    .unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        let r = SeedResult {
            seed,
            outcome: SeedOutcome::Panic,
            property: None,
            detail: Some(message),
            at_ms: None,
            trace_hash: None,
            events: None,
            matches: false,
        };
        (r, None)
    })
}

/// How the sweep shows its progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meter {
    /// An indicatif progress bar (stderr is a terminal).
    Bar,
    /// A plain line at every tenth of the sweep, and every few seconds (a log file).
    Lines,
}

/// What `sweep` was asked to do.
#[derive(Debug, Clone)]
pub struct SweepArgs {
    /// The seeds, half-open.
    pub seeds: Range<u64>,
    /// This process's share of them.
    pub shard: Shard,
    /// How many seeds run at once (at least 1).
    pub jobs: usize,
    /// The output directory.
    pub out: PathBuf,
    /// How to show progress on stderr.
    pub meter: Meter,
}

/// The default output directory: `out/sweep-<name>`, and for one shard of several
/// `out/sweep-<name>-shard-K-of-N`, so that shards started side by side never overwrite each
/// other's `seeds.jsonl`.
pub fn default_out(scenario: &Scenario, shard: Shard) -> PathBuf {
    if shard == Shard::WHOLE {
        PathBuf::from(format!("out/sweep-{}", scenario.name))
    } else {
        PathBuf::from(format!(
            "out/sweep-{}-shard-{}-of-{}",
            scenario.name, shard.index, shard.count
        ))
    }
}

/// The closing table's counts, gathered in seed order.
#[derive(Debug, Clone, Default)]
struct Tally {
    seeds: u64,
    passes: u64,
    violations: u64,
    unfinished: u64,
    panics: u64,
    mismatches: u64,
    first_mismatch: Option<u64>,
    /// Per property: how many seeds violated it, and the first of them.
    by_property: BTreeMap<String, (u64, u64)>,
}

impl Tally {
    fn add(&mut self, r: &SeedResult) {
        self.seeds += 1;
        match r.outcome {
            SeedOutcome::Pass => self.passes += 1,
            SeedOutcome::Violation => self.violations += 1,
            SeedOutcome::Unfinished => self.unfinished += 1,
            SeedOutcome::Panic => self.panics += 1,
        }
        if !r.matches {
            self.mismatches += 1;
            self.first_mismatch.get_or_insert(r.seed);
        }
        if let Some(p) = &r.property {
            self.by_property.entry(p.clone()).or_insert((0, r.seed)).0 += 1;
        }
    }

    fn code(&self) -> u8 {
        if self.violations > 0 || self.mismatches > 0 {
            exit::VIOLATION
        } else {
            exit::OK
        }
    }
}

/// The wall clock, read only to report the speed and to pace the progress display: no seed's
/// result can depend on it.
pub struct Wall(std::time::Instant);

impl Wall {
    /// Start measuring.
    #[allow(clippy::disallowed_methods)]
    pub fn start() -> Wall {
        Wall(std::time::Instant::now())
    }

    /// Seconds since [`Wall::start`].
    pub fn elapsed_s(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// The progress display on stderr.
struct Display {
    bar: Option<ProgressBar>,
    total: u64,
    /// Plain lines: the next tenth of the sweep that gets a line, and when the last one was.
    next_tenth: u64,
    last_line_s: f64,
    announced: u64,
}

impl Display {
    fn new(meter: Meter, total: u64) -> Display {
        let bar = (meter == Meter::Bar).then(|| {
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} seeds  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Display {
            bar,
            total,
            next_tenth: 1,
            last_line_s: 0.0,
            announced: 0,
        }
    }

    fn update(&mut self, tally: &Tally, wall_s: f64, err: &mut dyn Write) {
        let rate = tally.seeds as f64 / wall_s.max(1e-9);
        let counts = format!(
            "{rate:.1} seeds/s, {} violations, {} mismatches",
            tally.violations, tally.mismatches
        );
        if let Some(bar) = &self.bar {
            bar.set_position(tally.seeds);
            bar.set_message(counts);
            return;
        }
        // In u128: a range may hold up to 2^64 seeds.
        let (done, total) = (u128::from(tally.seeds), u128::from(self.total));
        let tenth_reached = |tenth: u64| done * 10 >= u128::from(tenth) * total;
        if !tenth_reached(self.next_tenth) && wall_s - self.last_line_s < PLAIN_LINE_EVERY_S {
            return;
        }
        while self.next_tenth <= 10 && tenth_reached(self.next_tenth) {
            self.next_tenth += 1;
        }
        self.last_line_s = wall_s;
        let percent = done * 100 / total.max(1);
        let _ = writeln!(
            err,
            "sweep: {}/{} seeds ({percent}%), {counts}, {wall_s:.1} s",
            tally.seeds, self.total
        );
    }

    /// Say so at once when a seed does not end as the scenario expects (the first few).
    fn announce(&mut self, r: &SeedResult, repro: Option<&Path>, err: &mut dyn Write) {
        if r.matches {
            return;
        }
        self.announced += 1;
        let line = if self.announced > ANNOUNCED_MISMATCHES {
            if self.announced != ANNOUNCED_MISMATCHES + 1 {
                return;
            }
            "further mismatches: see seeds.jsonl and the closing table".to_string()
        } else {
            let what = match (&r.property, &r.detail) {
                (Some(p), Some(d)) => format!("{p}: {d}"),
                (None, Some(d)) => d.clone(),
                _ => String::new(),
            };
            let replay = repro
                .map(|p| format!(" -> dhcpfo replay {}", p.display()))
                .unwrap_or_default();
            format!(
                "MISMATCH seed {}: {} {what}{replay}",
                r.seed,
                r.outcome.name()
            )
        };
        match &self.bar {
            Some(bar) => bar.println(line),
            None => {
                let _ = writeln!(err, "sweep: {line}");
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Run `scenario` over this shard's seeds with `args.jobs` threads. Each seed's line goes to
/// `DIR/seeds.jsonl` and, when given, to `lines` (in seed order both); progress and
/// mismatches go to `err`; the closing table and the coverage table to `table`. Returns the
/// exit code.
pub fn sweep(
    scenario: &Scenario,
    args: &SweepArgs,
    lines: Option<&mut dyn Write>,
    table: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    sweep_judged(scenario, args, &[], lines, table, err)
}

/// [`sweep`], and exit 1 when the seeds together miss any of `min_coverage`
/// (`--min-coverage`), naming each miss after the coverage table.
pub fn sweep_judged(
    scenario: &Scenario,
    args: &SweepArgs,
    min_coverage: &[Requirement],
    mut lines: Option<&mut dyn Write>,
    table: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let total = args.shard.len(&args.seeds);
    let path = args.out.join("seeds.jsonl");
    let file = std::fs::create_dir_all(&args.out).and_then(|()| std::fs::File::create(&path));
    let mut file = match file {
        Ok(f) => std::io::BufWriter::new(f),
        Err(e) => {
            let _ = writeln!(err, "dhcpfo sweep: {}: {e}", path.display());
            return exit::BAD_INPUT;
        }
    };
    // More threads than seeds would only idle.
    let jobs = args
        .jobs
        .max(1)
        .min(usize::try_from(total).unwrap_or(usize::MAX).max(1));
    let wall = Wall::start();
    let mut display = Display::new(args.meter, total);
    let mut tally = Tally::default();
    let mut coverage = Coverage::default();
    let mut failure: Option<String> = None;

    // One result, in seed order: its line, its repro file, the counts and the display. False
    // when an output could not be written (the sweep then stops).
    let mut emit = |r: SeedResult, c: Option<Coverage>| -> bool {
        if let Some(c) = c {
            coverage.merge(&c);
        }
        let dir = args.out.join(format!("seed-{}", r.seed));
        let repro = if r.failed() {
            let hash = r
                .trace_hash
                .as_deref()
                .and_then(|h| u64::from_str_radix(h, 16).ok());
            let repro = crate::run::Repro::new(scenario, r.seed, false, hash);
            crate::run::write_repro(&dir, &repro).map(Some)
        } else {
            crate::run::remove_repro(&dir).map(|()| None)
        };
        let line = serde_json::to_string(&r).unwrap_or_default();
        // Flushed line by line: a task killed at its batch system's time limit keeps every
        // line it finished, and a reader of the pipe sees each seed as it is written.
        let written = repro.and_then(|repro| {
            writeln!(file, "{line}")?;
            file.flush()?;
            if let Some(out) = lines.as_mut() {
                // A closed pipe (`| head`) is not a failure of the sweep: the file has it all.
                let _ = writeln!(out, "{line}").and_then(|()| out.flush());
            }
            Ok(repro)
        });
        tally.add(&r);
        let ok = match written {
            Ok(repro) => {
                display.announce(&r, repro.as_deref(), err);
                true
            }
            Err(e) => {
                failure.get_or_insert_with(|| format!("{}: {e}", args.out.display()));
                false
            }
        };
        display.update(&tally, wall.elapsed_s(), err);
        ok
    };
    run_pool(
        scenario,
        &args.seeds,
        args.shard,
        jobs,
        &mut |(r, c), stop| {
            if !emit(r, c) {
                stop.store(true, Ordering::Relaxed);
            }
        },
    );
    display.finish();
    let wall_s = wall.elapsed_s().max(1e-9);
    if let Some(e) = failure {
        let _ = writeln!(err, "dhcpfo sweep: writing {e}");
        return exit::BAD_INPUT;
    }

    let missed = crate::coverage::missed(&coverage, min_coverage);
    let coverage_json = coverage.to_json();
    let mut summary = summary_json(scenario, args, &tally, jobs, wall_s);
    summary["coverage"] = coverage_json.clone();
    summary["coverage_missed"] = json!(missed);
    for (name, value) in [
        ("summary.json", &summary),
        ("coverage.json", &coverage_json),
    ] {
        let path = args.out.join(name);
        if let Err(e) = std::fs::write(&path, format!("{value:#}\n")) {
            let _ = writeln!(err, "dhcpfo sweep: writing {}: {e}", path.display());
            return exit::BAD_INPUT;
        }
    }
    write_table(scenario, args, &tally, jobs, wall_s, table);
    coverage.write_table(table);
    write_missed(&missed, table);
    if missed.is_empty() {
        tally.code()
    } else {
        exit::VIOLATION
    }
}

/// The closing word on `--min-coverage`: what the seeds missed, one line each.
pub fn write_missed(missed: &[String], out: &mut dyn Write) {
    if missed.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "COVERAGE BELOW --min-coverage ({} missed):",
        missed.len()
    );
    for m in missed {
        let _ = writeln!(out, "  {m}");
    }
}

/// Run the seeds on `jobs` threads and hand each result to `emit` on this thread, in seed
/// order. `emit` may set the stop flag: the threads then take no further seed.
///
/// Threads are allowed here, and only here: each seed runs one whole [`World`] on one thread,
/// from its own clone of the scenario, so a thread decides when a seed runs, never what it
/// computes; and the results leave in seed order, so their order does not depend on which
/// thread finished first.
#[allow(clippy::disallowed_methods)]
fn run_pool(
    scenario: &Scenario,
    seeds: &Range<u64>,
    shard: Shard,
    jobs: usize,
    emit: &mut dyn FnMut(Covered, &AtomicBool),
) {
    let total = shard.len(seeds);
    let next = AtomicU64::new(0);
    // The index of the next result to emit; the reorder window is counted from it.
    let emitted = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(u64, Covered)>();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, emitted, stop) = (&next, &emitted, &stop);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    // Bound: never more than REORDER_WINDOW results waiting to be emitted. The
                    // seed being waited for is always running, so this wait ends.
                    while i
                        >= emitted
                            .load(Ordering::Acquire)
                            .saturating_add(REORDER_WINDOW)
                        && !stop.load(Ordering::Relaxed)
                    {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    let r = run_seed_caught(scenario, shard.seed(seeds, i));
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        // The workers hold the only senders now: the channel closes when the last one ends.
        drop(tx);
        let mut waiting: BTreeMap<u64, Covered> = BTreeMap::new();
        let mut next_out = 0u64;
        for (i, r) in rx.iter() {
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&next_out) {
                next_out += 1;
                emitted.store(next_out, Ordering::Release);
                emit(r, &stop);
            }
        }
    });
}

/// The first seed of `seeds` whose run violates a property and that `accept` takes, in seed
/// order, run on `jobs` threads as a sweep runs them, and how many seeds were judged up to it
/// (all of them when there is none). `accept` sees each violating seed in seed order, on this
/// thread; the seeds after the one taken that were already running are discarded, so the
/// answer does not depend on `jobs`. `progress` hears the number of seeds judged.
pub fn first_violation(
    scenario: &Scenario,
    seeds: &Range<u64>,
    jobs: usize,
    accept: &mut dyn FnMut(&SeedResult) -> bool,
    progress: &mut dyn FnMut(u64),
) -> (Option<SeedResult>, u64) {
    let total = Shard::WHOLE.len(seeds);
    let jobs = jobs
        .max(1)
        .min(usize::try_from(total).unwrap_or(usize::MAX).max(1));
    let mut found = None;
    let mut judged = 0;
    run_pool(scenario, seeds, Shard::WHOLE, jobs, &mut |(r, _), stop| {
        // Results arrive in seed order: the first violation seen is the first in the range.
        if found.is_some() {
            return;
        }
        judged += 1;
        progress(judged);
        if r.outcome == SeedOutcome::Violation && accept(&r) {
            found = Some(r);
            stop.store(true, Ordering::Relaxed);
        }
    });
    (found, judged)
}

fn repro_path(args: &SweepArgs, seed: u64) -> PathBuf {
    args.out.join(format!("seed-{seed}")).join("repro.yaml")
}

fn summary_json(
    scenario: &Scenario,
    args: &SweepArgs,
    tally: &Tally,
    jobs: usize,
    wall_s: f64,
) -> serde_json::Value {
    let by_property: Vec<serde_json::Value> = tally
        .by_property
        .iter()
        .map(|(p, (n, first))| json!({"property": p, "seeds": n, "first_seed": first}))
        .collect();
    json!({
        "scenario": scenario.name,
        "expected": expected(scenario),
        "seeds": format!("{}..{}", args.seeds.start, args.seeds.end),
        "shard": args.shard.to_string(),
        "seeds_run": tally.seeds,
        "passes": tally.passes,
        "violations": tally.violations,
        "unfinished": tally.unfinished,
        "panics": tally.panics,
        "mismatches": tally.mismatches,
        "first_mismatch_seed": tally.first_mismatch,
        "by_property": by_property,
        "jobs": jobs,
        "wall_s": wall_s,
        "seeds_per_s": tally.seeds as f64 / wall_s,
    })
}

/// The closing table: violations by property with the first seed of each, then the totals.
fn write_table(
    scenario: &Scenario,
    args: &SweepArgs,
    tally: &Tally,
    jobs: usize,
    wall_s: f64,
    out: &mut dyn Write,
) {
    let verdict = if tally.code() == exit::OK {
        "CLEAN"
    } else if tally.mismatches > 0 {
        "MISMATCH"
    } else {
        "VIOLATIONS"
    };
    let shard = if args.shard == Shard::WHOLE {
        String::new()
    } else {
        format!(" shard {}", args.shard)
    };
    let _ = writeln!(
        out,
        "{verdict}  {} seeds {}..{}{shard} (expected {})",
        scenario.name,
        args.seeds.start,
        args.seeds.end,
        expected(scenario)
    );
    if !tally.by_property.is_empty() {
        let _ = writeln!(
            out,
            "  {:<24} {:>8} {:>11}  replay",
            "property", "seeds", "first seed"
        );
        for (p, (n, first)) in &tally.by_property {
            let _ = writeln!(
                out,
                "  {p:<24} {n:>8} {first:>11}  dhcpfo replay {}",
                repro_path(args, *first).display()
            );
        }
    }
    let first_mismatch = tally
        .first_mismatch
        .map(|s| format!(" (first: seed {s}, {})", repro_path(args, s).display()))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  {} seeds: {} pass, {} violations, {} unfinished, {} panics; {} mismatches{first_mismatch}",
        tally.seeds,
        tally.passes,
        tally.violations,
        tally.unfinished,
        tally.panics,
        tally.mismatches
    );
    let _ = writeln!(
        out,
        "  {:.1} seeds/s: {wall_s:.3} s wall, jobs {jobs}",
        tally.seeds as f64 / wall_s
    );
    let _ = writeln!(
        out,
        "  results -> {} (and summary.json, coverage.json)",
        args.out.join("seeds.jsonl").display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_half_open_ranges_or_one_number() {
        assert_eq!(parse_seeds("0..10"), Ok(0..10));
        assert_eq!(parse_seeds("3..=5"), Ok(3..6));
        assert_eq!(parse_seeds("7"), Ok(7..8));
        for bad in [
            "5..5",
            "6..2",
            "x..4",
            "1..",
            "",
            "-1..3",
            "18446744073709551615",
        ] {
            assert!(parse_seeds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_split_a_range_into_disjoint_parts_that_cover_it() {
        assert_eq!(Shard::parse("1/3"), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "0/0", "1", "a/2", "1/b", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        for range in [0..10, 5..6, 7..20, 3..4] {
            for count in 1..5 {
                let mut all: Vec<u64> = (0..count)
                    .flat_map(|index| {
                        let shard = Shard { index, count };
                        let seeds: Vec<u64> = (0..shard.len(&range))
                            .map(|i| shard.seed(&range, i))
                            .collect();
                        assert!(seeds.iter().all(|s| (s - range.start) % count == index));
                        seeds
                    })
                    .collect();
                all.sort_unstable();
                assert_eq!(
                    all,
                    range.clone().collect::<Vec<_>>(),
                    "{range:?} in {count}"
                );
            }
        }
    }
}
