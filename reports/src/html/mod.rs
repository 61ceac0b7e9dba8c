//! `report.html`: one self-contained page that explains a run at a glance, drawn from its
//! trace (and, after a violation, the messages a replay kept about it).
//!
//! Top to bottom: the verdict, what went wrong and who did it, the reproduce command and every
//! property; each server's failover state over time with the fault windows behind it; the
//! violation explained (an ownership chart of its address and the messages about it as a
//! sequence diagram); a scrubber that shows both servers' bindings and the clients' view of
//! the violation's addresses at any instant; counts over time; what a passing run is worth
//! reading for (time in each state, waiting clients, pool exhaustion); and the event log.
//!
//! The page is a pure function of the trace: [`load`] reads it in two passes (the first finds
//! the violations, the second keeps a bounded selection, [`Selection`]), so a 10 000-client
//! day is rendered without holding its trace, and [`render`] draws it. Charts are inline SVG
//! drawn with plotters; the little JavaScript (scrubber, log filters) reads JSON embedded in
//! the page. Nothing is fetched from the network.

pub(crate) mod bands;
mod counts;
mod log;
pub(crate) mod violation;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::event::{Event, Record};
use crate::reader::{ReadError, Trace};
use crate::story::Subjects;
use crate::time::{fmt_ms, fmt_span};

/// How many events of each bulky kind (leases, losses, bindings, messages) the page keeps
/// beyond those about a violation's subjects: the log stays usable and the page a few MB.
pub const LOG_BULK_EVENTS: u64 = 1_500;
/// How many events about a violation's subjects the page keeps, per kind.
pub const SUBJECT_EVENTS: u64 = 20_000;
/// How many violations' subjects the page follows (a `--continue` run may have many).
pub const FOLLOWED_VIOLATIONS: usize = 5;

/// What the page keeps of a trace, and a tally of what it left out. Its [`Selection::keep`]
/// is the filter [`Trace::load_where`] applies in the second pass.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The followed violations' addresses and clients.
    pub subjects: Subjects,
    kept_bulk: BTreeMap<&'static str, u64>,
    kept_about: BTreeMap<&'static str, u64>,
    /// Events left out, by kind.
    pub left_out: BTreeMap<&'static str, u64>,
    /// Leases clients gave up, by why (every one, kept or not).
    pub lost_why: BTreeMap<String, u64>,
    /// `declined` events (ARP probes that found an address in use), every one.
    pub declined: u64,
    /// Leases clients accepted (every one).
    pub leases: u64,
}

impl Selection {
    /// A selection that follows `subjects`.
    pub fn new(subjects: Subjects) -> Selection {
        Selection {
            subjects,
            ..Selection::default()
        }
    }

    /// Whether the page keeps `r`; tallies it either way. Bounded: at most
    /// [`LOG_BULK_EVENTS`] bulky events per kind and [`SUBJECT_EVENTS`] per kind about the
    /// subjects; every other kind is rare (states, faults, properties) or sampled (counts).
    pub fn keep(&mut self, r: &Record) -> bool {
        match &r.event {
            Event::Lease { .. } => self.leases += 1,
            Event::Lost { why, .. } => *self.lost_why.entry(why.clone()).or_default() += 1,
            Event::Declined { .. } => self.declined += 1,
            _ => {}
        }
        let bulky = matches!(
            r.event,
            Event::Lease { .. }
                | Event::Lost { .. }
                | Event::Binding { .. }
                | Event::Declined { .. }
                | Event::Dhcp(_)
                | Event::Failover(_)
                | Event::ConnOpen { .. }
                | Event::ConnClose { .. }
        );
        if !bulky {
            return true;
        }
        let kind = r.event.kind();
        let about = !self.subjects.addresses.is_empty() && self.subjects.about(&r.event);
        let (tally, bound) = if about && !noisy(&r.event) {
            (&mut self.kept_about, SUBJECT_EVENTS)
        } else {
            (&mut self.kept_bulk, LOG_BULK_EVENTS)
        };
        let n = tally.entry(kind).or_default();
        if *n < bound {
            *n += 1;
            true
        } else {
            *self.left_out.entry(kind).or_default() += 1;
            false
        }
    }
}

