//! Failover decoder: never panics, and whatever decodes re-encodes to the very same bytes
//! (parse ∘ emit = id on the wire). No tolerated exceptions so far.
#![no_main]

use dhcpfo_engine::wire::failover::{Dialect, Message, digest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for dialect in [Dialect::Isc, Dialect::Microsoft] {
        if let Ok(m) = Message::parse(data, dialect) {
            assert_eq!(m.to_bytes(), data, "{dialect:?} re-encoding differs");
            assert_eq!(Message::parse(&m.to_bytes(), dialect).as_ref(), Ok(&m));
        }
    }
    let _ = Dialect::detect(data);
    let _ = digest::verify(data, b"secret");
});
