//! Conversation tests of the DHCP server: a client's messages in, the server's replies out, each
//! step at a stated time (t = seconds since the test's epoch).

use std::net::{Ipv4Addr, SocketAddrV4};

use super::*;
use crate::config::{AddressRange, HexBytes, LeaseTimes, Reservation, Subnet};
use crate::lease::{BindingState, ClientKey};
use crate::storage::MemStorage;
use crate::time::Duration;
use crate::wire::dhcp::{DhcpMessage, DhcpOption, MessageType, Op, RelayAgentInfo, SubOption};

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const OTHER_SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const RELAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn config(pool_last: u8) -> ServerConfig {
    ServerConfig {
        server_id: SERVER,
        lease: LeaseTimes {
            default_s: 3600,
            min_s: 300,
            max_s: 7200,
            t1_permille: 500,
            t2_permille: 875,
        },
        subnets: vec![
            Subnet {
                network: Ipv4Addr::new(192, 0, 2, 0),
                mask: Ipv4Addr::new(255, 255, 255, 0),
                ranges: vec![AddressRange {
                    first: Ipv4Addr::new(192, 0, 2, 100),
                    last: Ipv4Addr::new(192, 0, 2, pool_last),
                }],
                routers: vec![Ipv4Addr::new(192, 0, 2, 254)],
                dns_servers: vec![Ipv4Addr::new(192, 0, 2, 53)],
                domain_name: Some("example.test".into()),
            },
            Subnet {
                network: Ipv4Addr::new(198, 51, 100, 0),
                mask: Ipv4Addr::new(255, 255, 255, 0),
                ranges: vec![AddressRange {
                    first: Ipv4Addr::new(198, 51, 100, 10),
                    last: Ipv4Addr::new(198, 51, 100, 19),
                }],
                routers: vec![RELAY],
                dns_servers: vec![],
                domain_name: None,
            },
        ],
        reservations: vec![Reservation {
            address: Ipv4Addr::new(192, 0, 2, 20),
            hw_address: Some(HexBytes(vec![0x02, 0, 0, 0, 0, 0x99])),
            client_id: None,
        }],
        offer_hold_s: 60,
        failover: None,
        bugs: Default::default(),
    }
}

/// A server, a clock, and the replies of the last exchange.
struct Net {
    server: Server<MemStorage>,
    now: Time,
}

const T0: u64 = 1_700_000_000;

impl Net {
    fn new(pool_last: u8) -> Net {
        Net {
            server: Server::new(
                config(pool_last),
                MemStorage::default(),
                &[],
                Time::from_secs(T0),
            )
            .unwrap(),
            now: Time::from_secs(T0),
        }
    }

    fn at(&mut self, t_s: u64) -> &mut Self {
        self.now = Time::from_secs(T0 + t_s);
        if let Some(due) = self.server.poll_timeout()
            && due <= self.now
        {
            self.server.handle_timeout(self.now);
        }
        self
    }

    /// Send a message as a client on the local segment; return the replies.
    fn send(&mut self, msg: &DhcpMessage, broadcast: bool) -> Vec<(Transmit, DhcpMessage)> {
        let rx = Received {
            src: SocketAddrV4::new(msg.ciaddr, 68),
            broadcast,
            interface: SERVER,
        };
        self.server.handle_dhcp(self.now, rx, &msg.to_bytes());
        self.drain()
    }

    fn drain(&mut self) -> Vec<(Transmit, DhcpMessage)> {
        let mut out = Vec::new();
        while let Some(Output::Dhcp(t)) = self.server.poll_output() {
            let m = DhcpMessage::parse(&t.bytes).expect("the server emits valid DHCP");
            out.push((t, m));
        }
        out
    }

    fn binding(&self, a: Ipv4Addr) -> &Binding {
        self.server.leases().binding(a).unwrap()
    }
}

fn client(mac_last: u8, kind: MessageType, xid: u32) -> DhcpMessage {
    let mut m = DhcpMessage::new(Op::Request, xid);
    m.chaddr[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, mac_last]);
    m.flags = crate::wire::dhcp::BROADCAST_FLAG;
    m.options.push(DhcpOption::MessageType(kind));
    m
}