/// Failover messages [`Subjects::about`] counts as about everything (the handshake, STATE,
/// CONTACT): a long run sends thousands of CONTACTs, so they share the bulk bound.
fn noisy(e: &Event) -> bool {
    match e {
        Event::Failover(m) => !matches!(m.msg.as_str(), "BNDUPD" | "BNDACK"),
        Event::ConnOpen { .. } | Event::ConnClose { .. } => true,
        _ => false,
    }
}

/// What a page is drawn from.
#[derive(Debug, Clone)]
pub struct Input {
    /// The trace, as [`Selection`] kept it.
    pub trace: Trace,
    /// The messages a replay kept about the violation (`messages.jsonl`; may be empty).
    pub messages: Vec<Record>,
    /// What the selection kept and left out.
    pub selection: Selection,
}

/// Read a trace (and the messages file, if given and present) for a page: one pass to find
/// the violations, one that keeps what the page shows.
pub fn load(trace_path: &Path, messages_path: Option<&Path>) -> Result<Input, ReadError> {
    let found = Trace::load_where(trace_path, |r| matches!(r.event, Event::Violation(_)))?;
    let mut subjects = Subjects::default();
    for (_, v) in found.violations().take(FOLLOWED_VIOLATIONS) {
        for a in &v.addresses {
            if !subjects.addresses.contains(a) {
                subjects.addresses.push(a.clone());
            }
        }
        for c in &v.clients {
            if !subjects.clients.contains(c) {
                subjects.clients.push(*c);
            }
        }
    }
    let mut selection = Selection::new(subjects);
    let trace = Trace::load_where(trace_path, |r| selection.keep(r))?;
    let messages = match messages_path {
        Some(p) if p.exists() => {
            let mut kept = Selection::new(selection.subjects.clone());
            let all = Trace::read_records(p)?;
            all.into_iter().filter(|r| kept.keep(r)).collect()
        }
        _ => Vec::new(),
    };
    Ok(Input {
        trace,
        messages,
        selection,
    })
}

/// Escape text for HTML.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON to embed in a `<script type="application/json">`: `</` cannot close the element.
pub(crate) fn embed_json(v: &serde_json::Value) -> String {
    v.to_string().replace("</", "<\\/")
}

/// When the run ended: its `end` record, else its last record.
pub(crate) fn end_ms(trace: &Trace) -> u64 {
    trace
        .records
        .iter()
        .rev()
        .find(|r| matches!(r.event, Event::End(_)))
        .or(trace.records.last())
        .map_or(0, |r| r.t_ms)
        .max(1)
}

/// Every message the page has: the replay's, and a full trace's own.
pub(crate) fn all_messages(input: &Input) -> Vec<&Record> {
    let mut all: Vec<&Record> = input
        .messages
        .iter()
        .chain(input.trace.records.iter().filter(|r| r.event.is_message()))
        .collect();
    all.sort_by_key(|r| r.t_ms);
    all.dedup_by(|a, b| a == b);
    all
}

/// The page for `input`. `reproduce` is the command line that reruns the run, if known.
pub fn render(input: &Input, reproduce: Option<&str>) -> String {
    let trace = &input.trace;
    let h = &trace.header;
    let end_at = end_ms(trace);
    let bands = bands::Bands::of(trace, end_at);
    let explained = violation::explain(input, &bands);
    let mut page = String::with_capacity(1 << 20);
    let _ = writeln!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} seed {} — dhcpfo report</title><style>{CSS}</style></head><body>",
        esc(&h.scenario),
        h.seed
    );
    page.push_str(&verdict(input, explained.as_ref(), reproduce, end_at));
    page.push_str("<section id=\"bands\"><h2>Failover state per server</h2>");
    page.push_str(&bands.svg(trace, end_at));
    page.push_str(&bands.legend());
    page.push_str("</section>\n");
    if let Some(x) = &explained {
        page.push_str(&x.html);
    }
    page.push_str(&log::scrubber(input, &bands, end_at));
    page.push_str(&counts::section(trace, end_at));
    page.push_str(&digest(input, &bands, end_at));
    page.push_str(&log::section(input, reproduce));
    let _ = writeln!(page, "<script>{}</script>\n</body></html>", log::JS);
    page
}

