//! The report from small hand-written traces: what each part reads and draws.

use super::*;
use crate::event::{
    CarriedBinding, DhcpMessage, End, FailoverMessage, Fault, FaultWindow, Header, Level, Property,
    RelationshipInfo, ServerInfo, Violation,
};

fn header() -> Header {
    Header {
        schema: crate::SCHEMA,
        dhcpfo_version: "0.1.0".into(),
        scenario: "tiny".into(),
        description: "a <tiny> run".into(),
        seed: 7,
        level: Level::Lean,
        epoch_unix_ms: 0,
        duration_ms: 3_600_000,
        expect: "violation of no-duplicate-lease".into(),
        servers: ["primary", "secondary"]
            .map(|n| ServerInfo {
                name: n.into(),
                address: "10.0.0.1".into(),
            })
            .to_vec(),
        relationships: vec![RelationshipInfo {
            name: "r".into(),
            primary: "primary".into(),
            secondary: "secondary".into(),
            mode: "hot_standby".into(),
            mclt_ms: 300_000,
            dialect: "isc".into(),
        }],
        segments: Vec::new(),
        clients: 2,
        bugs: Vec::new(),
        sample_ms: 60_000,
    }
}

fn rec(t_ms: u64, event: Event) -> Record {
    Record { t_ms, event }
}

fn state(server: &str, from: &str, to: &str) -> Event {
    Event::State {
        server: server.into(),
        relationship: "r".into(),
        from: from.into(),
        to: to.into(),
    }
}

fn fault(text: &str, key: &str, opens: bool) -> Event {
    Event::Fault(Fault {
        verb: "partition".into(),
        text: text.into(),
        servers: vec!["primary".into(), "secondary".into()],
        detail: None,
        window: Some(FaultWindow {
            key: key.into(),
            opens,
        }),
    })
}

fn lease(client: u32, until_ms: u64) -> Event {
    Event::Lease {
        client,
        address: "10.0.1.25".into(),
        until_ms,
    }
}

fn ack(from: &str, client: u32) -> Event {
    Event::Dhcp(DhcpMessage {
        from: from.into(),
        to: format!("client {client}"),
        src: "10.0.0.1:67".into(),
        dst: "10.0.1.25:68".into(),
        client: Some(client),
        msg: "ACK".into(),
        xid: 1,
        chaddr: format!("02:00:00:00:00:{client:02x}"),
        address: Some("10.0.1.25".into()),
        lease_s: Some(300),
        bytes: String::new(),
    })
}

fn update(from: &str, to: &str, msg: &str, xid: u32) -> Event {
    Event::Failover(FailoverMessage {
        relationship: "r".into(),
        from: from.into(),
        to: to.into(),
        conn: 1,
        msg: msg.into(),
        xid,
        bindings: vec![CarriedBinding {
            address: "10.0.1.25".into(),
            state: (msg == "BNDUPD").then(|| "ACTIVE".to_string()),
            chaddr: None,
            pet_ms: None,
            ends_ms: (msg == "BNDUPD").then_some(700_000),
        }],
        reject: None,
        bytes: String::new(),
        delivered_ms: None,
        blackholed: false,
    })
}

