//! The classic libpcap file format (not pcapng): a reader that borrows records from the file's
//! bytes, and a writer for the simulator's captures.
//!
//! A file is a 24-byte header followed by records, each a 16-byte header (seconds, fraction,
//! captured length, original length) and the captured bytes. The magic number says both the byte
//! order and whether the fraction counts microseconds (`a1b2c3d4`) or nanoseconds (`a1b23c4d`);
//! every other field is in the writer's byte order.
//!
//! The reader never fails on a file that starts like a pcap: a record cut short by the end of
//! the file, or one whose captured length is absurd, ends the reading there and is reported in
//! [`Capture::truncated`]; every whole record before it is kept. Only a file that is not a
//! classic pcap at all is an error.

use std::fmt;
use std::io::{self, Write};

use dhcpfo_engine::wire::Reader;

/// The link type of Ethernet II frames (`LINKTYPE_ETHERNET`).
pub const LINKTYPE_ETHERNET: u32 = 1;
/// The link type of bare IPv4 or IPv6 packets, told apart by their version nibble
/// (`LINKTYPE_RAW`).
pub const LINKTYPE_RAW: u32 = 101;
/// The link type of Linux "cooked" captures, taken on `any` (`LINKTYPE_LINUX_SLL`).
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// The link type of bare IPv4 packets (`LINKTYPE_IPV4`).
pub const LINKTYPE_IPV4: u32 = 228;
/// The link type of BSD loopback captures: a 4-byte address family in the capturing host's
/// byte order, then the packet (`LINKTYPE_NULL`).
pub const LINKTYPE_NULL: u32 = 0;
/// The link type of the second version of Linux cooked captures (`LINKTYPE_LINUX_SLL2`).
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// The largest captured length the reader accepts in one record: 256 KiB, the snapshot length
/// that tcpdump and Wireshark use by default. A larger one means the file is corrupt, and
/// reading stops there rather than trusting it.
pub const MAX_CAPLEN_BYTES: u32 = 256 * 1024;

/// The length of the file header.
const FILE_HEADER_BYTES: usize = 24;
/// The length of each record header.
const RECORD_HEADER_BYTES: usize = 16;

/// The magic number of microsecond files, as written in the writer's byte order.
const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// The magic number of nanosecond files.
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// The first four bytes of a pcapng file: its Section Header Block type, the same in either byte
/// order.
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// What the fractional part of each timestamp counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Microseconds: magic `a1b2c3d4`, what tcpdump writes by default.
    Micros,
    /// Nanoseconds: magic `a1b23c4d`.
    Nanos,
}

impl Precision {
    /// How many nanoseconds one unit of the fraction is worth.
    fn ns_per_unit(self) -> u64 {
        match self {
            Precision::Micros => 1_000,
            Precision::Nanos => 1,
        }
    }

    /// The magic number announcing this precision.
    fn magic(self) -> u32 {
        match self {
            Precision::Micros => MAGIC_MICROS,
            Precision::Nanos => MAGIC_NANOS,
        }
    }
}

/// The byte order of a file's header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first, as written by x86 and most ARM hosts.
    Little,
    /// Most significant byte first.
    Big,
}

/// A whole capture file, its records borrowed from the file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture<'a> {
    /// The link type of every record (one of the `LINKTYPE_*` constants, or another the
    /// dissector will skip). Only the low 16 bits of the header field: the upper bits carry
    /// frame-check-sequence flags in newer files.
    pub link_type: u32,
    /// The snapshot length the capture was taken with.
    pub snaplen_bytes: u32,
    /// The byte order of the file.
    pub byte_order: ByteOrder,
    /// The timestamp precision of the file.
    pub precision: Precision,
    /// Every whole record, in file order (which is capture order, not necessarily time order).
    pub records: Vec<Record<'a>>,
    /// Where and why reading stopped before the end of the file, if it did.
    pub truncated: Option<TruncatedTail>,
}

/// One captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// When the frame was captured, in nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// The frame's length on the wire; more than `data.len()` when the snapshot length cut it.
    pub orig_len: u32,
    /// The captured bytes of the frame, starting with its link-layer header.
    pub data: &'a [u8],
}

