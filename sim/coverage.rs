//! Coverage: what a run, or a sweep of many, reached of the protocol.
//!
//! A run passing says little if it never left NORMAL. [`Coverage`] counts what the world saw:
//! the failover states entered, the state changes (each checked against draft-12's transition
//! table, [`TABLE`]), the reject reasons of BNDACKs, the failover message types sent, and a list
//! of [`Sometimes`] events, situations a good sweep should meet at least once (both servers in
//! PARTNER-DOWN, a conflict resolved, a POOLREQ answered…). Each item carries how often it
//! happened, in how many seeds, and the first seed that reached it, so that it can be replayed.
//!
//! **Invariants.** Coverage is an observer: [`Probe`] is fed by the world's hook lines with what
//! the world sees (outputs of the engines, messages read through the codecs, client events); it
//! never feeds anything back, so no run's outcome or trace hash depends on it. Every collection
//! is ordered (`BTreeMap`), so a run's coverage is a pure function of (scenario, seed), and
//! [`Coverage::merge`] is commutative and associative: a sweep's coverage does not depend on
//! `--jobs` or on the order its seeds finish in, and the `coverage.json` files of a sweep's
//! shards add up to the whole range's (`dhcpfo coverage DIR/coverage.json…`).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::Ipv4Addr;

use dhcpfo_engine::failover::state::FoState;
use dhcpfo_engine::lease::BindingState;
use dhcpfo_engine::time::{Duration, Time};
use dhcpfo_engine::wire::dhcp::MessageType as DhcpType;
use dhcpfo_engine::wire::failover::{Dialect, Message, MessageType, RejectReason};
use serde_json::{Value, json};

use crate::client::{Lease, LostReason};

/// Every failover state, in the draft's order (draft-12 §9).
pub const STATES: [FoState; 12] = [
    FoState::Startup,
    FoState::Normal,
    FoState::CommunicationsInterrupted,
    FoState::PartnerDown,
    FoState::PotentialConflict,
    FoState::ResolutionInterrupted,
    FoState::ConflictDone,
    FoState::Recover,
    FoState::RecoverWait,
    FoState::RecoverDone,
    FoState::Paused,
    FoState::Shutdown,
];

/// Every failover message type the draft defines (draft-12 §6.2), in wire order.
pub const MESSAGES: [MessageType; 12] = [
    MessageType::PoolReq,
    MessageType::PoolResp,
    MessageType::BndUpd,
    MessageType::BndAck,
    MessageType::Connect,
    MessageType::ConnectAck,
    MessageType::UpdReqAll,
    MessageType::UpdDone,
    MessageType::UpdReq,
    MessageType::State,
    MessageType::Contact,
    MessageType::Disconnect,
];

/// One row of the transition table: a change of state the draft allows, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The state left; `None` for the rows that apply in any state (pause, shutdown).
    pub from: Option<FoState>,
    /// The state entered.
    pub to: FoState,
    /// The events of the draft's table that make this change.
    pub why: &'static str,
}

impl Row {
    /// Whether this row allows `from` → `to`.
    pub fn allows(&self, from: FoState, to: FoState) -> bool {
        from != to && self.to == to && self.from.is_none_or(|f| f == from)
    }

    /// `normal -> comm-interrupted`, or `* -> paused`.
    pub fn label(&self) -> String {
        format!(
            "{} -> {}",
            self.from.map_or("*", FoState::name),
            self.to.name()
        )
    }
}

const fn row(from: FoState, to: FoState, why: &'static str) -> Row {
    Row {
        from: Some(from),
        to,
        why,
    }
}

