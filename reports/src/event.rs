//! The trace's event model: one typed, versioned record per line of `trace.jsonl`.
//!
//! Every line is one [`Record`]: `{"t_ms": …, "kind": "…", …}`. `t_ms` is milliseconds of
//! true (simulator) time since the run's start; the absolute start is written once, in the
//! [`Header`] (`epoch_unix_ms`). Every other time in an event is milliseconds since the start
//! too, in true time: the simulator converts each time a server or client wrote with that
//! node's clock offset at the moment it wrote it. Servers, relationships and segments are
//! named as the scenario names them, so several servers and several relationships per server
//! fit without a schema change. `reports/SCHEMA.md` documents every field; [`SCHEMA`] is
//! raised with every change a reader must know about.
//!
//! Events come in two classes. **Lean** events (everything but the messages) are always
//! written and make the trace hash. **Message** events (every DHCP datagram and failover
//! message, with its bytes, and the failover connections they travel on) are written only at
//! [`Level::Full`]; a lean run regenerates them by replaying its seed, and the hash does not
//! cover them, so a full replay must end with the lean run's hash.

use serde::{Deserialize, Serialize};

/// The schema version, written in every trace's header.
pub const SCHEMA: u32 = 2;

/// One line of the trace: an event at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Milliseconds since the run's start, in true time.
    pub t_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// How much a trace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Everything but the messages.
    #[default]
    Lean,
    /// Every message too, with its bytes.
    Full,
}

/// Everything a trace records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The first line: what ran.
    Run(Header),
    /// A server started (at the run's start, or a restart after a crash).
    Boot {
        /// The server.
        server: String,
    },
    /// A server could not start; it stays down.
    BootFailed {
        /// The server.
        server: String,
        /// Why.
        error: String,
    },
    /// A fault was applied (scheduled by the scenario or drawn by its nemesis).
    Fault(Fault),
    /// A server's failover state changed in a relationship.
    State {
        /// The server.
        server: String,
        /// The relationship.
        relationship: String,
        /// The state left (`STARTUP` and so on, as draft-12 names them).
        from: String,
        /// The state entered.
        to: String,
    },
    /// A binding in a server's database changed its state or its client.
    Binding {
        /// The server whose database it is.
        server: String,
        /// The address.
        address: String,
        /// The binding state (`FREE`, `ACTIVE`, `BACKUP`…).
        state: String,
        /// The client it is bound to, by hardware address, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chaddr: Option<String>,
        /// When the lease ends, in true time (ACTIVE bindings).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ends_ms: Option<u64>,
    },
    /// A client accepted a lease: it believes it holds the address until `until_ms`.
    Lease {
        /// The client's number.
        client: u32,
        /// The address.
        address: String,
        /// When the client believes the lease ends, in true time.
        until_ms: u64,
    },
    /// A client gave up an address.
    Lost {
        /// The client's number.
        client: u32,
        /// The address.
        address: String,
        /// Why (`Released`, `Expired`, `Nak`, `Declined`…).
        why: String,
    },
    /// A client's ARP probe found an address it was offered already in use, and it declined.
    Declined {
        /// The client that probed.
        client: u32,
        /// The address.
        address: String,
        /// The client that already held it.
        holder: u32,
    },
    /// A DHCP datagram was sent (full traces only).
    Dhcp(DhcpMessage),
    /// A failover message was sent (full traces only).
    Failover(FailoverMessage),
    /// A failover connection was established (full traces only).
    ConnOpen {
        /// The connection's number, unique in the run.
        conn: u64,
        /// The server that dialed.
        dialer: String,
        /// The server that accepted.
        acceptor: String,
        /// The dialer's address and port.
        from: String,
        /// The acceptor's address and port.
        to: String,
    },
    /// A server closed a failover connection, or crashed with it open (full traces only).
    ConnClose {
        /// The connection.
        conn: u64,
        /// The server that closed it.
        by: String,
        /// When the close (a TCP FIN) reached the partner's host, in true time; absent if it
        /// never did (and in traces written before the field).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivered_ms: Option<u64>,
        /// Whether a partition swallowed the close on its way.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        blackholed: bool,
    },
    /// Counts at an instant, sampled at a fixed interval (`Header::sample_ms`).
    Counts(Counts),
    /// A property was violated.
    Violation(Violation),
    /// A property's final status (one per property, at the end).
    Property(Property),
    /// The last line: how the run ended.
    End(End),
}

impl Event {
    /// Whether the event is a message event, written only at [`Level::Full`] and left out of
    /// the hash.
    pub fn is_message(&self) -> bool {
        matches!(
            self,
            Event::Dhcp(_) | Event::Failover(_) | Event::ConnOpen { .. } | Event::ConnClose { .. }
        )
    }

