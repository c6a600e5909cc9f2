//! Rebuilds the crate when a migration is added or edited, so that `sqlx::migrate!()` embeds
//! the migrations directory as it is (cargo does not track files read by a proc macro).

// Cargo reads a build script's instructions from its standard output.
#[allow(clippy::print_stdout)]
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
