//! The `dhcpfo` command line: parses flags and hands each subcommand to the library.

use std::process::ExitCode;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use dhcpfo::world::START;
use dhcpfo_engine::time::Time;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The simulator allocates a lot of small, short-lived buffers; mimalloc serves them faster than
/// the system allocator. Allocation never affects results (nothing depends on addresses).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use dhcpfo::{decode, exit};
use dhcpfo_engine::bugs::Bug;

/// A `--bug` value: a name from the catalogue.
fn parse_bug(name: &str) -> Result<Bug, String> {
    Bug::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Bug::ALL.iter().map(|b| b.name()).collect();
        format!(
            "no catalogued bug `{name}` (see `dhcpfo bugs`): {}",
            names.join(", ")
        )
    })
}

/// The `--min-coverage` values, each a list or @FILE, together.
fn requirements(values: &[String]) -> Result<Vec<dhcpfo::coverage::Requirement>, String> {
    let mut all = Vec::new();
    for v in values {
        all.extend(dhcpfo::coverage::load_requirements(v)?);
    }
    Ok(all)
}

/// `dhcpfo coverage`: merge coverage.json files, print the table, judge --min-coverage.
fn coverage(paths: &[PathBuf], min_coverage: &[String], out: Option<&std::path::Path>) -> ExitCode {
    let bad = |e: String| {
        eprintln!("dhcpfo coverage: {e}");
        ExitCode::from(exit::BAD_INPUT)
    };
    let required = match requirements(min_coverage) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    let mut merged = dhcpfo::coverage::Coverage::default();
    for p in paths {
        let file = if p.is_dir() {
            p.join("coverage.json")
        } else {
            p.clone()
        };
        let read = std::fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .and_then(|v| dhcpfo::coverage::Coverage::from_json(&v));
        match read {
            Ok(c) => merged.merge(&c),
            Err(e) => return bad(format!("{}: {e}", file.display())),
        }
    }
    if let Some(out) = out {
        let text = format!("{:#}\n", merged.to_json());
        if let Err(e) = std::fs::write(out, text) {
            return bad(format!("writing {}: {e}", out.display()));
        }
    }
    let missed = dhcpfo::coverage::missed(&merged, &required);
    let mut stdout = std::io::stdout();
    merged.write_table(&mut stdout);
    dhcpfo::sweep::write_missed(&missed, &mut stdout);
    if missed.is_empty() {
        ExitCode::from(exit::OK)
    } else {
        ExitCode::from(exit::VIOLATION)
    }
}

/// A `--jobs` value: at least one.
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("at least 1 job".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a number of jobs")),
    }
}

/// A `--finds` value: at least one find is shrunk.
fn parse_finds(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("at least 1 find".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a number of finds")),
    }
}

