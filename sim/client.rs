//! A simulated DHCPv4 client: the RFC 2131 §4.4 state machine (Figure 5), sans-IO and cheap
//! enough that thousands run at once against the real server engine.
//!
//! # The contract
//!
//! A [`Client`] follows the engine's drain rule (see `dhcpfo_engine`'s crate doc). It never
//! reads a clock or draws OS entropy: every input carries the client's own `now` (its node's
//! clock, which may be skewed from the servers'), and every random choice — transaction IDs,
//! retransmission jitter, restart delays — comes from the ChaCha generator seeded by the caller.
//! The same seed and the same inputs give the same outputs, byte for byte.
//!
//! 1. Hand in one input: [`Client::start`], [`Client::start_with`], [`Client::handle_datagram`],
//!    [`Client::handle_timeout`], [`Client::depart`], [`Client::reboot`],
//!    [`Client::release_and_rediscover`] or [`Client::address_in_use`].
//! 2. Drain [`Client::poll_output`] to `None`: datagrams to send (encoded by the real codec)
//!    and changes in what the client believes it holds ([`ClientOutput::Leased`],
//!    [`ClientOutput::Lost`]), which the checkers read.
//! 3. Ask [`Client::poll_timeout`] when to call `handle_timeout` next. A timeout handed in
//!    early is a no-op.
//!
//! # States
//!
//! | state | the client | leaves on |
//! |---|---|---|
//! | INIT | waits to send a DISCOVER (restart delay) | the delay ends: DISCOVER, SELECTING |
//! | SELECTING | has broadcast a DISCOVER | an OFFER (window closed): REQUEST, REQUESTING; give-up: INIT |
//! | REQUESTING | has broadcast a REQUEST naming one server | ACK: BOUND; NAK or give-up: INIT |
//! | BOUND | holds a lease | T1: RENEWING; T2: REBINDING; expiry: INIT |
//! | RENEWING | unicasts REQUESTs (ciaddr) to its server | ACK: BOUND; NAK, expiry: INIT; T2: REBINDING |
//! | REBINDING | broadcasts REQUESTs (ciaddr) to any server | ACK: BOUND; NAK, expiry: INIT |
//! | INIT-REBOOT | remembers an address (lasts no time: the REQUEST leaves at once) | REBOOTING |
//! | REBOOTING | has broadcast a REQUEST for its remembered address | ACK: BOUND; NAK or give-up: INIT |
//!
//! # Policies
//!
//! * **Selecting.** With `select_window_ms` = 0 (the default, like ISC dhclient's
//!   `select-timeout 0` and the Windows client) the first acceptable OFFER is requested at once.
//!   With a window, the first OFFER opens it and the client requests, when it closes, the first
//!   OFFER received unless a later one offers the address it remembers (RFC 2131 §4.4.1 lets a
//!   client choose; preferring its old address is what keeps a client's address stable). Only
//!   the current pick is stored, so collecting costs no memory however many servers answer.
//! * **Retransmission** (RFC 2131 §4.1). DISCOVER, the SELECTING REQUEST and the INIT-REBOOT
//!   REQUEST are sent at most [`MAX_TRANSMISSIONS`] (5) times, each followed by a wait of 4, 8,
//!   16, 32, 64 s, each ± 1 s uniform from the seeded generator: about two minutes in all.
//!   Then the client gives up: from SELECTING (no server answered at all) it pauses
//!   [`GIVE_UP_PAUSE`] in INIT before a fresh DISCOVER; from REQUESTING or REBOOTING it returns to
//!   INIT for a restart delay (below) — RFC 2131 §4.4.1 and §4.4.2 both say "reverts to INIT".
//!   RENEWING and REBINDING retransmit after half the time left to T2 or to the lease end, at
//!   least 60 s (RFC 2131 §4.4.5); T2 and the lease end bound them.
//! * **Restarts.** A NAK, or giving up a REQUESTING/REBOOTING exchange, sends the client to INIT
//!   for a uniform 1–10 s (the desynchronising wait of RFC 2131 §4.4.1), so a server that NAKs
//!   every request costs at most one exchange a second per client, never a loop at network
//!   speed. A DECLINE waits [`DECLINE_PAUSE`] (RFC 2131 §3.1 step 5: at least ten seconds). A
//!   lease that expires sends the DISCOVER at once (RFC 2131 §4.4.5: "as if the client were
//!   uninitialized"). [`Client::start`] sends its DISCOVER at once: the simulator draws arrival
//!   times itself.
//! * **Lease times** count from the moment the first REQUEST of the exchange left, not from the
//!   ACK (RFC 2131 §4.4.1, "the time at which the original request was sent"): the server
//!   started the lease when the request reached it, so the client never believes in a lease that
//!   outlives the server's record. T1 and T2 come from options 58 and 59, else 0.5 and 0.875 of
//!   the lease (RFC 2131 §4.4.5); a value out of order (T1 ≤ T2 ≤ lease) is replaced by its
//!   default.
//! * **What the client holds.** It holds a lease in BOUND, RENEWING and REBINDING only. An
//!   address being verified in INIT-REBOOT/REBOOTING is not held (RFC 2131 §4.4.2: it is not
//!   used before the ACK), so [`Client::reboot`] of a bound client reports
//!   [`LostReason::Rebooted`] and the ACK reports [`ClientOutput::Leased`] again.
//!   With `keep_lease_on_silent_reboot`, a client whose INIT-REBOOT nobody answers (five
//!   transmissions, about two minutes) holds the lease it had before the reboot again, if it
//!   has not ended, and reports [`ClientOutput::Leased`] with its old times (RFC 2131 §3.2);
//!   until then it does not use it.
//! * **Transaction IDs** are fresh from the generator per exchange: one for DISCOVER and its
//!   REQUEST (RFC 2131 Table 5: the REQUEST carries the OFFER's xid), one per RENEWING, per
//!   REBINDING, per INIT-REBOOT, one per DECLINE and RELEASE. Retransmissions keep their xid.
//!
//! # Filtering
//!
//! A datagram is considered only if it decodes, is a BOOTREPLY with htype 1, hlen 6, this
//! client's MAC in chaddr and the xid of the exchange in progress, carries no client identifier
//! other than ours (RFC 6842), and is the message type the current state waits for. Anything
//! else — garbage, replies to other clients, late replies to an old exchange — is ignored
//! without a trace and never panics.
//!
//! # Cost and invariants
//!
//! A client is plain data (`Clone`, `Eq`, `Hash`; the generator hashes by seed, stream and word
//! position), holds no heap memory but its configuration's client identifier, host name and
//! parameter list, and queues at
//! most [`MAX_QUEUED_OUTPUTS`] outputs in a fixed array: an input produces at most two, so a
//! host that drains after every input never reaches the bound (past it, new outputs are
//! dropped). The only allocations per message are those of the real encoder. Invariants,
//! asserted after every input: a lease is held exactly when the client runs and is BOUND,
//! RENEWING or REBINDING; a stopped client has no deadline; BOUND has no retransmission pending.

use std::hash::{Hash, Hasher};
use std::net::Ipv4Addr;

use dhcpfo_engine::time::{Duration, Time};
use dhcpfo_engine::wire::dhcp::{BROADCAST_FLAG, DhcpMessage, DhcpOption, MessageType, Op, code};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The options every DISCOVER and REQUEST asks for (option 55): subnet mask, routers, DNS
/// servers, lease time, T1, T2.
pub const PARAMETER_REQUEST_LIST: [u8; 6] = [
    code::SUBNET_MASK,
    code::ROUTERS,
    code::DNS_SERVERS,
    code::LEASE_TIME,
    code::RENEWAL_TIME,
    code::REBINDING_TIME,
];

/// How many times a DISCOVER, SELECTING REQUEST or INIT-REBOOT REQUEST is sent before the client
/// gives the exchange up.
pub const MAX_TRANSMISSIONS: u32 = 5;

/// The wait after the first transmission; it doubles after each one (RFC 2131 §4.1).
pub const FIRST_RETRY_WAIT: Duration = Duration::from_secs(4);

/// The longest wait between transmissions (RFC 2131 §4.1: "up to a maximum of 64 seconds").
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(64);

/// Each wait is moved by a uniform draw from −this to +this, in milliseconds (RFC 2131 §4.1:
/// "randomized by the value of a uniform random number chosen from the range -1 to +1").
pub const RETRY_JITTER_MS: u64 = 1000;

/// How long a client that no server answered waits in INIT before a fresh DISCOVER.
pub const GIVE_UP_PAUSE: Duration = Duration::from_secs(60);

/// How long a client waits in INIT after a DECLINE (RFC 2131 §3.1 step 5: at least 10 s).
pub const DECLINE_PAUSE: Duration = Duration::from_secs(10);

/// The shortest restart delay after a NAK or an abandoned REQUEST (RFC 2131 §4.4.1: 1–10 s).
pub const RESTART_DELAY_MIN: Duration = Duration::from_secs(1);

/// The longest restart delay after a NAK or an abandoned REQUEST.
pub const RESTART_DELAY_MAX: Duration = Duration::from_secs(10);

/// The shortest wait between RENEWING or REBINDING retransmissions (RFC 2131 §4.4.5).
pub const MIN_RENEW_RETRY_WAIT: Duration = Duration::from_secs(60);

/// The bound on queued outputs (see the module doc).
pub const MAX_QUEUED_OUTPUTS: usize = 4;

/// Who a client is and how it behaves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientConfig {
    /// The Ethernet address, sent in `chaddr`.
    pub mac: [u8; 6],
    /// The client identifier (option 61), type byte included; sent in every message when set.
    pub client_id: Option<Vec<u8>>,
    /// The lease time to ask for (option 51), in seconds; the server's default when `None`.
    pub requested_lease_s: Option<u32>,
    /// Whether [`Client::depart`] gives a held lease back with a RELEASE (RFC 2131 §4.4.6) or
    /// just walks away, leaving it to expire at the server.
    pub release_on_departure: bool,
    /// Whether DISCOVER and the REQUESTs sent without an address set the BROADCAST flag
    /// (RFC 2131 §4.1), asking servers to broadcast their replies rather than unicast them to
    /// the hardware address.
    pub broadcast_flag: bool,
    /// How long SELECTING collects OFFERs after the first, in milliseconds; 0 takes the first.
    pub select_window_ms: u32,
    /// The host name sent in DISCOVER and REQUEST (option 12, RFC 2132 §3.14), if any.
    pub hostname: Option<Vec<u8>>,
    /// The parameter request list of DISCOVER and REQUEST (option 55, RFC 2132 §9.8); empty:
    /// the option is left out. [`PARAMETER_REQUEST_LIST`] by default.
    pub parameter_request_list: Vec<u8>,
    /// The client writes `secs` in its own (little-endian) byte order, as the clients of the
    /// ISC field bug did (bug-catalogue I17): 3 s goes on the wire as 768.
    pub secs_byte_swapped: bool,
    /// When nobody answers an INIT-REBOOT REQUEST, the client goes on using the lease it held
    /// before the reboot, until it ends (RFC 2131 §3.2: it "MAY choose to use the previously
    /// allocated network address ... for the remainder of the unexpired lease"). Off: it
    /// starts over from INIT, as RFC 2131 §4.4.2 says otherwise.
    pub keep_lease_on_silent_reboot: bool,
}

impl ClientConfig {
    /// A client with this MAC and the defaults: no client identifier, the server's lease time,
    /// RELEASE on departure, no BROADCAST flag, the first OFFER taken, no host name, the
    /// standard parameter list, `secs` in network byte order, and no lease kept through an
    /// unanswered INIT-REBOOT.
    pub fn new(mac: [u8; 6]) -> ClientConfig {
        ClientConfig {
            mac,
            client_id: None,
            requested_lease_s: None,
            release_on_departure: true,
            broadcast_flag: false,
            select_window_ms: 0,
            hostname: None,
            parameter_request_list: PARAMETER_REQUEST_LIST.to_vec(),
            secs_byte_swapped: false,
            keep_lease_on_silent_reboot: false,
        }
    }
}

