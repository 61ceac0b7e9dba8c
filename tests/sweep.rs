//! `dhcpfo sweep`, end to end through the built binary.
//!
//! Goals: the per-seed lines do not depend on `--jobs`, and agree with `dhcpfo run` of the same
//! seed; the shards of a range together hold exactly the range's lines; violating seeds get a
//! repro file that `dhcpfo replay` reruns to the same trace, and exit 1, as does a seed that
//! does not end as the scenario expects; bad usage exits 2. Coverage: the same whatever
//! `--jobs`, the shards' coverage.json add up to the range's, and `--min-coverage` exits 1
//! naming what the seeds missed, 0 when they reached it. Every sweep here is a few seeds of a
//! shrunken scenario, to keep CI short.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scenario shipped with the tool.
fn scenario(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
        .to_str()
        .expect("a UTF-8 path")
        .to_string()
}

/// Passes with 30 clients, fast.
fn passing() -> Vec<String> {
    [
        &scenario("hot-standby-primary-crash.yaml"),
        "--set",
        "clients.count=30",
    ]
    .map(String::from)
    .to_vec()
}

/// Violates no-duplicate-lease with 30 clients on 20 addresses, as it expects, fast.
fn violating() -> Vec<String> {
    [
        &scenario("partner-down-while-partitioned.yaml"),
        "--set",
        "clients.count=30",
        "--set",
        "servers.pool_size=20",
    ]
    .map(String::from)
    .to_vec()
}

fn dhcpfo(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dhcpfo"))
        .args(args)
        .output()
        .expect("dhcpfo runs")
}

