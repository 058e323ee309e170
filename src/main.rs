//! `deploylab` — see the README. All the work happens in the library.

fn main() {
    std::process::exit(deploylab::run());
}