/// The client states of RFC 2131 §4.4, Figure 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientState {
    /// No address and no exchange: waiting to send a DISCOVER (also a stopped client's state).
    Init,
    /// A DISCOVER is out; collecting OFFERs.
    Selecting,
    /// A REQUEST for one OFFER is out.
    Requesting,
    /// Holding a lease, before T1.
    Bound,
    /// Past T1: asking the lease's server, by unicast, to extend it.
    Renewing,
    /// Past T2: asking any server, by broadcast, to extend it.
    Rebinding,
    /// Remembering an address after a reboot; the REQUEST leaves at once, so a client is never
    /// seen here between inputs.
    InitReboot,
    /// A REQUEST to confirm the remembered address is out.
    Rebooting,
}

/// A lease as the client believes it: every instant on the client's own clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The leased address (the ACK's `yiaddr`).
    pub address: Ipv4Addr,
    /// The server that granted or last extended it (option 54): RENEWING unicasts to it.
    pub server_id: Ipv4Addr,
    /// When the ACK arrived.
    pub acked_at: Time,
    /// When the lease ends: the first REQUEST's departure plus the lease time.
    pub expires_at: Time,
    /// When RENEWING starts (T1).
    pub t1_at: Time,
    /// When REBINDING starts (T2).
    pub t2_at: Time,
    /// The ACK answered a SELECTING REQUEST: the address was newly offered, the one a client
    /// checks with an ARP probe before using it (RFC 2131 §4.4.1). False for a lease confirmed
    /// (INIT-REBOOT) or extended (RENEWING, REBINDING): the client already uses that address.
    pub newly_offered: bool,
}

/// Why a client stopped holding an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LostReason {
    /// A server answered a RENEWING or REBINDING request with a NAK.
    Nak,
    /// The lease ended before any server extended it.
    Expired,
    /// The client gave it back with a RELEASE on departure.
    Released,
    /// The client found it in use and sent a DECLINE.
    Declined,
    /// The client departed without a RELEASE; the server's binding runs to its end.
    Departed,
    /// The client rebooted (or was restarted) and must confirm the address before using it.
    Rebooted,
}

/// Something the host must do or record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientOutput {
    /// Send a datagram from port 68 to port 67.
    Send {
        /// The encoded DHCP message.
        bytes: Vec<u8>,
        /// Sent to 255.255.255.255 (every server and relay on the client's segment).
        broadcast: bool,
        /// For a unicast (RENEWING REQUEST, RELEASE): the server's address.
        to: Option<Ipv4Addr>,
    },
    /// An ACK was accepted: the client now holds this lease (new or extended).
    Leased(Lease),
    /// The client no longer holds this address.
    Lost {
        /// The address given up.
        address: Ipv4Addr,
        /// Why.
        why: LostReason,
    },
}

/// The OFFER being answered: enough to build the SELECTING REQUEST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Offer {
    server_id: Ipv4Addr,
    address: Ipv4Addr,
}

/// The client's generator, hashable by its seed, stream and word position (the abstract state
/// its `PartialEq` compares).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClientRng(ChaCha8Rng);

impl Hash for ClientRng {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.get_seed().hash(state);
        self.0.get_stream().hash(state);
        self.0.get_word_pos().hash(state);
    }
}

/// A fixed ring of outputs (see the module doc for the bound).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Outputs {
    slots: [Option<ClientOutput>; MAX_QUEUED_OUTPUTS],
    head: usize,
    len: usize,
}

impl Outputs {
    fn push(&mut self, output: ClientOutput) {
        if self.len == MAX_QUEUED_OUTPUTS {
            // A host that drains after every input never gets here; past the bound the newest
            // output is dropped, as the engine does.
            return;
        }
        self.slots[(self.head + self.len) % MAX_QUEUED_OUTPUTS] = Some(output);
        self.len += 1;
    }

    fn pop(&mut self) -> Option<ClientOutput> {
        if self.len == 0 {
            return None;
        }
        let output = self.slots[self.head].take();
        self.head = (self.head + 1) % MAX_QUEUED_OUTPUTS;
        self.len -= 1;
        output
    }
}

/// One simulated DHCP client (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Client {
    cfg: ClientConfig,
    rng: ClientRng,
    /// False before the first start and after a departure: every input but a start is ignored.
    running: bool,
    state: ClientState,
    /// The transaction ID of the exchange in progress.
    xid: u32,
    /// When the current acquisition or renewal began: `secs` counts from here.
    started_at: Time,
    /// Transmissions of the current exchange's message so far.
    transmissions: u32,
    /// When to retransmit, send the deferred DISCOVER, or close the selecting window.
    retry_at: Option<Time>,
    /// When the first REQUEST of the current exchange left: lease times count from here.
    first_request_at: Time,
    /// The OFFER chosen in SELECTING and requested in REQUESTING.
    offer: Option<Offer>,
    /// The lease held (BOUND, RENEWING, REBINDING).
    lease: Option<Lease>,
    /// The last address held or confirmed: asked for again by INIT-REBOOT, hinted in DISCOVER.
    remembered: Option<Ipv4Addr>,
    /// In REBOOTING, with `keep_lease_on_silent_reboot`: the lease held before the reboot, used
    /// again if nobody answers and it has not ended.
    before_reboot: Option<Lease>,
    outputs: Outputs,
}

impl Client {
    /// A stopped client with this configuration, its generator seeded with `seed` (derived by
    /// the simulator from the run seed, one per client in creation order).
    pub fn new(cfg: ClientConfig, seed: u64) -> Client {
        Client {
            cfg,
            rng: ClientRng(ChaCha8Rng::seed_from_u64(seed)),
            running: false,
            state: ClientState::Init,
            xid: 0,
            started_at: Time::EPOCH,
            transmissions: 0,
            retry_at: None,
            first_request_at: Time::EPOCH,
            offer: None,
            lease: None,
            remembered: None,
            before_reboot: None,
            outputs: Outputs::default(),
        }
    }

    /// Power on in INIT: the DISCOVER leaves at once (hinting the remembered address, if any).
    /// A running client restarts, giving up any lease it holds ([`LostReason::Rebooted`]).
    pub fn start(&mut self, now: Time) {
        self.running = true;
        self.drop_lease(LostReason::Rebooted);
        self.discover(now);
        self.check();
    }

    /// Power on in INIT-REBOOT, remembering `lease` from an earlier life: a REQUEST for its
    /// address leaves at once (RFC 2131 §4.4.2). Only the address is used; the lease is not held
    /// until a server confirms it.
    pub fn start_with(&mut self, now: Time, lease: Lease) {
        self.running = true;
        self.drop_lease(LostReason::Rebooted);
        self.remembered = Some(lease.address);
        self.init_reboot(now, lease.address);
        self.check();
    }

    /// Reboot: a held lease is no longer used until confirmed ([`LostReason::Rebooted`]), and a
    /// REQUEST for the remembered address leaves at once (INIT-REBOOT, RFC 2131 §4.4.2). A client
    /// that remembers no address starts in INIT instead. Also powers on a stopped client.
    pub fn reboot(&mut self, now: Time) {
        self.running = true;
        let held = self.lease.filter(|_| self.cfg.keep_lease_on_silent_reboot);
        self.drop_lease(LostReason::Rebooted);
        match self.remembered {
            Some(address) => {
                self.init_reboot(now, address);
                self.before_reboot = held.filter(|l| l.address == address);
            }
            None => self.discover(now),
        }
        self.check();
    }

    /// Leave the network: RELEASE a held lease if configured to (RFC 2131 §4.4.6), then stop.
    /// A stopped client ignores every input until it is started again.
    pub fn depart(&mut self, now: Time) {
        if !self.running {
            return;
        }
        if self.cfg.release_on_departure {
            self.release(now);
        } else {
            self.drop_lease(LostReason::Departed);
        }
        self.running = false;
        self.state = ClientState::Init;
        self.before_reboot = None;
        self.retry_at = None;
        self.offer = None;
        self.transmissions = 0;
        self.check();
    }

    /// Give a held lease back and ask for one again `pause` later, as `ipconfig /release`
    /// followed by `ipconfig /renew` does: a RELEASE to the lease's server (RFC 2131 §4.4.6),
    /// then, after `pause` in INIT, a DISCOVER hinting the address just given back (RFC 2131
    /// §4.4.1; the remembered address stays). Whatever exchange was in progress is abandoned.
    /// The pause must keep the RELEASE ahead of the new exchange on the wire (UDP may reorder:
    /// a RELEASE overtaken by a DISCOVER, REQUEST and ACK would free the lease just granted,
    /// the client's doing). A stopped client ignores it.
    pub fn release_and_rediscover(&mut self, now: Time, pause: Duration) {
        if !self.running {
            return;
        }
        self.release(now);
        self.enter_init(now, pause);
        self.check();
    }

    /// RELEASE a held lease to its server (RFC 2131 §4.4.6: ciaddr and the server identifier)
    /// and stop holding it.
    fn release(&mut self, now: Time) {
        if let Some(lease) = self.lease {
            self.xid = self.rng.0.next_u32();
            let mut m = self.message(MessageType::Release, now, false);
            m.ciaddr = lease.address;
            m.options.push(DhcpOption::ServerId(lease.server_id));
            self.emit(&m, Some(lease.server_id));
            self.drop_lease(LostReason::Released);
        }
    }

    /// Simulated ARP probe result: the offered or ACKed address is in use by another host. The
    /// client DECLINEs it (RFC 2131 §4.4.1, §3.1 step 5), forgets it, and restarts from INIT
    /// after [`DECLINE_PAUSE`]. A held lease is reported lost ([`LostReason::Declined`]). In a
    /// state with no address in hand (INIT, SELECTING, REBOOTING) this does nothing.
    pub fn address_in_use(&mut self, now: Time) {
        if !self.running {
            return;
        }
        let (address, server_id) = match (self.state, self.lease, self.offer) {
            (ClientState::Bound | ClientState::Renewing | ClientState::Rebinding, Some(l), _) => {
                (l.address, l.server_id)
            }
            (ClientState::Requesting, _, Some(o)) => (o.address, o.server_id),
            _ => return,
        };
        // RFC 2131 Table 5: DECLINE carries the address in option 50, the server in option 54,
        // ciaddr 0, and no parameter list or lease time. RFC 2131 §4.4.4: it is broadcast.
        self.xid = self.rng.0.next_u32();
        let mut m = self.message(MessageType::Decline, now, false);
        m.options.push(DhcpOption::RequestedIp(address));
        m.options.push(DhcpOption::ServerId(server_id));
        self.emit(&m, None);
        self.drop_lease(LostReason::Declined);
        self.remembered = None;
        self.enter_init(now, DECLINE_PAUSE);
        self.check();
    }

    /// A datagram addressed to the client (or broadcast on its segment). Anything not for the
    /// exchange in progress is ignored (see the module doc); never panics.
    pub fn handle_datagram(&mut self, now: Time, bytes: &[u8]) {
        if !self.running {
            return;
        }
        let Ok(msg) = DhcpMessage::parse(bytes) else {
            return;
        };
        if !self.is_for_me(&msg) {
            return;
        }
        use ClientState::*;
        match (self.state, msg.message_type()) {
            (Selecting, Some(MessageType::Offer)) => self.on_offer(now, &msg),
            (Requesting | Rebooting | Renewing | Rebinding, Some(MessageType::Ack)) => {
                self.on_ack(now, &msg)
            }
            (Requesting | Rebooting | Renewing | Rebinding, Some(MessageType::Nak)) => {
                self.on_nak(now, &msg)
            }
            _ => {}
        }
        self.check();
    }

    /// Time passed: lease timers first (expiry, T2, T1; RFC 2131 §4.4.5), then the
    /// retransmission or delay timer. Early calls do nothing.
    pub fn handle_timeout(&mut self, now: Time) {
        if self.running {
            self.on_timeout(now);
        }
        self.check();
    }

    /// The next output, if any. Drain to `None` after every input.
    pub fn poll_output(&mut self) -> Option<ClientOutput> {
        self.outputs.pop()
    }

