//! What the server does with each client message (RFC 2131 §4.3).
//!
//! | message | answer |
//! |---|---|
//! | DISCOVER | OFFER of the client's reserved, current or previous address, else the one it asks for, else the least recently used; silence (counted) when the pool is empty |
//! | REQUEST, SELECTING (server-id set) | ACK if it names us and the address can be the client's, NAK if it cannot; silence if it names another server |
//! | REQUEST, INIT-REBOOT (option 50, no ciaddr) | ACK if our record says the address is the client's; NAK if it is on the wrong network or is not the client's; silence with no record of the client |
//! | REQUEST, RENEWING/REBINDING (ciaddr) | ACK extending the client's lease; NAK if the address is another client's; silence with no record |
//! | DECLINE | the address becomes ABANDONED; no reply |
//! | RELEASE | the address becomes RELEASED; no reply |
//! | INFORM | ACK with configuration and no lease |

use std::net::Ipv4Addr;

use super::reply::{self, Transmit};
use super::{Received, Server};
use crate::config::Subnet;
use crate::lease::{Binding, BindingState, ClientKey, HwAddr, Slot};
use crate::storage::Storage;
use crate::time::{Duration, Time};
use crate::wire::dhcp::{DhcpMessage, MessageType, Op};

/// Dispatch one datagram.
pub(super) fn handle<S: Storage>(s: &mut Server<S>, now: Time, rx: Received, bytes: &[u8]) {
    let Ok(msg) = DhcpMessage::parse(bytes) else {
        s.counters.malformed += 1;
        return;
    };
    if msg.op != Op::Request || msg.hlen == 0 || usize::from(msg.hlen) > 16 {
        s.counters.unexpected += 1;
        return;
    }
    let Some(subnet) = subnet_for(s, &msg, &rx) else {
        s.counters.no_subnet += 1;
        return;
    };
    let client = Client::of(&msg);
    if !failover_serves(s, &msg, &client) {
        return;
    }
    match msg.message_type() {
        Some(MessageType::Discover) => discover(s, now, &rx, &msg, subnet, &client),
        Some(MessageType::Request) => request(s, now, &rx, &msg, subnet, &client),
        Some(MessageType::Decline) => decline(s, now, &msg, &client),
        Some(MessageType::Release) => release(s, now, &msg, &client),
        Some(MessageType::Inform) => inform(s, &rx, &msg, subnet),
        // BOOTP (no option 53) and server-to-client types are not ours to answer.
        _ => s.counters.unexpected += 1,
    }
}

/// Whether the failover state lets this server answer the message (draft-12 §9; §9.8.2 and
/// RFC 3074 for load balancing in NORMAL). Counts what it refuses.
fn failover_serves<S: Storage>(s: &mut Server<S>, msg: &DhcpMessage, client: &Client) -> bool {
    use crate::failover::Mode;
    use crate::failover::state::Service;
    let Some(rel) = s.failover.as_ref() else {
        return true;
    };
    let kind = msg.message_type();
    let renewal = kind == Some(MessageType::Request)
        && msg.server_id().is_none()
        && msg.requested_ip().is_none()
        && !msg.ciaddr.is_unspecified();
    let service = if rel.state == crate::failover::state::FoState::ResolutionInterrupted
        && s.config
            .bugs
            .has(crate::bugs::Bug::ResolutionInterruptedAllocates)
    {
        // The catalogued bug: draft-12 §9.11 as written, like COMMUNICATIONS-INTERRUPTED.
        Service::Responsive
    } else {
        rel.state.service()
    };
    let served = match service {
        Service::None => false,
        Service::RenewOnly => renewal || kind == Some(MessageType::Inform),
        Service::Responsive => true,
        Service::Balanced => {
            if kind != Some(MessageType::Discover) {
                // Like ISC, only DISCOVERs are balanced: requests name their server or renew a
                // binding both partners know (draft-12.md §7.3).
                true
            } else {
                let bucket = crate::wire::hash_bucket::load_balance_hash(client.key.hash_key());
                let primary_serves = rel.primary_buckets.is_none_or(|b| b.contains(bucket));
                let mine = primary_serves == rel.is_primary();
                let waited = match &rel.config.mode {
                    Mode::LoadBalance { max_secs, .. } => msg.secs > *max_secs,
                    Mode::HotStandby => false,
                };
                if !(mine || waited) {
                    s.counters.load_balanced_away += 1;
                    return false;
                }
                true
            }
        }
    };
    if !served {
        s.counters.not_serving += 1;
    }
    served
}

