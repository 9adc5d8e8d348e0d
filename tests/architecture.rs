//! The shape of the workspace, checked: no import circle between the
//! modules of any crate, and no driver crate depending on the protocol
//! core (drivers depend on `whohas-link` only, as embassy's drivers depend
//! on `embassy-net-driver`; the embassy adapter, which is a driver both
//! ways, too).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level modules of the crate at `src` and the modules each one
/// names through `crate::` (tests and comments aside).
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = vec![src.to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let relative = path.strip_prefix(src).unwrap();
        let top = relative.components().next().unwrap().as_os_str().to_str().unwrap().trim_end_matches(".rs");
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for line in code.lines().filter(|line| !line.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let name: String =
                    line[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                // Items of the crate root (re-exports) start with a capital.
                if name != top && name.starts_with(|c: char| c.is_ascii_lowercase()) {
                    graph.entry(top.to_owned()).or_default().insert(name);
                }
            }
        }
    }
    graph
}

/// A circle in `graph`, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if !done.insert(node.to_owned()) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(graph, next, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_an_import_circle() {
    for krate in ["link/src", "core/src", "hal-linux/src", "hal-pcap/src", "hal-lan9118/src", "embassy/src", "src"] {
        let graph = imports(&support::repo(krate));
        assert_eq!(circle(&graph), None, "{krate}: modules import each other: {graph:#?}");
    }
}

#[test]
fn the_core_reads_from_its_leaves_up() {
    // The node's own events and the station view do not depend on the
    // services or the run loop; services do not depend on the loop.
    let graph = imports(&support::repo("core/src"));
    let uses = |module: &str| graph.get(module).cloned().unwrap_or_default();
    for (module, never) in [
        ("station", &["service", "runtime", "node", "transfer", "presence", "scan"][..]),
        ("service", &["runtime", "node", "transfer", "presence", "scan"][..]),
        ("transfer", &["runtime", "node"][..]),
        ("presence", &["runtime", "node"][..]),
        ("wire", &["device", "station", "service", "node"][..]),
    ] {
        let bad: Vec<&&str> = never.iter().filter(|n| uses(module).contains(**n)).collect();
        assert!(bad.is_empty(), "{module} imports {bad:?}");
    }
}

#[test]
fn no_driver_depends_on_the_core() {
    for driver in ["hal-linux", "hal-pcap", "hal-lan9118", "embassy"] {
        let manifest = std::fs::read_to_string(support::repo(&format!("{driver}/Cargo.toml"))).unwrap();
        let dependencies = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
        assert!(!dependencies.contains("whohas-core"), "{driver} depends on the core:\n{dependencies}");
        assert!(dependencies.contains("whohas-link"), "{driver} implements whohas-link");
    }
}