/// The transitions of draft-12's failover endpoint state machine: the table of draft-12.md §4.2
/// (draft-12 §9.2–9.14 and Fig 9.2-1), one row per (from, to) pair, the events that make it in
/// words.
///
/// Two kinds of row join two of the draft's steps that happen on one event, because the draft
/// says to take both at once and a server records only the second: leaving STARTUP "take
/// previous-state, then apply the Comm-OK transition of that state" (§9.3), so STARTUP → NORMAL
/// is STARTUP → COMM-INTERRUPTED → NORMAL with the partner in NORMAL; and NORMAL facing a
/// partner in an unexpected state goes "COMM-INT, then apply COMM-INT's Comm-OK rule" (§9.8.2),
/// so NORMAL → POTENTIAL-CONFLICT. RECOVER → RECOVER-DONE is the wait of RECOVER-WAIT skipped on
/// entry, which the draft allows when the partner's information shows a first failover run
/// (§9.6). Any change not in this table is a finding ([`Coverage::off_table`]).
pub const TABLE: &[Row] = &[
    // STARTUP (§9.3): the previous state after the comm-failed mapping (the STARTUP timer, or
    // a STATE from the partner), or, with a partner in PARTNER-DOWN, RECOVER or
    // POTENTIAL-CONFLICT; then that state's Comm-OK transition.
    row(
        FoState::Startup,
        FoState::CommunicationsInterrupted,
        "previous state NORMAL or COMM-INT (comm-failed mapping)",
    ),
    row(
        FoState::Startup,
        FoState::ResolutionInterrupted,
        "previous state POTENTIAL-CONFLICT or RESOLUTION-INTERRUPTED (comm-failed mapping)",
    ),
    row(
        FoState::Startup,
        FoState::PartnerDown,
        "previous state PARTNER-DOWN; STARTUP timer configured to PARTNER-DOWN; \
         COMM-INT's Comm-OK with the partner in SHUTDOWN",
    ),
    row(
        FoState::Startup,
        FoState::Recover,
        "previous state RECOVER (or none stored); partner in PARTNER-DOWN since after my \
         last operation",
    ),
    row(
        FoState::Startup,
        FoState::RecoverWait,
        "previous state RECOVER-WAIT",
    ),
    row(
        FoState::Startup,
        FoState::RecoverDone,
        "previous state RECOVER-DONE",
    ),
    row(
        FoState::Startup,
        FoState::ConflictDone,
        "previous state CONFLICT-DONE",
    ),
    row(
        FoState::Startup,
        FoState::PotentialConflict,
        "partner in PARTNER-DOWN since before my last operation; Comm-OK of the previous \
         state (COMM-INT, PARTNER-DOWN, RECOVER, RESOLUTION-INTERRUPTED)",
    ),
    row(
        FoState::Startup,
        FoState::Normal,
        "Comm-OK of the previous state: COMM-INT with the partner in NORMAL, COMM-INT or \
         RECOVER-DONE; PARTNER-DOWN with it in RECOVER-DONE; RECOVER-DONE or CONFLICT-DONE \
         with it in NORMAL",
    ),
    // NORMAL (§9.8).
    row(
        FoState::Normal,
        FoState::CommunicationsInterrupted,
        "communications failed; partner PAUSED; partner in an unexpected state; no acks",
    ),
    row(
        FoState::Normal,
        FoState::PartnerDown,
        "external command; partner SHUTDOWN",
    ),
    row(
        FoState::Normal,
        FoState::PotentialConflict,
        "partner in PARTNER-DOWN, POTENTIAL-CONFLICT, CONFLICT-DONE or RESOLUTION-INTERRUPTED \
         (COMM-INT, then its Comm-OK rule)",
    ),
    // COMMUNICATIONS-INTERRUPTED (§9.9).
    row(
        FoState::CommunicationsInterrupted,
        FoState::PartnerDown,
        "safe period expired; external command; partner SHUTDOWN",
    ),
    row(
        FoState::CommunicationsInterrupted,
        FoState::Normal,
        "Comm OK, partner in NORMAL, COMM-INT or RECOVER-DONE",
    ),
    row(
        FoState::CommunicationsInterrupted,
        FoState::PotentialConflict,
        "Comm OK, partner in PARTNER-DOWN, POTENTIAL-CONFLICT, CONFLICT-DONE or \
         RESOLUTION-INTERRUPTED",
    ),
    // PARTNER-DOWN (§9.4).
    row(
        FoState::PartnerDown,
        FoState::PotentialConflict,
        "partner in NORMAL, COMM-INT, PARTNER-DOWN, POTENTIAL-CONFLICT, \
         RESOLUTION-INTERRUPTED or CONFLICT-DONE",
    ),
    row(
        FoState::PartnerDown,
        FoState::Normal,
        "partner in RECOVER-DONE",
    ),
    // RECOVER (§9.5), RECOVER-WAIT (§9.6), RECOVER-DONE (§9.7).
    row(
        FoState::Recover,
        FoState::PotentialConflict,
        "Comm OK, partner in POTENTIAL-CONFLICT, RESOLUTION-INTERRUPTED or CONFLICT-DONE",
    ),
    row(FoState::Recover, FoState::RecoverWait, "UPDDONE received"),
    row(
        FoState::Recover,
        FoState::RecoverDone,
        "UPDDONE received, the wait skipped (first failover run, §9.6)",
    ),
    row(
        FoState::RecoverWait,
        FoState::RecoverDone,
        "the MCLT wait is over",
    ),
    row(
        FoState::RecoverDone,
        FoState::Normal,
        "partner in NORMAL or RECOVER-DONE",
    ),
    // POTENTIAL-CONFLICT (§9.10), RESOLUTION-INTERRUPTED (§9.11), CONFLICT-DONE (§9.12).
    row(
        FoState::PotentialConflict,
        FoState::ResolutionInterrupted,
        "communications failed",
    ),
    row(
        FoState::PotentialConflict,
        FoState::ConflictDone,
        "UPDDONE received (primary)",
    ),
    row(
        FoState::PotentialConflict,
        FoState::Normal,
        "UPDDONE received (secondary)",
    ),
    row(
        FoState::ResolutionInterrupted,
        FoState::PartnerDown,
        "external command",
    ),
    row(
        FoState::ResolutionInterrupted,
        FoState::PotentialConflict,
        "Comm OK, any partner state",
    ),
    row(FoState::ConflictDone, FoState::Normal, "partner in NORMAL"),
    // PAUSED (§9.13) and SHUTDOWN (§9.14): an operator's command, in any state.
    Row {
        from: None,
        to: FoState::Paused,
        why: "operator pause",
    },
    Row {
        from: None,
        to: FoState::Shutdown,
        why: "operator shutdown",
    },
];

/// The row of [`TABLE`] that allows `from` → `to`, if any (`None`: a finding).
pub fn table_row(from: FoState, to: FoState) -> Option<usize> {
    TABLE.iter().position(|r| r.allows(from, to))
}

/// The "sometimes" events: situations that a good run may meet and a good sweep should meet
/// at least once. Each is defined by what the world observes (engine outputs, messages read
/// through the codecs, client events), not by the engines' bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sometimes {
    /// Both servers in PARTNER-DOWN at the same time (each believes the other down).
    BothPartnerDown,
    /// A server left RECOVER-WAIT for RECOVER-DONE at least the MCLT (true time) after it
    /// entered it.
    RecoverWaitFullMclt,
    /// A server went from POTENTIAL-CONFLICT to CONFLICT-DONE: the primary holds its partner's
    /// bindings (draft-12 §9.10).
    ConflictResolved,
    /// A POOLREQ was answered by the partner's POOLRESP (same connection and xid).
    PoolreqAnswered,
    /// An UPDREQALL was answered by the partner's UPDDONE (same connection and xid).
    UpdreqallAnswered,
    /// A server that crashed losing its whole database came back to NORMAL.
    LostStorageBackToNormal,
    /// A server sent a DHCPNAK.
    DhcpnakSent,
    /// A binding in a server's database became EXPIRED.
    LeaseExpiredAtServer,
    /// A BNDACK rejected a binding update (any reject reason).
    UpdateRejected,
    /// A client that rebooted (INIT-REBOOT) was confirmed in the address it remembered.
    InitRebootKeptAddress,
    /// A client's lease was extended by the other server than the one that last granted it,
    /// on the same address: failover served a client through a change of server.
    ClientKeptAddressAcrossServers,
    /// A server in PARTNER-DOWN sent a DHCPACK.
    AckInPartnerDown,
}

impl Sometimes {
    /// Every event, in this order in tables.
    pub const ALL: [Sometimes; 12] = [
        Sometimes::BothPartnerDown,
        Sometimes::RecoverWaitFullMclt,
        Sometimes::ConflictResolved,
        Sometimes::PoolreqAnswered,
        Sometimes::UpdreqallAnswered,
        Sometimes::LostStorageBackToNormal,
        Sometimes::DhcpnakSent,
        Sometimes::LeaseExpiredAtServer,
        Sometimes::UpdateRejected,
        Sometimes::InitRebootKeptAddress,
        Sometimes::ClientKeptAddressAcrossServers,
        Sometimes::AckInPartnerDown,
    ];

