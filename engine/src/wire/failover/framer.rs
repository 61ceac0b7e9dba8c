//! Cutting failover messages out of a TCP byte stream (draft-12 §6.1, draft-12.md §1.2).
//!
//! Messages follow each other on the stream, each starting with its u16 length (which counts the
//! length field itself). Bytes may arrive in any split: one segment may carry several messages
//! and one message may span segments. A length below 12 or above 2 048 is a framing error; the
//! stream cannot be resynchronised after one, so the framer stops and the caller closes the
//! connection, as ISC does.
//!
//! Bound: the framer holds what the caller pushed and has not yet taken. A caller that keeps
//! pushing without taking grows it; the engine takes every frame after each push, so it holds at
//! most one partial message (< 2 048 bytes) between pushes.

use std::fmt;

use super::message::{HEADER_LEN, MAX_MESSAGE_LEN};

/// A stream that cannot be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameError {
    /// A length field below the 12-byte header.
    TooShort {
        /// The length field.
        length: u16,
    },
    /// A length field above 2 048.
    TooLong {
        /// The length field.
        length: u16,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooShort { length } => {
                write!(f, "message length {length} is below the minimum of 12")
            }
            FrameError::TooLong { length } => {
                write!(f, "message length {length} is above the maximum of 2048")
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// Reassembles whole messages from stream bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Framer {
    buf: Vec<u8>,
    /// Bytes at the front of `buf` already handed out.
    taken: usize,
    failed: Option<FrameError>,
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Add stream bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.taken > 0 {
            self.buf.drain(..self.taken);
            self.taken = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, `Ok(None)` if more bytes are needed, or the framing error (again
    /// on every later call: the stream is dead).
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, FrameError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let pending = &self.buf[self.taken..];
        let Some(length) = pending.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
            return Ok(None);
        };
        let error = if usize::from(length) < HEADER_LEN {
            Some(FrameError::TooShort { length })
        } else if usize::from(length) > MAX_MESSAGE_LEN {
            Some(FrameError::TooLong { length })
        } else {
            None
        };
        if let Some(e) = error {
            self.failed = Some(e);
            return Err(e);
        }
        let length = usize::from(length);
        if pending.len() < length {
            return Ok(None);
        }
        let start = self.taken;
        self.taken += length;
        Ok(Some(&self.buf[start..start + length]))
    }

    /// Bytes received but not yet handed out as a message.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.taken
    }

    /// Whether the stream has failed.
    pub fn failed(&self) -> Option<FrameError> {
        self.failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTACT: [u8; 12] = [0, 12, 11, 12, 0x65, 0, 0, 0, 0, 0, 0, 2];

    fn drain(framer: &mut Framer) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut out = Vec::new();
        while let Some(frame) = framer.next_frame()? {
            out.push(frame.to_vec());
        }
        Ok(out)
    }

    #[test]
    fn one_byte_at_a_time_yields_each_message_once_it_is_whole() {
        let stream: Vec<u8> = [CONTACT, CONTACT].concat();
        let mut framer = Framer::new();
        let mut frames = Vec::new();
        for b in &stream {
            framer.push(std::slice::from_ref(b));
            frames.extend(drain(&mut framer).unwrap());
        }
        assert_eq!(frames, vec![CONTACT.to_vec(), CONTACT.to_vec()]);
        assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn a_length_below_twelve_kills_the_stream() {
        let mut framer = Framer::new();
        framer.push(&[0, 5, 1, 2, 3]);
        assert_eq!(framer.next_frame(), Err(FrameError::TooShort { length: 5 }));
        framer.push(&CONTACT);
        assert_eq!(framer.next_frame(), Err(FrameError::TooShort { length: 5 }));
    }

    #[test]
    fn a_length_above_2048_kills_the_stream() {
        let mut framer = Framer::new();
        framer.push(&[0xff, 0xff, b'G', b'A']);
        assert_eq!(
            framer.next_frame(),
            Err(FrameError::TooLong { length: 0xffff })
        );
    }

    #[test]
    fn messages_before_garbage_are_still_delivered() {
        let mut framer = Framer::new();
        framer.push(&[&CONTACT[..], &[0, 3]].concat());
        assert_eq!(framer.next_frame().unwrap(), Some(&CONTACT[..]));
        assert!(framer.next_frame().is_err());
    }
}
