//! Every ISA variant of the GEMM kernel, and the drivers around an external tile of every
//! shape, agree with a plain triple loop, over awkward sizes, strides and the accumulate flag.

use kiln_ukernel::gemm::{ExternalTile, TileShape, TILE_SHAPES};
use kiln_ukernel::{Kernels, Matrix};

/// An external tile as [`kiln_ukernel::gemm::TileFn`] specifies it, computed plainly.
unsafe extern "C" fn plain_tile<const MR: usize, const NR: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    acc: *mut f32,
) {
    for i in 0..MR {
        for j in 0..NR {
            let sum = (0..kc).map(|p| unsafe { *a.add(p * MR + i) * *b.add(p * NR + j) });
            unsafe { *acc.add(i * NR + j) = sum.sum() };
        }
    }
}

/// The built-in kernels this CPU runs, then the drivers around a plain external tile of every
/// shape (as an executable's generated tile would be).
fn variants() -> Vec<Kernels> {
    let external = |shape: TileShape| {
        let func = match (shape.mr, shape.nr) {
            (8, 32) => plain_tile::<8, 32>,
            (6, 16) => plain_tile::<6, 16>,
            (8, 8) => plain_tile::<8, 8>,
            (4, 8) => plain_tile::<4, 8>,
            other => panic!("no plain tile of shape {other:?}"),
        };
        Kernels::external(unsafe { ExternalTile::new(shape, func) }.unwrap())
    };
    let builtin = TILE_SHAPES.into_iter().filter_map(Kernels::for_tile);
    builtin.chain(TILE_SHAPES.map(external)).collect()
}

fn lcg(seed: &mut u64) -> f32 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
}

/// `C (+)= A·B` through [`Kernels::sgemm`] against a plain f64 loop. A row-major A sits at an
/// offset inside a buffer with padded rows; a transposed A is stored column by column.
fn check(
    kernels: &Kernels,
    m: usize,
    n: usize,
    k: usize,
    [transposed_a, transposed_b]: [bool; 2],
    accumulate: bool,
) {
    let mut seed = (m * 131 + n * 7 + k) as u64;
    let a: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| lcg(&mut seed)).collect();
    let (lda, offset) = (k + 3, 2);
    let mut stored_a = vec![f32::NAN; offset + m * lda];
    for (i, row) in a.chunks_exact(k.max(1)).enumerate().take(m) {
        stored_a[offset + i * lda..][..k].copy_from_slice(row);
    }
    let a_columns: Vec<f32> = (0..k * m).map(|q| a[(q % m) * k + q / m]).collect();
    let ma = if transposed_a {
        Matrix::row_major(&a_columns, m).transposed()
    } else {
        Matrix {
            offset,
            ..Matrix::row_major(&stored_a, lda)
        }
    };
    let mb = if transposed_b {
        Matrix::row_major(&b, k).transposed()
    } else {
        Matrix::row_major(&b, n)
    };
    let ldc = n + 3;
    let mut c = vec![1.0f32; m * ldc];
    unsafe { kernels.sgemm(m, n, k, &ma, &mb, c.as_mut_ptr(), ldc, accumulate) };
    for i in 0..m {
        for j in 0..n {
            let bj = |p: usize| {
                if transposed_b {
                    b[j * k + p]
                } else {
                    b[p * n + j]
                }
            };
            let want: f64 = (0..k)
                .map(|p| a[i * k + p] as f64 * bj(p) as f64)
                .sum::<f64>()
                + if accumulate { 1.0 } else { 0.0 };
            let got = c[i * ldc + j] as f64;
            assert!(
                (got - want).abs() < 1e-4 * (k as f64).sqrt() + 1e-5,
                "{} m={m} n={n} k={k}: c[{i},{j}] = {got}, want {want}",
                kernels.tile.isa
            );
        }
        for j in n..ldc {
            assert_eq!(c[i * ldc + j], 1.0, "padding column written");
        }
    }
}

