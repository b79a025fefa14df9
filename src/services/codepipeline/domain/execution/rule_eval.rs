//! What a condition's rule decides. VariableCheck and DeploymentWindow are evaluated here
//! (the window against the engine clock, in UTC); the other rule providers (CloudWatchAlarm,
//! CodeBuild, Commands, LambdaInvoke) pass unless a fault makes them fail or hang.

use std::collections::BTreeMap;

use chrono::{Datelike, Timelike};

#[derive(Debug, Clone, PartialEq)]
pub enum RuleOutcome {
    Pass(String),
    Fail(String),
    /// Keeps the condition in progress until it is overridden.
    Hang,
}

pub fn evaluate(provider: &str, config: &BTreeMap<String, String>, now: f64) -> RuleOutcome {
    let get = |k: &str| config.get(k).map(String::as_str).unwrap_or_default();
    match provider {
        "VariableCheck" => {
            let (variable, value) = (get("Variable"), get("Value"));
            let passed = match get("Operator") {
                "EQ" => variable == value,
                "NE" => variable != value,
                "CONTAINS" => variable.contains(value),
                "MATCHES" => match regex::Regex::new(&format!("^(?:{value})$")) {
                    Ok(re) => re.is_match(variable),
                    Err(e) => {
                        return RuleOutcome::Fail(format!("The pattern {value} is not valid: {e}"))
                    }
                },
                other => {
                    return RuleOutcome::Fail(format!(
                        "Operator {other} is not EQ, NE, CONTAINS or MATCHES"
                    ))
                }
            };
            let verdict = format!("'{variable}' {} '{value}'", get("Operator"));
            if passed {
                RuleOutcome::Pass(format!("Variable check passed: {verdict}"))
            } else {
                RuleOutcome::Fail(format!("Variable check failed: {verdict}"))
            }
        }
        "DeploymentWindow" => match cron_matches(get("Cron"), now) {
            Ok(true) => {
                RuleOutcome::Pass("The current time is inside the deployment window".to_owned())
            }
            Ok(false) => {
                RuleOutcome::Fail("The current time is outside the deployment window".to_owned())
            }
            Err(e) => RuleOutcome::Fail(e),
        },
        other => RuleOutcome::Pass(format!("{other} rule passed")),
    }
}

const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

fn number(text: &str, names: &[&str], base: u32) -> Option<u32> {
    text.parse().ok().or_else(|| {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(text))
            .map(|i| i as u32 + base)
    })
}

/// One cron field (`*`, `?`, `5`, `1-5`, `MON-FRI`, `*/15`, `0,30`) against a value. AWS's cron
/// (six fields with a year, `?` for "no specific day", day-of-week 1-7 from Sunday) is not the
/// `cron` crate's format, so these few lines are kept rather than translated into it.
fn field_matches(field: &str, value: u32, names: &[&str], base: u32) -> Result<bool, String> {
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .map_err(|_| format!("'{part}' has a bad step"))?
                    .max(1),
            ),
            None => (part, 1),
        };
        let (low, high) = match range {
            "*" | "?" => (0, u32::MAX),
            r => match r.split_once('-') {
                Some((a, b)) => (
                    number(a, names, base).ok_or_else(|| format!("'{a}' is not a cron value"))?,
                    number(b, names, base).ok_or_else(|| format!("'{b}' is not a cron value"))?,
                ),
                None => {
                    let n = number(r, names, base)
                        .ok_or_else(|| format!("'{r}' is not a cron value"))?;
                    (n, if step > 1 { u32::MAX } else { n })
                }
            },
        };
        if value >= low && value <= high && (value - low.min(value)).is_multiple_of(step) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `now` (epoch seconds, UTC) falls in a minute the cron expression names. Takes AWS's
/// six fields (minutes hours day-of-month month day-of-week year) or five, optionally wrapped
/// in `cron(...)`. Day of week counts SUN as 1, as AWS does.
pub fn cron_matches(expression: &str, now: f64) -> Result<bool, String> {
    let inner = expression
        .trim()
        .trim_start_matches("cron(")
        .trim_end_matches(')');
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if !(5..=6).contains(&fields.len()) {
        return Err(format!(
            "'{expression}' is not a cron expression of 5 or 6 fields"
        ));
    }
    let t = chrono::DateTime::from_timestamp(now as i64, 0)
        .ok_or("the engine clock is out of range")?;
    let dow = t.weekday().num_days_from_sunday() + 1;
    let checks = [
        field_matches(fields[0], t.minute(), &[], 0)?,
        field_matches(fields[1], t.hour(), &[], 0)?,
        field_matches(fields[2], t.day(), &[], 0)?,
        field_matches(fields[3], t.month(), &MONTHS, 1)?,
        field_matches(fields[4], dow, &DAYS, 1)?,
        fields
            .get(5)
            .map_or(Ok(true), |y| field_matches(y, t.year() as u32, &[], 0))?,
    ];
    Ok(checks.iter().all(|c| *c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn variable_checks() {
        let eq = config(&[("Variable", "main"), ("Value", "main"), ("Operator", "EQ")]);
        assert!(matches!(
            evaluate("VariableCheck", &eq, 0.0),
            RuleOutcome::Pass(_)
        ));
        let ne = config(&[("Variable", "main"), ("Value", "main"), ("Operator", "NE")]);
        assert!(matches!(
            evaluate("VariableCheck", &ne, 0.0),
            RuleOutcome::Fail(_)
        ));
        let m = config(&[
            ("Variable", "release/2"),
            ("Value", "release/.*"),
            ("Operator", "MATCHES"),
        ]);
        assert!(matches!(
            evaluate("VariableCheck", &m, 0.0),
            RuleOutcome::Pass(_)
        ));
    }

    #[test]
    fn deployment_windows() {
        // 2026-11-23 is a Monday; 14:05 UTC.
        let monday_1405 = 1_795_443_900.0;
        assert_eq!(
            cron_matches("cron(* 9-17 ? * MON-FRI *)", monday_1405),
            Ok(true)
        );
        assert_eq!(cron_matches("* 9-12 ? * MON-FRI *", monday_1405), Ok(false));
        assert_eq!(cron_matches("* * ? * SAT-SUN *", monday_1405), Ok(false));
        assert_eq!(cron_matches("*/5 14 * NOV ? 2026", monday_1405), Ok(true));
        assert!(cron_matches("nonsense", monday_1405).is_err());
    }
}
