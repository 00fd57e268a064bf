//! `cargo xtask arch`: the server's layering, checked from its source.
//!
//! Every file under `server/src` is a node; a file depends on another when it names an item
//! of it (`use crate::db::clients`, `super::Form`, `db::clients::find(…)` after `use
//! crate::db`). Declaring a child module (`mod clients;`) is not a dependency. Three rules:
//!
//! 1. The handler areas (`manage`, `api`, `portal`, `cli`) never depend on one another, and
//!    nothing below them depends on any of them: only the router (and `main.rs`) may.
//! 2. SQL is written only under `server/src/db/` (and `migrations/`): a string literal that
//!    reads as a statement anywhere else is reported with its file and line.
//! 3. No import cycle spans [`MAX_CYCLE`] files or more.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

use crate::root;

/// The handler areas: each keeps handlers only and never imports another.
const AREAS: [&str; 4] = ["manage", "api", "portal", "cli"];

/// The files that assemble the areas into the server, and may import them.
const ASSEMBLY: [&str; 2] = ["router.rs", "lib.rs"];

/// The largest import cycle allowed, in files.
const MAX_CYCLE: usize = 15;

/// Checks the three rules; `--edges` prints every dependency first (`from -> to`).
pub(crate) fn arch(edges: bool) -> anyhow::Result<()> {
    let source = root().join("server/src");
    let graph = Graph::read(&source)?;
    if edges {
        for (from, tos) in &graph.edges {
            for to in tos {
                println!("{from} -> {to}");
            }
        }
    }
    let mut broken = 0;

    let crossings = graph.area_crossings();
    println!(
        "imports between handler areas ({}), or into one from below:",
        AREAS.join(", ")
    );
    for (from, to) in &crossings {
        println!("  {from} -> {to}");
    }
    if crossings.is_empty() {
        println!("  none");
    } else {
        broken += 1;
    }

    println!("SQL outside server/src/db/:");
    for (file, line, text) in &graph.sql {
        println!("  {file}:{line}: {text}");
    }
    if graph.sql.is_empty() {
        println!("  none");
    } else {
        broken += 1;
    }

    let cycles = graph.cycles();
    let largest = cycles.first().map_or(0, Vec::len);
    println!("largest import cycle: {largest} files (allowed: under {MAX_CYCLE})");
    for cycle in &cycles {
        println!("  {} files: {}", cycle.len(), cycle.join(" "));
    }
    if largest >= MAX_CYCLE {
        broken += 1;
    }
    println!(
        "{} files, {} dependencies",
        graph.files.len(),
        graph.edges.values().map(BTreeSet::len).sum::<usize>()
    );
    if broken > 0 {
        bail!("{broken} of 3 architecture rules broken (see above)");
    }
    Ok(())
}

/// Files as module paths (`db::clients`), the dependencies between them, and SQL found
/// outside `db/`.
struct Graph {
    /// Module path → file, relative to `server/src`.
    files: BTreeMap<Vec<String>, String>,
    edges: BTreeMap<String, BTreeSet<String>>,
    sql: Vec<(String, usize, String)>,
}

impl Graph {
    fn read(source: &Path) -> anyhow::Result<Self> {
        let mut paths = Vec::new();
        collect_rust_files(source, &mut paths)?;
        let mut files = BTreeMap::new();
        for path in &paths {
            let relative = path.strip_prefix(source)?.to_string_lossy().into_owned();
            // main.rs is a crate of its own: its `crate::` is not the library's.
            if relative == "main.rs" {
                continue;
            }
            files.insert(module_path(&relative), relative);
        }
        let mut graph = Self {
            files,
            edges: BTreeMap::new(),
            sql: Vec::new(),
        };
        let modules: Vec<(Vec<String>, String)> = graph
            .files
            .iter()
            .map(|(m, f)| (m.clone(), f.clone()))
            .collect();
        for (module, file) in modules {
            let text = std::fs::read_to_string(source.join(&file))?;
            let parsed = syn::parse_file(&text).with_context(|| format!("cannot parse {file}"))?;
            let mut reader = Reader {
                graph: &mut graph,
                file: file.clone(),
                scope: vec![module],
                imports: BTreeMap::new(),
                in_db: file.starts_with("db/") || file == "db.rs",
            };
            reader.collect_imports(&parsed.items);
            reader.visit_file(&parsed);
        }
        Ok(graph)
    }