    /// The event's kind, as its line names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Run(_) => "run",
            Event::Boot { .. } => "boot",
            Event::BootFailed { .. } => "boot_failed",
            Event::Fault(_) => "fault",
            Event::State { .. } => "state",
            Event::Binding { .. } => "binding",
            Event::Lease { .. } => "lease",
            Event::Lost { .. } => "lost",
            Event::Declined { .. } => "declined",
            Event::Dhcp(_) => "dhcp",
            Event::Failover(_) => "failover",
            Event::ConnOpen { .. } => "conn_open",
            Event::ConnClose { .. } => "conn_close",
            Event::Counts(_) => "counts",
            Event::Violation(_) => "violation",
            Event::Property(_) => "property",
            Event::End(_) => "end",
        }
    }
}

/// What ran: the first line of every trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The schema version ([`SCHEMA`]).
    pub schema: u32,
    /// The dhcpfo version that wrote it.
    pub dhcpfo_version: String,
    /// The scenario's name.
    pub scenario: String,
    /// Its one-line description.
    pub description: String,
    /// The seed.
    pub seed: u64,
    /// How much the trace holds.
    pub level: Level,
    /// The run's start, as milliseconds since the Unix epoch: `t_ms` 0.
    pub epoch_unix_ms: u64,
    /// How long the run is scheduled to last.
    pub duration_ms: u64,
    /// What the scenario expects: `pass`, or `violation of PROPERTY`.
    pub expect: String,
    /// The servers.
    pub servers: Vec<ServerInfo>,
    /// The failover relationships.
    pub relationships: Vec<RelationshipInfo>,
    /// The clients' broadcast segments.
    #[serde(default)]
    pub segments: Vec<SegmentInfo>,
    /// How many clients the scenario starts.
    pub clients: u32,
    /// The catalogued engine bugs switched on (none in a real run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bugs: Vec<String>,
    /// The interval of [`Event::Counts`] samples.
    pub sample_ms: u64,
}

/// A server, as the header lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// Its name.
    pub name: String,
    /// Its address.
    pub address: String,
}

/// A broadcast segment, as the header lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// Its name (`segment 0` holds the servers).
    pub name: String,
    /// Its subnet, `10.1.0.0/16`.
    pub subnet: String,
    /// Its share of the pool, `10.1.1.0-10.1.1.99`.
    pub pool: String,
    /// The relay agent that forwards its clients' broadcasts (none on the servers' own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
}

/// A failover relationship, as the header lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationshipInfo {
    /// Its name (sent in CONNECT).
    pub name: String,
    /// The primary server's name.
    pub primary: String,
    /// The secondary server's name.
    pub secondary: String,
    /// `hot_standby` or `load_balance`.
    pub mode: String,
    /// The maximum client lead time.
    pub mclt_ms: u64,
    /// The failover dialect (`isc` or `microsoft`).
    pub dialect: String,
}

/// A fault, as the trace records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// The verb (`crash`, `restart`, `partition`, `heal`, `admin`, `clock_offset_s`…).
    pub verb: String,
    /// The whole fault as a scenario writes it: `crash: primary, storage: lose_all`.
    pub text: String,
    /// The servers it touches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    /// What it did, when that is more than its text says (a forgery: what it forged, or why
    /// it could not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The window the fault opens or closes, if it has one: a cut until its heal, a server
    /// down until it boots again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<FaultWindow>,
}

/// One end of a fault's window. A window opens at the fault that names it with `opens` and
/// closes at the next event naming the same `key` with `opens` false (a `heal` of the same
/// cut, a `boot` of the crashed server), or at the end of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultWindow {
    /// What the window is about: `cut servers`, `down primary`…
    pub key: String,
    /// Whether this event opens the window (or closes it).
    pub opens: bool,
}

/// A DHCP datagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpMessage {
    /// Who sent it: a server's name, `client N`, or `relay N`.
    pub from: String,
    /// Where it went.
    pub to: String,
    /// The source address and port.
    pub src: String,
    /// The destination address and port.
    pub dst: String,
    /// The client it is from or for, if the simulator knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<u32>,
    /// The DHCP message type (`DISCOVER`, `ACK`…).
    pub msg: String,
    /// The transaction ID.
    pub xid: u32,
    /// The client's hardware address.
    pub chaddr: String,
    /// The address it names: `yiaddr` in a reply, the requested or current address in a
    /// request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The lease time a reply grants, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_s: Option<u32>,
    /// The datagram's bytes, in hex.
    pub bytes: String,
}

