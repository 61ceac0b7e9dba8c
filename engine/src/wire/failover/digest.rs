//! The message digest (option 17): HMAC-SHA256 keyed by the relationship's shared secret.
//!
//! MS-DHCPF §2.2 and §5.1 say: with a shared secret, every message carries a digest computed with
//! HMAC (RFC 2104) and SHA-256; a message without it, or with a wrong one, is dropped and the
//! connection closed (§3.1.5). Neither MS-DHCPF nor draft-12 pins down the exact bytes
//! (draft-12.md §10 marks them UNVERIFIED), so this is our choice, fixed here and tested:
//!
//! * **Option layout**: code 17, length 33: a type byte **2** (Wireshark's "Microsoft-specific";
//!   draft-12 §12.17 reserves 1 for HMAC-MD5), then the 32-byte HMAC-SHA256.
//! * **Position**: the first option (draft-12 §11.1 and §12.17 say it MUST be first; the §6.3
//!   batching sketch shows it trailing). We send it first and accept it anywhere, exactly once.
//! * **Covered bytes**: the whole message as sent, the 12-byte header with its final length
//!   included, with the 32 digest bytes set to zero while computing (draft-12 §11.1 zeroes the
//!   digest the same way); the type byte is covered as sent.
//! * **Key**: the shared secret's bytes, as configured.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::message::HEADER_LEN;
use super::option::{FoOption, code, raw_options};

type HmacSha256 = Hmac<Sha256>;

/// The digest type byte we send: HMAC-SHA256.
pub const DIGEST_KIND_HMAC_SHA256: u8 = 2;
/// HMAC-SHA256 output length.
pub const DIGEST_LEN: usize = 32;

/// Why a message's digest did not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestError {
    /// No option 17 (reject reason 21 in draft-12 terms; MS-DHCPF: drop and close).
    Missing,
    /// More than one option 17.
    Duplicate,
    /// Option 17 is not type 2 with 32 digest bytes.
    Malformed,
    /// The digest does not match (reject reason 20).
    Mismatch,
    /// The bytes are not a well-formed message.
    NotAMessage,
}

impl std::fmt::Display for DigestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DigestError::Missing => "message digest missing",
            DigestError::Duplicate => "more than one message digest",
            DigestError::Malformed => "message digest is not HMAC-SHA256 (type 2, 32 bytes)",
            DigestError::Mismatch => "message digest does not match",
            DigestError::NotAMessage => "not a well-formed failover message",
        })
    }
}

impl std::error::Error for DigestError {}

/// The option to put first in a message before sealing it: type 2 with a zeroed digest.
pub fn placeholder() -> FoOption {
    FoOption::MessageDigest {
        kind: DIGEST_KIND_HMAC_SHA256,
        digest: vec![0; DIGEST_LEN],
    }
}

/// Fill in the digest of an encoded message that carries a [`placeholder`].
pub fn seal(message: &mut [u8], secret: &[u8]) -> Result<(), DigestError> {
    let at = digest_position(message)?;
    message[at..at + DIGEST_LEN].fill(0);
    let tag = compute(message, secret);
    message[at..at + DIGEST_LEN].copy_from_slice(&tag);
    Ok(())
}

/// Check the digest of an encoded message.
pub fn verify(message: &[u8], secret: &[u8]) -> Result<(), DigestError> {
    let at = digest_position(message)?;
    let mut zeroed = message.to_vec();
    let received = &message[at..at + DIGEST_LEN];
    zeroed[at..at + DIGEST_LEN].fill(0);
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts a key of any length");
    mac.update(&zeroed);
    mac.verify_slice(received)
        .map_err(|_| DigestError::Mismatch)
}

fn compute(message: &[u8], secret: &[u8]) -> [u8; DIGEST_LEN] {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Where the 32 digest bytes start in the message.
fn digest_position(message: &[u8]) -> Result<usize, DigestError> {
    let payload_offset = message.get(3).copied().ok_or(DigestError::NotAMessage)?;
    let start = usize::from(payload_offset).max(HEADER_LEN);
    let options = message.get(start..).ok_or(DigestError::NotAMessage)?;
    let mut found = None;
    for raw in raw_options(options) {
        let (offset, c, data) = raw.map_err(|_| DigestError::NotAMessage)?;
        if c != code::MESSAGE_DIGEST {
            continue;
        }
        if found.is_some() {
            return Err(DigestError::Duplicate);
        }
        if data.len() != 1 + DIGEST_LEN || data.first() != Some(&DIGEST_KIND_HMAC_SHA256) {
            return Err(DigestError::Malformed);
        }
        // code (2) + length (2) + type byte (1)
        found = Some(start + offset + 5);
    }
    found.ok_or(DigestError::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::failover::{Message, MessageType};

    #[test]
    fn hmac_sha256_matches_rfc_4231_test_case_2() {
        let tag = compute(b"what do ya want for nothing?", b"Jefe");
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    fn sealed_contact(secret: &[u8]) -> Vec<u8> {
        let msg = Message::new(MessageType::Contact, 0x6500_0000, 7).with(placeholder());
        let mut bytes = msg.to_bytes();
        seal(&mut bytes, secret).unwrap();
        bytes
    }

    #[test]
    fn sealed_message_verifies_with_the_same_secret_only() {
        let bytes = sealed_contact(b"s3cret");
        assert_eq!(bytes.len(), 12 + 4 + 33);
        assert_eq!(verify(&bytes, b"s3cret"), Ok(()));
        assert_eq!(verify(&bytes, b"other"), Err(DigestError::Mismatch));
    }

    #[test]
    fn digest_covers_the_header_and_every_option_byte() {
        let bytes = sealed_contact(b"k");
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            let result = verify(&tampered, b"k");
            if i == 3 || (12..17).contains(&i) {
                // The payload offset and the option's own header: tampering with them makes the
                // digest unfindable or malformed.
                assert!(result.is_err(), "byte {i}");
            } else {
                // Every other byte, the digest's included, is covered by the HMAC.
                assert_eq!(
                    result,
                    Err(DigestError::Mismatch),
                    "byte {i} is not covered"
                );
            }
        }
    }

    #[test]
    fn digest_is_the_hmac_of_the_message_with_its_digest_zeroed() {
        let bytes = sealed_contact(b"k");
        let mut zeroed = bytes.clone();
        zeroed[17..49].fill(0);
        assert_eq!(&bytes[17..49], &compute(&zeroed, b"k"));
        assert_eq!(&bytes[12..17], &[0, 17, 0, 33, DIGEST_KIND_HMAC_SHA256]);
    }

    #[test]
    fn missing_duplicate_and_malformed_digests_are_told_apart() {
        let plain = Message::new(MessageType::Contact, 1, 1).to_bytes();
        assert_eq!(verify(&plain, b"k"), Err(DigestError::Missing));
        let twice = Message::new(MessageType::Contact, 1, 1)
            .with(placeholder())
            .with(placeholder())
            .to_bytes();
        assert_eq!(verify(&twice, b"k"), Err(DigestError::Duplicate));
        let md5 = Message::new(MessageType::Contact, 1, 1)
            .with(FoOption::MessageDigest {
                kind: 1,
                digest: vec![0; 16],
            })
            .to_bytes();
        assert_eq!(verify(&md5, b"k"), Err(DigestError::Malformed));
        assert_eq!(verify(&[0, 1], b"k"), Err(DigestError::NotAMessage));
    }
}
