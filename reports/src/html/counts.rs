//! Counts over time, from the `counts` samples: leases and free addresses per server, clients
//! bound and waiting, DHCP rates, unacknowledged binding updates; and the numbers a passing
//! run is read for (waiting clients, pool exhaustion).

use std::fmt::Write as _;

use plotters::prelude::*;

use super::bands::{VIOLATION, draw, ticks};
use super::esc;
use crate::event::{Counts, Event};
use crate::reader::Trace;
use crate::time::{fmt_ms, fmt_span};

/// The most points a chart's series draws: longer series are bucketed (each bucket keeps its
/// largest value, so a spike is never averaged away).
pub const MAX_POINTS: usize = 600;

/// A named series of `(t_ms, value)`.
struct Series {
    name: String,
    colour: RGBColor,
    points: Vec<(u64, f64)>,
}

fn samples(trace: &Trace) -> Vec<(u64, &Counts)> {
    trace
        .records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Counts(c) => Some((r.t_ms, c)),
            _ => None,
        })
        .collect()
}

/// Bucket `points` down to at most [`MAX_POINTS`], keeping each bucket's largest value.
fn downsample(points: Vec<(u64, f64)>) -> Vec<(u64, f64)> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let per = points.len().div_ceil(MAX_POINTS);
    points
        .chunks(per)
        .map(|c| {
            let top = c
                .iter()
                .copied()
                .fold(f64::MIN, |m, (_, v)| if v > m { v } else { m });
            (c[0].0, top)
        })
        .collect()
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
];

fn light(c: RGBColor) -> RGBColor {
    let RGBColor(r, g, b) = c;
    let l = |x: u8| (u16::from(x) + 2 * 255).div_ceil(3) as u8;
    RGBColor(l(r), l(g), l(b))
}

/// The counts section: five small charts.
pub fn section(trace: &Trace, end_ms: u64) -> String {
    let s = samples(trace);
    let mut out = String::from("<section id=\"counts\"><h2>Counts over time</h2>");
    if s.is_empty() {
        out.push_str("<p class=\"note\">No counts samples in this trace.</p></section>\n");
        return out;
    }
    let servers: Vec<String> = trace
        .header
        .servers
        .iter()
        .map(|x| x.name.clone())
        .collect();
    let per_server = |f: &dyn Fn(&crate::event::ServerCounts) -> f64, light_colour: bool| {
        servers
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let points = s
                    .iter()
                    .filter_map(|(t, c)| {
                        c.servers
                            .iter()
                            .find(|x| x.server == *name)
                            .map(|x| (*t, f(x)))
                    })
                    .collect();
                let c = PALETTE[i % PALETTE.len()];
                Series {
                    name: name.clone(),
                    colour: if light_colour { light(c) } else { c },
                    points,
                }
            })
            .collect::<Vec<_>>()
    };
    let violations: Vec<u64> = trace.violations().map(|(t, _)| t).collect();
    let mut charts = Vec::new();
    charts.push(chart(
        "Active leases per server",
        per_server(&|x| f64::from(x.active), false),
        end_ms,
        &violations,
    ));
    let mut free = per_server(&|x| f64::from(x.free), false);
    for f in &mut free {
        f.name = format!("{} FREE", f.name);
    }
    let mut backup = per_server(&|x| f64::from(x.backup), true);
    for b in &mut backup {
        b.name = format!("{} BACKUP", b.name);
    }
    free.extend(backup);
    charts.push(chart(
        "FREE and BACKUP per server",
        free,
        end_ms,
        &violations,
    ));
    let clients = vec![
        Series {
            name: "bound".into(),
            colour: PALETTE[2],
            points: s
                .iter()
                .map(|(t, c)| (*t, f64::from(c.clients_bound)))
                .collect(),
        },
        Series {
            name: "waiting".into(),
            colour: RGBColor(214, 39, 40),
            points: s
                .iter()
                .map(|(t, c)| (*t, f64::from(c.clients_waiting)))
                .collect(),
        },
    ];
    charts.push(chart(
        "Clients bound vs waiting",
        clients,
        end_ms,
        &violations,
    ));
    let rate = |f: &dyn Fn(&Counts) -> u64| {
        let mut prev = 0u64;
        s.iter()
            .map(|(t, c)| {
                let dt_s = (t.saturating_sub(prev)).max(1) as f64 / 1000.0;
                prev = *t;
                (*t, f(c) as f64 / dt_s)
            })
            .collect::<Vec<_>>()
    };
    let rates = vec![
        Series {
            name: "DHCP requests/s".into(),
            colour: PALETTE[0],
            points: rate(&|c| c.dhcp_requests),
        },
        Series {
            name: "DHCP replies/s".into(),
            colour: PALETTE[1],
            points: rate(&|c| c.dhcp_replies),
        },
        Series {
            name: "failover messages/s".into(),
            colour: PALETTE[3],
            points: rate(&|c| c.failover_messages),
        },
    ];
    charts.push(chart(
        "Message rates (per second)",
        rates,
        end_ms,
        &violations,
    ));
    charts.push(chart(
        "Unacknowledged binding updates per server",
        per_server(&|x| f64::from(x.unacked), false),
        end_ms,
        &violations,
    ));
    out.push_str("<div class=\"grid\">");
    for c in charts {
        let _ = write!(out, "<div>{c}</div>");
    }
    let _ = writeln!(
        out,
        "</div><p class=\"note\">{} samples, one every {}; a chart draws at most {MAX_POINTS} \
         points (each the largest of its bucket). Red lines: violations.</p></section>",
        s.len(),
        fmt_span(trace.header.sample_ms)
    );
    out
}

