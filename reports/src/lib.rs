//! dhcpfo-reports: the run trace's event model (the contract between a run and everything
//! after it, DESIGN.md), its writer and reader, and the renderers that read it: the compact
//! terminal timeline, the HTML report (`report.html`), and (to come) the Perfetto trace.
//!
//! The simulator writes; everything here reads. Nothing in this crate knows the engine: a
//! trace names servers, relationships, states and messages as text, so a report is a pure
//! function of the trace file.

pub mod event;
pub mod html;
pub mod perfetto;
pub mod reader;
pub mod story;
pub mod time;
pub mod timeline;
pub mod writer;

pub use event::{Event, Level, Record, SCHEMA};
pub use reader::Trace;
pub use writer::TraceWriter;
