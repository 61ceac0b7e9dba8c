//! One address's binding: its state, its client, and the times the protocols keep for it.
//!
//! The state names are draft-12's (§5.11, the same values ISC uses), whether or not a failover
//! partner exists: a standalone server uses FREE, ACTIVE, EXPIRED, RELEASED and ABANDONED.

use std::net::Ipv4Addr;

use crate::time::Time;
pub use crate::wire::failover::BindingState;

/// Who a binding belongs to: the client-identifier when the client sent one (RFC 2131 §4.2),
/// else its hardware type and address. Tagged so that the two spaces never collide.
///
/// Keys are built for every lookup and index change, so a short one (every hardware address,
/// and the usual type-plus-MAC client-identifier) is held inline; only a long client-identifier
/// goes to the heap. Equality, order and hash are those of the key bytes, whatever the holding.
#[derive(Clone)]
pub struct ClientKey(KeyBytes);

#[derive(Clone)]
enum KeyBytes {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Heap(Box<[u8]>),
}

/// The longest key held inline: tag, hardware type and a full 16-byte `chaddr` fit.
const INLINE_KEY: usize = 30;

impl ClientKey {
    const CLIENT_ID: u8 = 0;
    const HARDWARE: u8 = 1;

    fn from_parts(head: &[u8], tail: &[u8]) -> ClientKey {
        let len = head.len() + tail.len();
        if len <= INLINE_KEY {
            let mut bytes = [0; INLINE_KEY];
            bytes[..head.len()].copy_from_slice(head);
            bytes[head.len()..len].copy_from_slice(tail);
            ClientKey(KeyBytes::Inline {
                len: len as u8,
                bytes,
            })
        } else {
            ClientKey(KeyBytes::Heap([head, tail].concat().into_boxed_slice()))
        }
    }

    /// The key of a client that sent option 61.
    pub fn from_client_id(id: &[u8]) -> ClientKey {
        ClientKey::from_parts(&[Self::CLIENT_ID], id)
    }

    /// The key of a client known only by its hardware address.
    pub fn from_hardware(htype: u8, chaddr: &[u8]) -> ClientKey {
        ClientKey::from_parts(&[Self::HARDWARE, htype], chaddr)
    }

    /// The key of a client: its identifier if it has one, else its hardware address.
    pub fn of(client_id: Option<&[u8]>, htype: u8, chaddr: &[u8]) -> ClientKey {
        match client_id {
            Some(id) => ClientKey::from_client_id(id),
            None => ClientKey::from_hardware(htype, chaddr),
        }
    }

    /// The key's bytes: the tag, then the identifier or the hardware type and address.
    fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            KeyBytes::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or(bytes),
            KeyBytes::Heap(bytes) => bytes,
        }
    }

    /// The RFC 3074 service-transaction identifier: the client-identifier bytes, else the
    /// hardware address without its type (draft-12 §9.8.2).
    pub fn hash_key(&self) -> &[u8] {
        match self.as_bytes().split_first() {
            Some((&Self::CLIENT_ID, id)) => id,
            Some((_, rest)) => rest.get(1..).unwrap_or(&[]),
            None => &[],
        }
    }
}

impl PartialEq for ClientKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ClientKey {}

impl PartialOrd for ClientKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ClientKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for ClientKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ClientKey").field(&self.as_bytes()).finish()
    }
}

/// A hardware address as DHCP carries it: type and bytes (at most 16, RFC 2131 `chaddr`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HwAddr {
    /// ARP hardware type (1 = Ethernet).
    pub htype: u8,
    /// The address bytes.
    pub addr: Vec<u8>,
}

