//! The documentation's pages (README.md and docs/*.md), and the code blocks in them that
//! tests run: each is marked `<!-- docs-test: NAME -->` on the line before its fence.

use std::path::{Path, PathBuf};

/// The repository's root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits in the repository")
}

/// README.md and every page under docs/, with their text.
pub fn pages() -> Vec<(PathBuf, String)> {
    let docs = root().join("docs");
    let mut paths = vec![root().join("README.md")];
    let mut under_docs: Vec<PathBuf> = std::fs::read_dir(&docs)
        .expect("docs/")
        .map(|entry| entry.expect("docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    under_docs.sort();
    paths.extend(under_docs);
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a readable page");
            (path, text)
        })
        .collect()
}

/// The fenced block marked `<!-- docs-test: NAME -->`, which must be on exactly one page,
/// once.
pub fn block(name: &str) -> String {
    let marker = format!("<!-- docs-test: {name} -->");
    let found: Vec<(PathBuf, String)> = pages()
        .into_iter()
        .filter(|(_, text)| text.contains(&marker))
        .collect();
    assert_eq!(found.len(), 1, "{marker} must be on exactly one page");
    let (path, text) = &found[0];
    assert_eq!(
        text.matches(&marker).count(),
        1,
        "{marker} twice in {path:?}"
    );
    let after = &text[text.find(&marker).expect("found")..];
    let body = &after[after.find("```").expect("a fence after the marker")..];
    let body = &body[body.find('\n').expect("the fence's line") + 1..];
    body[..body.find("\n```").expect("the fence's end") + 1].to_owned()
}
