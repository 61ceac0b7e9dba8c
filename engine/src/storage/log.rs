//! The log format that both storage implementations share, and its replay.
//!
//! # Format
//!
//! All integers are big-endian, as on the wire.
//!
//! ```text
//! file header, once:   magic "dhcpfo-L" (8 bytes) | format version u32 (= 1)
//! each record:         length u32 | CRC-32 u32 | payload (length bytes)
//! ```
//!
//! The CRC is CRC-32/ISO-HDLC (zlib's) over the four length bytes followed by the payload.
//! Covering the length as well as the payload means an all-zero record header never checks out
//! (the CRC of four zero bytes is 0x2144DF1C, not 0), so a stretch of zeros is never read as a
//! run of empty records, and a damaged length is caught even when it still fits in the file. A
//! payload is at most [`MAX_RECORD_LEN`] bytes; [`frame`] refuses longer ones.
//!
//! # Replay
//!
//! [`replay`] reads records from the start until the bytes run out or a record is bad. What it
//! does with a bad record follows from how logs are written: records are only ever appended, and
//! a crash can only cut the last write short (a torn write) or leave space the file system
//! allocated but never filled (zeros). So:
//!
//! * a bad record that **reaches the end of the bytes** is a torn tail: a record header or
//!   payload cut short, or a complete frame whose CRC fails. It was never synced (a synced record
//!   is whole), so it is dropped and reported ([`TornTail`]); everything before it is kept;
//! * a bad record (or file header) from which **only zero bytes** run to the end is a torn tail
//!   too, however long the zeros: space that a file system allocated but never wrote;
//! * a record whose CRC fails **and is followed by more bytes** is damage inside the log. So is a
//!   length above [`MAX_RECORD_LEN`], wherever it is: our writer never frames one, and cutting a
//!   frame short never changes its length bytes, so no torn write produces it; and once the
//!   length cannot be trusted nothing says where the next record would start. Damage is a
//!   [`CorruptLog`] error, and the caller must refuse to start rather than truncate records that
//!   may be valid;
//! * a header with the wrong magic or an unknown version is a [`CorruptLog`] error; a header cut
//!   short (fewer than [`HEADER_LEN`] bytes, our magic as far as it goes) is a torn tail at 0.
//!   Empty bytes are an empty log that was never started.
//!
//! One limit: a length field damaged (not torn) to a value that runs past the end, within the
//! last [`MAX_RECORD_LEN`] bytes, looks exactly like a torn payload and is dropped as one. The
//! fault model here is torn and lost writes; media that flip bits are outside it.
//!
//! Replay never panics and never allocates by a length it has not checked against the bytes in
//! hand: it returns borrowed slices, and reads only through [`Reader`].

use std::fmt;

use super::StorageError;
use super::crc::Crc32;
use crate::wire::Reader;

/// The first eight bytes of every log: says "this is a dhcpfo log".
pub const MAGIC: [u8; 8] = *b"dhcpfo-L";

/// The format version this build writes and reads.
pub const VERSION: u32 = 1;

/// Bytes in the file header: magic and version.
pub const HEADER_LEN: usize = 12;

/// Bytes in each record's header: length and CRC.
pub const RECORD_HEADER_LEN: usize = 8;

/// The largest payload a record may carry: 1 MiB. A binding record is a few hundred bytes; the
/// bound exists so that a damaged length is recognised as damage.
pub const MAX_RECORD_LEN: usize = 1 << 20;

/// The file header: [`MAGIC`] then [`VERSION`].
pub fn header() -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    let (magic, version) = out.split_at_mut(MAGIC.len());
    magic.copy_from_slice(&MAGIC);
    version.copy_from_slice(&VERSION.to_be_bytes());
    out
}

/// How many bytes [`frame`] appends for a payload of `payload_len` bytes.
pub fn framed_len(payload_len: usize) -> usize {
    RECORD_HEADER_LEN.saturating_add(payload_len)
}

