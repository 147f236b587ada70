//! Register-tile shapes and the packed strip layouts of data-tiled operands (IREE's mmt4d
//! encodings): what a constant operand packed at compile time looks like.

use super::{pack_a, pack_b, Matrix};
use crate::AlignedVec;
use alloc::vec::Vec;

/// A register-tile shape and the instruction set whose kernel uses it. Packed operands are laid
/// out for one of these; [`TILE_SHAPES`] lists them all, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileShape {
    /// Rows of a left-hand strip.
    pub mr: usize,
    /// Columns of a right-hand strip.
    pub nr: usize,
    /// The fewest columns a tile computes: a narrower last strip is rounded up to this.
    pub narrowest: usize,
    /// The instruction set, for diagnostics.
    pub isa: &'static str,
    /// The f32 lanes of the vector registers the tile is written for.
    pub lanes: usize,
    /// The architecture (`std::env::consts::ARCH` spelling) whose CPUs may have the
    /// instructions; empty for any.
    pub arch: &'static str,
    /// The CPU features (LLVM names) the kernel for this shape needs.
    pub features: &'static [&'static str],
    /// Whether this crate has the tile; the others exist only as code generated into each
    /// native executable (`kiln-codegen-llvm`), reached through an [`ExternalTile`](super::ExternalTile).
    pub builtin: bool,
}

/// Every tile shape a packed operand may use, best first; the last needs nothing.
pub const TILE_SHAPES: [TileShape; 4] = [
    TileShape {
        mr: 8,
        nr: 32,
        narrowest: 16,
        isa: "avx512",
        lanes: 16,
        arch: "x86_64",
        features: &["avx512f", "avx2", "fma"],
        builtin: true,
    },
    TileShape {
        mr: 6,
        nr: 16,
        narrowest: 16,
        isa: "avx2+fma",
        lanes: 8,
        arch: "x86_64",
        features: &["avx2", "fma"],
        builtin: true,
    },
    TileShape {
        mr: 8,
        nr: 8,
        narrowest: 8,
        isa: "neon",
        lanes: 4,
        arch: "aarch64",
        features: &["neon"],
        builtin: false,
    },
    PORTABLE_TILE,
];

/// The portable tile, which needs no CPU feature.
pub const PORTABLE_TILE: TileShape = TileShape {
    mr: 4,
    nr: 8,
    narrowest: 8,
    isa: "generic",
    lanes: 4,
    arch: "",
    features: &[],
    builtin: true,
};

impl TileShape {
    /// The best shape for a CPU of architecture `arch` whose features are all in `has`.
    pub fn for_features(arch: &str, has: impl Fn(&str) -> bool) -> TileShape {
        TILE_SHAPES
            .into_iter()
            .filter(|t| t.arch.is_empty() || t.arch == arch)
            .find(|t| t.features.iter().all(|f| has(f)))
            .unwrap_or(PORTABLE_TILE)
    }

    /// The shape of exactly `mr`×`nr`, if there is one.
    pub fn with_size(mr: usize, nr: usize) -> Option<TileShape> {
        TILE_SHAPES.into_iter().find(|t| t.mr == mr && t.nr == nr)
    }
}

/// What a packed operand fixes about the tiles that may read it: the rows of its left-hand
/// strips or the columns of its right-hand strips (the other side of the tile is free).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packing {
    /// Left-hand strips of this many rows.
    Rows(usize),
    /// Right-hand strips of this many columns.
    Columns(usize),
}

impl Packing {
    /// Whether tiles of `shape` read operands packed this way.
    pub fn fits(self, shape: TileShape) -> bool {
        match self {
            Packing::Rows(mr) => shape.mr == mr,
            Packing::Columns(nr) => shape.nr == nr,
        }
    }

    /// Whether any tile shape reads operands packed this way.
    pub fn is_known(self) -> bool {
        TILE_SHAPES.into_iter().any(|t| self.fits(t))
    }

    /// The rows or columns of a strip.
    pub fn strip(self) -> usize {
        match self {
            Packing::Rows(s) | Packing::Columns(s) => s,
        }
    }
}

impl core::fmt::Display for Packing {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            Packing::Rows(mr) => write!(f, "{mr}-row"),
            Packing::Columns(nr) => write!(f, "{nr}-column"),
        }
    }
}

/// `a[m×k]` in left-hand strip layout: `ceil(m/mr)` strips of `k×mr`, element `(i, p)` at
/// `(i/mr)·k·mr + p·mr + i%mr`, rows past `m` zero.
///
/// ```
/// use kiln_ukernel::{gemm::pack_lhs, Matrix};
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 3×2
/// let m = Matrix::row_major(&a, 2);
/// assert_eq!(pack_lhs(&m, 3, 2, 2), [1.0, 3.0, 2.0, 4.0, 5.0, 0.0, 6.0, 0.0]);
/// ```
pub fn pack_lhs(a: &Matrix, m: usize, k: usize, mr: usize) -> Vec<f32> {
    let mut out = AlignedVec::default();
    pack_a(mr, a, 0, m, 0, k, &mut out);
    out.to_vec()
}

/// `b[k×n]` in right-hand strip layout: `ceil(n/nr)` strips of `k×nr`, element `(p, j)` at
/// `(j/nr)·k·nr + p·nr + j%nr`, columns past `n` zero.
pub fn pack_rhs(b: &Matrix, k: usize, n: usize, nr: usize) -> Vec<f32> {
    let mut out = AlignedVec::default();
    pack_b(nr, b, 0, k, 0, n, &mut out);
    out.to_vec()
}