/// Where a file stopped being readable, with every record before that point kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TruncatedTail {
    /// The file offset of the record header that could not be read whole.
    pub offset: usize,
    /// What was wrong there.
    pub reason: Truncation,
}

/// Why the last record of a file could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    /// The file ends inside a record header.
    PartialHeader {
        /// How many header bytes are present (fewer than 16).
        have_bytes: usize,
    },
    /// The file ends inside a record's captured bytes.
    PartialData {
        /// The captured length the record header announces.
        caplen_bytes: u32,
        /// How many of those bytes are present.
        have_bytes: usize,
    },
    /// The record header announces more than [`MAX_CAPLEN_BYTES`]: the file is corrupt from here.
    AbsurdCaplen {
        /// The announced captured length.
        caplen_bytes: u32,
    },
}

impl fmt::Display for TruncatedTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let offset = self.offset;
        match self.reason {
            Truncation::PartialHeader { have_bytes } => write!(
                f,
                "the file ends inside the record header at offset {offset} \
                 ({have_bytes} of {RECORD_HEADER_BYTES} bytes)"
            ),
            Truncation::PartialData {
                caplen_bytes,
                have_bytes,
            } => write!(
                f,
                "the record at offset {offset} is cut short \
                 ({have_bytes} of {caplen_bytes} captured bytes)"
            ),
            Truncation::AbsurdCaplen { caplen_bytes } => write!(
                f,
                "the record at offset {offset} claims {caplen_bytes} captured bytes \
                 (more than {MAX_CAPLEN_BYTES}): the file is corrupt from there"
            ),
        }
    }
}

/// Why a file could not be read as a classic pcap at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PcapError {
    /// The file is shorter than a pcap header or does not start with a pcap magic number.
    NotPcap {
        /// The file's length.
        len_bytes: usize,
        /// Its first four bytes, when it has them.
        magic: Option<[u8; 4]>,
    },
    /// The file is pcapng, which this reader does not support.
    Pcapng,
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcapError::NotPcap {
                len_bytes,
                magic: None,
            } => write!(
                f,
                "not a pcap file: {len_bytes} bytes is shorter than the \
                 {FILE_HEADER_BYTES}-byte pcap header"
            ),
            PcapError::NotPcap { magic: Some(m), .. } => write!(
                f,
                "not a pcap file: it starts with {:02x}{:02x}{:02x}{:02x}, not a pcap magic \
                 number (a1b2c3d4 or a1b23c4d in either byte order)",
                m[0], m[1], m[2], m[3]
            ),
            PcapError::Pcapng => write!(
                f,
                "pcapng is not supported, convert with editcap -F pcap IN.pcapng OUT.pcap"
            ),
        }
    }
}

impl std::error::Error for PcapError {}

