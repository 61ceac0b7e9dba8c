//! The shipped scenarios, end to end.
//!
//! Goals: every scenario's outcome matches its `expect:`; a run is a pure function of
//! (scenario, seed) — the same seed gives the same trace hash in two runs and in two processes,
//! another seed changes it; `dhcpfo run` writes its files and `dhcpfo replay` reruns a failure
//! exactly. Big scenarios run with fewer clients here to keep CI short.

use std::path::{Path, PathBuf};
use std::process::Command;

use dhcpfo::run::{RunArgs, run_scenario};
use dhcpfo::scenario::{Expect, Scenario};
use dhcpfo::world::{Outcome, World};

fn scenarios() -> Vec<(PathBuf, Scenario)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let list = dhcpfo::run::list_scenarios(&dir);
    assert!(list.len() >= 7, "shipped scenarios: {}", list.len());
    list.into_iter()
        .map(|(p, s)| {
            let mut s = s.unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            // Reduced size for CI: at most 1 000 clients, pool scaled along.
            if s.clients.count > 1000 {
                let ratio = f64::from(s.servers.pool_size) / f64::from(s.clients.count);
                s.clients.count = 1000;
                s.servers.pool_size = (1000.0 * ratio) as u32;
            }
            (p, s)
        })
        .collect()
}

fn hash_of(s: &Scenario, seed: u64) -> (u64, Outcome) {
    let mut w = World::new(s.clone(), seed);
    let outcome = w.run();
    (w.trace.hash(), outcome)
}

#[test]
fn every_shipped_scenario_ends_as_it_expects() {
    for (path, s) in scenarios() {
        let (_, outcome) = hash_of(&s, 1);
        // The property, and for a violation its time: breaking it earlier does not match.
        if let Err(why) = dhcpfo::run::judge_expectation(&s, &outcome) {
            panic!("{}: {why}: {outcome:?}", path.display());
        }
    }
}

/// The catalogued flaw `hot-standby-hoards-backup` (the flaw 4: the secondary never
/// gives BACKUP addresses back) turns the shipped scenario that shows pool balancing at work
/// from a pass into the violation the catalogue names: pool balance.
#[test]
fn the_hoarding_flaw_breaks_pool_balance_in_its_scenario() {
    use dhcpfo_engine::bugs::Bug;
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hot-standby-pool-returns.yaml");
    let mut s = Scenario::load(&path).unwrap();
    assert_eq!(s.expect, Expect::Pass);
    let bug = Bug::HotStandbyHoardsBackup;
    assert_eq!(bug.property(), "pool-balance");
    s.bugs = s.bugs.with(bug);
    for seed in [1, 2] {
        match hash_of(&s, seed).1 {
            Outcome::Violation(v) => {
                assert_eq!(v.property, bug.property(), "seed {seed}: {v:?}");
                assert!(v.detail.contains("the primary has had no address"), "{v:?}");
            }
            other => panic!("seed {seed}: {other:?}"),
        }
    }
}

#[test]
fn arp_probes_contain_every_duplicate_and_each_is_still_reported() {
    // Goal: what partner-down-contained-by-arp-probe.yaml claims. Over whole runs (keep going
    // past the first violation) every violation is a duplicate grant that a probe caught: no
    // client ever uses an address another holds, and none of those grants passes unreported.
    let (_, s) = scenarios()
        .into_iter()
        .find(|(p, _)| p.ends_with("partner-down-contained-by-arp-probe.yaml"))
        .expect("the ARP-probe scenario is shipped");
    for seed in 1..=3 {
        let mut w = World::new(s.clone(), seed);
        w.run_with(true);
        let v = &w.checker.violations;
        assert!(
            !v.is_empty(),
            "seed {seed}: the operator error made no duplicate"
        );
        assert!(
            v.iter().all(|v| v.property == "duplicate-grant-declined"),
            "seed {seed}: {v:?}"
        );
        assert_eq!(w.checker.duplicates_declined as usize, v.len());
    }
}