/// The binding of one address (draft-12 §5.11; the four times of draft-12.md §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Binding {
    /// The address.
    pub address: Ipv4Addr,
    /// Its binding state.
    pub state: BindingState,
    /// Reserved for one client by configuration: never given to another.
    pub reserved: bool,
    /// The client's identifier (option 61), if it sent one.
    pub client_id: Option<Vec<u8>>,
    /// The client's hardware address.
    pub hw: Option<HwAddr>,
    /// When the lease ends (what the client was told); the epoch if never leased.
    pub expires_at: Time,
    /// When the binding entered its state (draft-12 start-time-of-state).
    pub state_since: Time,
    /// When the client last spoke to a server about this binding (draft-12 CLTT).
    pub cltt: Time,
    /// The latest potential expiration time sent to the partner.
    pub sent_pet: Time,
    /// The latest potential expiration time the partner acknowledged.
    pub acked_pet: Time,
    /// The latest potential expiration time received from the partner, read on our clock
    /// through the clock delta's estimate: never earlier than it is (draft-12 §5.10), the safe
    /// reading for what the partner may have granted.
    pub received_pet: Time,
    /// The same time read through the delta's floor: never later than it is, the safe reading
    /// for the MCLT it lets this server grant past it (draft-12 §7.1.5). The epoch when no
    /// round trip bounded the delta when it arrived: then it lets nothing.
    pub received_pet_early: Time,
    /// A local change the failover partner has not acknowledged yet: it must be sent in a
    /// BNDUPD (again, after a reconnect or a restart; draft-12 §9.8.1). Always false without a
    /// partner.
    pub unacked: bool,
}

impl Binding {
    /// A never-used address in `state`.
    pub fn new(address: Ipv4Addr, state: BindingState) -> Binding {
        Binding {
            address,
            state,
            reserved: false,
            client_id: None,
            hw: None,
            expires_at: Time::EPOCH,
            state_since: Time::EPOCH,
            cltt: Time::EPOCH,
            sent_pet: Time::EPOCH,
            acked_pet: Time::EPOCH,
            received_pet: Time::EPOCH,
            received_pet_early: Time::EPOCH,
            unacked: false,
        }
    }

    /// The client this binding names, if any.
    pub fn client(&self) -> Option<ClientKey> {
        match (&self.client_id, &self.hw) {
            (Some(id), _) => Some(ClientKey::from_client_id(id)),
            (None, Some(hw)) => Some(ClientKey::from_hardware(hw.htype, &hw.addr)),
            (None, None) => None,
        }
    }

    /// Whether the binding names exactly this client.
    pub fn is_for(&self, key: &ClientKey) -> bool {
        self.client().as_ref() == Some(key)
    }

    /// Whether a client holds an unexpired lease on the address at `now`.
    pub fn is_leased_at(&self, now: Time) -> bool {
        self.state == BindingState::Active && self.expires_at > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_and_hardware_keys_never_collide() {
        let by_id = ClientKey::from_client_id(&[1, 0, 17, 34, 51, 68, 85]);
        let by_hw = ClientKey::from_hardware(1, &[0, 17, 34, 51, 68, 85]);
        assert_ne!(by_id, by_hw);
        assert_eq!(by_id.hash_key(), &[1, 0, 17, 34, 51, 68, 85]);
        assert_eq!(by_hw.hash_key(), &[0, 17, 34, 51, 68, 85]);
    }

    #[test]
    fn keys_compare_by_their_bytes_whether_inline_or_on_the_heap() {
        let long = |last: u8| {
            let mut id = vec![7; 40];
            id.push(last);
            ClientKey::from_client_id(&id)
        };
        let short = ClientKey::from_client_id(&[7; 29]);
        let inline_max = ClientKey::from_client_id(&[7; 29]);
        assert_eq!(short, inline_max);
        assert!(short < long(0), "a prefix sorts first");
        assert!(long(0) < long(1));
        assert!(ClientKey::from_client_id(&[8]) > long(9));
        assert_eq!(long(3).hash_key().len(), 41);
        assert_eq!(long(3), long(3));
    }

    #[test]
    fn the_client_identifier_wins_over_the_hardware_address() {
        let mut b = Binding::new(Ipv4Addr::new(10, 0, 0, 1), BindingState::Active);
        b.hw = Some(HwAddr {
            htype: 1,
            addr: vec![1, 2, 3, 4, 5, 6],
        });
        assert_eq!(
            b.client(),
            Some(ClientKey::from_hardware(1, &[1, 2, 3, 4, 5, 6]))
        );
        b.client_id = Some(vec![9]);
        assert_eq!(b.client(), Some(ClientKey::from_client_id(&[9])));
        assert!(b.is_for(&ClientKey::of(Some(&[9]), 1, &[])));
    }
}
