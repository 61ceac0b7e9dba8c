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
//! # What is here today
//!
//! * [`wire`] — the codecs: DHCPv4 messages (RFC 2131/2132/3396) and failover messages
//!   (draft-12 and MS-DHCPF), the failover stream framer, the message digest, and the RFC 3074
//!   load-balancing hash with hash-bucket-assignment bitmaps.
//!
//! The lease database, the DHCP server and the failover state machine build on these.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod lease;
pub mod server;
pub mod storage;
pub mod time;
pub mod wire;
