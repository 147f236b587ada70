//! Prints the GFLOP/s of each SGEMM variant on square matrices: `cargo run --release --example sgemm_speed -p kiln-ukernel [N]`.

use kiln_ukernel::{Kernels, Matrix};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    let a = vec![1.0f32; n * n];
    let b = vec![0.5f32; n * n];
    let mut c = vec![0.0f32; n * n];
    let variants = kiln_ukernel::gemm::TILE_SHAPES
        .into_iter()
        .rev()
        .filter_map(Kernels::for_tile);
    for k in variants {
        let ma = Matrix::row_major(&a, n);
        let mb = Matrix::row_major(&b, n);
        let reps = 5;
        let t = Instant::now();
        for _ in 0..reps {
            // SAFETY: c is n×n and exclusively borrowed.
            unsafe { k.sgemm(n, n, n, &ma, &mb, c.as_mut_ptr(), n, false) };
        }
        let secs = t.elapsed().as_secs_f64() / reps as f64;
        println!(
            "{:>10}: {n}^3 in {:.2} ms = {:.1} GFLOP/s",
            k.tile.isa,
            secs * 1e3,
            2.0 * (n as f64).powi(3) / secs / 1e9
        );
    }
}
