//! DORA transactions per second through `Server::handle_dhcp`, the server alone.
//!
//! Each iteration starts a fresh server (not timed) with one pool, then runs DISCOVER → OFFER →
//! REQUEST → ACK for every client, draining outputs as a host would. Messages are encoded once
//! up front, so the time is the server's: decode, allocation, storage append + sync, reply
//! encode. Run: `cargo bench -p dhcpfo-engine --bench dora`.

use std::net::{Ipv4Addr, SocketAddrV4};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dhcpfo_engine::config::{AddressRange, LeaseTimes, ServerConfig, Subnet};
use dhcpfo_engine::server::{Received, Server};
use dhcpfo_engine::storage::MemStorage;
use dhcpfo_engine::time::Time;
use dhcpfo_engine::wire::dhcp::{BROADCAST_FLAG, DhcpMessage, DhcpOption, MessageType, Op};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const FIRST: u32 = 0x0a00_0100; // 10.0.1.0

fn config(clients: u32) -> ServerConfig {
    ServerConfig {
        server_id: SERVER,
        lease: LeaseTimes::default(),
        subnets: vec![Subnet {
            network: Ipv4Addr::new(10, 0, 0, 0),
            mask: Ipv4Addr::new(255, 240, 0, 0),
            ranges: vec![AddressRange {
                first: Ipv4Addr::from(FIRST),
                last: Ipv4Addr::from(FIRST + clients - 1),
            }],
            routers: vec![SERVER],
            dns_servers: vec![SERVER],
            domain_name: None,
        }],
        reservations: vec![],
        offer_hold_s: 60,
        failover: None,
        bugs: Default::default(),
    }
}

fn message(i: u32, kind: MessageType, requested: Option<Ipv4Addr>) -> Vec<u8> {
    let mut m = DhcpMessage::new(Op::Request, i);
    m.chaddr[..6].copy_from_slice(&[
        0x02,
        0,
        (i >> 24) as u8,
        (i >> 16) as u8,
        (i >> 8) as u8,
        i as u8,
    ]);
    m.flags = BROADCAST_FLAG;
    m.options.push(DhcpOption::MessageType(kind));
    if let Some(a) = requested {
        m.options.push(DhcpOption::ServerId(SERVER));
        m.options.push(DhcpOption::RequestedIp(a));
    }
    m.options.push(DhcpOption::ParameterRequestList(vec![
        1, 3, 6, 15, 51, 58, 59,
    ]));
    m.to_bytes()
}

fn dora(c: &mut Criterion) {
    let mut group = c.benchmark_group("dora");
    group.sample_size(10);
    for clients in [10_000u32, 100_000] {
        // Allocation is least-recently-used over a fresh pool: client i gets address i.
        let msgs: Vec<(Vec<u8>, Vec<u8>)> = (0..clients)
            .map(|i| {
                (
                    message(i, MessageType::Discover, None),
                    message(i, MessageType::Request, Some(Ipv4Addr::from(FIRST + i))),
                )
            })
            .collect();
        let rx = Received {
            src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
            broadcast: true,
            interface: SERVER,
        };
        group.throughput(Throughput::Elements(u64::from(clients)));
        group.bench_function(format!("{clients}_clients"), |b| {
            b.iter_batched(
                || Server::new(config(clients), MemStorage::default(), &[], Time::EPOCH).unwrap(),
                |mut server| {
                    let now = Time::from_secs(1_700_000_000);
                    for (discover, request) in &msgs {
                        server.handle_dhcp(now, rx, discover);
                        while server.poll_output().is_some() {}
                        server.handle_dhcp(now, rx, request);
                        while server.poll_output().is_some() {}
                    }
                    assert_eq!(server.counters().acks, u64::from(clients));
                    server
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, dora);
criterion_main!(benches);