    /// The name tables, JSON and `--min-coverage` use.
    pub fn name(self) -> &'static str {
        match self {
            Sometimes::BothPartnerDown => "both-partner-down",
            Sometimes::RecoverWaitFullMclt => "recover-wait-full-mclt",
            Sometimes::ConflictResolved => "conflict-resolved",
            Sometimes::PoolreqAnswered => "poolreq-answered",
            Sometimes::UpdreqallAnswered => "updreqall-answered",
            Sometimes::LostStorageBackToNormal => "lost-storage-back-to-normal",
            Sometimes::DhcpnakSent => "dhcpnak-sent",
            Sometimes::LeaseExpiredAtServer => "lease-expired-at-server",
            Sometimes::UpdateRejected => "update-rejected",
            Sometimes::InitRebootKeptAddress => "init-reboot-kept-address",
            Sometimes::ClientKeptAddressAcrossServers => "client-kept-address-across-servers",
            Sometimes::AckInPartnerDown => "ack-in-partner-down",
        }
    }

    /// What it means, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Sometimes::BothPartnerDown => "both servers in PARTNER-DOWN at once",
            Sometimes::RecoverWaitFullMclt => "a RECOVER-WAIT that lasted at least the MCLT",
            Sometimes::ConflictResolved => "POTENTIAL-CONFLICT -> CONFLICT-DONE",
            Sometimes::PoolreqAnswered => "a POOLREQ answered by a POOLRESP",
            Sometimes::UpdreqallAnswered => "an UPDREQALL answered by an UPDDONE",
            Sometimes::LostStorageBackToNormal => {
                "a server restarted with lost storage came back to NORMAL"
            }
            Sometimes::DhcpnakSent => "a DHCPNAK sent",
            Sometimes::LeaseExpiredAtServer => "a binding became EXPIRED at a server",
            Sometimes::UpdateRejected => "a binding update rejected by a BNDACK",
            Sometimes::InitRebootKeptAddress => "a client kept its address through INIT-REBOOT",
            Sometimes::ClientKeptAddressAcrossServers => {
                "a client's lease extended by the other server"
            }
            Sometimes::AckInPartnerDown => "a DHCPACK sent in PARTNER-DOWN",
        }
    }

    /// The event named `name`.
    pub fn named(name: &str) -> Option<Sometimes> {
        Sometimes::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The state named `name` (as traces name it: `comm-interrupted`).
pub fn state_named(name: &str) -> Option<FoState> {
    STATES.into_iter().find(|s| s.name() == name)
}

/// The message type named `name` (`POOLREQ`; any case).
pub fn message_named(name: &str) -> Option<MessageType> {
    MESSAGES
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(name))
}

/// How often one item was reached, in how many seeds, and the first of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Times reached, over all seeds.
    pub count: u64,
    /// Seeds that reached it at least once.
    pub seeds: u64,
    /// The lowest such seed.
    pub first_seed: Option<u64>,
}

impl Tally {
    /// Add `other` (commutative, associative).
    pub fn merge(&mut self, other: &Tally) {
        self.count += other.count;
        self.seeds += other.seeds;
        self.first_seed = match (self.first_seed, other.first_seed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    fn json(&self) -> Value {
        json!({"count": self.count, "seeds": self.seeds, "first_seed": self.first_seed})
    }

    fn from_json(v: &Value) -> Tally {
        Tally {
            count: v["count"].as_u64().unwrap_or(0),
            seeds: v["seeds"].as_u64().unwrap_or(0),
            first_seed: v["first_seed"].as_u64(),
        }
    }
}

fn bump<K: Ord>(map: &mut BTreeMap<K, Tally>, key: K, by: u64) {
    if by > 0 {
        map.entry(key).or_default().count += by;
    }
}

fn merge_map<K: Ord + Clone>(into: &mut BTreeMap<K, Tally>, from: &BTreeMap<K, Tally>) {
    for (k, t) in from {
        into.entry(k.clone()).or_default().merge(t);
    }
}

/// What one run, or a sweep of many, reached. Only reached items are held; the lists of what
/// was never reached are computed against [`STATES`], [`TABLE`], [`MESSAGES`] and
/// [`Sometimes::ALL`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Runs (seeds) counted.
    pub seeds: u64,
    /// Failover states entered (STARTUP: a server booted).
    pub states: BTreeMap<FoState, Tally>,
    /// Failover state changes, as (from, to).
    pub transitions: BTreeMap<(FoState, FoState), Tally>,
    /// Reject reasons of BNDACKs (draft-12 §12.21 codes).
    pub rejects: BTreeMap<u8, Tally>,
    /// Failover messages sent, by type.
    pub messages: BTreeMap<MessageType, Tally>,
    /// The sometimes-events reached.
    pub sometimes: BTreeMap<Sometimes, Tally>,
}

impl Coverage {
    /// Add another run's or sweep's coverage (commutative and associative).
    pub fn merge(&mut self, other: &Coverage) {
        self.seeds += other.seeds;
        merge_map(&mut self.states, &other.states);
        merge_map(&mut self.transitions, &other.transitions);
        merge_map(&mut self.rejects, &other.rejects);
        merge_map(&mut self.messages, &other.messages);
        merge_map(&mut self.sometimes, &other.sometimes);
    }

    /// The rows of [`TABLE`] reached, with the tallies of their transitions added up (a
    /// wildcard row's `seeds` may count a seed once per state it left from).
    pub fn rows(&self) -> Vec<(Row, Tally)> {
        TABLE
            .iter()
            .map(|r| {
                let mut t = Tally::default();
                for ((from, to), n) in &self.transitions {
                    if r.allows(*from, *to) {
                        t.merge(n);
                    }
                }
                (*r, t)
            })
            .collect()
    }

    /// The transitions reached that the draft's table does not have: findings.
    pub fn off_table(&self) -> Vec<((FoState, FoState), Tally)> {
        self.transitions
            .iter()
            .filter(|((from, to), _)| table_row(*from, *to).is_none())
            .map(|(k, t)| (*k, *t))
            .collect()
    }

    /// How many of each kind's known items were reached: (reached, known).
    pub fn shares(&self) -> [(Kind, usize, usize); 4] {
        let rows = self.rows();
        [
            (Kind::States, self.states.len(), STATES.len()),
            (
                Kind::Transitions,
                rows.iter().filter(|(_, t)| t.count > 0).count(),
                rows.len(),
            ),
            (
                Kind::Messages,
                MESSAGES
                    .iter()
                    .filter(|m| self.messages.contains_key(m))
                    .count(),
                MESSAGES.len(),
            ),
            (Kind::Sometimes, self.sometimes.len(), Sometimes::ALL.len()),
        ]
    }

    /// One line: `coverage: 9 of 12 states, 14 of 30 table transitions (0 off the table), …`.
    pub fn line(&self) -> String {
        format!("coverage: {}", self.counts_text())
    }

    /// [`Coverage::line`] without its label.
    fn counts_text(&self) -> String {
        let [states, rows, messages, sometimes] = self.shares();
        format!(
            "{} of {} states, {} of {} table transitions ({} off the table), \
             {} of {} message types, {} reject reason{}, {} of {} sometimes-events",
            states.1,
            states.2,
            rows.1,
            rows.2,
            self.off_table().len(),
            messages.1,
            messages.2,
            self.rejects.len(),
            if self.rejects.len() == 1 { "" } else { "s" },
            sometimes.1,
            sometimes.2
        )
    }

