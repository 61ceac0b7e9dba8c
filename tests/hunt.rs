//! `dhcpfo hunt`, end to end through the built binary.
//!
//! Goals: a hunt of two quick bugs in the swarm finds each, reports the same first seed on one
//! job or two, prints one table row per bug and writes hunt.json with the same rows, each
//! bug's repro and its shrunk repro; the smallest shrink of the first three finds is small (at
//! most 5 clients and 2 faults for these two) and replays exactly; a bug not found within `--max-seeds` exits 1, a bad
//! bound exits 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dhcpfo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dhcpfo"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("dhcpfo runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dhcpfo-hunt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn json_file(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("JSON")
}

/// `dhcpfo hunt` of the two bugs, on `jobs` jobs, into a fresh directory.
fn hunt(jobs: &str, name: &str) -> (Output, PathBuf) {
    let dir = temp_dir(name);
    let out = dhcpfo(&[
        "hunt",
        "--bug",
        "grant-past-mclt",
        "--bug",
        "secondary-allocates-from-free",
        "--max-seeds",
        "40",
        "--finds",
        "3",
        "--jobs",
        jobs,
        "--out",
        dir.to_str().unwrap(),
    ]);
    (out, dir)
}

#[test]
fn two_bugs_are_found_at_the_same_seed_on_any_jobs_and_shrink_small() {
    let (one, d1) = hunt("1", "jobs1");
    let (two, d2) = hunt("2", "jobs2");
    for out in [&one, &two] {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let table = String::from_utf8_lossy(&two.stdout);
    assert!(table.starts_with("| bug |"), "{table}");
    for bug in ["grant-past-mclt", "secondary-allocates-from-free"] {
        assert!(table.contains(&format!("| `{bug}` |")), "{table}");
    }
    assert!(table.contains("2 of 2 bugs found"), "{table}");
    let (j1, j2) = (
        json_file(&d1.join("hunt.json")),
        json_file(&d2.join("hunt.json")),
    );
    let rows = j2["bugs"].as_array().expect("bugs");
    assert_eq!(rows.len(), 2);
    for (r1, r2) in j1["bugs"].as_array().unwrap().iter().zip(rows) {
        // The first find and its shrink are the same whatever --jobs.
        for key in [
            "bug",
            "first_seed",
            "seeds_run",
            "property",
            "before",
            "shrunk",
        ] {
            assert_eq!(r1[key], r2[key], "{key}");
        }
    }
    for r in rows {
        let bug = r["bug"].as_str().unwrap();
        assert_eq!(r["found"], true, "{bug}");
        // The swarm's clients may probe, so a duplicate may be reported as a declined one.
        assert!(r["property"].is_string(), "{bug}");
        assert!(r["seeds_run"].as_u64().unwrap() >= 1);
        let shrunk = &r["shrunk"];
        assert!(shrunk["clients"].as_u64().unwrap() <= 5, "{bug}: {shrunk}");
        assert!(shrunk["faults"].as_u64().unwrap() <= 2, "{bug}: {shrunk}");
        assert!(
            shrunk["events"].as_u64().unwrap() < r["before"]["events"].as_u64().unwrap(),
            "{bug}"
        );
        assert!(d2.join(bug).join("repro.yaml").is_file(), "{bug}");
        let shrunk_repro = d2.join(bug).join("shrunk").join("repro.yaml");
        let replay = dhcpfo(&["replay", shrunk_repro.to_str().unwrap()]);
        let said = String::from_utf8_lossy(&replay.stdout);
        assert!(said.contains("reproduced exactly"), "{bug}: {said}");
        assert_eq!(replay.status.code(), Some(1), "{bug}: it still violates");
    }
    let _ = std::fs::remove_dir_all(&d1);
    let _ = std::fs::remove_dir_all(&d2);
}

#[test]
fn a_bug_not_found_within_the_bound_exits_1_and_a_bad_bound_exits_2() {
    let out = dhcpfo(&["hunt", "--bug", "duel-by-exact-time", "--max-seeds", "2"]);
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("| `duel-by-exact-time` | not in 0..2"),
        "{table}"
    );
    assert!(table.contains("0 of 1 bugs found"), "{table}");
    let bad = dhcpfo(&["hunt", "--max-seeds", "0"]);
    assert_eq!(bad.status.code(), Some(2));
    let unknown = dhcpfo(&["hunt", "--bug", "no-such-bug"]);
    assert_eq!(unknown.status.code(), Some(2));
}