/// The forge verb's edges. A forgery while the link is down (the primary dropped it at the
/// forgery before, and MS-DHCPF dials again only after a minute) finds no connection and says
/// so in the trace. An unsigned relationship has no digest to check: the correct engine takes
/// a forged release for its partner's word, and the address goes to a second client.
#[test]
fn a_forgery_without_a_connection_is_traced_and_an_unsigned_link_believes_one() {
    use dhcpfo::scenario::{Fault, Node, Span, Verb, Victim};
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/microsoft-dialect-forged-update.yaml");
    let mut s = Scenario::load(&path).unwrap();
    let first = s.faults[0].at.0;
    s.faults.insert(
        1,
        Fault::at(
            Span(first + dhcpfo_engine::time::Duration::from_secs(10)),
            Verb::Forge {
                to: Node::Primary,
                release: Victim::Leased,
            },
        ),
    );
    s.validate().unwrap();
    let file = temp_dir("forge-trace");
    let sink = std::fs::File::create(&file).unwrap();
    let trace = dhcpfo_reports::TraceWriter::new(Box::new(sink), dhcpfo_reports::Level::Lean);
    let mut w = World::with_trace(s.clone(), 1, trace);
    assert_eq!(w.run(), Outcome::Pass);
    w.trace.finish().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    let forged: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"verb\":\"forge\""))
        .collect();
    assert_eq!(forged.len(), 4, "{forged:#?}");
    assert!(
        forged[0].contains("signed with the wrong key"),
        "{}",
        forged[0]
    );
    assert!(forged[1].contains("no connection"), "{}", forged[1]);

    let mut unsigned = Scenario::load(&path).unwrap();
    unsigned.servers.shared_secret = None;
    match World::new(unsigned, 1).run() {
        Outcome::Violation(v) => assert_eq!(v.property, "no-duplicate-lease", "{}", v.detail),
        other => panic!("an unsigned link must believe the forgery: {other:?}"),
    }
}

#[test]
fn the_same_seed_gives_the_same_trace_and_another_seed_a_different_one() {
    for (path, s) in scenarios() {
        let (a, _) = hash_of(&s, 7);
        let (b, _) = hash_of(&s, 7);
        let (c, _) = hash_of(&s, 8);
        assert_eq!(a, b, "{}: seed 7 twice", path.display());
        assert_ne!(a, c, "{}: seeds 7 and 8", path.display());
    }
}

fn dhcpfo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dhcpfo"))
        .args(args)
        .output()
        .expect("dhcpfo runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dhcpfo-scen-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn trace_hash_line(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with("trace "))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("a trace line")
        .to_string()
}

