//! pcap reading, frame dissection and TCP reassembly on arbitrary files: never panics.
#![no_main]

use dhcpfo::capture;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pcap) = capture::read(data) {
        let _ = capture::dissect(&pcap, &[647, 847], &[67, 68]);
    }
});
