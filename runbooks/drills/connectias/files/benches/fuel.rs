//! `cargo bench` on stable: a plain main (harness = false) timing the metering hot path.

use std::hint::black_box;
use std::time::Instant;

fn main() {
    let program: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let rounds = 200;
    let started = Instant::now();
    let mut total = 0u64;
    for _ in 0..rounds {
        total = total.wrapping_add(connectias::fuel_for(black_box(&program)));
    }
    let per_call = started.elapsed() / rounds;
    println!(
        "fuel_for/10k instructions (advanced_fuel_metering: {}): {:?} per call (checksum {total})",
        connectias::use_advanced_fuel_metering(),
        per_call
    );
}