#[test]
fn all_variants_match_reference() {
    for kernels in &variants() {
        for &(m, n, k) in &[
            (1, 1, 1),
            (3, 5, 7),
            (8, 32, 16),
            (17, 33, 300),
            (64, 64, 64),
            (130, 70, 513),
            (5, 100, 0),
            // A single strip of A (B read in place), ragged n, several depth blocks.
            (4, 70, 600),
            (8, 64, 257),
            (6, 48, 40),
            // Deeper than one depth block (KC), for both paths.
            (9, 40, 1500),
            (20, 33, 1100),
        ] {
            for transposed in [[false, false], [false, true], [true, false]] {
                for acc in [false, true] {
                    check(kernels, m, n, k, transposed, acc);
                }
            }
        }
    }
}

/// Data tiling: every tile this CPU runs (and an external one of every shape), with each
/// operand packed ahead of time, packed during the call, read in place through row starts
/// (near or a page apart), (right-hand) filled panel by panel or a selection of packed depth
/// rows, and C written row-major, column-major or through a list of row offsets (of columns
/// or of rows), replacing its values or added to them, agrees with a plain triple loop.
#[test]
fn packed_operands_match_reference() {
    use kiln_ukernel::gemm::{pack_lhs, pack_rhs, Lhs, MatrixMut, Offsets, Rhs};
    for kernels in variants() {
        let shape = kernels.tile;
        for &(m, n, k) in &[
            (1, 1, 1),
            (3, 5, 7),
            (17, 33, 300),
            (40, 70, 360),
            (9, 40, 1500),
            (2, 40, 64),
            (12, 33, 20),
            (10, 48, 50),
            (6, 57, 30),
            (5, 100, 0),
            // Two full strips side by side (a tile over both where the CPU has one), then a
            // ragged or a single one, over depths that keep the pair in L1 or not.
            (13, 128, 100),
            (7, 96, 160),
            (25, 70, 9),
            (49, 64, 147),
            (14, 200, 64),
        ] {
            let mut seed = (m * 31 + n * 17 + k) as u64;
            let a: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| lcg(&mut seed)).collect();
            let ma = Matrix::row_major(&a, k);
            let mb = Matrix::row_major(&b, n);
            let (pa, pb) = (pack_lhs(&ma, m, k, shape.mr), pack_rhs(&mb, k, n, shape.nr));
            // Gathered rows, read in place: B's rows with room for a whole last strip.
            let mut b_slack = b.clone();
            b_slack.resize(b.len() + shape.nr, f32::NAN);
            let starts: Offsets = (0..k).map(|p| p * n).collect();
            // Gathered rows a page and more apart (a pointwise convolution's input planes):
            // tall products copy each strip together before their tiles read it.
            let pitch = n.max(1100);
            let mut b_spread = vec![f32::NAN; k.max(1) * pitch + shape.nr];
            for p in 0..k {
                b_spread[p * pitch..][..n].copy_from_slice(&b[p * n..][..n]);
            }
            let spread_starts: Offsets = (0..k).map(|p| p * pitch).collect();
            // The same with nothing readable past the last row's `n` values: a ragged last
            // strip is copied rather than read in place.
            let spread_exact = &b_spread[..(k.max(1) - 1) * pitch + n];
            // Selected packed rows: B packed with a NaN row before each real one, of which the
            // product reads only the real ones.
            let b_doubled: Vec<f32> = (0..2 * k * n)
                .map(|e| {
                    let (p, j) = (e / n, e % n);
                    if p % 2 == 0 {
                        f32::NAN
                    } else {
                        b[(p / 2) * n + j]
                    }
                })
                .collect();
            let pb_doubled = pack_rhs(&Matrix::row_major(&b_doubled, n), 2 * k, n, shape.nr);
            let selected: Offsets = (0..k).map(|p| (2 * p + 1) * shape.nr).collect();
            // Gathered left-hand rows: A read in place, depth p at p, row i at i·k.
            let (depths, row_offsets): (Offsets, Offsets) =
                ((0..k).collect(), (0..m).map(|i| i * k).collect());
            // The same with each row's depths stored last to first: starts not evenly apart,
            // read from their table rather than computed.
            let a_reversed: Vec<f32> = (0..m * k)
                .map(|e| a[(e / k) * k + (k - 1 - e % k)])
                .collect();
            let depths_reversed: Offsets = (0..k).map(|p| k - 1 - p).collect();
            // Listed C rows: row i of the product is column m-1-i of a column-major C, or
            // (listed in order, one apart) column i+1; or row m-1-i of a row-major C (a
            // channels-last output's pixels).
            let listed: Vec<usize> = (0..m).rev().collect();
            let listed_in_order: Vec<usize> = (1..=m).collect();
            let listed_rows: Vec<usize> = (0..m).rev().map(|r| r * (n + 2)).collect();
            let cases =
                (0..4).flat_map(|l| (0..7).flat_map(move |r| (0..5).map(move |o| (l, r, o))));
            for (lhs_kind, rhs_kind, out_kind) in cases {
                // C with a border of untouched values: rows (or columns) `ld` apart.
                let column_major = (1..=3).contains(&out_kind);
                let accumulate = (lhs_kind + rhs_kind + out_kind) % 2 == 1;
                let ld = if column_major { m + 2 } else { n + 2 };
                let mut c = vec![7.0f32; ld * if column_major { n } else { m }];
                let at = |i: usize, j: usize| match out_kind {
                    0 => i * ld + j,
                    1 => j * ld + i,
                    2 => j * ld + listed[i],
                    3 => j * ld + listed_in_order[i],
                    _ => listed_rows[i] + j,
                };
                let lhs = match lhs_kind {
                    0 => Lhs::Packed(&pa),
                    1 => Lhs::Matrix(ma),
                    2 => Lhs::Gather {
                        data: &a,
                        rows: &depths,
                        offsets: &row_offsets,
                    },
                    _ => Lhs::Gather {
                        data: &a_reversed,
                        rows: &depths_reversed,
                        offsets: &row_offsets,
                    },
                };
                let mut fill = |j0: usize, width: usize, p0: usize, kc: usize, out: &mut [f32]| {
                    for p in 0..kc {
                        for j in 0..shape.nr {
                            out[p * shape.nr + j] = if j < width {
                                b[(p0 + p) * n + j0 + j]
                            } else {
                                0.0
                            };
                        }
                    }
                };
                let rhs = match rhs_kind {
                    0 => Rhs::Packed(&pb),
                    1 => Rhs::Panels(&mut fill),
                    2 => Rhs::Gather {
                        data: &b_slack,
                        rows: &starts,
                    },
                    3 => Rhs::PackedSelect {
                        data: &pb_doubled,
                        strip_len: 2 * k * shape.nr,
                        rows: &selected,
                    },
                    4 => Rhs::Gather {
                        data: &b_spread,
                        rows: &spread_starts,
                    },
                    5 => Rhs::Gather {
                        data: &b,
                        rows: &starts,
                    },
                    _ => Rhs::Gather {
                        data: spread_exact,
                        rows: &spread_starts,
                    },
                };
                let out = MatrixMut {
                    ptr: c.as_mut_ptr(),
                    row_stride: if column_major { 1 } else { ld },
                    col_stride: if column_major { ld } else { 1 },
                    row_offsets: match out_kind {
                        2 => Some(&listed[..]),
                        3 => Some(&listed_in_order[..]),
                        4 => Some(&listed_rows[..]),
                        _ => None,
                    },
                    // Every other case adds the product to C's 7s (a residual in the output).
                    accumulate,
                };
                unsafe { kernels.packed_gemm(m, n, k, lhs, rhs, out) };
                let case = format!(
                    "{} m={m} n={n} k={k} lhs={lhs_kind} rhs={rhs_kind} out={out_kind} accumulate={accumulate}",
                    shape.isa
                );
                let mut written = vec![false; c.len()];
                for i in 0..m {
                    for j in 0..n {
                        let want: f64 = (0..k)
                            .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                            .sum::<f64>()
                            + if accumulate { 7.0 } else { 0.0 };
                        let got = c[at(i, j)] as f64;
                        assert!(
                            (got - want).abs() < 1e-4 * (k as f64).sqrt() + 1e-5,
                            "{case}: c[{i},{j}] = {got}, want {want}"
                        );
                        written[at(i, j)] = true;
                    }
                }
                assert!(
                    c.iter().zip(&written).all(|(&v, &w)| w || v == 7.0),
                    "{case}: padding written"
                );
            }
        }
    }
}
