//! Why a failover message failed to decode.
//!
//! Every variant says where: the offset of the offending field from the start of the message.
//! A decode error on a live connection is a peer that broke the framing or the option rules;
//! the failover engine answers it by closing the connection (draft-12 §6.1, as ISC does).

use std::fmt;

use super::option::code_name;

/// A malformed failover message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer than 12 bytes: no room for the fixed header.
    HeaderTruncated {
        /// Bytes available.
        len: usize,
    },
    /// The length field disagrees with the bytes handed in.
    LengthMismatch {
        /// The length field.
        declared: u16,
        /// The bytes handed in.
        actual: usize,
    },
    /// The length field is below 12 (draft-12 §6.1).
    LengthTooSmall {
        /// The length field.
        declared: u16,
    },
    /// The payload offset points past the end of the message.
    PayloadOffsetOutOfRange {
        /// The payload-offset field.
        payload_offset: u8,
        /// The message length.
        len: usize,
    },
    /// Fewer than 4 bytes left where an option's code and length should be.
    OptionHeaderTruncated {
        /// Offset of the partial option header.
        offset: usize,
    },
    /// An option's length runs past the end of the message.
    OptionTruncated {
        /// Option code.
        code: u16,
        /// Offset of the option's code field.
        offset: usize,
        /// The option's length field.
        declared: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// An option's length is impossible for its code.
    BadOptionLength {
        /// Option code.
        code: u16,
        /// Offset of the option's code field.
        offset: usize,
        /// The length found.
        len: usize,
        /// The length(s) allowed.
        expected: &'static str,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::HeaderTruncated { len } => {
                write!(
                    f,
                    "message of {len} bytes is shorter than the 12-byte header"
                )
            }
            DecodeError::LengthMismatch { declared, actual } => {
                write!(
                    f,
                    "length field says {declared} bytes but {actual} were given"
                )
            }
            DecodeError::LengthTooSmall { declared } => {
                write!(f, "length field {declared} is below the minimum of 12")
            }
            DecodeError::PayloadOffsetOutOfRange {
                payload_offset,
                len,
            } => write!(
                f,
                "payload offset {payload_offset} is past the end of a {len}-byte message"
            ),
            DecodeError::OptionHeaderTruncated { offset } => {
                write!(f, "option header truncated at offset {offset}")
            }
            DecodeError::OptionTruncated {
                code,
                offset,
                declared,
                available,
            } => write!(
                f,
                "option {code} ({}) at offset {offset} declares {declared} bytes but only \
                 {available} remain",
                code_name(*code)
            ),
            DecodeError::BadOptionLength {
                code,
                offset,
                len,
                expected,
            } => write!(
                f,
                "option {code} ({}) at offset {offset} has length {len}, expected {expected}",
                code_name(*code)
            ),
        }
    }
}

impl std::error::Error for DecodeError {}
