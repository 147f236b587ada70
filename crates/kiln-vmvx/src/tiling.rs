//! The CPU family's workgroup → tile mapping, written once.
//!
//! Every VMVX kernel splits a *domain* (its output's parallel dims, or a batch/group/channel
//! decomposition of them) into *tiles*; workgroup `wg` computes the `wg`-th tile in row-major
//! order, the last dim fastest ([`Grid`]). The interpreter, the load-time checks, the epilogue
//! boxes and the llvm-cpu code generator all take a kernel's tiles from [`Kernel::grid`] and
//! [`Grid::tile_box_with`], the last through [`IndexArith`] so that generated code computes the
//! same box the interpreter does.

use crate::format::{Kernel, KernelOp};
use smallvec::{smallvec, SmallVec};

/// Per-dim values of a grid or a box, inline up to rank 8 (workgroups compute boxes without
/// touching the allocator).
pub type Dims<V> = SmallVec<[V; 8]>;

/// Rows handled per workgroup by softmax, layer norm and gather.
pub const ROWS_PER_WORKGROUP: u64 = 16;

/// A domain split into tiles, one per workgroup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    pub domain: Dims<u64>,
    /// Tile extent per dim (a 0 counts as 1).
    pub tile: Dims<u64>,
}

/// A box `[lo, hi)`: its lower and upper corners.
pub type TileBox<V> = (Dims<V>, Dims<V>);

/// Index arithmetic a box is computed in: plain `u64` ([`Plain`]) or instructions a code
/// generator emits (where a kernel's sizes may be run-time values).
pub trait IndexArith {
    type Value: Copy;
    type Error;
    fn constant(&mut self, v: u64) -> Result<Self::Value, Self::Error>;
    fn div(&mut self, a: Self::Value, b: Self::Value) -> Result<Self::Value, Self::Error>;
    fn rem(&mut self, a: Self::Value, b: Self::Value) -> Result<Self::Value, Self::Error>;
    fn mul(&mut self, a: Self::Value, b: Self::Value) -> Result<Self::Value, Self::Error>;
    fn add(&mut self, a: Self::Value, b: Self::Value) -> Result<Self::Value, Self::Error>;
    fn min(&mut self, a: Self::Value, b: Self::Value) -> Result<Self::Value, Self::Error>;
    fn max(&mut self, a: Self::Value, b: Self::Value) -> Result<Self::Value, Self::Error>;
}

/// Index arithmetic on `u64` values.
pub struct Plain;

impl IndexArith for Plain {
    type Value = u64;
    type Error = core::convert::Infallible;
    fn constant(&mut self, v: u64) -> Result<u64, Self::Error> {
        Ok(v)
    }
    fn div(&mut self, a: u64, b: u64) -> Result<u64, Self::Error> {
        Ok(a / b)
    }
    fn rem(&mut self, a: u64, b: u64) -> Result<u64, Self::Error> {
        Ok(a % b)
    }
    fn mul(&mut self, a: u64, b: u64) -> Result<u64, Self::Error> {
        Ok(a * b)
    }
    fn add(&mut self, a: u64, b: u64) -> Result<u64, Self::Error> {
        Ok(a + b)
    }
    fn min(&mut self, a: u64, b: u64) -> Result<u64, Self::Error> {
        Ok(a.min(b))
    }
    fn max(&mut self, a: u64, b: u64) -> Result<u64, Self::Error> {
        Ok(a.max(b))
    }
}

/// The box `[lo, hi)` that workgroup `wg` computes of `domain` split by `tile` (a 0 tile
/// counts as 1), in `arith`: the one definition of the CPU family's workgroup → tile mapping,
/// for sizes known when compiling ([`Grid::tile_box_with`]) and sizes a generated kernel
/// reads at run time alike.
pub fn tile_box_in<A: IndexArith>(
    arith: &mut A,
    domain: &[A::Value],
    tile: &[A::Value],
    wg: A::Value,
) -> Result<TileBox<A::Value>, A::Error> {
    let n = domain.len();
    let one = arith.constant(1)?;
    let (mut lo, mut hi): TileBox<A::Value> = (smallvec![wg; n], smallvec![wg; n]);
    let mut rest = wg;
    for d in (0..n).rev() {
        let t = arith.max(tile[d], one)?;
        // ceil(domain / t), at least 1.
        let whole = arith.div(domain[d], t)?;
        let part = arith.rem(domain[d], t)?;
        let part = arith.min(part, one)?;
        let tiles = arith.add(whole, part)?;
        let tiles = arith.max(tiles, one)?;
        let i = arith.rem(rest, tiles)?;
        rest = arith.div(rest, tiles)?;
        lo[d] = arith.mul(i, t)?;
        let end = arith.add(lo[d], t)?;
        hi[d] = arith.min(end, domain[d])?;
    }
    Ok((lo, hi))
}

impl Grid {
    fn tiles(&self, d: usize) -> u64 {
        self.domain[d].div_ceil(self.tile[d].max(1))
    }

