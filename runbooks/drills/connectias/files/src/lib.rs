//! Connectias core: runs plugins with a fuel budget so a runaway plugin cannot hog the host.

/// Fuel a plugin call may burn before it is stopped.
pub const MAX_FUEL_PER_CALL: u64 = 1_000_000;

/// Check if advanced fuel metering is enabled.
#[cfg(feature = "advanced_fuel_metering")]
pub fn use_advanced_fuel_metering() -> bool {
    true
}

/// Check if advanced fuel metering is enabled.
#[cfg(not(feature = "advanced_fuel_metering"))]
pub fn use_advanced_fuel_metering() -> bool {
    false
}

/// Fuel burnt by running `instructions` plugin instructions.
///
/// Advanced metering charges per instruction class and re-checks the budget on every
/// step; it is exact, and (in the release under rollback) far too expensive.
pub fn fuel_for(instructions: &[u8]) -> u64 {
    if use_advanced_fuel_metering() {
        instructions
            .iter()
            .map(|op| match op % 4 {
                0 => 1,
                1 => 3,
                2 => 7,
                _ => 11,
            })
            .sum()
    } else {
        instructions.len() as u64 * 5
    }
}

/// Whether a plugin call stays within its budget.
pub fn within_budget(instructions: &[u8], budget: u64) -> bool {
    fuel_for(instructions) <= budget.min(MAX_FUEL_PER_CALL)
}

/// Reject plugin names that could escape the plugin folder.
pub fn safe_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Host load under a steady plugin workload (percent of one core), by metering mode.
pub fn expected_cpu_percent() -> u32 {
    if use_advanced_fuel_metering() {
        92
    } else {
        31
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_program_burns_no_fuel() {
        assert_eq!(fuel_for(&[]), 0);
    }

    #[test]
    fn budget_is_capped() {
        assert!(within_budget(&[0, 1, 2], 100));
        assert!(!within_budget(&vec![3; 200_000], u64::MAX));
    }

    #[test]
    fn metering_mode_matches_the_build() {
        assert_eq!(use_advanced_fuel_metering(), cfg!(feature = "advanced_fuel_metering"));
    }
}
