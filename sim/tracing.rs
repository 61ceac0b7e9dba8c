//! The world's side of the trace contract: turning what happens in a run into the typed events
//! of `dhcpfo_reports::event`. Every time is converted to milliseconds of true time since the
//! run's start; every message is read through the engine's own decoders, with the run's
//! dialect (STYLE.md 19a), never by byte offset.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcpfo_engine::failover::messages::decode_bindings;
use dhcpfo_engine::time::Time;
use dhcpfo_engine::wire::dhcp::DhcpMessage;
use dhcpfo_engine::wire::failover::{Dialect, FoOption, Message};
use dhcpfo_reports::event::{
    CarriedBinding, DhcpMessage as DhcpEvent, FailoverMessage, Fault as FaultEvent, FaultWindow,
    Header, Level, RelationshipInfo, SCHEMA, SegmentInfo, ServerInfo,
};

use crate::decode::describe;
use crate::scenario::{Cut, PairMode, Scenario, Verb};
use crate::world::START;

/// Milliseconds of true time since the run's start (0 for anything before it).
pub fn ms(t: Time) -> u64 {
    t.saturating_since(START).as_millis()
}

/// A time a node wrote on its own clock, with the node's skew then, in true milliseconds
/// since the start.
pub fn true_ms(written: Time, skew_ms: i64) -> u64 {
    let written = written.as_millis() as i128 - i128::from(skew_ms);
    let start = START.as_millis() as i128;
    u64::try_from(written - start).unwrap_or(0)
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    s
}

/// A hardware address as people write it: `02:00:00:00:00:07`.
pub fn mac(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

/// The trace's header for a run of `scenario` with `seed`. `servers` names the servers with
/// their addresses, `relationship` is the name the pair uses in CONNECT.
pub fn header(
    scenario: &Scenario,
    seed: u64,
    level: Level,
    servers: &[(&str, Ipv4Addr)],
    relationship: &str,
    sample_ms: u64,
) -> Header {
    let s = &scenario.servers;
    Header {
        schema: SCHEMA,
        dhcpfo_version: env!("CARGO_PKG_VERSION").into(),
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        seed,
        level,
        epoch_unix_ms: START.as_millis(),
        duration_ms: scenario.duration.0.as_millis(),
        expect: crate::run::expected(scenario),
        servers: servers
            .iter()
            .map(|(name, addr)| ServerInfo {
                name: (*name).into(),
                address: addr.to_string(),
            })
            .collect(),
        relationships: vec![RelationshipInfo {
            name: relationship.into(),
            primary: servers.first().map_or_else(String::new, |s| s.0.into()),
            secondary: servers.get(1).map_or_else(String::new, |s| s.0.into()),
            mode: match s.mode {
                PairMode::HotStandby => "hot_standby".into(),
                PairMode::LoadBalance => "load_balance".into(),
            },
            mclt_ms: s.mclt.0.as_millis(),
            dialect: match s.dialect.dialect() {
                Dialect::Isc => "isc".into(),
                Dialect::Microsoft => "microsoft".into(),
            },
        }],
        segments: segments(scenario),
        clients: scenario.clients.count,
        bugs: scenario.bugs.iter().map(|b| b.name().to_string()).collect(),
        sample_ms,
    }
}

/// The clients' segments: one subnet each, the servers on segment 0, a relay on each other.
fn segments(scenario: &Scenario) -> Vec<SegmentInfo> {
    crate::world::subnets(scenario)
        .iter()
        .enumerate()
        .map(|(k, net)| {
            let prefix = u32::from(net.mask).leading_ones();
            SegmentInfo {
                name: format!("segment {k}"),
                subnet: format!("{}/{prefix}", net.network),
                pool: net
                    .ranges
                    .iter()
                    .map(|r| format!("{}-{}", r.first, r.last))
                    .collect::<Vec<_>>()
                    .join(","),
                relay: (k > 0).then(|| crate::world::relay_of(k).to_string()),
            }
        })
        .collect()
}

/// How often counts are sampled: about 500 samples a run, on a whole second.
pub fn sample_interval_ms(duration_ms: u64) -> u64 {
    (duration_ms / 500).div_ceil(1000).max(1) * 1000
}

/// A fault as the trace records it. `servers` names the servers by index.
pub fn fault(f: &Verb, names: &[&str; 2]) -> FaultEvent {
    let node_name = |i: usize| names.get(i).copied().unwrap_or("?").to_string();
    let (verb, servers, window) = match f {
        Verb::Crash { node, .. } => (
            "crash",
            vec![node_name(node.index())],
            Some(window(format!("down {}", node_name(node.index())), true)),
        ),
        Verb::Restart { node } => ("restart", vec![node_name(node.index())], None),
        Verb::Partition { cut } => (
            "partition",
            cut_servers(*cut, names),
            Some(window(format!("cut {}", cut_name(*cut)), true)),
        ),
        Verb::Heal { cut } => (
            "heal",
            cut_servers(*cut, names),
            Some(window(format!("cut {}", cut_name(*cut)), false)),
        ),
        Verb::Admin { node, .. } => ("admin", vec![node_name(node.index())], None),
        Verb::ClockOffset { node, .. } => ("clock_offset_s", vec![node_name(node.index())], None),
        Verb::ClockDrift { node, .. } => ("clock_drift_ppm", vec![node_name(node.index())], None),
        Verb::DelaySpike { .. } => ("delay_ms", Vec::new(), None),
        Verb::RebootClients => ("reboot_clients", Vec::new(), None),
        Verb::Forge { to, .. } => ("forge", vec![node_name(to.index())], None),
        Verb::Incomplete { to, .. } => ("incomplete", vec![node_name(to.index())], None),
    };
    FaultEvent {
        verb: verb.into(),
        text: f.to_string(),
        servers,
        detail: None,
        window,
    }
}

/// The fault window a server's boot closes.
pub fn boot_window(server: &str) -> FaultWindow {
    window(format!("down {server}"), false)
}

fn window(key: String, opens: bool) -> FaultWindow {
    FaultWindow { key, opens }
}

/// A cut as scenarios name it.
pub fn cut_name(cut: Cut) -> &'static str {
    match cut {
        Cut::Servers => "servers",
        Cut::PrimaryToSecondary => "primary-to-secondary",
        Cut::SecondaryToPrimary => "secondary-to-primary",
        Cut::PrimaryClients => "primary-clients",
        Cut::SecondaryClients => "secondary-clients",
    }
}