    /// When `handle_timeout` should next be called; `None` for a stopped client.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        if !self.running {
            return None;
        }
        let lease_at = self.lease.map(|l| match self.state {
            ClientState::Bound => l.t1_at.min(l.t2_at).min(l.expires_at),
            ClientState::Renewing => l.t2_at.min(l.expires_at),
            _ => l.expires_at,
        });
        [self.retry_at, lease_at].into_iter().flatten().min()
    }

    /// The current state (INIT for a stopped client).
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// The client-identifier it sends (option 61), if it sends one.
    pub fn client_id(&self) -> Option<&[u8]> {
        self.cfg.client_id.as_deref()
    }

    /// The lease held, in BOUND, RENEWING and REBINDING.
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// The REQUEST in flight, if any: its transaction ID and the address it asks for (REQUESTING:
    /// the offered address; REBOOTING: the remembered one; RENEWING and REBINDING: the lease's).
    /// A reply carrying this xid answers that REQUEST, so an observer can tell which address a
    /// DHCPNAK refuses (a NAK names none, RFC 2131 Table 3).
    pub fn request_in_flight(&self) -> Option<(u32, Ipv4Addr)> {
        let address = match (self.state, self.offer, self.lease) {
            (ClientState::Requesting, Some(o), _) => o.address,
            (ClientState::Rebooting, _, _) => self.remembered?,
            (ClientState::Renewing | ClientState::Rebinding, _, Some(l)) => l.address,
            _ => return None,
        };
        self.running.then_some((self.xid, address))
    }

    /// Whether the client has been started and has not departed.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// The client's configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    // ---- Transitions ----

    fn on_timeout(&mut self, now: Time) {
        use ClientState::*;
        if let Some(lease) = self.lease {
            if now >= lease.expires_at {
                // RFC 2131 §4.4.5: the lease is gone; ask again at once, as if uninitialized.
                self.drop_lease(LostReason::Expired);
                self.discover(now);
                return;
            }
            match self.state {
                Bound | Renewing if now >= lease.t2_at => {
                    // RFC 2131 §4.4.5: at T2 ask any server, by broadcast. `secs` keeps counting
                    // from T1 when the client renewed first.
                    if self.state == Bound {
                        self.started_at = now;
                    }
                    self.state = Rebinding;
                    self.begin_exchange();
                    self.send_request(now);
                    self.retry_at = Some(renew_retry_at(now, lease.expires_at));
                    return;
                }
                Bound if now >= lease.t1_at => {
                    // RFC 2131 §4.4.5: at T1 ask the lease's server, by unicast.
                    self.state = Renewing;
                    self.started_at = now;
                    self.begin_exchange();
                    self.send_request(now);
                    self.retry_at = Some(renew_retry_at(now, lease.t2_at));
                    return;
                }
                _ => {}
            }
        }
        let Some(retry_at) = self.retry_at else {
            return;
        };
        if now < retry_at {
            return;
        }
        match self.state {
            Init => self.discover(now),
            Selecting if self.offer.is_some() => self.request(now),
            Selecting if self.transmissions >= MAX_TRANSMISSIONS => {
                self.enter_init(now, GIVE_UP_PAUSE)
            }
            Rebooting
                if self.transmissions >= MAX_TRANSMISSIONS
                    && self.before_reboot.is_some_and(|l| now < l.expires_at) =>
            {
                // RFC 2131 §3.2: nobody answered; use the unexpired lease for what is left of
                // it. Its timers are the old ones: T1 or T2 may have passed already.
                self.resume_lease();
            }
            Requesting | Rebooting if self.transmissions >= MAX_TRANSMISSIONS => {
                let delay = self.restart_delay();
                self.enter_init(now, delay);
            }
            Selecting => {
                self.send_discover(now);
                self.retry_at = Some(self.backoff(now));
            }
            Requesting | Rebooting => {
                self.send_request(now);
                self.retry_at = Some(self.backoff(now));
            }
            Renewing | Rebinding => {
                // Only reachable with a lease (the invariant); the limit is T2 or the lease end.
                let Some(lease) = self.lease else {
                    self.retry_at = None;
                    return;
                };
                let limit = if self.state == Renewing {
                    lease.t2_at
                } else {
                    lease.expires_at
                };
                self.send_request(now);
                self.retry_at = Some(renew_retry_at(now, limit));
            }
            Bound | InitReboot => self.retry_at = None,
        }
    }

    /// RFC 2131 §4.4.1: collect an OFFER; request the pick when the window closes.
    fn on_offer(&mut self, now: Time, msg: &DhcpMessage) {
        // An OFFER without a server identifier cannot be requested (RFC 2131 Table 3: MUST).
        let Some(server_id) = msg.server_id() else {
            return;
        };
        if !usable(msg.yiaddr) {
            return;
        }
        let offer = Offer {
            server_id,
            address: msg.yiaddr,
        };
        match self.offer {
            None => {
                self.offer = Some(offer);
                if self.cfg.select_window_ms == 0 {
                    self.request(now);
                } else {
                    let window = Duration::from_millis(u64::from(self.cfg.select_window_ms));
                    self.retry_at = Some(now + window);
                }
            }
            Some(current) => {
                if self.remembered == Some(offer.address) && current.address != offer.address {
                    self.offer = Some(offer);
                }
            }
        }
    }

    /// An ACK for the REQUEST in flight: hold the lease (RFC 2131 §4.4.1, §4.4.2, §4.4.5).
    fn on_ack(&mut self, now: Time, msg: &DhcpMessage) {
        // RFC 2131 Table 3: an ACK to a REQUEST MUST carry the lease time; without one there is
        // no lease to hold.
        let Some(lease_s) = msg.lease_time_s() else {
            return;
        };
        let (expected, known_server) = match (self.state, self.offer, self.lease) {
            (ClientState::Requesting, Some(o), _) => (o.address, Some(o.server_id)),
            (ClientState::Rebooting, _, _) => match self.remembered {
                Some(a) => (a, None),
                None => return,
            },
            (ClientState::Renewing | ClientState::Rebinding, _, Some(l)) => {
                (l.address, Some(l.server_id))
            }
            _ => return,
        };
        if msg.yiaddr != expected {
            return;
        }
        if self.state == ClientState::Requesting
            && msg.server_id().is_some_and(|id| Some(id) != known_server)
        {
            return;
        }
        // REBINDING may be answered by another server: the lease then belongs to it.
        let Some(server_id) = msg.server_id().or(known_server) else {
            return;
        };
        let t1_s = msg.options.iter().find_map(|o| match o {
            DhcpOption::RenewalTime(s) => Some(*s),
            _ => None,
        });
        let t2_s = msg.options.iter().find_map(|o| match o {
            DhcpOption::RebindingTime(s) => Some(*s),
            _ => None,
        });
        let (t1_at, t2_at, expires_at) = lease_times(self.first_request_at, lease_s, t1_s, t2_s);
        let lease = Lease {
            address: expected,
            server_id,
            acked_at: now,
            expires_at,
            t1_at,
            t2_at,
            newly_offered: self.state == ClientState::Requesting,
        };
        self.lease = Some(lease);
        self.remembered = Some(expected);
        self.before_reboot = None;
        self.state = ClientState::Bound;
        self.offer = None;
        self.retry_at = None;
        self.transmissions = 0;
        self.outputs.push(ClientOutput::Leased(lease));
    }

    /// A NAK for the REQUEST in flight: back to INIT (RFC 2131 §4.4.1, §4.4.2, §4.4.5).
    fn on_nak(&mut self, now: Time, msg: &DhcpMessage) {
        match self.state {
            ClientState::Requesting => {
                let chosen = self.offer.map(|o| o.server_id);
                if msg.server_id().is_some_and(|id| Some(id) != chosen) {
                    return;
                }
            }
            ClientState::Rebooting => self.remembered = None,
            ClientState::Renewing | ClientState::Rebinding => {
                self.drop_lease(LostReason::Nak);
                self.remembered = None;
            }
            _ => return,
        }
        let delay = self.restart_delay();
        self.enter_init(now, delay);
    }

    /// INIT → SELECTING: a new acquisition with a fresh xid.
    fn discover(&mut self, now: Time) {
        self.before_reboot = None;
        self.state = ClientState::Selecting;
        self.started_at = now;
        self.offer = None;
        self.begin_exchange();
        self.send_discover(now);
        self.retry_at = Some(self.backoff(now));
    }

    /// SELECTING → REQUESTING: the xid of the DISCOVER goes on (RFC 2131 Table 5).
    fn request(&mut self, now: Time) {
        self.state = ClientState::Requesting;
        self.transmissions = 0;
        self.send_request(now);
        self.retry_at = Some(self.backoff(now));
    }

    /// INIT-REBOOT → REBOOTING: ask to confirm `address`.
    fn init_reboot(&mut self, now: Time, address: Ipv4Addr) {
        self.before_reboot = None;
        self.state = ClientState::InitReboot;
        self.remembered = Some(address);
        self.offer = None;
        self.started_at = now;
        self.begin_exchange();
        self.state = ClientState::Rebooting;
        self.send_request(now);
        self.retry_at = Some(self.backoff(now));
    }

    /// Hold again the lease held before the reboot (RFC 2131 §3.2), with its own times.
    fn resume_lease(&mut self) {
        let Some(lease) = self.before_reboot.take() else {
            return;
        };
        let lease = Lease {
            newly_offered: false,
            ..lease
        };
        self.lease = Some(lease);
        self.state = ClientState::Bound;
        self.retry_at = None;
        self.transmissions = 0;
        self.outputs.push(ClientOutput::Leased(lease));
    }

    /// Wait in INIT for `delay`, then DISCOVER.
    fn enter_init(&mut self, now: Time, delay: Duration) {
        self.before_reboot = None;
        self.state = ClientState::Init;
        self.offer = None;
        self.transmissions = 0;
        self.retry_at = Some(now + delay);
    }

    /// A fresh xid and transmission count for a new exchange.
    fn begin_exchange(&mut self) {
        self.xid = self.rng.0.next_u32();
        self.transmissions = 0;
    }

    /// Report a held lease lost (remembering its address), if one is held.
    fn drop_lease(&mut self, why: LostReason) {
        if let Some(lease) = self.lease.take() {
            self.remembered = Some(lease.address);
            self.outputs.push(ClientOutput::Lost {
                address: lease.address,
                why,
            });
        }
    }

    /// RFC 2131 §4.1: after transmission k (1-based) wait 4·2^(k−1) s, at most 64 s, ± 1 s.
    fn backoff(&mut self, now: Time) -> Time {
        let doublings = self.transmissions.saturating_sub(1).min(6);
        let base =
            Duration::from_millis(FIRST_RETRY_WAIT.as_millis() << doublings).min(MAX_RETRY_WAIT);
        let jitter_ms = self.rng.0.random_range(0..=2 * RETRY_JITTER_MS);
        // base − 1 s + [0, 2 s]: base is at least 4 s, so this never goes below 3 s.
        now + Duration::from_millis(base.as_millis() - RETRY_JITTER_MS + jitter_ms)
    }

    /// A uniform 1–10 s (RFC 2131 §4.4.1's desynchronising wait).
    fn restart_delay(&mut self) -> Duration {
        let ms = self
            .rng
            .0
            .random_range(RESTART_DELAY_MIN.as_millis()..=RESTART_DELAY_MAX.as_millis());
        Duration::from_millis(ms)
    }

    // ---- Messages ----

    /// A client message of this type with the exchange's xid: chaddr, `secs` (RFC 2131 Table 5:
    /// 0 for DECLINE and RELEASE) and the client identifier.
    fn message(&self, kind: MessageType, now: Time, counts_secs: bool) -> DhcpMessage {
        let mut m = DhcpMessage::new(Op::Request, self.xid);
        for (dst, src) in m.chaddr.iter_mut().zip(self.cfg.mac) {
            *dst = src;
        }
        if counts_secs {
            let secs = now.saturating_since(self.started_at).as_secs();
            let secs = u16::try_from(secs).unwrap_or(u16::MAX);
            m.secs = if self.cfg.secs_byte_swapped {
                secs.swap_bytes()
            } else {
                secs
            };
        }
        m.options = Vec::with_capacity(7);
        m.options.push(DhcpOption::MessageType(kind));
        if let Some(id) = &self.cfg.client_id {
            m.options.push(DhcpOption::ClientId(id.clone()));
        }
        m
    }

    /// What a DISCOVER or REQUEST asks for: a lease time if configured, and the parameters.
    fn push_wishes(&self, m: &mut DhcpMessage) {
        if let Some(s) = self.cfg.requested_lease_s {
            m.options.push(DhcpOption::LeaseTime(s));
        }
        if let Some(name) = &self.cfg.hostname {
            m.options.push(DhcpOption::HostName(name.clone()));
        }
        if !self.cfg.parameter_request_list.is_empty() {
            m.options.push(DhcpOption::ParameterRequestList(
                self.cfg.parameter_request_list.clone(),
            ));
        }
    }

    fn send_discover(&mut self, now: Time) {
        let mut m = self.message(MessageType::Discover, now, true);
        if self.cfg.broadcast_flag {
            m.flags = BROADCAST_FLAG;
        }
        // RFC 2131 §4.4.1: the client MAY suggest the address it last had.
        if let Some(address) = self.remembered {
            m.options.push(DhcpOption::RequestedIp(address));
        }
        self.push_wishes(&mut m);
        self.emit(&m, None);
        self.transmissions += 1;
    }

    /// The REQUEST of the current state (RFC 2131 §4.3.2 and Table 5 tell them apart).
    fn send_request(&mut self, now: Time) {
        let mut m = self.message(MessageType::Request, now, true);
        let to = match (self.state, self.offer, self.lease) {
            (ClientState::Requesting, Some(o), _) => {
                // SELECTING: server identifier and requested address, no ciaddr.
                m.options.push(DhcpOption::RequestedIp(o.address));
                m.options.push(DhcpOption::ServerId(o.server_id));
                None
            }
            (ClientState::Rebooting, _, _) => {
                // INIT-REBOOT: requested address, no server identifier, no ciaddr.
                let Some(address) = self.remembered else {
                    return;
                };
                m.options.push(DhcpOption::RequestedIp(address));
                None
            }
            (ClientState::Renewing, _, Some(l)) => {
                // RENEWING: ciaddr, neither option 50 nor 54, unicast to the lease's server.
                m.ciaddr = l.address;
                Some(l.server_id)
            }
            (ClientState::Rebinding, _, Some(l)) => {
                // REBINDING: like RENEWING, but broadcast.
                m.ciaddr = l.address;
                None
            }
            _ => {
                debug_assert!(false, "no REQUEST to send in {:?}", self.state);
                return;
            }
        };
        if m.ciaddr.is_unspecified() && self.cfg.broadcast_flag {
            m.flags = BROADCAST_FLAG;
        }
        self.push_wishes(&mut m);
        if self.transmissions == 0 {
            self.first_request_at = now;
        }
        self.emit(&m, to);
        self.transmissions += 1;
    }

    fn emit(&mut self, m: &DhcpMessage, to: Option<Ipv4Addr>) {
        self.outputs.push(ClientOutput::Send {
            bytes: m.to_bytes(),
            broadcast: to.is_none(),
            to,
        });
    }

    /// Whether a decoded datagram is a reply to this client's exchange in progress.
    fn is_for_me(&self, msg: &DhcpMessage) -> bool {
        let id_matches = match (&self.cfg.client_id, msg.client_id()) {
            (Some(mine), Some(theirs)) => mine.as_slice() == theirs,
            _ => true,
        };
        msg.op == Op::Reply
            && msg.htype == 1
            && msg.hlen == 6
            && msg.xid == self.xid
            && msg.chaddr.starts_with(&self.cfg.mac)
            && id_matches
    }

    /// The invariants of the module doc.
    fn check(&self) {
        use ClientState::*;
        debug_assert_eq!(
            self.lease.is_some(),
            self.running && matches!(self.state, Bound | Renewing | Rebinding),
            "a lease is held exactly in BOUND, RENEWING and REBINDING ({:?})",
            self.state
        );
        debug_assert!(
            self.running || self.retry_at.is_none(),
            "a stopped client has no deadline"
        );
        debug_assert!(
            self.state != Bound || self.retry_at.is_none(),
            "BOUND has nothing to retransmit"
        );
        debug_assert!(self.state != InitReboot, "INIT-REBOOT lasts no time");
        debug_assert!(
            self.before_reboot.is_none() || self.state == Rebooting,
            "a lease kept through a reboot waits only in REBOOTING"
        );
        debug_assert!(self.outputs.len <= MAX_QUEUED_OUTPUTS);
    }
}

