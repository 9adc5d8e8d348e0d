//! `docs/JSON.md` as a checker: the events it describes, their keys and
//! types, and a check of any line a subcommand prints against them.

use std::collections::BTreeMap;

use serde_json::Value;

/// The events of `docs/JSON.md`: for each, its keys and their types.
pub struct Described(BTreeMap<String, Vec<(String, String)>>);

impl Described {
    /// Reads `docs/JSON.md`.
    pub fn load() -> Described {
        let doc = std::fs::read_to_string(super::repo("docs/JSON.md")).expect("docs/JSON.md");
        let mut events = BTreeMap::new();
        let mut current: Option<String> = None;
        for line in doc.lines() {
            if let Some(name) = line.strip_prefix("### `").and_then(|rest| rest.strip_suffix('`')) {
                events.insert(name.to_owned(), Vec::new());
                current = Some(name.to_owned());
            } else if line.starts_with("## ") {
                current = None;
            } else if let (Some(event), Some(row)) = (&current, line.strip_prefix("| `")) {
                let mut cells = row.split('|').map(str::trim);
                let key = cells.next().unwrap().trim_end_matches('`').to_owned();
                let kind = cells.next().unwrap_or_else(|| panic!("{event}.{key}: no type")).to_owned();
                events.get_mut(event).unwrap().push((key, kind));
            }
        }
        assert!(events.len() > 30, "docs/JSON.md describes {} events", events.len());
        Described(events)
    }

    /// The events described.
    pub fn events(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }

    /// Checks one line of `--json` output; says what is wrong.
    pub fn check(&self, line: &str) -> Result<String, String> {
        let value: Value = serde_json::from_str(line).map_err(|err| format!("not JSON ({err}): {line}"))?;
        let object = value.as_object().ok_or_else(|| format!("not an object: {line}"))?;
        let event = object.get("event").and_then(Value::as_str).ok_or_else(|| format!("no \"event\": {line}"))?;
        let keys = self.0.get(event).ok_or_else(|| format!("event {event:?} is not in docs/JSON.md: {line}"))?;
        for (key, value) in object.iter().filter(|(key, _)| *key != "event") {
            let (_, kind) = keys
                .iter()
                .find(|(k, _)| k == key)
                .ok_or_else(|| format!("{event}.{key} is not in docs/JSON.md: {line}"))?;
            if !has_type(value, kind) {
                return Err(format!("{event}.{key} should be {kind}, is {value}: {line}"));
            }
        }
        if let Some((key, _)) = keys.iter().find(|(key, _)| !object.contains_key(key)) {
            return Err(format!("{event}.{key} is missing: {line}"));
        }
        Ok(event.to_owned())
    }

    /// Checks every line of `output`; returns the events seen, in order.
    pub fn check_all(&self, output: &str) -> Vec<String> {
        output.lines().map(|line| self.check(line).unwrap_or_else(|wrong| panic!("{wrong}"))).collect()
    }
}

fn has_type(value: &Value, kind: &str) -> bool {
    if let Some(kind) = kind.strip_suffix(" or null") {
        return value.is_null() || has_type(value, kind);
    }
    match kind {
        "string" => value.is_string(),
        "integer" => value.is_u64() || value.is_i64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "mac" => value.as_str().is_some_and(|s| s.parse::<whohas::EthernetAddress>().is_ok()),
        "ipv4" => value.as_str().is_some_and(|s| s.parse::<std::net::Ipv4Addr>().is_ok()),
        "ipv6" => value.as_str().is_some_and(|s| s.parse::<std::net::Ipv6Addr>().is_ok()),
        "ip" => value.as_str().is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
        "bytes" => {
            value.get("text").is_some_and(Value::is_string)
                && value
                    .get("hex")
                    .and_then(Value::as_str)
                    .is_some_and(|hex| hex.chars().all(|c| c.is_ascii_hexdigit()))
        }
        other => panic!("docs/JSON.md: unknown type {other:?}"),
    }
}
