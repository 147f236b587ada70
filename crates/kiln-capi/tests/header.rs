//! `include/kiln.h` is what cbindgen makes of the crate today (`UPDATE_EXPECT=1` rewrites it).

#[test]
fn header_is_current() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .unwrap()
        .write(&mut generated);
    let path = format!("{dir}/include/kiln.h");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        String::from_utf8(generated).unwrap() == checked_in,
        "{path} is stale: run UPDATE_EXPECT=1 cargo test -p kiln-capi --test header"
    );
}
