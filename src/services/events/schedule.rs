//! Schedule expressions as EventBridge takes them: `rate(<n> <unit>)` (minute, minutes, hour,
//! hours, day, days; singular for 1, plural otherwise) and `cron(<minutes> <hours>
//! <day-of-month> <month> <day-of-week> <year>)`, six fields with one of day-of-month and
//! day-of-week `?`.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Rate(Duration),
    Cron(Vec<String>),
}

impl Schedule {
    /// The schedule `text` names; the error is the expression, which is not one.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        Self::read(text).ok_or_else(|| text.to_owned())
    }

    fn read(text: &str) -> Option<Schedule> {
        if let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            let mut parts = inner.split_whitespace();
            let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
                return None;
            };
            let n: u64 = n.parse().ok()?;
            let seconds = match (n, unit) {
                (0, _) => return None,
                (1, "minute") | (2.., "minutes") => 60,
                (1, "hour") | (2.., "hours") => 3_600,
                (1, "day") | (2.., "days") => 86_400,
                _ => return None,
            };
            return Some(Schedule::Rate(Duration::from_secs(n * seconds)));
        }
        if let Some(inner) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
            let fields: Vec<String> = inner.split_whitespace().map(str::to_owned).collect();
            if fields.len() != 6 {
                return None;
            }
            // One of day-of-month and day-of-week must be `?`.
            if (fields[2] == "?") == (fields[4] == "?") {
                return None;
            }
            let allowed = |f: &str| {
                f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ",-*/?#".contains(c))
            };
            if !fields.iter().all(|f| allowed(f)) || years(&fields[5]).is_none() {
                return None;
            }
            cron_of(&fields)?;
            return Some(Schedule::Cron(fields));
        }
        None
    }
}

/// The five fields croner reads (the year is ours to check).
fn cron_of(fields: &[String]) -> Option<croner::Cron> {
    let pattern = fields[..5].join(" ");
    croner::Cron::new(&pattern)
        .with_alternative_weekdays()
        .parse()
        .ok()
}

/// Which years a year field lets through: `*`, `2026`, `2026-2028`, `2026/2`, and lists of them.
fn years(field: &str) -> Option<Vec<(i32, i32, i32)>> {
    field
        .split(',')
        .map(|part| {
            if part == "*" {
                return Some((1970, 2199, 1));
            }
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, s.parse::<i32>().ok().filter(|s| *s > 0)?),
                None => (part, 1),
            };
            let (from, to) = match range.split_once('-') {
                Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                None if step > 1 => (range.parse().ok()?, 2199),
                None => (range.parse().ok()?, range.parse().ok()?),
            };
            (from <= to).then_some((from, to, step))
        })
        .collect()
}

impl Schedule {
    /// The first time after `after` (epoch seconds) this schedule fires.
    pub fn next_after(&self, after: f64) -> Option<f64> {
        match self {
            Schedule::Rate(d) => Some(after + d.as_secs_f64()),
            Schedule::Cron(fields) => {
                use chrono::Datelike as _;
                let cron = cron_of(fields)?;
                let allowed = years(&fields[5])?;
                let mut at = chrono::DateTime::from_timestamp(after.floor() as i64, 0)?;
                // Whole years may not match: look ahead a bounded number of occurrences.
                for _ in 0..5_000 {
                    at = cron.find_next_occurrence(&at, false).ok()?;
                    let y = at.year();
                    if allowed
                        .iter()
                        .any(|(from, to, step)| y >= *from && y <= *to && (y - from) % step == 0)
                    {
                        return Some(at.timestamp() as f64);
                    }
                    if allowed.iter().all(|(_, to, _)| y > *to) {
                        return None;
                    }
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_crons_as_eventbridge_takes_them() {
        assert_eq!(
            Schedule::parse("rate(5 minutes)"),
            Ok(Schedule::Rate(Duration::from_secs(300)))
        );
        assert_eq!(
            Schedule::parse("rate(1 hour)"),
            Ok(Schedule::Rate(Duration::from_secs(3_600)))
        );
        for bad in [
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(0 days)",
            "rate(x days)",
            "every day",
            "cron(0 12 * * ? *",
            "cron(0 12 * * * *)",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
        assert!(Schedule::parse("cron(0 12 * * ? *)").is_ok());
        assert!(Schedule::parse("cron(15 10 ? * 6L 2022-2023)").is_ok());
        assert!(Schedule::parse("cron(99 12 * * ? *)").is_err());
    }

    fn at(text: &str) -> f64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp() as f64
    }

    #[test]
    fn crons_fire_when_the_user_guide_says() {
        // Every day at 12:00 UTC.
        let noon = Schedule::parse("cron(0 12 * * ? *)").unwrap();
        assert_eq!(
            noon.next_after(at("2026-12-03T07:00:00Z")),
            Some(at("2026-12-03T12:00:00Z"))
        );
        assert_eq!(
            noon.next_after(at("2026-12-03T12:00:00Z")),
            Some(at("2026-12-04T12:00:00Z"))
        );
        // 10:15 on the last Friday of every month (Quartz weekdays: 6 is Friday).
        let last_friday = Schedule::parse("cron(15 10 ? * 6L *)").unwrap();
        assert_eq!(
            last_friday.next_after(at("2026-12-01T00:00:00Z")),
            Some(at("2026-12-25T10:15:00Z"))
        );
        // Monday to Friday at 18:00, only in 2027.
        let weekdays = Schedule::parse("cron(0 18 ? * MON-FRI 2027)").unwrap();
        assert_eq!(
            weekdays.next_after(at("2026-12-03T00:00:00Z")),
            Some(at("2027-01-01T18:00:00Z"))
        );
        // Past its years it never fires.
        let over = Schedule::parse("cron(0 0 1 1 ? 2020)").unwrap();
        assert_eq!(over.next_after(at("2026-12-03T00:00:00Z")), None);
        // Rates count from the time given.
        let rate = Schedule::parse("rate(2 hours)").unwrap();
        assert_eq!(rate.next_after(100.0), Some(7_300.0));
    }
}