fn with(mut m: DhcpMessage, o: DhcpOption) -> DhcpMessage {
    m.options.push(o);
    m
}

fn one(replies: Vec<(Transmit, DhcpMessage)>) -> (Transmit, DhcpMessage) {
    assert_eq!(replies.len(), 1, "expected exactly one reply: {replies:?}");
    replies.into_iter().next().unwrap()
}

/// DISCOVER → OFFER → REQUEST → ACK for client `mac_last`; returns the leased address.
fn dora(net: &mut Net, mac_last: u8) -> Ipv4Addr {
    let (_, offer) = one(net.send(&client(mac_last, MessageType::Discover, 1), true));
    assert_eq!(offer.message_type(), Some(MessageType::Offer));
    let req = with(
        with(
            client(mac_last, MessageType::Request, 2),
            DhcpOption::ServerId(SERVER),
        ),
        DhcpOption::RequestedIp(offer.yiaddr),
    );
    let (_, ack) = one(net.send(&req, true));
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    assert_eq!(ack.yiaddr, offer.yiaddr);
    ack.yiaddr
}

#[test]
fn full_dora_leases_an_address_and_stores_it_before_the_ack() {
    let mut net = Net::new(199);
    // t=0 DISCOVER → OFFER of the least recently used address, with the subnet's options.
    net.at(0);
    let (tx, offer) = one(net.send(&client(1, MessageType::Discover, 7), true));
    assert_eq!(offer.op, Op::Reply);
    assert_eq!(offer.xid, 7);
    assert_eq!(offer.yiaddr, Ipv4Addr::new(192, 0, 2, 100));
    assert_eq!(offer.server_id(), Some(SERVER));
    assert_eq!(offer.lease_time_s(), Some(3600));
    assert!(offer.options.contains(&DhcpOption::RenewalTime(1800)));
    assert!(offer.options.contains(&DhcpOption::RebindingTime(3150)));
    assert!(
        offer
            .options
            .contains(&DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
    );
    assert!(
        offer
            .options
            .contains(&DhcpOption::Routers(vec![Ipv4Addr::new(192, 0, 2, 254)]))
    );
    assert_eq!(tx.to, SocketAddrV4::new(Ipv4Addr::BROADCAST, 68));
    // An OFFER changes no binding.
    assert_eq!(net.binding(offer.yiaddr).state, BindingState::Free);
    assert_eq!(net.server.storage().counters().records_appended, 0);

    // t=1 REQUEST naming us → ACK; the binding is ACTIVE and already synced.
    net.at(1);
    let req = with(
        with(
            client(1, MessageType::Request, 8),
            DhcpOption::ServerId(SERVER),
        ),
        DhcpOption::RequestedIp(offer.yiaddr),
    );
    let (_, ack) = one(net.send(&req, true));
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    assert_eq!(ack.yiaddr, offer.yiaddr);
    let b = net.binding(ack.yiaddr);
    assert_eq!(b.state, BindingState::Active);
    assert_eq!(b.expires_at, Time::from_secs(T0 + 1 + 3600));
    let stored = net.server.storage().clone().load().unwrap().records;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        Record::decode(&stored[0]).unwrap(),
        Record::Binding(b.clone())
    );
    assert_eq!(
        net.server.storage().cached_bytes().len(),
        0,
        "synced before the ACK left"
    );
}

#[test]
fn a_client_without_the_broadcast_bit_is_answered_by_unicast_to_its_hardware_address() {
    let mut net = Net::new(199);
    let mut discover = client(1, MessageType::Discover, 7);
    discover.flags = 0;
    let (tx, offer) = one(net.send(&discover, true));
    assert_eq!(tx.to, SocketAddrV4::new(offer.yiaddr, 68));
    assert_eq!(tx.link_dst.as_deref(), Some(&[0x02, 0, 0, 0, 0, 1][..]));
}