    /// The file a module path lives in: its longest prefix that is a file.
    fn file_of(&self, path: &[String]) -> Option<&String> {
        (1..=path.len())
            .rev()
            .find_map(|n| self.files.get(&path[..n]))
    }

    /// Imports from one area into another, or into an area from below the areas.
    fn area_crossings(&self) -> BTreeSet<(String, String)> {
        let area = |file: &str| {
            AREAS.into_iter().find(|a| {
                file.strip_prefix(a)
                    .is_some_and(|rest| rest == ".rs" || rest.starts_with('/'))
            })
        };
        self.edges
            .iter()
            .flat_map(|(from, tos)| tos.iter().map(move |to| (from, to)))
            .filter(|(from, to)| match (area(from), area(to)) {
                (Some(a), Some(b)) => a != b,
                (None, Some(_)) => !ASSEMBLY.contains(&from.as_str()),
                _ => false,
            })
            .map(|(from, to)| (from.clone(), to.clone()))
            .collect()
    }

    /// Strongly connected components of two files or more, largest first (Tarjan).
    fn cycles(&self) -> Vec<Vec<String>> {
        let names: Vec<&String> = self.files.values().collect();
        let index_of: BTreeMap<&String, usize> =
            names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let next: Vec<Vec<usize>> = names
            .iter()
            .map(|n| {
                self.edges
                    .get(*n)
                    .into_iter()
                    .flatten()
                    .filter_map(|to| index_of.get(to).copied())
                    .collect()
            })
            .collect();
        let mut tarjan = Tarjan::new(names.len());
        for v in 0..names.len() {
            if tarjan.index[v].is_none() {
                tarjan.connect(v, &next);
            }
        }
        let mut cycles: Vec<Vec<String>> = tarjan
            .components
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let mut files: Vec<String> = c.into_iter().map(|v| names[v].clone()).collect();
                files.sort();
                files
            })
            .collect();
        cycles.sort_by_key(|c| std::cmp::Reverse(c.len()));
        cycles
    }
}

struct Tarjan {
    counter: usize,
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    components: Vec<Vec<usize>>,
}

