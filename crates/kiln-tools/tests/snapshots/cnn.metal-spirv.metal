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
    uint size7;
    uint size8;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[6];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[256];
};

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    device type_7 const& global_7,
    device type_7 const& global_8,
    constant type_11& global_9,
    threadgroup type_14& global_10,
    threadgroup type_14& global_11,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    int local_2 = {};
    float local_3 = {};
    float local_4 = {};
    uint _e45 = global_9.member.inner[0];
    uint _e49 = global_9.member.inner[1];
    uint _e53 = global_9.member.inner[2];
    uint _e57 = global_9.member.inner[3];
    uint _e61 = global_9.member.inner[4];
    uint _e65 = global_9.member.inner[5];
    metal::uint3 _e67 = global;
    metal::uint3 _e68 = global_2;
    int _e78 = as_type<int>((((_e67.z * _e68.y) + _e67.y) * _e68.x) + _e67.x);
    metal::uint3 _e79 = global_1;
    int _e81 = as_type<int>(_e79.x);
    int _e82 = naga_div(_e81, 16);
    int _e83 = naga_mod(_e81, 16);
    int _e85 = naga_div(_e78, 256);
    int _e88 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(_e82));
    int _e90 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e78, 256)) * as_type<uint>(16))) + as_type<uint>(_e83));
    bool _e91 = _e85 < 1;
    local_4 = 0.0;
    local_2 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e171 = local_2;
            local_2 = as_type<int>(as_type<uint>(_e171) + as_type<uint>(16));
        }
        loop_init = false;
        int _e92 = local_2;
        if (_e92 < 27) {
            int _e94 = local_2;
            int _e95 = as_type<int>(as_type<uint>(_e94) + as_type<uint>(_e83));
            int _e96 = as_type<int>(as_type<uint>(_e94) + as_type<uint>(_e82));
            local_3 = 0.0;
            if (((_e88 < 16) && (_e95 < 27)) && _e91) {
                int _e105 = naga_mod(_e95, 9);
                float _e117 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e49)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(_e88))) * as_type<uint>(27))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e95, 9)) * as_type<uint>(9))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e105, 3)) * as_type<uint>(3))))) + as_type<uint>(naga_mod(_e105, 3)))];
                local_3 = _e117;
            }
            float _e118 = local_3;
            global_10.inner[_e81] = _e118;
            local_3 = 0.0;
            if (((_e96 < 27) && (_e90 < 4096)) && _e91) {
                int _e126 = naga_mod(_e96, 9);
                int _e132 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e90, 64)) + as_type<uint>(naga_div(_e126, 3)))) + as_type<uint>(-1));
                int _e134 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e90, 64)) + as_type<uint>(naga_mod(_e126, 3)))) + as_type<uint>(-1));
                local_1 = 0.0;
                if (((_e132 >= 0) && (_e132 < 64)) && ((_e134 >= 0) && (_e134 < 64))) {
                    float _e151 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e45)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(3))) + as_type<uint>(naga_div(_e96, 9)))) * as_type<uint>(4096))))) + as_type<uint>(as_type<int>(as_type<uint>(_e132) * as_type<uint>(64))))) + as_type<uint>(_e134))];
                    local_1 = _e151;
                }
                float _e152 = local_1;
                local_3 = _e152;
            }
            float _e153 = local_3;
            global_11.inner[_e81] = _e153;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e169 = local;
                    local = as_type<int>(as_type<uint>(_e169) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e155 = local;
                if (_e155 < 16) {
                    int _e157 = local;
                    float _e163 = global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e82) * as_type<uint>(16))) + as_type<uint>(_e157))];
                    float _e165 = global_11.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e157) * as_type<uint>(16))) + as_type<uint>(_e83))];
                    float _e167 = local_4;
                    local_4 = _e167 + (_e163 * _e165);
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
    if (((_e88 < 16) && (_e90 < 4096)) && _e91) {
        float _e177 = local_4;
        int _e180 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(_e88));
        float _e186 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e57)) + as_type<uint>(_e180))];
        float _e191 = global_7.member[as_type<int>(as_type<uint>(as_type<int>(_e61)) + as_type<uint>(_e180))];
        float _e196 = global_8.member[as_type<int>(as_type<uint>(as_type<int>(_e65)) + as_type<uint>(_e180))];
        float _e197 = ((_e177 + _e186) * _e191) + _e196;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e53)) + as_type<uint>(as_type<int>(as_type<uint>(_e180) * as_type<uint>(4096))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e90, 64)) * as_type<uint>(64))))) + as_type<uint>(naga_mod(_e90, 64)))] = ((_e197 > 0.0) || ((as_type<uint>(_e197) & 2147483647u) > 2139095040u)) ? _e197 : 0.0;
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
, device type_7 const& global_7 [[buffer(4)]]
, device type_7 const& global_8 [[buffer(5)]]
, constant type_11& global_9 [[buffer(6)]]
, threadgroup type_14& global_10
, threadgroup type_14& global_11
, constant _mslBufferSizes& _buffer_sizes [[buffer(8)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_10 = {};
        global_11 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, global_10, global_11, _buffer_sizes);
}

