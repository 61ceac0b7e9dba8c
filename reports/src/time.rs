//! The one time format people read: a time relative to the run's start, `+1h20m00.007s`.

/// `ms` since the run's start as people read it: `+7.250s`, `+4m05.000s`, `+1h20m00.007s`,
/// `+51h00m00.000s` (hours are not folded into days: a multi-day run reads the same way).
pub fn fmt_ms(ms: u64) -> String {
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if h > 0 {
        format!("+{h}h{m:02}m{s:02}.{milli:03}s")
    } else if m > 0 {
        format!("+{m}m{s:02}.{milli:03}s")
    } else {
        format!("+{s}.{milli:03}s")
    }
}

/// A span as people read it: `90s` → `1m30s`, `3h`, `250ms`.
pub fn fmt_span(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || milli > 0 {
        if milli > 0 {
            out.push_str(&format!("{s}.{milli:03}s"));
        } else {
            out.push_str(&format!("{s}s"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_from_the_largest_unit_down() {
        assert_eq!(fmt_ms(0), "+0.000s");
        assert_eq!(fmt_ms(7_250), "+7.250s");
        assert_eq!(fmt_ms(245_000), "+4m05.000s");
        assert_eq!(fmt_ms(4_800_007), "+1h20m00.007s");
        assert_eq!(fmt_ms(183_600_000), "+51h00m00.000s");
        assert_eq!(fmt_span(250), "250ms");
        assert_eq!(fmt_span(90_000), "1m30s");
        assert_eq!(fmt_span(3 * 3_600_000), "3h");
        assert_eq!(fmt_span(1_500), "1.500s");
    }
}
