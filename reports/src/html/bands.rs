//! State bands: each server's failover state over virtual time, one colour per state, with
//! the fault windows shaded behind and the violations marked on the time axis (Jepsen's
//! timeline habit).
//!
//! A server has one band per relationship it belongs to. Before a server boots it has no
//! band; a `boot` starts `startup`; a `down S` window (a crash) or a failed boot shows
//! `down` until the next boot.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::esc;
use crate::event::Event;
use crate::reader::Trace;
use crate::time::{fmt_ms, fmt_span};
use crate::timeline::short_state;

/// One band: a server in a relationship.
#[derive(Debug, Clone)]
pub struct Row {
    /// The server.
    pub server: String,
    /// The relationship ("" when the server has none).
    pub relationship: String,
    /// As the page names it.
    pub label: String,
    /// `(from_ms, to_ms, state)`, in order, not overlapping.
    pub spans: Vec<(u64, u64, String)>,
}

/// A fault window (or an instant fault, `from == to`).
#[derive(Debug, Clone)]
pub struct Window {
    /// When it opened.
    pub from_ms: u64,
    /// When it closed (the end of the run if it never did).
    pub to_ms: u64,
    /// The fault as the scenario writes it.
    pub text: String,
}

/// Every band and fault window of a run.
#[derive(Debug, Clone)]
pub struct Bands {
    /// The bands, in the header's server order.
    pub rows: Vec<Row>,
    /// The fault windows and instant faults, in order.
    pub windows: Vec<Window>,
    /// The violations: `(at_ms, property)`.
    pub violations: Vec<(u64, String)>,
}

impl Bands {
    /// The bands of `trace`, which ended at `end_ms`.
    pub fn of(trace: &Trace, end_ms: u64) -> Bands {
        let h = &trace.header;
        let several = h.relationships.len() > 1;
        let mut rows = Vec::new();
        for s in &h.servers {
            let rels: Vec<&str> = h
                .relationships
                .iter()
                .filter(|r| r.primary == s.name || r.secondary == s.name)
                .map(|r| r.name.as_str())
                .collect();
            let rels = if rels.is_empty() { vec![""] } else { rels };
            for r in rels {
                rows.push(Row {
                    server: s.name.clone(),
                    relationship: r.to_string(),
                    label: if several && !r.is_empty() {
                        format!("{} · {r}", s.name)
                    } else {
                        s.name.clone()
                    },
                    spans: Vec::new(),
                });
            }
        }
        let mut current: Vec<Option<(u64, String)>> = vec![None; rows.len()];
        let mut open: BTreeMap<String, (u64, String)> = BTreeMap::new();
        let mut windows = Vec::new();
        let mut violations = Vec::new();
        let mut set = |rows: &mut Vec<Row>, i: usize, t: u64, state: &str| {
            if let Some((since, was)) = current[i].take() {
                if was == state {
                    current[i] = Some((since, was));
                    return;
                }
                if t > since {
                    rows[i].spans.push((since, t, was));
                }
            }
            current[i] = Some((t, state.to_string()));
        };
        for r in &trace.records {
            let t = r.t_ms;
            match &r.event {
                Event::Boot { server } => {
                    for i in rows_of(&rows, server) {
                        set(&mut rows, i, t, "startup");
                    }
                    if let Some((from, text)) = open.remove(&format!("down {server}")) {
                        windows.push(Window {
                            from_ms: from,
                            to_ms: t,
                            text,
                        });
                    }
                }
                Event::BootFailed { server, .. } => {
                    for i in rows_of(&rows, server) {
                        set(&mut rows, i, t, "down");
                    }
                }
                Event::State {
                    server,
                    relationship,
                    to,
                    ..
                } => {
                    let exact: Vec<usize> = (0..rows.len())
                        .filter(|&i| {
                            rows[i].server == *server && rows[i].relationship == *relationship
                        })
                        .collect();
                    let which = if exact.is_empty() {
                        rows_of(&rows, server)
                    } else {
                        exact
                    };
                    for i in which {
                        set(&mut rows, i, t, to);
                    }
                }
                Event::Fault(f) => match &f.window {
                    Some(w) if w.opens => {
                        if let Some(server) = w.key.strip_prefix("down ") {
                            for i in rows_of(&rows, server) {
                                set(&mut rows, i, t, "down");
                            }
                        }
                        if let Some((from, text)) = open.remove(&w.key) {
                            // Opened again before it closed: the first window ends here.
                            windows.push(Window {
                                from_ms: from,
                                to_ms: t,
                                text,
                            });
                        }
                        open.insert(w.key.clone(), (t, f.text.clone()));
                    }
                    Some(w) => {
                        if let Some((from, text)) = open.remove(&w.key) {
                            windows.push(Window {
                                from_ms: from,
                                to_ms: t,
                                text: format!("{text} … {}", f.text),
                            });
                        } else {
                            windows.push(Window {
                                from_ms: t,
                                to_ms: t,
                                text: f.text.clone(),
                            });
                        }
                    }
                    None => windows.push(Window {
                        from_ms: t,
                        to_ms: t,
                        text: f.text.clone(),
                    }),
                },
                Event::Violation(v) => violations.push((t, v.property.clone())),
                _ => {}
            }
        }
        for (i, c) in current.into_iter().enumerate() {
            if let Some((since, was)) = c
                && end_ms > since
            {
                rows[i].spans.push((since, end_ms, was));
            }
        }
        for (_, (from, text)) in open {
            windows.push(Window {
                from_ms: from,
                to_ms: end_ms,
                text,
            });
        }
        windows.sort_by_key(|w| (w.from_ms, w.to_ms));
        Bands {
            rows,
            windows,
            violations,
        }
    }

