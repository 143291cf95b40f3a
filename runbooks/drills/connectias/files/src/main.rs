//! `connectias --metrics`: what the monitoring scripts read from the build that is deployed.

fn main() {
    let afm = if connectias::use_advanced_fuel_metering() { "on" } else { "off" };
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--metrics") {
        println!("version={}", env!("CARGO_PKG_VERSION"));
        println!("advanced_fuel_metering={afm}");
        println!("cpu_percent={}", connectias::expected_cpu_percent());
        println!("fuel_per_1k_instructions={}", connectias::fuel_for(&[7u8; 1000]));
        return;
    }
    println!("connectias {} (advanced_fuel_metering: {afm})", env!("CARGO_PKG_VERSION"));
}
