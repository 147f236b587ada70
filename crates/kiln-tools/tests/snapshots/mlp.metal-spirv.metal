// ===== entry 0: kernel dispatch_0_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
    uint size6;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[4];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[272];
};
struct type_17 {
    float inner[256];
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    constant type_11& global_7,
    threadgroup type_14& global_8,
    threadgroup type_17& global_9,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    int local_1 = {};
    float local_2 = {};
    float local_3 = {};
    uint _e41 = global_7.member.inner[0];
    uint _e45 = global_7.member.inner[1];
    uint _e49 = global_7.member.inner[2];
    uint _e53 = global_7.member.inner[3];
    metal::uint3 _e55 = global;
    metal::uint3 _e56 = global_2;
    int _e66 = as_type<int>((((_e55.z * _e56.y) + _e55.y) * _e56.x) + _e55.x);
    int _e68 = naga_div(_e66, 32);
    metal::uint3 _e72 = global_1;
    int _e74 = as_type<int>(_e72.x);
    int _e75 = naga_div(_e74, 16);
    int _e76 = naga_mod(_e74, 16);
    int _e77 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 1)) * as_type<uint>(16))) + as_type<uint>(_e75));
    int _e78 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e66, 32)) * as_type<uint>(16))) + as_type<uint>(_e76));
    bool _e79 = _e68 < 1;
    local_3 = 0.0;
    local_1 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e129 = local_1;
            local_1 = as_type<int>(as_type<uint>(_e129) + as_type<uint>(16));
        }
        loop_init = false;
        int _e80 = local_1;
        if (_e80 < 784) {
            int _e82 = local_1;
            int _e83 = as_type<int>(as_type<uint>(_e82) + as_type<uint>(_e76));
            int _e84 = as_type<int>(as_type<uint>(_e82) + as_type<uint>(_e75));
            local_2 = 0.0;
            if (((_e77 < 8) && (_e83 < 784)) && _e79) {
                float _e94 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e41)) + as_type<uint>(as_type<int>(as_type<uint>(_e77) * as_type<uint>(784))))) + as_type<uint>(_e83))];
                local_2 = _e94;
            }
            float _e95 = local_2;
            global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e76) * as_type<uint>(17))) + as_type<uint>(_e75))] = _e95;
            local_2 = 0.0;
            if (((_e84 < 784) && (_e78 < 512)) && _e79) {
                float _e108 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e45)) + as_type<uint>(as_type<int>(as_type<uint>(_e84) * as_type<uint>(512))))) + as_type<uint>(_e78))];
                local_2 = _e108;
            }
            float _e109 = local_2;
            global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e75) * as_type<uint>(16))) + as_type<uint>(_e76))] = _e109;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e127 = local;
                    local = as_type<int>(as_type<uint>(_e127) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e113 = local;
                if (_e113 < 16) {
                    int _e115 = local;
                    float _e119 = global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e115) * as_type<uint>(17))) + as_type<uint>(_e75))];
                    float _e123 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e115) * as_type<uint>(16))) + as_type<uint>(_e76))];
                    float _e125 = local_3;
                    local_3 = _e125 + (_e119 * _e123);
                    continue;
                } else {
                    break;
                }
            }
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            continue;
        } else {
            break;
        }
    }
    if (((_e77 < 8) && (_e78 < 512)) && _e79) {
        float _e135 = local_3;
        float _e139 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e53)) + as_type<uint>(_e78))];
        float _e140 = _e135 + _e139;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e49)) + as_type<uint>(as_type<int>(as_type<uint>(_e77) * as_type<uint>(512))))) + as_type<uint>(_e78))] = ((_e140 > 0.0) || ((as_type<uint>(_e140) & 2147483647u) > 2139095040u)) ? _e140 : 0.0;
    }
    return;
}

struct dispatch_0_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_0_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, device type_7 const& global_6 [[buffer(3)]]
, constant type_11& global_7 [[buffer(4)]]
, threadgroup type_14& global_8
, threadgroup type_17& global_9
, constant _mslBufferSizes& _buffer_sizes [[buffer(6)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_8 = {};
        global_9 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, _buffer_sizes);
}