    /// The coverage as JSON (`summary.json`'s `coverage`, and `coverage.json`): every known
    /// item with its tally (zero when never reached), the never-reached lists, and the
    /// off-table findings. [`Coverage::from_json`] reads it back.
    pub fn to_json(&self) -> Value {
        let zero = Tally::default();
        let states: Vec<Value> = STATES
            .iter()
            .map(|s| {
                let mut v = self.states.get(s).unwrap_or(&zero).json();
                v["state"] = json!(s.name());
                v
            })
            .collect();
        let transitions: Vec<Value> = self
            .transitions
            .iter()
            .map(|((from, to), t)| {
                let mut v = t.json();
                v["from"] = json!(from.name());
                v["to"] = json!(to.name());
                v["in_table"] = json!(table_row(*from, *to).is_some());
                v
            })
            .collect();
        let rows: Vec<Value> = self
            .rows()
            .iter()
            .map(|(r, t)| {
                let mut v = t.json();
                v["transition"] = json!(r.label());
                v["why"] = json!(r.why);
                v
            })
            .collect();
        let never_rows: Vec<String> = self
            .rows()
            .iter()
            .filter(|(_, t)| t.count == 0)
            .map(|(r, _)| r.label())
            .collect();
        let off: Vec<String> = self
            .off_table()
            .iter()
            .map(|((f, t), _)| format!("{} -> {}", f.name(), t.name()))
            .collect();
        let rejects: Vec<Value> = self
            .rejects
            .iter()
            .map(|(r, t)| {
                let mut v = t.json();
                v["code"] = json!(r);
                v["reason"] = json!(RejectReason(*r).name());
                v
            })
            .collect();
        let messages: Vec<Value> = MESSAGES
            .iter()
            .chain(
                self.messages
                    .keys()
                    .filter(|m| matches!(m, MessageType::Unknown(_))),
            )
            .map(|m| {
                let mut v = self.messages.get(m).unwrap_or(&zero).json();
                v["message"] = json!(message_label(*m));
                v
            })
            .collect();
        let sometimes: Vec<Value> = Sometimes::ALL
            .iter()
            .map(|s| {
                let mut v = self.sometimes.get(s).unwrap_or(&zero).json();
                v["event"] = json!(s.name());
                v["description"] = json!(s.description());
                v
            })
            .collect();
        let never = |it: Vec<String>| json!(it);
        json!({
            "seeds": self.seeds,
            "line": self.line(),
            "states": states,
            "transitions": transitions,
            "table": rows,
            "off_table": off,
            "rejects": rejects,
            "messages": messages,
            "sometimes": sometimes,
            "never": {
                "states": never(STATES.iter().filter(|s| !self.states.contains_key(s))
                    .map(|s| s.name().to_string()).collect()),
                "transitions": never_rows,
                "messages": never(MESSAGES.iter().filter(|m| !self.messages.contains_key(m))
                    .map(|m| m.name().to_string()).collect()),
                "sometimes": never(Sometimes::ALL.iter().filter(|s| !self.sometimes.contains_key(s))
                    .map(|s| s.name().to_string()).collect()),
            },
        })
    }

    /// Read what [`Coverage::to_json`] wrote (the derived lists are recomputed, not read).
    pub fn from_json(v: &Value) -> Result<Coverage, String> {
        let list = |key: &str| -> Result<&Vec<Value>, String> {
            v[key]
                .as_array()
                .ok_or_else(|| format!("coverage: no `{key}` list"))
        };
        let name = |e: &Value, key: &str| -> Result<String, String> {
            e[key]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("coverage: an entry without `{key}`: {e}"))
        };
        let state = |n: &str| state_named(n).ok_or_else(|| format!("coverage: no state `{n}`"));
        let mut c = Coverage {
            seeds: v["seeds"]
                .as_u64()
                .ok_or("coverage: no `seeds` count (is this a coverage.json?)")?,
            ..Coverage::default()
        };
        let keep = |t: Tally| (t.count > 0).then_some(t);
        for e in list("states")? {
            if let Some(t) = keep(Tally::from_json(e)) {
                c.states.insert(state(&name(e, "state")?)?, t);
            }
        }
        for e in list("transitions")? {
            if let Some(t) = keep(Tally::from_json(e)) {
                let key = (state(&name(e, "from")?)?, state(&name(e, "to")?)?);
                c.transitions.insert(key, t);
            }
        }
        for e in list("rejects")? {
            if let (Some(t), Some(code)) = (keep(Tally::from_json(e)), e["code"].as_u64()) {
                let code = u8::try_from(code).map_err(|_| format!("coverage: reject {code}"))?;
                c.rejects.insert(code, t);
            }
        }
        for e in list("messages")? {
            if let Some(t) = keep(Tally::from_json(e)) {
                let n = name(e, "message")?;
                let m = message_from_label(&n).ok_or(format!("coverage: no message `{n}`"))?;
                c.messages.insert(m, t);
            }
        }
        for e in list("sometimes")? {
            if let Some(t) = keep(Tally::from_json(e)) {
                let n = name(e, "event")?;
                let s = Sometimes::named(&n).ok_or(format!("coverage: no event `{n}`"))?;
                c.sometimes.insert(s, t);
            }
        }
        Ok(c)
    }

    /// The coverage table a sweep prints after its violation table.
    pub fn write_table(&self, out: &mut dyn Write) {
        let _ = writeln!(out, "{}", self.table());
    }

