//! The violation explained: one sentence that says which rule broke and who broke it, an
//! ownership chart of the violation's address (each client's lease as the client saw it, each
//! server's binding, what each partner acknowledged and the MCLT after it), and the messages
//! about it as a message-sequence (Lamport) diagram.
//!
//! "Who broke it" is the server that sent the offending ACK: the last DHCPACK of the address
//! to one of the violation's clients at or before the violation, read from the messages (a
//! full trace's, or those a replay kept in `messages.jsonl`). Without messages the sentence
//! falls back to the server whose database bound the address last.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::bands::{Bands, VIOLATION, colour, draw, ticks};
use super::{Input, all_messages, esc};
use crate::event::{CarriedBinding, DhcpMessage, Event, Record, Violation};
use crate::time::{fmt_ms, fmt_span};

/// A violation, explained.
#[derive(Debug, Clone)]
pub struct Explained {
    /// What went wrong and who did it, in one or two sentences (HTML).
    pub sentence: String,
    /// The section: sentence, ownership chart, sequence diagram.
    pub html: String,
}

/// What each property promises, as the rule a violation broke.
pub fn rule(property: &str) -> &'static str {
    match property {
        "no-duplicate-lease" => "no two clients may hold an unexpired lease on the same address",
        "mclt" => {
            "a server never grants a lease that ends later than the expiration its partner has \
             acknowledged plus the MCLT"
        }
        "durability" => "no lease acknowledged to a client may be lost by a crash",
        "lease-stability" => "a client keeps its address through the failure of one server",
        "liveness" => {
            "after the faults heal, both servers reach NORMAL and agree, and every client that \
             wants an address gets one"
        }
        "pool-balance" => {
            "neither partner may be left with no address to give while the pool still has free \
             addresses"
        }
        "duplicate-grant-declined" => "no client's ARP probe may find its offered address in use",
        "update-validation" => {
            "a binding update that lacks what its binding-status requires is rejected (draft-12 \
             §7.1.3, reason 3), never applied"
        }
        _ => "the property must hold",
    }
}

/// One client's holding of an address: from a lease until it was given up or ran out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The client.
    pub client: u32,
    /// When it first accepted the lease.
    pub from_ms: u64,
    /// When it stopped holding it (gave it up, or the lease ran out).
    pub to_ms: u64,
    /// When it accepted each lease (the first and every renewal).
    pub renewals: Vec<u64>,
}

/// Each client's holdings of `address`, from `lease` and `lost` events, in order.
pub fn holdings(records: &[Record], address: &str) -> Vec<Holding> {
    let mut open: BTreeMap<u32, Holding> = BTreeMap::new();
    let mut done = Vec::new();
    for r in records {
        match &r.event {
            Event::Lease {
                client,
                address: a,
                until_ms,
            } if a == address => {
                let h = open.entry(*client).or_insert(Holding {
                    client: *client,
                    from_ms: r.t_ms,
                    to_ms: *until_ms,
                    renewals: Vec::new(),
                });
                if h.to_ms < r.t_ms {
                    // The last lease ran out before this one: a new holding.
                    let old = std::mem::replace(
                        h,
                        Holding {
                            client: *client,
                            from_ms: r.t_ms,
                            to_ms: *until_ms,
                            renewals: Vec::new(),
                        },
                    );
                    done.push(old);
                }
                h.to_ms = *until_ms;
                h.renewals.push(r.t_ms);
            }
            Event::Lost {
                client, address: a, ..
            } if a == address => {
                if let Some(mut h) = open.remove(client) {
                    h.to_ms = h.to_ms.min(r.t_ms);
                    done.push(h);
                }
            }
            _ => {}
        }
    }
    done.extend(open.into_values());
    done.sort_by_key(|h| (h.from_ms, h.client));
    done
}

/// A binding update about the address, and whether (and when) the partner acknowledged it.
#[derive(Debug, Clone)]
struct Update {
    sent_ms: u64,
    from: String,
    to: String,
    binding: CarriedBinding,
    acked_ms: Option<u64>,
    rejected: Option<u8>,
}