/// The lease this server may grant on `slot` now: the negotiated length, cut by the MCLT rule
/// when a partner exists (draft-12 §5.2), and the potential expiration time to tell the partner.
fn lease_for<S: Storage>(
    s: &Server<S>,
    slot: Slot,
    now: Time,
    desired: Duration,
) -> (Duration, Time) {
    let Some(rel) = s.failover.as_ref() else {
        return (desired, now + desired);
    };
    let b = s.db.get(slot);
    let end = if s.config.bugs.has(crate::bugs::Bug::GrantPastMclt) {
        // The catalogued bug: the client gets what it asked for, as if there were no partner
        // to protect (the PET sent still covers it, so the partner is told the truth).
        now + desired
    } else {
        crate::failover::mclt::granted_lease_end(b, now, desired, rel.mclt)
    };
    let pet = crate::failover::mclt::potential_expiration(now, desired, end);
    (end.saturating_since(now), pet)
}

/// The client's identity as the lease database knows it.
struct Client {
    key: ClientKey,
    id: Option<Vec<u8>>,
    hw: HwAddr,
}

impl Client {
    fn of(msg: &DhcpMessage) -> Client {
        // RFC 2132 §9.14: a client-identifier is at least two bytes; a shorter one identifies
        // nobody and would make every client that sends it the same client.
        let id = msg
            .client_id()
            .filter(|id| id.len() >= 2)
            .map(<[u8]>::to_vec);
        let hw = HwAddr {
            htype: msg.htype,
            addr: msg.client_hw_addr().to_vec(),
        };
        Client {
            key: ClientKey::of(id.as_deref(), hw.htype, &hw.addr),
            id,
            hw,
        }
    }
}

/// The subnet a message is about: the relay's (giaddr); else, for a client that has an
/// address (a unicast RENEW or an INFORM carries no giaddr), the subnet of its ciaddr; else the
/// arrival interface's (RFC 2131 §4.3.1); else the only one configured.
fn subnet_for<S>(s: &Server<S>, msg: &DhcpMessage, rx: &Received) -> Option<usize> {
    let subnets = &s.config.subnets;
    let by = |a: Ipv4Addr| subnets.iter().position(|n| n.contains(a));
    if !msg.giaddr.is_unspecified() {
        return by(msg.giaddr);
    }
    if !msg.ciaddr.is_unspecified()
        && let Some(i) = by(msg.ciaddr)
    {
        return Some(i);
    }
    by(rx.interface).or_else(|| (subnets.len() == 1).then_some(0))
}

/// The lease length a client gets: what it asked for (option 51) within the configured bounds,
/// else the default (RFC 2131 §4.3.1).
fn lease_length<S>(s: &Server<S>, msg: &DhcpMessage) -> Duration {
    let t = &s.config.lease;
    let secs = msg
        .lease_time_s()
        .map_or(t.default_s, |asked| asked.clamp(t.min_s, t.max_s));
    Duration::from_secs(u64::from(secs))
}

/// Whether `slot` may be leased to `client` now: its reservation, its own binding, or an
/// available address nobody else holds an offer on.
fn may_lease<S: Storage>(s: &Server<S>, slot: Slot, client: &Client, now: Time) -> bool {
    let b = s.db.get(slot);
    if b.reserved {
        return s.db.reservation(client.id.as_deref(), &client.hw) == Some(slot);
    }
    if let Some(offer) = s.db.offer_on(slot)
        && offer.client != client.key
    {
        return false;
    }
    let own = b.is_for(&client.key)
        && if s.failover.is_some() {
            b.state == BindingState::Active
        } else {
            matches!(
                b.state,
                BindingState::Active
                    | BindingState::Expired
                    | BindingState::Released
                    | BindingState::Free
            )
        };
    own || s.db.available_from(b).is_some_and(|t| t <= now)
}