    /// [`Coverage::write_table`]'s text.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let mut line = |l: String| {
            s.push_str(&l);
            s.push('\n');
        };
        let n = self.seeds;
        line(format!("COVERAGE  {n} seeds: {}", self.counts_text()));
        for ((from, to), t) in self.off_table() {
            line(format!(
                "  FINDING: {} -> {} is not in the draft-12 §4.2 transition table: {} times in {} \
                 seeds (first: seed {})",
                from.name(),
                to.name(),
                t.count,
                t.seeds,
                t.first_seed.map_or("?".into(), |s| s.to_string())
            ));
        }
        let first = |t: &Tally| t.first_seed.map_or(String::new(), |s| s.to_string());
        line(format!(
            "  {:<44} {:>9} {:>7} {:>11}",
            "states entered", "times", "seeds", "first seed"
        ));
        for st in STATES {
            if let Some(t) = self.states.get(&st) {
                line(format!(
                    "    {:<42} {:>9} {:>7} {:>11}",
                    st.name(),
                    t.count,
                    t.seeds,
                    first(t)
                ));
            }
        }
        let never_states: Vec<&str> = STATES
            .iter()
            .filter(|s| !self.states.contains_key(s))
            .map(|s| s.name())
            .collect();
        wrapped("    never: ", &never_states, &mut line);
        line(format!(
            "  {:<44} {:>9} {:>7} {:>11}",
            "transitions (draft-12 §4.2)", "times", "seeds", "first seed"
        ));
        for ((from, to), t) in &self.transitions {
            let mark = if table_row(*from, *to).is_some() {
                ""
            } else {
                "  NOT IN THE TABLE"
            };
            line(format!(
                "    {:<42} {:>9} {:>7} {:>11}{mark}",
                format!("{} -> {}", from.name(), to.name()),
                t.count,
                t.seeds,
                first(t)
            ));
        }
        let never_rows: Vec<String> = self
            .rows()
            .iter()
            .filter(|(_, t)| t.count == 0)
            .map(|(r, _)| r.label())
            .collect();
        let head = format!(
            "    table rows never reached ({} of {}): ",
            never_rows.len(),
            TABLE.len()
        );
        wrapped(&head, &never_rows, &mut line);
        let rejects: Vec<String> = self
            .rejects
            .iter()
            .map(|(r, t)| {
                format!(
                    "{r} {} ×{} ({} seeds)",
                    RejectReason(*r).name(),
                    t.count,
                    t.seeds
                )
            })
            .collect();
        wrapped("  reject reasons: ", &rejects, &mut line);
        let messages: Vec<String> = self
            .messages
            .iter()
            .map(|(m, t)| format!("{} ×{}", message_label(*m), t.count))
            .collect();
        wrapped("  messages sent: ", &messages, &mut line);
        let never_messages: Vec<&str> = MESSAGES
            .iter()
            .filter(|m| !self.messages.contains_key(m))
            .map(|m| m.name())
            .collect();
        wrapped("    never sent: ", &never_messages, &mut line);
        line(format!(
            "  {:<44} {:>9} {:>7} {:>11}",
            "sometimes-events", "times", "seeds", "first seed"
        ));
        for ev in Sometimes::ALL {
            if let Some(t) = self.sometimes.get(&ev) {
                line(format!(
                    "    {:<42} {:>9} {:>7} {:>11}",
                    ev.name(),
                    t.count,
                    t.seeds,
                    first(t)
                ));
            }
        }
        let never: Vec<&str> = Sometimes::ALL
            .iter()
            .filter(|s| !self.sometimes.contains_key(s))
            .map(|s| s.name())
            .collect();
        wrapped("    never: ", &never, &mut line);
        s.trim_end().to_string()
    }
}

/// Table lines are wrapped at this width.
const TABLE_WIDTH: usize = 100;

/// `head` and the items, separated by commas, in lines of at most [`TABLE_WIDTH`] characters
/// (an item longer than that has a line of its own); `none` when there is no item.
fn wrapped<S: AsRef<str>>(head: &str, items: &[S], line: &mut dyn FnMut(String)) {
    if items.is_empty() {
        line(format!("{head}none"));
        return;
    }
    // Continuation lines are indented two past the head's own indentation.
    let indent = " ".repeat(head.len() - head.trim_start().len() + 2);
    let mut current = head.to_string();
    let mut fresh = true;
    for (i, item) in items.iter().enumerate() {
        let item = item.as_ref();
        let sep = if i + 1 < items.len() { "," } else { "" };
        if !fresh && current.chars().count() + 1 + item.chars().count() + sep.len() > TABLE_WIDTH {
            line(std::mem::replace(&mut current, indent.clone()));
            fresh = true;
        }
        if !fresh {
            current.push(' ');
        }
        current.push_str(item);
        current.push_str(sep);
        fresh = false;
    }
    line(current);
}

/// A message type's name, `UNKNOWN(v)` for one the draft does not define.
fn message_label(m: MessageType) -> String {
    match m {
        MessageType::Unknown(v) => format!("UNKNOWN({v})"),
        m => m.name().to_string(),
    }
}

fn message_from_label(label: &str) -> Option<MessageType> {
    if let Some(v) = label
        .strip_prefix("UNKNOWN(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return v.parse().ok().map(MessageType::Unknown);
    }
    message_named(label)
}

/// A kind of coverage item, for shares in `--min-coverage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Failover states entered.
    States,
    /// Rows of [`TABLE`] reached.
    Transitions,
    /// Failover message types sent.
    Messages,
    /// [`Sometimes`] events reached.
    Sometimes,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::States => "states",
            Kind::Transitions => "transitions",
            Kind::Messages => "messages",
            Kind::Sometimes => "sometimes",
        }
    }
}

/// One requirement of `--min-coverage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `state:NAME`: the state was entered.
    State(FoState),
    /// `transition:FROM->TO` (FROM may be `*` for the table's any-state rows): reached.
    Transition(Option<FoState>, FoState),
    /// `message:NAME`: sent.
    Message(MessageType),
    /// `reject:CODE`: a BNDACK carried this reject reason.
    Reject(u8),
    /// `sometimes:NAME`: the event happened.
    Sometimes(Sometimes),
    /// `KIND:N%` (KIND one of states, transitions, messages, sometimes): at least N percent of
    /// the known items of that kind were reached (transitions: rows of the draft's table).
    Share(Kind, u32),
}

impl Requirement {
    /// Parse a `--min-coverage` value: items separated by commas or white space, each `KIND:X`
    /// as [`Requirement`] lists; `#` starts a comment to the end of the line (for files).
    pub fn parse_list(text: &str) -> Result<Vec<Requirement>, String> {
        let mut out = Vec::new();
        for l in text.lines() {
            let l = l.split('#').next().unwrap_or("");
            for item in l.split(|c: char| c == ',' || c.is_whitespace()) {
                if !item.is_empty() {
                    out.push(Requirement::parse(item)?);
                }
            }
        }
        if out.is_empty() {
            return Err("--min-coverage: no requirement in it".into());
        }
        Ok(out)
    }

