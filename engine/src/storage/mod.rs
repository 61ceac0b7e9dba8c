//! Stable storage: a durable, append-only log of opaque records.
//!
//! Draft-12 requires a binding to be on stable storage before the client (or the partner) is
//! told about it. The engine therefore encodes every change it must remember as a record,
//! [`Storage::append`]s it, calls [`Storage::sync`], and only then emits the reply that depends
//! on it. At start-up the host loads the log and hands the records back to the engine, which
//! rebuilds its state from them; when the log has grown, the engine writes its current state as
//! a fresh set of records with [`Storage::rewrite`] (compaction). This module knows nothing about
//! bindings: a record is a byte string the engine encodes and decodes itself.
//!
//! Two implementations share one byte format ([`log`]):
//!
//! * [`MemStorage`], plain data the simulator clones, hashes and crashes: it models a disk with a
//!   write cache, where a crash keeps what was synced and loses, or tears, the rest;
//! * [`FileStorage`], the real host's lease file: appends, `fsync`, and compaction by writing a
//!   new file and renaming it over the old one.
//!
//! # Invariants
//!
//! * Every record appended before a successful `sync` survives any crash, byte for byte and in
//!   order.
//! * A crash never yields part of a record: a load returns the synced records, then possibly some
//!   of the records appended after the last sync, each whole, in order.
//! * A log damaged anywhere but its tail is never cut or overwritten: loading it fails with
//!   [`StorageError::Corrupt`], and the host must refuse to start.

use std::fmt;
use std::io;
use std::path::PathBuf;

mod crc;
mod file;
pub mod log;
mod memory;

pub use file::FileStorage;
pub use log::{CorruptLog, Damage, TornReason, TornTail};
pub use memory::{CrashMode, MemCounters, MemStorage};

/// The durable log the engine writes through.
///
/// The engine is generic over this trait (never a `Box<dyn Storage>`), so that its state stays
/// plain data. Loading is not part of the trait: each implementation has its own way to open a
/// log and return the records in it ([`MemStorage::load`], [`FileStorage::open`]), which the
/// host calls before it builds the engine.
pub trait Storage {
    /// Appends a record to the write cache. It is not durable until [`Storage::sync`] returns.
    ///
    /// A record longer than [`log::MAX_RECORD_LEN`] is refused with
    /// [`StorageError::RecordTooLarge`], and nothing is appended.
    fn append(&mut self, record: &[u8]) -> Result<(), StorageError>;

    /// Makes every appended record durable.
    fn sync(&mut self) -> Result<(), StorageError>;

    /// Replaces the whole log by `records` (compaction), durably and atomically: after a crash at
    /// any point the log is either the old one or the new one. Records appended but not synced
    /// before the call are discarded: `records` is the whole new log.
    ///
    /// If it fails before the new log is in place, the old log (and the write cache) is left as
    /// it was and the call may be retried.
    fn rewrite(&mut self, records: &mut dyn Iterator<Item = Vec<u8>>) -> Result<(), StorageError>;

    /// Bytes in the log now, synced and cached, for the engine's compaction policy.
    fn len_bytes(&self) -> u64;
}

/// What a load found: the records to rebuild state from, and the torn tail it dropped, if any.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Loaded {
    /// Every good record, in the order it was appended.
    pub records: Vec<Vec<u8>>,
    /// The unfinished write a crash left at the end, cut off so that the next append starts at
    /// a record boundary. Worth a log line; never an error.
    pub torn_tail: Option<TornTail>,
}

/// Why a storage call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// An operating-system call failed.
    Io {
        /// What was being done, as a verb: "fsync", "rename", ...
        action: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The OS error's kind.
        kind: io::ErrorKind,
        /// The OS error's message.
        message: String,
    },
    /// The log is damaged somewhere other than its tail. Nothing was modified; the host must
    /// refuse to start rather than lose records that may be valid.
    Corrupt {
        /// The log file, or `None` for an in-memory log.
        path: Option<PathBuf>,
        /// Where and what.
        error: CorruptLog,
    },
    /// The caller tried to append a record longer than [`log::MAX_RECORD_LEN`].
    RecordTooLarge {
        /// The record's length.
        len: usize,
    },
    /// An earlier write or fsync failed, so what reached the disk is unknown (after a failed
    /// fsync the kernel may have dropped the unwritten pages). Every later call fails with this;
    /// the host must restart and load the log again to learn what is durable.
    Poisoned {
        /// The log file.
        path: PathBuf,
    },
}

impl StorageError {
    /// An I/O error, named by what was being done to which path.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, error: &io::Error) -> Self {
        StorageError::Io {
            action,
            path: path.into(),
            kind: error.kind(),
            message: error.to_string(),
        }
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Io {
                action,
                path,
                message,
                ..
            } => write!(f, "cannot {action} {}: {message}", path.display()),
            StorageError::Corrupt { path, error } => {
                match path {
                    Some(path) => write!(f, "lease log {} is corrupt {error}", path.display())?,
                    None => write!(f, "in-memory lease log is corrupt {error}")?,
                }
                write!(f, "; refusing to use it (it was left unmodified)")
            }
            StorageError::RecordTooLarge { len } => write!(
                f,
                "record of {len} bytes is above the bound of {} bytes",
                log::MAX_RECORD_LEN
            ),
            StorageError::Poisoned { path } => write!(
                f,
                "lease log {} is unusable after an earlier write or fsync failure; \
                 restart to re-read what reached the disk",
                path.display()
            ),
        }
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StorageError::Corrupt { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_the_offset_and_the_damage() {
        let err = StorageError::Corrupt {
            path: Some(PathBuf::from("/var/lib/dhcpfo/leases.log")),
            error: CorruptLog {
                offset: 12,
                what: Damage::NotALog,
            },
        };
        assert_eq!(
            err.to_string(),
            "lease log /var/lib/dhcpfo/leases.log is corrupt at byte 12: not a dhcpfo log \
             (bad magic); refusing to use it (it was left unmodified)"
        );
        let io = StorageError::io("fsync", "/tmp/x", &io::Error::other("disk on fire"));
        assert_eq!(io.to_string(), "cannot fsync /tmp/x: disk on fire");
        use std::error::Error;
        assert!(err.source().is_some());
        assert!(io.source().is_none());
    }
}