#[test]
fn renewal_by_unicast_at_t1_and_rebinding_by_broadcast_at_t2_extend_the_lease() {
    let mut net = Net::new(199);
    net.at(0);
    let addr = dora(&mut net, 1);
    // t=1800 (T1): RENEWING, unicast to us with ciaddr set and no server-id.
    net.at(1800);
    let mut renew = client(1, MessageType::Request, 9);
    renew.ciaddr = addr;
    renew.flags = 0;
    let (tx, ack) = one(net.send(&renew, false));
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    assert_eq!(tx.to, SocketAddrV4::new(addr, 68), "reply to ciaddr");
    assert_eq!(
        net.binding(addr).expires_at,
        Time::from_secs(T0 + 1800 + 3600)
    );
    // t=1800+3150 (T2 of the renewed lease): REBINDING, broadcast.
    net.at(1800 + 3150);
    let (_, ack) = one(net.send(&renew, true));
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    assert_eq!(
        net.binding(addr).expires_at,
        Time::from_secs(T0 + 1800 + 3150 + 3600)
    );
    assert_eq!(net.binding(addr).state, BindingState::Active);
}

#[test]
fn init_reboot_with_a_wrong_address_gets_nak() {
    let mut net = Net::new(199);
    net.at(0);
    let addr = dora(&mut net, 1);
    assert_eq!(addr, Ipv4Addr::new(192, 0, 2, 100));
    // t=60 INIT-REBOOT asking for an address our record says is not the client's.
    net.at(60);
    let reboot = with(
        client(1, MessageType::Request, 3),
        DhcpOption::RequestedIp(Ipv4Addr::new(192, 0, 2, 150)),
    );
    let (tx, nak) = one(net.send(&reboot, true));
    assert_eq!(nak.message_type(), Some(MessageType::Nak));
    assert_eq!(tx.to, SocketAddrV4::new(Ipv4Addr::BROADCAST, 68));
    assert_eq!(nak.lease_time_s(), None);
    // An address on another network is wrong too.
    let elsewhere = with(
        client(1, MessageType::Request, 4),
        DhcpOption::RequestedIp(Ipv4Addr::new(10, 9, 9, 9)),
    );
    assert_eq!(
        one(net.send(&elsewhere, true)).1.message_type(),
        Some(MessageType::Nak)
    );
    // The right address is confirmed.
    let right = with(
        client(1, MessageType::Request, 5),
        DhcpOption::RequestedIp(addr),
    );
    assert_eq!(
        one(net.send(&right, true)).1.message_type(),
        Some(MessageType::Ack)
    );
    // A client we have no record of gets silence (RFC 2131 §4.3.2).
    let stranger = with(
        client(42, MessageType::Request, 6),
        DhcpOption::RequestedIp(Ipv4Addr::new(192, 0, 2, 160)),
    );
    assert!(net.send(&stranger, true).is_empty());
    assert_eq!(net.server.counters().no_record, 1);
    assert_eq!(net.server.counters().naks, 2);
}

#[test]
fn a_request_naming_another_server_gets_silence_and_frees_our_offer() {
    let mut net = Net::new(100);
    net.at(0);
    let (_, offer) = one(net.send(&client(1, MessageType::Discover, 1), true));
    let chose_other = with(
        with(
            client(1, MessageType::Request, 2),
            DhcpOption::ServerId(OTHER_SERVER),
        ),
        DhcpOption::RequestedIp(Ipv4Addr::new(192, 0, 2, 77)),
    );
    assert!(net.send(&chose_other, true).is_empty());
    assert_eq!(net.server.counters().for_other_server, 1);
    // The only address is free for the next client at once.
    let (_, next) = one(net.send(&client(2, MessageType::Discover, 3), true));
    assert_eq!(next.yiaddr, offer.yiaddr);
}

#[test]
fn decline_abandons_the_address_and_the_client_gets_another() {
    let mut net = Net::new(101);
    net.at(0);
    let addr = dora(&mut net, 1);
    net.at(2);
    let decline = with(
        with(
            client(1, MessageType::Decline, 4),
            DhcpOption::ServerId(SERVER),
        ),
        DhcpOption::RequestedIp(addr),
    );
    assert!(net.send(&decline, true).is_empty());
    let b = net.binding(addr);
    assert_eq!(b.state, BindingState::Abandoned);
    assert_eq!(
        b.client(),
        None,
        "ABANDONED carries no client (draft-12 §7.1)"
    );
    assert_eq!(net.server.counters().declines, 1);
    net.at(3);
    let again = dora(&mut net, 1);
    assert_ne!(again, addr);
}

