//! q's temporal values: the 2000.01.01 epoch, and their text as `.j.j` writes it.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds from the Unix epoch to q's epoch, 2000-01-01T00:00:00 UTC.
pub const Q_EPOCH_UNIX_SECS: i64 = 946_684_800;
const DAY_NANOS: i64 = 86_400_000_000_000;

/// Now as a q timestamp (UTC nanoseconds since 2000.01.01), like `.z.p`.
pub fn now_timestamp() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64 - Q_EPOCH_UNIX_SECS) * 1_000_000_000 + d.subsec_nanos() as i64
}

/// Civil date (year, month, day) of a day count since 2000.01.01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm, shifted from 1970 to 2000 (10957 days apart).
    let z = days + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// `2021-07-20`
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `18:26:17.904115000` for nanoseconds within a day.
fn format_clock_nanos(n: i64) -> String {
    let (s, ns) = (n / 1_000_000_000, n % 1_000_000_000);
    format!("{:02}:{:02}:{:02}.{:09}", s / 3600, s / 60 % 60, s % 60, ns)
}

/// `2021-07-20T18:26:17.904115000`, the form `.j.j` gives a timestamp.
pub fn format_timestamp(nanos: i64) -> String {
    let days = nanos.div_euclid(DAY_NANOS);
    let rest = nanos.rem_euclid(DAY_NANOS);
    format!("{}T{}", format_date(days), format_clock_nanos(rest))
}

/// `2021-07-20T18:26:17.904` for a q datetime (fractional days).
pub fn format_datetime(days: f64) -> String {
    let ms = (days * 86_400_000.0).round() as i64;
    let d = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}",
        format_date(d),
        s / 3600,
        s / 60 % 60,
        s % 60,
        milli
    )
}

/// `2021-07` for a q month (months since 2000.01).
pub fn format_month(months: i64) -> String {
    let y = 2000 + months.div_euclid(12);
    let m = months.rem_euclid(12) + 1;
    format!("{y:04}-{m:02}")
}

/// `0D18:26:17.904115000` for a q timespan.
pub fn format_timespan(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs() as i64;
    format!(
        "{sign}{}D{}",
        n / DAY_NANOS,
        format_clock_nanos(n % DAY_NANOS)
    )
}

/// `18:26:17.904` for a q time (milliseconds).
pub fn format_time(ms: i64) -> String {
    let (s, milli) = (ms / 1000, ms % 1000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        milli
    )
}

/// `18:26` for a q minute.
pub fn format_minute(m: i64) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// `18:26:17` for a q second.
pub fn format_second(s: i64) -> String {
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_json_does() {
        // 2021.07.20D18:26:17.904115000
        let days = 7871; // 2021.07.20 - 2000.01.01
        let n = days * DAY_NANOS + ((18 * 3600 + 26 * 60 + 17) * 1_000_000_000) + 904_115_000;
        assert_eq!(format_timestamp(n), "2021-07-20T18:26:17.904115000");
        assert_eq!(format_date(-1), "1999-12-31");
        assert_eq!(format_date(0), "2000-01-01");
        assert_eq!(format_date(60), "2000-03-01");
    }
}
