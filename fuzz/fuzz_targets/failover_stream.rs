//! Framer + decoder over an arbitrary stream split at fuzzer-chosen points: never panics, and
//! every frame it yields has a legal length.
#![no_main]

use dhcpfo_engine::wire::failover::{Dialect, Framer, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, stream)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let mut framer = Framer::new();
    for chunk in stream.chunks(step) {
        framer.push(chunk);
        loop {
            match framer.next_frame() {
                Ok(Some(frame)) => {
                    assert!((12..=2048).contains(&frame.len()));
                    let _ = Message::parse(frame, Dialect::detect(frame));
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
});
