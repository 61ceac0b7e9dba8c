//! Golden bytes and property tests for the failover codec.
//!
//! Golden messages are real bytes from ISC dhcpd 4.4.3-P1 peers (the captures in
//! `tests/data/isc-4.4.3/`, named per constant) and the MS-DHCPF §4.1 example. Each parses to the
//! Repr spelled out here and emits back to the same bytes into a buffer poisoned with 0xa5.

use std::net::Ipv4Addr;

use proptest::prelude::*;

use super::option::FoOption as O;
use super::*;
use crate::wire::hash_bucket::HashBuckets;

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2));
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Parse, compare with the expected Repr, and emit back into a poisoned buffer.
fn golden(bytes: &[u8], dialect: Dialect, expected: &Message) {
    let parsed = Message::parse(bytes, dialect).unwrap();
    assert_eq!(&parsed, expected);
    assert_eq!(expected.buffer_len(), bytes.len());
    let mut buf = vec![0xa5; bytes.len() + 3];
    expected.emit_into(&mut buf[..bytes.len()]);
    assert_eq!(&buf[..bytes.len()], bytes);
    assert_eq!(
        &buf[bytes.len()..],
        &[0xa5; 3],
        "emit wrote past buffer_len"
    );
}

const T: u32 = 0x6b03_1f50;

// 01-startup-to-normal.pcap: the primary's CONNECT on the accepted connection.
const CONNECT: &str = "006d050c6b031f500000000000160007666f2d74657374000e00040000000a001300040000001e001c000c6973632d342e342e332d50310014000101001b000100000f00040000001e000b0020ffffffffffffffffffffffffffffffff00000000000000000000000000000000";

#[test]
fn isc_connect_decodes_with_option_order_22_14_19_28_20_27_15_11() {
    let expected = Message::new(MessageType::Connect, T, 0)
        .with(O::RelationshipName(b"fo-test".to_vec()))
        .with(O::MaxUnackedBndupd(10))
        .with(O::ReceiveTimer(30))
        .with(O::VendorClassIdentifier(b"isc-4.4.3-P1".to_vec()))
        .with(O::ProtocolVersion(1))
        .with(O::TlsRequest(0))
        .with(O::Mclt(30))
        .with(O::HashBucketAssignment(HashBuckets::split(128).0.to_vec()));
    golden(&hex(CONNECT), Dialect::Isc, &expected);
    assert_eq!(expected.relationship_name(), Some(&b"fo-test"[..]));
    assert_eq!(expected.mclt_s(), Some(30));
}

#[test]
fn isc_connectack_accept_carries_tls_reply_and_no_mclt() {
    // 01-startup-to-normal.pcap, the secondary's answer.
    let bytes = hex(
        "0041060c6b031f500000000000160007666f2d74657374000e00040000000a001300040000001e001c000c6973632d342e342e332d50310014000101001a000100",
    );
    let expected = Message::new(MessageType::ConnectAck, T, 0)
        .with(O::RelationshipName(b"fo-test".to_vec()))
        .with(O::MaxUnackedBndupd(10))
        .with(O::ReceiveTimer(30))
        .with(O::VendorClassIdentifier(b"isc-4.4.3-P1".to_vec()))
        .with(O::ProtocolVersion(1))
        .with(O::TlsReply(0));
    golden(&bytes, Dialect::Isc, &expected);
}

#[test]
fn isc_connectack_reject_8_names_the_unknown_relationship() {
    // bad-peer/7a-7i-fake-primary.pcap: CONNECT with relationship "wrong-name".
    let bytes = hex(
        "005f060c6b0322d4000010010016000a77726f6e672d6e616d65001c000c6973632d342e342e332d50310014000101001a000100001500010800100022756e6b6e6f776e206661696c6f7665722072656c6174696f6e73686970206e616d65",
    );
    let expected = Message::new(MessageType::ConnectAck, 0x6b03_22d4, 0x1001)
        .with(O::RelationshipName(b"wrong-name".to_vec()))
        .with(O::VendorClassIdentifier(b"isc-4.4.3-P1".to_vec()))
        .with(O::ProtocolVersion(1))
        .with(O::TlsReply(0))
        .with(O::RejectReason(RejectReason::INVALID_PARTNER))
        .with(O::Message(b"unknown failover relationship name".to_vec()));
    golden(&bytes, Dialect::Isc, &expected);
    assert_eq!(expected.reject_reason(), Some(RejectReason(8)));
}