    /// The state of band `row` at `t_ms`, if it had one.
    pub fn state_at<'r>(&self, row: &'r Row, t_ms: u64) -> Option<(u64, &'r str)> {
        row.spans
            .iter()
            .find(|(a, b, _)| *a <= t_ms && t_ms < *b)
            .or_else(|| row.spans.last().filter(|(_, b, _)| *b == t_ms))
            .map(|(a, _, s)| (*a, s.as_str()))
    }

    /// The states that appear, in first-appearance order.
    pub fn states(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.rows {
            for (_, _, s) in &r.spans {
                if !out.contains(&s.as_str()) {
                    out.push(s);
                }
            }
        }
        out
    }

    /// The bands as an inline SVG, with the data the scrubber needs to turn a click into a
    /// time.
    pub fn svg(&self, trace: &Trace, end_ms: u64) -> String {
        let _ = trace;
        const WIDTH: u32 = 1320;
        const LEFT: u32 = 120;
        const RIGHT: u32 = 56;
        let top = 34 + 14 * self.lanes_of_labels() as u32;
        let height = top + 44 * self.rows.len().max(1) as u32 + 40;
        let mut x_range = (0i32, 0i32);
        let svg = draw(WIDTH, height, |root| {
            let n = self.rows.len().max(1) as f64;
            let mut chart = ChartBuilder::on(&root)
                .margin_left(LEFT)
                .margin_right(RIGHT)
                .margin_top(top)
                .x_label_area_size(34)
                .build_cartesian_2d((0u64..end_ms).with_key_points(ticks(0, end_ms, 9)), 0f64..n)?;
            chart
                .configure_mesh()
                .disable_y_axis()
                .disable_y_mesh()
                .x_label_formatter(&|x| fmt_ms(*x))
                .label_style(("sans-serif", 12))
                .light_line_style(RGBColor(238, 238, 238))
                .draw()?;
            x_range = (
                chart.backend_coord(&(0, 0.0)).0,
                chart.backend_coord(&(end_ms, 0.0)).0,
            );
            // Fault windows, behind everything.
            let shade = RGBColor(90, 90, 90).mix(0.22).filled();
            for (k, w) in self.windows.iter().enumerate() {
                let lane = self.label_lane(k);
                let (x0, _) = chart.backend_coord(&(w.from_ms, 0.0));
                let label_y = 16 + 14 * lane as i32;
                if w.to_ms > w.from_ms {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(w.from_ms, 0.0), (w.to_ms, n)],
                        shade,
                    )))?;
                } else {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(w.from_ms, 0.0), (w.from_ms, n)],
                        RGBColor(90, 90, 90).stroke_width(1),
                    )))?;
                }
                root.draw(&Text::new(
                    format!("▮ {}", w.text),
                    (x0, label_y),
                    ("sans-serif", 12).into_font().color(&RGBColor(70, 70, 70)),
                ))?;
            }
            for (i, row) in self.rows.iter().enumerate() {
                let y0 = n - i as f64 - 0.8;
                let y1 = n - i as f64 - 0.2;
                for (a, b, state) in &row.spans {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(*a, y0), (*b, y1)],
                        colour(state).filled(),
                    )))?;
                    let (px0, py) = chart.backend_coord(&(*a, (y0 + y1) / 2.0));
                    let (px1, _) = chart.backend_coord(&(*b, y0));
                    let text = short_state(state);
                    if px1 - px0 > 8 * text.len() as i32 {
                        root.draw(&Text::new(
                            text.to_string(),
                            ((px0 + px1) / 2, py),
                            ("sans-serif", 12)
                                .into_font()
                                .color(&text_colour(state))
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                        ))?;
                    }
                }
                let (_, py) = chart.backend_coord(&(0, (y0 + y1) / 2.0));
                root.draw(&Text::new(
                    row.label.clone(),
                    (LEFT as i32 - 8, py),
                    ("sans-serif", 14)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Right, VPos::Center)),
                ))?;
            }
            for (t, property) in &self.violations {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(*t, 0.0), (*t, n)],
                    VIOLATION.stroke_width(3),
                )))?;
                let (x, y) = chart.backend_coord(&(*t, 0.0));
                root.draw(&Polygon::new(
                    vec![(x, y), (x - 7, y + 12), (x + 7, y + 12)],
                    VIOLATION.filled(),
                ))?;
                let (tx, h) = if x > WIDTH as i32 - 300 {
                    (x - 8, HPos::Right)
                } else {
                    (x + 8, HPos::Left)
                };
                let (_, top_y) = chart.backend_coord(&(*t, n));
                root.draw(&Text::new(
                    format!("✕ {property} {}", fmt_ms(*t)),
                    (tx, top_y - 8),
                    ("sans-serif", 13)
                        .into_font()
                        .color(&VIOLATION)
                        .pos(Pos::new(h, VPos::Center)),
                ))?;
            }
            Ok(())
        });
        format!(
            "<div class=\"scrubbable\" data-x0=\"{}\" data-x1=\"{}\" data-w=\"{WIDTH}\" \
             data-end=\"{end_ms}\" title=\"click to scrub to that instant\">{svg}</div>",
            x_range.0, x_range.1
        )
    }

    /// How many label lanes the fault windows need above the bands (labels of windows that
    /// start close together stack).
    fn lanes_of_labels(&self) -> usize {
        (0..self.windows.len())
            .map(|k| self.label_lane(k) + 1)
            .max()
            .unwrap_or(0)
    }

    /// A window's label lane: stacked under the labels of the windows just before it.
    fn label_lane(&self, k: usize) -> usize {
        k % 3
    }

    /// The legend: every state that appears, the fault shading, the violation mark.
    pub fn legend(&self) -> String {
        let mut s = String::from("<div class=\"legend\">");
        for state in self.states() {
            let RGBColor(r, g, b) = colour(state);
            let _ = write!(
                s,
                "<span><span class=\"sw\" style=\"background:rgb({r},{g},{b})\"></span>{}</span>",
                esc(state)
            );
        }
        s.push_str(
            "<span><span class=\"sw\" style=\"background:rgba(90,90,90,.25)\"></span>fault \
             window (a cut until its heal, a server down until it boots)</span><span><span \
             class=\"sw\" style=\"background:rgb(150,0,40)\"></span>violation</span></div>",
        );
        s
    }

    /// How long each band spent in each state, as a table.
    pub fn time_in_states(&self, end_ms: u64) -> String {
        let states = self.states();
        let mut s = String::from(
            "<h3>Time in each failover state</h3><table class=\"states\"><tr><th>server</th>",
        );
        for st in &states {
            let _ = write!(s, "<th>{}</th>", esc(st));
        }
        s.push_str("</tr>");
        for row in &self.rows {
            let _ = write!(s, "<tr><td>{}</td>", esc(&row.label));
            for st in &states {
                let ms: u64 = row
                    .spans
                    .iter()
                    .filter(|(_, _, x)| x == st)
                    .map(|(a, b, _)| b - a)
                    .sum();
                if ms == 0 {
                    s.push_str("<td></td>");
                } else {
                    let _ = write!(
                        s,
                        "<td>{} ({:.1}%)</td>",
                        fmt_span(ms),
                        100.0 * ms as f64 / end_ms.max(1) as f64
                    );
                }
            }
            s.push_str("</tr>");
        }
        s.push_str("</table>");
        s
    }
}