    /// Parse one item.
    pub fn parse(item: &str) -> Result<Requirement, String> {
        let bad = |what: &str| format!("--min-coverage: `{item}`: {what}");
        let Some((kind, x)) = item.split_once(':') else {
            return Err(bad(
                "expected KIND:X, e.g. transition:normal->comm-interrupted, \
                 sometimes:conflict-resolved, state:partner-down, message:POOLREQ, reject:16, \
                 transitions:50%",
            ));
        };
        let state = |n: &str| {
            state_named(n).ok_or_else(|| {
                let all: Vec<&str> = STATES.iter().map(|s| s.name()).collect();
                bad(&format!("no state `{n}` (one of {})", all.join(", ")))
            })
        };
        if let Some(p) = x.strip_suffix('%') {
            let kind = match kind {
                "states" => Kind::States,
                "transitions" => Kind::Transitions,
                "messages" => Kind::Messages,
                "sometimes" => Kind::Sometimes,
                _ => return Err(bad("a share is states, transitions, messages or sometimes")),
            };
            let p: u32 = p
                .parse()
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| bad("a share is a whole percentage from 0 to 100"))?;
            return Ok(Requirement::Share(kind, p));
        }
        Ok(match kind {
            "state" => Requirement::State(state(x)?),
            "transition" => {
                let (from, to) = x.split_once("->").ok_or_else(|| bad("expected FROM->TO"))?;
                let from = if from == "*" {
                    None
                } else {
                    Some(state(from)?)
                };
                Requirement::Transition(from, state(to)?)
            }
            "message" => Requirement::Message(
                message_named(x).ok_or_else(|| bad("no such message type (POOLREQ…)"))?,
            ),
            "reject" => Requirement::Reject(
                x.parse()
                    .map_err(|_| bad("a reject reason is a code from 0 to 255"))?,
            ),
            "sometimes" => Requirement::Sometimes(Sometimes::named(x).ok_or_else(|| {
                let all: Vec<&str> = Sometimes::ALL.iter().map(|s| s.name()).collect();
                bad(&format!("no event `{x}` (one of {})", all.join(", ")))
            })?),
            _ => {
                return Err(bad(
                    "KIND is state, transition, message, reject or sometimes (or a share: \
                     states, transitions, messages, sometimes with N%)",
                ));
            }
        })
    }

    /// Why `c` does not meet this requirement, or `None` if it does.
    pub fn missed(&self, c: &Coverage) -> Option<String> {
        let reached = match self {
            Requirement::State(s) => c.states.contains_key(s),
            Requirement::Transition(from, to) => c.transitions.keys().any(|(f, t)| {
                t == to && from.is_none_or(|from| from == *f) && (from.is_some() || f != t)
            }),
            Requirement::Message(m) => c.messages.contains_key(m),
            Requirement::Reject(r) => c.rejects.contains_key(r),
            Requirement::Sometimes(s) => c.sometimes.contains_key(s),
            Requirement::Share(kind, p) => {
                let (_, reached, known) = c
                    .shares()
                    .into_iter()
                    .find(|(k, _, _)| k == kind)
                    .unwrap_or((*kind, 0, 0));
                // In whole numbers: reached / known >= p / 100.
                if reached * 100 >= *p as usize * known {
                    return None;
                }
                return Some(format!(
                    "{}: {reached} of {known} reached, below {p}%",
                    kind.name()
                ));
            }
        };
        (!reached).then(|| format!("never reached {}", self.label()))
    }

    /// The requirement as written.
    pub fn label(&self) -> String {
        match self {
            Requirement::State(s) => format!("state:{}", s.name()),
            Requirement::Transition(f, t) => {
                format!("transition:{}->{}", f.map_or("*", FoState::name), t.name())
            }
            Requirement::Message(m) => format!("message:{}", m.name()),
            Requirement::Reject(r) => format!("reject:{r}"),
            Requirement::Sometimes(s) => format!("sometimes:{}", s.name()),
            Requirement::Share(k, p) => format!("{}:{p}%", k.name()),
        }
    }
}

/// Read a `--min-coverage` value: `@FILE` reads the requirements from FILE, anything else is
/// the list itself.
pub fn load_requirements(arg: &str) -> Result<Vec<Requirement>, String> {
    match arg.strip_prefix('@') {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--min-coverage: {path}: {e}"))?;
            Requirement::parse_list(&text)
        }
        None => Requirement::parse_list(arg),
    }
}

/// Every requirement `c` misses, in the order given.
pub fn missed(c: &Coverage, requirements: &[Requirement]) -> Vec<String> {
    requirements.iter().filter_map(|r| r.missed(c)).collect()
}

/// Bound on the POOLREQs and UPDREQALLs a [`Probe`] waits to see answered: the oldest is
/// forgotten beyond it (an unanswered request costs nothing else).
const PENDING_REQUESTS: usize = 256;

/// What one client did that an event needs to remember.
#[derive(Debug, Clone, Copy, Default)]
struct ClientMemory {
    /// The address it remembered when it last rebooted, until a lease or another loss.
    rebooted_with: Option<Ipv4Addr>,
    /// Its last lease: the address and the server that granted it.
    lease: Option<(Ipv4Addr, Ipv4Addr)>,
}

/// A run's coverage as it goes: the counts, and what the events need to remember (each
/// server's state and since when, requests waiting for their answers, what each client held).
/// The world's hook lines feed it; it never feeds anything back.
#[derive(Debug, Clone)]
pub struct Probe {
    counts: Coverage,
    mclt: Duration,
    dialect: Dialect,
    /// Each server's failover state as its last change said (`None` while down).
    states: [Option<FoState>; 2],
    /// When each server entered RECOVER-WAIT, in true time.
    recover_wait_since: [Option<Time>; 2],
    /// Whether each server lost its whole database in its last crash and has not reached
    /// NORMAL since.
    storage_lost: [bool; 2],
    /// POOLREQs and UPDREQALLs sent and not yet answered: (type, connection, xid) → sender.
    pending: BTreeMap<(MessageType, u64, u32), usize>,
    clients: Vec<ClientMemory>,
}

impl Probe {
    /// A probe for a run with this MCLT, its failover messages read in `dialect`.
    pub fn new(mclt: Duration, dialect: Dialect) -> Probe {
        Probe {
            counts: Coverage::default(),
            mclt,
            dialect,
            states: [None; 2],
            recover_wait_since: [None; 2],
            storage_lost: [false; 2],
            pending: BTreeMap::new(),
            clients: Vec::new(),
        }
    }

    fn reached(&mut self, s: Sometimes) {
        bump(&mut self.counts.sometimes, s, 1);
    }

    /// Server `n` booted: it is in STARTUP.
    pub fn booted(&mut self, n: usize) {
        self.states[n] = Some(FoState::Startup);
        bump(&mut self.counts.states, FoState::Startup, 1);
    }

    /// Server `n` crashed, losing its whole database or not.
    pub fn crashed(&mut self, n: usize, lost_everything: bool) {
        self.states[n] = None;
        self.recover_wait_since[n] = None;
        self.storage_lost[n] = lost_everything;
    }

    /// Server `n` changed failover state (its `Output::FailoverState`), at true time `now`.
    pub fn state(&mut self, now: Time, n: usize, from: FoState, to: FoState) {
        self.states[n] = Some(to);
        bump(&mut self.counts.states, to, 1);
        bump(&mut self.counts.transitions, (from, to), 1);
        if to == FoState::PartnerDown && self.states[1 - n] == Some(FoState::PartnerDown) {
            self.reached(Sometimes::BothPartnerDown);
        }
        if (from, to) == (FoState::PotentialConflict, FoState::ConflictDone) {
            self.reached(Sometimes::ConflictResolved);
        }
        if from == FoState::RecoverWait
            && to == FoState::RecoverDone
            && self.recover_wait_since[n].is_some_and(|t| now.saturating_since(t) >= self.mclt)
        {
            self.reached(Sometimes::RecoverWaitFullMclt);
        }
        self.recover_wait_since[n] = (to == FoState::RecoverWait).then_some(now);
        if to == FoState::Normal && std::mem::take(&mut self.storage_lost[n]) {
            self.reached(Sometimes::LostStorageBackToNormal);
        }
    }