/// `dhcpfo sweep SUBJECT ARGS… --out DIR`.
fn sweep(subject: &[String], args: &[&str], out: &Path) -> Output {
    let mut all = vec!["sweep".to_string()];
    all.extend(subject.iter().cloned());
    all.extend(args.iter().map(|a| a.to_string()));
    all.extend(["--out".into(), out.to_str().unwrap().into()]);
    dhcpfo(&all)
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dhcpfo-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn lines(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("seeds.jsonl"))
        .expect("seeds.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn seeds_of(lines: &[serde_json::Value]) -> Vec<u64> {
    lines.iter().map(|l| l["seed"].as_u64().unwrap()).collect()
}

fn json_file(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("JSON")
}

#[test]
fn the_seed_lines_are_the_same_on_one_job_or_two_and_agree_with_run() {
    let (d1, d2) = (temp_dir("jobs1"), temp_dir("jobs2"));
    let r1 = sweep(&passing(), &["--seeds", "0..6", "--jobs", "1"], &d1);
    let r2 = sweep(&passing(), &["--seeds", "0..6", "--jobs", "2"], &d2);
    assert_eq!(r1.status.code(), Some(0), "{r1:?}");
    assert_eq!(r2.status.code(), Some(0), "{r2:?}");
    let f1 = std::fs::read(d1.join("seeds.jsonl")).unwrap();
    assert_eq!(f1, std::fs::read(d2.join("seeds.jsonl")).unwrap());
    // So is the coverage, merged over the seeds whatever order they finished in.
    let coverage = std::fs::read(d1.join("coverage.json")).unwrap();
    assert_eq!(coverage, std::fs::read(d2.join("coverage.json")).unwrap());
    assert_eq!(
        json_file(&d1.join("summary.json"))["coverage"],
        json_file(&d1.join("coverage.json"))
    );
    // Piped, stdout carries the same lines and nothing else.
    assert_eq!(r1.stdout, f1);
    assert_eq!(r2.stdout, f1);
    let all = lines(&d1);
    assert_eq!(seeds_of(&all), (0..6).collect::<Vec<_>>());
    for l in &all {
        assert_eq!(l["outcome"], "pass", "{l}");
        assert_eq!(l["matches"], true, "{l}");
        assert_eq!(l["trace_hash"].as_str().unwrap().len(), 16, "{l}");
        assert!(l["events"].as_u64().unwrap() > 100, "{l}");
    }
    // The closing table goes to stderr when stdout is piped.
    let table = String::from_utf8(r2.stderr).unwrap();
    assert!(table.contains("6 seeds: 6 pass"), "{table}");
    assert!(table.contains("jobs 2"), "{table}");
    assert!(!d1.join("seed-0").exists(), "no repro for a passing seed");

    // A seed of the sweep is the same run as `dhcpfo run` of that seed.
    let d3 = temp_dir("run4");
    let mut args = vec!["run".to_string()];
    args.extend(passing());
    args.extend(["--seed", "4", "--out", d3.to_str().unwrap()].map(String::from));
    let run = dhcpfo(&args);
    assert_eq!(run.status.code(), Some(0));
    let stdout = String::from_utf8(run.stdout).unwrap();
    let hash = all[4]["trace_hash"].as_str().unwrap();
    assert!(
        stdout.contains(&format!("trace {hash}")),
        "{hash}: {stdout}"
    );
    // The run's coverage line, and its coverage in summary.json.
    let run_coverage = json_file(&d3.join("summary.json"))["coverage"].clone();
    assert_eq!(run_coverage["seeds"], 1);
    let line = run_coverage["line"].as_str().unwrap();
    assert!(line.starts_with("coverage: 5 of 12 states"), "{line}");
    assert!(stdout.contains(&format!("  {line}\n")), "{stdout}");
    for d in [d1, d2, d3] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn two_shards_together_hold_exactly_the_whole_range() {
    let (whole, s0, s1) = (temp_dir("whole"), temp_dir("shard0"), temp_dir("shard1"));
    let range = ["--seeds", "3..8", "--jobs", "1"];
    assert_eq!(sweep(&passing(), &range, &whole).status.code(), Some(0));
    let r0 = sweep(&passing(), &[&range[..], &["--shard", "0/2"]].concat(), &s0);
    let r1 = sweep(&passing(), &[&range[..], &["--shard", "1/2"]].concat(), &s1);
    assert_eq!(r0.status.code(), Some(0), "{r0:?}");
    assert_eq!(r1.status.code(), Some(0), "{r1:?}");
    let (l0, l1) = (lines(&s0), lines(&s1));
    assert_eq!(seeds_of(&l0), vec![3, 5, 7]);
    assert_eq!(seeds_of(&l1), vec![4, 6]);
    // Merged by seed, the shards' lines are the whole range's, byte for byte.
    let mut merged: Vec<serde_json::Value> = l0.into_iter().chain(l1).collect();
    merged.sort_by_key(|l| l["seed"].as_u64());
    assert_eq!(merged, lines(&whole));
    // Their coverage adds up to the whole range's.
    let sum = whole.join("shards-coverage.json");
    let r = dhcpfo(&[
        "coverage".into(),
        s0.to_str().unwrap().into(),
        s1.join("coverage.json").to_str().unwrap().into(),
        "--out".into(),
        sum.to_str().unwrap().into(),
    ]);
    assert_eq!(r.status.code(), Some(0), "{r:?}");
    assert_eq!(json_file(&sum), json_file(&whole.join("coverage.json")));
    let table = String::from_utf8(r.stdout).unwrap();
    assert!(table.contains("COVERAGE  5 seeds"), "{table}");
    for d in [whole, s0, s1] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn violating_seeds_get_repro_files_that_replay_exactly_and_exit_1() {
    let d = temp_dir("violating");
    let r = sweep(&violating(), &["--seeds", "0..2", "--jobs", "2"], &d);
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    let all = lines(&d);
    assert_eq!(seeds_of(&all), vec![0, 1]);
    for l in &all {
        assert_eq!(l["outcome"], "violation", "{l}");
        assert_eq!(l["property"], "no-duplicate-lease", "{l}");
        assert_eq!(l["matches"], true, "the scenario expects it: {l}");
        assert!(l["at_ms"].as_u64().is_some(), "{l}");
    }
    let table = String::from_utf8(r.stderr).unwrap();
    assert!(table.contains("no-duplicate-lease"), "{table}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["by_property"][0]["seeds"], 2);
    assert_eq!(summary["by_property"][0]["first_seed"], 0);
    assert_eq!(summary["mismatches"], 0);
    // Each repro reruns its seed to the same trace.
    for l in &all {
        let repro = d.join(format!("seed-{}", l["seed"])).join("repro.yaml");
        let replay = dhcpfo(&["replay".into(), repro.to_str().unwrap().into()]);
        assert_eq!(replay.status.code(), Some(1));
        let stdout = String::from_utf8(replay.stdout).unwrap();
        let hash = l["trace_hash"].as_str().unwrap();
        assert!(
            stdout.contains(&format!("trace {hash}")),
            "{hash}: {stdout}"
        );
    }
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn the_coverage_table_follows_the_violations_and_min_coverage_judges_it() {
    let d = temp_dir("coverage");
    // What every seed of the crash scenario reaches: both servers start fresh (RECOVER, the
    // wait skipped), the primary's crash interrupts the secondary, which learns the restarted
    // primary's database on request.
    let met = "transition:startup->recover, transition:recover->recover-done, \
               transition:normal->comm-interrupted, state:normal, message:UPDREQALL, \
               sometimes:updreqall-answered, sometimes:update-rejected, reject:16, states:40%";
    let r = sweep(
        &passing(),
        &["--seeds", "0..3", "--jobs", "2", "--min-coverage", met],
        &d,
    );
    let table = String::from_utf8(r.stderr).unwrap();
    assert_eq!(r.status.code(), Some(0), "{table}");
    let violations = table.find("3 seeds: 3 pass").expect("the violation table");
    let coverage = table.find("COVERAGE  3 seeds").expect("the coverage table");
    assert!(violations < coverage, "{table}");
    for says in [
        "transitions (draft-12 §4.2)",
        "startup -> recover ",
        "table rows never reached",
        "* -> shutdown",
        "16 less critical binding information",
        "never sent: POOLREQ",
        "updreqall-answered",
        "never: both-partner-down",
    ] {
        assert!(table.contains(says), "{says}: {table}");
    }
    assert!(!table.contains("FINDING"), "{table}");
    let summary = json_file(&d.join("summary.json"));
    let c = &summary["coverage"];
    assert_eq!(c["seeds"], 3);
    assert_eq!(c["off_table"], serde_json::json!([]));
    let startup = c["states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == "startup")
        .unwrap();
    assert_eq!(startup["seeds"], 3, "{startup}");
    assert_eq!(startup["first_seed"], 0, "{startup}");
    assert!(
        c["never"]["transitions"]
            .as_array()
            .unwrap()
            .contains(&"* -> paused".into()),
        "{c}"
    );
    assert_eq!(summary["coverage_missed"], serde_json::json!([]));

    // Asking for what no seed reached fails the sweep, by name, even with every seed passing;
    // the requirements may come from a file.
    let wanted = d.join("wanted.txt");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        &wanted,
        "# what a good sweep of this scenario should reach\n\
         sometimes:both-partner-down\ntransition:*->shutdown, transitions:50%\n",
    )
    .unwrap();
    let at_wanted = format!("@{}", wanted.display());
    let r = sweep(
        &passing(),
        &[
            "--seeds",
            "0..3",
            "--jobs",
            "2",
            "--min-coverage",
            &at_wanted,
        ],
        &d,
    );
    let table = String::from_utf8(r.stderr).unwrap();
    assert_eq!(r.status.code(), Some(1), "{table}");
    assert!(table.contains("3 seeds: 3 pass"), "{table}");
    assert!(
        table.contains("COVERAGE BELOW --min-coverage (3 missed)"),
        "{table}"
    );
    for says in [
        "never reached sometimes:both-partner-down",
        "never reached transition:*->shutdown",
        "transitions: 6 of 30 reached, below 50%",
    ] {
        assert!(table.contains(says), "{says}: {table}");
    }
    assert_eq!(
        json_file(&d.join("summary.json"))["coverage_missed"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // `dhcpfo coverage` judges a sweep's coverage.json the same way.
    let r = dhcpfo(&[
        "coverage".into(),
        d.to_str().unwrap().into(),
        "--min-coverage".into(),
        "sometimes:both-partner-down".into(),
    ]);
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    let r = dhcpfo(&[
        "coverage".into(),
        d.join("seeds.jsonl").to_str().unwrap().into(),
    ]);
    assert_eq!(r.status.code(), Some(2), "not a coverage.json: {r:?}");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn a_seed_that_does_not_end_as_expected_is_a_mismatch() {
    // With 20 clients on 100 addresses the servers never hand out the same address: the
    // scenario's expected violation does not happen.
    let d = temp_dir("mismatch");
    let subject = [
        scenario("partner-down-while-partitioned.yaml"),
        "--set".into(),
        "clients.count=20".into(),
    ];
    let r = sweep(&subject, &["--seeds", "5", "--jobs", "2"], &d);
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    let all = lines(&d);
    assert_eq!(seeds_of(&all), vec![5]);
    assert_eq!(all[0]["outcome"], "pass");
    assert_eq!(all[0]["matches"], false);
    assert!(d.join("seed-5/repro.yaml").exists());
    let stderr = String::from_utf8(r.stderr).unwrap();
    assert!(stderr.contains("MISMATCH seed 5"), "{stderr}");
    assert!(stderr.contains("1 mismatches (first: seed 5"), "{stderr}");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn bad_seeds_shards_jobs_and_bugs_exit_2() {
    let d = temp_dir("bad");
    for (args, says) in [
        (&["--seeds", "5..5"][..], "no seed in it"),
        (&["--seeds", "9..2"], "no seed in it"),
        (&["--seeds", "x..4"], "not a seed"),
        (&["--seeds", "0..4", "--shard", "2/2"], "less than N"),
        (&["--seeds", "0..4", "--shard", "0/0"], "at least 1"),
        (&["--seeds", "0..4", "--shard", "1"], "K/N"),
        (&["--seeds", "0..4", "--jobs", "0"], "at least 1 job"),
        (
            &["--seeds", "0..4", "--min-coverage", "state:bored"],
            "no state `bored`",
        ),
        (
            &["--seeds", "0..4", "--min-coverage", "@/no/such/file"],
            "/no/such/file",
        ),
        (
            &["--seeds", "0..4", "--bug", "no-such-bug"],
            "no catalogued bug",
        ),
        (
            &["--seeds", "0..4", "--set", "clients.count=many"],
            "with --set",
        ),
        (&[], "--seeds"),
    ] {
        let r = sweep(&passing(), args, &d);
        let stderr = String::from_utf8(r.stderr).unwrap();
        assert_eq!(r.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(!d.exists(), "bad usage writes nothing");
}

/// `dhcpfo bench` measures the day at each size in a child process and the sweep on one job
/// and on every core: a table row per size, and the scaling line.
#[test]
fn bench_prints_a_row_per_size_and_the_sweep_scaling() {
    let out = Command::new(env!("CARGO_BIN_EXE_dhcpfo"))
        .args(["bench", "--clients", "50,120", "--seeds", "0..4"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("| 50 |")), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("| 120 |")), "{stdout}");
    assert!(stdout.contains("sweep scaling:"), "{stdout}");
}