// ===== entry 1: kernel dispatch_1_ =====
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

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
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
    int local_2 = {};
    float local_3 = {};
    uint _e29 = global_5.member.inner[0];
    uint _e33 = global_5.member.inner[1];
    metal::uint3 _e35 = global;
    metal::uint3 _e36 = global_2;
    metal::uint3 _e47 = global_1;
    int _e51 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>((((_e35.z * _e36.y) + _e35.y) * _e36.x) + _e35.x)) * as_type<uint>(128))) + as_type<uint>(as_type<int>(_e47.x)));
    if (as_type<uint>(_e51) < as_type<uint>(16384)) {
        int _e55 = naga_mod(_e51, 32);
        int _e56 = naga_div(_e51, 32);
        int _e57 = naga_mod(_e56, 32);
        int _e58 = naga_div(_e56, 32);
        int _e59 = naga_mod(_e58, 16);
        local_3 = as_type<float>(4286578688u);
        local_2 = 0;
        local_1 = 0;
        uint2 loop_bound = uint2(4294967295u);
        bool loop_init = true;
        while(true) {
            if (metal::all(loop_bound == uint2(0u))) { break; }
            loop_bound -= uint2(loop_bound.y == 0u, 1u);
            if (!loop_init) {
                int _e94 = local_1;
                local_1 = as_type<int>(as_type<uint>(_e94) + as_type<uint>(1));
            }
            loop_init = false;
            int _e65 = local_1;
            if (_e65 < 3) {
                int _e67 = local_1;
                local = 0;
                uint2 loop_bound_1 = uint2(4294967295u);
                bool loop_init_1 = true;
                while(true) {
                    if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                    loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                    if (!loop_init_1) {
                        int _e92 = local;
                        local = as_type<int>(as_type<uint>(_e92) + as_type<uint>(1));
                    }
                    loop_init_1 = false;
                    int _e68 = local;
                    if (_e68 < 3) {
                        int _e70 = local;
                        int _e71 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e57) * as_type<uint>(2))) + as_type<uint>(-1))) + as_type<uint>(_e67));
                        int _e72 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e55) * as_type<uint>(2))) + as_type<uint>(-1))) + as_type<uint>(_e70));
                        if (((_e71 >= 0) && (_e71 < 64)) && ((_e72 >= 0) && (_e72 < 64))) {
                            float _e87 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e29)) + as_type<uint>(as_type<int>(as_type<uint>(_e59) * as_type<uint>(4096))))) + as_type<uint>(as_type<int>(as_type<uint>(_e71) * as_type<uint>(64))))) + as_type<uint>(_e72))];
                            float _e88 = local_3;
                            local_3 = metal::max(_e88, _e87);
                            int _e90 = local_2;
                            local_2 = as_type<int>(as_type<uint>(_e90) + as_type<uint>(1));
                        }
                        continue;
                    } else {
                        break;
                    }
                }
                continue;
            } else {
                break;
            }
        }
        float _e96 = local_3;
        global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e33)) + as_type<uint>(as_type<int>(as_type<uint>(_e59) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e57) * as_type<uint>(32))))) + as_type<uint>(_e55))] = _e96;
    }
    return;
}