/// Reads a classic pcap file whose bytes are all in memory.
///
/// Records borrow from `bytes`. Errors only when the file is not a classic pcap; a damaged tail
/// ends the reading and is reported in [`Capture::truncated`].
pub fn read(bytes: &[u8]) -> Result<Capture<'_>, PcapError> {
    let mut r = Reader::new(bytes);
    let not_pcap = || PcapError::NotPcap {
        len_bytes: bytes.len(),
        magic: bytes.first_chunk::<4>().copied(),
    };
    let magic = r.array::<4>().ok_or_else(not_pcap)?;
    if magic == PCAPNG_MAGIC {
        return Err(PcapError::Pcapng);
    }
    let (byte_order, precision) = match (u32::from_be_bytes(magic), u32::from_le_bytes(magic)) {
        (MAGIC_MICROS, _) => (ByteOrder::Big, Precision::Micros),
        (MAGIC_NANOS, _) => (ByteOrder::Big, Precision::Nanos),
        (_, MAGIC_MICROS) => (ByteOrder::Little, Precision::Micros),
        (_, MAGIC_NANOS) => (ByteOrder::Little, Precision::Nanos),
        _ => return Err(not_pcap()),
    };
    let u32_of = |b: [u8; 4]| match byte_order {
        ByteOrder::Little => u32::from_le_bytes(b),
        ByteOrder::Big => u32::from_be_bytes(b),
    };
    // Version (4 bytes), the obsolete time zone and accuracy fields (8), then snaplen and link
    // type. The version is not checked: every classic file in use says 2.4, and a file that
    // says otherwise is better read than refused.
    let header = r
        .array::<{ FILE_HEADER_BYTES - 4 }>()
        .ok_or_else(not_pcap)?;
    let mut h = Reader::new(&header);
    let _version_and_obsolete = h.take(12);
    let snaplen_bytes = h.array().map(u32_of).unwrap_or(0);
    let link_field = h.array().map(u32_of).unwrap_or(0);

    let mut records = Vec::new();
    let mut truncated = None;
    // Each pass consumes at least a record header, so the loop ends within len/16 passes.
    while !r.is_empty() {
        let offset = r.offset();
        let Some(head) = r.array::<RECORD_HEADER_BYTES>() else {
            truncated = Some(TruncatedTail {
                offset,
                reason: Truncation::PartialHeader {
                    have_bytes: r.remaining(),
                },
            });
            break;
        };
        let mut h = Reader::new(&head);
        let mut field = || h.array().map(u32_of).unwrap_or(0);
        let (secs, frac, caplen_bytes, orig_len) = (field(), field(), field(), field());
        if caplen_bytes > MAX_CAPLEN_BYTES {
            truncated = Some(TruncatedTail {
                offset,
                reason: Truncation::AbsurdCaplen { caplen_bytes },
            });
            break;
        }
        // caplen is at most 256 KiB here, so it fits a usize on every platform.
        let Some(data) = r.take(caplen_bytes as usize) else {
            truncated = Some(TruncatedTail {
                offset,
                reason: Truncation::PartialData {
                    caplen_bytes,
                    have_bytes: r.remaining(),
                },
            });
            break;
        };
        // Cannot overflow: u32::MAX * 10^9 + u32::MAX * 10^3 < 2^64.
        let ts_ns = u64::from(secs) * 1_000_000_000 + u64::from(frac) * precision.ns_per_unit();
        records.push(Record {
            ts_ns,
            orig_len,
            data,
        });
    }
    Ok(Capture {
        link_type: link_field & 0xffff,
        snaplen_bytes,
        byte_order,
        precision,
        records,
        truncated,
    })
}

/// Writes a classic pcap of Ethernet frames (link type 1) in the host-independent little-endian
/// byte order, to a `Vec<u8>` or any other [`Write`].
///
/// The file header is written by [`PcapWriter::new`]; each [`PcapWriter::write_record`] appends
/// one record. Nothing is buffered here: wrap a file in a `BufWriter` for speed.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    precision: Precision,
}

impl<W: Write> PcapWriter<W> {
    /// Starts a capture file on `out` with the given timestamp precision, writing its header.
    pub fn new(mut out: W, precision: Precision) -> io::Result<Self> {
        let mut header = Vec::with_capacity(FILE_HEADER_BYTES);
        header.extend_from_slice(&precision.magic().to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes()); // time zone: always 0 (UTC)
        header.extend_from_slice(&0u32.to_le_bytes()); // timestamp accuracy: always 0
        header.extend_from_slice(&MAX_CAPLEN_BYTES.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter { out, precision })
    }

