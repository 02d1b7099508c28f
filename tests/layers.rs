//! The layout's rule, checked on the source: every `use crate::…`/`use super::…` and every
//! `crate::…` path in the library's files (tests left out) runs down the core's order
//! data → device → model → attack → eval → train → calibration → lab → page → web, and no two
//! files import each other, directly or round a loop. (`fixtures` and `fuzz`, compiled for tests
//! and the fuzz driver only, serve tests on every floor and stand outside the order.)

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The library's top-level modules, lowest floor first. A module may import only its own floor
/// and the floors below it.
const ORDER: &[&str] = &["choice", "data", "device", "model", "attack", "eval", "train", "calibration", "lab", "page", "web"];

type Module = Vec<String>;

/// Every library file (not `bin/`) by its module path (`train/run.rs` → `["train", "run"]`).
fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<Module, String>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if prefix.is_empty() && name == "bin" {
                continue;
            }
            modules(&path, &[prefix, &[name]].concat(), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = match name.as_str() {
                "mod" | "lib" => prefix.to_vec(),
                _ => [prefix, &[name]].concat(),
            };
            out.insert(module, fs::read_to_string(&path).unwrap());
        }
    }
}

/// The code of a file without its comments and its `#[cfg(test)] mod tests`.
fn code(source: &str) -> String {
    let source = source.split("#[cfg(test)]\nmod tests").next().unwrap();
    source.lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n")
}

/// The paths a `use` tree names: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn use_paths(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else { return vec![tree.split(" as ").next().unwrap().trim().to_string()] };
    let head = tree[..open].trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').expect("a closed use group")];
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items.iter().filter(|i| !i.trim().is_empty()).flat_map(|i| use_paths(i)).map(|p| if p == "self" { head.to_string() } else { format!("{head}::{p}") }).collect()
}

/// `crate::…`, `super::…` or `self::…` as an absolute module path, seen from `here`.
fn absolute(path: &str, here: &Module) -> Option<Module> {
    let mut segments = path.split("::").map(str::trim).filter(|s| !s.is_empty());
    let mut base = match segments.next()? {
        "crate" => Vec::new(),
        "self" => here.clone(),
        "super" => here[..here.len().saturating_sub(1)].to_vec(),
        _ => return None,
    };
    for s in segments {
        match s {
            "super" => {
                base.pop();
            }
            _ => base.push(s.to_string()),
        }
    }
    Some(base)
}

/// The file-level import graph: which module files each module file uses.
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = BTreeMap::new();
    modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &[], &mut files);
    let file_of = |path: &Module| (1..=path.len()).rev().map(|k| path[..k].to_vec()).find(|m| files.contains_key(m));
    let mut edges = BTreeMap::new();
    for (here, source) in &files {
        let code = code(source);
        let mut paths = Vec::new();
        for statement in code.split(';') {
            if let Some(tree) = statement.trim().strip_prefix("use ").or_else(|| statement.trim().strip_prefix("pub use ")).or_else(|| statement.trim().strip_prefix("pub(crate) use ")) {
                paths.extend(use_paths(tree));
            }
        }
        // Paths written out in code: `crate::a::b(…)`, `super::c::d`.
        for (i, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
            if code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let end = code[i..].find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).map_or(code.len(), |e| i + e);
            paths.push(code[i..end].to_string());
        }
        let targets: BTreeSet<Module> = paths
            .iter()
            .filter_map(|p| absolute(p, here))
            .filter_map(|p| file_of(&p))
            // A module's own file and its parents (`super::X` re-exported by a `mod.rs`) are not arrows.
            .filter(|t| !here.starts_with(t))
            .collect();
        edges.insert(here.clone(), targets);
    }
    edges
}

fn floor(module: &Module) -> Option<usize> {
    ORDER.iter().position(|m| module.first().is_some_and(|f| f == m))
}

#[test]
fn every_import_runs_down_the_core_order() {
    let mut upward = Vec::new();
    for (from, targets) in graph() {
        for to in targets {
            if let (Some(a), Some(b)) = (floor(&from), floor(&to))
                && b > a
            {
                upward.push(format!("{} → {}", from.join("/"), to.join("/")));
            }
        }
    }
    assert!(upward.is_empty(), "imports that run back up the order {ORDER:?}:\n{}", upward.join("\n"));
}

#[test]
fn no_files_import_each_other() {
    let edges = graph();
    // A depth-first search: a file met again while still on the path closes a loop.
    fn visit(m: &Module, edges: &BTreeMap<Module, BTreeSet<Module>>, path: &mut Vec<Module>, done: &mut BTreeSet<Module>) -> Option<Vec<Module>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            return Some(path[i..].to_vec());
        }
        if !done.insert(m.clone()) {
            return None;
        }
        path.push(m.clone());
        for t in edges.get(m).into_iter().flatten() {
            if let Some(cycle) = visit(t, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        if let Some(cycle) = visit(m, &edges, &mut Vec::new(), &mut done) {
            panic!("files that import each other: {}", cycle.iter().map(|m| m.join("/")).collect::<Vec<_>>().join(" → "));
        }
    }
    assert!(edges.len() > 50, "the library's files were found ({})", edges.len());
}

#[test]
fn the_parser_sees_groups_and_paths() {
    assert_eq!(use_paths("a::{b, c::{d, self}}"), ["a::b", "a::c::d", "a::c"]);
    let here = vec!["train".to_string(), "run".to_string()];
    assert_eq!(absolute("super::config::TrainConfig", &here), Some(vec!["train".into(), "config".into(), "TrainConfig".into()]));
    assert_eq!(absolute("crate::model::argmax", &here), Some(vec!["model".into(), "argmax".into()]));
}