/// Whether an offered address could be a host's: not 0.0.0.0, broadcast or multicast.
fn usable(address: Ipv4Addr) -> bool {
    !(address.is_unspecified() || address.is_broadcast() || address.is_multicast())
}

/// RFC 2131 §4.4.5: retransmit after half the time left until `limit`, at least 60 s.
fn renew_retry_at(now: Time, limit: Time) -> Time {
    let half = limit.saturating_since(now).mul_ratio(1, 2);
    now + half.max(MIN_RENEW_RETRY_WAIT)
}

/// T1, T2 and the lease end, counted from `base` (RFC 2131 §4.4.1, §4.4.5).
fn lease_times(
    base: Time,
    lease_s: u32,
    t1_s: Option<u32>,
    t2_s: Option<u32>,
) -> (Time, Time, Time) {
    let secs = |s: u32| Duration::from_secs(u64::from(s));
    let lease = secs(lease_s);
    let t2 = t2_s
        .map(secs)
        .filter(|&t2| t2 <= lease)
        .unwrap_or_else(|| lease.mul_ratio(7, 8));
    let t1 = t1_s
        .map(secs)
        .filter(|&t1| t1 > Duration::ZERO && t1 <= t2)
        .unwrap_or_else(|| lease.mul_ratio(1, 2))
        .min(t2);
    (base + t1, base + t2, base + lease)
}

#[cfg(test)]
mod tests {
    //! Conversations between clients and real engine servers, each step at a stated time
    //! (t = seconds since the test's epoch). Messages cross as bytes through the real codec.

    use std::net::SocketAddrV4;

    use dhcpfo_engine::config::{AddressRange, LeaseTimes, ServerConfig, Subnet};
    use dhcpfo_engine::lease::BindingState;
    use dhcpfo_engine::server::{Output, Received, Server};
    use dhcpfo_engine::storage::MemStorage;
    use proptest::prelude::*;

    use super::*;

    const SERVER_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const SERVER_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const T0_S: u64 = 1_700_000_000;