impl Tarjan {
    fn new(n: usize) -> Self {
        Self {
            counter: 0,
            index: vec![None; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            components: Vec::new(),
        }
    }

    fn connect(&mut self, v: usize, next: &[Vec<usize>]) {
        self.index[v] = Some(self.counter);
        self.low[v] = self.counter;
        self.counter += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for &w in &next[v] {
            match self.index[w] {
                None => {
                    self.connect(w, next);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(i) if self.on_stack[w] => self.low[v] = self.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut component = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            self.components.push(component);
        }
    }
}

/// Walks one file: its `use` items and every path it names.
struct Reader<'g> {
    graph: &'g mut Graph,
    file: String,
    /// The module being read: the file's, then any inline `mod` inside it.
    scope: Vec<Vec<String>>,
    /// Names brought in by `use`, per module: name → absolute module path.
    imports: BTreeMap<(Vec<String>, String), Vec<String>>,
    in_db: bool,
}

impl Reader<'_> {
    fn module(&self) -> &Vec<String> {
        self.scope.last().expect("a module is always in scope")
    }

    /// Records every `use` of the file (in every inline module) before paths are resolved,
    /// so a name used above its `use` still resolves.
    fn collect_imports(&mut self, items: &[syn::Item]) {
        for item in items {
            match item {
                syn::Item::Use(item) => {
                    let mut found = Vec::new();
                    expand_use(&item.tree, Vec::new(), &mut found);
                    for (path, name) in found {
                        if let Some(absolute) = self.absolute(&path)
                            && let Some(name) = name
                        {
                            self.imports.insert((self.module().clone(), name), absolute);
                        }
                    }
                }
                syn::Item::Mod(item) => {
                    if let Some((_, items)) = &item.content {
                        let mut inner = self.module().clone();
                        inner.push(item.ident.to_string());
                        self.scope.push(inner);
                        self.collect_imports(items);
                        self.scope.pop();
                    }
                }
                _ => {}
            }
        }
    }

    /// A path as written, resolved to an absolute module path within the crate, if it
    /// names something of the crate.
    fn absolute(&self, path: &[String]) -> Option<Vec<String>> {
        let (first, rest) = path.split_first()?;
        let module = self.module();
        match first.as_str() {
            "crate" => Some(rest.to_vec()),
            "self" => Some([module.as_slice(), rest].concat()),
            "super" => {
                let mut base = module.clone();
                base.pop();
                let mut rest = rest;
                while let Some(("super", tail)) = rest.split_first().map(|(h, t)| (h.as_str(), t)) {
                    base.pop();
                    rest = tail;
                }
                Some([base.as_slice(), rest].concat())
            }
            name => {
                if let Some(target) = self.imports.get(&(module.clone(), name.to_owned())) {
                    return Some([target.as_slice(), rest].concat());
                }
                // A child module named without `self::`.
                let child = [module.as_slice(), path].concat();
                self.graph
                    .files
                    .contains_key(&child[..module.len() + 1])
                    .then_some(child)
            }
        }
    }

    fn depend_on(&mut self, path: &[String]) {
        let Some(absolute) = self.absolute(path) else {
            return;
        };
        if let Some(target) = self.graph.file_of(&absolute).cloned()
            && target != self.file
        {
            self.graph
                .edges
                .entry(self.file.clone())
                .or_default()
                .insert(target);
        }
    }

    fn note_sql(&mut self, literal: &str, line: usize) {
        if !self.in_db && reads_as_sql(literal) {
            let first_line = literal.trim().lines().next().unwrap_or_default();
            let shown: String = first_line.chars().take(70).collect();
            self.graph.sql.push((self.file.clone(), line, shown));
        }
    }

    /// Paths and string literals inside a macro's tokens (`format!`, `json!`, …).
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(group) => self.scan_tokens(group.stream()),
                TokenTree::Literal(literal) => {
                    if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&literal.to_string()) {
                        self.note_sql(&s.value(), literal.span().start().line);
                    }
                }
                TokenTree::Ident(ident) => {
                    let mut path = vec![ident.to_string()];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (trees.get(j), trees.get(j + 1), trees.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        path.push(next.to_string());
                        j += 3;
                    }
                    if path.len() > 1 {
                        self.depend_on(&path);
                        i = j;
                        continue;
                    }
                }
                TokenTree::Punct(_) => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Reader<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_some() {
            let mut inner = self.module().clone();
            inner.push(item.ident.to_string());
            self.scope.push(inner);
            syn::visit::visit_item_mod(self, item);
            self.scope.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut found = Vec::new();
        expand_use(&item.tree, Vec::new(), &mut found);
        for (path, _) in found {
            self.depend_on(&path);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.depend_on(&segments);
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.scan_tokens(mac.tokens.clone());
    }

    fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
        self.note_sql(&literal.value(), literal.span().start().line);
    }
}

/// Every path a `use` tree brings in, with the name it is known by (none for a glob).
fn expand_use(
    tree: &syn::UseTree,
    prefix: Vec<String>,
    found: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let with = |segment: String| {
        let mut path = prefix.clone();
        path.push(segment);
        path
    };
    match tree {
        syn::UseTree::Path(p) => expand_use(&p.tree, with(p.ident.to_string()), found),
        syn::UseTree::Name(n) if n.ident == "self" => {
            let name = prefix.last().cloned();
            found.push((prefix, name));
        }
        syn::UseTree::Name(n) => found.push((with(n.ident.to_string()), Some(n.ident.to_string()))),
        syn::UseTree::Rename(r) => {
            found.push((with(r.ident.to_string()), Some(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => found.push((prefix, None)),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                expand_use(item, prefix.clone(), found);
            }
        }
    }
}

/// A string that reads as an SQL statement or a piece of one.
fn reads_as_sql(text: &str) -> bool {
    const STARTS: [&str; 7] = [
        "SELECT ",
        "INSERT INTO",
        "UPDATE ",
        "DELETE FROM",
        "WITH ",
        "CREATE ",
        "ALTER TABLE",
    ];
    const INSIDE: [&str; 6] = [
        " FROM ",
        " WHERE ",
        " ORDER BY ",
        " JOIN ",
        " SET ",
        " VALUES ",
    ];
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let padded = format!(" {flat} ");
    STARTS.iter().any(|s| flat.starts_with(s))
        || INSIDE.iter().filter(|s| padded.contains(*s)).count() >= 2
}

fn module_path(relative: &str) -> Vec<String> {
    let trimmed = relative.trim_end_matches(".rs");
    let mut parts: Vec<String> = trimmed.split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}