// ===== entry 1: kernel dispatch_1_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
    uint size6;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[4];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[272];
};
struct type_17 {
    float inner[256];
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    constant type_11& global_7,
    threadgroup type_14& global_8,
    threadgroup type_17& global_9,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    int local_1 = {};
    float local_2 = {};
    float local_3 = {};
    uint _e40 = global_7.member.inner[0];
    uint _e44 = global_7.member.inner[1];
    uint _e48 = global_7.member.inner[2];
    uint _e52 = global_7.member.inner[3];
    metal::uint3 _e54 = global;
    metal::uint3 _e55 = global_2;
    int _e65 = as_type<int>((((_e54.z * _e55.y) + _e54.y) * _e55.x) + _e54.x);
    int _e67 = naga_div(_e65, 16);
    metal::uint3 _e71 = global_1;
    int _e73 = as_type<int>(_e71.x);
    int _e74 = naga_div(_e73, 16);
    int _e75 = naga_mod(_e73, 16);
    int _e76 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e67, 1)) * as_type<uint>(16))) + as_type<uint>(_e74));
    int _e77 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e65, 16)) * as_type<uint>(16))) + as_type<uint>(_e75));
    bool _e78 = _e67 < 1;
    local_3 = 0.0;
    local_1 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e128 = local_1;
            local_1 = as_type<int>(as_type<uint>(_e128) + as_type<uint>(16));
        }
        loop_init = false;
        int _e79 = local_1;
        if (_e79 < 512) {
            int _e81 = local_1;
            int _e82 = as_type<int>(as_type<uint>(_e81) + as_type<uint>(_e75));
            int _e83 = as_type<int>(as_type<uint>(_e81) + as_type<uint>(_e74));
            local_2 = 0.0;
            if (((_e76 < 8) && (_e82 < 512)) && _e78) {
                float _e93 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e40)) + as_type<uint>(as_type<int>(as_type<uint>(_e76) * as_type<uint>(512))))) + as_type<uint>(_e82))];
                local_2 = _e93;
            }
            float _e94 = local_2;
            global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e75) * as_type<uint>(17))) + as_type<uint>(_e74))] = _e94;
            local_2 = 0.0;
            if (((_e83 < 512) && (_e77 < 256)) && _e78) {
                float _e107 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e44)) + as_type<uint>(as_type<int>(as_type<uint>(_e83) * as_type<uint>(256))))) + as_type<uint>(_e77))];
                local_2 = _e107;
            }
            float _e108 = local_2;
            global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e74) * as_type<uint>(16))) + as_type<uint>(_e75))] = _e108;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e126 = local;
                    local = as_type<int>(as_type<uint>(_e126) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e112 = local;
                if (_e112 < 16) {
                    int _e114 = local;
                    float _e118 = global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e114) * as_type<uint>(17))) + as_type<uint>(_e74))];
                    float _e122 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e114) * as_type<uint>(16))) + as_type<uint>(_e75))];
                    float _e124 = local_3;
                    local_3 = _e124 + (_e118 * _e122);
                    continue;
                } else {
                    break;
                }
            }
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            continue;
        } else {
            break;
        }
    }
    if (((_e76 < 8) && (_e77 < 256)) && _e78) {
        float _e134 = local_3;
        float _e138 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e52)) + as_type<uint>(_e77))];
        float _e139 = _e134 + _e138;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e48)) + as_type<uint>(as_type<int>(as_type<uint>(_e76) * as_type<uint>(256))))) + as_type<uint>(_e77))] = ((_e139 > 0.0) || ((as_type<uint>(_e139) & 2147483647u) > 2139095040u)) ? _e139 : 0.0;
    }
    return;
}

struct dispatch_1_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_1_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, device type_7 const& global_6 [[buffer(3)]]
, constant type_11& global_7 [[buffer(4)]]
, threadgroup type_14& global_8
, threadgroup type_17& global_9
, constant _mslBufferSizes& _buffer_sizes [[buffer(6)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_8 = {};
        global_9 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, _buffer_sizes);
}

