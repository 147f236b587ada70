//! Attention fusion for CPU targets: a matmul of queries by transposed keys (its epilogue a
//! scale and a mask), the softmax of its result and the product of that with the values
//! become one [`KernelOp::Attention`] dispatch.
//!
//! Unfused, the scores go through memory twice: written by the first matmul, read and written
//! by the softmax, read by the second matmul; at sequence 384 that is 7 MB per layer and head
//! group, more than the caches hold. Fused, each workgroup keeps its query rows' scores in
//! its scratch (IREE forms `iree_linalg_ext.attention` the same way, before dispatch
//! formation; here it is a CPU lowering, so GPU targets keep the three dispatches). The
//! kernel calls the same GEMM and softmax row kernels, so results do not change.

use crate::uses::{from_second, merged, replace_fused, whole, Uses};
use kiln_kernel::{Dispatch, Dispatches};
use kiln_types::ElementType;
use kiln_vmvx::format::{Kernel, KernelOp, ScoreSteps, View};

/// Most keys an attention is fused over: a workgroup's scratch holds eight query rows' scores
/// at least (the loader's bound on that scratch is 2^26 scores).
const MAX_KEYS: u64 = 1 << 20;

/// The attention that dispatches `scores`, `softmax` and `product` compute together, if they
/// are one (see the module docs), with its views numbered as `scores`' operands followed by
/// `product`'s.
fn attention_of(
    d: &Dispatches<Kernel>,
    uses: &Uses,
    product: usize,
) -> Option<(usize, usize, Dispatch<Kernel>)> {
    let c = &d.dispatches[product];
    let KernelOp::MatMul {
        a: probabilities,
        b: v,
        c: out,
        epilogue: None,
        ..
    } = &c.kernel.op
    else {
        return None;
    };
    if c.kernel.op.is_integer_product() || c.kernel.op.has_packed_rhs() {
        return None;
    }
    let [batches, m, n] = probabilities.shape[..] else {
        return None;
    };
    let p = whole(c, probabilities, &[batches, m, n])?;
    // The values are another storage (a product of the probabilities by themselves would
    // lose them).
    if c.operands[v.binding as usize] == p {
        return None;
    }
    let softmax = uses.only_link(p, product)?;
    let s_dispatch = &d.dispatches[softmax];
    let KernelOp::Softmax {
        x,
        y,
        epilogue: None,
    } = &s_dispatch.kernel.op
    else {
        return None;
    };
    let rows = [batches * m, n, 1];
    if whole(s_dispatch, y, &rows)? != p {
        return None;
    }
    let s = whole(s_dispatch, x, &rows)?;
    let scores = uses.only_link(s, softmax)?;
    let a = &d.dispatches[scores];
    let KernelOp::MatMul {
        a: q,
        b: k,
        c: logits,
        epilogue,
        ..
    } = &a.kernel.op
    else {
        return None;
    };
    if a.kernel.op.is_integer_product()
        || a.kernel.op.has_packed_rhs()
        || whole(a, logits, &[batches, m, n])? != s
        || d.results.contains(&s)
        || d.results.contains(&p)
    {
        return None;
    }
    if let Some(e) = epilogue {
        ScoreSteps::of(&e.body, e.inputs.len())?;
        let plain =
            |v: &View| v.element_type == ElementType::F32 && v.strides.iter().all(|&s| s >= 0);
        if !e.inputs.iter().all(plain) {
            return None;
        }
    }
    // A workgroup keeps at least a tile of query rows' scores in scratch.
    if n > MAX_KEYS {
        return None;
    }
    // The scores are computed where the product was: nothing in between may change what
    // they read.
    if uses.changed_after(a, s, scores, product) {
        return None;
    }
    let from_product = |view: &View| from_second(a, view);
    let op = KernelOp::Attention {
        q: q.clone(),
        k: k.clone(),
        v: from_product(v),
        out: from_product(out),
        scores: epilogue.clone(),
        tile_m: 0,
    };
    let fused = merged(a, c, op);
    Some((scores, softmax, fused))
}

/// Fuses every attention in `d` into one dispatch at the place of its last product; kernels
/// are renamed in their new order. Run before workgroup tiles are chosen.
pub fn fuse_attention(d: &mut Dispatches<Kernel>) {
    let uses = Uses::of(d);
    let mut removed = vec![false; d.dispatches.len()];
    // Dispatches one fusion took (its three): a chain of attentions, one's product the next
    // one's scores, fuses its first link only.
    let mut taken = vec![false; d.dispatches.len()];
    let mut fused = vec![];
    for product in 0..d.dispatches.len() {
        if let Some((scores, softmax, attention)) = attention_of(d, &uses, product) {
            if [scores, softmax, product].iter().any(|&i| taken[i]) {
                continue;
            }
            for i in [scores, softmax, product] {
                taken[i] = true;
            }
            removed[scores] = true;
            removed[softmax] = true;
            fused.push((product, attention));
        }
    }
    replace_fused(d, fused, &removed);
}