/// A run like partner-down-while-partitioned: a cut, PARTNER-DOWN declared on the secondary,
/// and the secondary handing client 2 the address client 1 renewed from the primary.
fn violating() -> Input {
    let v = Violation {
        property: "no-duplicate-lease".into(),
        detail: "client 2 was given 10.0.1.25, which client 1 holds until +20m00.000s".into(),
        addresses: vec!["10.0.1.25".into()],
        clients: vec![2, 1],
    };
    let records = vec![
        rec(
            0,
            Event::Boot {
                server: "primary".into(),
            },
        ),
        rec(
            0,
            Event::Boot {
                server: "secondary".into(),
            },
        ),
        rec(10, state("primary", "startup", "normal")),
        rec(10, state("secondary", "startup", "normal")),
        rec(400_000, lease(1, 700_000)),
        rec(500_000, fault("partition: servers", "cut servers", true)),
        rec(
            530_000,
            state("secondary", "normal", "communications-interrupted"),
        ),
        rec(
            530_000,
            state("primary", "normal", "communications-interrupted"),
        ),
        rec(
            600_000,
            Event::Fault(Fault {
                verb: "admin".into(),
                text: "admin: secondary, command: partner_down".into(),
                servers: vec!["secondary".into()],
                detail: None,
                window: None,
            }),
        ),
        rec(
            600_000,
            state("secondary", "communications-interrupted", "partner-down"),
        ),
        rec(650_000, lease(1, 950_000)),
        rec(900_000, lease(1, 1_200_000)),
        rec(
            1_000_000,
            Event::Binding {
                server: "secondary".into(),
                address: "10.0.1.25".into(),
                state: "ACTIVE".into(),
                chaddr: Some("02:00:00:00:00:02".into()),
                ends_ms: Some(1_300_000),
            },
        ),
        rec(1_000_001, lease(2, 1_300_000)),
        rec(1_000_001, Event::Violation(v)),
        rec(
            1_000_001,
            Event::Property(Property {
                property: "no-duplicate-lease".into(),
                status: "violated".into(),
                basis: "1 violation(s)".into(),
            }),
        ),
        rec(
            1_000_001,
            Event::End(End {
                outcome: "violation".into(),
                matches: true,
                ..End::default()
            }),
        ),
    ];
    let messages = vec![
        rec(400_000, ack("primary", 1)),
        rec(400_000, update("primary", "secondary", "BNDUPD", 9)),
        rec(400_002, update("secondary", "primary", "BNDACK", 9)),
        rec(900_000, ack("primary", 1)),
        rec(900_000, update("primary", "secondary", "BNDUPD", 10)),
        rec(1_000_000, ack("secondary", 2)),
    ];
    let mut selection = Selection::new(crate::story::Subjects {
        addresses: vec!["10.0.1.25".into()],
        clients: vec![2, 1],
    });
    let trace = Trace {
        header: header(),
        records: records.into_iter().filter(|r| selection.keep(r)).collect(),
    };
    Input {
        trace,
        messages,
        selection,
    }
}

#[test]
fn the_page_leads_with_the_verdict_and_names_who_broke_which_rule() {
    let page = render(&violating(), Some("dhcpfo run tiny.yaml --seed 7"));
    let verdict = page.find("VIOLATION").unwrap();
    let bands = page.find("id=\"bands\"").unwrap();
    assert!(verdict < bands, "the verdict comes first");
    let what = &page[page.find("id=\"what\"").unwrap()..bands];
    assert!(what.contains("<b>secondary broke it</b>"), "{what}");
    assert!(
        what.contains("in partner-down (since +10m00.000s"),
        "{what}"
    );
    assert!(
        what.contains("admin: secondary, command: partner_down"),
        "{what}"
    );
    assert!(
        what.contains("ACKed 10.0.1.25 to <b>client 2</b> at +16m40.000s"),
        "{what}"
    );
    assert!(
        what.contains("<b>client 1</b> still held it until +20m00.000s"),
        "{what}"
    );
    assert!(what.contains("from primary's ACK at +15m00.000s"), "{what}");
    // What the secondary knew: the update it acknowledged, and the one that never came.
    assert!(
        what.contains("acknowledged (at +6m40.002s) said ACTIVE"),
        "{what}"
    );
    assert!(
        what.contains("primary's update of +15m00.000s (ACTIVE) never reached it"),
        "{what}"
    );
    assert!(what.contains("primary was not down"), "{what}");
    assert!(page.contains("<code>dhcpfo run tiny.yaml --seed 7</code>"));
    assert!(page.contains("a &lt;tiny&gt; run"), "text is escaped");
    assert!(page.contains("As the scenario expects"));
}

