//! CRC-32 as zlib, Ethernet and gzip compute it (CRC-32/ISO-HDLC: reflected polynomial
//! 0xEDB88320, initial value and final xor all ones), which the log uses to check each record.
//!
//! Written here rather than taken from a crate because it is twenty lines, the log reads it only
//! at start-up and at each append, and the engine then needs no further dependency.

/// The reflected CRC-32 polynomial.
const POLYNOMIAL: u32 = 0xEDB8_8320;

/// One entry per byte value: the CRC register after shifting that byte through eight rounds.
static TABLE: [u32; 256] = make_table();

const fn make_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u32;
        let mut round = 0;
        while round < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLYNOMIAL
            } else {
                crc >> 1
            };
            round += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
}

/// A running CRC-32 over bytes fed in any number of pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Crc32(u32);

impl Crc32 {
    /// The CRC of nothing yet.
    pub(crate) fn new() -> Self {
        Crc32(!0)
    }

    /// Feeds `bytes` through the register.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // The low byte of the register xor the input picks the table entry: always < 256.
            let index = usize::from((self.0 as u8) ^ b);
            self.0 = TABLE[index] ^ (self.0 >> 8);
        }
    }

    /// The CRC of everything fed so far.
    pub(crate) fn finish(self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc(bytes: &[u8]) -> u32 {
        let mut c = Crc32::new();
        c.update(bytes);
        c.finish()
    }

    #[test]
    fn matches_the_standard_check_value() {
        // The catalogued check value of CRC-32/ISO-HDLC over the ASCII digits 1 to 9.
        assert_eq!(crc(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc(b""), 0);
        assert_eq!(crc(&[0, 0, 0, 0]), 0x2144_DF1C);
    }

    #[test]
    fn pieces_give_the_same_crc_as_the_whole() {
        let data = b"The quick brown fox jumps over the lazy dog";
        let mut c = Crc32::new();
        c.update(&data[..10]);
        c.update(&data[10..]);
        assert_eq!(c.finish(), crc(data));
        assert_eq!(crc(data), 0x414F_A339);
    }
}
