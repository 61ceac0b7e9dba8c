//! dhcpfo: the deterministic simulation testbed for DHCPv4 failover, and its command line.
//!
//! Today this crate holds the capture tooling (`dhcpfo decode`); the simulator kernel, network,
//! clients, faults and checkers arrive on top of the engine (see DESIGN.md).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod client;
pub mod decode;
pub mod exit;
