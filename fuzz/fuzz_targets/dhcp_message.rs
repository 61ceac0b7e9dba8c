//! DHCP decoder: never panics, and parse → emit → parse gives the same message. Bytes may
//! differ (tolerated): overload is undone, RFC 3396 pieces are joined, pads are dropped, and
//! the encoder pads to 300 bytes.
#![no_main]

use dhcpfo_engine::wire::dhcp::DhcpMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = DhcpMessage::parse(data) {
        let again = m.to_bytes();
        assert_eq!(again.len(), m.buffer_len());
        assert_eq!(DhcpMessage::parse(&again).as_ref(), Ok(&m));
    }
});