struct dispatch_1_Input {
};
[[max_total_threads_per_threadgroup(128)]] kernel void dispatch_1_(
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
    uint size7;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[5];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[256];
};

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    device type_7 const& global_7,
    constant type_11& global_8,
    threadgroup type_14& global_9,
    threadgroup type_14& global_10,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    int local_2 = {};
    float local_3 = {};
    float local_4 = {};
    uint _e43 = global_8.member.inner[0];
    uint _e47 = global_8.member.inner[1];
    uint _e51 = global_8.member.inner[2];
    uint _e55 = global_8.member.inner[3];
    uint _e59 = global_8.member.inner[4];
    metal::uint3 _e61 = global;
    metal::uint3 _e62 = global_2;
    int _e72 = as_type<int>((((_e61.z * _e62.y) + _e61.y) * _e62.x) + _e61.x);
    metal::uint3 _e73 = global_1;
    int _e75 = as_type<int>(_e73.x);
    int _e76 = naga_div(_e75, 16);
    int _e77 = naga_mod(_e75, 16);
    int _e79 = naga_div(_e72, 64);
    int _e82 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e79, 1)) * as_type<uint>(16))) + as_type<uint>(_e76));
    int _e84 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e72, 64)) * as_type<uint>(16))) + as_type<uint>(_e77));
    bool _e85 = _e79 < 1;
    local_4 = 0.0;
    local_2 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e165 = local_2;
            local_2 = as_type<int>(as_type<uint>(_e165) + as_type<uint>(16));
        }
        loop_init = false;
        int _e86 = local_2;
        if (_e86 < 144) {
            int _e88 = local_2;
            int _e89 = as_type<int>(as_type<uint>(_e88) + as_type<uint>(_e77));
            int _e90 = as_type<int>(as_type<uint>(_e88) + as_type<uint>(_e76));
            local_3 = 0.0;
            if (((_e82 < 16) && (_e89 < 144)) && _e85) {
                int _e99 = naga_mod(_e89, 9);
                float _e111 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e47)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e79, 1)) * as_type<uint>(16))) + as_type<uint>(_e82))) * as_type<uint>(144))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e89, 9)) * as_type<uint>(9))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e99, 3)) * as_type<uint>(3))))) + as_type<uint>(naga_mod(_e99, 3)))];
                local_3 = _e111;
            }
            float _e112 = local_3;
            global_9.inner[_e75] = _e112;
            local_3 = 0.0;
            if (((_e90 < 144) && (_e84 < 1024)) && _e85) {
                int _e120 = naga_mod(_e90, 9);
                int _e126 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e84, 32)) + as_type<uint>(naga_div(_e120, 3)))) + as_type<uint>(-1));
                int _e128 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e84, 32)) + as_type<uint>(naga_mod(_e120, 3)))) + as_type<uint>(-1));
                local_1 = 0.0;
                if (((_e126 >= 0) && (_e126 < 32)) && ((_e128 >= 0) && (_e128 < 32))) {
                    float _e145 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e43)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e79, 1)) * as_type<uint>(16))) + as_type<uint>(naga_div(_e90, 9)))) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e126) * as_type<uint>(32))))) + as_type<uint>(_e128))];
                    local_1 = _e145;
                }
                float _e146 = local_1;
                local_3 = _e146;
            }
            float _e147 = local_3;
            global_10.inner[_e75] = _e147;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e163 = local;
                    local = as_type<int>(as_type<uint>(_e163) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e149 = local;
                if (_e149 < 16) {
                    int _e151 = local;
                    float _e157 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e76) * as_type<uint>(16))) + as_type<uint>(_e151))];
                    float _e159 = global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e151) * as_type<uint>(16))) + as_type<uint>(_e77))];
                    float _e161 = local_4;
                    local_4 = _e161 + (_e157 * _e159);
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
    if (((_e82 < 16) && (_e84 < 1024)) && _e85) {
        float _e171 = local_4;
        int _e174 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e79, 1)) * as_type<uint>(16))) + as_type<uint>(_e82));
        float _e180 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e55)) + as_type<uint>(_e174))];
        float _e185 = global_7.member[as_type<int>(as_type<uint>(as_type<int>(_e59)) + as_type<uint>(_e174))];
        float _e186 = (_e171 * _e180) + _e185;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e51)) + as_type<uint>(as_type<int>(as_type<uint>(_e174) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e84, 32)) * as_type<uint>(32))))) + as_type<uint>(naga_mod(_e84, 32)))] = ((_e186 > 0.0) || ((as_type<uint>(_e186) & 2147483647u) > 2139095040u)) ? _e186 : 0.0;
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
, device type_7 const& global_7 [[buffer(4)]]
, constant type_11& global_8 [[buffer(5)]]
, threadgroup type_14& global_9
, threadgroup type_14& global_10
, constant _mslBufferSizes& _buffer_sizes [[buffer(7)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_9 = {};
        global_10 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, global_10, _buffer_sizes);
}

