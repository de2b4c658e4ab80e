//! A program that is only a spawner (see `ctr_ns::spawner`): what
//! `ctr_ns::spawner::enable` runs where no `ctrun` is at hand (the crate's
//! own tests, `@ctr/ns`).
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(ctr_ns::spawner::serve_main(&args));
}
