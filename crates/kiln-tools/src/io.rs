//! IREE's tool I/O conventions: `--input`, `--output`, `--expected_output` and result printing.
//!
//! - `--input=2x3xf32=1 2 3 4 5 6` (IREE tensor text), `--input=@file.npy` (first array of the
//!   file), `--input=+file.npy` (the next array of a file read before).
//! - `--output=@file.npy` writes a result (replacing the file), `--output=+file.npy` appends.
//! - `--expected_output` takes the same forms as `--input` and compares with a tolerance.

use anyhow::{anyhow, bail, Context, Result};
use kiln_types::{npy, text, ElementType, HostTensor};
use std::collections::HashMap;
use std::fmt::Write;

/// Reads `--input` / `--expected_output` values, remembering how far into each `.npy` file
/// earlier `+file` values have read.
#[derive(Default)]
pub struct InputReader {
    consumed: HashMap<String, usize>,
}

impl InputReader {
    pub fn read(&mut self, spec: &str) -> Result<HostTensor> {
        if let Some(path) = spec.strip_prefix('@') {
            self.consumed.insert(path.to_string(), 0);
            return self.next_from(path, spec);
        }
        if let Some(path) = spec.strip_prefix('+') {
            return self.next_from(path, spec);
        }
        text::parse_tensor(spec).with_context(|| format!("invalid value '{spec}'"))
    }

    fn next_from(&mut self, path: &str, spec: &str) -> Result<HostTensor> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read '{path}'"))?;
        let start = self.consumed.get(path).copied().unwrap_or(0);
        let rest = bytes
            .get(start..)
            .ok_or_else(|| anyhow!("'{spec}': no more arrays in '{path}'"))?;
        if rest.is_empty() {
            bail!("'{spec}': no more arrays in '{path}'");
        }
        let (t, after) = npy::read_npy_next(rest)
            .with_context(|| format!("'{path}' is not a valid .npy file"))?;
        self.consumed
            .insert(path.to_string(), bytes.len() - after.len());
        Ok(t)
    }
}

/// Prints results as `iree-run-module` does.
pub fn format_results(outputs: &[HostTensor], max_elements: usize) -> String {
    let mut out = String::new();
    for (i, t) in outputs.iter().enumerate() {
        let _ = writeln!(out, "result[{i}]: hal.buffer_view");
        let _ = writeln!(out, "{}", text::format_tensor(t, Some(max_elements)));
    }
    out
}

/// Writes results to the files named by `--output` flags, in order.
pub fn write_outputs(specs: &[String], outputs: &[HostTensor]) -> Result<()> {
    if specs.len() > outputs.len() {
        bail!(
            "{} --output flags given but the function returns {} results",
            specs.len(),
            outputs.len()
        );
    }
    for (spec, t) in specs.iter().zip(outputs) {
        let bytes =
            npy::write_npy(t).with_context(|| format!("cannot write result to '{spec}'"))?;
        if let Some(path) = spec.strip_prefix('@') {
            std::fs::write(path, bytes).with_context(|| format!("cannot write '{path}'"))?;
        } else if let Some(path) = spec.strip_prefix('+') {
            use std::io::Write as _;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open '{path}'"))?;
            f.write_all(&bytes)
                .with_context(|| format!("cannot write '{path}'"))?;
        } else {
            bail!("--output must be @file.npy or +file.npy, got '{spec}'");
        }
    }
    Ok(())
}

/// Absolute tolerances per element type, like IREE's `--expected_f32_threshold` family.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    pub f32: f64,
    pub f16: f64,
    pub bf16: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            f32: 1e-4,
            f16: 1e-3,
            bf16: 1e-2,
        }
    }
}

/// Compares results with expectations; the error describes the first mismatch.
pub fn compare(
    expected: &[HostTensor],
    actual: &[HostTensor],
    th: Thresholds,
) -> Result<(), String> {
    if expected.len() != actual.len() {
        return Err(format!(
            "[FAILED] expected {} outputs but the function returned {}",
            expected.len(),
            actual.len()
        ));
    }
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        if e.element_type != a.element_type || e.shape != a.shape {
            return Err(format!(
                "[FAILED] result[{i}]: expected a {} but got a {}",
                e.type_string(),
                a.type_string()
            ));
        }
        let tol = match e.element_type {
            ElementType::F32 | ElementType::F64 => th.f32,
            ElementType::F16 => th.f16,
            ElementType::BF16 => th.bf16,
            _ => 0.0,
        };
        for (j, (x, y)) in e.to_f64().iter().zip(a.to_f64()).enumerate() {
            let same = (x - y).abs() <= tol || (x.is_nan() && y.is_nan()) || x == &y;
            if !same {
                return Err(format!(
                    "[FAILED] result[{i}]: element at index {j} ({}) does not match the expected ({}); expected that the view is equal to contents of a view of {}",
                    text::format_float_g(y, false),
                    text::format_float_g(*x, false),
                    e.type_string()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_and_npy_sequences() {
        let dir = std::env::temp_dir().join(format!("kiln-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("two.npy");
        let a = HostTensor::from_f32(&[2], &[1.0, 2.0]);
        let b = HostTensor::from_i64(&[1], &[7]);
        std::fs::write(&path, npy::write_npy_all(&[a.clone(), b.clone()]).unwrap()).unwrap();
        let mut r = InputReader::default();
        let p = path.display();
        assert_eq!(r.read(&format!("@{p}")).unwrap(), a);
        assert_eq!(r.read(&format!("+{p}")).unwrap(), b);
        assert!(r
            .read(&format!("+{p}"))
            .unwrap_err()
            .to_string()
            .contains("no more arrays"));
        assert_eq!(r.read("2xf32=1 2").unwrap(), a);
        assert!(r.read("2xf32=1 2 3").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn compare_reports_first_mismatch() {
        let e = HostTensor::from_f32(&[3], &[1.0, 2.0, 3.0]);
        assert!(compare(
            std::slice::from_ref(&e),
            &[HostTensor::from_f32(&[3], &[1.0, 2.00001, 3.0])],
            Thresholds::default()
        )
        .is_ok());
        let err = compare(
            std::slice::from_ref(&e),
            &[HostTensor::from_f32(&[3], &[1.0, 2.5, 3.0])],
            Thresholds::default(),
        )
        .unwrap_err();
        assert_eq!(err, "[FAILED] result[0]: element at index 1 (2.5) does not match the expected (2); expected that the view is equal to contents of a view of 3xf32");
        assert_eq!(
            format_results(&[e], 1024),
            "result[0]: hal.buffer_view\n3xf32=1 2 3\n"
        );
    }
}
