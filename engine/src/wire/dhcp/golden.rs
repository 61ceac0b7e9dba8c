//! Golden bytes both ways: real DHCP packets captured from ISC dhcpd 4.4.3-P1 and real clients
//! (`tests/data/isc-4.4.3/`), parsed into the expected
//! message and emitted back, into a buffer pre-filled with 0xa5 so that forgotten bytes show.
//!
//! Each constant is the UDP payload of one frame, laid out as: op htype hlen hops, xid, secs,
//! flags, ciaddr, yiaddr, siaddr, giaddr; chaddr; sname (2 lines); file (4 lines); cookie;
//! options up to END; padding. Whitespace is only for reading. `tests/dhcp_captures.rs` at the
//! workspace root re-emits every DHCP packet of every capture.
//!
//! The captures hold neither option 82 nor an OFFER/ACK with options 6, 58 or 59 (the ISC
//! configuration sets none), so those are covered by the hand-built tests in `super`.

use std::net::Ipv4Addr;

use super::*;

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// Asserts that `text` parses to `expected` and that `expected` emits `text` byte for byte.
fn assert_golden(text: &str, expected: &DhcpMessage) {
    let bytes = hex(text);
    assert_eq!(DhcpMessage::parse(&bytes).as_ref(), Ok(expected));
    assert_eq!(expected.buffer_len(), bytes.len());
    let mut buf = vec![0xa5; bytes.len()];
    expected.emit(&mut buf);
    assert_eq!(buf, bytes);
}

const MAC_VM: [u8; 16] = [
    0x56, 0xf8, 0x21, 0x7d, 0xba, 0x54, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];
const MAC_PERFDHCP: [u8; 16] = [
    0x00, 0x0c, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];
/// What dhclient asks for (option 55) in 02-client-leases.pcap.
const DHCLIENT_PRL: [u8; 13] = [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42];

fn message(op: Op, xid: u32, chaddr: [u8; 16], options: Vec<DhcpOption>) -> DhcpMessage {
    DhcpMessage {
        chaddr,
        options,
        ..DhcpMessage::new(op, xid)
    }
}

/// 02-client-leases.pcap frame 5: dhclient DISCOVER, options 53, 12, 55, padded to 300 bytes.
const DHCLIENT_DISCOVER: &str = "
    01010600 73c17667 0000 0000 00000000 00000000 00000000 00000000
    56f8217dba5400000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    63825363
    350101 0c02766d 370d011c02030f06770c2c2f1a792a ff
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000
";

#[test]
fn dhclient_discover_both_ways() {
    let expected = message(
        Op::Request,
        0x73c1_7667,
        MAC_VM,
        vec![
            DhcpOption::MessageType(MessageType::Discover),
            DhcpOption::HostName(b"vm".to_vec()),
            DhcpOption::ParameterRequestList(DHCLIENT_PRL.to_vec()),
        ],
    );
    assert_golden(DHCLIENT_DISCOVER, &expected);
    assert_eq!(expected.message_type(), Some(MessageType::Discover));
    assert_eq!(expected.host_name(), Some(&b"vm"[..]));
    assert_eq!(
        expected.client_hw_addr(),
        &[0x56, 0xf8, 0x21, 0x7d, 0xba, 0x54]
    );
    assert_eq!(expected.client_id(), None);
}

/// 02-client-leases.pcap frame 7: ISC dhcpd OFFER to dhclient, options 53, 54, 51, 1, 3.
const ISC_OFFER: &str = "
    02010600 73c17667 0000 0000 00000000 c0000295 00000000 00000000
    56f8217dba5400000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    63825363
    350102 3604c0000202 33040000001e 0104ffffff00 0304c0000201 ff
    0000000000000000000000000000000000000000000000000000000000000000
";

