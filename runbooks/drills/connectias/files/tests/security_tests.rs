//! Security tests: plugin names cannot escape, and a runaway plugin runs out of fuel.

use connectias::{safe_plugin_name, within_budget};

#[test]
fn path_traversal_names_are_rejected() {
    for name in ["../etc/passwd", "a/b", "", "plugin.so", &"x".repeat(65)] {
        assert!(!safe_plugin_name(name), "{name:?} must be rejected");
    }
    assert!(safe_plugin_name("fuel-gauge_2"));
}

#[test]
fn runaway_plugin_is_stopped() {
    assert!(!within_budget(&vec![3u8; 500_000], u64::MAX));
}
