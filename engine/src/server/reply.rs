//! Building replies: which options go in, and where the datagram is sent (RFC 2131 §4.1, §4.3).

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::config::{LeaseTimes, Subnet};
use crate::time::Duration;
use crate::wire::dhcp::{DhcpMessage, DhcpOption, MessageType};

/// UDP port of DHCP servers and relays.
pub const SERVER_PORT: u16 = 67;
/// UDP port of DHCP clients.
pub const CLIENT_PORT: u16 = 68;

/// One datagram to send.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transmit {
    /// Destination address and port; 255.255.255.255:68 for a broadcast.
    pub to: SocketAddrV4,
    /// For a unicast to a client that has no address yet: the hardware address to deliver it to
    /// (the host sends it to that MAC without ARP; RFC 2131 §4.1).
    pub link_dst: Option<Vec<u8>>,
    /// The server interface it leaves by (the one the request came in on).
    pub interface: Ipv4Addr,
    /// The encoded DHCP message.
    pub bytes: Vec<u8>,
}

/// Where a reply goes (RFC 2131 §4.1, "If the 'giaddr' field ... is nonzero" and following).
pub fn destination(
    request: &DhcpMessage,
    reply: &DhcpMessage,
    nak: bool,
) -> (SocketAddrV4, Option<Vec<u8>>) {
    if !request.giaddr.is_unspecified() {
        return (SocketAddrV4::new(request.giaddr, SERVER_PORT), None);
    }
    if nak {
        // "In all cases, when 'giaddr' is zero, the server broadcasts any DHCPNAK messages."
        return (SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT), None);
    }
    if !request.ciaddr.is_unspecified() {
        return (SocketAddrV4::new(request.ciaddr, CLIENT_PORT), None);
    }
    if request.is_broadcast() || reply.yiaddr.is_unspecified() {
        return (SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT), None);
    }
    (
        SocketAddrV4::new(reply.yiaddr, CLIENT_PORT),
        Some(request.client_hw_addr().to_vec()),
    )
}

/// A reply skeleton: header fields copied from the request (RFC 2131 Table 3), message type and
/// server identifier first.
pub fn skeleton(request: &DhcpMessage, kind: MessageType, server_id: Ipv4Addr) -> DhcpMessage {
    let mut m = DhcpMessage::reply_to(request);
    m.options.push(DhcpOption::MessageType(kind));
    m.options.push(DhcpOption::ServerId(server_id));
    m
}

/// Add the lease time, T1, T2 and the subnet's configuration options (RFC 2131 §4.3.1;
/// RFC 2132 §9.2, §9.11, §9.12).
pub fn add_lease_options(
    m: &mut DhcpMessage,
    lease: Duration,
    times: &LeaseTimes,
    subnet: &Subnet,
) {
    m.options.push(DhcpOption::LeaseTime(lease.as_secs_u32()));
    let t1 = lease.mul_ratio(u64::from(times.t1_permille), 1000);
    let t2 = lease.mul_ratio(u64::from(times.t2_permille), 1000);
    m.options.push(DhcpOption::RenewalTime(t1.as_secs_u32()));
    m.options.push(DhcpOption::RebindingTime(t2.as_secs_u32()));
    add_subnet_options(m, subnet);
}

/// The subnet's configuration options: mask, routers, DNS servers, domain name.
pub fn add_subnet_options(m: &mut DhcpMessage, subnet: &Subnet) {
    m.options.push(DhcpOption::SubnetMask(subnet.mask));
    if !subnet.routers.is_empty() {
        m.options.push(DhcpOption::Routers(subnet.routers.clone()));
    }
    if !subnet.dns_servers.is_empty() {
        m.options
            .push(DhcpOption::DnsServers(subnet.dns_servers.clone()));
    }
    if let Some(domain) = &subnet.domain_name {
        m.options.push(DhcpOption::Other {
            code: 15,
            data: domain.as_bytes().to_vec(),
        });
    }
}

/// Echo the relay agent information option last (RFC 3046 §2.2: the server copies it into its
/// reply, after every other option).
pub fn echo_relay_info(m: &mut DhcpMessage, request: &DhcpMessage) {
    if let Some(info) = request.relay_agent_info() {
        m.options.push(DhcpOption::RelayAgentInfo(info.clone()));
    }
}