#[test]
fn isc_state_messages_carry_state_flags_and_start_time() {
    // 01-startup-to-normal.pcap: STATE(recover) with the STARTUP flag.
    let startup = hex("001e0a0c6b031f500000000000180001060017000101001900046b031f50");
    let expected = Message::new(MessageType::State, T, 0)
        .with(O::ServerState(ServerState::Recover))
        .with(O::ServerFlags(1))
        .with(O::StartTimeOfState(T));
    golden(&startup, Dialect::Isc, &expected);

    // 06-partner-down-via-omshell-and-recover.pcap: RECOVER-WAIT goes out as 254.
    let recover_wait = hex("001e0a0c6b03239f0000000300180001fe0017000100001900046b032385");
    let expected = Message::new(MessageType::State, 0x6b03_239f, 3)
        .with(O::ServerState(ServerState::RecoverWait))
        .with(O::ServerFlags(0))
        .with(O::StartTimeOfState(0x6b03_2385));
    golden(&recover_wait, Dialect::Isc, &expected);
    assert_eq!(expected.server_state(), Some(ServerState::RecoverWait));
}

#[test]
fn isc_header_only_messages_are_twelve_bytes() {
    // 01-startup-to-normal.pcap: UPDREQALL, UPDDONE and CONTACT carry no options.
    for (h, t, xid) in [
        ("000c070c6b031f5000000003", MessageType::UpdReqAll, 3),
        ("000c080c6b031f5000000004", MessageType::UpdDone, 4),
        ("000c0b0c6b031f5a0000009d", MessageType::Contact, 0x9d),
    ] {
        let time = u32::from_str_radix(&h[8..16], 16).unwrap();
        golden(&hex(h), Dialect::Isc, &Message::new(t, time, xid));
    }
}

#[test]
fn isc_bndupd_free_carries_times_even_where_the_draft_says_must_not() {
    // 01-startup-to-normal.pcap: answer to UPDREQALL (draft-12.md §11 item 13).
    let bytes = hex(
        "0031030c6b031f500000000400020004c00002640003000101000d00040000000000120004000000000019000400000000",
    );
    let expected = Message::new(MessageType::BndUpd, T, 4)
        .with(O::AssignedIpAddress(Ipv4Addr::new(192, 0, 2, 100)))
        .with(O::BindingStatus(BindingStatus(1)))
        .with(O::LeaseExpirationTime(0))
        .with(O::PotentialExpirationTime(0))
        .with(O::StartTimeOfState(0));
    golden(&bytes, Dialect::Isc, &expected);
}

#[test]
fn isc_bndupd_active_with_client_identifier() {
    // 02-client-leases.pcap: udhcpc's lease, option order 2 3 4 5 13 18 25 6.
    let bytes = hex(
        "004f030c6b03200b000000af00020004c00002960003000102000400070156f8217dba54000500070156f8217dba54000d00046b032029001200046b032272001900046b03200b000600046b03200b",
    );
    let mac = vec![0x56, 0xf8, 0x21, 0x7d, 0xba, 0x54];
    let expected = Message::new(MessageType::BndUpd, 0x6b03_200b, 0xaf)
        .with(O::AssignedIpAddress(Ipv4Addr::new(192, 0, 2, 150)))
        .with(O::BindingStatus(BindingStatus(2)))
        .with(O::ClientIdentifier([&[1u8][..], &mac].concat()))
        .with(O::ClientHardwareAddress(HardwareAddress {
            htype: 1,
            addr: mac,
        }))
        .with(O::LeaseExpirationTime(0x6b03_2029))
        .with(O::PotentialExpirationTime(0x6b03_2272))
        .with(O::StartTimeOfState(0x6b03_200b))
        .with(O::ClientLastTransactionTime(0x6b03_200b));
    golden(&bytes, Dialect::Isc, &expected);
    let bindings: Vec<_> = expected.bindings().collect();
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0].address, Ipv4Addr::new(192, 0, 2, 150));
    assert_eq!(
        BindingState::from_d12(2),
        Some(BindingState::Active),
        "ISC sends draft-12 §12.3 values"
    );
}

