//! The RFC 3074 load-balancing hash and the hash-bucket-assignment bitmap (failover option 11).
//!
//! A client's service-transaction identifier (its client-identifier, else its hardware address
//! without the htype byte; draft-12 §9.8.2) hashes to one of 256 buckets; a 32-byte bitmap says
//! which buckets a server serves (draft-12.md §7.2).
//!
//! Bit order follows ISC dhcpd: bucket `h` is bit `h % 8` (least significant first) of byte
//! `h / 8`. What a set bit *means* differs: draft-12 §12.11 says "the secondary serves it", ISC
//! says "the primary serves it". The bitmap type is neutral; the failover engine applies the
//! polarity of its relationship.

/// The Pearson mixing table of RFC 3074 §6 (the same permutation ISC dhcpd calls `loadb_mx_tbl`).
const MIX: [u8; 256] = [
    251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232, 31, 32, 55, 60, 152,
    58, 17, 237, 174, 70, 160, 144, 220, 90, 57, 223, 59, 3, 18, 140, 111, 166, 203, 196, 134, 243,
    124, 95, 222, 179, 197, 65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23, 97,
    16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67, 207, 9, 178, 204,
    74, 98, 126, 249, 167, 116, 34, 77, 193, 200, 121, 5, 20, 113, 71, 35, 128, 13, 182, 94, 25,
    226, 227, 199, 75, 27, 41, 245, 230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115, 241,
    73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148, 154, 122, 12, 84, 82,
    163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239, 195, 42, 106, 198, 118,
    112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164, 102, 147, 45, 66, 231,
    52, 141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189, 93, 92, 51, 53, 183, 19, 171,
    72, 50, 33, 104, 101, 69, 8, 252, 83, 120, 76, 135, 85, 54, 202, 125, 188, 213, 96, 235, 136,
    208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4, 216, 131, 89, 21, 28, 133, 37, 153,
    149, 80, 170, 68, 6, 169, 234, 151,
];

/// The RFC 3074 §6 hash of a service-transaction identifier: a bucket in 0..=255.
///
/// The seed is the key length (mod 256) and the key is walked from its last byte to its first.
pub fn load_balance_hash(key: &[u8]) -> u8 {
    key.iter()
        .rev()
        .fold(key.len() as u8, |h, &b| MIX[usize::from(h ^ b)])
}

/// A hash-bucket-assignment bitmap: 256 buckets, one bit each.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashBuckets(pub [u8; 32]);

impl HashBuckets {
    /// No bucket set.
    pub const NONE: HashBuckets = HashBuckets([0; 32]);
    /// Every bucket set.
    pub const ALL: HashBuckets = HashBuckets([0xff; 32]);

    /// Buckets `0..n` set, as ISC's `split n` does (`n` is clamped to 256).
    pub fn split(n: u16) -> HashBuckets {
        let mut bits = [0u8; 32];
        for bucket in 0..n.min(256) {
            bits[usize::from(bucket / 8)] |= 1 << (bucket % 8);
        }
        HashBuckets(bits)
    }

    /// Whether `bucket` is set.
    pub fn contains(&self, bucket: u8) -> bool {
        self.0[usize::from(bucket / 8)] & (1 << (bucket % 8)) != 0
    }

    /// The complementary bitmap: what the partner serves.
    pub fn inverted(&self) -> HashBuckets {
        HashBuckets(self.0.map(|b| !b))
    }

    /// How many buckets are set.
    pub fn count(&self) -> u32 {
        self.0.iter().map(|b| b.count_ones()).sum()
    }
}

impl std::fmt::Debug for HashBuckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashBuckets(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_the_published_vectors() {
        // draft-12.md §7.2, reproduced from ISC's loadb_p_hash and RFC 3074's table.
        assert_eq!(
            load_balance_hash(&[0x00, 0x01, 0x02, 0x03, 0x04, 0x05]),
            161
        );
        assert_eq!(
            load_balance_hash(&[0x00, 0x11, 0x22, 0x33, 0x44, 0x55]),
            135
        );
        assert_eq!(load_balance_hash(&[]), 0);
        assert_eq!(
            load_balance_hash(&[0x01, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55]),
            223
        );
        // The key of ISC's tests/load_bal_unittest.c.
        assert_eq!(load_balance_hash(&[0x0e]), 232);
    }

    #[test]
    fn mixing_table_is_a_permutation() {
        let mut seen = [false; 256];
        for &v in &MIX {
            assert!(!seen[usize::from(v)], "{v} appears twice");
            seen[usize::from(v)] = true;
        }
    }

    #[test]
    fn split_128_is_sixteen_ff_then_sixteen_00() {
        let hba = HashBuckets::split(128);
        assert_eq!(&hba.0[..16], &[0xff; 16]);
        assert_eq!(&hba.0[16..], &[0x00; 16]);
        assert!(hba.contains(127) && !hba.contains(128));
        assert_eq!(hba.count(), 128);
        assert_eq!(HashBuckets::split(256), HashBuckets::ALL);
        assert_eq!(HashBuckets::split(0), HashBuckets::NONE);
    }

    #[test]
    fn bits_are_least_significant_first_within_a_byte() {
        let hba = HashBuckets::split(3);
        assert_eq!(hba.0[0], 0b0000_0111);
        assert!(hba.contains(2) && !hba.contains(3));
        assert_eq!(hba.inverted().count(), 253);
    }
}