/// `println!` that never panics: a reader that went away (`dhcpfo … | head`) is not an error
/// of ours, and what it did not read is lost to it alone.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// DHCPv4 failover: a real server and a deterministic simulation testbed.
///
/// Exit codes: 0 all checks held, 1 a property was violated (or a decode failed),
/// 2 bad usage or input, 3 a run did not finish within its bound.
#[derive(Parser)]
#[command(name = "dhcpfo", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one seeded scenario: summary on stdout; trace.jsonl, summary.json, report.html,
    /// trace.perfetto.json and (on a violation) repro.yaml in the output directory.
    Run {
        /// The scenario file (YAML).
        scenario: PathBuf,
        /// The run seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output directory (default: out/<scenario>-seed<N>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scenario setting, e.g. --set clients.count=500 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Keep running after the first violation, recording every one in the trace.
        #[arg(long = "continue")]
        keep_going: bool,
        /// Also write every packet of the run to run.pcap (readable by Wireshark and by
        /// `dhcpfo decode`), from a full trace; large for big runs.
        #[arg(long)]
        pcap: bool,
        /// Write the full trace: every DHCP and failover message, with its bytes (a lean
        /// trace leaves them out; a replay of the seed regenerates them).
        #[arg(long)]
        full_trace: bool,
        /// A full trace with only the messages sent from FROM to TO (times since the start,
        /// like 40m..42m30s): the messages around a violation, without the whole run's.
        #[arg(long, value_name = "FROM..TO", value_parser = parse_window)]
        window: Option<(u64, u64)>,
        /// Switch on a catalogued bug in both servers (test-only; `dhcpfo bugs` lists them).
        /// Repeatable.
        #[arg(long = "bug", value_name = "NAME", value_parser = parse_bug)]
        bugs: Vec<Bug>,
    },
    /// Run a scenario over a range of seeds on every core, one World per seed.
    ///
    /// Writes one JSON line per seed, in seed order, to DIR/seeds.jsonl (and to stdout when it
    /// is not a terminal), DIR/seed-N/repro.yaml for every seed that violated a property or
    /// did not end as the scenario expects, DIR/summary.json and DIR/coverage.json; ends with
    /// a table of the violations by property with the first seed of each, and the coverage
    /// table (failover states, draft-12 transitions, reject reasons, message types and
    /// sometimes-events reached, and what was never reached). Neither depends on --jobs.
    /// Exit 0 when every seed passed as expected, 1 on any violation or mismatch or a coverage
    /// below --min-coverage, 2 on bad usage.
    Sweep {
        /// The scenario file (YAML).
        scenario: PathBuf,
        /// The seeds: A..B (A up to B - 1), A..=B, or one seed N.
        #[arg(long, value_name = "A..B", value_parser = dhcpfo::sweep::parse_seeds)]
        seeds: std::ops::Range<u64>,
        /// How many seeds run at once (default: one per core).
        #[arg(long, value_name = "N", value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Run only shard K of N: the seeds s with (s - A) % N == K, for a cluster's batch
        /// system (see the README).
        #[arg(long, value_name = "K/N", value_parser = dhcpfo::sweep::Shard::parse)]
        shard: Option<dhcpfo::sweep::Shard>,
        /// Output directory (default: out/sweep-<scenario>, or out/sweep-<scenario>-shard-K-of-N).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Override a scenario setting, e.g. --set clients.count=500 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Switch on a catalogued bug in both servers (test-only; `dhcpfo bugs` lists them).
        /// Repeatable.
        #[arg(long = "bug", value_name = "NAME", value_parser = parse_bug)]
        bugs: Vec<Bug>,
        /// What the seeds must reach together, or the sweep exits 1 naming what it missed:
        /// items separated by commas, each state:NAME, transition:FROM->TO (FROM may be *),
        /// message:NAME, reject:CODE, sometimes:NAME, or a share KIND:N% (KIND states,
        /// transitions, messages or sometimes; transitions are the rows of the draft-12 table);
        /// @FILE reads the items from FILE (# comments). Repeatable.
        #[arg(long = "min-coverage", value_name = "ITEMS|@FILE")]
        min_coverage: Vec<String>,
    },
    /// Merge the coverage of sweeps, or of one sweep's shards, and print its table.
    ///
    /// Each PATH is a coverage.json a sweep wrote, or the sweep's output directory. Counts add
    /// up, so the shards of a range give the range's coverage. Exit 0, 1 when the merged
    /// coverage is below --min-coverage (as `sweep` takes it), 2 when a file is missing or not
    /// a coverage.json.
    Coverage {
        /// coverage.json files, or the sweep directories that hold them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// As for `sweep`.
        #[arg(long = "min-coverage", value_name = "ITEMS|@FILE")]
        min_coverage: Vec<String>,
        /// Also write the merged coverage to FILE (the format of coverage.json).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List the catalogue of bugs the testbed must catch: each a deliberate flaw that
    /// `dhcpfo run --bug NAME` switches on, with the property it breaks.
    Bugs {
        /// Print one JSON object per bug instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Make a failing run smaller while it still violates the same property: fewer faults,
    /// clients and settings, a shorter run. Writes the smallest repro found and exits 1 (it
    /// still violates), or 2 when the repro violates nothing.
    Shrink {
        /// The repro.yaml file of the failing run.
        file: PathBuf,
        /// Output directory for the shrunk repro.yaml (default: next to the repro file, in
        /// shrunk/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Hunt each catalogued bug: sweep the scenario with the bug switched on from seed 0 up to
    /// the first violation, then shrink it. A markdown table on stdout (seeds and wall time to
    /// the first find, the property, the shrunk size, the shrink's runs and time), progress on
    /// stderr; with --out, DIR/hunt.json and each bug's repro and shrunk repro. The first seed
    /// does not depend on --jobs. Exit 0 when every bug hunted was found, 1 when one was not
    /// within --max-seeds, 2 on bad usage.
    Hunt {
        /// The scenario file (YAML).
        #[arg(default_value = "scenarios/swarm.yaml")]
        scenario: PathBuf,
        /// Hunt only this bug (repeatable; default: every catalogued bug).
        #[arg(long = "bug", value_name = "NAME", value_parser = parse_bug)]
        bugs: Vec<Bug>,
        /// Try seeds 0 up to N - 1 for each bug.
        #[arg(long, value_name = "N", default_value_t = 2000)]
        max_seeds: u64,
        /// How many seeds run at once (default: one per core).
        #[arg(long, value_name = "N", value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Shrink up to K finds per bug, in seed order, until one shrinks to at most 5
        /// clients and 2 fault episodes; the smallest is reported.
        #[arg(long, value_name = "K", default_value_t = 1, value_parser = parse_finds)]
        finds: usize,
        /// Output directory for hunt.json and the repros.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Measure the simulator: the benchmark day (load balancing, 1 h leases, a 20-minute
    /// partition) at each client count, with events/s, virtual seconds per wall second and
    /// peak memory per client (each size in a process of its own), and a sweep's seeds/s on
    /// one core and on all of them.
    Bench {
        /// Client counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1_000u32, 10_000, 100_000])]
        clients: Vec<u32>,
        /// The scenario the sweep-scaling figure sweeps.
        #[arg(long, default_value = "scenarios/nemesis-safe-faults.yaml")]
        sweep: PathBuf,
        /// Its seeds.
        #[arg(long, value_name = "A..B", default_value = "0..200", value_parser = dhcpfo::sweep::parse_seeds)]
        seeds: std::ops::Range<u64>,
        /// Run one day of this many clients in this process and print its measurement as a
        /// JSON line (what `bench` runs in each child process).
        #[arg(long, hide = true)]
        one: Option<u32>,
    },
    /// Rerun a failure exactly, from the repro.yaml a run wrote.
    Replay {
        /// The repro.yaml file.
        file: PathBuf,
        /// Output directory (default: next to the repro file, in replay/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write the full trace (every message), as `run --full-trace` does.
        #[arg(long)]
        full_trace: bool,
        /// Keep only the messages sent from FROM to TO, as `run --window` does.
        #[arg(long, value_name = "FROM..TO", value_parser = parse_window)]
        window: Option<(u64, u64)>,
        /// Also write run.pcap, as `run --pcap` does.
        #[arg(long)]
        pcap: bool,
    },
    /// Render a run's report.html again from its trace.
    ///
    /// PATH is a run's output directory (its trace.jsonl, and messages.jsonl and summary.json
    /// when present) or a trace.jsonl file. The page is a pure function of those files: the
    /// verdict and every property, each server's failover state over time with the fault
    /// windows, the violation explained, counts over time and the event log. Writes
    /// report.html next to the trace (or --out), and trace.perfetto.json beside it. Exit 0
    /// when written, 2 when the trace is missing or not a trace.
    Report {
        /// The run's output directory, or its trace.jsonl.
        path: PathBuf,
        /// Where to write the page (default: report.html next to the trace).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check a scenario file without running it.
    Check {
        /// The scenario file (YAML).
        scenario: PathBuf,
    },
    /// List the scenarios of a directory with their one-line descriptions.
    Scenarios {
        /// The directory.
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Read a capture (classic pcap) and print every DHCP and failover message in it.
    ///
    /// DHCP is read from UDP 67/68; failover from TCP on the --port ports (default 647 and
    /// 847), each direction reassembled and framed. The dialect (ISC or Microsoft) is detected
    /// per message. Exit 0 when every message decoded (and with --verify re-encoded
    /// identically), 1 when any did not, 2 when the file is not a pcap.
    Decode {
        /// The capture file.
        file: PathBuf,
        /// A TCP port carrying failover (repeatable; default 647 and 847).
        #[arg(long = "port", value_name = "PORT")]
        ports: Vec<u16>,
        /// Print one JSON object per message instead of a text line.
        #[arg(long)]
        json: bool,
        /// Re-encode every decoded message and report any byte difference.
        #[arg(long)]
        verify: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Run {
            scenario,
            seed,
            out,
            overrides,
            keep_going,
            pcap,
            full_trace,
            window,
            bugs,
        } => {
            let mut loaded = match dhcpfo::scenario::Scenario::load_with(&scenario, &overrides) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("dhcpfo run: {e}");
                    return ExitCode::from(exit::BAD_INPUT);
                }
            };
            loaded.bugs = bugs.iter().fold(loaded.bugs, |set, &b| set.showing(b));
            let sets: String = overrides
                .iter()
                .map(|o| format!(" --set {o}"))
                .chain(bugs.iter().map(|b| format!(" --bug {}", b.name())))
                .collect();
            let args = dhcpfo::run::RunArgs {
                seed,
                out,
                reproduce: format!("dhcpfo run {} --seed {seed}{sets}", scenario.display()),
                keep_going,
                pcap,
                full_trace,
                window,
            };
            run_one(loaded, &args)
        }
        Command::Sweep {
            scenario,
            seeds,
            jobs,
            shard,
            out,
            overrides,
            bugs,
            min_coverage,
        } => {
            let min_coverage = match requirements(&min_coverage) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("dhcpfo sweep: {e}");
                    return ExitCode::from(exit::BAD_INPUT);
                }
            };
            let mut loaded = match dhcpfo::scenario::Scenario::load_with(&scenario, &overrides) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("dhcpfo sweep: {e}");
                    return ExitCode::from(exit::BAD_INPUT);
                }
            };
            loaded.bugs = bugs.iter().fold(loaded.bugs, |set, &b| set.showing(b));
            let shard = shard.unwrap_or(dhcpfo::sweep::Shard::WHOLE);
            let args = dhcpfo::sweep::SweepArgs {
                out: out.unwrap_or_else(|| dhcpfo::sweep::default_out(&loaded, shard)),
                seeds,
                shard,
                jobs: jobs.unwrap_or_else(|| {
                    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
                }),
                meter: if std::io::stderr().is_terminal() {
                    dhcpfo::sweep::Meter::Bar
                } else {
                    dhcpfo::sweep::Meter::Lines
                },
            };
            // Piped, stdout carries the seeds' JSON lines and nothing else; on a terminal it
            // carries the closing table (the lines are in seeds.jsonl).
            let stdout = std::io::stdout();
            let mut stdout = std::io::BufWriter::new(stdout.lock());
            let mut stderr = std::io::stderr();
            let code = if std::io::stdout().is_terminal() {
                dhcpfo::sweep::sweep_judged(
                    &loaded,
                    &args,
                    &min_coverage,
                    None,
                    &mut stdout,
                    &mut stderr,
                )
            } else {
                let mut table = std::io::stderr();
                dhcpfo::sweep::sweep_judged(
                    &loaded,
                    &args,
                    &min_coverage,
                    Some(&mut stdout),
                    &mut table,
                    &mut stderr,
                )
            };
            let _ = stdout.flush();
            ExitCode::from(code)
        }
        Command::Coverage {
            paths,
            min_coverage,
            out,
        } => coverage(&paths, &min_coverage, out.as_deref()),
        Command::Shrink { file, out } => shrink(&file, out),
        Command::Hunt {
            scenario,
            bugs,
            max_seeds,
            jobs,
            finds,
            out,
        } => hunt(&scenario, bugs, max_seeds, jobs, finds, out),
        Command::Bench {
            clients,
            sweep,
            seeds,
            one,
        } => match one {
            Some(n) => bench_one(n),
            None => bench(&clients, &sweep, seeds),
        },
        Command::Replay {
            file,
            out,
            full_trace,
            window,
            pcap,
        } => {
            let repro = match dhcpfo::run::load_repro(&file) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("dhcpfo replay: {e}");
                    return ExitCode::from(exit::BAD_INPUT);
                }
            };
            let out = out.or_else(|| file.parent().map(|p| p.join("replay")));
            let args = dhcpfo::run::RunArgs {
                seed: repro.seed,
                out,
                // The run's own command line, when the repro names it: the replay's summary
                // and report are then byte-identical to the run's.
                reproduce: repro
                    .reproduce
                    .clone()
                    .unwrap_or_else(|| format!("dhcpfo replay {}", file.display())),
                keep_going: repro.keep_going,
                pcap,
                full_trace,
                window,
            };
            let (code, report) = run_one_report(repro.scenario, &args);
            // The replay must end with the trace the failing run ended with, or it reproduced
            // something else (another version, another build): say so, and fail.
            let got = report.map(|r| format!("{:016x}", r.trace_hash));
            match (repro.trace_hash.as_deref(), got.as_deref()) {
                (Some(want), Some(got)) if want == got => {
                    say!("reproduced exactly: trace {got}");
                    ExitCode::from(code)
                }
                (Some(want), got) => {
                    say!(
                        "DID NOT REPRODUCE: the replay ended with trace {}, the repro with {want} \
                         (repro written by dhcpfo {}, this is {})",
                        got.unwrap_or("(none)"),
                        repro.dhcpfo_version,
                        env!("CARGO_PKG_VERSION")
                    );
                    ExitCode::from(exit::BAD_INPUT)
                }
                (None, _) => {
                    say!("not verified: the repro records no trace hash");
                    ExitCode::from(code)
                }
            }
        }
        Command::Bugs { json } => {
            for b in Bug::ALL {
                if json {
                    let line = serde_json::json!({"name": b.name(), "property": b.property(),
                        "description": b.description()});
                    say!("{line}");
                } else {
                    say!("{:<34} {:<20} {}", b.name(), b.property(), b.description());
                }
            }
            ExitCode::from(exit::OK)
        }
        Command::Report { path, out } => report(&path, out),
        Command::Check { scenario } => match dhcpfo::scenario::Scenario::load(&scenario) {
            Ok(s) => {
                say!("{}: ok — {}", scenario.display(), s.description);
                ExitCode::from(exit::OK)
            }
            Err(e) => {
                eprintln!("dhcpfo check: {e}");
                ExitCode::from(exit::BAD_INPUT)
            }
        },
        Command::Scenarios { dir } => {
            let list = dhcpfo::run::list_scenarios(&dir);
            if list.is_empty() {
                eprintln!("dhcpfo scenarios: no *.yaml in {}", dir.display());
                return ExitCode::from(exit::BAD_INPUT);
            }
            let mut bad = false;
            for (path, s) in list {
                match s {
                    Ok(s) => say!("{:<48} {}", path.display(), s.description),
                    Err(e) => {
                        bad = true;
                        say!("{:<48} INVALID: {e}", path.display());
                    }
                }
            }
            ExitCode::from(if bad { exit::BAD_INPUT } else { exit::OK })
        }
        Command::Decode {
            file,
            ports,
            json,
            verify,
        } => {
            let args = decode::DecodeArgs {
                ports: if ports.is_empty() {
                    decode::DEFAULT_PORTS.to_vec()
                } else {
                    ports
                },
                json,
                verify,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let code = decode::run(&file, &args, &mut out, &mut std::io::stderr());
            // A closed pipe (`| head`) is not a failure of the decode.
            let _ = out.flush();
            ExitCode::from(code)
        }
    }
}