/// Round instants from `from_ms` to `to_ms` for a time axis: about `most`, a whole
/// number of seconds, minutes or hours apart.
pub(crate) fn ticks(from_ms: u64, to_ms: u64, most: u64) -> Vec<u64> {
    const STEPS_MS: [u64; 20] = [
        1, 10, 100, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
        900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000,
    ];
    let span = to_ms.saturating_sub(from_ms).max(1);
    let step = STEPS_MS
        .iter()
        .copied()
        .find(|s| span / s <= most)
        .unwrap_or(86_400_000);
    (from_ms.div_ceil(step)..=to_ms / step)
        .map(|k| k * step)
        .collect()
}

fn rows_of(rows: &[Row], server: &str) -> Vec<usize> {
    (0..rows.len())
        .filter(|&i| rows[i].server == server)
        .collect()
}

/// The colour of violation marks.
pub const VIOLATION: RGBColor = RGBColor(150, 0, 40);

/// One colour per failover state (draft-12 names, lower case), and `down`.
pub fn colour(state: &str) -> RGBColor {
    match state {
        "normal" => RGBColor(76, 175, 80),
        "communications-interrupted" | "comm-interrupted" => RGBColor(255, 193, 7),
        "partner-down" => RGBColor(244, 81, 30),
        "startup" => RGBColor(189, 189, 189),
        "recover" => RGBColor(30, 136, 229),
        "recover-wait" => RGBColor(100, 181, 246),
        "recover-done" => RGBColor(144, 202, 249),
        "potential-conflict" => RGBColor(142, 36, 170),
        "resolution-interrupted" => RGBColor(186, 104, 200),
        "conflict-done" => RGBColor(206, 147, 216),
        "paused" => RGBColor(121, 85, 72),
        "shutdown" => RGBColor(84, 110, 122),
        "down" => RGBColor(33, 33, 33),
        _ => RGBColor(205, 220, 57),
    }
}

fn text_colour(state: &str) -> RGBColor {
    match state {
        "down" | "potential-conflict" | "paused" | "shutdown" | "recover" => WHITE,
        _ => BLACK,
    }
}

/// Draw an SVG of `width` × `height` with `f`; a chart that fails says so in its place.
pub(crate) fn draw(
    width: u32,
    height: u32,
    f: impl FnOnce(
        DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error + '_>>,
) -> String {
    let mut svg = String::new();
    let failed = {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|()| f(root.clone()).map_err(|e| e.to_string()))
            .and_then(|()| root.present().map_err(|e| e.to_string()));
        drawn.err()
    };
    match failed {
        Some(e) => format!("<p class=\"note\">(chart not drawn: {})</p>", esc(&e)),
        None => svg,
    }
}
