//! The failover protocol's wire format: draft-ietf-dhc-failover-12 §6 and §12, as ISC dhcpd 4.4
//! speaks it, and Microsoft's MS-DHCPF §2.2 extensions.
//!
//! * [`Message`] — one message: the 12-byte header and its options, in wire order.
//! * [`FoOption`] — one option, typed; unknown codes are kept raw.
//! * [`Framer`] — whole messages out of a TCP byte stream.
//! * [`digest`] — the HMAC-SHA256 message digest (option 17).
//! * [`Dialect`] — where ISC and Microsoft differ; the module doc of [`dialect`] lists every place.

pub mod dialect;
pub mod digest;
mod error;
mod framer;
mod message;
pub mod option;

pub use dialect::Dialect;
pub use error::DecodeError;
pub use framer::{FrameError, Framer};
pub use message::{Binding, Bindings, HEADER_LEN, MAX_MESSAGE_LEN, Message, MessageType};
pub use option::{
    BindingState, BindingStatus, FoOption, HardwareAddress, IpFlags, NapStatus, RejectReason,
    ServerState, WideString,
};

#[cfg(test)]
mod tests;