/// The CRC stored in a record: over the big-endian length bytes, then the payload.
fn record_crc(len_bytes: [u8; 4], payload: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(&len_bytes);
    crc.update(payload);
    crc.finish()
}

/// Appends one framed record (length, CRC, payload) to `out`.
///
/// A payload longer than [`MAX_RECORD_LEN`] is refused with
/// [`StorageError::RecordTooLarge`] and nothing is appended.
pub fn frame(record: &[u8], out: &mut Vec<u8>) -> Result<(), StorageError> {
    let len = match u32::try_from(record.len()) {
        Ok(len) if record.len() <= MAX_RECORD_LEN => len,
        _ => {
            return Err(StorageError::RecordTooLarge { len: record.len() });
        }
    };
    let len_bytes = len.to_be_bytes();
    out.reserve(framed_len(record.len()));
    out.extend_from_slice(&len_bytes);
    out.extend_from_slice(&record_crc(len_bytes, record).to_be_bytes());
    out.extend_from_slice(record);
    Ok(())
}

/// What [`replay`] found in a log that is not damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed<'a> {
    /// The payload of every good record, in log order, borrowed from the replayed bytes.
    pub records: Vec<&'a [u8]>,
    /// Bytes from the start up to the end of the last good record (0 if not even the file
    /// header is whole). The next record must be appended here: a torn tail is cut off first.
    pub valid_len: usize,
    /// The bad last record that was dropped, if there was one.
    pub torn_tail: Option<TornTail>,
}

/// A bad record at the end of a log, dropped by replay: the trace of a write that a crash cut
/// short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TornTail {
    /// Where the dropped bytes start (equal to [`Replayed::valid_len`]).
    pub offset: usize,
    /// How many bytes were dropped.
    pub len: usize,
    /// What was wrong with them.
    pub reason: TornReason,
}

/// Why the tail of a log was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TornReason {
    /// Fewer than [`HEADER_LEN`] bytes, our magic as far as they go.
    ShortFileHeader,
    /// Fewer than [`RECORD_HEADER_LEN`] bytes after the last record.
    ShortRecordHeader,
    /// A record header whose payload runs past the end.
    ShortPayload {
        /// The payload length the header announced.
        len: u32,
    },
    /// A complete last record whose CRC does not match.
    BadChecksum,
    /// Only zero bytes from here to the end: space allocated but never written. Named in
    /// preference to the reasons above when it also fits them.
    Zeros,
}

/// A log that cannot be replayed without risking valid records: the caller must refuse to start
/// and leave the bytes as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CorruptLog {
    /// Byte offset of the damage from the start of the log.
    pub offset: usize,
    /// What is wrong there.
    pub what: Damage,
}

/// The kinds of damage that stop a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Damage {
    /// The bytes do not start with [`MAGIC`]: not a dhcpfo log.
    NotALog,
    /// A dhcpfo log of a format version this build does not read.
    UnknownVersion {
        /// The version in the header.
        version: u32,
    },
    /// A record length above [`MAX_RECORD_LEN`].
    RecordTooLarge {
        /// The length in the record header.
        len: u32,
    },
    /// A record whose CRC does not match, with more (non-zero) bytes after it.
    BadChecksum {
        /// The CRC stored in the record header.
        stored: u32,
        /// The CRC of the length and payload as read.
        computed: u32,
        /// How many bytes follow the bad record.
        bytes_after: usize,
    },
}

impl fmt::Display for CorruptLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.what)
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Damage::NotALog => write!(f, "not a dhcpfo log (bad magic)"),
            Damage::UnknownVersion { version } => write!(
                f,
                "log format version {version}, but this build reads version {VERSION}"
            ),
            Damage::RecordTooLarge { len } => write!(
                f,
                "record length {len} is above the bound of {MAX_RECORD_LEN} bytes"
            ),
            Damage::BadChecksum {
                stored,
                computed,
                bytes_after,
            } => write!(
                f,
                "record checksum mismatch (stored {stored:08x}, computed {computed:08x}) \
                 with {bytes_after} more bytes after the record: damage inside the log, \
                 not a torn write"
            ),
        }
    }
}