/// Whether another client holds `slot`: an unexpired lease, an offer, or a reservation.
fn held_by_another<S: Storage>(s: &Server<S>, slot: Slot, client: &Client, now: Time) -> bool {
    let b = s.db.get(slot);
    if b.reserved {
        return s.db.reservation(client.id.as_deref(), &client.hw) != Some(slot);
    }
    let leased = b.is_leased_at(now) && !b.is_for(&client.key);
    let offered = s.db.offer_on(slot).is_some_and(|o| o.client != client.key);
    leased || offered || b.state == BindingState::Abandoned
}

fn in_subnet<S>(s: &Server<S>, slot: Slot, subnet: usize) -> bool {
    s.db.subnet_of(slot) == subnet
}

/// RFC 2131 §4.3.1: choose an address for a DISCOVER and offer it.
fn discover<S: Storage>(
    s: &mut Server<S>,
    now: Time,
    rx: &Received,
    msg: &DhcpMessage,
    subnet: usize,
    client: &Client,
) {
    // An offer made earlier may no longer be leasable (the address went back to the partner's
    // pool, or the failover state changed): offering it again would only draw a REQUEST this
    // server must NAK, and the client would loop DISCOVER-OFFER-REQUEST-NAK for as long as the
    // offer is renewed (bug-catalogue W1; found by the nemesis, seed 167).
    if !s.config.bugs.has(crate::bugs::Bug::OfferNakLoop)
        && let Some(stale) =
            s.db.offer_for(&client.key)
                .filter(|&slot| !may_lease(s, slot, client, now))
    {
        s.db.withdraw_offer(stale);
    }
    let reserved =
        s.db.reservation(client.id.as_deref(), &client.hw)
            .filter(|&slot| in_subnet(s, slot, subnet));
    let current = || {
        s.db.by_client(&client.key)
            .filter(|&slot| in_subnet(s, slot, subnet) && may_lease(s, slot, client, now))
    };
    let offered = || {
        s.db.offer_for(&client.key)
            .filter(|&slot| in_subnet(s, slot, subnet))
    };
    let asked = || {
        msg.requested_ip()
            .and_then(|a| s.db.slot(a))
            .filter(|&slot| in_subnet(s, slot, subnet) && may_lease(s, slot, client, now))
    };
    let Some(slot) = reserved
        .or_else(current)
        .or_else(offered)
        .or_else(asked)
        .or_else(|| s.db.least_recently_used(subnet, now))
    else {
        s.counters.pool_exhausted += 1;
        return;
    };
    let hold = Duration::from_secs(u64::from(s.config.offer_hold_s));
    s.db.offer(slot, client.key.clone(), now + hold);
    let address = s.db.get(slot).address;
    let (lease, _) = lease_for(s, slot, now, lease_length(s, msg));
    send(
        s,
        rx,
        msg,
        MessageType::Offer,
        Some((address, lease)),
        subnet,
    );
    s.counters.offers += 1;
}

/// RFC 2131 §4.3.2: REQUEST in each client state.
fn request<S: Storage>(
    s: &mut Server<S>,
    now: Time,
    rx: &Received,
    msg: &DhcpMessage,
    subnet: usize,
    client: &Client,
) {
    let requested = msg.requested_ip();
    if let Some(server_id) = msg.server_id() {
        // SELECTING: the client answers one OFFER and names its server.
        if server_id != s.config.server_id {
            if let Some(slot) = s.db.offer_for(&client.key) {
                s.db.withdraw_offer(slot);
            }
            s.counters.for_other_server += 1;
            return;
        }
        let Some(addr) = requested else {
            s.counters.unexpected += 1;
            return;
        };
        match s.db.slot(addr).filter(|&slot| in_subnet(s, slot, subnet)) {
            Some(slot) if may_lease(s, slot, client, now) => {
                grant(s, now, rx, msg, subnet, client, slot)
            }
            _ => nak(s, rx, msg),
        }
        return;
    }
    if let Some(addr) = requested.filter(|_| msg.ciaddr.is_unspecified()) {
        // INIT-REBOOT: the client checks a remembered address.
        if !s.config.subnets[subnet].contains(addr) {
            return nak(s, rx, msg);
        }
        let slot = s.db.slot(addr);
        let ours = slot.filter(|&slot| s.db.get(slot).is_for(&client.key));
        match (slot, ours) {
            (Some(slot), Some(_)) if may_lease(s, slot, client, now) => {
                grant(s, now, rx, msg, subnet, client, slot)
            }
            (Some(slot), _) if held_by_another(s, slot, client, now) => nak(s, rx, msg),
            _ if knows_client_elsewhere(s, client, addr, now) => nak(s, rx, msg),
            _ => s.counters.no_record += 1,
        }
        return;
    }
    if !msg.ciaddr.is_unspecified() {
        // RENEWING (unicast to us) or REBINDING (broadcast): extend the lease on ciaddr.
        let slot = s.db.slot(msg.ciaddr);
        match slot {
            Some(slot) if s.db.get(slot).is_for(&client.key) && may_lease(s, slot, client, now) => {
                grant(s, now, rx, msg, subnet, client, slot)
            }
            Some(slot) if held_by_another(s, slot, client, now) => nak(s, rx, msg),
            _ => s.counters.no_record += 1,
        }
        return;
    }
    s.counters.unexpected += 1;
}