    fn addr(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, last)
    }

    /// `s` seconds after the test's epoch.
    fn t(s: u64) -> Time {
        Time::from_secs(T0_S + s)
    }

    /// `ms` milliseconds after the test's epoch.
    fn t_ms(ms: u64) -> Time {
        Time::from_millis(T0_S * 1000 + ms)
    }

    /// Milliseconds since the test's epoch.
    fn ms_of(at: Time) -> u64 {
        at.as_millis() - T0_S * 1000
    }

    fn mac(n: u8) -> [u8; 6] {
        [0x02, 0, 0, 0, 0, n]
    }

    fn server_config(server_id: Ipv4Addr, pool_last: u8, offer_hold_s: u32) -> ServerConfig {
        ServerConfig {
            server_id,
            lease: LeaseTimes {
                default_s: 3600,
                min_s: 300,
                max_s: 7200,
                t1_permille: 500,
                t2_permille: 875,
            },
            subnets: vec![Subnet {
                network: Ipv4Addr::new(192, 0, 2, 0),
                mask: Ipv4Addr::new(255, 255, 255, 0),
                ranges: vec![AddressRange {
                    first: addr(100),
                    last: addr(pool_last),
                }],
                routers: vec![addr(254)],
                dns_servers: vec![addr(53)],
                domain_name: None,
            }],
            reservations: vec![],
            offer_hold_s,
            failover: None,
            bugs: Default::default(),
        }
    }

    /// What happened on the segment.
    #[derive(Debug, Clone)]
    enum What {
        Sent {
            msg: DhcpMessage,
            broadcast: bool,
            to: Option<Ipv4Addr>,
        },
        Reply {
            msg: DhcpMessage,
        },
        Leased(Lease),
        Lost {
            address: Ipv4Addr,
            why: LostReason,
        },
    }

    #[derive(Debug, Clone)]
    struct Note {
        at: Time,
        /// The client that sent or learned it (for a reply: every client heard it).
        client: usize,
        what: What,
    }

    /// Standalone servers and one broadcast segment: no delay, no loss unless told.
    struct Net {
        servers: Vec<Server<MemStorage>>,
        reachable: Vec<bool>,
        /// Client messages to lose on the way to the servers.
        drop_if: Option<fn(&DhcpMessage) -> bool>,
        log: Vec<Note>,
    }

    impl Net {
        fn new(configs: Vec<ServerConfig>) -> Net {
            let servers: Vec<_> = configs
                .into_iter()
                .map(|c| Server::new(c, MemStorage::default(), &[], t(0)).unwrap())
                .collect();
            Net {
                reachable: vec![true; servers.len()],
                servers,
                drop_if: None,
                log: Vec::new(),
            }
        }

        fn one(pool_last: u8) -> Net {
            Net::new(vec![server_config(SERVER_A, pool_last, 60)])
        }

        fn server(&self, id: Ipv4Addr) -> &Server<MemStorage> {
            self.servers
                .iter()
                .find(|s| s.config().server_id == id)
                .unwrap()
        }

        fn binding(&self, id: Ipv4Addr, a: Ipv4Addr) -> BindingState {
            self.server(id).leases().binding(a).unwrap().state
        }

        fn set_reachable(&mut self, id: Ipv4Addr, up: bool) {
            for (s, r) in self.servers.iter().zip(self.reachable.iter_mut()) {
                if s.config().server_id == id {
                    *r = up;
                }
            }
        }

        /// Drive servers and clients through every deadline up to `until`.
        fn run(&mut self, clients: &mut [Client], until: Time) {
            for _ in 0..100_000 {
                let next = clients
                    .iter()
                    .filter_map(Client::poll_timeout)
                    .chain(self.servers.iter().filter_map(Server::poll_timeout))
                    .min();
                let Some(now) = next.filter(|&n| n <= until) else {
                    return;
                };
                for s in &mut self.servers {
                    if s.poll_timeout().is_some_and(|d| d <= now) {
                        s.handle_timeout(now);
                        while s.poll_output().is_some() {}
                    }
                }
                for c in clients.iter_mut() {
                    if c.poll_timeout().is_some_and(|d| d <= now) {
                        c.handle_timeout(now);
                    }
                }
                self.settle(now, clients);
            }
            panic!("the world never went quiet");
        }

        /// Carry every queued message to where it goes until nothing moves.
        fn settle(&mut self, now: Time, clients: &mut [Client]) {
            for _ in 0..64 {
                let mut replies = Vec::new();
                for (i, c) in clients.iter_mut().enumerate() {
                    while let Some(out) = c.poll_output() {
                        let what = match out {
                            ClientOutput::Send {
                                bytes,
                                broadcast,
                                to,
                            } => {
                                let msg = DhcpMessage::parse(&bytes).expect("valid DHCP");
                                let lost = self.drop_if.is_some_and(|f| f(&msg));
                                let servers = self.servers.iter_mut().zip(&self.reachable);
                                for (s, _) in servers.filter(|(_, up)| **up && !lost) {
                                    let id = s.config().server_id;
                                    if !(broadcast || to == Some(id)) {
                                        continue;
                                    }
                                    let rx = Received {
                                        src: SocketAddrV4::new(msg.ciaddr, 68),
                                        broadcast,
                                        interface: id,
                                    };
                                    s.handle_dhcp(now, rx, &bytes);
                                    while let Some(o) = s.poll_output() {
                                        if let Output::Dhcp(tx) = o {
                                            replies.push(tx.bytes);
                                        }
                                    }
                                }
                                What::Sent { msg, broadcast, to }
                            }
                            ClientOutput::Leased(lease) => What::Leased(lease),
                            ClientOutput::Lost { address, why } => What::Lost { address, why },
                        };
                        self.log.push(Note {
                            at: now,
                            client: i,
                            what,
                        });
                    }
                }
                if replies.is_empty() {
                    return;
                }
                for bytes in replies {
                    let msg = DhcpMessage::parse(&bytes).expect("valid DHCP");
                    self.log.push(Note {
                        at: now,
                        client: usize::MAX,
                        what: What::Reply { msg },
                    });
                    // One segment: every client hears every reply and must pick out its own.
                    for c in clients.iter_mut() {
                        c.handle_datagram(now, &bytes);
                    }
                }
            }
            panic!("messages kept bouncing");
        }

        /// What client `i` sent: (when, message, broadcast, unicast destination).
        fn sent(&self, i: usize) -> Vec<(Time, DhcpMessage, bool, Option<Ipv4Addr>)> {
            self.log
                .iter()
                .filter(|n| n.client == i)
                .filter_map(|n| match &n.what {
                    What::Sent { msg, broadcast, to } => Some((n.at, msg.clone(), *broadcast, *to)),
                    _ => None,
                })
                .collect()
        }

        /// The replies seen, with their times.
        fn replies(&self) -> Vec<(Time, DhcpMessage)> {
            self.log
                .iter()
                .filter_map(|n| match &n.what {
                    What::Reply { msg } => Some((n.at, msg.clone())),
                    _ => None,
                })
                .collect()
        }

        /// Leases won and lost by client `i`, in order.
        fn beliefs(&self, i: usize) -> Vec<(Time, What)> {
            self.log
                .iter()
                .filter(|n| n.client == i)
                .filter(|n| matches!(n.what, What::Leased(_) | What::Lost { .. }))
                .map(|n| (n.at, n.what.clone()))
                .collect()
        }
    }

    fn kind(m: &DhcpMessage) -> MessageType {
        m.message_type().unwrap()
    }

    fn renewal_time(m: &DhcpMessage) -> Option<u32> {
        m.options.iter().find_map(|o| match o {
            DhcpOption::RenewalTime(s) => Some(*s),
            _ => None,
        })
    }

    /// Start client 0 at t=0 and let DORA run with no loss.
    fn bound_client(net: &mut Net, cfg: ClientConfig, seed: u64) -> Vec<Client> {
        let mut clients = vec![Client::new(cfg, seed)];
        clients[0].start(t(0));
        net.settle(t(0), &mut clients);
        assert_eq!(clients[0].state(), ClientState::Bound);
        clients
    }

    #[test]
    fn full_dora_binds_with_t1_and_t2_from_the_ack() {
        let mut net = Net::one(199);
        let cfg = ClientConfig {
            client_id: Some(vec![1, 2, 0, 0, 0, 0, 1]),
            ..ClientConfig::new(mac(1))
        };
        let mut c = vec![Client::new(cfg, 7)];
        assert_eq!(c[0].poll_timeout(), None, "a new client is stopped");
        // t=0 DISCOVER (broadcast) → OFFER → REQUEST naming A (broadcast) → ACK.
        c[0].start(t(0));
        net.settle(t(0), &mut c);
        let sent = net.sent(0);
        assert_eq!(sent.len(), 2);
        let (at, discover, broadcast, to) = &sent[0];
        assert_eq!(
            (*at, kind(discover), *broadcast, *to),
            (t(0), MessageType::Discover, true, None)
        );
        assert_eq!(discover.op, Op::Request);
        assert_eq!(discover.client_hw_addr(), &mac(1));
        assert_eq!(discover.client_id(), Some(&[1, 2, 0, 0, 0, 0, 1][..]));
        assert_eq!(
            discover.parameter_request_list(),
            Some(&[1, 3, 6, 51, 58, 59][..])
        );
        assert_eq!(discover.requested_ip(), None, "nothing remembered yet");
        assert_eq!(discover.lease_time_s(), None);
        assert_eq!(discover.flags, 0);
        let (_, request, broadcast, to) = &sent[1];
        assert_eq!(kind(request), MessageType::Request);
        assert_eq!((*broadcast, *to), (true, None));
        assert_eq!(
            request.xid, discover.xid,
            "RFC 2131 Table 5: the OFFER's xid"
        );
        assert_eq!(request.server_id(), Some(SERVER_A));
        assert_eq!(request.requested_ip(), Some(addr(100)));
        assert_eq!(request.ciaddr, Ipv4Addr::UNSPECIFIED);
        assert_eq!(request.client_id(), discover.client_id());

        let kinds: Vec<_> = net.replies().iter().map(|(_, m)| kind(m)).collect();
        assert_eq!(kinds, [MessageType::Offer, MessageType::Ack]);
        let lease = Lease {
            address: addr(100),
            server_id: SERVER_A,
            acked_at: t(0),
            expires_at: t(3600),
            t1_at: t(1800),
            t2_at: t(3150),
            newly_offered: true,
        };
        assert_eq!(c[0].lease(), Some(&lease));
        assert_eq!(net.beliefs(0).len(), 1);
        assert!(matches!(net.beliefs(0)[0].1, What::Leased(l) if l == lease));
        assert_eq!(
            c[0].poll_timeout(),
            Some(t(1800)),
            "nothing to do before T1"
        );
        assert_eq!(net.binding(SERVER_A, addr(100)), BindingState::Active);
    }

    #[test]
    fn the_requested_lease_time_is_asked_for_and_t1_follows_the_grant() {
        let mut net = Net::one(199);
        let cfg = ClientConfig {
            requested_lease_s: Some(1200),
            broadcast_flag: true,
            ..ClientConfig::new(mac(1))
        };
        let c = bound_client(&mut net, cfg, 1);
        for (_, m, _, _) in net.sent(0) {
            assert_eq!(m.lease_time_s(), Some(1200));
            assert_eq!(m.flags, BROADCAST_FLAG);
        }
        let (_, ack) = net.replies().pop().unwrap();
        assert_eq!(
            (ack.lease_time_s(), renewal_time(&ack)),
            (Some(1200), Some(600))
        );
        let lease = c[0].lease().unwrap();
        assert_eq!((lease.t1_at, lease.expires_at), (t(600), t(1200)));
    }

    #[test]
    fn renewal_at_t1_is_unicast_to_the_server_and_extends_the_lease() {
        let mut net = Net::one(199);
        let mut c = bound_client(&mut net, ClientConfig::new(mac(1)), 1);
        let first_xid = net.sent(0)[0].1.xid;
        // t=1800 (T1): RENEWING, unicast with ciaddr, no server-id or requested address.
        net.run(&mut c, t(1800));
        let (at, renew, broadcast, to) = net.sent(0).pop().unwrap();
        assert_eq!((at, kind(&renew)), (t(1800), MessageType::Request));
        assert_eq!((broadcast, to), (false, Some(SERVER_A)));
        assert_eq!(renew.ciaddr, addr(100));
        assert_eq!((renew.server_id(), renew.requested_ip()), (None, None));
        assert_ne!(renew.xid, first_xid, "a fresh xid per exchange");
        assert_eq!(renew.secs, 0);
        // The ACK (same instant: no delay) extends the lease from T1.
        assert_eq!(c[0].state(), ClientState::Bound);
        let lease = *c[0].lease().unwrap();
        assert_eq!(
            (lease.acked_at, lease.expires_at),
            (t(1800), t(1800 + 3600))
        );
        assert_eq!((lease.t1_at, lease.t2_at), (t(1800 + 1800), t(1800 + 3150)));
        assert_eq!(
            net.server(SERVER_A)
                .leases()
                .binding(addr(100))
                .unwrap()
                .expires_at,
            lease.expires_at
        );
        assert_eq!(net.beliefs(0).len(), 2);
    }

    #[test]
    fn silent_server_at_t1_leads_to_rebinding_then_expiry_then_a_new_dora_elsewhere() {
        let mut net = Net::new(vec![
            server_config(SERVER_A, 199, 60),
            server_config(SERVER_B, 199, 60),
        ]);
        net.set_reachable(SERVER_B, false);
        let mut c = bound_client(&mut net, ClientConfig::new(mac(1)), 3);
        // From now on A hears nothing; B (sharing nothing with A) hears the segment.
        net.set_reachable(SERVER_A, false);
        net.set_reachable(SERVER_B, true);
        net.run(&mut c, t(3599));
        let sent = net.sent(0);
        let renews: Vec<_> = sent.iter().filter(|s| s.3 == Some(SERVER_A)).collect();
        let rebinds: Vec<_> = sent.iter().skip(2).filter(|s| s.2).collect();
        // RFC 2131 §4.4.5: half the time left to T2 (then to the lease end), at least 60 s.
        let renew_ms: Vec<_> = renews.iter().map(|s| ms_of(s.0)).collect();
        assert_eq!(
            renew_ms,
            [
                1_800_000, 2_475_000, 2_812_500, 2_981_250, 3_065_625, 3_125_625
            ]
        );
        let rebind_ms: Vec<_> = rebinds.iter().map(|s| ms_of(s.0)).collect();
        assert_eq!(rebind_ms, [3_150_000, 3_375_000, 3_487_500, 3_547_500]);
        for (_, m, _, _) in renews.iter().chain(&rebinds) {
            assert_eq!((kind(m), m.ciaddr), (MessageType::Request, addr(100)));
            assert_eq!((m.server_id(), m.requested_ip()), (None, None));
        }
        assert_eq!(
            renews
                .iter()
                .map(|s| s.1.xid)
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            1
        );
        assert_ne!(renews[0].1.xid, rebinds[0].1.xid);
        assert_eq!(rebinds[3].1.secs, 3547 - 1800, "secs counts from T1");
        // B has no record of the client: silence (RFC 2131 §4.3.2), never a NAK.
        assert_eq!(net.server(SERVER_B).counters().no_record, 4);
        assert_eq!(c[0].state(), ClientState::Rebinding);

        // t=3600: the lease is gone; DISCOVER at once, B offers, the client binds to B.
        net.run(&mut c, t(3600));
        let beliefs = net.beliefs(0);
        assert!(matches!(
            beliefs[1],
            (at, What::Lost { address, why: LostReason::Expired }) if at == t(3600) && address == addr(100)
        ));
        let (at, discover, _, _) = net.sent(0)[12].clone();
        assert_eq!((at, kind(&discover)), (t(3600), MessageType::Discover));
        assert_eq!(
            discover.requested_ip(),
            Some(addr(100)),
            "it hints its old address"
        );
        assert_eq!(discover.secs, 0);
        let lease = c[0].lease().unwrap();
        assert_eq!((lease.server_id, lease.address), (SERVER_B, addr(100)));
        assert_eq!(lease.expires_at, t(3600 + 3600));
        assert_eq!(net.binding(SERVER_B, addr(100)), BindingState::Active);
    }

    #[test]
    fn nak_in_requesting_sends_the_client_back_to_init() {
        // One address; offers are held for 10 s.
        let mut net = Net::new(vec![server_config(SERVER_A, 100, 10)]);
        let mut c = vec![
            Client::new(ClientConfig::new(mac(1)), 1),
            Client::new(ClientConfig::new(mac(2)), 2),
        ];
        // t=0..20: client 0 gets the OFFER but its REQUESTs are lost.
        net.drop_if = Some(|m| m.message_type() == Some(MessageType::Request));
        c[0].start(t(0));
        net.settle(t(0), &mut c);
        net.run(&mut c, t(20));
        assert_eq!(c[0].state(), ClientState::Requesting);
        assert_eq!(
            net.sent(0).len(),
            1 + 3,
            "DISCOVER and three REQUESTs by t=20"
        );
        // t=20: client 1 arrives after the offer lapsed and takes the only address.
        net.drop_if = None;
        c[1].start(t(20));
        net.settle(t(20), &mut c);
        assert_eq!(c[1].lease().map(|l| l.address), Some(addr(100)));
        // Client 0's fourth REQUEST (t=28±3) is refused: NAK, back to INIT.
        net.run(&mut c, t(31));
        let (nak_at, nak) = net.replies().pop().unwrap();
        assert_eq!(kind(&nak), MessageType::Nak);
        assert_eq!(nak.xid, net.sent(0)[0].1.xid);
        assert!(t(25) <= nak_at && nak_at <= t(31), "{nak_at}");
        assert_eq!(net.server(SERVER_A).counters().naks, 1);
        assert!(net.beliefs(0).is_empty(), "it never held the address");
        // It restarts 1–10 s later with a fresh DISCOVER (the pool is empty: no answer).
        net.run(&mut c, nak_at + Duration::from_secs(10));
        let (again_at, again, _, _) = net.sent(0)[5].clone();
        assert_eq!(kind(&again), MessageType::Discover);
        assert_ne!(again.xid, nak.xid);
        assert!(nak_at + RESTART_DELAY_MIN <= again_at && again_at <= nak_at + RESTART_DELAY_MAX);
        assert_eq!(c[0].state(), ClientState::Selecting);
    }

    /// The times client 0 sent DISCOVERs with every server silent, up to t=400.
    fn unanswered_discovers(seed: u64) -> Vec<(Time, u32, u16)> {
        let mut net = Net::one(199);
        net.set_reachable(SERVER_A, false);
        let mut c = vec![Client::new(ClientConfig::new(mac(1)), seed)];
        c[0].start(t(0));
        net.settle(t(0), &mut c);
        net.run(&mut c, t(400));
        net.sent(0)
            .into_iter()
            .map(|(at, m, _, _)| (at, m.xid, m.secs))
            .collect()
    }

    #[test]
    fn retransmissions_back_off_exponentially_with_seeded_jitter_then_pause() {
        let sends = unanswered_discovers(11);
        assert!(sends.len() >= 6, "{sends:?}");
        // Waits of 4, 8, 16, 32, 64 s, each ± 1 s (RFC 2131 §4.1); one xid; secs counts up.
        for (i, base_s) in [4, 8, 16, 32].into_iter().enumerate() {
            let wait = sends[i + 1].0.saturating_since(sends[i].0);
            assert!(
                Duration::from_secs(base_s - 1) <= wait && wait <= Duration::from_secs(base_s + 1),
                "wait {i}: {wait}"
            );
            assert_eq!(sends[i + 1].1, sends[0].1);
            assert_eq!(u64::from(sends[i + 1].2), ms_of(sends[i + 1].0) / 1000);
        }
        // After the fifth DISCOVER's 64 ± 1 s wait the client gives up, pauses 60 s in INIT,
        // then starts over with a fresh xid.
        let gap = sends[5].0.saturating_since(sends[4].0);
        assert!(
            Duration::from_secs(63 + 60) <= gap && gap <= Duration::from_secs(65 + 60),
            "{gap}"
        );
        assert_ne!(sends[5].1, sends[0].1);
        assert_eq!(sends[5].2, 0);

        assert_eq!(unanswered_discovers(11), sends, "same seed, same times");
        let other = unanswered_discovers(12);
        assert_ne!(
            other.iter().map(|s| s.0).collect::<Vec<_>>(),
            sends.iter().map(|s| s.0).collect::<Vec<_>>(),
            "another seed, other jitter"
        );
    }

    #[test]
    fn unanswered_requests_are_given_up_for_init_after_five_tries() {
        let mut net = Net::one(199);
        net.drop_if = Some(|m| m.message_type() == Some(MessageType::Request));
        let mut c = vec![Client::new(ClientConfig::new(mac(1)), 5)];
        c[0].start(t(0));
        net.settle(t(0), &mut c);
        net.run(&mut c, t(140));
        let sent = net.sent(0);
        // DISCOVER, then the REQUEST five times with the DISCOVER's xid.
        let requests = &sent[1..=MAX_TRANSMISSIONS as usize];
        for r in requests {
            assert_eq!((kind(&r.1), r.1.xid), (MessageType::Request, sent[0].1.xid));
        }
        // Sent at 0, 4, 12, 28, 60 s (± the jitter so far); given up 64 ± 1 s after the last.
        let last = requests[4].0;
        assert!(t(60 - 4) <= last && last <= t(60 + 4), "{last}");
        // INIT waits 1–10 s before the DISCOVER.
        let (again_at, again, _, _) = sent[6].clone();
        assert_eq!(kind(&again), MessageType::Discover);
        assert_ne!(again.xid, requests[0].1.xid);
        let gap = again_at.saturating_since(last);
        assert!(
            Duration::from_secs(63 + 1) <= gap && gap <= Duration::from_secs(65 + 10),
            "{gap}"
        );
    }

    #[test]
    fn departure_releases_the_address_at_the_server() {
        let mut net = Net::one(199);
        let mut c = bound_client(&mut net, ClientConfig::new(mac(1)), 1);
        // t=100 the client leaves: RELEASE unicast to its server, with ciaddr and server-id.
        c[0].depart(t(100));
        net.settle(t(100), &mut c);
        let (at, release, broadcast, to) = net.sent(0).pop().unwrap();
        assert_eq!((at, kind(&release)), (t(100), MessageType::Release));
        assert_eq!((broadcast, to), (false, Some(SERVER_A)));
        assert_eq!(
            (release.ciaddr, release.server_id()),
            (addr(100), Some(SERVER_A))
        );
        assert_eq!((release.secs, release.parameter_request_list()), (0, None));
        assert!(matches!(
            net.beliefs(0)[1].1,
            What::Lost {
                why: LostReason::Released,
                ..
            }
        ));
        assert_eq!(net.binding(SERVER_A, addr(100)), BindingState::Released);
        assert!(!c[0].is_running());
        assert_eq!((c[0].poll_timeout(), c[0].lease()), (None, None));
        // A departed client hears nothing and does nothing.
        let (_, ack) = net.replies().pop().unwrap();
        c[0].handle_datagram(t(101), &ack.to_bytes());
        c[0].handle_timeout(t(5000));
        c[0].depart(t(5001));
        c[0].address_in_use(t(5002));
        assert_eq!(c[0].poll_output(), None);
    }

    #[test]
    fn release_and_rediscover_gives_the_lease_back_then_asks_for_it_again() {
        let mut net = Net::one(199);
        let mut c = bound_client(&mut net, ClientConfig::new(mac(1)), 1);
        // t=100 `ipconfig /release` then `/renew`: RELEASE to A, then a DISCOVER hinting
        // the address just given back, and the same address bound again.
        c[0].release_and_rediscover(t(100), Duration::from_secs(10));
        net.settle(t(100), &mut c);
        assert_eq!(c[0].poll_timeout(), Some(t(110)));
        c[0].handle_timeout(t(110));
        net.settle(t(110), &mut c);
        let sent = net.sent(0);
        let kinds: Vec<_> = sent[2..].iter().map(|(at, m, ..)| (*at, kind(m))).collect();
        assert_eq!(
            kinds[..3],
            [
                (t(100), MessageType::Release),
                (t(110), MessageType::Discover),
                (t(110), MessageType::Request)
            ]
        );
        assert_eq!(
            sent[2].3,
            Some(SERVER_A),
            "the RELEASE is unicast to its server"
        );
        assert_eq!(sent[3].1.requested_ip(), Some(addr(100)));
        let beliefs: Vec<_> = net.beliefs(0).into_iter().map(|(_, w)| w).collect();
        assert!(matches!(
            beliefs[1],
            What::Lost {
                why: LostReason::Released,
                ..
            }
        ));
        assert!(matches!(beliefs[2], What::Leased(l) if l.address == addr(100)));
        assert_eq!(
            (c[0].state(), c[0].is_running()),
            (ClientState::Bound, true)
        );
        // A stopped client ignores it.
        c[0].depart(t(200));
        while c[0].poll_output().is_some() {}
        c[0].release_and_rediscover(t(201), Duration::from_secs(10));
        assert_eq!((c[0].poll_output(), c[0].poll_timeout()), (None, None));
    }

    #[test]
    fn departure_without_release_leaves_the_binding_to_expire() {
        let mut net = Net::one(199);
        let cfg = ClientConfig {
            release_on_departure: false,
            ..ClientConfig::new(mac(1))
        };
        let mut c = bound_client(&mut net, cfg, 1);
        c[0].depart(t(100));
        net.settle(t(100), &mut c);
        assert_eq!(net.sent(0).len(), 2, "no RELEASE");
        assert!(matches!(
            net.beliefs(0)[1],
            (
                _,
                What::Lost {
                    why: LostReason::Departed,
                    ..
                }
            )
        ));
        assert_eq!(net.binding(SERVER_A, addr(100)), BindingState::Active);
    }

    #[test]
    fn reboot_confirms_the_remembered_address_with_init_reboot() {
        let mut net = Net::one(199);
        let mut c = bound_client(&mut net, ClientConfig::new(mac(1)), 1);
        // t=100 reboot: the address is not used until confirmed.
        c[0].reboot(t(100));
        net.settle(t(100), &mut c);
        let (at, request, broadcast, to) = net.sent(0).pop().unwrap();
        assert_eq!(
            (at, kind(&request), broadcast, to),
            (t(100), MessageType::Request, true, None)
        );
        assert_eq!(request.requested_ip(), Some(addr(100)));
        assert_eq!(
            (request.server_id(), request.ciaddr),
            (None, Ipv4Addr::UNSPECIFIED)
        );
        assert_ne!(request.xid, net.sent(0)[0].1.xid);
        let beliefs = net.beliefs(0);
        assert!(matches!(
            beliefs[1].1,
            What::Lost {
                why: LostReason::Rebooted,
                ..
            }
        ));
        assert!(
            matches!(beliefs[2].1, What::Leased(l) if l.address == addr(100) && l.expires_at == t(3700))
        );
        assert_eq!(c[0].state(), ClientState::Bound);
    }

    #[test]
    fn varied_traits_go_on_the_wire_secs_byte_swapped_and_options_61_12_55() {
        let mut net = Net::one(199);
        let cfg = ClientConfig {
            client_id: Some(b"\0swarm-client-1".to_vec()),
            hostname: Some(b"host-1".to_vec()),
            parameter_request_list: vec![15, 3, 42],
            secs_byte_swapped: true,
            broadcast_flag: true,
            ..ClientConfig::new(mac(1))
        };
        // The server never answers: the DISCOVER is sent again, 3 to 5 s later.
        net.set_reachable(SERVER_A, false);
        let mut c = vec![Client::new(cfg, 1)];
        c[0].start(t(0));
        net.run(&mut c, t(20));
        let sent = net.sent(0);
        let (first, second) = (&sent[0].1, &sent[1].1);
        assert_eq!(first.client_id(), Some(&b"\0swarm-client-1"[..]));
        assert_eq!(first.parameter_request_list(), Some(&[15u8, 3, 42][..]));
        assert!(
            first
                .options
                .contains(&DhcpOption::HostName(b"host-1".to_vec()))
        );
        assert_eq!(first.flags, BROADCAST_FLAG);
        // The retransmission leaves 3 to 5 s after the first (RFC 2131 §4.1): on the wire in
        // little-endian order, so a server reads 768 to 1280.
        let waited = second.secs.swap_bytes();
        assert!((3..=5).contains(&waited), "{waited}");
        assert!(second.secs >= 768);
        let bytes = second.to_bytes();
        assert_eq!(&bytes[8..10], &waited.to_le_bytes());
        // The default client: no 61 or 12, the standard list, secs in network order.
        let mut net = Net::one(199);
        net.set_reachable(SERVER_A, false);
        let mut c = vec![Client::new(ClientConfig::new(mac(2)), 1)];
        c[0].start(t(0));
        net.run(&mut c, t(20));
        let sent = net.sent(0);
        let m = &sent[1].1;
        assert_eq!((m.client_id(), m.flags), (None, 0));
        assert!(
            !m.options
                .iter()
                .any(|o| matches!(o, DhcpOption::HostName(_)))
        );
        assert_eq!(
            m.parameter_request_list(),
            Some(&PARAMETER_REQUEST_LIST[..])
        );
        assert!((3..=5).contains(&m.secs), "{}", m.secs);
        // An empty list leaves option 55 out.
        let mut net = Net::one(199);
        let cfg = ClientConfig {
            parameter_request_list: vec![],
            ..ClientConfig::new(mac(3))
        };
        let _ = bound_client(&mut net, cfg, 1);
        assert!(
            net.sent(0)
                .iter()
                .all(|(_, m, _, _)| m.parameter_request_list().is_none())
        );
    }

    #[test]
    fn a_silent_init_reboot_keeps_the_unexpired_lease_and_says_so() {
        for keep in [true, false] {
            let mut net = Net::one(199);
            let cfg = ClientConfig {
                keep_lease_on_silent_reboot: keep,
                ..ClientConfig::new(mac(1))
            };
            let mut c = bound_client(&mut net, cfg, 1);
            let lease = *c[0].lease().unwrap();
            // Nobody answers the INIT-REBOOT: five REQUESTs, about two minutes.
            net.set_reachable(SERVER_A, false);
            c[0].reboot(t(100));
            net.run(&mut c, t(300));
            let beliefs = net.beliefs(0);
            assert!(matches!(
                beliefs[1].1,
                What::Lost {
                    why: LostReason::Rebooted,
                    ..
                }
            ));
            if keep {
                // RFC 2131 §3.2: it uses the lease again, with its own end, and says so.
                let (at, ref what) = beliefs[2];
                assert!(t(200) < at && at < t(300), "{at:?}");
                assert!(matches!(what, What::Leased(l) if l.address == lease.address
                        && l.expires_at == lease.expires_at && !l.newly_offered));
                assert_eq!(c[0].state(), ClientState::Bound);
                // Still nobody: at T1 it renews, then rebinds, and at its end the lease is gone.
                net.run(&mut c, lease.expires_at + Duration::from_secs(1));
                let beliefs = net.beliefs(0);
                assert!(matches!(
                    beliefs.last().unwrap(),
                    (at, What::Lost { why: LostReason::Expired, .. }) if *at == lease.expires_at
                ));
                assert!(c[0].lease().is_none());
            } else {
                assert_eq!(beliefs.len(), 2, "{beliefs:?}");
                assert!(c[0].lease().is_none());
            }
        }
        // A lease that ended while the client was rebooting is not used again.
        let mut net = Net::one(199);
        let cfg = ClientConfig {
            keep_lease_on_silent_reboot: true,
            ..ClientConfig::new(mac(1))
        };
        let mut c = bound_client(&mut net, cfg, 1);
        let end = c[0].lease().unwrap().expires_at;
        net.set_reachable(SERVER_A, false);
        let late = end.saturating_sub(Duration::from_secs(30));
        net.run(&mut c, late);
        c[0].reboot(late);
        net.run(&mut c, end + Duration::from_secs(200));
        assert!(
            !net.beliefs(0)
                .iter()
                .any(|(at, w)| *at > late && matches!(w, What::Leased(_)))
        );
    }

    #[test]
    fn start_with_an_address_given_away_gets_nak_and_starts_over() {
        let mut net = Net::one(199);
        let mut c = bound_client(&mut net, ClientConfig::new(mac(1)), 1);
        // Client 1 remembers .100 from an earlier life; the server gave it to client 0.
        c.push(Client::new(ClientConfig::new(mac(2)), 2));
        let stale = Lease {
            address: addr(100),
            server_id: SERVER_A,
            acked_at: t(0),
            expires_at: t(50),
            t1_at: t(25),
            t2_at: t(40),
            newly_offered: false,
        };
        c[1].start_with(t(10), stale);
        net.settle(t(10), &mut c);
        assert_eq!(
            net.replies().pop().map(|(_, m)| kind(&m)),
            Some(MessageType::Nak)
        );
        assert_eq!(c[1].state(), ClientState::Init);
        net.run(&mut c, t(21));
        let discover = &net.sent(1)[1].1;
        assert_eq!(
            discover.requested_ip(),
            None,
            "a NAKed address is forgotten"
        );
        assert_eq!(c[1].lease().map(|l| l.address), Some(addr(101)));
        assert_eq!(c[0].lease().map(|l| l.address), Some(addr(100)));
    }

    #[test]
    fn address_in_use_declines_and_the_client_gets_another_address() {
        let mut net = Net::one(101);
        let mut c = bound_client(&mut net, ClientConfig::new(mac(1)), 1);
        // t=5 the probe finds .100 in use: DECLINE (broadcast), the server abandons it.
        c[0].address_in_use(t(5));
        net.settle(t(5), &mut c);
        let (at, decline, broadcast, _) = net.sent(0).pop().unwrap();
        assert_eq!(
            (at, kind(&decline), broadcast),
            (t(5), MessageType::Decline, true)
        );
        assert_eq!(decline.requested_ip(), Some(addr(100)));
        assert_eq!(
            (decline.server_id(), decline.ciaddr),
            (Some(SERVER_A), Ipv4Addr::UNSPECIFIED)
        );
        assert_eq!(
            (decline.parameter_request_list(), decline.lease_time_s()),
            (None, None)
        );
        assert!(matches!(
            net.beliefs(0)[1].1,
            What::Lost {
                why: LostReason::Declined,
                ..
            }
        ));
        assert_eq!(net.binding(SERVER_A, addr(100)), BindingState::Abandoned);
        assert_eq!(c[0].state(), ClientState::Init);
        assert_eq!(c[0].poll_timeout(), Some(t(15)), "RFC 2131 §3.1: wait 10 s");
        // t=15 a fresh DISCOVER, not hinting the declined address, gets .101.
        net.run(&mut c, t(20));
        let (at, discover, _, _) = net.sent(0)[3].clone();
        assert_eq!(
            (at, kind(&discover), discover.requested_ip()),
            (t(15), MessageType::Discover, None)
        );
        assert_eq!(c[0].lease().map(|l| l.address), Some(addr(101)));
    }

    #[test]
    fn two_clients_on_one_segment_each_take_only_their_replies() {
        let mut net = Net::one(199);
        let mut c: Vec<_> = (1..=3)
            .map(|n| Client::new(ClientConfig::new(mac(n)), u64::from(n)))
            .collect();
        for client in &mut c {
            client.start(t(0));
        }
        net.settle(t(0), &mut c);
        let mut addresses: Vec<_> = c.iter().map(|c| c.lease().unwrap().address).collect();
        addresses.sort();
        assert_eq!(addresses, [addr(100), addr(101), addr(102)]);
        for i in 0..3 {
            assert_eq!(net.beliefs(i).len(), 1);
        }
    }

    /// A reply to `request` as a server would build it.
    fn reply(
        request: &DhcpMessage,
        kind: MessageType,
        server: Option<Ipv4Addr>,
        yiaddr: Ipv4Addr,
    ) -> DhcpMessage {
        let mut m = DhcpMessage::reply_to(request);
        m.yiaddr = yiaddr;
        m.options.push(DhcpOption::MessageType(kind));
        if let Some(id) = server {
            m.options.push(DhcpOption::ServerId(id));
        }
        if kind != MessageType::Nak {
            m.options.push(DhcpOption::LeaseTime(3600));
        }
        m
    }

    /// Drain a client; return the messages it sent and how many other outputs came.
    fn drain(c: &mut Client) -> (Vec<DhcpMessage>, usize) {
        let (mut sent, mut others) = (Vec::new(), 0);
        while let Some(o) = c.poll_output() {
            match o {
                ClientOutput::Send { bytes, .. } => sent.push(DhcpMessage::parse(&bytes).unwrap()),
                _ => others += 1,
            }
        }
        (sent, others)
    }

    #[test]
    fn garbage_and_replies_for_other_exchanges_are_ignored() {
        let cfg = ClientConfig {
            client_id: Some(vec![0, 7, 7]),
            ..ClientConfig::new(mac(1))
        };
        let mut c = Client::new(cfg, 9);
        c.start(t(0));
        let (sent, _) = drain(&mut c);
        let discover = &sent[0];
        let good = reply(discover, MessageType::Offer, Some(SERVER_A), addr(150));
        let before = c.clone();
        let mut bad: Vec<Vec<u8>> = vec![
            vec![],
            vec![2; 10],
            vec![0xff; 600],
            good.to_bytes()[..200].to_vec(),
        ];
        let mut variants: Vec<fn(&mut DhcpMessage)> = vec![
            |m| m.xid ^= 1,
            |m| m.chaddr[5] ^= 1,
            |m| m.op = Op::Request,
            |m| m.htype = 6,
            |m| m.hlen = 16,
            |m| m.options.retain(|o| o.code() != code::SERVER_ID),
            |m| m.yiaddr = Ipv4Addr::UNSPECIFIED,
            |m| m.yiaddr = Ipv4Addr::BROADCAST,
            |m| m.options[0] = DhcpOption::MessageType(MessageType::Ack),
            |m| m.options[0] = DhcpOption::MessageType(MessageType::Nak),
            |m| m.options[0] = DhcpOption::MessageType(MessageType::Unknown(99)),
            |m| m.options.push(DhcpOption::ClientId(vec![0, 7, 8])),
        ];
        for variant in variants.drain(..) {
            let mut m = good.clone();
            variant(&mut m);
            bad.push(m.to_bytes());
        }
        for (i, bytes) in bad.iter().enumerate() {
            c.handle_datagram(t(1), bytes);
            assert_eq!(c, before, "datagram {i} changed the client");
        }
        // The real OFFER (with our own client id echoed) is taken.
        let mut echoed = good.clone();
        echoed.options.push(DhcpOption::ClientId(vec![0, 7, 7]));
        c.handle_datagram(t(1), &echoed.to_bytes());
        assert_eq!(c.state(), ClientState::Requesting);
        let (sent, _) = drain(&mut c);
        let request = &sent[0];
        // An ACK naming another server, or for another address, is not ours either.
        let mut other_server = reply(request, MessageType::Ack, Some(SERVER_B), addr(150));
        c.handle_datagram(t(1), &other_server.to_bytes());
        other_server.options[1] = DhcpOption::ServerId(SERVER_A);
        other_server.yiaddr = addr(151);
        c.handle_datagram(t(1), &other_server.to_bytes());
        let mut no_lease = reply(request, MessageType::Ack, Some(SERVER_A), addr(150));
        no_lease.options.retain(|o| o.code() != code::LEASE_TIME);
        c.handle_datagram(t(1), &no_lease.to_bytes());
        assert_eq!(c.state(), ClientState::Requesting);
        let ack = reply(request, MessageType::Ack, Some(SERVER_A), addr(150)).to_bytes();
        c.handle_datagram(t(1), &ack);
        assert_eq!(c.state(), ClientState::Bound);
        drain(&mut c);
        // A duplicate ACK changes nothing.
        let bound = c.clone();
        c.handle_datagram(t(2), &ack);
        assert_eq!(c, bound);
    }

    /// Drain a client; return the leases it reported.
    fn leases_of(c: &mut Client) -> Vec<Lease> {
        std::iter::from_fn(|| c.poll_output())
            .filter_map(|o| match o {
                ClientOutput::Leased(l) => Some(l),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn only_a_newly_offered_lease_is_for_the_probe_and_the_request_in_flight_is_known() {
        // Goal: the ARP probe (RFC 2131 §4.4.1) is for the address a SELECTING REQUEST got;
        // a NAK is matched to what the REQUEST in flight asks for, by its xid.
        let mut c = Client::new(ClientConfig::new(mac(1)), 5);
        c.start(t(0));
        let (sent, _) = drain(&mut c);
        assert_eq!(c.request_in_flight(), None, "a DISCOVER asks for nothing");
        let offer = reply(&sent[0], MessageType::Offer, Some(SERVER_A), addr(150));
        c.handle_datagram(t(1), &offer.to_bytes());
        let (sent, _) = drain(&mut c);
        assert_eq!(c.request_in_flight(), Some((sent[0].xid, addr(150))));
        let ack = reply(&sent[0], MessageType::Ack, Some(SERVER_A), addr(150));
        c.handle_datagram(t(1), &ack.to_bytes());
        assert!(leases_of(&mut c)[0].newly_offered);
        assert_eq!(c.request_in_flight(), None, "BOUND has nothing in flight");
        // INIT-REBOOT confirms the address the client already used: no probe.
        c.reboot(t(100));
        let (sent, _) = drain(&mut c);
        assert_eq!(c.request_in_flight(), Some((sent[0].xid, addr(150))));
        let ack = reply(&sent[0], MessageType::Ack, Some(SERVER_B), addr(150));
        c.handle_datagram(t(100), &ack.to_bytes());
        let lease = leases_of(&mut c)[0];
        assert!(!lease.newly_offered);
        assert_eq!(lease.server_id, SERVER_B, "the ACK's server identifier");
        // RENEWING extends it: no probe either.
        c.handle_timeout(lease.t1_at);
        let (sent, _) = drain(&mut c);
        assert_eq!(c.request_in_flight(), Some((sent[0].xid, addr(150))));
        let ack = reply(&sent[0], MessageType::Ack, Some(SERVER_B), addr(150));
        c.handle_datagram(lease.t1_at, &ack.to_bytes());
        assert!(!leases_of(&mut c)[0].newly_offered);
    }

    #[test]
    fn a_select_window_prefers_an_offer_of_the_remembered_address() {
        let cfg = ClientConfig {
            select_window_ms: 2000,
            ..ClientConfig::new(mac(1))
        };
        let mut c = Client::new(cfg, 4);
        // Remember .150 from an earlier lease, then arrive afresh.
        c.start_with(
            t(0),
            Lease {
                address: addr(150),
                server_id: SERVER_A,
                acked_at: t(0),
                expires_at: t(10),
                t1_at: t(5),
                t2_at: t(8),
                newly_offered: false,
            },
        );
        let (sent, _) = drain(&mut c);
        c.handle_datagram(
            t(1),
            &reply(&sent[0], MessageType::Ack, Some(SERVER_A), addr(150)).to_bytes(),
        );
        c.depart(t(2));
        c.start(t(100));
        let (sent, _) = drain(&mut c);
        let discover = &sent[sent.len() - 1];
        assert_eq!(discover.requested_ip(), Some(addr(150)));
        // t=100.5 B offers another address: the window opens until t=102.5.
        let b = reply(discover, MessageType::Offer, Some(SERVER_B), addr(120));
        c.handle_datagram(t_ms(100_500), &b.to_bytes());
        assert_eq!(c.poll_timeout(), Some(t_ms(102_500)));
        assert_eq!(drain(&mut c).0.len(), 0);
        // t=101 A offers the remembered address; t=101.5 B again: A's offer stays the pick.
        let a = reply(discover, MessageType::Offer, Some(SERVER_A), addr(150));
        c.handle_datagram(t(101), &a.to_bytes());
        c.handle_datagram(t_ms(101_500), &b.to_bytes());
        c.handle_timeout(t(102));
        assert_eq!(
            c.state(),
            ClientState::Selecting,
            "early timeout is a no-op"
        );
        c.handle_timeout(t_ms(102_500));
        let (sent, _) = drain(&mut c);
        assert_eq!(c.state(), ClientState::Requesting);
        assert_eq!(
            (sent[0].server_id(), sent[0].requested_ip()),
            (Some(SERVER_A), Some(addr(150)))
        );
        assert_eq!(sent[0].xid, discover.xid);
    }

    #[test]
    fn a_select_window_without_a_remembered_address_takes_the_first_offer() {
        let cfg = ClientConfig {
            select_window_ms: 1000,
            ..ClientConfig::new(mac(1))
        };
        let mut c = Client::new(cfg, 4);
        c.start(t(0));
        let discover = drain(&mut c).0.remove(0);
        for (server, a) in [(SERVER_B, 120), (SERVER_A, 130)] {
            c.handle_datagram(
                t(0),
                &reply(&discover, MessageType::Offer, Some(server), addr(a)).to_bytes(),
            );
        }
        c.handle_timeout(t(1));
        let request = drain(&mut c).0.remove(0);
        assert_eq!(
            (request.server_id(), request.requested_ip()),
            (Some(SERVER_B), Some(addr(120)))
        );
    }

    #[test]
    fn nak_while_renewing_loses_the_lease_and_forgets_the_address() {
        let mut c = Client::new(ClientConfig::new(mac(1)), 4);
        c.start(t(0));
        let discover = drain(&mut c).0.remove(0);
        c.handle_datagram(
            t(0),
            &reply(&discover, MessageType::Offer, Some(SERVER_A), addr(150)).to_bytes(),
        );
        let request = drain(&mut c).0.remove(0);
        c.handle_datagram(
            t(0),
            &reply(&request, MessageType::Ack, Some(SERVER_A), addr(150)).to_bytes(),
        );
        drain(&mut c);
        c.handle_timeout(t(1800));
        assert_eq!(c.state(), ClientState::Renewing);
        let renew = drain(&mut c).0.remove(0);
        c.handle_datagram(
            t(1801),
            &reply(
                &renew,
                MessageType::Nak,
                Some(SERVER_A),
                Ipv4Addr::UNSPECIFIED,
            )
            .to_bytes(),
        );
        assert_eq!(
            c.poll_output(),
            Some(ClientOutput::Lost {
                address: addr(150),
                why: LostReason::Nak
            })
        );
        assert_eq!((c.state(), c.lease()), (ClientState::Init, None));
        let at = c.poll_timeout().unwrap();
        c.handle_timeout(at);
        assert_eq!(drain(&mut c).0[0].requested_ip(), None);
    }

    #[test]
    fn lease_times_fall_back_to_the_rfc_defaults_when_out_of_order() {
        let base = t(0);
        let secs =
            |a: (Time, Time, Time)| (ms_of(a.0) / 1000, ms_of(a.1) / 1000, ms_of(a.2) / 1000);
        assert_eq!(secs(lease_times(base, 1000, None, None)), (500, 875, 1000));
        assert_eq!(
            secs(lease_times(base, 1000, Some(100), Some(200))),
            (100, 200, 1000)
        );
        // T2 beyond the lease, T1 beyond T2, T1 of zero: defaults.
        assert_eq!(
            secs(lease_times(base, 1000, Some(100), Some(2000))),
            (100, 875, 1000)
        );
        assert_eq!(
            secs(lease_times(base, 1000, Some(300), Some(200))),
            (200, 200, 1000)
        );
        assert_eq!(
            secs(lease_times(base, 1000, Some(0), None)),
            (500, 875, 1000)
        );
        // A lease of zero ends at once.
        assert_eq!(secs(lease_times(base, 0, Some(5), Some(5))), (0, 0, 0));
    }

    // ---- Property tests ----

    #[derive(Debug, Clone)]
    enum Action {
        Start,
        Reboot,
        Depart,
        InUse,
        Wait(u32),
        Timeout,
        Junk(Vec<u8>),
        /// A reply to the last message sent, mostly well-formed.
        Reply {
            kind: u8,
            yiaddr: u8,
            server: bool,
            lease_s: Option<u32>,
            t1_s: Option<u32>,
            t2_s: Option<u32>,
            xid_flip: u32,
        },
    }

    fn arb_action() -> impl Strategy<Value = Action> {
        prop_oneof![
            1 => Just(Action::Start),
            1 => Just(Action::Reboot),
            1 => Just(Action::Depart),
            1 => Just(Action::InUse),
            3 => (0u32..5_000_000).prop_map(Action::Wait),
            4 => Just(Action::Timeout),
            2 => prop::collection::vec(any::<u8>(), 0..400).prop_map(Action::Junk),
            8 => (
                prop_oneof![Just(2u8), Just(5), Just(6), any::<u8>()],
                prop_oneof![Just(150u8), any::<u8>()],
                any::<bool>(),
                prop::option::of(prop_oneof![0u32..5000, any::<u32>()]),
                prop::option::of(any::<u32>()),
                prop::option::of(any::<u32>()),
                prop_oneof![4 => Just(0u32), 1 => any::<u32>()],
            )
                .prop_map(|(kind, yiaddr, server, lease_s, t1_s, t2_s, xid_flip)| Action::Reply {
                    kind,
                    yiaddr,
                    server,
                    lease_s,
                    t1_s,
                    t2_s,
                    xid_flip,
                }),
        ]
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic_in_any_state(
            seed in any::<u64>(),
            bytes in prop::collection::vec(any::<u8>(), 0..700),
        ) {
            let mut c = Client::new(ClientConfig::new(mac(1)), seed);
            c.handle_datagram(t(0), &bytes);
            c.start(t(0));
            c.handle_datagram(t(0), &bytes);
            let mut with_header = reply(&drain(&mut c).0[0], MessageType::Offer, Some(SERVER_A), addr(150)).to_bytes();
            with_header.truncate(240);
            with_header.extend_from_slice(&bytes);
            c.handle_datagram(t(0), &with_header);
        }

        #[test]
        fn random_conversations_never_panic_and_keep_the_invariants(
            seed in any::<u64>(),
            actions in prop::collection::vec(arb_action(), 1..60),
        ) {
            let cfg = ClientConfig {
                client_id: Some(vec![1, 2, 3]),
                requested_lease_s: Some(600),
                select_window_ms: (seed % 3) as u32 * 500,
                ..ClientConfig::new(mac(1))
            };
            let mut c = Client::new(cfg, seed);
            let mut now = t(0);
            let mut last_sent: Option<DhcpMessage> = None;
            for action in actions {
                match action {
                    Action::Start => c.start(now),
                    Action::Reboot => c.reboot(now),
                    Action::Depart => c.depart(now),
                    Action::InUse => c.address_in_use(now),
                    Action::Wait(ms) => now += Duration::from_millis(u64::from(ms)),
                    Action::Timeout => {
                        if let Some(at) = c.poll_timeout() {
                            now = now.max(at);
                        }
                        c.handle_timeout(now);
                    }
                    Action::Junk(bytes) => c.handle_datagram(now, &bytes),
                    Action::Reply { kind, yiaddr, server, lease_s, t1_s, t2_s, xid_flip } => {
                        let request = last_sent.clone().unwrap_or_else(|| DhcpMessage::new(Op::Request, 0));
                        let mut m = DhcpMessage::reply_to(&request);
                        m.xid ^= xid_flip;
                        m.yiaddr = addr(yiaddr);
                        m.options.push(DhcpOption::MessageType(MessageType::from(kind)));
                        if server {
                            m.options.push(DhcpOption::ServerId(SERVER_A));
                        }
                        m.options.extend(lease_s.map(DhcpOption::LeaseTime));
                        m.options.extend(t1_s.map(DhcpOption::RenewalTime));
                        m.options.extend(t2_s.map(DhcpOption::RebindingTime));
                        c.handle_datagram(now, &m.to_bytes());
                    }
                }
                let mut outputs = 0;
                while let Some(o) = c.poll_output() {
                    outputs += 1;
                    if let ClientOutput::Send { bytes, broadcast, to } = o {
                        let m = DhcpMessage::parse(&bytes).unwrap();
                        prop_assert_eq!(broadcast, to.is_none());
                        prop_assert_eq!(m.op, Op::Request);
                        last_sent = Some(m);
                    }
                }
                prop_assert!(outputs <= 2, "an input made {} outputs", outputs);
                prop_assert_eq!(
                    c.lease().is_some(),
                    matches!(c.state(), ClientState::Bound | ClientState::Renewing | ClientState::Rebinding)
                );
                if let Some(l) = c.lease() {
                    prop_assert!(l.t1_at <= l.t2_at && l.t2_at <= l.expires_at);
                }
                if c.is_running() && c.lease().is_none() {
                    prop_assert!(c.poll_timeout().is_some(), "a client without a lease always has a deadline");
                }
            }
        }
    }
}
