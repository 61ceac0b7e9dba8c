//! Every DHCP packet of every ISC capture in tests/data/ parses with our codec and re-emits
//! byte for byte (up to the capture's own length for the few clients, perfdhcp, that send less
//! than the 300-byte BOOTP minimum our encoder pads to).

use dhcpfo::capture::{self, Event};
use dhcpfo_engine::wire::dhcp::{DhcpMessage, MIN_MESSAGE_LEN};

#[test]
fn every_dhcp_packet_in_the_captures_parses_and_re_emits() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/isc-4.4.3");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("capture directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "pcap"))
        .collect();
    paths.sort();
    let mut seen = 0;
    for path in &paths {
        let bytes = std::fs::read(path).expect("pcap");
        let pcap = capture::read(&bytes).expect("a classic pcap");
        let dissection = capture::dissect(&pcap, &[], &[67, 68]);
        for (i, event) in dissection.events.iter().enumerate() {
            let Event::Udp { payload, .. } = event else {
                continue;
            };
            let what = format!("{} DHCP event {i}", path.display());
            let msg = DhcpMessage::parse(payload).unwrap_or_else(|e| panic!("{what}: {e}"));
            let emitted = msg.to_bytes();
            let common = payload.len().min(emitted.len());
            assert_eq!(&emitted[..common], &payload[..common], "{what}");
            assert_eq!(emitted.len(), payload.len().max(MIN_MESSAGE_LEN), "{what}");
            assert!(emitted[common..].iter().all(|&b| b == 0), "{what}");
            seen += 1;
        }
    }
    // 02, 03, 06 and 08 (800 packets alone) carry DHCP.
    assert!(seen > 800, "only {seen} DHCP packets found");
}