// ===== entry 3: kernel dispatch_3_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
    uint size6;
    uint size7;
    uint size8;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[6];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[256];
};

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    device type_7 const& global_7,
    device type_7 const& global_8,
    constant type_11& global_9,
    threadgroup type_14& global_10,
    threadgroup type_14& global_11,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    int local_2 = {};
    float local_3 = {};
    float local_4 = {};
    uint _e45 = global_9.member.inner[0];
    uint _e49 = global_9.member.inner[1];
    uint _e53 = global_9.member.inner[2];
    uint _e57 = global_9.member.inner[3];
    uint _e61 = global_9.member.inner[4];
    uint _e65 = global_9.member.inner[5];
    metal::uint3 _e67 = global;
    metal::uint3 _e68 = global_2;
    int _e78 = as_type<int>((((_e67.z * _e68.y) + _e67.y) * _e68.x) + _e67.x);
    metal::uint3 _e79 = global_1;
    int _e81 = as_type<int>(_e79.x);
    int _e82 = naga_div(_e81, 16);
    int _e83 = naga_mod(_e81, 16);
    int _e85 = naga_div(_e78, 64);
    int _e88 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(_e82));
    int _e90 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e78, 64)) * as_type<uint>(16))) + as_type<uint>(_e83));
    bool _e91 = _e85 < 1;
    local_4 = 0.0;
    local_2 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e171 = local_2;
            local_2 = as_type<int>(as_type<uint>(_e171) + as_type<uint>(16));
        }
        loop_init = false;
        int _e92 = local_2;
        if (_e92 < 144) {
            int _e94 = local_2;
            int _e95 = as_type<int>(as_type<uint>(_e94) + as_type<uint>(_e83));
            int _e96 = as_type<int>(as_type<uint>(_e94) + as_type<uint>(_e82));
            local_3 = 0.0;
            if (((_e88 < 16) && (_e95 < 144)) && _e91) {
                int _e105 = naga_mod(_e95, 9);
                float _e117 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e49)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(_e88))) * as_type<uint>(144))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e95, 9)) * as_type<uint>(9))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e105, 3)) * as_type<uint>(3))))) + as_type<uint>(naga_mod(_e105, 3)))];
                local_3 = _e117;
            }
            float _e118 = local_3;
            global_10.inner[_e81] = _e118;
            local_3 = 0.0;
            if (((_e96 < 144) && (_e90 < 1024)) && _e91) {
                int _e126 = naga_mod(_e96, 9);
                int _e132 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e90, 32)) + as_type<uint>(naga_div(_e126, 3)))) + as_type<uint>(-1));
                int _e134 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e90, 32)) + as_type<uint>(naga_mod(_e126, 3)))) + as_type<uint>(-1));
                local_1 = 0.0;
                if (((_e132 >= 0) && (_e132 < 32)) && ((_e134 >= 0) && (_e134 < 32))) {
                    float _e151 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e45)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(naga_div(_e96, 9)))) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e132) * as_type<uint>(32))))) + as_type<uint>(_e134))];
                    local_1 = _e151;
                }
                float _e152 = local_1;
                local_3 = _e152;
            }
            float _e153 = local_3;
            global_11.inner[_e81] = _e153;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e169 = local;
                    local = as_type<int>(as_type<uint>(_e169) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e155 = local;
                if (_e155 < 16) {
                    int _e157 = local;
                    float _e163 = global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e82) * as_type<uint>(16))) + as_type<uint>(_e157))];
                    float _e165 = global_11.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e157) * as_type<uint>(16))) + as_type<uint>(_e83))];
                    float _e167 = local_4;
                    local_4 = _e167 + (_e163 * _e165);
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
    if (((_e88 < 16) && (_e90 < 1024)) && _e91) {
        float _e177 = local_4;
        int _e180 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(_e88));
        int _e181 = naga_div(_e90, 32);
        int _e182 = naga_mod(_e90, 32);
        float _e186 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e57)) + as_type<uint>(_e180))];
        float _e191 = global_7.member[as_type<int>(as_type<uint>(as_type<int>(_e61)) + as_type<uint>(_e180))];
        float _e200 = global_8.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e65)) + as_type<uint>(as_type<int>(as_type<uint>(_e180) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e181) * as_type<uint>(32))))) + as_type<uint>(_e182))];
        float _e201 = ((_e177 * _e186) + _e191) + _e200;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e53)) + as_type<uint>(as_type<int>(as_type<uint>(_e180) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e181) * as_type<uint>(32))))) + as_type<uint>(_e182))] = ((_e201 > 0.0) || ((as_type<uint>(_e201) & 2147483647u) > 2139095040u)) ? _e201 : 0.0;
    }
    return;
}