#[test]
fn release_frees_the_address_for_reuse() {
    let mut net = Net::new(100);
    net.at(0);
    let addr = dora(&mut net, 1);
    net.at(10);
    let mut release = with(
        client(1, MessageType::Release, 5),
        DhcpOption::ServerId(SERVER),
    );
    release.ciaddr = addr;
    assert!(net.send(&release, false).is_empty());
    assert_eq!(net.binding(addr).state, BindingState::Released);
    assert_eq!(net.binding(addr).state_since, Time::from_secs(T0 + 10));
    // The pool's only address goes to the next client.
    net.at(11);
    assert_eq!(dora(&mut net, 2), addr);
}

#[test]
fn a_returning_client_gets_its_previous_address() {
    let mut net = Net::new(199);
    net.at(0);
    let first = dora(&mut net, 1);
    let _ = dora(&mut net, 2);
    net.at(20);
    let mut release = client(1, MessageType::Release, 5);
    release.ciaddr = first;
    net.send(&release, false);
    let _ = dora(&mut net, 3);
    net.at(30);
    assert_eq!(
        dora(&mut net, 1),
        first,
        "its released address, not the LRU one"
    );
}

#[test]
fn the_lease_expires_at_its_end() {
    let mut net = Net::new(199);
    net.at(0);
    let addr = dora(&mut net, 1);
    let end = Time::from_secs(T0 + 3600);
    assert_eq!(
        net.server.poll_timeout(),
        Some(end),
        "the ACK consumed the offer's hold"
    );
    net.at(3599);
    assert_eq!(net.binding(addr).state, BindingState::Active);
    assert_eq!(net.server.poll_timeout(), Some(end));
    net.at(3600);
    assert_eq!(net.binding(addr).state, BindingState::Expired);
    assert_eq!(net.binding(addr).state_since, end);
    assert_eq!(net.server.counters().expirations, 1);
    assert_eq!(net.server.poll_timeout(), None);
    // The expiry is durable.
    let stored = net.server.storage().clone().load().unwrap().records;
    let last = Record::decode(stored.last().unwrap()).unwrap();
    assert!(matches!(last, Record::Binding(b) if b.state == BindingState::Expired));
}

#[test]
fn a_reserved_client_always_gets_its_fixed_address_and_nobody_else_does() {
    let mut net = Net::new(100);
    net.at(0);
    assert_eq!(dora(&mut net, 0x99), Ipv4Addr::new(192, 0, 2, 20));
    // Another client asking for the reserved address is offered the pool instead.
    let asks = with(
        client(1, MessageType::Discover, 1),
        DhcpOption::RequestedIp(Ipv4Addr::new(192, 0, 2, 20)),
    );
    let (_, offer) = one(net.send(&asks, true));
    assert_eq!(offer.yiaddr, Ipv4Addr::new(192, 0, 2, 100));
    let steal = with(
        with(
            client(1, MessageType::Request, 2),
            DhcpOption::ServerId(SERVER),
        ),
        DhcpOption::RequestedIp(Ipv4Addr::new(192, 0, 2, 20)),
    );
    assert_eq!(
        one(net.send(&steal, true)).1.message_type(),
        Some(MessageType::Nak)
    );
}

#[test]
fn relayed_replies_go_to_giaddr_from_the_relay_subnet_with_option_82_echoed() {
    let mut net = Net::new(199);
    net.at(0);
    let info = RelayAgentInfo {
        sub_options: vec![SubOption {
            code: 1,
            data: b"port-7".to_vec(),
        }],
    };
    let mut discover = with(
        client(1, MessageType::Discover, 1),
        DhcpOption::RelayAgentInfo(info.clone()),
    );
    discover.giaddr = RELAY;
    discover.hops = 1;
    let rx = Received {
        src: SocketAddrV4::new(RELAY, 67),
        broadcast: false,
        interface: SERVER,
    };
    net.server.handle_dhcp(net.now, rx, &discover.to_bytes());
    let (tx, offer) = one(net.drain());
    assert_eq!(tx.to, SocketAddrV4::new(RELAY, 67));
    assert_eq!(offer.giaddr, RELAY);
    assert_eq!(
        offer.yiaddr,
        Ipv4Addr::new(198, 51, 100, 10),
        "the relay's subnet"
    );
    assert_eq!(
        offer.options.last(),
        Some(&DhcpOption::RelayAgentInfo(info))
    );
    assert!(offer.options.contains(&DhcpOption::Routers(vec![RELAY])));
}