impl std::error::Error for CorruptLog {}

/// A record that did not read cleanly, before deciding whether it is a torn tail or damage.
enum BadRecord {
    /// The bytes end inside the record.
    Short(TornReason),
    /// The length is above the bound.
    TooLarge { len: u32 },
    /// A complete record with a wrong CRC, ending at `end`.
    Checksum {
        stored: u32,
        computed: u32,
        end: usize,
    },
}

/// Reads one record at the reader's position; on success the reader moves past it, on failure
/// it stays where it was.
fn read_record<'a>(reader: &mut Reader<'a>) -> Result<&'a [u8], BadRecord> {
    let mut r = reader.clone();
    let len_bytes: [u8; 4] = r
        .array()
        .ok_or(BadRecord::Short(TornReason::ShortRecordHeader))?;
    let len = u32::from_be_bytes(len_bytes);
    // Checked before the CRC field so that four damaged length bytes at the very end are damage
    // too: a torn write cuts bytes off, it never changes the ones it kept.
    let payload_len = usize::try_from(len)
        .ok()
        .filter(|&n| n <= MAX_RECORD_LEN)
        .ok_or(BadRecord::TooLarge { len })?;
    let stored = r
        .u32()
        .ok_or(BadRecord::Short(TornReason::ShortRecordHeader))?;
    let payload = r
        .take(payload_len)
        .ok_or(BadRecord::Short(TornReason::ShortPayload { len }))?;
    let computed = record_crc(len_bytes, payload);
    if computed != stored {
        return Err(BadRecord::Checksum {
            stored,
            computed,
            end: r.offset(),
        });
    }
    *reader = r;
    Ok(payload)
}

/// Whether every byte of `bytes` from `offset` on is zero (true if there are none).
fn zeros_from(bytes: &[u8], offset: usize) -> bool {
    bytes.get(offset..).unwrap_or(&[]).iter().all(|&b| b == 0)
}