#[cfg(test)]
mod tests {
    use crate::{lower, PackedConstants};

    /// Storages: queries, transposed keys, values, a mask, then the scores, probabilities
    /// and the context (the function's result).
    const STORAGES: &str = "%s0 = param 0 [64xf32]\n%s1 = param 1 [48xf32]\n\
        %s2 = param 2 [36xf32]\n%s3 = param 3 [96xf32]\n%s4 = computed [96xf32]\n\
        %s5 = computed [96xf32]\n%s6 = computed [48xf32]\n";

    /// The CPU lowering of `dispatches` over [`STORAGES`] returning `results`, one line per
    /// dispatch.
    fn lowered(dispatches: &str, results: &str) -> String {
        let text = format!("{STORAGES}{dispatches}\nreturn {results}\n");
        let d = kiln_kernel::parse(&text).unwrap();
        let cpu = lower(&d, &[], None, &mut PackedConstants::new(0));
        let lines: Vec<String> = cpu
            .dispatches
            .iter()
            .map(|d| format!("{:?} {}", d.operands, d.kernel))
            .collect();
        lines.join("\n")
    }

    const SCALED_AND_MASKED: &str = "
        dispatch_0(%s0, %s1, %s4, %s3) = matmul #0[2x8x4xf32], #1[2x4x6xf32] -> #2[2x8x6xf32] epilogue(#3[2x8x6xf32]/0,6,1) { r0 = in0; r1 = const 2.0; r2 = div r0, r1; r3 = in1; r4 = add r2, r3; yield r4 }
        dispatch_1(%s4, %s5) = softmax #0[16x6x1xf32] -> #1[16x6x1xf32]
        dispatch_2(%s5, %s2, %s6) = matmul #0[2x8x6xf32], #1[2x6x3xf32] -> #2[2x8x3xf32]";

    #[test]
    fn scores_softmax_and_product_become_one_kernel() {
        expect_test::expect![[r#"
            [StorageId(0), StorageId(1), StorageId(2), StorageId(6), StorageId(3)] dispatch_0 = attention #0[2x8x4xf32], #1[2x4x6xf32], #2[2x6x3xf32] -> #3[2x8x3xf32] tile 8 scores(#4[2x8x6xf32]/0,6,1) { r0 = in0; r1 = const 2.0; r2 = div r0, r1; r3 = in1; r4 = add r2, r3; yield r4 }"#]]
        .assert_eq(&lowered(SCALED_AND_MASKED, "%s6"));
    }

    #[test]
    fn of_a_chain_of_attentions_the_first_link_fuses() {
        // The first product's [2x8x6] result is the second attention's scores.
        let storages = "%s0 = param 0 [64xf32]\n%s1 = param 1 [48xf32]\n%s2 = param 2 [72xf32]\n\
            %s3 = param 3 [36xf32]\n%s4 = computed [96xf32]\n%s5 = computed [96xf32]\n\
            %s6 = computed [96xf32]\n%s7 = computed [96xf32]\n%s8 = computed [48xf32]\n";
        let dispatches = "
            dispatch_0(%s0, %s1, %s4) = matmul #0[2x8x4xf32], #1[2x4x6xf32] -> #2[2x8x6xf32]
            dispatch_1(%s4, %s5) = softmax #0[16x6x1xf32] -> #1[16x6x1xf32]
            dispatch_2(%s5, %s2, %s6) = matmul #0[2x8x6xf32], #1[2x6x6xf32] -> #2[2x8x6xf32]
            dispatch_3(%s6, %s7) = softmax #0[16x6x1xf32] -> #1[16x6x1xf32]
            dispatch_4(%s7, %s3, %s8) = matmul #0[2x8x6xf32], #1[2x6x3xf32] -> #2[2x8x3xf32]";
        let d = kiln_kernel::parse(&format!("{storages}{dispatches}\nreturn %s8\n")).unwrap();
        let cpu = lower(&d, &[], None, &mut PackedConstants::new(0));
        let ops: Vec<String> = cpu.dispatches.iter().map(|d| d.kernel.summary()).collect();
        let ops: Vec<&str> = ops.iter().filter_map(|s| s.split(' ').nth(1)).collect();
        assert_eq!(ops, ["attention", "softmax", "matmul"]);
    }

    #[test]
    fn scores_or_probabilities_read_elsewhere_stay_apart() {
        // The probabilities are a result too.
        let kept = lowered(SCALED_AND_MASKED, "%s6, %s5");
        assert_eq!(kept.lines().count(), 3, "{kept}");
        // The scores are stepped by something other than a scale and a mask.
        let squared = SCALED_AND_MASKED.replace("r2 = div r0, r1", "r2 = mul r0, r0");
        let kept = lowered(&squared, "%s6");
        assert_eq!(kept.lines().count(), 3, "{kept}");
    }
}