#[test]
fn pool_exhaustion_answers_nothing_and_is_counted() {
    let mut net = Net::new(101);
    net.at(0);
    dora(&mut net, 1);
    dora(&mut net, 2);
    assert!(
        net.send(&client(3, MessageType::Discover, 1), true)
            .is_empty()
    );
    assert_eq!(net.server.counters().pool_exhausted, 1);
    // An outstanding offer holds its address too, until the hold lapses.
    net.at(1);
    let mut release = client(2, MessageType::Release, 5);
    release.ciaddr = Ipv4Addr::new(192, 0, 2, 101);
    net.send(&release, false);
    assert_eq!(
        one(net.send(&client(3, MessageType::Discover, 2), true))
            .1
            .yiaddr,
        Ipv4Addr::new(192, 0, 2, 101)
    );
    assert!(
        net.send(&client(4, MessageType::Discover, 3), true)
            .is_empty()
    );
    net.at(62);
    assert_eq!(
        one(net.send(&client(4, MessageType::Discover, 4), true))
            .1
            .yiaddr,
        Ipv4Addr::new(192, 0, 2, 101)
    );
}

#[test]
fn lease_time_requests_are_held_within_min_and_max() {
    let mut net = Net::new(199);
    for (asked, given) in [(10u32, 300u32), (5000, 5000), (100_000, 7200)] {
        let d = with(
            client(1, MessageType::Discover, 1),
            DhcpOption::LeaseTime(asked),
        );
        assert_eq!(one(net.send(&d, true)).1.lease_time_s(), Some(given));
    }
}

#[test]
fn inform_gets_configuration_without_a_lease() {
    let mut net = Net::new(199);
    let mut inform = client(1, MessageType::Inform, 1);
    inform.ciaddr = Ipv4Addr::new(192, 0, 2, 33);
    let (tx, ack) = one(net.send(&inform, false));
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    assert_eq!(ack.lease_time_s(), None);
    assert_eq!(ack.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(tx.to, SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 33), 68));
    assert!(ack.options.contains(&DhcpOption::Other {
        code: 15,
        data: b"example.test".to_vec()
    }));
}

#[test]
fn bad_and_unexpected_packets_are_dropped_and_counted() {
    let mut net = Net::new(199);
    let rx = Received {
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        broadcast: true,
        interface: SERVER,
    };
    net.server.handle_dhcp(net.now, rx, b"\x01\x02garbage");
    let mut reply = client(1, MessageType::Offer, 1);
    reply.op = Op::Reply;
    net.server.handle_dhcp(net.now, rx, &reply.to_bytes());
    let mut bootp = client(1, MessageType::Discover, 1);
    bootp.options.clear();
    net.server.handle_dhcp(net.now, rx, &bootp.to_bytes());
    assert!(net.drain().is_empty());
    let c = net.server.counters();
    assert_eq!((c.received, c.malformed, c.unexpected), (3, 1, 2));
}

#[test]
fn a_restarted_server_keeps_every_acked_lease() {
    let mut net = Net::new(199);
    net.at(0);
    let a = dora(&mut net, 1);
    let b = dora(&mut net, 2);
    let mut storage = net.server.storage().clone();
    storage.crash(crate::storage::CrashMode::LoseUnsynced);
    let records = storage.load().unwrap().records;
    let restarted = Server::new(config(199), storage, &records, net.now).unwrap();
    for addr in [a, b] {
        assert_eq!(
            restarted.leases().binding(addr),
            net.server.leases().binding(addr)
        );
    }
    assert_eq!(restarted.leases(), net.server.leases());
}