// ===== entry 2: kernel dispatch_2_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
    uint size6;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[4];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[272];
};
struct type_17 {
    float inner[256];
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    constant type_11& global_7,
    threadgroup type_14& global_8,
    threadgroup type_17& global_9,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    int local_1 = {};
    float local_2 = {};
    float local_3 = {};
    uint _e37 = global_7.member.inner[0];
    uint _e41 = global_7.member.inner[1];
    uint _e45 = global_7.member.inner[2];
    uint _e49 = global_7.member.inner[3];
    metal::uint3 _e51 = global;
    metal::uint3 _e52 = global_2;
    int _e62 = as_type<int>((((_e51.z * _e52.y) + _e51.y) * _e52.x) + _e51.x);
    metal::uint3 _e67 = global_1;
    int _e69 = as_type<int>(_e67.x);
    int _e70 = naga_div(_e69, 16);
    int _e71 = naga_mod(_e69, 16);
    int _e72 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e62, 1)) * as_type<uint>(16))) + as_type<uint>(_e70));
    int _e73 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e62, 1)) * as_type<uint>(16))) + as_type<uint>(_e71));
    bool _e74 = _e62 < 1;
    local_3 = 0.0;
    local_1 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e124 = local_1;
            local_1 = as_type<int>(as_type<uint>(_e124) + as_type<uint>(16));
        }
        loop_init = false;
        int _e75 = local_1;
        if (_e75 < 256) {
            int _e77 = local_1;
            int _e78 = as_type<int>(as_type<uint>(_e77) + as_type<uint>(_e71));
            int _e79 = as_type<int>(as_type<uint>(_e77) + as_type<uint>(_e70));
            local_2 = 0.0;
            if (((_e72 < 8) && (_e78 < 256)) && _e74) {
                float _e89 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e37)) + as_type<uint>(as_type<int>(as_type<uint>(_e72) * as_type<uint>(256))))) + as_type<uint>(_e78))];
                local_2 = _e89;
            }
            float _e90 = local_2;
            global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e71) * as_type<uint>(17))) + as_type<uint>(_e70))] = _e90;
            local_2 = 0.0;
            if (((_e79 < 256) && (_e73 < 10)) && _e74) {
                float _e103 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e41)) + as_type<uint>(as_type<int>(as_type<uint>(_e79) * as_type<uint>(10))))) + as_type<uint>(_e73))];
                local_2 = _e103;
            }
            float _e104 = local_2;
            global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e70) * as_type<uint>(16))) + as_type<uint>(_e71))] = _e104;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e122 = local;
                    local = as_type<int>(as_type<uint>(_e122) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e108 = local;
                if (_e108 < 16) {
                    int _e110 = local;
                    float _e114 = global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e110) * as_type<uint>(17))) + as_type<uint>(_e70))];
                    float _e118 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e110) * as_type<uint>(16))) + as_type<uint>(_e71))];
                    float _e120 = local_3;
                    local_3 = _e120 + (_e114 * _e118);
                    continue;
                } else {
                    break;
                }
            }
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            continue;
        } else {
            break;
        }
    }
    if (((_e72 < 8) && (_e73 < 10)) && _e74) {
        float _e130 = local_3;
        float _e134 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e49)) + as_type<uint>(_e73))];
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e45)) + as_type<uint>(as_type<int>(as_type<uint>(_e72) * as_type<uint>(10))))) + as_type<uint>(_e73))] = _e130 + _e134;
    }
    return;
}

struct dispatch_2_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_2_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, device type_7 const& global_6 [[buffer(3)]]
, constant type_11& global_7 [[buffer(4)]]
, threadgroup type_14& global_8
, threadgroup type_17& global_9
, constant _mslBufferSizes& _buffer_sizes [[buffer(6)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_8 = {};
        global_9 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, _buffer_sizes);
}