/// The top of the page: verdict, expectation, what went wrong, reproduce, properties, facts.
fn verdict(
    input: &Input,
    explained: Option<&violation::Explained>,
    reproduce: Option<&str>,
    end_at: u64,
) -> String {
    let trace = &input.trace;
    let h = &trace.header;
    let end = trace.end().cloned().unwrap_or_default();
    let (word, class) = match end.outcome.as_str() {
        "pass" => ("PASS", "pass"),
        "violation" => ("VIOLATION", "violation"),
        _ => ("UNFINISHED", "unfinished"),
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "<header id=\"verdict\" class=\"{class}\"><div class=\"word\">{word}</div><div>\
         <h1>{} <span class=\"seed\">seed {}</span></h1><p class=\"desc\">{}</p>",
        esc(&h.scenario),
        h.seed,
        esc(&h.description)
    );
    if end.matches {
        let _ = write!(
            s,
            "<p class=\"expect ok\">As the scenario expects ({}).</p>",
            esc(&h.expect)
        );
    } else {
        let _ = write!(
            s,
            "<p class=\"expect bad\">MISMATCH: the scenario expects {}. {}</p>",
            esc(&h.expect),
            esc(end.mismatch.as_deref().unwrap_or(""))
        );
    }
    if let Some(why) = &end.unfinished {
        let _ = write!(s, "<p class=\"expect bad\">Unfinished: {}</p>", esc(why));
    }
    s.push_str("</div></header>\n");
    if let Some(x) = explained {
        let _ = write!(s, "<p id=\"what\" class=\"what\">{}</p>", x.sentence);
    } else if end.outcome == "pass" {
        s.push_str(
            "<p id=\"what\" class=\"what okay\">Every property judged held. Below: how the \
             servers' states, leases and clients went over the run.</p>",
        );
    }
    if let Some(cmd) = reproduce {
        let _ = write!(
            s,
            "<p id=\"reproduce\">Reproduce: <code>{}</code></p>",
            esc(cmd)
        );
    }
    s.push_str(
        "<section id=\"properties\"><h2>Properties</h2><table class=\"props\">\
         <tr><th>property</th><th>status</th><th>basis</th></tr>",
    );
    for p in trace.properties() {
        let class = match p.status.as_str() {
            "held" => "held",
            "violated" => "violated",
            _ => "notjudged",
        };
        let _ = write!(
            s,
            "<tr class=\"{class}\"><td>{}</td><td class=\"status\">{}</td><td>{}</td></tr>",
            esc(&p.property),
            esc(&p.status),
            esc(&p.basis)
        );
    }
    s.push_str("</table>");
    let bugs = if h.bugs.is_empty() {
        String::new()
    } else {
        format!(" · bugs switched on: {}", esc(&h.bugs.join(", ")))
    };
    let rels: Vec<String> = h
        .relationships
        .iter()
        .map(|r| {
            format!(
                "{} ({} / {}, {}, MCLT {}, {})",
                r.name,
                r.primary,
                r.secondary,
                r.mode,
                fmt_span(r.mclt_ms),
                r.dialect
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "<p class=\"facts\">dhcpfo {} · {} clients · {} of virtual time (scheduled {}) · {} \
         simulator events · {} DHCP and {} failover messages · {} faults · {} leases · \
         relationship {}{bugs} · trace level {}</p></section>",
        esc(&h.dhcpfo_version),
        h.clients,
        fmt_span(end_at),
        fmt_span(h.duration_ms),
        end.events,
        end.dhcp_messages,
        end.failover_messages,
        end.faults,
        end.leases,
        esc(&rels.join(", ")),
        match h.level {
            crate::Level::Lean => "lean",
            crate::Level::Full => "full",
        }
    );
    s
}

/// What a passing run is worth reading for: time in each state, waiting clients, pool
/// exhaustion, declines and duplicates caught, rejected updates.
fn digest(input: &Input, bands: &bands::Bands, end_at: u64) -> String {
    let trace = &input.trace;
    let end = trace.end().cloned().unwrap_or_default();
    let mut s = String::from("<section id=\"digest\"><h2>The run in numbers</h2>");
    s.push_str(&bands.time_in_states(end_at));
    s.push_str(&counts::digest(trace));
    s.push_str("<ul class=\"facts\">");
    let sel = &input.selection;
    let lost: Vec<String> = sel
        .lost_why
        .iter()
        .map(|(w, n)| format!("{n} {}", esc(w)))
        .collect();
    let _ = write!(
        s,
        "<li>{} leases accepted by clients; leases given up: {}</li>",
        sel.leases.max(end.leases),
        if lost.is_empty() {
            "none".to_string()
        } else {
            lost.join(", ")
        }
    );
    let declines = sel.lost_why.get("Declined").copied().unwrap_or(0);
    let _ = write!(
        s,
        "<li>{declines} addresses declined by clients; {} duplicate grants caught by ARP \
         probes ({} probe events)</li>",
        end.duplicates_declined, sel.declined
    );
    let _ = write!(
        s,
        "<li>{} ACKs judged against the MCLT; {} leases checked in restarted servers' \
         databases</li>",
        end.mclt_checked, end.durable_checked
    );
    if !end.rejects.is_empty() {
        let list: Vec<String> = end
            .rejects
            .iter()
            .map(|(r, n)| format!("{n} × {}", esc(r)))
            .collect();
        let _ = write!(
            s,
            "<li>binding updates rejected by the partner: {}</li>",
            list.join(", ")
        );
    }
    let faults: Vec<String> = trace
        .records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Fault(f) => Some(format!("{} {}", fmt_ms(r.t_ms), esc(&f.text))),
            _ => None,
        })
        .collect();
    let _ = writeln!(
        s,
        "<li>faults: {}</li></ul></section>",
        if faults.is_empty() {
            "none".to_string()
        } else {
            faults.join("; ")
        }
    );
    s
}