struct dispatch_3_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_3_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, device type_7 const& global_6 [[buffer(3)]]
, device type_7 const& global_7 [[buffer(4)]]
, device type_7 const& global_8 [[buffer(5)]]
, constant type_11& global_9 [[buffer(6)]]
, threadgroup type_14& global_10
, threadgroup type_14& global_11
, constant _mslBufferSizes& _buffer_sizes [[buffer(8)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_10 = {};
        global_11 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, global_10, global_11, _buffer_sizes);
}

// ===== entry 4: kernel dispatch_4_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
    uint size6;
    uint size7;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[5];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[256];
};

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    device type_7 const& global_7,
    constant type_11& global_8,
    threadgroup type_14& global_9,
    threadgroup type_14& global_10,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    int local_2 = {};
    float local_3 = {};
    float local_4 = {};
    uint _e44 = global_8.member.inner[0];
    uint _e48 = global_8.member.inner[1];
    uint _e52 = global_8.member.inner[2];
    uint _e56 = global_8.member.inner[3];
    uint _e60 = global_8.member.inner[4];
    metal::uint3 _e62 = global;
    metal::uint3 _e63 = global_2;
    int _e73 = as_type<int>((((_e62.z * _e63.y) + _e62.y) * _e63.x) + _e62.x);
    metal::uint3 _e74 = global_1;
    int _e76 = as_type<int>(_e74.x);
    int _e77 = naga_div(_e76, 16);
    int _e78 = naga_mod(_e76, 16);
    int _e80 = naga_div(_e73, 16);
    int _e82 = naga_div(_e80, 2);
    int _e84 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e80, 2)) * as_type<uint>(16))) + as_type<uint>(_e77));
    int _e86 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e73, 16)) * as_type<uint>(16))) + as_type<uint>(_e78));
    bool _e87 = _e82 < 1;
    local_4 = 0.0;
    local_2 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e169 = local_2;
            local_2 = as_type<int>(as_type<uint>(_e169) + as_type<uint>(16));
        }
        loop_init = false;
        int _e88 = local_2;
        if (_e88 < 144) {
            int _e90 = local_2;
            int _e91 = as_type<int>(as_type<uint>(_e90) + as_type<uint>(_e78));
            int _e92 = as_type<int>(as_type<uint>(_e90) + as_type<uint>(_e77));
            local_3 = 0.0;
            if (((_e84 < 32) && (_e91 < 144)) && _e87) {
                int _e101 = naga_mod(_e91, 9);
                float _e113 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e48)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e82, 1)) * as_type<uint>(32))) + as_type<uint>(_e84))) * as_type<uint>(144))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e91, 9)) * as_type<uint>(9))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e101, 3)) * as_type<uint>(3))))) + as_type<uint>(naga_mod(_e101, 3)))];
                local_3 = _e113;
            }
            float _e114 = local_3;
            global_9.inner[_e76] = _e114;
            local_3 = 0.0;
            if (((_e92 < 144) && (_e86 < 256)) && _e87) {
                int _e122 = naga_mod(_e92, 9);
                int _e129 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e86, 16)) * as_type<uint>(2))) + as_type<uint>(naga_div(_e122, 3)))) + as_type<uint>(-1));
                int _e132 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e86, 16)) * as_type<uint>(2))) + as_type<uint>(naga_mod(_e122, 3)))) + as_type<uint>(-1));
                local_1 = 0.0;
                if (((_e129 >= 0) && (_e129 < 32)) && ((_e132 >= 0) && (_e132 < 32))) {
                    float _e149 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e44)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e82, 1)) * as_type<uint>(16))) + as_type<uint>(naga_div(_e92, 9)))) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e129) * as_type<uint>(32))))) + as_type<uint>(_e132))];
                    local_1 = _e149;
                }
                float _e150 = local_1;
                local_3 = _e150;
            }
            float _e151 = local_3;
            global_10.inner[_e76] = _e151;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e167 = local;
                    local = as_type<int>(as_type<uint>(_e167) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e153 = local;
                if (_e153 < 16) {
                    int _e155 = local;
                    float _e161 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e77) * as_type<uint>(16))) + as_type<uint>(_e155))];
                    float _e163 = global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e155) * as_type<uint>(16))) + as_type<uint>(_e78))];
                    float _e165 = local_4;
                    local_4 = _e165 + (_e161 * _e163);
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
    if (((_e84 < 32) && (_e86 < 256)) && _e87) {
        float _e175 = local_4;
        int _e178 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e82, 1)) * as_type<uint>(32))) + as_type<uint>(_e84));
        float _e184 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e56)) + as_type<uint>(_e178))];
        float _e189 = global_7.member[as_type<int>(as_type<uint>(as_type<int>(_e60)) + as_type<uint>(_e178))];
        float _e190 = (_e175 * _e184) + _e189;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e52)) + as_type<uint>(as_type<int>(as_type<uint>(_e178) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e86, 16)) * as_type<uint>(16))))) + as_type<uint>(naga_mod(_e86, 16)))] = ((_e190 > 0.0) || ((as_type<uint>(_e190) & 2147483647u) > 2139095040u)) ? _e190 : 0.0;
    }
    return;
}