/// `dhcpfo report PATH [--out FILE]`.
fn report(path: &std::path::Path, out: Option<PathBuf>) -> ExitCode {
    let (dir, trace) = if path.is_dir() {
        (path.to_path_buf(), path.join("trace.jsonl"))
    } else {
        let dir = path
            .parent()
            .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
        (dir, path.to_path_buf())
    };
    if !trace.is_file() {
        eprintln!(
            "dhcpfo report: {}: no trace there (give a run's output directory or its trace.jsonl)",
            trace.display()
        );
        return ExitCode::from(exit::BAD_INPUT);
    }
    // The reproduce command, from the run's summary when it has one.
    let reproduce = std::fs::read(dir.join("summary.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["reproduce"].as_str().map(str::to_string));
    let out = out.unwrap_or_else(|| dir.join("report.html"));
    let messages = dir.join("messages.jsonl");
    let written = dhcpfo::run::write_report(&trace, Some(&messages), reproduce.as_deref(), &out)
        .map(|bytes| say!("report -> {} ({} KB)", out.display(), bytes.div_ceil(1024)))
        .and_then(|()| {
            let perfetto = out.with_file_name("trace.perfetto.json");
            dhcpfo::run::write_perfetto(&trace, Some(&messages), &perfetto).map(|bytes| {
                say!(
                    "perfetto -> {} ({} KB)",
                    perfetto.display(),
                    bytes.div_ceil(1024)
                )
            })
        });
    if let Err(e) = written {
        eprintln!("dhcpfo report: {e}");
        return ExitCode::from(exit::BAD_INPUT);
    }
    ExitCode::from(exit::OK)
}

/// One benchmark day in this process: its measurement as a JSON line on stdout. The wall clock
/// and the process's peak memory are read here, at the edge.
fn bench_one(clients: u32) -> ExitCode {
    let scenario = dhcpfo::bench::day(clients);
    let virtual_s = dhcpfo::bench::day_virtual_s(&scenario);
    // The bench's own wall clock, at the edge: the run never sees it.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let mut world = dhcpfo::world::World::new(scenario, 1);
    let outcome = world.run();
    let wall_s = started.elapsed().as_secs_f64();
    // VmHWM: the resident set's high-water mark (Linux); 0 where it cannot be read.
    let peak_kb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    let line = serde_json::json!({
        "clients": clients,
        "events": world.counts.events,
        "wall_s": wall_s,
        "peak_kb": peak_kb,
        "virtual_s": virtual_s,
        "outcome": match outcome {
            dhcpfo::world::Outcome::Pass => "pass",
            dhcpfo::world::Outcome::Violation(_) => "violation",
            dhcpfo::world::Outcome::Unfinished(_) => "unfinished",
        },
    });
    say!("{line}");
    ExitCode::from(exit::OK)
}

/// `dhcpfo bench`: each day size in a child process (so that its peak memory is its own), then
/// the sweep on one job and on every core.
fn bench(sizes: &[u32], sweep_path: &std::path::Path, seeds: std::ops::Range<u64>) -> ExitCode {
    if sizes.contains(&0) {
        eprintln!("dhcpfo bench: --clients needs sizes of at least 1 client");
        return ExitCode::from(exit::BAD_INPUT);
    }
    let Ok(me) = std::env::current_exe() else {
        eprintln!("dhcpfo bench: cannot find its own executable");
        return ExitCode::from(exit::BAD_INPUT);
    };
    say!(
        "| clients | events | wall | events/s | virtual s per wall s | peak memory | per client |"
    );
    say!("|---:|---:|---:|---:|---:|---:|---:|");
    for &n in sizes {
        eprintln!("bench: the day at {n} clients…");
        let out = std::process::Command::new(&me)
            .args(["bench", "--one", &n.to_string()])
            .output();
        let parsed = out.ok().and_then(|o| {
            serde_json::from_slice::<serde_json::Value>(&o.stdout)
                .ok()
                .filter(|_| o.status.success())
        });
        let Some(v) = parsed else {
            eprintln!("dhcpfo bench: the day at {n} clients did not run");
            return ExitCode::from(exit::BAD_INPUT);
        };
        let r = dhcpfo::bench::DayResult {
            clients: n,
            events: v["events"].as_u64().unwrap_or(0),
            wall_s: v["wall_s"].as_f64().unwrap_or(0.0),
            peak_kb: v["peak_kb"].as_u64().unwrap_or(0),
            virtual_s: v["virtual_s"].as_f64().unwrap_or(0.0),
        };
        if v["outcome"] != "pass" {
            eprintln!("bench: the day at {n} clients ended {}", v["outcome"]);
        }
        say!(
            "| {n} | {} | {:.2} s | {:.0} | {:.0} | {:.1} MB | {:.1} KB |",
            r.events,
            r.wall_s,
            r.events_per_s(),
            r.speedup(),
            r.peak_kb as f64 / 1024.0,
            r.kb_per_client()
        );
    }
    let scenario = match dhcpfo::scenario::Scenario::load(sweep_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dhcpfo bench: {e}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let n = seeds.end.saturating_sub(seeds.start);
    let mut rates = Vec::new();
    for jobs in [1, cores] {
        eprintln!(
            "bench: sweeping {} seeds {seeds:?} on {jobs} job(s)…",
            scenario.name
        );
        let dir = std::env::temp_dir().join(format!("dhcpfo-bench-{}-{jobs}", std::process::id()));
        let args = dhcpfo::sweep::SweepArgs {
            seeds: seeds.clone(),
            shard: dhcpfo::sweep::Shard::WHOLE,
            jobs,
            out: dir.clone(),
            meter: dhcpfo::sweep::Meter::Lines,
        };
        #[allow(clippy::disallowed_methods)]
        let started = std::time::Instant::now();
        dhcpfo::sweep::sweep(
            &scenario,
            &args,
            None,
            &mut std::io::sink(),
            &mut std::io::sink(),
        );
        let wall = started.elapsed().as_secs_f64().max(1e-9);
        let _ = std::fs::remove_dir_all(dir);
        rates.push(n as f64 / wall);
        say!(
            "sweep of {} ({n} seeds), {jobs} job(s): {:.1} seeds/s",
            scenario.name,
            n as f64 / wall
        );
    }
    if let [one, all] = rates[..] {
        say!(
            "sweep scaling: {:.2}x on {cores} cores over 1",
            all / one.max(1e-9)
        );
    }
    ExitCode::from(exit::OK)
}

/// `dhcpfo hunt`: progress on stderr, the table on stdout.
fn hunt(
    path: &std::path::Path,
    bugs: Vec<Bug>,
    max_seeds: u64,
    jobs: Option<usize>,
    finds: usize,
    out: Option<PathBuf>,
) -> ExitCode {
    let scenario = match dhcpfo::scenario::Scenario::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dhcpfo hunt: {e}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    if max_seeds == 0 {
        eprintln!("dhcpfo hunt: --max-seeds must be at least 1");
        return ExitCode::from(exit::BAD_INPUT);
    }
    let args = dhcpfo::hunt::HuntArgs {
        bugs: if bugs.is_empty() {
            Bug::ALL.to_vec()
        } else {
            bugs
        },
        max_seeds,
        jobs: jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        }),
        finds,
        out,
        scenario_path: path.display().to_string(),
    };
    let rows = dhcpfo::hunt::hunt_all(&scenario, &args, &mut std::io::stderr());
    if let Err(e) = dhcpfo::hunt::write_json(&rows, &args) {
        eprintln!("dhcpfo hunt: writing hunt.json: {e}");
        return ExitCode::from(exit::BAD_INPUT);
    }
    let stdout = std::io::stdout();
    let mut stdout = std::io::BufWriter::new(stdout.lock());
    dhcpfo::hunt::write_table(&rows, &args, &mut stdout);
    let _ = stdout.flush();
    ExitCode::from(dhcpfo::hunt::code(&rows))
}

/// `dhcpfo shrink`: progress on stderr, the before and after on stdout.
fn shrink(file: &std::path::Path, out: Option<PathBuf>) -> ExitCode {
    let repro = match dhcpfo::run::load_repro(file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dhcpfo shrink: {e}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    let mut progress = |line: &str| eprintln!("shrink: {line}");
    let shrunk = match dhcpfo::shrink::shrink(&repro, &mut progress) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dhcpfo shrink: {}: {e}", file.display());
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    let dir = out.unwrap_or_else(|| {
        file.parent()
            .map_or_else(|| PathBuf::from("shrunk"), |p| p.join("shrunk"))
    });
    let r = dhcpfo::run::Repro::new(&shrunk.scenario, repro.seed, false, Some(shrunk.trace_hash));
    let written = match dhcpfo::run::write_repro(&dir, &r) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("dhcpfo shrink: writing {}: {e}", dir.display());
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    say!(
        "SHRUNK  {} seed={}: still violates {} after {} runs",
        repro.scenario.name,
        repro.seed,
        shrunk.property,
        shrunk.runs
    );
    say!("  before: {}", shrunk.before);
    say!("  after:  {}", shrunk.after);
    say!("  repro -> {}", written.display());
    say!("reproduce: dhcpfo replay {}", written.display());
    ExitCode::from(exit::VIOLATION)
}

/// Run one scenario with the summary on stdout, and its progress on stderr when that is a
/// terminal. The wall clock is read here, at the edge, only to report speed: nothing the run
/// computes depends on it.
fn run_one(scenario: dhcpfo::scenario::Scenario, args: &dhcpfo::run::RunArgs) -> ExitCode {
    ExitCode::from(run_one_report(scenario, args).0)
}

/// [`run_one`], returning the exit code and the run's report.
fn run_one_report(
    scenario: dhcpfo::scenario::Scenario,
    args: &dhcpfo::run::RunArgs,
) -> (u8, Option<dhcpfo::run::RunReport>) {
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let mut wall = || start.elapsed().as_secs_f64();
    let mut meter = RunMeter::default();
    let mut silent = ();
    let progress: &mut dyn dhcpfo::run::Progress = if std::io::stderr().is_terminal() {
        &mut meter
    } else {
        &mut silent
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    dhcpfo::run::run_scenario_with_progress(
        scenario,
        args,
        &mut wall,
        progress,
        &mut out,
        &mut std::io::stderr(),
    )
}

/// A long run's progress on stderr (a terminal): the virtual time reached of the run's
/// duration, and the events so far. A run too short to reach the first progress call (64 Ki
/// events) shows nothing.
#[derive(Default)]
struct RunMeter {
    bar: Option<ProgressBar>,
    what: String,
    end_s: u64,
}

impl dhcpfo::run::Progress for RunMeter {
    fn begin(&mut self, what: &str, end: Time) {
        self.what = what.to_string();
        self.end_s = end.saturating_since(START).as_millis() / 1000;
    }

    fn update(&mut self, world: &dhcpfo::world::World) {
        let now_s = world.now().saturating_since(START).as_millis() / 1000;
        let bar = self.bar.get_or_insert_with(|| {
            let style = ProgressStyle::with_template("{prefix}: {msg} {wide_bar} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::with_draw_target(Some(self.end_s), ProgressDrawTarget::stderr())
                .with_style(style)
                .with_prefix(self.what.clone())
        });
        bar.set_message(format!(
            "{}/{} virtual, {} events",
            hms(now_s),
            hms(self.end_s),
            world.counts.events
        ));
        bar.set_position(now_s);
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Seconds as `h:mm:ss`.
fn hms(s: u64) -> String {
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `--window FROM..TO`: two times since the run's start, in milliseconds.
fn parse_window(s: &str) -> Result<(u64, u64), String> {
    let (from, to) = s
        .split_once("..")
        .ok_or_else(|| format!("`{s}` is not a window: give FROM..TO, like 40m..42m30s"))?;
    let from = dhcpfo::scenario::Span::parse(from)?.0.as_millis();
    let to = dhcpfo::scenario::Span::parse(to)?.0.as_millis();
    if from > to {
        return Err(format!("`{s}`: the window ends before it starts"));
    }
    Ok((from, to))
}
