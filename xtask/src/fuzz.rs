//! `cargo xtask fuzz [SECONDS]`: every fuzz target in `fuzz/` in turn, each for `SECONDS`
//! (600 by default), with cargo-fuzz under the nightly toolchain. Fails when any target finds
//! a crash; libFuzzer leaves the input in `fuzz/artifacts/<target>/`.

use std::process::Command;

use anyhow::{Context, bail};

use crate::{banner, root, run_in};

/// The targets in `fuzz/fuzz_targets/`; README's "Fuzzing" section says what each checks.
const TARGETS: &[&str] = &[
    "csv_import",
    "feed_json",
    "portal_user_json",
    "plugin_manifest",
    "theme_config",
];

const DEFAULT_SECONDS: u64 = 600;

pub(crate) fn fuzz(seconds: Option<&str>) -> anyhow::Result<()> {
    let seconds = match seconds {
        None => DEFAULT_SECONDS,
        Some(text) => text
            .parse()
            .with_context(|| format!("\"{text}\" is not a number of seconds"))?,
    };
    ensure_cargo_fuzz()?;
    let dir = root().join("fuzz");
    let mut crashed = Vec::new();
    for target in TARGETS {
        banner(&format!("fuzzing {target} for {seconds} s"));
        // New inputs go to the scratch corpus under target/; the committed seeds are only read.
        let corpus = dir.join("target").join("corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .with_context(|| format!("cannot create {}", corpus.display()))?;
        let mut command = nightly_cargo();
        command
            .args([
                "fuzz",
                "run",
                "--sanitizer",
                "none",
                "--debug-assertions",
                target,
            ])
            .arg(&corpus)
            .arg(dir.join("corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"));
        let dictionary = dir.join("dictionaries").join(format!("{target}.dict"));
        if dictionary.is_file() {
            command.arg(format!("-dict={}", dictionary.display()));
        }
        if let Err(err) = run_in(&dir, &mut command) {
            eprintln!("xtask: {target}: {err:#}");
            crashed.push(*target);
        }
    }
    if !crashed.is_empty() {
        bail!(
            "fuzzing found crashes in {} (inputs in fuzz/artifacts/)",
            crashed.join(", ")
        );
    }
    Ok(())
}

/// `cargo +nightly`, through rustup: the repository pins a stable toolchain, and libFuzzer's
/// instrumentation needs nightly.
fn nightly_cargo() -> Command {
    let mut command = Command::new("cargo");
    command.arg("+nightly").env_remove("RUSTUP_TOOLCHAIN");
    command
}

fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let installed = nightly_cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if installed {
        return Ok(());
    }
    banner("installing cargo-fuzz");
    run_in(
        &root(),
        nightly_cargo().args(["install", "cargo-fuzz", "--locked"]),
    )
    .context("cannot install cargo-fuzz (is the nightly toolchain installed? `rustup toolchain install nightly`)")
}
