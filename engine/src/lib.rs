//! dhcpfo-engine: a DHCPv4 server with the DHCP Failover Protocol
//! (draft-ietf-dhc-failover-12, with Microsoft's MS-DHCPF extensions).
//!
//! # The contract
//!
//! The engine is **sans-IO and deterministic**. It never reads a clock, opens a socket, starts a
//! thread or draws from an OS random source; `clippy.toml` at the workspace root forbids the
//! calls that would. Everything from outside arrives as an input carrying the current time, and
//! everything the engine wants done leaves as an output. The same code therefore runs unchanged
//! in the simulator (on a virtual clock) and on real sockets (`dhcpfo serve`), and every
//! simulated run is a pure function of its scenario and seed.
//!
//! # The drain rule
//!
//! The host (simulator or real sockets) drives a node through `handle_*` inputs and takes its
//! wishes from `poll_output`:
//!
//! 1. Hand in one input: `handle_dhcp(now, received, bytes)` or `handle_timeout(now)`, with the
//!    node's current time. Time never goes backwards; a timeout handed in early is a no-op.
//! 2. Call `poll_output()` until it returns `None`, carrying out each output (send a datagram)
//!    in the order given.
//! 3. Ask `poll_timeout()` when to call `handle_timeout` next, and only then hand in the next
//!    input.
//!
//! Outputs are queued in a bounded queue (4 096); a host that drains after every input never
//! reaches the bound, and past it replies are dropped rather than memory grown.
//!
//! Every binding change is appended to [`storage::Storage`] and synced *before* the reply that
//! depends on it is queued: a crash can lose an unanswered change, never an answered one.
//!
//! # What is here
//!
//! * [`wire`] — the codecs: DHCPv4 messages (RFC 2131/2132/3396) and failover messages
//!   (draft-12 and MS-DHCPF), the failover stream framer, the message digest, and the RFC 3074
//!   load-balancing hash with hash-bucket-assignment bitmaps.
//! * [`time`] — [`time::Time`] and [`time::Duration`], milliseconds, saturating.
//! * [`config`] — the server's configuration and its validation.
//! * [`lease`] — bindings, the lease database, and their storage records.
//! * [`storage`] — the append-only log: in memory (crashable) and on file (fsync).
//! * [`server`] — the DHCP server (RFC 2131 §4.3) over all of the above.
//! * [`bugs`] — the catalogue of deliberate flaws the testbed must catch (test-only settings).
//!
//! The failover state machine builds on these next.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bugs;
pub mod config;
pub mod failover;
pub mod lease;
pub mod server;
pub mod storage;
pub mod time;
pub mod wire;
