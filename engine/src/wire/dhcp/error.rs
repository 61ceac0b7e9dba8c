//! Why a DHCPv4 message failed to decode, with where.
//!
//! Offsets are byte offsets from the start of the DHCP message (the first byte of the UDP
//! payload), also for options carried in the overloaded `sname` and `file` fields, so that an
//! error can be found in a hex dump of the packet.

use std::fmt;

/// A DHCPv4 message that could not be decoded.
///
/// Only malformed bytes end up here; unknown message types and option codes are data
/// (`MessageType::Unknown`, `DhcpOption::Other`), never an error.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DhcpDecodeError {
    /// The message ends inside the fixed header or the magic cookie: the field starting at
    /// offset `at` does not fit.
    Truncated {
        /// Offset of the first field that does not fit.
        at: usize,
    },
    /// The four bytes after the fixed header are not the magic cookie 99.130.83.99
    /// (RFC 2131 §3, RFC 2132 §2).
    BadCookie {
        /// The bytes found instead.
        found: [u8; 4],
    },
    /// An option is malformed.
    BadOption {
        /// The option's code.
        code: u8,
        /// Offset of the option's code byte; for an option split into several instances
        /// (RFC 3396), the offset of the first instance.
        offset: usize,
        /// What is wrong with it.
        reason: BadOptionReason,
    },
}

/// What is wrong with a malformed option.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BadOptionReason {
    /// The option's code is the last byte of its field: there is no length byte.
    MissingLength,
    /// The length byte promises more bytes than the field has left.
    Overrun {
        /// The option's length byte.
        len: u8,
        /// How many bytes the field had left after the length byte.
        available: usize,
    },
    /// The option's value (all instances concatenated) has a length its type cannot have,
    /// e.g. a lease time of 3 bytes or an address list of 6.
    BadLength {
        /// The length found.
        len: usize,
        /// The lengths the option may have, in words: "4", "a multiple of 4", ...
        expected: &'static str,
    },
    /// Option overload (52) says something other than 1 (`file`), 2 (`sname`) or 3 (both).
    BadOverload {
        /// The value found.
        value: u8,
    },
    /// A relay agent sub-option (RFC 3046 §2.0) runs past the end of option 82.
    SubOptionOverrun {
        /// The sub-option's code.
        sub_code: u8,
        /// Offset of the sub-option's code byte within option 82's value.
        at: usize,
    },
}

impl fmt::Display for DhcpDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhcpDecodeError::Truncated { at } => {
                write!(
                    f,
                    "DHCP message truncated: the field at offset {at} does not fit"
                )
            }
            DhcpDecodeError::BadCookie { found } => write!(
                f,
                "DHCP message has no magic cookie: found {}",
                std::net::Ipv4Addr::from(*found)
            ),
            DhcpDecodeError::BadOption {
                code,
                offset,
                reason,
            } => write!(f, "DHCP option {code} at offset {offset}: {reason}"),
        }
    }
}

impl fmt::Display for BadOptionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadOptionReason::MissingLength => write!(f, "no length byte before the field ends"),
            BadOptionReason::Overrun { len, available } => write!(
                f,
                "length {len} but only {available} bytes left in the field"
            ),
            BadOptionReason::BadLength { len, expected } => {
                write!(f, "length {len}, expected {expected}")
            }
            BadOptionReason::BadOverload { value } => {
                write!(f, "overload value {value}, expected 1, 2 or 3")
            }
            BadOptionReason::SubOptionOverrun { sub_code, at } => write!(
                f,
                "sub-option {sub_code} at offset {at} of the value runs past its end"
            ),
        }
    }
}

impl std::error::Error for DhcpDecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_option_and_where() {
        let e = DhcpDecodeError::BadOption {
            code: 51,
            offset: 243,
            reason: BadOptionReason::BadLength {
                len: 3,
                expected: "4",
            },
        };
        assert_eq!(
            e.to_string(),
            "DHCP option 51 at offset 243: length 3, expected 4"
        );
        let e = DhcpDecodeError::BadCookie {
            found: [1, 2, 3, 4],
        };
        assert_eq!(
            e.to_string(),
            "DHCP message has no magic cookie: found 1.2.3.4"
        );
    }
}
