//! Puts `memory.x` where the linker finds it, and rebuilds when the embedded files change.

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::copy("memory.x", out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    for var in [
        "KILN_FIRMWARE_MODULE",
        "KILN_FIRMWARE_INPUT",
        "KILN_FIRMWARE_EXPECTED",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
        if let Ok(path) = std::env::var(var) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
