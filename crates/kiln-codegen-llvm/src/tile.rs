//! The mmt4d register tile generated as LLVM IR, for targets where kiln has no tile in Rust
//! (AArch64's NEON) or when the user turns the microkernels off
//! (`--iree-llvmcpu-enable-ukernels=none`).
//!
//! The function follows [`kiln_ukernel::gemm::TileFn`]: `void tile(i64 kc, ptr a, ptr b, ptr
//! acc)` sets `acc[i·nr + j] = Σ_p a[p·mr + i]·b[p·nr + j]` over packed strips of depth `kc`.
//! Its accumulators are `mr × nr/lanes` vectors of the target's width carried through the depth
//! loop; each depth step loads `nr/lanes` vectors of B and broadcasts one value of A per row
//! into a fused multiply-add (`llvm.fmuladd`, which becomes `vfmadd231ps` on x86 and `fmla` on
//! AArch64). The runtime's GEMM drivers call it for every tile (`kiln_ukernel::Kernels::external`).

use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::{Linkage, Module};
use inkwell::values::{BasicValue, BasicValueEnum, VectorValue};
use inkwell::IntPredicate;
use kiln_ukernel::gemm::TileShape;

/// The symbol of the generated tile in an executable's object.
pub const TILE_SYMBOL: &str = "kiln_mmt4d_tile_f32";

