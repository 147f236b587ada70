//! `--list_drivers`, `--list_devices` and `--dump_devices`, laid out as IREE prints them.

use kiln_runtime::DriverRegistry;
use std::fmt::Write;

const RULE: &str = "# ============================================================================";
const THIN: &str = "# ===----------------------------------------------------------------------===";

/// The `--list_drivers` text.
pub fn list_drivers(r: &DriverRegistry) -> String {
    let mut out = format!("{RULE}\n# Available HAL drivers\n{RULE}\n# Use --list_devices={{driver name}} to enumerate available devices.\n\n");
    let width = r
        .drivers()
        .iter()
        .map(|d| d.name().len())
        .max()
        .unwrap_or(0)
        .max(12); // IREE right-aligns driver names in a 12-column field.
    for d in r.drivers() {
        let _ = writeln!(out, "{:>width$}: {}", d.name(), d.description());
    }
    out
}

/// The `--list_devices` text: one URI per device; drivers that fail to initialise are skipped.
pub fn list_devices(r: &DriverRegistry, only: Option<&str>) -> String {
    let mut out = String::new();
    for d in r
        .drivers()
        .iter()
        .filter(|d| only.is_none_or(|o| o == d.name()))
    {
        if let Ok(devices) = d.enumerate_devices() {
            for dev in devices {
                let _ = writeln!(out, "{}://{}", d.name(), dev.path);
            }
        }
    }
    out
}

/// The `--dump_devices` text, with each device's properties.
pub fn dump_devices(r: &DriverRegistry, only: Option<&str>) -> String {
    let mut out = String::new();
    for d in r
        .drivers()
        .iter()
        .filter(|d| only.is_none_or(|o| o == d.name()))
    {
        let _ = writeln!(
            out,
            "{RULE}\n# Enumerated devices for driver '{}'\n{RULE}\n",
            d.name()
        );
        match d.enumerate_devices() {
            Err(e) => {
                let _ = writeln!(out, "# {e}\n");
            }
            Ok(devices) => {
                for dev in devices {
                    let _ = writeln!(
                        out,
                        "{THIN}\n# --device={}://{}\n#   {}\n{THIN}\n",
                        d.name(),
                        dev.path,
                        dev.name
                    );
                    if let Ok(device) = d.create_device(&dev.path, &Default::default()) {
                        for (k, v) in device.properties() {
                            let _ = writeln!(out, "- {k}: {v}");
                        }
                        out.push('\n');
                    }
                }
            }
        }
    }
    out
}
