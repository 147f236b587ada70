// ===== entry 0: kernel dispatch_0_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<uniform> global_7: type_12;
var<workgroup> global_8: array<f32, 256>;
var<workgroup> global_9: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: f32;
    var local_3: f32;

    let _e40 = global_7.member[0i][0i];
    let _e45 = global_7.member[0i][1i];
    let _e50 = global_7.member[0i][2i];
    let _e55 = global_7.member[0i][3i];
    let _e57 = global;
    let _e58 = global_2;
    let _e68 = bitcast<i32>(((((_e57.z * _e58.y) + _e57.y) * _e58.x) + _e57.x));
    let _e69 = global_1;
    let _e71 = bitcast<i32>(_e69.x);
    let _e72 = (_e71 / 16i);
    let _e73 = (_e71 % 16i);
    let _e75 = (_e68 / 32i);
    let _e78 = (((_e75 % 1i) * 16i) + _e72);
    let _e80 = (((_e68 % 32i) * 16i) + _e73);
    let _e81 = (_e75 < 1i);
    local_3 = 0f;
    local_1 = 0i;
    loop {
        let _e82 = local_1;
        if (_e82 < 784i) {
            let _e84 = local_1;
            let _e85 = (_e84 + _e73);
            let _e86 = (_e84 + _e72);
            local_2 = 0f;
            if (((_e78 < 8i) && (_e85 < 784i)) && _e81) {
                let _e96 = global_3.member[((bitcast<i32>(_e40) + (_e78 * 784i)) + _e85)];
                local_2 = _e96;
            }
            let _e97 = local_2;
            global_8[_e71] = _e97;
            local_2 = 0f;
            if (((_e86 < 784i) && (_e80 < 512i)) && _e81) {
                let _e108 = global_4.member[((bitcast<i32>(_e45) + (_e86 * 512i)) + _e80)];
                local_2 = _e108;
            }
            let _e109 = local_2;
            global_9[_e71] = _e109;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e111 = local;
                if (_e111 < 16i) {
                    let _e113 = local;
                    let _e119 = global_8[((_e72 * 16i) + _e113)];
                    let _e121 = global_9[((_e113 * 16i) + _e73)];
                    let _e123 = local_3;
                    local_3 = (_e123 + (_e119 * _e121));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e125 = local;
                    local = (_e125 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e127 = local_1;
            local_1 = (_e127 + 16i);
        }
    }
    if (((_e78 < 8i) && (_e80 < 512i)) && _e81) {
        let _e133 = local_3;
        let _e137 = global_6.member[(bitcast<i32>(_e55) + _e80)];
        let _e138 = (_e133 + _e137);
        global_5.member[((bitcast<i32>(_e50) + (_e78 * 512i)) + _e80)] = select(0f, _e138, ((_e138 > 0f) || ((bitcast<u32>(_e138) & 2147483647u) > 2139095040u)));
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_0_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 1: kernel dispatch_1_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<uniform> global_7: type_12;
var<workgroup> global_8: array<f32, 256>;
var<workgroup> global_9: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: f32;
    var local_3: f32;

    let _e39 = global_7.member[0i][0i];
    let _e44 = global_7.member[0i][1i];
    let _e49 = global_7.member[0i][2i];
    let _e54 = global_7.member[0i][3i];
    let _e56 = global;
    let _e57 = global_2;
    let _e67 = bitcast<i32>(((((_e56.z * _e57.y) + _e56.y) * _e57.x) + _e56.x));
    let _e68 = global_1;
    let _e70 = bitcast<i32>(_e68.x);
    let _e71 = (_e70 / 16i);
    let _e72 = (_e70 % 16i);
    let _e74 = (_e67 / 16i);
    let _e77 = (((_e74 % 1i) * 16i) + _e71);
    let _e79 = (((_e67 % 16i) * 16i) + _e72);
    let _e80 = (_e74 < 1i);
    local_3 = 0f;
    local_1 = 0i;
    loop {
        let _e81 = local_1;
        if (_e81 < 512i) {
            let _e83 = local_1;
            let _e84 = (_e83 + _e72);
            let _e85 = (_e83 + _e71);
            local_2 = 0f;
            if (((_e77 < 8i) && (_e84 < 512i)) && _e80) {
                let _e95 = global_3.member[((bitcast<i32>(_e39) + (_e77 * 512i)) + _e84)];
                local_2 = _e95;
            }
            let _e96 = local_2;
            global_8[_e70] = _e96;
            local_2 = 0f;
            if (((_e85 < 512i) && (_e79 < 256i)) && _e80) {
                let _e107 = global_4.member[((bitcast<i32>(_e44) + (_e85 * 256i)) + _e79)];
                local_2 = _e107;
            }
            let _e108 = local_2;
            global_9[_e70] = _e108;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e110 = local;
                if (_e110 < 16i) {
                    let _e112 = local;
                    let _e118 = global_8[((_e71 * 16i) + _e112)];
                    let _e120 = global_9[((_e112 * 16i) + _e72)];
                    let _e122 = local_3;
                    local_3 = (_e122 + (_e118 * _e120));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e124 = local;
                    local = (_e124 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e126 = local_1;
            local_1 = (_e126 + 16i);
        }
    }
    if (((_e77 < 8i) && (_e79 < 256i)) && _e80) {
        let _e132 = local_3;
        let _e136 = global_6.member[(bitcast<i32>(_e54) + _e79)];
        let _e137 = (_e132 + _e136);
        global_5.member[((bitcast<i32>(_e49) + (_e77 * 256i)) + _e79)] = select(0f, _e137, ((_e137 > 0f) || ((bitcast<u32>(_e137) & 2147483647u) > 2139095040u)));
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_1_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 2: kernel dispatch_2_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<uniform> global_7: type_12;
var<workgroup> global_8: array<f32, 256>;
var<workgroup> global_9: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: f32;
    var local_3: f32;

    let _e36 = global_7.member[0i][0i];
    let _e41 = global_7.member[0i][1i];
    let _e46 = global_7.member[0i][2i];
    let _e51 = global_7.member[0i][3i];
    let _e53 = global;
    let _e54 = global_2;
    let _e64 = bitcast<i32>(((((_e53.z * _e54.y) + _e53.y) * _e54.x) + _e53.x));
    let _e65 = global_1;
    let _e67 = bitcast<i32>(_e65.x);
    let _e68 = (_e67 / 16i);
    let _e69 = (_e67 % 16i);
    let _e73 = (((_e64 % 1i) * 16i) + _e68);
    let _e75 = (((_e64 % 1i) * 16i) + _e69);
    let _e76 = (_e64 < 1i);
    local_3 = 0f;
    local_1 = 0i;
    loop {
        let _e77 = local_1;
        if (_e77 < 256i) {
            let _e79 = local_1;
            let _e80 = (_e79 + _e69);
            let _e81 = (_e79 + _e68);
            local_2 = 0f;
            if (((_e73 < 8i) && (_e80 < 256i)) && _e76) {
                let _e91 = global_3.member[((bitcast<i32>(_e36) + (_e73 * 256i)) + _e80)];
                local_2 = _e91;
            }
            let _e92 = local_2;
            global_8[_e67] = _e92;
            local_2 = 0f;
            if (((_e81 < 256i) && (_e75 < 10i)) && _e76) {
                let _e103 = global_4.member[((bitcast<i32>(_e41) + (_e81 * 10i)) + _e75)];
                local_2 = _e103;
            }
            let _e104 = local_2;
            global_9[_e67] = _e104;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e106 = local;
                if (_e106 < 16i) {
                    let _e108 = local;
                    let _e114 = global_8[((_e68 * 16i) + _e108)];
                    let _e116 = global_9[((_e108 * 16i) + _e69)];
                    let _e118 = local_3;
                    local_3 = (_e118 + (_e114 * _e116));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e120 = local;
                    local = (_e120 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e122 = local_1;
            local_1 = (_e122 + 16i);
        }
    }
    if (((_e73 < 8i) && (_e75 < 10i)) && _e76) {
        let _e128 = local_3;
        let _e132 = global_6.member[(bitcast<i32>(_e51) + _e75)];
        global_5.member[((bitcast<i32>(_e46) + (_e73 * 10i)) + _e75)] = (_e128 + _e132);
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_2_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 3: kernel dispatch_3_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<uniform> global_5: type_12;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: f32;
    var local_3: f32;
    var local_4: i32;
    var local_5: f32;
    var local_6: f32;

    let _e26 = global_5.member[0i][0i];
    let _e27 = bitcast<i32>(_e26);
    let _e31 = global_5.member[0i][1i];
    let _e33 = global;
    let _e34 = global_2;
    let _e45 = global_1;
    let _e49 = ((bitcast<i32>(((((_e33.z * _e34.y) + _e33.y) * _e34.x) + _e33.x)) * 128i) + bitcast<i32>(_e45.x));
    let _e52 = (bitcast<u32>(_e49) < bitcast<u32>(8i));
    local_6 = bitcast<f32>(4286578688u);
    local_5 = 0f;
    if _e52 {
        local_4 = 0i;
        loop {
            let _e54 = local_4;
            if (_e54 < 10i) {
                let _e56 = local_4;
                let _e62 = global_3.member[((_e27 + (_e49 * 10i)) + _e56)];
                let _e63 = local_6;
                local_6 = max(_e63, _e62);
                continue;
            } else {
                break;
            }
            continuing {
                let _e65 = local_4;
                local_4 = (_e65 + 1i);
            }
        }
    }
    let _e67 = local_6;
    local_3 = 0f;
    local_2 = 0f;
    if _e52 {
        local_1 = 0i;
        loop {
            let _e68 = local_1;
            if (_e68 < 10i) {
                let _e70 = local_1;
                let _e76 = global_3.member[((_e27 + (_e49 * 10i)) + _e70)];
                let _e79 = local_3;
                let _e80 = local_2;
                let _e81 = (exp((_e76 - _e67)) - _e80);
                let _e82 = (_e79 + _e81);
                local_2 = ((_e82 - _e79) - _e81);
                local_3 = _e82;
                continue;
            } else {
                break;
            }
            continuing {
                let _e85 = local_1;
                local_1 = (_e85 + 1i);
            }
        }
    }
    let _e87 = local_3;
    if _e52 {
        local = 0i;
        loop {
            let _e89 = local;
            if (_e89 < 10i) {
                let _e91 = local;
                let _e97 = global_3.member[((_e27 + (_e49 * 10i)) + _e91)];
                global_4.member[((bitcast<i32>(_e31) + (_e49 * 10i)) + _e91)] = (exp((_e97 - _e67)) * (1f / _e87));
                continue;
            } else {
                break;
            }
            continuing {
                let _e106 = local;
                local = (_e106 + 1i);
            }
        }
    }
    return;
}

@compute @workgroup_size(128, 1, 1) 
fn dispatch_3_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}