#[test]
fn isc_bndupd_released_and_expired() {
    // 02-client-leases.pcap: RELEASED from the secondary, EXPIRED from the primary.
    for (h, status) in [
        (
            "0044030c6b031ff10000007b00020004c00002950003000104000500070156f8217dba54000d00046b031ff1001200046b031ff1001900046b031fe2000600046b031fe2",
            BindingState::Released,
        ),
        (
            "003c030c6b031fcb000000a800020004c00002950003000103000500070156f8217dba54000d00046b031fcb001200046b031f50001900046b031fad",
            BindingState::Expired,
        ),
    ] {
        let bytes = hex(h);
        let m = Message::parse(&bytes, Dialect::Isc).unwrap();
        assert_eq!(
            m.option(option::code::BINDING_STATUS),
            Some(&O::BindingStatus(BindingStatus(status.to_d12())))
        );
        golden(&bytes, Dialect::Isc, &m);
    }
}

#[test]
fn isc_bndack_accept_is_the_address_alone_and_reject_adds_reason_and_text() {
    // 01-startup-to-normal.pcap.
    let accept = hex("0014040c6b031f500000000500020004c0000264");
    let expected = Message::new(MessageType::BndAck, T, 5)
        .with(O::AssignedIpAddress(Ipv4Addr::new(192, 0, 2, 100)));
    golden(&accept, Dialect::Isc, &expected);

    let reject = hex(
        "0052040c6b031f500000000400020004c0000264001500011000100035696e636f6d696e6720757064617465206973206c65737320637269746963616c207468616e206f7574676f696e6720757064617465",
    );
    let expected = Message::new(MessageType::BndAck, T, 4)
        .with(O::AssignedIpAddress(Ipv4Addr::new(192, 0, 2, 100)))
        .with(O::RejectReason(RejectReason::LESS_CRITICAL_BINDING))
        .with(O::Message(
            b"incoming update is less critical than outgoing update".to_vec(),
        ));
    golden(&reject, Dialect::Isc, &expected);
}

#[test]
fn isc_disconnect_carries_reason_8_and_a_message() {
    // bad-peer/6a-6f-fake-secondary.pcap: the primary rejects a CONNECTACK's name.
    let bytes = hex(
        "00500c0c6b0322390000000100150001080010003b72656d6f7465206661696c6f7665722072656c6174696f6e73686970206e616d652077726f6e672d6e616d6520646f6573206e6f74206d61746368",
    );
    let expected = Message::new(MessageType::Disconnect, 0x6b03_2239, 1)
        .with(O::RejectReason(RejectReason::INVALID_PARTNER))
        .with(O::Message(
            b"remote failover relationship name wrong-name does not match".to_vec(),
        ));
    golden(&bytes, Dialect::Isc, &expected);
}

/// `tests/data/ms-dhcpf/4.1-example-options.txt`: each MS-DHCPF §4.1 option as a TLV.
const MS_EXAMPLE: [&str; 8] = [
    "001e00080001a8c00002a8c0",
    "001f002463006c006e00740030002e0063006f006e0074006f0073006f002e0063006f006d000000",
    "00210004ffffff00",
    "00220004c0a8010b",
    "0024000101",
    "0025000100",
    "0026000400000000",
    "0027000100",
];

#[test]
fn ms_dhcpf_4_1_example_options_parse_to_their_values_and_emit_back() {
    let expected = [
        O::ScopeIdList(vec![
            Ipv4Addr::new(192, 168, 1, 0),
            Ipv4Addr::new(192, 168, 2, 0),
        ]),
        O::ClientName(WideString::new("clnt0.contoso.com")),
        O::ClientSubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
        O::ServerIp(Ipv4Addr::new(192, 168, 1, 11)),
        O::ClientType(1),
        O::ClientNapStatus(NapStatus::Byte(0)),
        O::ClientNapProbation(0),
        O::ClientNapCapable(0),
    ];
    for (h, want) in MS_EXAMPLE.iter().zip(&expected) {
        let bytes = hex(h);
        let code = u16::from_be_bytes([bytes[0], bytes[1]]);
        let got = O::parse(code, &bytes[4..], Dialect::Microsoft, 0).unwrap();
        assert_eq!(&got, want);
        let mut out = Vec::new();
        got.emit(&mut out);
        assert_eq!(out, bytes, "option {code} re-emits identically");
    }
    let O::ClientName(name) = &expected[1] else {
        unreachable!()
    };
    assert_eq!(name.to_string_lossy(), "clnt0.contoso.com");
    assert_eq!(name.0.len(), 0x24);
}