#[test]
fn the_page_draws_bands_ownership_and_the_sequence_and_embeds_its_data() {
    let page = render(&violating(), None);
    assert_eq!(
        page.matches("<svg").count(),
        3,
        "bands, ownership, sequence"
    );
    assert!(
        page.contains("No counts samples"),
        "no samples, no count charts"
    );
    for text in [
        "partner-down",
        "comm-int",
        "primary",
        "secondary",
        "partition: servers",
    ] {
        assert!(page.contains(text), "{text}");
    }
    assert!(page.contains("client 1") && page.contains("client 2"));
    assert!(
        page.contains("never acknowledged"),
        "the lost update is drawn hollow"
    );
    assert!(page.contains("id=\"scrub-data\"") && page.contains("id=\"log-data\""));
    assert!(page.contains("document.body.dataset.ok='1'"));
    for fetch in ["src=\"http", "href=\"http", "<link", "@import", "fetch("] {
        assert!(!page.contains(fetch), "nothing is fetched: {fetch}");
    }
}

#[test]
fn bands_follow_states_crashes_and_fault_windows() {
    let records = vec![
        rec(
            0,
            Event::Boot {
                server: "primary".into(),
            },
        ),
        rec(5, state("primary", "startup", "normal")),
        rec(100, fault("crash: primary", "down primary", true)),
        rec(
            300,
            Event::Boot {
                server: "primary".into(),
            },
        ),
        rec(400, fault("partition: servers", "cut servers", true)),
    ];
    let trace = Trace {
        header: header(),
        records,
    };
    let b = bands::Bands::of(&trace, 1000);
    let spans: Vec<(u64, u64, &str)> = b.rows[0]
        .spans
        .iter()
        .map(|(a, z, s)| (*a, *z, s.as_str()))
        .collect();
    assert_eq!(
        spans,
        [
            (0, 5, "startup"),
            (5, 100, "normal"),
            (100, 300, "down"),
            (300, 1000, "startup")
        ]
    );
    assert!(b.rows[1].spans.is_empty(), "the secondary never booted");
    let w: Vec<(u64, u64)> = b.windows.iter().map(|w| (w.from_ms, w.to_ms)).collect();
    assert_eq!(
        w,
        [(100, 300), (400, 1000)],
        "a crash until its boot, a cut until the end"
    );
}

#[test]
fn a_holding_runs_from_its_first_lease_through_renewals_until_it_ends() {
    let records = vec![
        rec(0, lease(1, 100)),
        rec(50, lease(1, 150)),
        rec(200, lease(1, 300)),
        rec(
            250,
            Event::Lost {
                client: 1,
                address: "10.0.1.25".into(),
                why: "Released".into(),
            },
        ),
    ];
    let h = violation::holdings(&records, "10.0.1.25");
    let spans: Vec<(u64, u64, usize)> = h
        .iter()
        .map(|h| (h.from_ms, h.to_ms, h.renewals.len()))
        .collect();
    assert_eq!(spans, [(0, 150, 2), (200, 250, 1)]);
}

#[test]
fn the_selection_bounds_bulky_kinds_and_says_what_it_left_out() {
    let mut s = Selection::new(crate::story::Subjects {
        addresses: vec!["10.0.9.9".into()],
        clients: vec![9],
    });
    let n = LOG_BULK_EVENTS + 10;
    let kept = (0..n).filter(|i| s.keep(&rec(*i, lease(1, 5)))).count() as u64;
    assert_eq!(kept, LOG_BULK_EVENTS);
    assert_eq!(s.left_out.get("lease"), Some(&10));
    assert_eq!(s.leases, n, "every lease is counted, kept or not");
    let about = Record {
        t_ms: 1,
        event: Event::Lease {
            client: 9,
            address: "10.0.9.9".into(),
            until_ms: 5,
        },
    };
    assert!(
        s.keep(&about),
        "events about the subjects have their own bound"
    );
    assert!(s.keep(&rec(2, state("primary", "normal", "partner-down"))));
}

#[test]
fn embedded_json_cannot_close_its_script_element() {
    let v = serde_json::json!(["</script><script>alert(1)</script>"]);
    assert!(!embed_json(&v).contains("</"));
}

#[test]
fn time_axis_ticks_are_round() {
    assert_eq!(
        bands::ticks(0, 3_600_000, 9),
        (0..=6).map(|k| k * 600_000).collect::<Vec<_>>()
    );
    assert_eq!(bands::ticks(91_000, 200_000, 9)[..2], [105_000, 120_000]);
}