struct dispatch_4_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_4_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, device type_7 const& global_6 [[buffer(3)]]
, device type_7 const& global_7 [[buffer(4)]]
, constant type_11& global_8 [[buffer(5)]]
, threadgroup type_14& global_9
, threadgroup type_14& global_10
, constant _mslBufferSizes& _buffer_sizes [[buffer(7)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_9 = {};
        global_10 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, global_10, _buffer_sizes);
}

// ===== entry 5: kernel dispatch_5_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[3];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[256];
};

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    constant type_11& global_6,
    threadgroup type_14& global_7,
    threadgroup type_14& global_8,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    int local_2 = {};
    float local_3 = {};
    float local_4 = {};
    uint _e33 = global_6.member.inner[0];
    uint _e37 = global_6.member.inner[1];
    uint _e41 = global_6.member.inner[2];
    metal::uint3 _e43 = global;
    metal::uint3 _e44 = global_2;
    int _e54 = as_type<int>((((_e43.z * _e44.y) + _e43.y) * _e44.x) + _e43.x);
    metal::uint3 _e55 = global_1;
    int _e57 = as_type<int>(_e55.x);
    int _e58 = naga_div(_e57, 16);
    int _e59 = naga_mod(_e57, 16);
    int _e61 = naga_div(_e54, 16);
    int _e64 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e61, 1)) * as_type<uint>(16))) + as_type<uint>(_e58));
    int _e66 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e54, 16)) * as_type<uint>(16))) + as_type<uint>(_e59));
    bool _e67 = _e61 < 32;
    local_4 = 0.0;
    local_2 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e144 = local_2;
            local_2 = as_type<int>(as_type<uint>(_e144) + as_type<uint>(16));
        }
        loop_init = false;
        int _e68 = local_2;
        if (_e68 < 9) {
            int _e70 = local_2;
            int _e71 = as_type<int>(as_type<uint>(_e70) + as_type<uint>(_e59));
            int _e72 = as_type<int>(as_type<uint>(_e70) + as_type<uint>(_e58));
            local_3 = 0.0;
            if (((_e64 < 1) && (_e71 < 9)) && _e67) {
                int _e80 = naga_mod(_e71, 9);
                float _e90 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e37)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e61, 32)) + as_type<uint>(_e64))) * as_type<uint>(9))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e80, 3)) * as_type<uint>(3))))) + as_type<uint>(naga_mod(_e80, 3)))];
                local_3 = _e90;
            }
            float _e91 = local_3;
            global_7.inner[_e57] = _e91;
            local_3 = 0.0;
            if (((_e72 < 9) && (_e66 < 256)) && _e67) {
                int _e100 = naga_mod(_e72, 9);
                int _e106 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e66, 16)) + as_type<uint>(naga_div(_e100, 3)))) + as_type<uint>(-1));
                int _e108 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e66, 16)) + as_type<uint>(naga_mod(_e100, 3)))) + as_type<uint>(-1));
                local_1 = 0.0;
                if (((_e106 >= 0) && (_e106 < 16)) && ((_e108 >= 0) && (_e108 < 16))) {
                    float _e124 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e33)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e61, 32)) + as_type<uint>(naga_div(_e72, 9)))) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(_e106) * as_type<uint>(16))))) + as_type<uint>(_e108))];
                    local_1 = _e124;
                }
                float _e125 = local_1;
                local_3 = _e125;
            }
            float _e126 = local_3;
            global_8.inner[_e57] = _e126;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e142 = local;
                    local = as_type<int>(as_type<uint>(_e142) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e128 = local;
                if (_e128 < 16) {
                    int _e130 = local;
                    float _e136 = global_7.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e58) * as_type<uint>(16))) + as_type<uint>(_e130))];
                    float _e138 = global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e130) * as_type<uint>(16))) + as_type<uint>(_e59))];
                    float _e140 = local_4;
                    local_4 = _e140 + (_e136 * _e138);
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
    if (((_e64 < 1) && (_e66 < 256)) && _e67) {
        float _e150 = local_4;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e41)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e61, 32)) + as_type<uint>(_e64))) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e66, 16)) * as_type<uint>(16))))) + as_type<uint>(naga_mod(_e66, 16)))] = _e150;
    }
    return;
}