// ===== entry 3: kernel dispatch_3_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[2];
};
struct type_11 {
    type_10 member;
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7& global_4,
    constant type_11& global_5,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    int local_1 = {};
    float local_2 = {};
    float local_3 = {};
    int local_4 = {};
    float local_5 = {};
    float local_6 = {};
    uint _e25 = global_5.member.inner[0];
    int _e26 = as_type<int>(_e25);
    uint _e29 = global_5.member.inner[1];
    metal::uint3 _e31 = global;
    metal::uint3 _e32 = global_2;
    metal::uint3 _e43 = global_1;
    int _e47 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>((((_e31.z * _e32.y) + _e31.y) * _e32.x) + _e31.x)) * as_type<uint>(128))) + as_type<uint>(as_type<int>(_e43.x)));
    bool _e50 = as_type<uint>(_e47) < as_type<uint>(8);
    local_6 = as_type<float>(4286578688u);
    local_5 = 0.0;
    if (_e50) {
        local_4 = 0;
        uint2 loop_bound = uint2(4294967295u);
        bool loop_init = true;
        while(true) {
            if (metal::all(loop_bound == uint2(0u))) { break; }
            loop_bound -= uint2(loop_bound.y == 0u, 1u);
            if (!loop_init) {
                int _e63 = local_4;
                local_4 = as_type<int>(as_type<uint>(_e63) + as_type<uint>(1));
            }
            loop_init = false;
            int _e52 = local_4;
            if (_e52 < 10) {
                int _e54 = local_4;
                float _e60 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e26) + as_type<uint>(as_type<int>(as_type<uint>(_e47) * as_type<uint>(10))))) + as_type<uint>(_e54))];
                float _e61 = local_6;
                local_6 = metal::max(_e61, _e60);
                continue;
            } else {
                break;
            }
        }
    }
    float _e65 = local_6;
    local_3 = 0.0;
    local_2 = 0.0;
    if (_e50) {
        local_1 = 0;
        uint2 loop_bound_1 = uint2(4294967295u);
        bool loop_init_1 = true;
        while(true) {
            if (metal::all(loop_bound_1 == uint2(0u))) { break; }
            loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
            if (!loop_init_1) {
                int _e83 = local_1;
                local_1 = as_type<int>(as_type<uint>(_e83) + as_type<uint>(1));
            }
            loop_init_1 = false;
            int _e66 = local_1;
            if (_e66 < 10) {
                int _e68 = local_1;
                float _e74 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e26) + as_type<uint>(as_type<int>(as_type<uint>(_e47) * as_type<uint>(10))))) + as_type<uint>(_e68))];
                float _e77 = local_3;
                float _e78 = local_2;
                float _e79 = metal::exp(_e74 - _e65) - _e78;
                float _e80 = _e77 + _e79;
                local_2 = (_e80 - _e77) - _e79;
                local_3 = _e80;
                continue;
            } else {
                break;
            }
        }
    }
    float _e85 = local_3;
    if (_e50) {
        local = 0;
        uint2 loop_bound_2 = uint2(4294967295u);
        bool loop_init_2 = true;
        while(true) {
            if (metal::all(loop_bound_2 == uint2(0u))) { break; }
            loop_bound_2 -= uint2(loop_bound_2.y == 0u, 1u);
            if (!loop_init_2) {
                int _e104 = local;
                local = as_type<int>(as_type<uint>(_e104) + as_type<uint>(1));
            }
            loop_init_2 = false;
            int _e87 = local;
            if (_e87 < 10) {
                int _e89 = local;
                float _e95 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e26) + as_type<uint>(as_type<int>(as_type<uint>(_e47) * as_type<uint>(10))))) + as_type<uint>(_e89))];
                global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e29)) + as_type<uint>(as_type<int>(as_type<uint>(_e47) * as_type<uint>(10))))) + as_type<uint>(_e89))] = metal::exp(_e95 - _e65) * (1.0 / _e85);
                continue;
            } else {
                break;
            }
        }
    }
    return;
}

struct dispatch_3_Input {
};
[[max_total_threads_per_threadgroup(128)]] kernel void dispatch_3_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7& global_4 [[buffer(1)]]
, constant type_11& global_5 [[buffer(2)]]
, constant _mslBufferSizes& _buffer_sizes [[buffer(4)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, _buffer_sizes);
}
