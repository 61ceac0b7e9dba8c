//! Bindings and the lease database, and the records that make them durable.
//!
//! * [`Binding`] — one address: its draft-12 state, its client, its times.
//! * [`LeaseDb`] — every binding of the configured pools, with O(1) lookup by address and by
//!   client and least-recently-used allocation that never scans the pool.
//! * [`Record`] — what goes to stable storage for each change.

mod binding;
mod db;
mod record;

pub use binding::{Binding, BindingState, ClientKey, HwAddr};
pub use db::{LeaseDb, Offer, PoolRole, Slot};
pub use record::{FailoverRecord, Record, RecordError};