    /// Server `n` sent a failover message on connection `conn` (read through the codec: its
    /// type from the header; the whole message only for the request and answer types the
    /// events pair up).
    pub fn message(&mut self, n: usize, conn: u64, bytes: &[u8]) {
        let Some(kind) = Message::peek_type(bytes) else {
            return;
        };
        bump(&mut self.counts.messages, kind, 1);
        let (request, event) = match kind {
            MessageType::PoolReq | MessageType::UpdReqAll => (None, None),
            MessageType::PoolResp => (Some(MessageType::PoolReq), Some(Sometimes::PoolreqAnswered)),
            MessageType::UpdDone => (
                Some(MessageType::UpdReqAll),
                Some(Sometimes::UpdreqallAnswered),
            ),
            _ => return,
        };
        let Ok(msg) = Message::parse(bytes, self.dialect) else {
            return;
        };
        match (request, event) {
            (Some(request), Some(event)) => {
                let key = (request, conn, msg.xid);
                if self.pending.get(&key).is_some_and(|&from| from != n) {
                    self.pending.remove(&key);
                    self.reached(event);
                }
            }
            _ => {
                self.pending.insert((kind, conn, msg.xid), n);
                if self.pending.len() > PENDING_REQUESTS {
                    self.pending.pop_first();
                }
            }
        }
    }

    /// Server `n` sent a DHCP reply of type `kind`.
    pub fn reply(&mut self, n: usize, kind: Option<DhcpType>) {
        match kind {
            Some(DhcpType::Nak) => self.reached(Sometimes::DhcpnakSent),
            Some(DhcpType::Ack) if self.states[n] == Some(FoState::PartnerDown) => {
                self.reached(Sometimes::AckInPartnerDown)
            }
            _ => {}
        }
    }

    /// A binding in a server's database changed to `state`.
    pub fn binding(&mut self, state: BindingState) {
        if state == BindingState::Expired {
            self.reached(Sometimes::LeaseExpiredAtServer);
        }
    }

    fn client(&mut self, c: usize) -> &mut ClientMemory {
        // Bound: one entry per simulated client.
        if self.clients.len() <= c {
            self.clients.resize(c + 1, ClientMemory::default());
        }
        &mut self.clients[c]
    }

    /// Client `c` gave `address` up.
    pub fn client_lost(&mut self, c: usize, address: Ipv4Addr, why: LostReason) {
        let m = self.client(c);
        m.rebooted_with = (why == LostReason::Rebooted).then_some(address);
    }

    /// Client `c` accepted `lease`.
    pub fn client_leased(&mut self, c: usize, lease: &Lease) {
        let m = self.client(c);
        let rebooted = m.rebooted_with.take() == Some(lease.address);
        let moved = m
            .lease
            .is_some_and(|(a, s)| a == lease.address && s != lease.server_id);
        m.lease = Some((lease.address, lease.server_id));
        if rebooted && !lease.newly_offered {
            self.reached(Sometimes::InitRebootKeptAddress);
        }
        if moved && !lease.newly_offered {
            self.reached(Sometimes::ClientKeptAddressAcrossServers);
        }
    }

