//! `report.html`: `dhcpfo run` writes it, `dhcpfo report` renders it again from the trace, and
//! for partner-down-while-partitioned (seed 1 breaks no-duplicate-lease) it shows the state
//! bands, the violation with its address, both clients, the rule and who broke it, and the
//! command that reproduces it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn dhcpfo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dhcpfo"))
        .args(args)
        .output()
        .expect("dhcpfo runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dhcpfo-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn the_report_of_a_violation_shows_bands_the_violation_and_how_to_reproduce_it() {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/partner-down-while-partitioned.yaml");
    let d = temp_dir("violation");
    let r = dhcpfo(&[
        "run",
        scenario.to_str().unwrap(),
        "--seed",
        "1",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(
        r.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap();
    let v = &summary["violation"];
    let address = v["addresses"][0].as_str().unwrap();
    let clients: Vec<u64> = v["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    let page = std::fs::read_to_string(d.join("report.html")).expect("run writes report.html");

    // The verdict first, then the state bands: an SVG with both servers and a partner-down
    // band.
    let verdict = page.find(">VIOLATION<").expect("the verdict");
    let bands_at = page.find("id=\"bands\"").expect("the state bands");
    assert!(verdict < bands_at);
    let bands = &page[bands_at..page[bands_at..].find("</section>").unwrap() + bands_at];
    assert!(bands.contains("<svg"), "the bands are an inline SVG");
    for name in ["primary", "secondary", "partner-down", "partition: servers"] {
        assert!(bands.contains(name), "the bands show {name}");
    }

    // What went wrong and who did it, at the top: the address, both clients, the rule.
    let what = &page[page.find("id=\"what\"").unwrap()..bands_at];
    assert!(what.contains("no-duplicate-lease"), "{what}");
    assert!(what.contains("no two clients may hold"), "the rule: {what}");
    assert!(what.contains(address), "{what}");
    for c in &clients {
        assert!(what.contains(&format!("client {c}")), "client {c}: {what}");
    }
    assert!(what.contains("<b>secondary broke it</b>"), "{what}");
    assert!(what.contains("partner-down"), "{what}");

    // The violation section: its ownership chart and message sequence name them too.
    let section = &page[page
        .find("id=\"violation\"")
        .expect("the violation section")..];
    assert!(section.contains(&format!("Who held {address} when")));
    assert!(
        section.contains(&format!("ACK {address}")),
        "the sequence diagram"
    );

    let reproduce = summary["reproduce"].as_str().unwrap();
    assert!(
        page.contains(&format!("<code>{reproduce}</code>")),
        "the reproduce command"
    );
    assert!(page.contains("id=\"scrub-data\"") && page.contains("id=\"log-data\""));

    // `dhcpfo report DIR` renders the same page from the same files.
    let run_perfetto = std::fs::read(d.join("trace.perfetto.json")).expect("run writes it");
    std::fs::remove_file(d.join("trace.perfetto.json")).unwrap();
    let again = d.join("again.html");
    let r = dhcpfo(&[
        "report",
        d.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        page,
        "a pure function of the files"
    );
    // The Perfetto trace is rendered again beside it, the same as the run's.
    let first: serde_json::Value = serde_json::from_slice(&run_perfetto).unwrap();
    let rendered = std::fs::read(d.join("trace.perfetto.json")).expect("report writes it");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&rendered).unwrap(),
        first
    );
    let events = first["traceEvents"].as_array().unwrap();
    // The Trace Event Format: a track (process) per server, named; state slices; counters;
    // flows from a BNDUPD to its BNDACK, each finish matched by a start with its id.
    for server in ["primary", "secondary"] {
        assert!(
            events.iter().any(|e| e["ph"] == "M"
                && e["name"] == "process_name"
                && e["args"]["name"] == server),
            "a track for {server}"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "X" && e["name"] == "partner-down")
    );
    assert!(events.iter().all(|e| e["ph"] != "X" || e["dur"].is_u64()));
    let counters: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "C")
        .filter_map(|e| e["name"].as_str())
        .collect();
    for c in ["bindings", "unacked updates", "clients", "DHCP per sample"] {
        assert!(counters.contains(&c), "counter {c}");
    }
    let ids = |ph: &str| -> Vec<u64> {
        events
            .iter()
            .filter(|e| e["ph"] == ph)
            .map(|e| e["id"].as_u64().unwrap())
            .collect()
    };
    let (starts, finishes) = (ids("s"), ids("f"));
    assert!(!finishes.is_empty(), "a BNDUPD flows to its BNDACK");
    assert!(finishes.iter().all(|id| starts.contains(id)));
    assert!(
        events.iter().any(|e| e["ph"] == "i" && e["s"] == "g"),
        "faults"
    );
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn report_refuses_a_missing_or_bad_trace_with_exit_2() {
    let d = temp_dir("bad");
    std::fs::create_dir_all(&d).unwrap();
    let r = dhcpfo(&["report", d.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8(r.stderr).unwrap();
    assert!(err.contains("no trace there"), "{err}");
    let bad = d.join("trace.jsonl");
    std::fs::write(&bad, "{\"not\": \"a trace\"}\n").unwrap();
    let r = dhcpfo(&["report", bad.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8(r.stderr).unwrap();
    assert!(err.contains("line 1"), "{err}");
    assert!(!d.join("report.html").exists());
    let _ = std::fs::remove_dir_all(d);
}
