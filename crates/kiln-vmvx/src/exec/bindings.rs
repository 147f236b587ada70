//! Whether a dispatch's bindings fit a kernel: every view inside its binding, aligned for
//! its element type, outputs writable, and the grid the kernel's. What a kernel needs of its
//! bindings ([`BindingNeeds`]) depends on the kernel alone, so a runtime that dispatches the
//! same kernel many times (a loop body's, every step) works it out once and checks each
//! dispatch's bindings against it with a few comparisons.

use super::Binding;
use crate::format::{Executable, Kernel};
use crate::VmvxError;
use alloc::string::String;
use kiln_types::ElementType;
use smallvec::SmallVec;

/// What a kernel needs of a dispatch's bindings ([`Kernel::binding_needs`]).
#[derive(Clone, Debug)]
pub struct BindingNeeds {
    /// The kernel's name, for errors.
    kernel: String,
    workgroups: u64,
    views: SmallVec<[ViewNeed; 8]>,
}

/// One view's needs: the elements it reaches (`None`: none), its element type (size and
/// alignment) and whether the kernel writes it.
#[derive(Clone, Copy, Debug)]
struct ViewNeed {
    binding: u32,
    span: Option<(i64, i64)>,
    element_type: ElementType,
    written: bool,
}

impl Kernel {
    /// What this kernel needs of the bindings of a dispatch of it. Outputs are checked over
    /// the part actually written (see [`Kernel::written_part`]). A kernel that needs what
    /// this build leaves out is refused here ([`Kernel::built`]), so no workgroup of it runs.
    pub fn binding_needs(&self) -> Result<BindingNeeds, VmvxError> {
        self.built()?;
        let outputs = self.outputs();
        let mut views = SmallVec::new();
        for v in self.views() {
            let written = outputs.iter().any(|o| core::ptr::eq(*o, v));
            let dims = match written {
                true => self.written_dims(v),
                false => v.shape.len(),
            };
            let span = v
                .span_of_dims(dims)
                .map_err(|message| VmvxError::InvalidKernel {
                    kernel: self.name.clone(),
                    message,
                })?;
            views.push(ViewNeed {
                binding: v.binding,
                span,
                element_type: v.element_type,
                written,
            });
        }
        Ok(BindingNeeds {
            kernel: self.name.clone(),
            workgroups: self.workgroup_count(),
            views,
        })
    }
}

impl BindingNeeds {
    /// Checks a dispatch of `workgroups` workgroups over `bindings` against these needs.
    pub fn check(&self, workgroups: u32, bindings: &[Binding]) -> Result<(), VmvxError> {
        if workgroups as u64 != self.workgroups {
            return Err(VmvxError::Workgroups {
                kernel: self.kernel.clone(),
                expected: self.workgroups,
                got: workgroups,
            });
        }
        for v in &self.views {
            let b = bindings
                .get(v.binding as usize)
                .ok_or_else(|| VmvxError::Unbound {
                    kernel: self.kernel.clone(),
                    binding: v.binding,
                    bound: bindings.len(),
                })?;
            let size = v.element_type.byte_size() as i64;
            if let Some((lo, hi)) = v.span {
                if lo < 0 || hi.checked_mul(size).is_none_or(|end| end > b.len as i64) {
                    return Err(VmvxError::OutOfBounds {
                        kernel: self.kernel.clone(),
                        binding: v.binding,
                        bytes: b.len,
                    });
                }
            }
            if !(b.ptr as usize).is_multiple_of(size as usize) {
                return Err(VmvxError::Misaligned {
                    binding: v.binding,
                    element_type: v.element_type,
                });
            }
        }
        if let Some(v) = self
            .views
            .iter()
            .find(|v| v.written && !bindings[v.binding as usize].writable)
        {
            return Err(VmvxError::ReadOnly {
                kernel: self.kernel.clone(),
                binding: v.binding,
            });
        }
        Ok(())
    }
}

impl Executable {
    /// Checks that kernel `kernel` exists and every view it touches lies inside its binding and
    /// is aligned for its element type. Run once per dispatch, before any workgroup; a runtime
    /// that dispatches a kernel often keeps its [`Kernel::binding_needs`] instead.
    pub fn check_bindings(
        &self,
        kernel: usize,
        workgroups: u32,
        bindings: &[Binding],
    ) -> Result<(), VmvxError> {
        let k = self.kernels.get(kernel).ok_or(VmvxError::NoKernel {
            index: kernel,
            count: self.kernels.len(),
        })?;
        k.binding_needs()?.check(workgroups, bindings)
    }
}