    /// Appends one frame captured at `ts_ns` nanoseconds since the Unix epoch.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`], writing nothing, for a frame longer than
    /// [`MAX_CAPLEN_BYTES`] (the reader would refuse it) or a time past the year 2106 (the
    /// format's seconds field is 32 bits). Microsecond files round the time down to the
    /// microsecond.
    pub fn write_record(&mut self, ts_ns: u64, frame: &[u8]) -> io::Result<()> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
        let len = u32::try_from(frame.len())
            .ok()
            .filter(|&len| len <= MAX_CAPLEN_BYTES)
            .ok_or_else(|| {
                invalid(format!(
                    "a frame of {} bytes is longer than the {MAX_CAPLEN_BYTES}-byte limit",
                    frame.len()
                ))
            })?;
        let secs = u32::try_from(ts_ns / 1_000_000_000).map_err(|_| {
            invalid(format!(
                "time {ts_ns} ns does not fit pcap's 32-bit seconds"
            ))
        })?;
        // Below 10^9 / ns_per_unit, so it fits a u32.
        let frac = ((ts_ns % 1_000_000_000) / self.precision.ns_per_unit()) as u32;
        let mut head = [0u8; RECORD_HEADER_BYTES];
        for (chunk, value) in head.chunks_exact_mut(4).zip([secs, frac, len, len]) {
            chunk.copy_from_slice(&value.to_le_bytes());
        }
        self.out.write_all(&head)?;
        self.out.write_all(frame)
    }

    /// The timestamp precision this writer uses.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcap file header in the given byte order, with the given magic and link type.
    fn header(big_endian: bool, magic: u32, link_type: u32) -> Vec<u8> {
        let fields32 = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut out = Vec::new();
        out.extend_from_slice(&fields32(magic));
        out.extend_from_slice(if big_endian {
            &[0, 2, 0, 4]
        } else {
            &[2, 0, 4, 0]
        });
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&fields32(65535));
        out.extend_from_slice(&fields32(link_type));
        out
    }

    /// A record header plus data, in the given byte order.
    fn record(big_endian: bool, secs: u32, frac: u32, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let len = data.len() as u32;
        for v in [secs, frac, len, len + 10] {
            if big_endian {
                out.extend_from_slice(&v.to_be_bytes());
            } else {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn reads_both_byte_orders_and_both_precisions() {
        for big_endian in [false, true] {
            for (magic, precision, frac, ts_ns) in [
                (MAGIC_MICROS, Precision::Micros, 250_000, 7_250_000_000),
                (MAGIC_NANOS, Precision::Nanos, 250_000_001, 7_250_000_001),
            ] {
                let mut file = header(big_endian, magic, LINKTYPE_LINUX_SLL);
                file.extend(record(big_endian, 7, frac, b"abc"));
                file.extend(record(big_endian, 8, 0, b""));
                let cap = read(&file).expect("a valid file");
                assert_eq!(cap.link_type, LINKTYPE_LINUX_SLL);
                assert_eq!(cap.snaplen_bytes, 65535);
                assert_eq!(cap.precision, precision);
                let order = if big_endian {
                    ByteOrder::Big
                } else {
                    ByteOrder::Little
                };
                assert_eq!(cap.byte_order, order);
                assert_eq!(cap.truncated, None);
                assert_eq!(
                    cap.records,
                    vec![
                        Record {
                            ts_ns,
                            orig_len: 13,
                            data: b"abc"
                        },
                        Record {
                            ts_ns: 8_000_000_000,
                            orig_len: 10,
                            data: b""
                        },
                    ]
                );
            }
        }
    }

    #[test]
    fn short_or_foreign_files_are_not_pcap() {
        let short = read(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]).unwrap_err();
        assert_eq!(
            short,
            PcapError::NotPcap {
                len_bytes: 6,
                magic: Some([0xd4, 0xc3, 0xb2, 0xa1])
            }
        );
        assert!(read(&[]).unwrap_err().to_string().contains("shorter"));
        let text = read(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n").unwrap_err();
        assert!(
            text.to_string()
                .starts_with("not a pcap file: it starts with 47455420"),
            "{text}"
        );
    }

    #[test]
    fn pcapng_is_refused_with_the_conversion_command() {
        let mut file = vec![
            0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a,
        ];
        file.resize(64, 0);
        let err = read(&file).unwrap_err();
        assert_eq!(err, PcapError::Pcapng);
        assert!(err.to_string().contains("editcap -F pcap"));
    }

    #[test]
    fn a_header_only_file_has_no_records() {
        let file = header(false, MAGIC_MICROS, 1);
        let cap = read(&file).unwrap();
        assert!(cap.records.is_empty());
        assert_eq!(cap.truncated, None);
    }

    #[test]
    fn link_type_keeps_only_the_low_16_bits() {
        // Bit 28 set: "the FCS length field is valid", with an FCS of 4 bytes in bits 29..31.
        let file = header(false, MAGIC_MICROS, 0x9000_0001);
        let cap = read(&file).unwrap();
        assert_eq!(cap.link_type, LINKTYPE_ETHERNET);
    }

    #[test]
    fn a_cut_record_keeps_the_whole_ones_and_reports_where() {
        let mut file = header(false, MAGIC_MICROS, 1);
        file.extend(record(false, 1, 0, b"first"));
        let second_at = file.len();
        file.extend(record(false, 2, 0, b"second"));
        let whole = file.len();

        file.truncate(whole - 2);
        let cap = read(&file).unwrap();
        assert_eq!(cap.records.len(), 1);
        assert_eq!(
            cap.truncated,
            Some(TruncatedTail {
                offset: second_at,
                reason: Truncation::PartialData {
                    caplen_bytes: 6,
                    have_bytes: 4
                }
            })
        );

        file.truncate(second_at + 5);
        let cap = read(&file).unwrap();
        assert_eq!(cap.records.len(), 1);
        let tail = cap.truncated.unwrap();
        assert_eq!(tail.reason, Truncation::PartialHeader { have_bytes: 5 });
        assert!(tail.to_string().contains(&format!("offset {second_at}")));
    }

    #[test]
    fn an_absurd_caplen_stops_reading_there() {
        let mut file = header(true, MAGIC_MICROS, 1);
        file.extend(record(true, 1, 0, b"ok"));
        let bad_at = file.len();
        let mut bad = record(true, 2, 0, b"");
        bad[8..12].copy_from_slice(&(MAX_CAPLEN_BYTES + 1).to_be_bytes());
        file.extend(bad);
        file.extend(vec![0; 300 * 1024]);
        let cap = read(&file).unwrap();
        assert_eq!(cap.records.len(), 1);
        assert_eq!(
            cap.truncated,
            Some(TruncatedTail {
                offset: bad_at,
                reason: Truncation::AbsurdCaplen {
                    caplen_bytes: MAX_CAPLEN_BYTES + 1
                }
            })
        );
    }

    #[test]
    fn writer_output_reads_back_in_both_precisions() {
        for (precision, ts_ns, read_back_ns) in [
            (
                Precision::Micros,
                1_700_000_000_123_456_789,
                1_700_000_000_123_456_000,
            ),
            (
                Precision::Nanos,
                1_700_000_000_123_456_789,
                1_700_000_000_123_456_789,
            ),
        ] {
            let mut w = PcapWriter::new(Vec::new(), precision).unwrap();
            w.write_record(ts_ns, b"frame one").unwrap();
            w.write_record(ts_ns + 1_000_000_000, b"").unwrap();
            let file = w.into_inner().unwrap();
            let cap = read(&file).unwrap();
            assert_eq!(cap.link_type, LINKTYPE_ETHERNET);
            assert_eq!(cap.precision, precision);
            assert_eq!(cap.byte_order, ByteOrder::Little);
            assert_eq!(cap.truncated, None);
            assert_eq!(cap.records.len(), 2);
            assert_eq!(cap.records[0].ts_ns, read_back_ns);
            assert_eq!(cap.records[0].data, b"frame one");
            assert_eq!(cap.records[0].orig_len, 9);
            assert_eq!(cap.records[1].ts_ns, read_back_ns + 1_000_000_000);
        }
    }

    #[test]
    fn writer_refuses_what_the_format_cannot_hold() {
        let mut w = PcapWriter::new(Vec::new(), Precision::Nanos).unwrap();
        let too_late = (u64::from(u32::MAX) + 1) * 1_000_000_000;
        let err = w.write_record(too_late, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let huge = vec![0; MAX_CAPLEN_BYTES as usize + 1];
        let err = w.write_record(0, &huge).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        // Neither failure wrote a partial record.
        assert_eq!(w.into_inner().unwrap().len(), FILE_HEADER_BYTES);
    }
}