struct dispatch_5_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_5_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, constant type_11& global_6 [[buffer(3)]]
, threadgroup type_14& global_7
, threadgroup type_14& global_8
, constant _mslBufferSizes& _buffer_sizes [[buffer(5)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_7 = {};
        global_8 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, _buffer_sizes);
}

// ===== entry 6: kernel dispatch_6_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[3];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[128];
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
    constant type_11& global_6,
    threadgroup type_14& global_7,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    float local_2 = {};
    uint _e33 = global_6.member.inner[0];
    uint _e37 = global_6.member.inner[1];
    uint _e41 = global_6.member.inner[2];
    metal::uint3 _e43 = global;
    metal::uint3 _e44 = global_2;
    metal::uint3 _e55 = global_1;
    int _e57 = as_type<int>(_e55.x);
    int _e58 = naga_mod(_e57, 128);
    int _e60 = as_type<int>(as_type<uint>(as_type<int>((((_e43.z * _e44.y) + _e43.y) * _e44.x) + _e43.x)) + as_type<uint>(naga_div(_e57, 128)));
    bool _e63 = as_type<uint>(_e60) < as_type<uint>(32);
    local_2 = 0.0;
    local_1 = 0.0;
    if (_e63) {
        int _e64 = naga_mod(_e60, 32);
        local = _e58;
        uint2 loop_bound = uint2(4294967295u);
        bool loop_init = true;
        while(true) {
            if (metal::all(loop_bound == uint2(0u))) { break; }
            loop_bound -= uint2(loop_bound.y == 0u, 1u);
            if (!loop_init) {
                int _e96 = local;
                local = as_type<int>(as_type<uint>(_e96) + as_type<uint>(128));
            }
            loop_init = false;
            int _e66 = local;
            if (_e66 < 256) {
                int _e68 = local;
                float _e78 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e33)) + as_type<uint>(as_type<int>(as_type<uint>(_e64) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e68, 16)) * as_type<uint>(16))))) + as_type<uint>(naga_mod(_e68, 16)))];
                float _e82 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(_e37)) + as_type<uint>(_e64))];
                float _e83 = _e78 + _e82;
                float _e90 = local_2;
                float _e91 = local_1;
                float _e92 = (((_e83 > 0.0) || ((as_type<uint>(_e83) & 2147483647u) > 2139095040u)) ? _e83 : 0.0) - _e91;
                float _e93 = _e90 + _e92;
                local_1 = (_e93 - _e90) - _e92;
                local_2 = _e93;
                continue;
            } else {
                break;
            }
        }
    }
    float _e98 = local_2;
    global_7.inner[_e57] = _e98;
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 64) {
        float _e103 = global_7.inner[_e57];
        float _e105 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(64))];
        global_7.inner[_e57] = _e103 + _e105;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 32) {
        float _e111 = global_7.inner[_e57];
        float _e113 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(32))];
        global_7.inner[_e57] = _e111 + _e113;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 16) {
        float _e119 = global_7.inner[_e57];
        float _e121 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(16))];
        global_7.inner[_e57] = _e119 + _e121;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 8) {
        float _e127 = global_7.inner[_e57];
        float _e129 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(8))];
        global_7.inner[_e57] = _e127 + _e129;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 4) {
        float _e135 = global_7.inner[_e57];
        float _e137 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(4))];
        global_7.inner[_e57] = _e135 + _e137;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 2) {
        float _e143 = global_7.inner[_e57];
        float _e145 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(2))];
        global_7.inner[_e57] = _e143 + _e145;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 1) {
        float _e151 = global_7.inner[_e57];
        float _e153 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(1))];
        global_7.inner[_e57] = _e151 + _e153;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    float _e158 = global_7.inner[as_type<int>(as_type<uint>(_e57) - as_type<uint>(_e58))];
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e63 && (_e58 == 0)) {
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(_e41)) + as_type<uint>(naga_mod(_e60, 32)))] = _e158 / 256.0;
    }
    return;
}