fn updates(messages: &[&Record], address: &str) -> Vec<Update> {
    let mut out: Vec<Update> = Vec::new();
    for r in messages {
        let Event::Failover(m) = &r.event else {
            continue;
        };
        match m.msg.as_str() {
            "BNDUPD" => {
                for b in m.bindings.iter().filter(|b| b.address == address) {
                    out.push(Update {
                        sent_ms: r.t_ms,
                        from: m.from.clone(),
                        to: m.to.clone(),
                        binding: b.clone(),
                        acked_ms: None,
                        rejected: None,
                    });
                }
            }
            "BNDACK" if m.bindings.iter().any(|b| b.address == address) => {
                // The update it answers: the latest one of that transaction to its sender.
                let xid = m.xid;
                if let Some(u) = out.iter_mut().rev().find(|u| {
                    u.from == m.to && u.to == m.from && u.acked_ms.is_none() && u.rejected.is_none()
                        && messages.iter().any(|q| {
                            q.t_ms == u.sent_ms
                                && matches!(&q.event, Event::Failover(f) if f.xid == xid && f.msg == "BNDUPD")
                        })
                }) {
                    match m.reject {
                        None => u.acked_ms = Some(r.t_ms),
                        Some(code) => u.rejected = Some(code),
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Explain the first violation of the run, if there is one.
pub fn explain(input: &Input, bands: &Bands) -> Option<Explained> {
    let (at, v) = input.trace.violations().next()?;
    let v = v.clone();
    let messages = all_messages(input);
    let address = v.addresses.first().cloned().unwrap_or_default();
    let mclt_ms = input
        .trace
        .header
        .relationships
        .first()
        .map_or(0, |r| r.mclt_ms);
    let chaddrs = client_of_chaddr(&messages);
    let offending = offending_ack(&messages, at, &address, &v);
    let sentence = sentence(
        input, bands, at, &v, &address, offending, &messages, &chaddrs,
    );
    let mut html = String::new();
    let _ = write!(
        html,
        "<section id=\"violation\"><h2>The violation explained: {} at {}</h2>\
         <p>As the checker recorded it: {} (what went wrong and who did it: at the top of the \
         page).</p>",
        esc(&v.property),
        fmt_ms(at),
        esc(&v.detail)
    );
    if !address.is_empty() {
        let ups = updates(&messages, &address);
        let _ = write!(html, "<h3>Who held {} when</h3>", esc(&address));
        html.push_str(&ownership(
            input, at, &v, &address, &ups, mclt_ms, offending, &chaddrs,
        ));
        html.push_str(
            "<p class=\"note\">Client rows: the lease as the client saw it (a tick at every \
             renewal). Server rows: the binding in that server's database. \"acknowledged\" rows: \
             each binding update about the address and when the partner acknowledged it (hollow: \
             never acknowledged), with the lease end it carried and the MCLT after it (amber).</p>",
        );
    }
    let _ = write!(
        html,
        "<h3>The messages about it</h3>{}",
        sequence(input, bands, at, &v, &address, &messages, offending)
    );
    html.push_str("</section>\n");
    Some(Explained { sentence, html })
}

/// Each client's hardware address, from the DHCP messages that name both.
fn client_of_chaddr(messages: &[&Record]) -> BTreeMap<String, u32> {
    messages
        .iter()
        .filter_map(|r| match &r.event {
            Event::Dhcp(m) => m.client.map(|c| (m.chaddr.clone(), c)),
            _ => None,
        })
        .collect()
}

/// The ACK that made the violation: the last DHCPACK of `address` to one of its clients (the
/// first named, if it has one) at or before `at`.
fn offending_ack<'a>(
    messages: &[&'a Record],
    at: u64,
    address: &str,
    v: &Violation,
) -> Option<(u64, &'a DhcpMessage)> {
    let acks = || {
        messages.iter().rev().filter_map(move |r| match &r.event {
            Event::Dhcp(m)
                if r.t_ms <= at && m.msg == "ACK" && m.address.as_deref() == Some(address) =>
            {
                Some((r.t_ms, m))
            }
            _ => None,
        })
    };
    let first = v.clients.first().copied();
    acks()
        .find(|(_, m)| first.is_some() && m.client == first)
        .or_else(|| acks().find(|(_, m)| m.client.is_some_and(|c| v.clients.contains(&c))))
}

#[allow(clippy::too_many_arguments)]
fn sentence(
    input: &Input,
    bands: &Bands,
    at: u64,
    v: &Violation,
    address: &str,
    offending: Option<(u64, &DhcpMessage)>,
    messages: &[&Record],
    chaddrs: &BTreeMap<String, u32>,
) -> String {
    let _ = chaddrs;
    let mut s = format!(
        "<b>{}</b> broke at {} (the rule: {}).",
        esc(&v.property),
        fmt_ms(at),
        esc(rule(&v.property))
    );
    let state_of = |server: &str, t: u64| {
        bands
            .rows
            .iter()
            .find(|r| r.server == server)
            .and_then(|r| bands.state_at(r, t))
            .map(|(since, st)| (since, st.to_string()))
    };
    let Some((t, ack)) = offending else {
        // No messages: the server whose database bound the address last.
        let who = input
            .trace
            .records
            .iter()
            .rev()
            .find_map(|r| match &r.event {
                Event::Binding {
                    server,
                    address: a,
                    state,
                    ..
                } if r.t_ms <= at && a == address && state == "ACTIVE" => Some(server.clone()),
                _ => None,
            });
        let _ = write!(s, " {}", esc(&v.detail));
        if let Some(who) = who {
            let _ = write!(
                s,
                " The last server to bind {} before it was <b>{}</b> (no messages were kept to \
                 say more).",
                esc(address),
                esc(&who)
            );
        }
        return s;
    };
    let who = &ack.from;
    let client = ack
        .client
        .map_or("a client".to_string(), |c| format!("client {c}"));
    let _ = write!(s, " <b>{} broke it</b>:", esc(who));
    if let Some((since, st)) = state_of(who, t) {
        let _ = write!(s, " in {} (since {}", esc(&st), fmt_ms(since));
        // The fault that put it there, if one did at that instant (an operator's command).
        if let Some(f) = input.trace.records.iter().find_map(|r| match &r.event {
            Event::Fault(f) if r.t_ms == since && f.servers.iter().any(|x| x == who) => Some(f),
            _ => None,
        }) {
            let _ = write!(s, ", on <code>{}</code>", esc(&f.text));
        }
        s.push(')');
    }
    let _ = write!(
        s,
        " it ACKed {} to <b>{}</b> at {}",
        esc(address),
        esc(&client),
        fmt_ms(t)
    );
    // The other client, and the grant it held the address by.
    let other = v.clients.iter().copied().find(|c| Some(*c) != ack.client);
    let mut other_server = None;
    if let Some(o) = other {
        let held = holdings(&input.trace.records, address)
            .into_iter()
            .rfind(|h| h.client == o && h.from_ms <= t);
        let grant = messages.iter().rev().find_map(|r| match &r.event {
            Event::Dhcp(m)
                if r.t_ms <= t
                    && m.msg == "ACK"
                    && m.client == Some(o)
                    && m.address.as_deref() == Some(address) =>
            {
                Some((r.t_ms, m))
            }
            _ => None,
        });
        let _ = write!(s, ", while <b>client {o}</b> still held it");
        if let Some(h) = held {
            let _ = write!(s, " until {}", fmt_ms(h.to_ms));
        }
        if let Some((gt, g)) = grant {
            let _ = write!(s, " from {}'s ACK at {}", esc(&g.from), fmt_ms(gt));
            if g.from != *who {
                other_server = Some(g.from.clone());
            }
        }
    }
    s.push('.');
    // What the offender knew of the address: the last update about it it acknowledged.
    let ups = updates(messages, address);
    let known = ups
        .iter()
        .rfind(|u| u.to == *who && u.acked_ms.is_some_and(|a| a <= t));
    if let Some(u) = known {
        let _ = write!(
            s,
            " The last update about it that {} had acknowledged (at {}) said {}",
            esc(who),
            fmt_ms(u.acked_ms.unwrap_or(0)),
            esc(u.binding.state.as_deref().unwrap_or("?"))
        );
        if let Some(e) = u.binding.ends_ms.filter(|e| *e > 0) {
            let _ = write!(s, ", ending {}", fmt_ms(e));
        }
        s.push(';');
        let lost: Vec<&Update> = ups
            .iter()
            .filter(|x| {
                x.to == *who && x.sent_ms > u.sent_ms && x.sent_ms <= t && x.acked_ms.is_none()
            })
            .collect();
        match lost.first() {
            Some(x) => {
                let _ = write!(
                    s,
                    " {}'s update of {} ({}) never reached it.",
                    esc(&x.from),
                    fmt_ms(x.sent_ms),
                    esc(x.binding.state.as_deref().unwrap_or("?"))
                );
            }
            None => s.push_str(" nothing newer reached it."),
        }
    }
    if let Some(os) = other_server
        && let Some((_, ost)) = state_of(&os, t)
        && let Some((_, st)) = state_of(who, t)
    {
        if st == "partner-down" && ost != "down" {
            let _ = write!(
                s,
                " {} was not down: it was in {} and kept serving. PARTNER-DOWN lets a server \
                 reuse its partner's addresses after the MCLT only because the partner is down.",
                esc(&os),
                esc(&ost)
            );
        } else {
            let _ = write!(s, " {} was in {} then.", esc(&os), esc(&ost));
        }
    }
    s
}

/// A binding's state in one server's database: from, to, state, client.
type BindingSpan = (u64, u64, String, Option<String>);

/// The ownership chart of `address`.
#[allow(clippy::too_many_arguments)]
fn ownership(
    input: &Input,
    at: u64,
    v: &Violation,
    address: &str,
    ups: &[Update],
    mclt_ms: u64,
    offending: Option<(u64, &DhcpMessage)>,
    chaddrs: &BTreeMap<String, u32>,
) -> String {
    let records = &input.trace.records;
    let all = holdings(records, address);
    // The holdings that matter: those of the violation's clients that reach its time, then
    // any other client's that overlap them (at most four clients).
    let mut clients: Vec<u32> = v.clients.clone();
    let relevant: Vec<&Holding> = all
        .iter()
        .filter(|h| {
            h.from_ms <= at + mclt_ms
                && h.to_ms + mclt_ms >= at.saturating_sub(4 * mclt_ms.max(60_000))
        })
        .collect();
    for h in &relevant {
        if !clients.contains(&h.client) && clients.len() < 4 {
            clients.push(h.client);
        }
    }
    let shown: Vec<&Holding> = relevant
        .iter()
        .copied()
        .filter(|h| clients.contains(&h.client))
        .collect();
    let mut t0 = shown.iter().map(|h| h.from_ms).min().unwrap_or(at);
    let mut t1 = shown.iter().map(|h| h.to_ms).max().unwrap_or(at).max(at);
    if let Some(u) = ups.iter().rfind(|u| u.sent_ms <= t0) {
        t0 = t0.min(u.sent_ms);
    }
    t1 = t1.max(at + mclt_ms / 2);
    let pad = (t1 - t0) / 20 + 1;
    let (t0, t1) = (t0.saturating_sub(pad), t1 + pad);
    let servers: Vec<String> = input
        .trace
        .header
        .servers
        .iter()
        .map(|s| s.name.clone())
        .collect();
    // Rows: clients, then each server's binding, then what each server acknowledged.
    let mut labels: Vec<String> = clients.iter().map(|c| format!("client {c}")).collect();
    labels.extend(servers.iter().map(|s| format!("{s}'s binding")));
    labels.extend(servers.iter().map(|s| format!("{s} acknowledged")));
    let n = labels.len();
    let row_y = |i: usize| (n - i) as f64 - 0.5;
    let client_colour = |k: usize| {
        [
            RGBColor(31, 119, 180),
            RGBColor(255, 127, 14),
            RGBColor(44, 160, 44),
            RGBColor(148, 103, 189),
        ][k % 4]
    };
    // Binding spans per server.
    let mut binding_spans: Vec<Vec<BindingSpan>> = vec![Vec::new(); servers.len()];
    for (k, s) in servers.iter().enumerate() {
        let mut last: Option<(u64, String, Option<String>)> = None;
        for r in records {
            if let Event::Binding {
                server,
                address: a,
                state,
                chaddr,
                ..
            } = &r.event
                && server == s
                && a == address
            {
                if let Some((from, st, c)) = last.take() {
                    binding_spans[k].push((from, r.t_ms, st, c));
                }
                last = Some((r.t_ms, state.clone(), chaddr.clone()));
            }
        }
        if let Some((from, st, c)) = last {
            binding_spans[k].push((from, t1.max(from), st, c));
        }
    }
    let who_of = |chaddr: &Option<String>| -> String {
        match chaddr {
            Some(c) => match chaddrs.get(c) {
                Some(n) => format!("client {n}"),
                None => c.clone(),
            },
            None => String::new(),
        }
    };
    draw(1320, 60 + 34 * n as u32 + 40, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin_left(170)
            .margin_right(24)
            .margin_top(24)
            .x_label_area_size(30)
            .build_cartesian_2d((t0..t1).with_key_points(ticks(t0, t1, 9)), 0f64..n as f64)?;
        chart
            .configure_mesh()
            .disable_y_axis()
            .disable_y_mesh()
            .x_label_formatter(&|x| fmt_ms(*x))
            .label_style(("sans-serif", 12))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()?;
        let text = |s: String, x: i32, y: i32, size: u32, c: RGBColor, h: HPos| {
            Text::new(
                s,
                (x, y),
                ("sans-serif", size)
                    .into_font()
                    .color(&c)
                    .pos(Pos::new(h, VPos::Center)),
            )
        };
        for (i, l) in labels.iter().enumerate() {
            let (_, y) = chart.backend_coord(&(t0, row_y(i)));
            root.draw(&text(l.clone(), 162, y, 13, BLACK, HPos::Right))?;
        }
        // The overlap of the violation's clients, behind everything.
        let held: Vec<&&Holding> = shown
            .iter()
            .filter(|h| h.from_ms <= at && h.to_ms >= at)
            .collect();
        if held.len() >= 2 {
            let until = held.iter().map(|h| h.to_ms).min().unwrap_or(at);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(at, 0.0), (until.max(at + 1), n as f64)],
                VIOLATION.mix(0.12).filled(),
            )))?;
        }
        for h in &shown {
            let Some(i) = clients.iter().position(|c| *c == h.client) else {
                continue;
            };
            let y = row_y(i);
            let c = client_colour(i);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(h.from_ms.max(t0), y - 0.3), (h.to_ms.min(t1), y + 0.3)],
                c.mix(0.75).filled(),
            )))?;
            for t in &h.renewals {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(*t, y - 0.38), (*t, y + 0.38)],
                    BLACK.stroke_width(1),
                )))?;
            }
            let (x1, py) = chart.backend_coord(&(h.to_ms.min(t1), y));
            root.draw(&text(
                format!("until {}", fmt_ms(h.to_ms)),
                x1 + 4,
                py,
                11,
                RGBColor(60, 60, 60),
                HPos::Left,
            ))?;
        }
        for (k, spans) in binding_spans.iter().enumerate() {
            let y = row_y(clients.len() + k);
            for (a, b, st, c) in spans {
                if *b < t0 || *a > t1 {
                    continue;
                }
                let fill = match st.as_str() {
                    "ACTIVE" => {
                        let idx = c
                            .as_ref()
                            .and_then(|c| chaddrs.get(c))
                            .and_then(|n| clients.iter().position(|x| x == n));
                        idx.map_or(RGBColor(120, 120, 120), client_colour)
                    }
                    "FREE" => RGBColor(225, 225, 225),
                    "BACKUP" => RGBColor(200, 215, 235),
                    _ => RGBColor(235, 225, 200),
                };
                chart.draw_series(std::iter::once(Rectangle::new(
                    [((*a).max(t0), y - 0.3), ((*b).min(t1), y + 0.3)],
                    fill.mix(0.55).filled(),
                )))?;
                let (px0, py) = chart.backend_coord(&((*a).max(t0), y));
                let (px1, _) = chart.backend_coord(&((*b).min(t1), y));
                let label = format!("{st} {}", who_of(c));
                if px1 - px0 > 7 * label.len() as i32 {
                    root.draw(&text(label, px0 + 4, py, 11, BLACK, HPos::Left))?;
                }
            }
        }
        for (k, s) in servers.iter().enumerate() {
            let y = row_y(clients.len() + servers.len() + k);
            let mine: Vec<&Update> = ups.iter().filter(|u| u.to == *s).collect();
            // Of the updates before the chart's start, only the last acknowledged one matters.
            let before = mine
                .iter()
                .rposition(|u| u.acked_ms.is_some_and(|a| a < t0));
            for (j, u) in mine.iter().enumerate() {
                let shown_at = u.acked_ms.unwrap_or(u.sent_ms);
                if shown_at > t1 || (shown_at < t0 && Some(j) != before) {
                    continue;
                }
                if let (Some(ack), Some(e)) = (u.acked_ms, u.binding.ends_ms.filter(|e| *e > 0)) {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(ack.max(t0), y - 0.12), (e.clamp(t0, t1), y + 0.12)],
                        RGBColor(120, 120, 120).filled(),
                    )))?;
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [
                            (e.clamp(t0, t1), y - 0.25),
                            ((e + mclt_ms).clamp(t0, t1), y + 0.25),
                        ],
                        RGBColor(255, 193, 7).mix(0.6).filled(),
                    )))?;
                }
                let (px, py) = chart.backend_coord(&(shown_at.max(t0), y));
                let style = if u.acked_ms.is_some() {
                    RGBColor(60, 60, 60).filled()
                } else {
                    RGBColor(60, 60, 60).stroke_width(2)
                };
                root.draw(&Circle::new((px, py), 5, style))?;
                let mut label = format!(
                    "{} {}",
                    u.binding.state.as_deref().unwrap_or("?"),
                    who_of(&u.binding.chaddr)
                );
                match (u.acked_ms, u.rejected) {
                    (_, Some(code)) => {
                        label = format!("{label} from {}, rejected ({code})", u.from)
                    }
                    (None, None) => label = format!("{label} from {}, never acknowledged", u.from),
                    (Some(a), None) if a < t0 => {
                        label = format!("{label} from {}, acknowledged at {}", u.from, fmt_ms(a));
                    }
                    _ => {}
                }
                // An update from before the chart's start is drawn at its edge: its label goes
                // under the row, clear of the updates inside the chart.
                let dy = if shown_at < t0 { 11 } else { -11 };
                root.draw(&text(
                    label,
                    px + 8,
                    py + dy,
                    11,
                    RGBColor(60, 60, 60),
                    HPos::Left,
                ))?;
            }
        }
        let (x, y) = chart.backend_coord(&(at, n as f64));
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(at, 0.0), (at, n as f64)],
            VIOLATION.stroke_width(2),
        )))?;
        root.draw(&text(
            format!("✕ {} {}", v.property, fmt_ms(at)),
            x + 4,
            y - 10,
            12,
            VIOLATION,
            HPos::Left,
        ))?;
        if let Some((t, m)) = offending {
            let i = m
                .client
                .and_then(|c| clients.iter().position(|x| *x == c))
                .unwrap_or(0);
            let (px, py) = chart.backend_coord(&(t, row_y(i)));
            root.draw(&Polygon::new(
                vec![(px, py - 9), (px + 8, py), (px, py + 9), (px - 8, py)],
                VIOLATION.filled(),
            ))?;
            root.draw(&text(
                format!("ACK from {}", m.from),
                px - 12,
                py - 14,
                12,
                VIOLATION,
                HPos::Right,
            ))?;
        }
        Ok(())
    })
}

