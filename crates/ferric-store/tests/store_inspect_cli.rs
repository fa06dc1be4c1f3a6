//! `store-inspect` on the Java 4.9.8 fixtures (read-only).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/java-4.9.8")
        .join(rel)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_store-inspect"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let output = run(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The whitespace-separated cells of the first line starting with `first_cell`.
fn row<'a>(text: &'a str, first_cell: &str) -> Vec<&'a str> {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.first() == Some(&first_cell))
        .unwrap_or_else(|| panic!("no row {first_cell} in\n{text}"))
}

#[test]
fn help_lists_the_subcommands() {
    let help = stdout_of(&["--help"]);
    for sub in ["commitlog", "cq", "index", "checkpoint"] {
        assert!(help.contains(sub), "{help}");
    }
}

#[test]
fn commitlog_rows_of_the_clean_store() {
    let dir = fixture("store-clean/commitlog");
    let out = stdout_of(&["commitlog", dir.to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("offset") && lines[0].contains("topic"));
    assert_eq!(lines.len(), 1 + 35);
    let first = row(&out, "0");
    assert_eq!(&first[..6], &["0", "306", "FxTopicA", "1", "0", "0"]);
    assert!(first.contains(&"TagA"));
    assert!(first.contains(&"C0000202387130946E096C4594CA0000"));
    let last = row(&out, "10919");
    assert_eq!(&last[..5], &["10919", "299", "FxTopicA", "2", "4"]);

    let page = stdout_of(&[
        "commitlog",
        dir.to_str().unwrap(),
        "--from",
        "306",
        "--limit",
        "2",
    ]);
    assert_eq!(page.lines().count(), 3);
    assert_eq!(row(&page, "541")[2], "FxTopicA");
}

#[test]
fn commitlog_shows_the_end_of_file_filler() {
    let file = fixture("store-crashed/commitlog/00000000000000000000");
    let out = stdout_of(&["commitlog", file.to_str().unwrap(), "--from", "1044756"]);
    assert_eq!(row(&out, "1044756")[2], "FxTopicCrash");
    let filler = row(&out, "1048384");
    assert_eq!(filler[1], "192");
    assert!(out.contains("end-of-file filler"), "{out}");
}

#[test]
fn cq_units_of_a_queue() {
    let file = fixture("store-clean/consumequeue/FxTopicA/2/00000000000000000000");
    let out = stdout_of(&["cq", file.to_str().unwrap()]);
    assert!(out.contains("5 units"), "{out}");
    assert_eq!(row(&out, "0"), vec!["0", "306", "235", "2598920"]);
    assert_eq!(row(&out, "4"), vec!["4", "10919", "299", "2598919"]);
}

#[test]
fn index_header_and_entries() {
    let file = fixture("store-clean/index/20261122003459462");
    let out = stdout_of(&["index", file.to_str().unwrap()]);
    assert_eq!(row(&out, "hashSlotCount")[1], "56");
    assert_eq!(row(&out, "indexCount")[1], "63");
    assert_eq!(row(&out, "beginTimestamp")[1], "1795307699454");
    assert_eq!(row(&out, "endPhyOffset")[1], "10919");
    assert_eq!(row(&out, "maxHashSlotNum")[1], "1000");
    assert_eq!(row(&out, "62")[3], "10919");
}

#[test]
fn checkpoint_timestamps() {
    let file = fixture("store-clean/checkpoint");
    let out = stdout_of(&["checkpoint", file.to_str().unwrap()]);
    assert_eq!(row(&out, "physicMsgTimestamp")[1], "1795308065262");
    assert_eq!(row(&out, "indexMsgTimestamp")[1], "0");
}

#[test]
fn errors_name_the_file() {
    let output = run(&["cq", "/definitely/not/here/00000000000000000000"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/definitely/not/here/00000000000000000000"),
        "{stderr}"
    );
}