/// Adds the tile function of `shape` to `module` as [`TILE_SYMBOL`].
pub(crate) fn emit<'ctx>(
    cx: &'ctx Context,
    module: &Module<'ctx>,
    shape: TileShape,
) -> Result<(), String> {
    let e = |err: inkwell::builder::BuilderError| format!("building the GEMM tile: {err}");
    let lanes = shape.lanes.min(shape.nr) as u32;
    if !shape.nr.is_multiple_of(lanes as usize) {
        return Err(format!(
            "a {}-column tile is not a whole number of {lanes}-lane vectors",
            shape.nr
        ));
    }
    let (mr, vectors) = (shape.mr, shape.nr / lanes as usize);
    let (f32t, i64t, i32t) = (cx.f32_type(), cx.i64_type(), cx.i32_type());
    let ptr = cx.ptr_type(inkwell::AddressSpace::default());
    let vt = f32t.vec_type(lanes);
    let fn_type = cx
        .void_type()
        .fn_type(&[i64t.into(), ptr.into(), ptr.into(), ptr.into()], false);
    let f = module.add_function(TILE_SYMBOL, fn_type, Some(Linkage::External));
    let fmuladd = inkwell::intrinsics::Intrinsic::find("llvm.fmuladd")
        .and_then(|i| i.get_declaration(module, &[vt.into()]))
        .ok_or("LLVM has no llvm.fmuladd")?;
    let param = |i: u32| f.get_nth_param(i).ok_or("the tile lacks a parameter");
    let kc = param(0)?.into_int_value();
    let [a, b, acc] = [param(1)?, param(2)?, param(3)?].map(|p| p.into_pointer_value());
    let b_ = cx.create_builder();
    let (entry, body, exit) = (
        cx.append_basic_block(f, "entry"),
        cx.append_basic_block(f, "depth"),
        cx.append_basic_block(f, "store"),
    );
    b_.position_at_end(entry);
    let empty = b_
        .build_int_compare(IntPredicate::EQ, kc, i64t.const_zero(), "empty")
        .map_err(e)?;
    b_.build_conditional_branch(empty, exit, body).map_err(e)?;

    // One depth step: acc[i][v] += a[p·mr + i] · b[p·nr + v·lanes ..].
    b_.position_at_end(body);
    let p = b_.build_phi(i64t, "p").map_err(e)?;
    let sums: Vec<_> = (0..mr * vectors)
        .map(|s| b_.build_phi(vt, &format!("acc{s}")))
        .collect::<Result<_, _>>()
        .map_err(e)?;
    let p_value = p.as_basic_value().into_int_value();
    let load = |base,
                index: inkwell::values::IntValue<'ctx>,
                ty: inkwell::types::BasicTypeEnum<'ctx>|
     -> Result<BasicValueEnum<'ctx>, String> {
        // SAFETY: the index stays inside the packed strip the caller passes (TileFn's contract).
        let at = unsafe { b_.build_in_bounds_gep(f32t, base, &[index], "at") }.map_err(e)?;
        let value = b_.build_load(ty, at, "v").map_err(e)?;
        value
            .as_instruction_value()
            .and_then(|i| i.set_alignment(4).ok())
            .ok_or("cannot align a load")?;
        Ok(value)
    };
    let row_b = b_
        .build_int_mul(p_value, i64t.const_int(shape.nr as u64, false), "rowb")
        .map_err(e)?;
    let bv: Vec<VectorValue> = (0..vectors)
        .map(|v| {
            let offset = i64t.const_int((v * lanes as usize) as u64, false);
            let index = b_.build_int_add(row_b, offset, "ib").map_err(e)?;
            Ok(load(b, index, vt.into())?.into_vector_value())
        })
        .collect::<Result<_, String>>()?;
    let row_a = b_
        .build_int_mul(p_value, i64t.const_int(mr as u64, false), "rowa")
        .map_err(e)?;
    let mut next = Vec::with_capacity(mr * vectors);
    for i in 0..mr {
        let index = b_
            .build_int_add(row_a, i64t.const_int(i as u64, false), "ia")
            .map_err(e)?;
        let av = splat(&b_, load(a, index, f32t.into())?, lanes, i32t).map_err(e)?;
        for (v, bv) in bv.iter().enumerate() {
            let sum = sums[i * vectors + v].as_basic_value();
            let call = b_
                .build_call(fmuladd, &[av.into(), (*bv).into(), sum.into()], "fma")
                .map_err(e)?;
            next.push(call.try_as_basic_value().basic().ok_or("fmuladd is void")?);
        }
    }
    let p_next = b_
        .build_int_add(p_value, i64t.const_int(1, false), "pn")
        .map_err(e)?;
    let more = b_
        .build_int_compare(IntPredicate::ULT, p_next, kc, "more")
        .map_err(e)?;
    b_.build_conditional_branch(more, body, exit).map_err(e)?;
    p.add_incoming(&[(&i64t.const_zero(), entry), (&p_next, body)]);
    for (phi, value) in sums.iter().zip(&next) {
        phi.add_incoming(&[(&vt.const_zero(), entry), (value, body)]);
    }

    // acc[i·nr + v·lanes ..] = the sums (zero for an empty depth).
    b_.position_at_end(exit);
    let outs = next
        .iter()
        .map(|value| {
            let out = b_.build_phi(vt, "out")?;
            out.add_incoming(&[(&vt.const_zero(), entry), (value, body)]);
            Ok(out)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(e)?;
    for (s, out) in outs.iter().enumerate() {
        let (i, v) = (s / vectors, s % vectors);
        let index = i64t.const_int((i * shape.nr + v * lanes as usize) as u64, false);
        // SAFETY: acc holds mr·nr values (TileFn's contract).
        let at = unsafe { b_.build_in_bounds_gep(f32t, acc, &[index], "out") }.map_err(e)?;
        let store = b_.build_store(at, out.as_basic_value()).map_err(e)?;
        store.set_alignment(4).map_err(|m| m.to_string())?;
    }
    b_.build_return(None).map_err(e)?;
    Ok(())
}

/// `x` in every lane of a `lanes`-wide vector.
fn splat<'ctx>(
    b: &Builder<'ctx>,
    x: BasicValueEnum<'ctx>,
    lanes: u32,
    i32t: inkwell::types::IntType<'ctx>,
) -> Result<VectorValue<'ctx>, inkwell::builder::BuilderError> {
    let vt = x.into_float_value().get_type().vec_type(lanes);
    let one = b.build_insert_element(vt.get_undef(), x, i32t.const_zero(), "a1")?;
    let zeros = i32t.vec_type(lanes).const_zero();
    b.build_shuffle_vector(one, vt.get_undef(), zeros, "a")
}