struct dispatch_6_Input {
};
[[max_total_threads_per_threadgroup(128)]] kernel void dispatch_6_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, constant type_11& global_6 [[buffer(3)]]
, threadgroup type_14& global_7
, constant _mslBufferSizes& _buffer_sizes [[buffer(5)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_7 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, _buffer_sizes);
}

// ===== entry 7: kernel dispatch_7_ =====
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
    float inner[256];
};

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
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
    threadgroup type_14& global_9,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    int local_1 = {};
    float local_2 = {};
    float local_3 = {};
    uint _e31 = global_7.member.inner[0];
    uint _e35 = global_7.member.inner[1];
    uint _e39 = global_7.member.inner[2];
    uint _e43 = global_7.member.inner[3];
    metal::uint3 _e45 = global;
    metal::uint3 _e46 = global_2;
    int _e56 = as_type<int>((((_e45.z * _e46.y) + _e45.y) * _e46.x) + _e45.x);
    metal::uint3 _e57 = global_1;
    int _e59 = as_type<int>(_e57.x);
    int _e60 = naga_div(_e59, 16);
    int _e61 = naga_mod(_e59, 16);
    int _e65 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e56, 1)) * as_type<uint>(16))) + as_type<uint>(_e60));
    int _e67 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e56, 1)) * as_type<uint>(16))) + as_type<uint>(_e61));
    bool _e68 = _e56 < 1;
    local_3 = 0.0;
    local_1 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e112 = local_1;
            local_1 = as_type<int>(as_type<uint>(_e112) + as_type<uint>(16));
        }
        loop_init = false;
        int _e69 = local_1;
        if (_e69 < 32) {
            int _e71 = local_1;
            int _e72 = as_type<int>(as_type<uint>(_e71) + as_type<uint>(_e61));
            int _e73 = as_type<int>(as_type<uint>(_e71) + as_type<uint>(_e60));
            local_2 = 0.0;
            if (((_e65 < 1) && (_e72 < 32)) && _e68) {
                float _e81 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(_e31)) + as_type<uint>(_e72))];
                local_2 = _e81;
            }
            float _e82 = local_2;
            global_8.inner[_e59] = _e82;
            local_2 = 0.0;
            if (((_e73 < 32) && (_e67 < 10)) && _e68) {
                float _e93 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e35)) + as_type<uint>(as_type<int>(as_type<uint>(_e73) * as_type<uint>(10))))) + as_type<uint>(_e67))];
                local_2 = _e93;
            }
            float _e94 = local_2;
            global_9.inner[_e59] = _e94;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e110 = local;
                    local = as_type<int>(as_type<uint>(_e110) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e96 = local;
                if (_e96 < 16) {
                    int _e98 = local;
                    float _e104 = global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e60) * as_type<uint>(16))) + as_type<uint>(_e98))];
                    float _e106 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e98) * as_type<uint>(16))) + as_type<uint>(_e61))];
                    float _e108 = local_3;
                    local_3 = _e108 + (_e104 * _e106);
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
    if (((_e65 < 1) && (_e67 < 10)) && _e68) {
        float _e118 = local_3;
        float _e122 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e43)) + as_type<uint>(_e67))];
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(_e39)) + as_type<uint>(_e67))] = _e118 + _e122;
    }
    return;
}

struct dispatch_7_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_7_(
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
, threadgroup type_14& global_9
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
