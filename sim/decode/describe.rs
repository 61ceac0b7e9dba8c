//! One message in words: the key fields `dhcpfo decode` prints per line and per JSON object.
//!
//! Field names and value spellings follow the `.fo-msgs.txt` files beside the ISC captures
//! (`rel=`, `state=`, `ip=`, `bs=`, `reject=`, `msg=`), with a few more keys appended.

use std::fmt::Write as _;

use dhcpfo_engine::wire::dhcp::{self, DhcpMessage};
use dhcpfo_engine::wire::failover::{
    BindingState, Dialect, FoOption, IpFlags, Message, MessageType,
    dialect::ms_binding_state,
    option::{code, code_name},
};
use serde_json::{Map, Value, json};

/// Key fields of a message, in print order.
pub type Fields = Vec<(&'static str, String)>;

/// Text that may hold anything: printable ASCII kept, the rest escaped.
pub fn text(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

fn mac(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The binding state a binding-status byte names in `dialect`, or its raw value.
fn binding_state_name(status: u8, ip_flags: Option<IpFlags>, record: bool, d: Dialect) -> String {
    match d {
        Dialect::Isc => BindingState::from_d12(status)
            .map_or_else(|| format!("unknown({status})"), |s| s.name().to_string()),
        Dialect::Microsoft => {
            let flags = ip_flags.map_or(0, |f| f.bits() as u8);
            format!(
                "{}(0x{status:02x})",
                ms_binding_state(status, flags, record).name()
            )
        }
    }
}

/// The key fields of a failover message.
pub fn failover_fields(m: &Message, dialect: Dialect) -> Fields {
    let mut f = Fields::new();
    let push_reject = |f: &mut Fields, m: &Message| {
        if let Some(r) = m.reject_reason() {
            f.push(("reject", r.0.to_string()));
        }
        if let Some(t) = m.message_text() {
            f.push(("msg", text(t)));
        }
    };
    match m.msg_type {
        MessageType::Connect | MessageType::ConnectAck => {
            push_reject(&mut f, m);
            if let Some(n) = m.relationship_name() {
                f.push(("rel", text(n)));
            }
            if let Some(mclt) = m.mclt_s() {
                f.push(("mclt", mclt.to_string()));
            }
            for o in &m.options {
                match o {
                    FoOption::MaxUnackedBndupd(v) => f.push(("max-unacked", v.to_string())),
                    FoOption::ReceiveTimer(v) => f.push(("receive-timer", v.to_string())),
                    FoOption::VendorClassIdentifier(v) => f.push(("vendor", text(v))),
                    FoOption::HashBucketAssignment(h) => f.push(("hba-bytes", h.len().to_string())),
                    _ => {}
                }
            }
        }
        MessageType::State => {
            if let Some(s) = m.server_state() {
                f.push(("state", s.name().to_string()));
            }
            if let Some(flags) = m.server_flags() {
                f.push(("flags", flags.to_string()));
            }
            if let Some(FoOption::StartTimeOfState(t)) = m.option(code::START_TIME_OF_STATE) {
                f.push(("stos", t.to_string()));
            }
        }
        MessageType::BndUpd | MessageType::BndAck => {
            for b in m.bindings() {
                f.push(("ip", b.address.to_string()));
                let flags = b.options.iter().find_map(|o| match o {
                    FoOption::IpFlags(x) => Some(*x),
                    _ => None,
                });
                let record = b.option(code::CLIENT_HARDWARE_ADDRESS).is_some();
                for o in b.options {
                    match o {
                        FoOption::BindingStatus(s) => {
                            f.push(("bs", binding_state_name(s.0, flags, record, dialect)))
                        }
                        FoOption::ClientHardwareAddress(h) => f.push(("chaddr", mac(&h.addr))),
                        FoOption::LeaseExpirationTime(t) => f.push(("end", t.to_string())),
                        FoOption::PotentialExpirationTime(t) => f.push(("pet", t.to_string())),
                        FoOption::RejectReason(r) => f.push(("reject", r.0.to_string())),
                        FoOption::Message(t) => f.push(("msg", text(t))),
                        _ => {}
                    }
                }
            }
        }
        MessageType::Disconnect => push_reject(&mut f, m),
        MessageType::PoolResp => {
            if let Some(FoOption::AddressesTransferred(n)) = m.option(code::ADDRESSES_TRANSFERRED) {
                f.push(("transferred", n.to_string()));
            }
        }
        _ => {}
    }
    f
}

/// The draft's name of a DHCP message type.
pub fn dhcp_type_name(t: Option<dhcp::MessageType>) -> String {
    use dhcp::MessageType as T;
    match t {
        Some(T::Discover) => "DISCOVER".into(),
        Some(T::Offer) => "OFFER".into(),
        Some(T::Request) => "REQUEST".into(),
        Some(T::Decline) => "DECLINE".into(),
        Some(T::Ack) => "ACK".into(),
        Some(T::Nak) => "NAK".into(),
        Some(T::Release) => "RELEASE".into(),
        Some(T::Inform) => "INFORM".into(),
        Some(T::Unknown(v)) => format!("unknown({v})"),
        None => "BOOTP".into(),
    }
}

/// The key fields of a DHCP message (its type is printed separately).
pub fn dhcp_fields(m: &DhcpMessage) -> Fields {
    let mut f = vec![
        ("xid", format!("{:#x}", m.xid)),
        ("yiaddr", m.yiaddr.to_string()),
        ("chaddr", mac(m.client_hw_addr())),
    ];
    if !m.ciaddr.is_unspecified() {
        f.push(("ciaddr", m.ciaddr.to_string()));
    }
    if !m.giaddr.is_unspecified() {
        f.push(("giaddr", m.giaddr.to_string()));
    }
    if let Some(ip) = m.requested_ip() {
        f.push(("requested", ip.to_string()));
    }
    if let Some(ip) = m.server_id() {
        f.push(("server-id", ip.to_string()));
    }
    if let Some(t) = m.lease_time_s() {
        f.push(("lease", t.to_string()));
    }
    if let Some(id) = m.client_id() {
        f.push(("client-id", mac(id)));
    }
    if m.relay_agent_info().is_some() {
        f.push(("option82", "yes".into()));
    }
    f
}

/// Every option of a failover message, for JSON: code, name and value.
pub fn failover_options_json(m: &Message) -> Value {
    Value::Array(
        m.options
            .iter()
            .map(|o| {
                json!({
                    "code": o.code(),
                    "name": code_name(o.code()),
                    "value": option_value_json(o),
                })
            })
            .collect(),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn option_value_json(o: &FoOption) -> Value {
    use FoOption as O;
    match o {
        O::AddressesTransferred(v)
        | O::ClientLastTransactionTime(v)
        | O::LeaseExpirationTime(v)
        | O::MaxUnackedBndupd(v)
        | O::Mclt(v)
        | O::PotentialExpirationTime(v)
        | O::ReceiveTimer(v)
        | O::StartTimeOfState(v)
        | O::ClientNapProbation(v)
        | O::ExtendedAddressState(v) => json!(v),
        O::AssignedIpAddress(a) | O::ClientSubnetMask(a) | O::ServerIp(a) => json!(a.to_string()),
        O::BindingStatus(s) => json!(s.0),
        O::RejectReason(r) => json!(r.0),
        O::ServerState(s) => json!(s.name()),
        O::IpFlags(f) => json!(f.bits()),
        O::DelayedServiceParameter(v)
        | O::ProtocolVersion(v)
        | O::ServerFlags(v)
        | O::TlsReply(v)
        | O::TlsRequest(v)
        | O::ClientType(v)
        | O::ClientNapCapable(v) => json!(v),
        O::ClientNapStatus(s) => match s {
            dhcpfo_engine::wire::failover::NapStatus::Byte(b) => json!(b),
            dhcpfo_engine::wire::failover::NapStatus::Word(w) => json!(w),
        },
        O::ClientHardwareAddress(h) => json!({"htype": h.htype, "addr": mac(&h.addr)}),
        O::MessageDigest { kind, digest } => json!({"type": kind, "digest": hex(digest)}),
        O::ScopeIdList(s) => json!(s.iter().map(|a| a.to_string()).collect::<Vec<_>>()),
        O::ClientName(w)
        | O::ClientDescription(w)
        | O::ServerName(w)
        | O::ClientMatchedPolicy(w) => {
            json!(w.to_string_lossy())
        }
        O::Message(b) | O::RelationshipName(b) | O::VendorClassIdentifier(b) => json!(text(b)),
        O::ClientIdentifier(b)
        | O::ClientReplyOptions(b)
        | O::ClientRequestOptions(b)
        | O::Ddns(b)
        | O::HashBucketAssignment(b)
        | O::VendorSpecificOptions(b)
        | O::Unknown { data: b, .. } => json!(hex(b)),
    }
}

/// Key fields as a JSON object.
pub fn fields_json(fields: &Fields) -> Value {
    let mut map = Map::new();
    for (k, v) in fields {
        // A batched BNDUPD repeats keys: gather repeats into an array.
        match map.get_mut(*k) {
            Some(Value::Array(a)) => a.push(json!(v)),
            Some(prev) => *prev = json!([prev.clone(), v]),
            None => {
                map.insert((*k).to_string(), json!(v));
            }
        }
    }
    Value::Object(map)
}