/// Whether our records give this client a current lease on some other address (so its
/// INIT-REBOOT for `addr` is wrong, RFC 2131 §4.3.2 "requested IP address is incorrect").
fn knows_client_elsewhere<S: Storage>(
    s: &Server<S>,
    client: &Client,
    addr: Ipv4Addr,
    now: Time,
) -> bool {
    s.db.by_client(&client.key).is_some_and(|slot| {
        let b = s.db.get(slot);
        b.address != addr && b.is_leased_at(now)
    })
}

/// Make `slot` the client's ACTIVE lease, durably, then ACK.
fn grant<S: Storage>(
    s: &mut Server<S>,
    now: Time,
    rx: &Received,
    msg: &DhcpMessage,
    subnet: usize,
    client: &Client,
    slot: Slot,
) {
    let (lease, pet) = lease_for(s, slot, now, lease_length(s, msg));
    let mut b: Binding = s.db.get(slot).clone();
    if b.state != BindingState::Active || !b.is_for(&client.key) {
        b.state_since = now;
    }
    b.state = BindingState::Active;
    b.client_id = client.id.clone();
    b.hw = Some(client.hw.clone());
    b.expires_at = now + lease;
    b.cltt = now;
    b.sent_pet = pet;
    // A lower PET on its way will replace the partner's record: until it is acknowledged, the
    // old, higher one must not be counted on (ISC: "if tstp < tsfp, tsfp = tstp").
    b.acked_pet = b.acked_pet.min(pet);
    b.unacked = s.failover.is_some();
    // One lease per client per subnet: a lease the client held on another address ends now
    // (the client has moved; RFC 2131 §4.3.1 "a client ... SHOULD have only one address").
    let previous = s.db.by_client(&client.key).filter(|&p| {
        p != slot && in_subnet(s, p, subnet) && s.db.get(p).state == BindingState::Active
    });
    if s.commit(now, slot, b).is_err() {
        return;
    }
    s.db.withdraw_offer(slot);
    let mut moved = None;
    if let Some(p) = previous {
        let mut old = s.db.get(p).clone();
        old.state = BindingState::Released;
        old.state_since = now;
        old.unacked = s.failover.is_some();
        moved = Some(old.address);
        let _ = s.commit(now, p, old);
    }
    let address = s.db.get(slot).address;
    send(s, rx, msg, MessageType::Ack, Some((address, lease)), subnet);
    s.counters.acks += 1;
    // Lazy update (draft-12 §7.1.1): the client's reply is queued first, the BNDUPD after.
    s.binding_changed(now, address);
    if let Some(a) = moved {
        s.binding_changed(now, a);
    }
}

fn nak<S: Storage>(s: &mut Server<S>, rx: &Received, msg: &DhcpMessage) {
    // RFC 2131 Table 3: a DHCPNAK carries only the message type, server identifier and,
    // through a relay, the broadcast bit.
    let mut m = reply::skeleton(msg, MessageType::Nak, s.config.server_id);
    if !msg.giaddr.is_unspecified() {
        m.flags |= crate::wire::dhcp::BROADCAST_FLAG;
    }
    reply::echo_relay_info(&mut m, msg);
    let (to, link_dst) = reply::destination(msg, &m, true);
    s.queue(Transmit {
        to,
        link_dst,
        interface: rx.interface,
        bytes: m.to_bytes(),
    });
    s.counters.naks += 1;
}

