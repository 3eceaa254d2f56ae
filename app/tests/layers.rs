//! The modules of `app` import each other in one direction: no module
//! reaches, through any chain of `crate::` or `super::` paths, back to a
//! module that uses it. (docs/architecture.md gives the order.) A circle
//! makes every module in it depend on every other one, so a change in one
//! means reading them all; this test names the files of a circle found.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every source file of the crate by its module path (`sync::store::push`).
fn modules(root: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|last| last == "mod" || last == "lib") {
                parts.pop();
            }
            found.insert(parts, path);
        }
    }
    found
}

/// The source a module's code uses: its comments and its unit tests
/// (`#[cfg(test)] mod … { … }`, wherever they stand) left out.
fn code(path: &Path) -> String {
    code_of(&std::fs::read_to_string(path).unwrap())
}

fn code_of(text: &str) -> String {
    let text: String = text
        .lines()
        .map(|line| match line.trim_start() {
            l if l.starts_with("//") => "",
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut kept = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("#[cfg(test)]\nmod ") {
        kept.push_str(&rest[..at]);
        // The module's body: to the brace that closes its first one.
        let body = &rest[at..];
        let mut depth = 0usize;
        let mut end = body.len();
        for (n, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 1 => {
                    end = n + 1;
                    break;
                }
                '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        rest = &body[end..];
    }
    kept.push_str(rest);
    kept
}

/// The paths a module's code names from the crate's root or its parent,
/// made absolute: `crate::a::b` is `[a, b]`; in `x::y`, `super::c` is
/// `[x, c]`.
fn named_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(found) = code[from..].find(start) {
            let at = from + found;
            from = at + start.len();
            // `my_crate::` or `self.crate::` are not this crate's root.
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let mut base: Vec<String> = if start == "crate::" {
                Vec::new()
            } else {
                module[..module.len().saturating_sub(1)].to_vec()
            };
            let mut rest = &code[from..];
            while let Some(tail) = rest.strip_prefix("super::") {
                base.pop();
                rest = tail;
            }
            // `crate::{a, b::c}`: each item of the group is a path.
            if let Some(group) = rest.strip_prefix('{') {
                let inside = &group[..group.find('}').unwrap_or(group.len())];
                for item in inside.split(',') {
                    let mut path = base.clone();
                    path.extend(identifiers(item.trim()));
                    paths.push(path);
                }
                continue;
            }
            // Identifiers joined by `::`, up to the first that is not
            // followed by another (`crate::a::{b, c}` names `a`).
            let mut path = base;
            loop {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                if end == 0 {
                    break;
                }
                path.push(rest[..end].to_owned());
                match rest[end..].strip_prefix("::") {
                    Some(tail) => rest = tail,
                    None => break,
                }
            }
            paths.push(path);
        }
    }
    paths
}

/// The identifiers at the start of `text` joined by `::` (`b::c` of
/// `b::c::{d}`).
fn identifiers(text: &str) -> Vec<String> {
    text.split("::")
        .map_while(|part| {
            let end = part
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(part.len());
            (end > 0 && end == part.len()).then(|| part.to_owned())
        })
        .collect()
}

/// The longest prefix of `path` that is a module of the crate.
fn module_of<'a>(path: &[String], modules: &'a BTreeMap<Vec<String>, PathBuf>) -> Option<&'a Vec<String>> {
    (1..=path.len())
        .rev()
        .find_map(|n| modules.get_key_value(&path[..n]).map(|(key, _)| key))
}

#[test]
fn the_modules_of_app_import_each_other_in_one_direction() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&root);
    assert!(
        modules.len() > 30,
        "the crate's modules were not found under {root:?}"
    );
    let mut uses: BTreeMap<&Vec<String>, BTreeSet<&Vec<String>>> = BTreeMap::new();
    for (module, path) in &modules {
        let used = uses.entry(module).or_default();
        for named in named_paths(module, &code(path)) {
            if let Some(target) = module_of(&named, &modules) {
                // A module's own children are its parts, not its users.
                if target != module && !target.starts_with(module) {
                    used.insert(target);
                }
            }
        }
    }
    let circles = strongly_connected(&uses);
    let shown: Vec<String> = circles
        .iter()
        .map(|circle| {
            let names: Vec<String> = circle.iter().map(|m| m.join("::")).collect();
            names.join(", ")
        })
        .collect();
    assert!(
        shown.is_empty(),
        "modules that import each other in a circle: {shown:#?}"
    );
}

/// The groups of more than one module that reach each other (Tarjan).
fn strongly_connected<'a>(
    uses: &BTreeMap<&'a Vec<String>, BTreeSet<&'a Vec<String>>>,
) -> Vec<Vec<&'a Vec<String>>> {
    struct Walk<'a, 'b> {
        uses: &'b BTreeMap<&'a Vec<String>, BTreeSet<&'a Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, (usize, usize)>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        found: Vec<Vec<&'a Vec<String>>>,
    }
    fn visit<'a>(walk: &mut Walk<'a, '_>, node: &'a Vec<String>) {
        let n = walk.index.len();
        walk.index.insert(node, (n, n));
        walk.stack.push(node);
        walk.on_stack.insert(node);
        for &next in walk.uses.get(node).into_iter().flatten() {
            if !walk.index.contains_key(next) {
                visit(walk, next);
                let low = walk.index[next].1.min(walk.index[node].1);
                walk.index.get_mut(node).unwrap().1 = low;
            } else if walk.on_stack.contains(next) {
                let low = walk.index[next].0.min(walk.index[node].1);
                walk.index.get_mut(node).unwrap().1 = low;
            }
        }
        if walk.index[node].0 == walk.index[node].1 {
            let mut group = Vec::new();
            while let Some(top) = walk.stack.pop() {
                walk.on_stack.remove(top);
                group.push(top);
                if top == node {
                    break;
                }
            }
            if group.len() > 1 {
                walk.found.push(group);
            }
        }
    }
    let mut walk = Walk {
        uses,
        index: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for &node in uses.keys() {
        if !walk.index.contains_key(node) {
            visit(&mut walk, node);
        }
    }
    walk.found
}

#[test]
fn a_circle_is_found() {
    let a = vec!["a".to_owned()];
    let b = vec!["b".to_owned()];
    let c = vec!["c".to_owned()];
    let uses = BTreeMap::from([
        (&a, BTreeSet::from([&b])),
        (&b, BTreeSet::from([&a, &c])),
        (&c, BTreeSet::new()),
    ]);
    assert_eq!(strongly_connected(&uses), vec![vec![&b, &a]]);
    let kept = code_of(
        "use crate::a;\n#[cfg(test)]\nmod tests {\n    use crate::b;\n    fn f() {}\n}\nuse crate::c;",
    );
    assert!(
        kept.contains("crate::a") && kept.contains("crate::c") && !kept.contains("crate::b"),
        "{kept}"
    );
    let paths = named_paths(
        &["sync".into(), "store".into(), "push".into()],
        "use super::writes::{Writes};\nlet x = crate::sync::entity::registered();\nuse crate::{policy, ssr::db};",
    );
    assert_eq!(
        paths,
        vec![
            vec!["sync".to_owned(), "entity".into(), "registered".into()],
            vec!["policy".to_owned()],
            vec!["ssr".to_owned(), "db".into()],
            vec!["sync".to_owned(), "store".into(), "writes".into()],
        ]
    );
}