const CSS: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1360px;padding:12px 20px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0}h2{font-size:17px;margin:22px 0 6px;border-bottom:1px solid #d0d7de;padding-bottom:3px}
h3{font-size:15px;margin:14px 0 4px}
header#verdict{display:flex;gap:18px;align-items:center;padding:12px 16px;border-radius:8px;border:2px solid}
header.violation{background:#fde8e8;border-color:#c62828}header.pass{background:#e6f4ea;border-color:#2e7d32}header.unfinished{background:#fff4e0;border-color:#e08a00}
header .word{font-size:34px;font-weight:800;letter-spacing:1px}
header.violation .word{color:#b71c1c}header.pass .word{color:#1b5e20}header.unfinished .word{color:#a65c00}
.seed{font-weight:400;color:#57606a}.desc{margin:2px 0;color:#333}
.expect{margin:2px 0;font-weight:600}.expect.ok{color:#1b5e20}.expect.bad{color:#b71c1c}
p.what{font-size:17px;margin:12px 0;padding:10px 14px;background:#fff8e1;border-left:6px solid #c62828}
p.what.okay{background:#f0f7f1;border-left-color:#2e7d32}
#reproduce code{background:#f6f8fa;border:1px solid #d0d7de;padding:3px 7px;border-radius:4px;font-size:13px;user-select:all}
table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
tr.violated .status{color:#fff;background:#c62828;font-weight:700}tr.held .status{color:#1b5e20;font-weight:600}tr.notjudged .status{color:#6e7781}
.facts{color:#444;font-size:13px}
svg{max-width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;margin:4px 0}
.sw{display:inline-block;width:14px;height:10px;margin-right:4px;border:1px solid #0003;vertical-align:middle}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:6px 16px}
.note{color:#57606a;font-size:12.5px}
#scrub input[type=range]{width:100%}
#scrub table td{font-family:ui-monospace,Menlo,monospace;font-size:12.5px}
.hold{color:#b71c1c;font-weight:700}
#log table{width:100%}#log td{font-family:ui-monospace,Menlo,monospace;font-size:12px;white-space:nowrap}
#log td.text{white-space:normal}
#log .controls{display:flex;gap:8px;flex-wrap:wrap;align-items:center;margin:6px 0}
tr.k-violation td{background:#fde8e8}tr.k-fault td{background:#f2f2f2}tr.k-state td{background:#eef5ff}
"#;

#[cfg(test)]
mod tests;
