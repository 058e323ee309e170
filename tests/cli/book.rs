//! The course book: generated from the labs by `deploylab book preprocess`,
//! built with the real mdbook in both languages, and read in a real
//! headless Chromium (links, console, language switch, search, screenshots).

use super::support::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// mdbook's `[context, book]` for one chapter, as mdbook 0.5 sends it.
fn mdbook_input(language: &str, content: &str) -> String {
    serde_json::json!([
        {
            "root": "/book",
            "config": { "book": { "title": "t", "language": language, "src": "src" } },
            "renderer": "html",
            "mdbook_version": "0.5.4"
        },
        {
            "items": [{
                "Chapter": {
                    "name": "The lab",
                    "content": content,
                    "number": [1],
                    "sub_items": [],
                    "path": "labs/vm-nginx.md",
                    "source_path": "labs/vm-nginx.md",
                    "parent_names": []
                }
            }]
        }
    ])
    .to_string()
}

fn preprocess(lab: &Lab, input: &str) -> Output {
    with_input(lab.cmd(&["book", "preprocess"]), input)
}

fn chapter(out: &Output) -> String {
    let book: Value = serde_json::from_slice(&out.stdout).expect("the book as JSON");
    book["items"][0]["Chapter"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A check's title changed in lab.yaml changes its page, with no other
/// edit: in English at once, and in Portuguese too (English, until the
/// catalog translates the new title; the completeness test fails meanwhile).
#[test]
fn book_pages_follow_lab_yaml() {
    let labs = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo().join("labs")).unwrap() {
        let entry = entry.unwrap();
        let to = labs.path().join(entry.file_name());
        let status = Command::new("cp")
            .arg("-r")
            .arg(entry.path())
            .arg(&to)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let yaml = labs.path().join("vm-nginx/lab.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    assert!(text.contains("title: sshd listens on port 22"));
    std::fs::write(
        &yaml,
        text.replace(
            "title: sshd listens on port 22",
            "title: sshd answers on port 22, edited",
        ),
    )
    .unwrap();
    let lab = Lab::new().env("DEPLOYLAB_LABS", labs.path().display().to_string());

    let en = preprocess(
        &lab,
        &mdbook_input("en", "Intro.\n\n{{#deploylab lab vm-nginx}}\n"),
    );
    assert_eq!(en.status.code(), Some(0), "{}", stderr(&en));
    let page = chapter(&en);
    assert!(page.starts_with("<p class=\"deploylab-langs\">"), "{page}");
    assert!(page.contains("Intro."), "{page}");
    assert!(
        page.contains("| `sshd-listening` | sshd answers on port 22, edited | 1 |"),
        "{page}"
    );
    assert!(!page.contains("{{#deploylab"), "{page}");

    let pt = preprocess(&lab, &mdbook_input("pt-BR", "{{#deploylab lab vm-nginx}}"));
    assert_eq!(pt.status.code(), Some(0), "{}", stderr(&pt));
    let page = chapter(&pt);
    assert!(page.contains("sshd answers on port 22, edited"), "{page}");
    assert!(
        page.contains("O SSH responde a partir da sua máquina"),
        "{page}"
    );
    assert!(
        page.contains("href=\"../../en/labs/vm-nginx.html\""),
        "{page}"
    );
}

/// A page naming a lab that does not exist fails the build, saying which
/// chapter and why; so does input that is not mdbook's.
#[test]
fn book_directives_that_name_nothing_fail_the_build() {
    let lab = Lab::new();
    let out = preprocess(&lab, &mdbook_input("en", "{{#deploylab lab vm-ngnix}}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown lab 'vm-ngnix'"),
        "{}",
        stderr(&out)
    );
    let out = preprocess(&lab, &mdbook_input("en", "{{#deploylab labs}}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("The lab: unknown directive"),
        "{}",
        stderr(&out)
    );
    let out = preprocess(&lab, "not json");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not JSON"), "{}", stderr(&out));
    let supports = lab.run(&["book", "preprocess", "supports", "html"]);
    assert_eq!(supports.status.code(), Some(0));
}

/// The whole book, built by `scripts/book.sh` with the real mdbook in both
/// languages, then read in headless Chromium by `tests/book/browse.py`:
/// no broken link or anchor, no console error on any page, the language
/// switch and the search work, and a screenshot of a lab page in each
/// language is kept in `target/book-screenshots/`.
#[test]
fn book_builds_in_both_languages_and_reads_well_in_chromium() {
    for (program, install) in [
        ("mdbook", "cargo install mdbook --locked"),
        ("chromium", "apt-get install chromium python3-websocket"),
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .unwrap();
        assert!(
            found.status.success(),
            "{program} is needed to build and read the book: {install}"
        );
    }
    let out = tempfile::tempdir().unwrap();
    let built = Command::new(repo().join("scripts/book.sh"))
        .arg(out.path())
        .env("DEPLOYLAB_BIN", env!("CARGO_BIN_EXE_deploylab"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}{}",
        stdout(&built),
        stderr(&built)
    );
    for lang in ["en", "pt-BR"] {
        let page =
            std::fs::read_to_string(out.path().join(lang).join("labs/vm-ansible.html")).unwrap();
        assert!(page.contains(&format!("lang=\"{lang}\"")), "{lang}");
        assert!(
            page.contains("second-run"),
            "{lang}: the lab's checks are on its page"
        );
    }

    let shots = repo().join("target/book-screenshots");
    // Debian's python3 has python3-websocket; another python3 may be first
    // on PATH.
    let python = ["/usr/bin/python3", "python3"]
        .into_iter()
        .find(|p| !p.starts_with('/') || std::path::Path::new(p).exists())
        .unwrap();
    let read = Command::new(python)
        .arg(repo().join("tests/book/browse.py"))
        .arg(out.path())
        .arg(&shots)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&read.stdout)
        .unwrap_or_else(|_| panic!("{}{}", stdout(&read), stderr(&read)));
    assert!(read.status.success(), "{report:#}\n{}", stderr(&read));
    assert_eq!(report["failures"], serde_json::json!([]), "{report:#}");
    assert!(report["pages"].as_u64().unwrap() >= 22, "{report:#}");
    for lang in ["en", "pt-BR"] {
        let found = report["searches"][lang].as_array().unwrap();
        assert!(!found.is_empty(), "{lang}: {report:#}");
        let shot = shots.join(format!("{lang}-labs-vm-nginx.html.png"));
        let png = std::fs::read(&shot).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{}", shot.display());
        assert!(
            png.len() > 20_000,
            "{}: {} bytes",
            shot.display(),
            png.len()
        );
    }
}