#[test]
fn many_clients_get_distinct_addresses_and_the_indexes_stay_consistent() {
    let mut net = Net::new(199);
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..100u8 {
        net.at(u64::from(i));
        assert!(seen.insert(dora(&mut net, i)));
    }
    assert!(
        net.send(&client(200, MessageType::Discover, 1), true)
            .is_empty()
    );
    net.server.leases().check_indexes().unwrap();
    // Half the clients release; the pool serves new ones from the released addresses.
    for i in 0..50u8 {
        let mut release = client(i, MessageType::Release, 9);
        release.ciaddr = net
            .server
            .leases()
            .iter()
            .find(|b| b.is_for(&ClientKey::from_hardware(1, &[2, 0, 0, 0, 0, i])))
            .unwrap()
            .address;
        net.send(&release, false);
    }
    for i in 100..150u8 {
        dora(&mut net, i);
    }
    net.server.leases().check_indexes().unwrap();
}

#[test]
fn no_acked_lease_is_lost_by_a_crash_at_any_point() {
    // Goal: a crash after any step, keeping only synced storage or a torn part of the unsynced
    // tail, never loses a lease a client was told about (RFC 2131 §4.3.1, draft-12 §5.1).
    use crate::storage::CrashMode;
    let mut net = Net::new(199);
    let mut acked: Vec<(Ipv4Addr, Time)> = Vec::new();
    for step in 0..40u8 {
        net.at(u64::from(step) * 30);
        match step % 4 {
            // Renew the first client's lease now and then; the rest are new clients.
            3 if !acked.is_empty() => {
                let (addr, _) = acked[0];
                let mut renew = client(0, MessageType::Request, 1);
                renew.ciaddr = addr;
                let (_, ack) = one(net.send(&renew, false));
                acked[0].1 = net.now + Duration::from_secs(u64::from(ack.lease_time_s().unwrap()));
            }
            _ => {
                let addr = dora(&mut net, step);
                acked.push((addr, net.binding(addr).expires_at));
            }
        }
        let storage = net.server.storage().clone();
        let cached = storage.cached_bytes().len();
        for mode in [
            CrashMode::LoseUnsynced,
            CrashMode::KeepUnsyncedPrefix { bytes: cached / 2 },
            CrashMode::LoseEverything,
        ] {
            let mut s = storage.clone();
            s.crash(mode);
            let records = s.load().unwrap().records;
            let restarted = Server::new(config(199), s, &records, net.now).unwrap();
            if mode == CrashMode::LoseEverything {
                continue;
            }
            for &(addr, until) in &acked {
                let b = restarted.leases().binding(addr).unwrap();
                assert_eq!(b.state, BindingState::Active, "step {step} {mode:?} {addr}");
                assert!(b.expires_at >= until, "step {step} {mode:?} {addr}");
            }
        }
    }
}

/// Storage that refuses to sync while `failing` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct FlakyStorage {
    inner: MemStorage,
    failing: bool,
}

impl crate::storage::Storage for FlakyStorage {
    fn append(&mut self, record: &[u8]) -> Result<(), crate::storage::StorageError> {
        self.inner.append(record)
    }
    fn sync(&mut self) -> Result<(), crate::storage::StorageError> {
        if self.failing {
            return Err(crate::storage::StorageError::RecordTooLarge { len: 0 });
        }
        self.inner.sync()
    }
    fn rewrite(
        &mut self,
        records: &mut dyn Iterator<Item = Vec<u8>>,
    ) -> Result<(), crate::storage::StorageError> {
        self.inner.rewrite(records)
    }
    fn len_bytes(&self) -> u64 {
        self.inner.len_bytes()
    }
}