    /// The run's coverage: seed `seed`'s counts, with the BNDACK reject reasons the checkers
    /// counted (`rejects`, by code).
    pub fn coverage(&self, seed: u64, rejects: &BTreeMap<u8, u64>) -> Coverage {
        let mut c = self.counts.clone();
        for (r, n) in rejects {
            bump(&mut c.rejects, *r, *n);
        }
        let total: u64 = rejects.values().sum();
        bump(&mut c.sometimes, Sometimes::UpdateRejected, total);
        c.seeds = 1;
        let mark = |t: &mut Tally| {
            t.seeds = 1;
            t.first_seed = Some(seed);
        };
        c.states.values_mut().for_each(mark);
        c.transitions.values_mut().for_each(mark);
        c.rejects.values_mut().for_each(mark);
        c.messages.values_mut().for_each(mark);
        c.sometimes.values_mut().for_each(mark);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FoState::*;
    use dhcpfo_engine::failover::state::{leave_startup, on_partner_state};

    #[test]
    fn every_transition_the_engines_state_functions_make_is_in_the_table() {
        // draft-12 §9's reactions to the partner's STATE, as the engine encodes them.
        for me in STATES {
            for partner in STATES {
                for startup in [false, true] {
                    for primary in [false, true] {
                        let r = on_partner_state(me, partner, startup, primary);
                        if let Some(next) = r.next.filter(|n| *n != me) {
                            assert!(
                                table_row(me, next).is_some(),
                                "{} -> {} (partner {})",
                                me.name(),
                                next.name(),
                                partner.name()
                            );
                        }
                    }
                }
            }
            // Communications failed (§9.2).
            let next = me.comm_failed();
            assert!(next == me || table_row(me, next).is_some(), "{}", me.name());
            // Leaving STARTUP (§9.3), and its timer (previous state, comm-failed mapping).
            for partner in STATES {
                for after in [false, true] {
                    let next = leave_startup(me, partner, after);
                    assert!(
                        next == Startup || table_row(Startup, next).is_some(),
                        "startup -> {} (previous {}, partner {})",
                        next.name(),
                        me.name(),
                        partner.name()
                    );
                }
            }
            let timer = me.comm_failed();
            assert!(timer == Startup || table_row(Startup, timer).is_some());
        }
        // The engine's other moves: timers, UPDDONE, operator commands.
        for (from, to) in [
            (CommunicationsInterrupted, PartnerDown),
            (RecoverWait, RecoverDone),
            (Recover, RecoverWait),
            (Recover, RecoverDone),
            (PotentialConflict, ConflictDone),
            (PotentialConflict, Normal),
            (Normal, PartnerDown),
            (ResolutionInterrupted, PartnerDown),
            (Startup, PartnerDown),
            (Normal, Paused),
            (RecoverWait, Shutdown),
        ] {
            assert!(table_row(from, to).is_some(), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn the_table_holds_the_drafts_rows_and_nothing_from_a_state_to_itself() {
        for (from, to) in [
            (Normal, CommunicationsInterrupted),
            (CommunicationsInterrupted, Normal),
            (PartnerDown, PotentialConflict),
            (PartnerDown, Normal),
            (Recover, PotentialConflict),
            (RecoverDone, Normal),
            (ResolutionInterrupted, PotentialConflict),
            (ConflictDone, Normal),
            (PotentialConflict, ResolutionInterrupted),
        ] {
            assert!(table_row(from, to).is_some(), "{from:?} -> {to:?}");
        }
        for s in STATES {
            assert_eq!(table_row(s, s), None, "{s:?}");
        }
        // One row per pair: the table never says the same thing twice.
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert!((a.from, a.to) != (b.from, b.to), "{}", a.label());
            }
        }
    }

    #[test]
    fn a_transition_the_draft_does_not_have_is_a_finding() {
        let mut p = Probe::new(Duration::from_secs(60), Dialect::Isc);
        p.booted(0);
        p.state(Time::EPOCH, 0, Startup, Recover);
        // Made up: RECOVER-WAIT never goes to NORMAL without RECOVER-DONE, and PAUSED only
        // leaves through a restart.
        p.state(Time::EPOCH, 0, RecoverWait, Normal);
        p.state(Time::EPOCH, 0, Paused, Normal);
        let c = p.coverage(7, &BTreeMap::new());
        let off: Vec<(FoState, FoState)> = c.off_table().into_iter().map(|(k, _)| k).collect();
        assert_eq!(off, vec![(RecoverWait, Normal), (Paused, Normal)]);
        let table = c.table();
        assert!(
            table.contains("FINDING: recover-wait -> normal is not in the draft-12 §4.2"),
            "{table}"
        );
        assert!(table.contains("(first: seed 7)"), "{table}");
        assert_eq!(c.to_json()["off_table"][1], "paused -> normal");
    }

    fn some_coverage(seed: u64, steps: &[(FoState, FoState)], rejects: &[(u8, u64)]) -> Coverage {
        let mut p = Probe::new(Duration::from_secs(60), Dialect::Isc);
        p.booted(0);
        p.booted(1);
        for (i, (from, to)) in steps.iter().enumerate() {
            p.state(Time::from_secs(i as u64 * 100), i % 2, *from, *to);
        }
        p.message(0, 1, &[0, 12, 3, 12, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.reply(1, Some(DhcpType::Nak));
        p.coverage(seed, &rejects.iter().copied().collect())
    }

    #[test]
    fn merging_is_commutative_and_associative_and_survives_json() {
        let a = some_coverage(3, &[(Startup, Recover), (Recover, RecoverDone)], &[(16, 4)]);
        let b = some_coverage(
            1,
            &[
                (Startup, Normal),
                (Normal, PartnerDown),
                (Normal, PartnerDown),
            ],
            &[(15, 1), (16, 2)],
        );
        let c = some_coverage(9, &[(CommunicationsInterrupted, PartnerDown)], &[]);
        let sum = |xs: &[&Coverage]| {
            let mut s = Coverage::default();
            for x in xs {
                s.merge(x);
            }
            s
        };
        let abc = sum(&[&a, &b, &c]);
        assert_eq!(abc, sum(&[&c, &b, &a]));
        assert_eq!(abc, sum(&[&b, &a, &c]));
        let mut ab = sum(&[&a, &b]);
        ab.merge(&c);
        let mut bc = sum(&[&b, &c]);
        let mut a_bc = a.clone();
        a_bc.merge(&bc);
        assert_eq!(ab, a_bc);
        bc.merge(&a);
        assert_eq!(bc, abc);
        assert_eq!(abc.seeds, 3);
        let both_partner_down = abc.transitions[&(Normal, PartnerDown)];
        assert_eq!(
            both_partner_down,
            Tally {
                count: 2,
                seeds: 1,
                first_seed: Some(1)
            }
        );
        assert_eq!(abc.rejects[&16].count, 6);
        assert_eq!(abc.rejects[&16].first_seed, Some(1));
        assert_eq!(abc.states[&Startup].seeds, 3);
        assert_eq!(abc.messages[&MessageType::BndUpd].count, 3);
        assert_eq!(abc.sometimes[&Sometimes::DhcpnakSent].seeds, 3);
        assert_eq!(abc.sometimes[&Sometimes::UpdateRejected].seeds, 2);
        // coverage.json reads back to the same value, so shards add up.
        assert_eq!(Coverage::from_json(&abc.to_json()), Ok(abc.clone()));
    }

    #[test]
    fn sometimes_events_are_read_from_what_the_world_sees() {
        let mut p = Probe::new(Duration::from_secs(60), Dialect::Isc);
        p.booted(0);
        p.booted(1);
        p.state(Time::from_secs(0), 0, Startup, PartnerDown);
        p.state(Time::from_secs(1), 1, Startup, PartnerDown);
        // A RECOVER-WAIT shorter than the MCLT, then one as long.
        p.state(Time::from_secs(10), 1, Recover, RecoverWait);
        p.state(Time::from_secs(69), 1, RecoverWait, RecoverDone);
        p.state(Time::from_secs(100), 1, Recover, RecoverWait);
        p.state(Time::from_secs(160), 1, RecoverWait, RecoverDone);
        // A POOLREQ (xid 5) answered on its connection by the partner; an UPDREQALL not.
        let msg = |kind: u8, xid: u8| [0, 12, kind, 12, 0, 0, 0, 0, 0, 0, 0, xid];
        p.message(1, 4, &msg(1, 5));
        p.message(1, 4, &msg(2, 5));
        p.message(0, 4, &msg(2, 6));
        p.message(0, 4, &msg(7, 6));
        p.message(0, 4, &msg(8, 6));
        p.crashed(0, true);
        p.booted(0);
        p.state(Time::from_secs(200), 0, Startup, Recover);
        p.state(Time::from_secs(300), 0, RecoverDone, Normal);
        let c = p.coverage(0, &BTreeMap::new());
        let reached: Vec<Sometimes> = c.sometimes.keys().copied().collect();
        assert_eq!(
            reached,
            vec![
                Sometimes::BothPartnerDown,
                Sometimes::RecoverWaitFullMclt,
                Sometimes::LostStorageBackToNormal
            ]
        );
        assert_eq!(c.sometimes[&Sometimes::RecoverWaitFullMclt].count, 1);
    }

    #[test]
    fn min_coverage_names_what_was_missed() {
        let c = some_coverage(0, &[(Startup, Normal), (Normal, PartnerDown)], &[(16, 1)]);
        let met = Requirement::parse_list(
            "transition:startup->normal, state:partner-down\nsometimes:dhcpnak-sent # c\n\
             reject:16 message:bndupd states:25%",
        )
        .unwrap();
        assert_eq!(missed(&c, &met), Vec::<String>::new());
        let unmet = Requirement::parse_list(
            "transition:*->paused sometimes:conflict-resolved transitions:50% message:POOLREQ",
        )
        .unwrap();
        assert_eq!(
            missed(&c, &unmet),
            vec![
                "never reached transition:*->paused",
                "never reached sometimes:conflict-resolved",
                "transitions: 2 of 30 reached, below 50%",
                "never reached message:POOLREQ",
            ]
        );
        for bad in [
            "transition:normal",
            "state:bored",
            "sometimes:never",
            "transitions:101%",
            "colour:red",
            "plain",
            "",
        ] {
            assert!(Requirement::parse_list(bad).is_err(), "{bad}");
        }
    }
}