/// The most rows the sequence diagram shows (the last ones before the violation).
pub const SEQUENCE_ROWS: usize = 40;

/// The messages about the violation, and the context around them, as a Lamport diagram.
fn sequence(
    input: &Input,
    bands: &Bands,
    at: u64,
    v: &Violation,
    address: &str,
    messages: &[&Record],
    offending: Option<(u64, &DhcpMessage)>,
) -> String {
    let _ = bands;
    let servers: Vec<String> = input
        .trace
        .header
        .servers
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let about_address = |b: &[CarriedBinding]| b.iter().any(|b| b.address == address);
    // The rows: DHCP about the address or the violation's clients, binding updates about the
    // address, connections closing and opening, and the trace's faults and state changes.
    let mut rows: Vec<&Record> = messages
        .iter()
        .copied()
        .filter(|r| r.t_ms <= at)
        .filter(|r| match &r.event {
            Event::Dhcp(m) => {
                m.address.as_deref() == Some(address)
                    || m.client.is_some_and(|c| v.clients.contains(&c))
            }
            Event::Failover(m) => about_address(&m.bindings),
            Event::ConnOpen { .. } | Event::ConnClose { .. } => true,
            _ => false,
        })
        .chain(input.trace.records.iter().filter(|r| {
            r.t_ms <= at
                && matches!(
                    r.event,
                    Event::Fault(_)
                        | Event::State { .. }
                        | Event::Boot { .. }
                        | Event::Violation(_)
                )
        }))
        .collect();
    rows.sort_by_key(|r| (r.t_ms, !r.event.is_message()));
    if rows.len() > SEQUENCE_ROWS {
        rows.drain(..rows.len() - SEQUENCE_ROWS);
    }
    if !rows.iter().any(|r| r.event.is_message()) {
        return "<p class=\"note\">No messages about it were kept: rerun with \
                <code>--full-trace</code> (or <code>dhcpfo replay DIR/repro.yaml \
                --full-trace</code>) to see them.</p>"
            .to_string();
    }
    let mut clients: Vec<u32> = v.clients.clone();
    for r in &rows {
        if let Event::Dhcp(m) = &r.event
            && let Some(c) = m.client
            && !clients.contains(&c)
            && clients.len() < 5
        {
            clients.push(c);
        }
    }
    let mut lanes: Vec<String> = clients.iter().map(|c| format!("client {c}")).collect();
    lanes.extend(servers.iter().cloned());
    const LEFT: i32 = 130;
    const WIDTH: i32 = 1320;
    const ROW: i32 = 24;
    const TOP: i32 = 40;
    let lane_x =
        |i: usize| LEFT + 60 + i as i32 * (WIDTH - LEFT - 120) / (lanes.len() as i32 - 1).max(1);
    let lane_of = |name: &str, client: Option<u32>| -> Option<usize> {
        if let Some(i) = servers.iter().position(|s| s == name) {
            return Some(clients.len() + i);
        }
        if name.starts_with("client ") || name.starts_with("relay ") {
            return client.and_then(|c| clients.iter().position(|x| *x == c));
        }
        None
    };
    let height = TOP + ROW * rows.len() as i32 + 20;
    let svg = draw(WIDTH as u32, height as u32, |root| {
        let font = |size: u32, c: RGBColor, h: HPos| {
            ("sans-serif", size)
                .into_font()
                .color(&c)
                .pos(Pos::new(h, VPos::Center))
        };
        for (i, l) in lanes.iter().enumerate() {
            let x = lane_x(i);
            root.draw(&Text::new(
                l.clone(),
                (x, 14),
                font(14, BLACK, HPos::Center),
            ))?;
            root.draw(&PathElement::new(
                vec![(x, 26), (x, height - 6)],
                RGBColor(180, 180, 180).stroke_width(1),
            ))?;
        }
        for (k, r) in rows.iter().enumerate() {
            let y = TOP + ROW * k as i32 + ROW / 2;
            root.draw(&Text::new(
                fmt_ms(r.t_ms),
                (LEFT - 10, y),
                font(11, RGBColor(90, 90, 90), HPos::Right),
            ))?;
            let arrow = |from: usize, to: Option<usize>, label: String, c: RGBColor, bold: bool| {
                (from, to, label, c, bold)
            };
            let drawn = match &r.event {
                Event::Dhcp(m) => {
                    let from = lane_of(&m.from, m.client);
                    let to = if m.to == "broadcast" {
                        // A broadcast reaches every server: draw it to the farthest.
                        Some(lanes.len() - 1)
                    } else {
                        lane_of(&m.to, m.client)
                    };
                    let mut label = m.msg.clone();
                    if let Some(a) = &m.address {
                        label.push_str(&format!(" {a}"));
                    }
                    if let Some(l) = m.lease_s {
                        label.push_str(&format!(" {}", fmt_span(u64::from(l) * 1000)));
                    }
                    if m.to == "broadcast" {
                        label.push_str(" (broadcast)");
                    }
                    let bad = offending.is_some_and(|(t, o)| t == r.t_ms && std::ptr::eq(o, m));
                    from.map(|f| {
                        arrow(
                            f,
                            to,
                            label,
                            if bad { VIOLATION } else { RGBColor(40, 40, 40) },
                            bad,
                        )
                    })
                }
                Event::Failover(m) => {
                    let mut label = format!("{} xid {}", m.msg, m.xid);
                    for b in m.bindings.iter().filter(|b| b.address == address) {
                        if let Some(st) = &b.state {
                            label.push_str(&format!(" {} {st}", b.address));
                        }
                        if let Some(e) = b.ends_ms.filter(|e| *e > 0) {
                            label.push_str(&format!(" ends {}", fmt_ms(e)));
                        }
                    }
                    if let Some(code) = m.reject {
                        label.push_str(&format!(" REJECT {code}"));
                    }
                    lane_of(&m.from, None).map(|f| {
                        arrow(f, lane_of(&m.to, None), label, RGBColor(25, 90, 160), false)
                    })
                }
                _ => None,
            };
            if let Some((from, to, label, c, bold)) = drawn {
                let x0 = lane_x(from);
                let x1 = to.map_or(x0 + 40, lane_x);
                let dir = if x1 >= x0 { 1 } else { -1 };
                root.draw(&PathElement::new(
                    vec![(x0, y + 4), (x1, y + 4)],
                    c.stroke_width(if bold { 3 } else { 1 }),
                ))?;
                root.draw(&Polygon::new(
                    vec![(x1, y + 4), (x1 - dir * 8, y), (x1 - dir * 8, y + 8)],
                    c.filled(),
                ))?;
                root.draw(&Text::new(
                    label,
                    ((x0 + x1) / 2, y - 5),
                    font(if bold { 12 } else { 11 }, c, HPos::Center),
                ))?;
                continue;
            }
            // A note: a state change at its server's lane, a fault or a connection across.
            let (text, lane, fill) = match &r.event {
                Event::State { server, to, .. } => (
                    format!("{server} → {to}"),
                    lane_of(server, None),
                    colour(to),
                ),
                Event::Boot { server } => (
                    format!("{server} boots"),
                    lane_of(server, None),
                    colour("startup"),
                ),
                Event::Fault(f) => (format!("fault: {}", f.text), None, RGBColor(220, 220, 220)),
                Event::ConnClose { conn, by, .. } => (
                    format!("{by} closes failover connection {conn}"),
                    lane_of(by, None),
                    RGBColor(230, 230, 230),
                ),
                Event::ConnOpen {
                    dialer, acceptor, ..
                } => (
                    format!("{dialer} connects to {acceptor}"),
                    lane_of(dialer, None),
                    RGBColor(230, 230, 230),
                ),
                Event::Violation(x) => (
                    format!("✕ VIOLATION {}", x.property),
                    None,
                    RGBColor(253, 200, 200),
                ),
                _ => continue,
            };
            let (x0, x1) = match lane {
                Some(i) => {
                    let x1 = (lane_x(i) + 110).min(WIDTH - 4);
                    (x1 - 220, x1)
                }
                None => (LEFT, WIDTH - 10),
            };
            root.draw(&Rectangle::new(
                [(x0, y - 9), (x1, y + 9)],
                fill.mix(0.7).filled(),
            ))?;
            root.draw(&Text::new(
                text,
                ((x0 + x1) / 2, y),
                font(12, BLACK, HPos::Center),
            ))?;
        }
        Ok(())
    });
    format!(
        "{svg}<p class=\"note\">The last {} messages and events before the violation, one row \
         each, in the order they were sent (the time on the left). Red: the offending ACK.</p>",
        rows.len()
    )
}