/// A failover message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverMessage {
    /// The relationship.
    pub relationship: String,
    /// The sending server.
    pub from: String,
    /// The receiving server.
    pub to: String,
    /// The connection it travels on.
    pub conn: u64,
    /// The message type (`BNDUPD`, `BNDACK`, `STATE`…).
    pub msg: String,
    /// The transaction ID.
    pub xid: u32,
    /// The bindings it carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<CarriedBinding>,
    /// The reject reason of a BNDACK that refuses, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject: Option<u8>,
    /// When it reached the partner's host, in true time (whether a server still read the
    /// connection then or not); absent if it never did (and in traces written before the
    /// field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_ms: Option<u64>,
    /// Whether a partition swallowed it on its way: the partner never received it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blackholed: bool,
    /// The message's bytes, in hex.
    pub bytes: String,
}

/// A binding a failover message carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedBinding {
    /// The address.
    pub address: String,
    /// The binding state, read with the relationship's dialect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The client's hardware address, if it carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaddr: Option<String>,
    /// The potential expiration time, in true time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pet_ms: Option<u64>,
    /// The lease's end, in true time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_ms: Option<u64>,
}

/// Counts at one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Per server, in the header's order.
    pub servers: Vec<ServerCounts>,
    /// Clients holding an unexpired lease.
    pub clients_bound: u32,
    /// Running clients that want an address and hold none.
    pub clients_waiting: u32,
    /// DHCP messages clients sent since the last sample.
    pub dhcp_requests: u64,
    /// DHCP messages servers sent since the last sample.
    pub dhcp_replies: u64,
    /// Failover messages sent since the last sample.
    pub failover_messages: u64,
}

/// One server's counts at an instant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerCounts {
    /// The server.
    pub server: String,
    /// Whether it is running.
    pub up: bool,
    /// ACTIVE bindings in its database.
    pub active: u32,
    /// FREE bindings.
    pub free: u32,
    /// BACKUP bindings.
    pub backup: u32,
    /// Bindings in any other state (EXPIRED, RELEASED, ABANDONED, RESET…).
    pub other: u32,
    /// Binding changes its partner has not acknowledged yet.
    pub unacked: u32,
}

/// A violated property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The property (`no-duplicate-lease`, `mclt`…).
    pub property: String,
    /// What broke, in one sentence.
    pub detail: String,
    /// The addresses involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// The clients involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<u32>,
}

/// A property's final status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    /// The property.
    pub property: String,
    /// `held`, `violated` or `not judged`.
    pub status: String,
    /// What it was judged on, or why it was not judged.
    pub basis: String,
}

/// How a run ended, and what it counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    /// `pass`, `violation` or `unfinished`.
    pub outcome: String,
    /// Why an unfinished run did not finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<String>,
    /// Whether the outcome is what the scenario expects.
    pub matches: bool,
    /// How it differs from what the scenario expects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<String>,
    /// Simulator events processed.
    pub events: u64,
    /// DHCP messages sent.
    pub dhcp_messages: u64,
    /// Failover messages sent.
    pub failover_messages: u64,
    /// Faults applied.
    pub faults: u64,
    /// Leases clients accepted.
    pub leases: u64,
    /// ACKs judged against the MCLT rule.
    pub mclt_checked: u64,
    /// Leases checked in restarted servers' databases.
    pub durable_checked: u64,
    /// Duplicate grants a client's ARP probe caught.
    pub duplicates_declined: u64,
    /// Binding updates the partner rejected, by reject reason (`16 outdated binding info…`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub rejects: std::collections::BTreeMap<String, u64>,
}

/// A header for tests: a pair `primary`/`secondary`, `duration_ms` long, sampled every second.
#[cfg(test)]
pub(crate) fn test_header(duration_ms: u64) -> Header {
    Header {
        schema: SCHEMA,
        dhcpfo_version: "0".into(),
        scenario: "s".into(),
        description: "d".into(),
        seed: 1,
        level: Level::Lean,
        epoch_unix_ms: 0,
        duration_ms,
        expect: "pass".into(),
        servers: ["primary", "secondary"]
            .map(|n| ServerInfo {
                name: n.into(),
                address: "10.0.0.1".into(),
            })
            .to_vec(),
        relationships: Vec::new(),
        segments: Vec::new(),
        clients: 2,
        bugs: Vec::new(),
        sample_ms: 1000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_flat_object_with_its_time_and_kind_first() {
        let r = Record {
            t_ms: 4_800_007,
            event: Event::Lease {
                client: 3,
                address: "10.0.0.9".into(),
                until_ms: 8_400_007,
            },
        };
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(
            line,
            r#"{"t_ms":4800007,"kind":"lease","client":3,"address":"10.0.0.9","until_ms":8400007}"#
        );
        assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), r);
        assert_eq!(r.event.kind(), "lease");
    }

    #[test]
    fn only_messages_are_message_events() {
        let m = Event::ConnClose {
            conn: 1,
            by: "primary".into(),
            delivered_ms: Some(2),
            blackholed: false,
        };
        assert!(m.is_message());
        assert!(
            !Event::Boot {
                server: "primary".into()
            }
            .is_message()
        );
    }
}
