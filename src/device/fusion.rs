//! burn's kernel fusion on a GPU, with its element-wise fuser told not to write in place.
//!
//! burn 0.22.1's fused element-wise kernels may write their output into the buffer of an input
//! that nothing else holds (the input's last clone). That output keeps the input's vector size,
//! while the kernel indexes and bounds its threads by the block's widest vector size, so when the
//! two differ part of the output is never written and keeps the input's old contents (burn-cubecl-
//! fusion 0.22.1, `engine/codegen/kernel.rs::init_locals` and `optim/elemwise/optimization.rs`;
//! rewritten in 0.23.0-pre.1). On the CNN it returned FGSM images far outside the ε-ball, for
//! some batch sizes only (`eval::gpu_agreement`). [`configure`] swaps burn's element-wise fuser for the
//! same fuser with in-place writes off: fusion keeps merging the element-wise chains into one
//! kernel each, and every fused kernel writes a buffer of its own.

use burn_cubecl::CubeDevice;
use burn_cubecl::fusion::{
    CubeFuser, CubeOptimization, OptimizationProvider, RegistryError, register, remove,
};
use burn_cubecl_fusion::engine::fuser::TraceOperationFuser;
use burn_cubecl_fusion::engine::settings::{FuseSettings, RefLayoutSetting, VectorizationSetting};
use burn_cubecl_fusion::optim::elemwise::ElemwiseOptimization;
use burn_fusion::{FuserProperties, FuserStatus, OperationFuser};

/// Replaces burn's element-wise fuser by one that never writes in place. Must run before the
/// first tensor operation on a fused GPU device (burn refuses a change once fusion has started);
/// a second call is harmless.
pub fn configure() -> Result<(), RegistryError> {
    static DONE: std::sync::OnceLock<Result<(), RegistryError>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        remove(<ElemwiseOptimization as burn_cubecl::fusion::FusedOperation>::NAME)?;
        register(ElementWiseNotInPlace)
    })
    .clone()
}

/// Provides [`ElementWiseFuser`] under the built-in's name, so plans and logs read the same.
struct ElementWiseNotInPlace;

impl OptimizationProvider for ElementWiseNotInPlace {
    type Operation = ElemwiseOptimization;

    fn fuser(&self, device: &CubeDevice) -> CubeFuser {
        let max_bindings = device.client().properties().hardware.max_bindings;
        CubeFuser::new(ElementWiseFuser {
            fuser: TraceOperationFuser::new(max_bindings, SETTINGS),
            device: device.clone(),
        })
    }
}

/// burn's element-wise settings but `inplace`.
const SETTINGS: FuseSettings = FuseSettings {
    broadcast: true,
    output_shape_updates: true,
    inplace: false,
    vectorization: VectorizationSetting::Activated,
    ref_layout: RefLayoutSetting::Any,
    choose_output_layout: true,
};

/// Fuses chains of element-wise operations into one kernel ([`SETTINGS`]).
#[derive(Clone)]
struct ElementWiseFuser {
    fuser: TraceOperationFuser,
    device: CubeDevice,
}

impl OperationFuser<CubeOptimization> for ElementWiseFuser {
    fn fuse(&mut self, operation: &burn_ir::OperationIr) {
        self.fuser.fuse(operation);
    }

    fn finish(&mut self) -> CubeOptimization {
        let trace = self.fuser.finish();
        CubeOptimization::new(ElemwiseOptimization::new(
            trace,
            self.device.client(),
            self.device.clone(),
            self.len(),
        ))
    }

    fn reset(&mut self) {
        self.fuser.reset()
    }

    fn status(&self) -> FuserStatus {
        self.fuser.status()
    }

    fn properties(&self) -> FuserProperties {
        self.fuser.properties()
    }

    fn len(&self) -> usize {
        self.fuser.len()
    }

    fn clone_dyn(&self) -> Box<dyn OperationFuser<CubeOptimization>> {
        Box::new(self.clone())
    }
}