    /// Workgroups in the grid; `u64::MAX` if the count overflows.
    pub fn count(&self) -> u64 {
        (0..self.domain.len())
            .try_fold(1u64, |a, d| a.checked_mul(self.tiles(d)))
            .unwrap_or(u64::MAX)
    }

    /// The box `[lo, hi)` of the domain that workgroup `wg` computes, in `arith`.
    ///
    /// ```
    /// use kiln_vmvx::tiling::Grid;
    /// let g = Grid { domain: [2, 10][..].into(), tile: [1, 4][..].into() };
    /// assert_eq!(g.count(), 6);
    /// let (lo, hi) = g.tile_box(5);
    /// assert_eq!((&lo[..], &hi[..]), (&[1, 8][..], &[2, 10][..]));
    /// ```
    pub fn tile_box_with<A: IndexArith>(
        &self,
        arith: &mut A,
        wg: A::Value,
    ) -> Result<TileBox<A::Value>, A::Error> {
        let domain: Dims<A::Value> = self
            .domain
            .iter()
            .map(|&d| arith.constant(d))
            .collect::<Result<_, _>>()?;
        let tile: Dims<A::Value> = self
            .tile
            .iter()
            .map(|&t| arith.constant(t))
            .collect::<Result<_, _>>()?;
        tile_box_in(arith, &domain, &tile, wg)
    }

    /// [`Grid::tile_box_with`] in plain integers.
    pub fn tile_box(&self, wg: u64) -> TileBox<u64> {
        match self.tile_box_with(&mut Plain, wg) {
            Ok(b) => b,
            Err(never) => match never {},
        }
    }
}

impl Kernel {
    /// The kernel's workgroup grid: what its workgroups split and how.
    ///
    /// - generic: the parallel dims, by `tile`;
    /// - matmul: `[batch, m, n]` by `[1, tile_m, tile_n]`;
    /// - conv2d: `[image, output row, group, channel within group]` by `[1, tile_oh, 1,
    ///   tile_co]`, or for a depthwise convolution (one output channel per group) by `[1,
    ///   tile_oh, tile_co, 1]`: `tile_co` output channels, across groups. Rows come first, so
    ///   where a convolution splits its rows the first workgroups (the ones `local-task`'s
    ///   calling thread takes) cover the top rows for every channel tile and read only those
    ///   rows' input: with two threads, a pointwise convolution after a depthwise one reads
    ///   half as much of what the other thread wrote;
    /// - pointwise_depthwise: as a depthwise convolution, `[image, output row, channel, 1]` by
    ///   `[1, tile_oh, tile_co, 1]`;
    /// - pool2d, conv_band: one `[image, channel]` plane each;
    /// - softmax, layer norm, gather: [`ROWS_PER_WORKGROUP`] rows each.
    /// - attention: `[batch, query row]` by `[1, tile_m]`.
    /// - recurrent: one direction each.
    pub fn grid(&self) -> Grid {
        let grid = |domain: &[u64], tile: &[u64]| Grid {
            domain: domain.into(),
            tile: tile.into(),
        };
        let rows = |n: u64| grid(&[n], &[ROWS_PER_WORKGROUP]);
        match &self.op {
            KernelOp::Generic {
                shape,
                tile,
                reduction_dims,
                ..
            } => {
                let p = shape.len() - *reduction_dims as usize;
                grid(&shape[..p], &tile[..p])
            }
            KernelOp::MatMul {
                c, tile_m, tile_n, ..
            } => grid(&c.shape, &[1, *tile_m, *tile_n]),
            KernelOp::Conv2d {
                y,
                groups,
                tile_co,
                tile_oh,
                ..
            } => {
                let cog = y.shape[1] / (*groups).max(1);
                let tile = if cog == 1 {
                    [1, *tile_oh, *tile_co, 1]
                } else {
                    [1, *tile_oh, 1, *tile_co]
                };
                grid(&[y.shape[0], y.shape[2], *groups, cog], &tile)
            }
            // As a depthwise convolution's.
            KernelOp::PointwiseDepthwise {
                y,
                tile_co,
                tile_oh,
                ..
            } => grid(
                &[y.shape[0], y.shape[2], y.shape[1], 1],
                &[1, *tile_oh, *tile_co, 1],
            ),
            // A channels-last pooling by output rows of every channel, else by planes.
            KernelOp::Pool2d { x, y, .. } if x.is_channels_last() => {
                grid(&[y.shape[0], y.shape[2]], &[1, 1])
            }
            KernelOp::Pool2d { y: v, .. } | KernelOp::ConvBand { x: v, .. } => {
                grid(&v.shape[..2], &[1, 1])
            }
            KernelOp::Softmax { x, .. } | KernelOp::LayerNorm { x, .. } => rows(x.shape[0]),
            KernelOp::Gather { out, .. } => rows(out.shape[0]),
            KernelOp::Attention { out, tile_m, .. } => grid(&out.shape[..2], &[1, *tile_m]),
            KernelOp::Recurrent { weights, .. } => grid(&weights.shape[..1], &[1]),
        }
    }
}