/// RFC 2131 §4.3.3: the client found the address in use; mark it ABANDONED.
fn decline<S: Storage>(s: &mut Server<S>, now: Time, msg: &DhcpMessage, client: &Client) {
    if msg.server_id().is_some_and(|id| id != s.config.server_id) {
        s.counters.for_other_server += 1;
        return;
    }
    let Some(slot) = msg.requested_ip().and_then(|a| s.db.slot(a)) else {
        s.counters.no_record += 1;
        return;
    };
    let b = s.db.get(slot);
    let offered = s.db.offer_on(slot).is_some_and(|o| o.client == client.key);
    if !(b.is_for(&client.key) || offered) {
        s.counters.no_record += 1;
        return;
    }
    let mut b = b.clone();
    // draft-12 §7.1: an ABANDONED binding carries no client.
    b.client_id = None;
    b.hw = None;
    s.db.withdraw_offer(slot);
    if end_binding(s, now, slot, b, BindingState::Abandoned) {
        s.counters.declines += 1;
    }
}

/// RFC 2131 §4.3.4: the client gives its address back.
fn release<S: Storage>(s: &mut Server<S>, now: Time, msg: &DhcpMessage, client: &Client) {
    if msg.server_id().is_some_and(|id| id != s.config.server_id) {
        s.counters.for_other_server += 1;
        return;
    }
    let Some(slot) = s.db.slot(msg.ciaddr) else {
        s.counters.no_record += 1;
        return;
    };
    let b = s.db.get(slot);
    if !(b.is_for(&client.key) && b.state == BindingState::Active) {
        s.counters.no_record += 1;
        return;
    }
    if end_binding(s, now, slot, b.clone(), BindingState::Released) {
        s.counters.releases += 1;
    }
}

/// Moves a client's binding to `state` now, as the client asked (DECLINE, RELEASE): stored,
/// and owed to the partner. False if storage refused it (the binding is then unchanged).
fn end_binding<S: Storage>(
    s: &mut Server<S>,
    now: Time,
    slot: Slot,
    mut b: Binding,
    state: BindingState,
) -> bool {
    b.state = state;
    b.state_since = now;
    b.cltt = now;
    b.unacked = s.failover.is_some();
    let address = b.address;
    let stored = s.commit(now, slot, b).is_ok();
    if stored {
        s.binding_changed(now, address);
    }
    stored
}

/// RFC 2131 §4.3.5: configuration only, no lease, sent to ciaddr.
fn inform<S: Storage>(s: &mut Server<S>, rx: &Received, msg: &DhcpMessage, subnet: usize) {
    let subnet = msg
        .ciaddr
        .is_unspecified()
        .then_some(subnet)
        .or_else(|| s.config.subnets.iter().position(|n| n.contains(msg.ciaddr)))
        .unwrap_or(subnet);
    let mut m = reply::skeleton(msg, MessageType::Ack, s.config.server_id);
    reply::add_subnet_options(&mut m, &s.config.subnets[subnet]);
    reply::echo_relay_info(&mut m, msg);
    let (to, link_dst) = reply::destination(msg, &m, false);
    s.queue(Transmit {
        to,
        link_dst,
        interface: rx.interface,
        bytes: m.to_bytes(),
    });
    s.counters.informs += 1;
    s.counters.acks += 1;
}

/// Queue an OFFER or ACK carrying `lease` on `address`.
fn send<S: Storage>(
    s: &mut Server<S>,
    rx: &Received,
    msg: &DhcpMessage,
    kind: MessageType,
    lease: Option<(Ipv4Addr, Duration)>,
    subnet: usize,
) {
    let mut m = reply::skeleton(msg, kind, s.config.server_id);
    let config: &Subnet = &s.config.subnets[subnet];
    if let Some((address, length)) = lease {
        m.yiaddr = address;
        reply::add_lease_options(&mut m, length, &s.config.lease, config);
    }
    reply::echo_relay_info(&mut m, msg);
    let (to, link_dst) = reply::destination(msg, &m, false);
    s.queue(Transmit {
        to,
        link_dst,
        interface: rx.interface,
        bytes: m.to_bytes(),
    });
}
