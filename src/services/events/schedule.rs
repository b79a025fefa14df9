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
            if !fields.iter().all(|f| allowed(f)) {
                return None;
            }
            return Some(Schedule::Cron(fields));
        }
        None
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
    }
}