#[test]
fn two_processes_agree_byte_for_byte_and_a_failure_replays_exactly() {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/partner-down-while-partitioned.yaml");
    let (d1, d2) = (temp_dir("a"), temp_dir("b"));
    let r1 = dhcpfo(&[
        "run",
        scenario.to_str().unwrap(),
        "--seed",
        "3",
        "--out",
        d1.to_str().unwrap(),
    ]);
    let r2 = dhcpfo(&[
        "run",
        scenario.to_str().unwrap(),
        "--seed",
        "3",
        "--out",
        d2.to_str().unwrap(),
    ]);
    assert_eq!(r1.status.code(), Some(1), "a violation exits 1");
    let (o1, o2) = (
        String::from_utf8(r1.stdout).unwrap(),
        String::from_utf8(r2.stdout).unwrap(),
    );
    assert_eq!(trace_hash_line(&o1), trace_hash_line(&o2));
    let (t1, t2) = (
        std::fs::read(d1.join("trace.jsonl")).unwrap(),
        std::fs::read(d2.join("trace.jsonl")).unwrap(),
    );
    assert_eq!(t1, t2, "byte-identical traces");
    assert!(o1.contains("reproduce: dhcpfo run"), "{o1}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d1.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["outcome"], "violation");
    // The repro file reruns the failure exactly.
    let repro = d1.join("repro.yaml");
    assert!(repro.exists());
    let d3 = temp_dir("c");
    let r3 = dhcpfo(&[
        "replay",
        repro.to_str().unwrap(),
        "--out",
        d3.to_str().unwrap(),
    ]);
    assert_eq!(r3.status.code(), Some(1));
    assert_eq!(
        trace_hash_line(&String::from_utf8(r3.stdout).unwrap()),
        trace_hash_line(&o1)
    );
    assert_eq!(std::fs::read(d3.join("trace.jsonl")).unwrap(), t1);
    assert_eq!(
        std::fs::read(d3.join("messages.jsonl")).unwrap(),
        std::fs::read(d1.join("messages.jsonl")).unwrap(),
        "the messages of a replay are the same too"
    );
    for f in ["report.html", "summary.json", "trace.perfetto.json"] {
        assert_eq!(
            std::fs::read(d3.join(f)).unwrap(),
            std::fs::read(d1.join(f)).unwrap(),
            "the replay's {f} is byte-identical to the run's"
        );
    }
    for d in [d1, d2, d3] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// A full trace (every message) is the lean trace plus the messages: the same hash, the same
/// lean lines in the same order, and the messages about a violation that `messages.jsonl`
/// holds are among its lines; a replay with `--full-trace` regenerates the same full trace.
#[test]
fn a_full_trace_is_the_lean_trace_plus_every_message_with_the_same_hash() {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/partner-down-while-partitioned.yaml");
    let (lean, full, again) = (temp_dir("lean"), temp_dir("full"), temp_dir("again"));
    let run = |d: &Path, extra: &[&str]| {
        let mut args = vec!["run", scenario.to_str().unwrap(), "--seed", "2", "--out"];
        args.push(d.to_str().unwrap());
        args.extend_from_slice(extra);
        String::from_utf8(dhcpfo(&args).stdout).unwrap()
    };
    let (o1, o2) = (run(&lean, &[]), run(&full, &["--full-trace"]));
    assert_eq!(trace_hash_line(&o1), trace_hash_line(&o2));
    let read = |d: &Path, f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    let (lean_text, full_text) = (read(&lean, "trace.jsonl"), read(&full, "trace.jsonl"));
    let kind = |l: &str| serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"].clone();
    let message = |l: &&str| {
        matches!(
            kind(l).as_str(),
            Some("dhcp" | "failover" | "conn_open" | "conn_close")
        )
    };
    let full_lean: Vec<&str> = full_text.lines().filter(|l| !message(l)).collect();
    let lean_lines: Vec<&str> = lean_text.lines().collect();
    assert_eq!(full_lean.len(), lean_lines.len());
    assert!(lean_lines[0].contains("\"level\":\"lean\""));
    assert!(full_lean[0].contains("\"level\":\"full\""));
    assert_eq!(full_lean[1..], lean_lines[1..], "the same lean lines");
    assert!(full_text.lines().filter(message).count() > 500);
    assert!(!lean_text.lines().any(|l| message(&l)));
    for m in read(&lean, "messages.jsonl").lines() {
        assert!(
            full_text.lines().any(|l| l == m),
            "{m} is in the full trace"
        );
    }
    // The replay of the lean run's repro regenerates the full trace.
    let r = dhcpfo(&[
        "replay",
        lean.join("repro.yaml").to_str().unwrap(),
        "--full-trace",
        "--out",
        again.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8(r.stdout).unwrap();
    assert!(stdout.contains("reproduced exactly"), "{stdout}");
    assert_eq!(read(&again, "trace.jsonl"), full_text);
    // A window keeps the messages sent inside it, and only those.
    let window = temp_dir("window");
    let r = dhcpfo(&[
        "replay",
        lean.join("repro.yaml").to_str().unwrap(),
        "--window",
        "20m..21m",
        "--out",
        window.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8(r.stdout)
            .unwrap()
            .contains("reproduced exactly")
    );
    let inside: Vec<String> = full_text
        .lines()
        .filter(|l| {
            let t = serde_json::from_str::<serde_json::Value>(l).unwrap()["t_ms"]
                .as_u64()
                .unwrap();
            !message(l) || (1_200_000..=1_260_000).contains(&t)
        })
        .map(str::to_string)
        .collect();
    let windowed = read(&window, "trace.jsonl");
    assert!(windowed.lines().filter(message).count() > 0);
    assert_eq!(windowed.lines().collect::<Vec<_>>(), inside);
    for d in [lean, full, again, window] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn every_shipped_scenario_gives_byte_identical_traces_in_two_processes() {
    for (path, s) in scenarios() {
        let mut args: Vec<String> = vec![
            "run".into(),
            path.to_str().unwrap().into(),
            "--seed".into(),
            "5".into(),
        ];
        // The reduced size the in-process tests use (a swarm draws its own, and refuses them).
        if s.swarm.is_none() {
            args.extend(["--set".into(), format!("clients.count={}", s.clients.count)]);
            args.extend([
                "--set".into(),
                format!("servers.pool_size={}", s.servers.pool_size),
            ]);
        }
        let mut traces = Vec::new();
        for run in ["x", "y"] {
            let d = temp_dir(&format!("{}-{run}", s.name));
            let mut a = args.clone();
            a.extend(["--out".into(), d.to_str().unwrap().into()]);
            let r = dhcpfo(&a.iter().map(String::as_str).collect::<Vec<_>>());
            assert!(
                matches!(r.status.code(), Some(0 | 1)),
                "{}: {:?}",
                path.display(),
                r
            );
            traces.push(std::fs::read(d.join("trace.jsonl")).unwrap());
            let _ = std::fs::remove_dir_all(d);
        }
        assert_eq!(traces[0], traces[1], "{}", path.display());
        assert!(traces[0].len() > 100);
    }
}

#[test]
fn a_passing_run_exits_0_and_bad_input_exits_2() {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hot-standby-primary-crash.yaml");
    let d = temp_dir("pass");
    let r = dhcpfo(&[
        "run",
        scenario.to_str().unwrap(),
        "--seed",
        "1",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(0));
    assert!(!d.join("repro.yaml").exists());
    let _ = std::fs::remove_dir_all(&d);

    let bad = temp_dir("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let f = bad.join("bad.yaml");
    std::fs::write(
        &f,
        "name: x\ndescription: d\nduration: 1h\nexpect: sometimes\nwhy: w\n",
    )
    .unwrap();
    let r = dhcpfo(&["run", f.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    let stderr = String::from_utf8(r.stderr).unwrap();
    assert!(stderr.contains("line 4"), "{stderr}");
    let r = dhcpfo(&["check", f.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&bad);
}

#[test]
fn scenarios_lists_every_shipped_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let r = dhcpfo(&["scenarios", dir.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0));
    let out = String::from_utf8(r.stdout).unwrap();
    assert!(out.contains("hot-standby-primary-crash.yaml"));
    assert!(!out.contains("INVALID"));
}

#[test]
fn run_report_carries_the_hash() {
    let (_, s) = scenarios().into_iter().next().unwrap();
    let d = temp_dir("report");
    let args = RunArgs {
        seed: 1,
        out: Some(d.clone()),
        reproduce: "test".into(),
        keep_going: false,
        pcap: false,
        full_trace: false,
        window: None,
    };
    let mut t = 0.0;
    let mut wall = || {
        t += 1.0;
        t
    };
    let (code, report) = run_scenario(
        s.clone(),
        &args,
        &mut wall,
        &mut Vec::new(),
        &mut Vec::new(),
    );
    let report = report.unwrap();
    assert_eq!(report.trace_hash, hash_of(&s, 1).0);
    assert!(code <= 1);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn a_simulated_run_writes_a_pcap_our_decoder_reads_and_verifies() {
    // Goal: with --pcap the run's packets land in run.pcap; `dhcpfo decode --verify` reads every
    // DHCP and failover message of it and re-encodes each failover message byte for byte, and
    // the counts agree with the run's.
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hot-standby-primary-crash.yaml");
    let d = temp_dir("pcap");
    let r = dhcpfo(&[
        "run",
        scenario.to_str().unwrap(),
        "--seed",
        "2",
        "--set",
        "clients.count=30",
        "--pcap",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(0));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap();
    let pcap = d.join("run.pcap");
    let r = dhcpfo(&["decode", "--verify", pcap.to_str().unwrap()]);
    let stderr = String::from_utf8(r.stderr).unwrap();
    assert_eq!(r.status.code(), Some(0), "{stderr}");
    let failover = summary["failover_messages"].as_u64().unwrap();
    let dhcp = summary["dhcp_messages"].as_u64().unwrap();
    assert!(
        stderr.contains(&format!("{failover} failover messages")),
        "{stderr} vs {failover}"
    );
    assert!(
        stderr.contains(&format!("{dhcp} DHCP messages")),
        "{stderr} vs {dhcp}"
    );
    let _ = std::fs::remove_dir_all(d);
}

/// A violation's story names the messages that made it: the replay that follows its address
/// and clients writes them to `messages.jsonl`, in time order, ending with the ACK that gave
/// the second client an address the first still held; the summary shows the last of them.
#[test]
fn a_violation_comes_with_the_messages_that_led_to_it() {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/partner-down-while-partitioned.yaml");
    let d = temp_dir("messages");
    let r = dhcpfo(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(1));
    let stdout = String::from_utf8(r.stdout).unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap();
    let v = &summary["violation"];
    let address = v["addresses"][0]
        .as_str()
        .expect("the violation names its address");
    let clients: Vec<u64> = v["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    let text = std::fs::read_to_string(d.join("messages.jsonl")).unwrap();
    let messages: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(v["messages"].as_u64(), Some(messages.len() as u64));
    let times: Vec<u64> = messages
        .iter()
        .map(|m| m["t_ms"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    let at = summary["violation"]["at_ms"].as_u64().unwrap();
    let last_ack = messages
        .iter()
        .rev()
        .find(|m| m["msg"] == "ACK" && m["t_ms"].as_u64().unwrap() <= at)
        .expect("an ACK before the violation");
    assert_eq!(last_ack["kind"], "dhcp");
    assert_eq!(last_ack["address"], address);
    let to_client = format!("client {}", clients[0]);
    assert_eq!(last_ack["to"], to_client.as_str(), "{last_ack}");
    // Failover traffic is part of the story too: the handshake at least.
    assert!(messages.iter().any(|m| m["kind"] == "failover"));
    // The story on stdout is a timeline: the ACK is one of its lines.
    assert!(
        stdout
            .lines()
            .any(|l| l.contains(&format!("-> {to_client} ACK")) && l.contains(address)),
        "{stdout}"
    );
    assert!(stdout.contains("messages about it"), "{stdout}");
    let _ = std::fs::remove_dir_all(d);
}

/// A partitioned run's capture, read back frame by frame: every client frame leaves from the
/// client's hardware address (and a RELEASE or RENEW from its own IP), every reply to a client
/// goes to it; every TCP acknowledgement names bytes its peer sent at least a link delay before
/// and covers each message when it arrives; a message the cut swallowed is retransmitted with
/// the same sequence number and never acknowledged; `decode --verify` still reads it all.
#[test]
fn a_partitioned_runs_capture_shows_client_macs_real_acks_and_retransmissions() {
    use dhcpfo::capture::pcap::LINKTYPE_ETHERNET;
    use dhcpfo::capture::{Transport, dissect_frame};
    use dhcpfo_engine::wire::dhcp::{DhcpMessage, Op};
    use std::collections::BTreeMap;
    use std::net::SocketAddrV4;

    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/partner-down-while-partitioned.yaml");
    let d = temp_dir("pcap-partition");
    let r = dhcpfo(&[
        "run",
        scenario.to_str().unwrap(),
        "--seed",
        "1",
        "--pcap",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert!(matches!(r.status.code(), Some(0 | 1)), "{r:?}");
    let trace = dhcpfo_reports::Trace::load(&d.join("trace.jsonl")).unwrap();
    let (mut delay_ms, mut swallowed) = (None, Vec::new());
    for rec in &trace.records {
        if let dhcpfo_reports::Event::Failover(m) = &rec.event {
            if m.blackholed {
                swallowed.push(m.bytes.clone());
            } else if let Some(at) = m.delivered_ms {
                delay_ms.get_or_insert(at - rec.t_ms);
            }
        }
    }
    let delay_ms = delay_ms.expect("a delivered failover message");
    assert!(!swallowed.is_empty(), "the cut swallows messages");

    let bytes = std::fs::read(d.join("run.pcap")).unwrap();
    let capture = dhcpfo::capture::read(&bytes).unwrap();
    let (mut client_frames, mut replies) = (0, 0);
    // Per direction (src, dst): (time, seq, ack, flags, payload) of every TCP segment.
    type Seg = (u64, u32, u32, dhcpfo::capture::TcpFlags, Vec<u8>);
    let mut segments: BTreeMap<(SocketAddrV4, SocketAddrV4), Vec<Seg>> = BTreeMap::new();
    for rec in &capture.records {
        let frame = rec.data;
        let (eth_dst, eth_src) = (&frame[..6], &frame[6..12]);
        let p = dissect_frame(LINKTYPE_ETHERNET, frame).unwrap();
        match p.transport {
            Transport::Udp {
                sport,
                dport,
                payload,
            } => {
                let m = DhcpMessage::parse(payload).unwrap();
                if !m.giaddr.is_unspecified() {
                    continue;
                }
                match m.op {
                    Op::Request => {
                        client_frames += 1;
                        assert_eq!(eth_src, m.client_hw_addr(), "{sport}->{dport} {m:?}");
                        if !m.ciaddr.is_unspecified() {
                            assert_eq!(p.src, m.ciaddr, "from the client's own address");
                        }
                    }
                    _ if !p.dst.is_broadcast() => {
                        replies += 1;
                        assert_eq!(eth_dst, m.client_hw_addr());
                    }
                    _ => assert_eq!(eth_dst, &[0xff; 6]),
                }
            }
            Transport::Tcp(s) => segments
                .entry((
                    SocketAddrV4::new(p.src, s.sport),
                    SocketAddrV4::new(p.dst, s.dport),
                ))
                .or_default()
                .push((
                    rec.ts_ns / 1_000_000,
                    s.seq,
                    s.ack,
                    s.flags,
                    s.payload.to_vec(),
                )),
        }
    }
    assert!(
        client_frames > 100 && replies > 100,
        "{client_frames} {replies}"
    );

    let ack = dhcpfo::capture::TcpFlags::ACK;
    let mut retransmitted = 0;
    for ((src, dst), mine) in &segments {
        let theirs = &segments[&(*dst, *src)];
        // The peer's stream: its SYN's number + 1, then what each data segment ends at.
        let peer_isn = theirs[0].1.wrapping_add(1);
        let mut last_ack = None;
        for &(t, seq, ack_no, flags, ref data) in mine {
            if !flags.contains(ack) {
                continue;
            }
            // An acknowledgement names where a segment the peer sent a link delay before ends.
            let named = ack_no == peer_isn
                || theirs.iter().any(|&(ts, s, _, f, ref d)| {
                    let end = s
                        .wrapping_add(d.len() as u32)
                        .wrapping_add(u32::from(f.contains(dhcpfo::capture::TcpFlags::SYN)))
                        .wrapping_add(u32::from(f.contains(dhcpfo::capture::TcpFlags::FIN)));
                    end == ack_no && ts + delay_ms <= t
                });
            assert!(named, "{src} -> {dst} at {t} ms acknowledges {ack_no}");
            if let Some(prev) = last_ack {
                assert!(ack_no.wrapping_sub(prev) < 1 << 30, "never backwards");
            }
            last_ack = Some(ack_no);
            if data.is_empty() {
                continue;
            }
            let end = seq.wrapping_add(data.len() as u32);
            let copies: Vec<u64> = mine
                .iter()
                .filter(|m| m.1 == seq && !m.4.is_empty())
                .map(|m| m.0)
                .collect();
            let acked_at = theirs
                .iter()
                .find(|f| f.3.contains(ack) && end.wrapping_sub(f.2) as i32 <= 0)
                .map(|f| f.0);
            if copies.len() > 1 {
                if copies[0] == t {
                    retransmitted += 1;
                }
                // Retransmitted because nothing acknowledged it while the cut lasted.
                let last_copy = copies[copies.len() - 1];
                assert!(acked_at.is_none_or(|a| a > last_copy), "{src} seq {seq}");
            } else if let Some(a) = acked_at {
                // Sent once: acknowledged when it arrived, a link delay later (unless a cut or
                // a close swallowed it).
                assert_eq!(a, t + delay_ms, "{src} seq {seq} at {t}");
            }
        }
    }
    assert!(retransmitted > 0, "a swallowed message is retransmitted");

    let r = dhcpfo(&["decode", "--verify", d.join("run.pcap").to_str().unwrap()]);
    let stderr = String::from_utf8(r.stderr).unwrap();
    assert_eq!(r.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("0 failed to decode, 0 stream errors"),
        "{stderr}"
    );
    assert!(stderr.contains(", 0 differ"), "{stderr}");
    let _ = std::fs::remove_dir_all(d);
}

/// Faults triggered by events (issue 15): a crash on entering RECOVER-WAIT strikes in
/// RECOVER-WAIT, at the instant the state is entered, and its `for` restarts the server; a cut
/// right after a DHCPACK strikes before the BNDUPD carrying it leaves (the update is
/// blackholed); a trigger that never fires is said so at the end of the trace.
#[test]
fn a_triggered_fault_strikes_at_its_event_and_one_that_never_fires_is_said_so() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/restart-with-lost-database.yaml");
    let mut s = Scenario::load(&path).unwrap();
    let text = "\
- { when: { server: secondary, enters: recover-wait, from: 1h10m }, crash: secondary, for: 30s }
- { when: { server: primary, after: dhcpack, from: 2h }, partition: servers, for: 1m }
- { when: { server: primary, enters: conflict-done, until: 2h }, crash: primary, for: 1m }
";
    let extra: Vec<dhcpfo::scenario::Fault> = serde_yaml::from_str(text).unwrap();
    s.faults.extend(extra);
    s.validate().unwrap();
    let file = temp_dir("triggered-trace");
    let sink = std::fs::File::create(&file).unwrap();
    let trace = dhcpfo_reports::TraceWriter::new(Box::new(sink), dhcpfo_reports::Level::Full);
    let mut w = World::with_trace(s, 1, trace);
    assert_eq!(w.run(), Outcome::Pass);
    w.trace.finish().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let field = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    // The secondary's state when the triggered crash strikes: the last it entered.
    let crash = lines
        .iter()
        .position(|v| {
            field(v, "kind") == "fault"
                && field(v, "verb") == "crash"
                && field(v, "detail").starts_with("triggered: the secondary entered recover-wait")
        })
        .expect("the triggered crash struck");
    let state_then = lines[..crash]
        .iter()
        .rev()
        .find(|v| field(v, "kind") == "state" && field(v, "server") == "secondary")
        .unwrap();
    assert_eq!(field(state_then, "to"), "recover-wait");
    assert_eq!(state_then["t_ms"], lines[crash]["t_ms"]);
    let restart = lines[crash..]
        .iter()
        .find(|v| field(v, "kind") == "fault" && field(v, "verb") == "restart")
        .unwrap();
    assert_eq!(
        restart["t_ms"].as_u64().unwrap(),
        lines[crash]["t_ms"].as_u64().unwrap() + 30_000
    );
    // The cut strikes right after the DHCPACK (the event before it, at the same instant), so
    // nothing the primary sends after it, its BNDUPD included, crosses until the heal.
    let cut = lines
        .iter()
        .position(|v| field(v, "kind") == "fault" && field(v, "verb") == "partition")
        .expect("the triggered cut struck");
    assert!(field(&lines[cut], "detail").contains("DHCPACK of"));
    let ack = &lines[cut - 1];
    assert_eq!(
        (field(ack, "kind"), field(ack, "from"), field(ack, "msg")),
        ("dhcp".into(), "primary".into(), "ACK".into())
    );
    assert_eq!(ack["t_ms"], lines[cut]["t_ms"]);
    let heal = cut
        + lines[cut..]
            .iter()
            .position(|v| field(v, "kind") == "fault" && field(v, "verb") == "heal")
            .unwrap();
    assert!(
        lines[cut..heal]
            .iter()
            .filter(|v| field(v, "kind") == "failover" && field(v, "from") == "primary")
            .all(|v| v["blackholed"] == true)
    );
    // Never fired: said at the end, with no window opened.
    let never = lines
        .iter()
        .find(|v| field(v, "kind") == "fault" && field(v, "detail").starts_with("never fired"))
        .unwrap();
    assert!(field(never, "text").contains("enters: conflict-done"));
    assert!(never.get("window").is_none());
}