/// Reads a log: the good records, where the good part ends, and the torn tail dropped after it;
/// or the damage that makes the log unsafe to use. See the module documentation for the rules.
pub fn replay(bytes: &[u8]) -> Result<Replayed<'_>, CorruptLog> {
    let torn = |offset: usize, reason: TornReason| TornTail {
        offset,
        len: bytes.len().saturating_sub(offset),
        reason,
    };
    let mut out = Replayed {
        records: Vec::new(),
        valid_len: 0,
        torn_tail: None,
    };
    if bytes.is_empty() {
        return Ok(out);
    }
    let mut reader = Reader::new(bytes);
    match reader.array::<HEADER_LEN>() {
        None => {
            // A header cut short by a crash during creation: nothing in it to lose.
            let reason = if zeros_from(bytes, 0) {
                TornReason::Zeros
            } else if bytes.iter().zip(MAGIC.iter()).all(|(a, b)| a == b) {
                TornReason::ShortFileHeader
            } else {
                return Err(CorruptLog {
                    offset: 0,
                    what: Damage::NotALog,
                });
            };
            out.torn_tail = Some(torn(0, reason));
            return Ok(out);
        }
        Some(head) => {
            let mut head = Reader::new(&head);
            if head.array::<8>() != Some(MAGIC) {
                if zeros_from(bytes, 0) {
                    out.torn_tail = Some(torn(0, TornReason::Zeros));
                    return Ok(out);
                }
                return Err(CorruptLog {
                    offset: 0,
                    what: Damage::NotALog,
                });
            }
            let version = head.u32().unwrap_or_default();
            if version != VERSION {
                return Err(CorruptLog {
                    offset: MAGIC.len(),
                    what: Damage::UnknownVersion { version },
                });
            }
        }
    }
    out.valid_len = reader.offset();
    // Each turn consumes at least RECORD_HEADER_LEN bytes or ends the loop, so the loop runs at
    // most bytes.len() / RECORD_HEADER_LEN times.
    while !reader.is_empty() {
        let start = reader.offset();
        let bad = match read_record(&mut reader) {
            Ok(payload) => {
                out.records.push(payload);
                out.valid_len = reader.offset();
                continue;
            }
            Err(bad) => bad,
        };
        if zeros_from(bytes, start) {
            out.torn_tail = Some(torn(start, TornReason::Zeros));
            return Ok(out);
        }
        let reason = match bad {
            BadRecord::Short(reason) => reason,
            BadRecord::Checksum { end, .. } if end == bytes.len() => TornReason::BadChecksum,
            BadRecord::Checksum {
                stored,
                computed,
                end,
            } => {
                return Err(CorruptLog {
                    offset: start,
                    what: Damage::BadChecksum {
                        stored,
                        computed,
                        bytes_after: bytes.len().saturating_sub(end),
                    },
                });
            }
            BadRecord::TooLarge { len } => {
                return Err(CorruptLog {
                    offset: start,
                    what: Damage::RecordTooLarge { len },
                });
            }
        };
        out.torn_tail = Some(torn(start, reason));
        return Ok(out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A whole log holding `records`.
    fn log_of(records: &[&[u8]]) -> Vec<u8> {
        let mut out = header().to_vec();
        for r in records {
            frame(r, &mut out).unwrap();
        }
        out
    }

    /// Offsets where each record's frame ends, for a log built by `log_of`.
    fn frame_ends(records: &[&[u8]]) -> Vec<usize> {
        let mut end = HEADER_LEN;
        records
            .iter()
            .map(|r| {
                end += framed_len(r.len());
                end
            })
            .collect()
    }

    const RECORDS: [&[u8]; 4] = [b"first", b"", b"third record", b"\x00\x00\x00\x04four"];

    #[test]
    fn frame_layout_is_length_crc_payload_big_endian() {
        let mut out = vec![0xa5];
        frame(b"abc", &mut out).unwrap();
        let mut crc = Crc32::new();
        crc.update(&[0, 0, 0, 3]);
        crc.update(b"abc");
        let mut expected = vec![0xa5, 0, 0, 0, 3];
        expected.extend_from_slice(&crc.finish().to_be_bytes());
        expected.extend_from_slice(b"abc");
        assert_eq!(out, expected);
        assert_eq!(header(), *b"dhcpfo-L\x00\x00\x00\x01");
    }

    #[test]
    fn oversized_record_is_refused_and_nothing_is_framed() {
        let big = vec![7u8; MAX_RECORD_LEN + 1];
        let mut out = vec![1, 2];
        assert_eq!(
            frame(&big, &mut out),
            Err(StorageError::RecordTooLarge {
                len: MAX_RECORD_LEN + 1
            })
        );
        assert_eq!(out, [1, 2]);
        // The bound itself is allowed and replays.
        let max = vec![7u8; MAX_RECORD_LEN];
        let log = log_of(&[&max]);
        assert_eq!(replay(&log).unwrap().records, [&max[..]]);
    }

    #[test]
    fn empty_bytes_are_an_empty_log_and_a_bare_header_has_no_records() {
        let empty = replay(&[]).unwrap();
        assert_eq!((empty.records.len(), empty.valid_len), (0, 0));
        assert_eq!(empty.torn_tail, None);
        let header = header();
        let bare = replay(&header).unwrap();
        assert_eq!((bare.records.len(), bare.valid_len), (0, HEADER_LEN));
        assert_eq!(bare.torn_tail, None);
    }

    #[test]
    fn every_cut_of_a_log_keeps_the_whole_records_before_it() {
        let log = log_of(&RECORDS);
        let ends = frame_ends(&RECORDS);
        for cut in 0..=log.len() {
            let r = replay(&log[..cut]).unwrap();
            let whole = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(r.records, RECORDS[..whole], "cut at {cut}");
            let valid = if cut < HEADER_LEN {
                0
            } else {
                ends.get(whole.wrapping_sub(1))
                    .copied()
                    .unwrap_or(HEADER_LEN)
            };
            assert_eq!(r.valid_len, valid, "cut at {cut}");
            let torn = r.torn_tail.map(|t| (t.offset, t.len));
            let expected = (cut > valid).then_some((valid, cut - valid));
            assert_eq!(torn, expected, "cut at {cut}");
        }
    }

    #[test]
    fn torn_reasons_name_what_was_cut() {
        let log = log_of(&RECORDS[..1]);
        let reason = |bytes: &[u8]| replay(bytes).unwrap().torn_tail.unwrap().reason;
        assert_eq!(reason(&log[..5]), TornReason::ShortFileHeader);
        // The top bytes of a short length are zeros, and a tail of zeros is named as such.
        assert_eq!(reason(&log[..HEADER_LEN + 3]), TornReason::Zeros);
        assert_eq!(
            reason(&log[..HEADER_LEN + 4]),
            TornReason::ShortRecordHeader
        );
        assert_eq!(
            reason(&log[..HEADER_LEN + 7]),
            TornReason::ShortRecordHeader
        );
        assert_eq!(
            reason(&log[..log.len() - 1]),
            TornReason::ShortPayload { len: 5 }
        );
        let mut flipped = log.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(reason(&flipped), TornReason::BadChecksum);
    }

    #[test]
    fn a_short_file_that_is_not_our_header_is_not_a_log() {
        for bytes in [&b"dhcpfX"[..], b"x", b"{\"json\": 1}"] {
            assert_eq!(
                replay(bytes),
                Err(CorruptLog {
                    offset: 0,
                    what: Damage::NotALog
                })
            );
        }
        let mut other = b"#!/bin/sh\necho not a log\n".to_vec();
        other.extend_from_slice(&log_of(&RECORDS)[HEADER_LEN..]);
        assert_eq!(replay(&other).unwrap_err().what, Damage::NotALog);
    }

    #[test]
    fn an_unknown_version_is_refused() {
        let mut log = log_of(&RECORDS);
        log[11] = 2;
        assert_eq!(
            replay(&log),
            Err(CorruptLog {
                offset: 8,
                what: Damage::UnknownVersion { version: 2 }
            })
        );
    }

    #[test]
    fn a_bad_record_followed_by_more_bytes_is_corruption() {
        let log = log_of(&RECORDS);
        let ends = frame_ends(&RECORDS);
        // Flip the last payload byte of the first record: its CRC fails and records follow.
        let mut damaged = log.clone();
        damaged[ends[0] - 1] ^= 0x40;
        let err = replay(&damaged).unwrap_err();
        assert_eq!(err.offset, HEADER_LEN);
        assert!(matches!(
            err.what,
            Damage::BadChecksum { bytes_after, .. } if bytes_after == log.len() - ends[0]
        ));
        // A damaged length that still fits is caught by the CRC, which covers the length.
        let mut shorter = log.clone();
        shorter[HEADER_LEN + 3] = 2;
        assert!(matches!(
            replay(&shorter).unwrap_err().what,
            Damage::BadChecksum { .. }
        ));
    }

    #[test]
    fn a_length_above_the_bound_is_corruption_even_at_the_very_end() {
        let mut log = log_of(&RECORDS[..2]);
        let at = log.len();
        log.extend_from_slice(&(MAX_RECORD_LEN as u32 + 1).to_be_bytes());
        let expected = CorruptLog {
            offset: at,
            what: Damage::RecordTooLarge {
                len: MAX_RECORD_LEN as u32 + 1,
            },
        };
        assert_eq!(replay(&log), Err(expected));
        log.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        assert_eq!(replay(&log), Err(expected));
    }

    #[test]
    fn zeros_to_the_end_are_unwritten_space_not_records() {
        let log = log_of(&RECORDS);
        for zeros in [1, 8, 9, 100] {
            let mut padded = log.clone();
            padded.resize(log.len() + zeros, 0);
            let r = replay(&padded).unwrap();
            assert_eq!(r.records, RECORDS);
            assert_eq!(r.valid_len, log.len());
            assert_eq!(r.torn_tail.map(|t| t.reason), Some(TornReason::Zeros));
        }
        // A file created and extended but never written.
        for len in [3, HEADER_LEN, 64] {
            let zeros = vec![0; len];
            let r = replay(&zeros).unwrap();
            assert_eq!((r.records.len(), r.valid_len), (0, 0));
            assert_eq!(r.torn_tail.map(|t| t.reason), Some(TornReason::Zeros));
        }
        // Zeros followed by data are damage.
        let mut holed = log.clone();
        holed.extend_from_slice(&[0; 16]);
        holed.extend_from_slice(&log[HEADER_LEN..]);
        assert!(matches!(
            replay(&holed).unwrap_err().what,
            Damage::BadChecksum { .. }
        ));
    }

    #[test]
    fn damage_messages_say_where_and_what() {
        let err = CorruptLog {
            offset: 40,
            what: Damage::RecordTooLarge { len: 5_000_000 },
        };
        assert_eq!(
            err.to_string(),
            "at byte 40: record length 5000000 is above the bound of 1048576 bytes"
        );
    }

    fn records_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..12)
    }

    proptest! {
        #[test]
        fn frame_then_replay_round_trips(records in records_strategy()) {
            let mut log = header().to_vec();
            for r in &records {
                frame(r, &mut log).unwrap();
            }
            let replayed = replay(&log).unwrap();
            prop_assert_eq!(replayed.records, records.iter().map(Vec::as_slice).collect::<Vec<_>>());
            prop_assert_eq!(replayed.valid_len, log.len());
            prop_assert_eq!(replayed.torn_tail, None);
        }

        #[test]
        fn replay_of_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(r) = replay(&bytes) {
                prop_assert!(r.valid_len <= bytes.len());
                let tail = r.torn_tail.map_or(0, |t| t.len);
                prop_assert_eq!(r.valid_len + tail, bytes.len());
            }
            let mut with_header = header().to_vec();
            with_header.extend_from_slice(&bytes);
            if let Ok(r) = replay(&with_header) {
                prop_assert!(r.valid_len >= HEADER_LEN && r.valid_len <= with_header.len());
            }
        }

        #[test]
        fn a_damaged_log_yields_a_prefix_of_its_records_or_an_error(
            records in records_strategy(),
            at in any::<prop::sample::Index>(),
            xor in 1u8..,
            cut in any::<prop::sample::Index>(),
            garbage in prop::collection::vec(any::<u8>(), 0..24),
        ) {
            let mut log = header().to_vec();
            for r in &records {
                frame(r, &mut log).unwrap();
            }
            let originals: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
            let check = |bytes: &[u8]| -> Result<(), TestCaseError> {
                if let Ok(r) = replay(bytes) {
                    prop_assert!(r.records.len() <= originals.len());
                    prop_assert_eq!(&r.records[..], &originals[..r.records.len()]);
                }
                Ok(())
            };
            // One byte changed anywhere.
            let mut flipped = log.clone();
            flipped[at.index(log.len())] ^= xor;
            check(&flipped)?;
            // Cut anywhere: never an error, always the whole records before the cut.
            let cut_at = cut.index(log.len() + 1);
            let r = replay(&log[..cut_at]);
            prop_assert!(r.is_ok());
            check(&log[..cut_at])?;
            // Garbage appended: at worst an error, never a changed record.
            let mut extended = log.clone();
            extended.extend_from_slice(&garbage);
            check(&extended)?;
        }
    }
}