#[test]
fn isc_offer_both_ways() {
    let expected = DhcpMessage {
        yiaddr: Ipv4Addr::new(192, 0, 2, 149),
        ..message(
            Op::Reply,
            0x73c1_7667,
            MAC_VM,
            vec![
                DhcpOption::MessageType(MessageType::Offer),
                DhcpOption::ServerId(Ipv4Addr::new(192, 0, 2, 2)),
                DhcpOption::LeaseTime(30),
                DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
                DhcpOption::Routers(vec![Ipv4Addr::new(192, 0, 2, 1)]),
            ],
        )
    };
    assert_golden(ISC_OFFER, &expected);
    assert_eq!(expected.server_id(), Some(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!(expected.lease_time_s(), Some(30));
}

/// 02-client-leases.pcap frame 8: dhclient REQUEST (SELECTING), options 53, 54, 50, 12, 55.
const DHCLIENT_REQUEST: &str = "
    01010600 73c17667 0000 0000 00000000 00000000 00000000 00000000
    56f8217dba5400000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    63825363
    350103 3604c0000202 3204c0000295 0c02766d 370d011c02030f06770c2c2f1a792a ff
    00000000000000000000000000000000000000000000000000
";

#[test]
fn dhclient_request_both_ways() {
    let expected = message(
        Op::Request,
        0x73c1_7667,
        MAC_VM,
        vec![
            DhcpOption::MessageType(MessageType::Request),
            DhcpOption::ServerId(Ipv4Addr::new(192, 0, 2, 2)),
            DhcpOption::RequestedIp(Ipv4Addr::new(192, 0, 2, 149)),
            DhcpOption::HostName(b"vm".to_vec()),
            DhcpOption::ParameterRequestList(DHCLIENT_PRL.to_vec()),
        ],
    );
    assert_golden(DHCLIENT_REQUEST, &expected);
    assert_eq!(expected.requested_ip(), Some(Ipv4Addr::new(192, 0, 2, 149)));
    assert_eq!(expected.parameter_request_list(), Some(&DHCLIENT_PRL[..]));
}

/// 02-client-leases.pcap frame 60: dhclient RELEASE from its bound address (ciaddr).
const DHCLIENT_RELEASE: &str = "
    01010600 871bc048 0000 0000 c0000295 00000000 00000000 00000000
    56f8217dba5400000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    63825363
    350107 3604c0000202 0c02766d ff
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000
";

#[test]
fn dhclient_release_both_ways() {
    let expected = DhcpMessage {
        ciaddr: Ipv4Addr::new(192, 0, 2, 149),
        ..message(
            Op::Request,
            0x871b_c048,
            MAC_VM,
            vec![
                DhcpOption::MessageType(MessageType::Release),
                DhcpOption::ServerId(Ipv4Addr::new(192, 0, 2, 2)),
                DhcpOption::HostName(b"vm".to_vec()),
            ],
        )
    };
    assert_golden(DHCLIENT_RELEASE, &expected);
}

/// 02-client-leases.pcap frame 75: udhcpc (busybox 1.35.0) DISCOVER, options 53, 57, 55, 60, 61.
const UDHCPC_DISCOVER: &str = "
    01010600 9766622a 0000 0000 00000000 00000000 00000000 00000000
    56f8217dba5400000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    63825363
    350101 39020240 37070103060c0f1c2a 3c0c756468637020312e33352e30 3d070156f8217dba54 ff
    0000000000000000000000000000000000000000
";

#[test]
fn udhcpc_discover_both_ways() {
    let expected = message(
        Op::Request,
        0x9766_622a,
        MAC_VM,
        vec![
            DhcpOption::MessageType(MessageType::Discover),
            DhcpOption::MaxMessageSize(576),
            DhcpOption::ParameterRequestList(vec![1, 3, 6, 12, 15, 28, 42]),
            DhcpOption::Other {
                code: 60,
                data: b"udhcp 1.35.0".to_vec(),
            },
            DhcpOption::ClientId(vec![0x01, 0x56, 0xf8, 0x21, 0x7d, 0xba, 0x54]),
        ],
    );
    assert_golden(UDHCPC_DISCOVER, &expected);
    assert_eq!(
        expected.client_id(),
        Some(&[0x01, 0x56, 0xf8, 0x21, 0x7d, 0xba, 0x54][..])
    );
}

/// 02-client-leases.pcap frame 92: dhcpcd 9.4.1 DISCOVER, 316 bytes: longer than 300, so it
/// ends at END with no padding. Options 53, 55, 57, 60, 145 (RFC 6704 FORCERENEW nonce).
const DHCPCD_DISCOVER: &str = "
    01010600 2b99e499 0000 0000 00000000 00000000 00000000 00000000
    56f8217dba5400000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    63825363
    350101 370701031c21333a3b 390205c0
    3c366468637063642d392e342e313a4c696e75782d362e31382e34342d66632d763736393a7838365f36343a41757468
    656e746963414d44 910101 ff
";

#[test]
fn dhcpcd_discover_longer_than_300_both_ways() {
    let expected = message(
        Op::Request,
        0x2b99_e499,
        MAC_VM,
        vec![
            DhcpOption::MessageType(MessageType::Discover),
            DhcpOption::ParameterRequestList(vec![1, 3, 28, 33, 51, 58, 59]),
            DhcpOption::MaxMessageSize(1472),
            DhcpOption::Other {
                code: 60,
                data: b"dhcpcd-9.4.1:Linux-6.18.44-fc-v769:x86_64:AuthenticAMD".to_vec(),
            },
            DhcpOption::Other {
                code: 145,
                data: vec![1],
            },
        ],
    );
    assert_golden(DHCPCD_DISCOVER, &expected);
    assert_eq!(expected.buffer_len(), 316);
}

/// 08-perfdhcp-200-new-leases.pcap frame 1: perfdhcp acting as a relay (giaddr 192.0.2.4,
/// hops 1) sends a DISCOVER, options 53, 55, 61. perfdhcp does not pad: the packet is 262 bytes.
const PERFDHCP_RELAYED_DISCOVER: &str = "
    01010601 00000000 0000 0000 00000000 00000000 00000000 c0000204
    000c0102030400000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    63825363
    350101 3707011c02030f060c 3d0701000c01020304 ff
";

#[test]
fn perfdhcp_relayed_discover_both_ways_up_to_end() {
    let expected = DhcpMessage {
        hops: 1,
        giaddr: Ipv4Addr::new(192, 0, 2, 4),
        ..message(
            Op::Request,
            0,
            MAC_PERFDHCP,
            vec![
                DhcpOption::MessageType(MessageType::Discover),
                DhcpOption::ParameterRequestList(vec![1, 28, 2, 3, 15, 6, 12]),
                DhcpOption::ClientId(vec![0x01, 0x00, 0x0c, 0x01, 0x02, 0x03, 0x04]),
            ],
        )
    };
    let bytes = hex(PERFDHCP_RELAYED_DISCOVER);
    assert_eq!(DhcpMessage::parse(&bytes).as_ref(), Ok(&expected));
    // The capture is 262 bytes; emit pads to the BOOTP minimum of 300 (module doc), so the two
    // agree up to END and emit's extra 38 bytes are zeroes.
    let mut buf = vec![0xa5; expected.buffer_len()];
    expected.emit(&mut buf);
    assert_eq!(buf.len(), MIN_MESSAGE_LEN);
    assert_eq!(&buf[..bytes.len()], bytes.as_slice());
    assert!(buf[bytes.len()..].iter().all(|&b| b == 0));
}

/// 08-perfdhcp-200-new-leases.pcap frame 2: ISC dhcpd's OFFER back to the relay (giaddr kept,
/// hops copied from the request), options 53, 54, 51, 1, 3, padded to 300 bytes.
const ISC_RELAYED_OFFER: &str = "
    02010601 00000000 0000 0000 00000000 c0000282 00000000 c0000204
    000c0102030400000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    63825363
    350102 3604c0000201 33040000001e 0104ffffff00 0304c0000201 ff
    0000000000000000000000000000000000000000000000000000000000000000
";

#[test]
fn isc_relayed_offer_both_ways() {
    let expected = DhcpMessage {
        hops: 1,
        yiaddr: Ipv4Addr::new(192, 0, 2, 130),
        giaddr: Ipv4Addr::new(192, 0, 2, 4),
        ..message(
            Op::Reply,
            0,
            MAC_PERFDHCP,
            vec![
                DhcpOption::MessageType(MessageType::Offer),
                DhcpOption::ServerId(Ipv4Addr::new(192, 0, 2, 1)),
                DhcpOption::LeaseTime(30),
                DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
                DhcpOption::Routers(vec![Ipv4Addr::new(192, 0, 2, 1)]),
            ],
        )
    };
    assert_golden(ISC_RELAYED_OFFER, &expected);
}