fn chart(title: &str, series: Vec<Series>, end_ms: u64, violations: &[u64]) -> String {
    let series: Vec<Series> = series
        .into_iter()
        .map(|s| Series {
            points: downsample(s.points),
            ..s
        })
        .collect();
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    let svg = draw(650, 250, |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 15))
            .margin(8)
            .margin_right(44)
            .x_label_area_size(26)
            .y_label_area_size(56)
            .build_cartesian_2d(
                (0u64..end_ms).with_key_points(ticks(0, end_ms, 5)),
                0f64..top,
            )?;
        chart
            .configure_mesh()
            .y_labels(5)
            .x_label_formatter(&|x| fmt_ms(*x))
            .y_label_formatter(&|y| {
                if *y >= 10.0 || *y == 0.0 {
                    format!("{y:.0}")
                } else {
                    format!("{y:.1}")
                }
            })
            .label_style(("sans-serif", 11))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()?;
        for t in violations {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(*t, 0.0), (*t, top)],
                VIOLATION.stroke_width(2),
            )))?;
        }
        for s in &series {
            let c = s.colour;
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 11))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .draw()?;
        Ok(())
    });
    format!("<figure title=\"{}\">{svg}</figure>", esc(title))
}

/// Waiting clients and pool exhaustion, from the samples.
pub fn digest(trace: &Trace) -> String {
    let s = samples(trace);
    let mut out = String::from("<h3>Clients and pools</h3><ul class=\"facts\">");
    if s.is_empty() {
        out.push_str("<li>no counts samples</li></ul>");
        return out;
    }
    let step = trace.header.sample_ms.max(1);
    let most = s.iter().map(|(_, c)| c.clients_waiting).max().unwrap_or(0);
    let waiting_ms: u64 = s
        .iter()
        .map(|(_, c)| u64::from(c.clients_waiting) * step)
        .sum();
    let waited = s.iter().filter(|(_, c)| c.clients_waiting > 0).count() as u64;
    let most_at = s
        .iter()
        .find(|(_, c)| c.clients_waiting == most)
        .map_or(0, |(t, _)| *t);
    let bound = s.iter().map(|(_, c)| c.clients_bound).max().unwrap_or(0);
    if most == 0 {
        let _ = write!(
            out,
            "<li>No client was seen waiting for an address at any sample; at most {bound} \
             clients bound at once.</li>"
        );
    } else {
        let _ = write!(
            out,
            "<li>Clients waited for an address in {waited} of {} samples (about {}); at most \
             {most} at once (at {}); about {} of client waiting in all. At most {bound} clients \
             bound at once.</li>",
            s.len(),
            fmt_span(waited * step),
            fmt_ms(most_at),
            fmt_span(waiting_ms)
        );
    }
    for server in &trace.header.servers {
        let mut empty = 0u64;
        let mut first = None;
        let mut least = u32::MAX;
        for (t, c) in &s {
            if let Some(x) = c.servers.iter().find(|x| x.server == server.name && x.up) {
                let left = x.free + x.backup;
                least = least.min(left);
                if left == 0 {
                    empty += 1;
                    first.get_or_insert(*t);
                }
            }
        }
        match first {
            Some(t) => {
                let _ = write!(
                    out,
                    "<li class=\"hold\">{}: pool exhausted (FREE + BACKUP = 0) in {empty} samples \
                     (about {}), first at {}.</li>",
                    esc(&server.name),
                    fmt_span(empty * step),
                    fmt_ms(t)
                );
            }
            None if least != u32::MAX => {
                let _ = write!(
                    out,
                    "<li>{}: never exhausted; at least {least} FREE + BACKUP addresses left at \
                     every sample.</li>",
                    esc(&server.name)
                );
            }
            None => {}
        }
    }
    out.push_str("</ul>");
    out
}