fn cut_servers(cut: Cut, names: &[&str; 2]) -> Vec<String> {
    let both = names.iter().map(|n| n.to_string()).collect();
    match cut {
        Cut::Servers | Cut::PrimaryToSecondary | Cut::SecondaryToPrimary => both,
        Cut::PrimaryClients => vec![names[0].into()],
        Cut::SecondaryClients => vec![names[1].into()],
    }
}

/// A DHCP datagram as the trace records it; `None` if it does not decode (nothing the
/// simulator sends fails to).
pub fn dhcp(
    from: String,
    to: String,
    src: SocketAddrV4,
    dst: SocketAddrV4,
    client: Option<usize>,
    bytes: &[u8],
) -> Option<DhcpEvent> {
    let m = DhcpMessage::parse(bytes).ok()?;
    let named = [m.yiaddr, m.ciaddr]
        .into_iter()
        .find(|a| !a.is_unspecified())
        .or(m.requested_ip());
    Some(DhcpEvent {
        from,
        to,
        src: src.to_string(),
        dst: dst.to_string(),
        client: client.and_then(|c| u32::try_from(c).ok()),
        msg: describe::dhcp_type_name(m.message_type()),
        xid: m.xid,
        chaddr: mac(m.client_hw_addr()),
        address: named.map(|a| a.to_string()),
        lease_s: m.lease_time_s(),
        bytes: hex(bytes),
    })
}

/// A failover message as the trace records it, its times converted with the sender's skew
/// `skew_ms` when it wrote them. Where it went (`delivered_ms`, `blackholed`) is the caller's
/// to fill in.
pub fn failover(
    relationship: &str,
    from: &str,
    to: &str,
    conn: u64,
    bytes: &[u8],
    dialect: Dialect,
    skew_ms: i64,
) -> Option<FailoverMessage> {
    let m = Message::parse(bytes, dialect).ok()?;
    let bindings = decode_bindings(&m, dialect)
        .into_iter()
        .map(|b| match b {
            Ok(i) => CarriedBinding {
                address: i.address.to_string(),
                state: Some(i.state.name().to_string()),
                chaddr: i.hw.map(|h| mac(&h.addr)),
                pet_ms: i.pet.map(|t| true_ms(t, skew_ms)),
                ends_ms: i.expires_at.map(|t| true_ms(t, skew_ms)),
            },
            Err((address, _)) => CarriedBinding {
                address: address.to_string(),
                state: None,
                chaddr: None,
                pet_ms: None,
                ends_ms: None,
            },
        })
        .collect();
    let reject = m
        .bindings()
        .flat_map(|b| b.options.iter())
        .chain(m.options.iter())
        .find_map(|o| match o {
            FoOption::RejectReason(r) => Some(r.0),
            _ => None,
        });
    Some(FailoverMessage {
        relationship: relationship.into(),
        from: from.into(),
        to: to.into(),
        conn,
        msg: m.msg_type.name().to_string(),
        xid: m.xid,
        bindings,
        reject,
        delivered_ms: None,
        blackholed: false,
        bytes: hex(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_times_become_true_milliseconds_since_the_start() {
        let written = START + dhcpfo_engine::time::Duration::from_secs(59 + 600);
        // The writer's clock ran 59 s ahead: it wrote 600 s of true time.
        assert_eq!(true_ms(written, 59_000), 600_000);
        assert_eq!(
            true_ms(START, 1_000),
            0,
            "before the start reads as the start"
        );
        assert_eq!(hex(&[0x0a, 0xff, 0x00]), "0aff00");
        assert_eq!(mac(&[2, 0, 0x1f]), "02:00:1f");
        assert_eq!(sample_interval_ms(3_600_000), 8_000);
        assert_eq!(sample_interval_ms(86_400_000), 173_000);
        assert_eq!(sample_interval_ms(60_000), 1_000);
    }
}