#[test]
fn a_lease_that_cannot_be_stored_is_not_acked() {
    // Goal: RFC 2131 §4.3.1 / draft-12 §5.1 — when storage refuses the binding, the client
    // hears nothing and the binding does not change.
    let mut server = Server::new(
        config(199),
        FlakyStorage::default(),
        &[],
        Time::from_secs(T0),
    )
    .unwrap();
    let now = Time::from_secs(T0);
    let rx = Received {
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        broadcast: true,
        interface: SERVER,
    };
    server.handle_dhcp(now, rx, &client(1, MessageType::Discover, 1).to_bytes());
    let Some(Output::Dhcp(offer)) = server.poll_output() else {
        panic!("an OFFER")
    };
    let offer = DhcpMessage::parse(&offer.bytes).unwrap();
    server.storage.failing = true;
    let req = with(
        with(
            client(1, MessageType::Request, 2),
            DhcpOption::ServerId(SERVER),
        ),
        DhcpOption::RequestedIp(offer.yiaddr),
    );
    server.handle_dhcp(now, rx, &req.to_bytes());
    assert_eq!(server.poll_output(), None, "no ACK without durable storage");
    assert_eq!(server.counters().storage_failures, 1);
    assert_eq!(
        server.leases().binding(offer.yiaddr).unwrap().state,
        BindingState::Free
    );
    // Once storage works again, the same REQUEST is granted.
    server.storage.failing = false;
    server.handle_dhcp(now, rx, &req.to_bytes());
    assert!(matches!(server.poll_output(), Some(Output::Dhcp(_))));
}

#[test]
fn requests_for_another_clients_address_get_nak() {
    // Goal: RFC 2131 §4.3.2 — SELECTING or RENEWING an address bound to someone else is NAKed.
    let mut net = Net::new(199);
    net.at(0);
    let taken = dora(&mut net, 1);
    let selecting = with(
        with(
            client(2, MessageType::Request, 3),
            DhcpOption::ServerId(SERVER),
        ),
        DhcpOption::RequestedIp(taken),
    );
    assert_eq!(
        one(net.send(&selecting, true)).1.message_type(),
        Some(MessageType::Nak)
    );
    let mut renewing = client(2, MessageType::Request, 4);
    renewing.ciaddr = taken;
    assert_eq!(
        one(net.send(&renewing, false)).1.message_type(),
        Some(MessageType::Nak)
    );
    assert_eq!(
        net.binding(taken).client(),
        Some(ClientKey::from_hardware(1, &[2, 0, 0, 0, 0, 1]))
    );
}

#[test]
fn a_unicast_renewal_from_behind_a_relay_uses_the_clients_subnet() {
    // Goal: a RENEW unicast straight to the server carries no giaddr; the client's ciaddr names
    // its subnet, whose options the ACK must carry.
    let mut net = Net::new(199);
    net.at(0);
    let mut discover = client(1, MessageType::Discover, 1);
    discover.giaddr = RELAY;
    let rx = Received {
        src: SocketAddrV4::new(RELAY, 67),
        broadcast: false,
        interface: SERVER,
    };
    net.server.handle_dhcp(net.now, rx, &discover.to_bytes());
    let (_, offer) = one(net.drain());
    let mut req = with(
        with(
            client(1, MessageType::Request, 2),
            DhcpOption::ServerId(SERVER),
        ),
        DhcpOption::RequestedIp(offer.yiaddr),
    );
    req.giaddr = RELAY;
    net.server.handle_dhcp(net.now, rx, &req.to_bytes());
    let (_, ack) = one(net.drain());
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    net.at(1800);
    let mut renew = client(1, MessageType::Request, 3);
    renew.ciaddr = ack.yiaddr;
    let (tx, renewed) = one(net.send(&renew, false));
    assert_eq!(renewed.message_type(), Some(MessageType::Ack));
    assert_eq!(tx.to, SocketAddrV4::new(ack.yiaddr, 68));
    assert!(renewed.options.contains(&DhcpOption::Routers(vec![RELAY])));
}

#[test]
fn an_empty_client_identifier_is_no_identity() {
    // Goal: RFC 2132 §9.14 — option 61 shorter than two bytes identifies nobody, so two clients
    // sending it are told apart by their hardware addresses.
    let mut net = Net::new(199);
    net.at(0);
    let mut a = with(
        client(1, MessageType::Discover, 1),
        DhcpOption::ClientId(vec![]),
    );
    let first = one(net.send(&a, true)).1.yiaddr;
    a.chaddr[5] = 2;
    let second = one(net.send(&a, true)).1.yiaddr;
    assert_ne!(first, second);
}
