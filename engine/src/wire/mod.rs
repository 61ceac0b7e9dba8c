//! Wire codecs: bytes in, typed representations out, and back.
//!
//! Every codec follows one shape (smoltcp's `wire` module, rustls' `msgs/codec.rs`):
//!
//! * `Repr::parse(&[u8]) -> Result<Repr, DecodeError>` reads untrusted bytes only through a
//!   [`Reader`], which cannot overrun: no indexing of untrusted input, no panics on any input.
//! * `repr.buffer_len()` says how many bytes `repr.emit(&mut buf)` writes; emit never panics
//!   when given that many bytes, and writes every one of them.
//! * Unknown message types and option codes are data (`Unknown(..)`, raw options), carried and
//!   re-emitted unchanged, never a failed decode.

pub mod dhcp;
pub mod failover;
pub mod hash_bucket;
mod reader;

pub use reader::Reader;