#[test]
fn ms_dhcpf_4_1_updreq_with_scope_list_and_bndupd_round_trip_as_messages() {
    // The §4.1 UPDREQ asks for scopes 192.168.1.0 and 192.168.2.0; the BNDUPD for
    // 192.168.1.31 carries options 31, 33, 34, 36–39 besides the draft-12 ones.
    let updreq = [&hex("0018090c000000000000002a")[..], &hex(MS_EXAMPLE[0])].concat();
    let expected = Message::new(MessageType::UpdReq, 0, 0x2a).with(O::ScopeIdList(vec![
        Ipv4Addr::new(192, 168, 1, 0),
        Ipv4Addr::new(192, 168, 2, 0),
    ]));
    assert_eq!(Dialect::detect(&updreq), Dialect::Microsoft);
    golden(&updreq, Dialect::Microsoft, &expected);

    let mut bndupd = hex("0000030c000000000000002b00020004c0a8011f0003000101000c000100");
    for h in &MS_EXAMPLE[1..] {
        bndupd.extend(hex(h));
    }
    let len = bndupd.len() as u16;
    bndupd[..2].copy_from_slice(&len.to_be_bytes());
    let expected = Message::new(MessageType::BndUpd, 0, 0x2b)
        .with(O::AssignedIpAddress(Ipv4Addr::new(192, 168, 1, 31)))
        .with(O::BindingStatus(BindingStatus(0x01)))
        .with(O::IpFlags(IpFlags::Microsoft(0)))
        .with(O::ClientName(WideString::new("clnt0.contoso.com")))
        .with(O::ClientSubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
        .with(O::ServerIp(Ipv4Addr::new(192, 168, 1, 11)))
        .with(O::ClientType(1))
        .with(O::ClientNapStatus(NapStatus::Byte(0)))
        .with(O::ClientNapProbation(0))
        .with(O::ClientNapCapable(0));
    golden(&bndupd, Dialect::Microsoft, &expected);
}

#[test]
fn payload_offset_8_is_read_as_12_and_kept() {
    let bytes = hex("0014040800000001000000020002000400000000");
    let m = Message::parse(&bytes, Dialect::Microsoft).unwrap();
    assert_eq!(m.payload_offset, 8);
    assert_eq!(m.options, vec![O::AssignedIpAddress(Ipv4Addr::UNSPECIFIED)]);
    golden(&bytes, Dialect::Microsoft, &m);
}

#[test]
fn extra_header_bytes_before_a_larger_payload_offset_are_kept() {
    let bytes = hex("0013030e0000000100000002beef0003000102");
    let m = Message::parse(&bytes, Dialect::Isc).unwrap();
    assert_eq!(m.extra_header, vec![0xbe, 0xef]);
    assert_eq!(m.options, vec![O::BindingStatus(BindingStatus(2))]);
    golden(&bytes, Dialect::Isc, &m);
}

#[test]
fn batched_bndupd_splits_into_binding_transactions() {
    let a = Ipv4Addr::new(10, 0, 0, 1);
    let b = Ipv4Addr::new(10, 0, 0, 2);
    let m = Message::new(MessageType::BndUpd, 1, 9)
        .with(O::AssignedIpAddress(a))
        .with(O::BindingStatus(BindingStatus(0x1)))
        .with(O::IpFlags(IpFlags::Microsoft(0)))
        .with(O::AssignedIpAddress(b))
        .with(O::BindingStatus(BindingStatus(0x2)));
    let bindings: Vec<_> = m.bindings().collect();
    assert_eq!(bindings.len(), 2);
    assert_eq!((bindings[0].address, bindings[0].options.len()), (a, 3));
    assert_eq!((bindings[1].address, bindings[1].options.len()), (b, 2));
    assert_eq!(
        bindings[1].option(option::code::BINDING_STATUS),
        Some(&O::BindingStatus(BindingStatus(2)))
    );
    let back = Message::parse(&m.to_bytes(), Dialect::Microsoft).unwrap();
    assert_eq!(back, m);
}

#[test]
fn malformed_messages_name_what_is_wrong() {
    assert_eq!(
        Message::parse(&[0, 12, 11], Dialect::Isc),
        Err(DecodeError::HeaderTruncated { len: 3 })
    );
    let contact = hex("000c0b0c6b031f5a0000009d");
    assert_eq!(
        Message::parse(&[&contact[..], &[0]].concat(), Dialect::Isc),
        Err(DecodeError::LengthMismatch {
            declared: 12,
            actual: 13
        })
    );
    let mut short = contact.clone();
    short[1] = 11;
    assert_eq!(
        Message::parse(&short, Dialect::Isc),
        Err(DecodeError::LengthTooSmall { declared: 11 })
    );
    let mut poff = contact.clone();
    poff[3] = 40;
    assert!(matches!(
        Message::parse(&poff, Dialect::Isc),
        Err(DecodeError::PayloadOffsetOutOfRange { .. })
    ));
    // An option that runs past the end: code 15, length 4, one byte.
    let truncated = hex("0011050c0000000000000000000f000400");
    assert_eq!(
        Message::parse(&truncated, Dialect::Isc),
        Err(DecodeError::OptionTruncated {
            code: 15,
            offset: 12,
            declared: 4,
            available: 1
        })
    );
}

// ---- property tests -------------------------------------------------------------------------

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn common_option() -> impl Strategy<Value = O> {
    prop_oneof![
        any::<u32>().prop_map(O::AddressesTransferred),
        ip().prop_map(O::AssignedIpAddress),
        any::<u8>().prop_map(|b| O::BindingStatus(BindingStatus(b))),
        bytes(20).prop_map(O::ClientIdentifier),
        (any::<u8>(), bytes(16))
            .prop_map(|(htype, addr)| O::ClientHardwareAddress(HardwareAddress { htype, addr })),
        any::<u32>().prop_map(O::ClientLastTransactionTime),
        bytes(40).prop_map(O::ClientReplyOptions),
        bytes(40).prop_map(O::ClientRequestOptions),
        bytes(20).prop_map(O::Ddns),
        any::<u8>().prop_map(O::DelayedServiceParameter),
        bytes(40).prop_map(O::HashBucketAssignment),
        any::<u32>().prop_map(O::LeaseExpirationTime),
        any::<u32>().prop_map(O::MaxUnackedBndupd),
        any::<u32>().prop_map(O::Mclt),
        bytes(40).prop_map(O::Message),
        (any::<u8>(), bytes(40)).prop_map(|(kind, digest)| O::MessageDigest { kind, digest }),
        any::<u32>().prop_map(O::PotentialExpirationTime),
        any::<u32>().prop_map(O::ReceiveTimer),
        any::<u8>().prop_map(O::ProtocolVersion),
        any::<u8>().prop_map(|r| O::RejectReason(RejectReason(r))),
        bytes(20).prop_map(O::RelationshipName),
        any::<u8>().prop_map(O::ServerFlags),
        any::<u8>().prop_map(|s| O::ServerState(ServerState::from_wire(s))),
        any::<u32>().prop_map(O::StartTimeOfState),
        any::<u8>().prop_map(O::TlsReply),
        any::<u8>().prop_map(O::TlsRequest),
        bytes(20).prop_map(O::VendorClassIdentifier),
        bytes(20).prop_map(O::VendorSpecificOptions),
    ]
}

fn isc_option() -> impl Strategy<Value = O> {
    prop_oneof![
        4 => common_option(),
        1 => any::<u16>().prop_map(|f| O::IpFlags(IpFlags::Isc(f))),
        1 => ((30u16..=41).prop_union(42u16..=u16::MAX), bytes(20))
            .prop_map(|(code, data)| O::Unknown { code, data }),
        1 => bytes(8).prop_map(|data| O::Unknown { code: 0, data }),
    ]
}

fn ms_option() -> impl Strategy<Value = O> {
    let wide = || bytes(30).prop_map(WideString);
    prop_oneof![
        6 => common_option(),
        1 => any::<u8>().prop_map(|f| O::IpFlags(IpFlags::Microsoft(f))),
        1 => proptest::collection::vec(ip(), 0..5).prop_map(O::ScopeIdList),
        1 => wide().prop_map(O::ClientName),
        1 => wide().prop_map(O::ClientDescription),
        1 => ip().prop_map(O::ClientSubnetMask),
        1 => ip().prop_map(O::ServerIp),
        1 => wide().prop_map(O::ServerName),
        1 => any::<u8>().prop_map(O::ClientType),
        1 => any::<u8>().prop_map(|b| O::ClientNapStatus(NapStatus::Byte(b))),
        1 => any::<u32>().prop_map(|w| O::ClientNapStatus(NapStatus::Word(w))),
        1 => any::<u32>().prop_map(O::ClientNapProbation),
        1 => any::<u8>().prop_map(O::ClientNapCapable),
        1 => wide().prop_map(O::ClientMatchedPolicy),
        1 => any::<u32>().prop_map(O::ExtendedAddressState),
        1 => (42u16..=u16::MAX, bytes(20)).prop_map(|(code, data)| O::Unknown { code, data }),
    ]
}

fn message(dialect: Dialect) -> impl Strategy<Value = Message> {
    let options = match dialect {
        Dialect::Isc => proptest::collection::vec(isc_option().boxed(), 0..12),
        Dialect::Microsoft => proptest::collection::vec(ms_option().boxed(), 0..12),
    };
    let header = prop_oneof![
        Just((12u8, Vec::new())),
        (0u8..12).prop_map(|p| (p, Vec::new())),
        bytes(8).prop_map(|e| (12 + e.len() as u8, e)),
    ];
    (any::<u8>(), header, any::<u32>(), any::<u32>(), options).prop_map(
        |(t, (payload_offset, extra_header), time, xid, options)| Message {
            msg_type: MessageType::from_wire(t),
            payload_offset,
            extra_header,
            time,
            xid,
            options,
        },
    )
}

proptest! {
    #[test]
    fn isc_parse_of_emit_is_identity(m in message(Dialect::Isc)) {
        let bytes = m.to_bytes();
        prop_assert_eq!(bytes.len(), m.buffer_len());
        prop_assert_eq!(Message::parse(&bytes, Dialect::Isc).unwrap(), m);
    }

    #[test]
    fn microsoft_parse_of_emit_is_identity(m in message(Dialect::Microsoft)) {
        let bytes = m.to_bytes();
        prop_assert_eq!(Message::parse(&bytes, Dialect::Microsoft).unwrap(), m);
    }

    #[test]
    fn framer_reassembles_any_split(
        msgs in proptest::collection::vec(message(Dialect::Isc), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let msgs: Vec<Message> = msgs.into_iter().filter(Message::fits).collect();
        let stream: Vec<u8> = msgs.iter().flat_map(Message::to_bytes).collect();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        let mut framer = Framer::new();
        let mut out = Vec::new();
        for w in points.windows(2) {
            framer.push(&stream[w[0]..w[1]]);
            while let Some(frame) = framer.next_frame().unwrap() {
                out.push(Message::parse(frame, Dialect::Isc).unwrap());
            }
        }
        prop_assert_eq!(out, msgs);
        prop_assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn random_bytes_never_panic(mut b in bytes(300)) {
        let _ = Message::parse(&b, Dialect::Isc);
        // With a matching length field the options are reached, not just the header check.
        if b.len() >= 2 {
            let len = b.len() as u16;
            b[..2].copy_from_slice(&len.to_be_bytes());
        }
        let _ = Message::parse(&b, Dialect::Isc);
        let _ = Message::parse(&b, Dialect::Microsoft);
        let _ = Dialect::detect(&b);
        let _ = digest::verify(&b, b"k");
        let mut framer = Framer::new();
        framer.push(&b);
        while let Ok(Some(frame)) = framer.next_frame() {
            let _ = Message::parse(frame, Dialect::detect(frame));
        }
    }

    #[test]
    fn truncated_and_corrupted_messages_never_panic(
        m in message(Dialect::Microsoft),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        with in any::<u8>(),
    ) {
        let bytes = m.to_bytes();
        let short = &bytes[..cut.index(bytes.len() + 1)];
        let _ = Message::parse(short, Dialect::Microsoft);
        let mut corrupt = bytes.clone();
        let i = flip.index(corrupt.len());
        corrupt[i] = with;
        let _ = Message::parse(&corrupt, Dialect::Isc);
        let _ = Message::parse(&corrupt, Dialect::Microsoft);
        let _ = digest::verify(&corrupt, b"k");
    }
}

#[test]
fn bindings_split_at_each_assigned_address_and_skip_what_comes_before_the_first() {
    // draft-12 §6.3: a transaction runs from its assigned-IP-address to the next one.
    let a = Ipv4Addr::new(192, 0, 2, 1);
    let b = Ipv4Addr::new(192, 0, 2, 2);
    let m = Message::new(MessageType::BndUpd, T, 1)
        .with(O::LeaseExpirationTime(1))
        .with(O::AssignedIpAddress(a))
        .with(O::LeaseExpirationTime(2))
        .with(O::AssignedIpAddress(b))
        .with(O::LeaseExpirationTime(3))
        .with(O::ClientLastTransactionTime(4));
    let got: Vec<_> = m.bindings().map(|b| (b.address, b.options.len())).collect();
    assert_eq!(got, vec![(a, 2), (b, 3)]);
    assert_eq!(
        m.bindings().nth(1).unwrap().options[2],
        O::ClientLastTransactionTime(4)
    );
    let empty = Message::new(MessageType::BndUpd, T, 1).with(O::LeaseExpirationTime(1));
    assert_eq!(empty.bindings().count(), 0);
}
